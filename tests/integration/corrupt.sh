#!/usr/bin/env bash
# Damaged cores never crash or hang pycore-report (issue #7): a planted
# target is captured, then tests/tools/corrupt.py makes CORRUPT_VARIANTS
# (default 70) copies of the core, each with one kind of damage — random
# bytes, zeroed pages and wild pointers in memory, truncation, damaged
# program headers, notes and ELF header — and runs pycore-report on each
# under a 4 GiB address-space limit and a 20 s timeout.  Each must end in
# a report (full or with warnings) or a one-line refusal; the counts are
# printed.  Every interpreter, a different seed each.
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT
VARIANTS=${CORRUPT_VARIANTS:-70}
# AddressSanitizer reserves terabytes of address space for its shadow: no
# limit for a sanitized build (tests/run's second pass sets this).
AS_LIMIT=$((4 << 30))
[ -z "${PYCORE_SANITIZED:-}" ] || AS_LIMIT=0
[ -x "$BIN/pycore-capture" ] || { fail "pycore-capture is built (make)"; exit 0; }

while read -r ver py; do
	# The seed follows from the interpreter's label: the same variants
	# whichever interpreters run (rerun one with tests/tools/corrupt.py).
	seed=$(printf '%s' "$ver" | cksum | cut -d' ' -f1)
	dir=$WORK/$ver
	mkdir -p "$dir"
	capture_once "$py" plant.py "$dir" "$ver" --no-fork || continue
	python3 "$TOP/tests/tools/corrupt.py" "$dir/core" "$BIN/pycore-report" "$dir" \
		"$VARIANTS" "$seed" --as-limit "$AS_LIMIT" >"$dir/out" 2>&1
	summary=$(tail -1 "$dir/out")
	verdict=$(python3 - "$summary" <<'EOF'
import json, sys
try:
    s = json.loads(sys.argv[1])
except ValueError:
    print("error corrupt.py did not finish"); sys.exit()
print("%s %d reported in full, %d with warnings, %d refused in one line; %d crashed, hung or "
      "answered badly" % ("ok" if not s["bad"] and s["count"] else "bad",
                           s["full"], s["partial"], s["refused"], len(s["bad"])))
EOF
)
	echo "    $ver: ${verdict#* }"
	if [ "${verdict%% *}" = ok ]; then
		pass "$VARIANTS damaged cores: no crash, no hang, a report or a one-line error [$ver]"
	else
		fail "$VARIANTS damaged cores: no crash, no hang, a report or a one-line error [$ver]"
		grep -v '^{' "$dir/out" | head -20 | cut -c1-800 | sed 's/^/    /'
	fi
done < <(find_pythons)
