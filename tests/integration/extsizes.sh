#!/usr/bin/env bash
# The sizes pycore gives standard-library objects whose sys.getsizeof
# depends on their contents (analyze/pysize_ext.c, docs/sizes.md) equal
# what the live interpreter said: a target (tests/targets/extsizes.py)
# plants deques, OrderedDicts, arrays, buffered readers and writers,
# BytesIOs and Structs of varied contents and records sys.getsizeof of
# each by id(); pycore-capture takes a core, build/tools/heapdump sizes
# every object in it.  One case per modelled type per interpreter, and one
# each for the types measured by dict's and object's __sizeof__
# (defaultdict; StringIO, BufferedRWPair, functools.partial).
. "$(dirname "$0")/../lib.sh"

HEAPDUMP=$TOOLS/heapdump
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT
[ -x "$HEAPDUMP" ] || { fail "heapdump is built (make unit-tests)"; exit 0; }
[ -x "$BIN/pycore-capture" ] || { fail "pycore-capture is built (make)"; exit 0; }

# compare READY HEAPDUMP_OUTPUT: per model, "ok MODEL N" or "bad MODEL
# what: got G, want W" lines.
compare() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
ready = json.load(open(sys.argv[1]))
found = {}
for line in open(sys.argv[2]):
    parts = line.split(None, 2)
    if len(parts) == 3:
        found[parts[0]] = (int(parts[1]), parts[2].strip())
models = {}
for o in ready["objects"]:
    models.setdefault(o["model"], []).append(o)
for model, objs in models.items():
    bad = []
    for o in objs:
        got = found.get(o["addr"])
        if got is None:
            bad.append("%s: not found at %s" % (o["what"], o["addr"]))
        elif got[0] != o["size"]:
            bad.append("%s (%s): got %d, want %d" % (o["what"], got[1], got[0], o["size"]))
    if bad:
        for b in bad:
            print("bad %s %s" % (model, b))
    else:
        print("ok %s %d" % (model, len(objs)))
EOF
}

while read -r label py; do
	[ -n "$label" ] || continue
	dir=$WORK/$label
	mkdir -p "$dir"
	start_target "$py" extsizes.py "$dir" || { fail "extsizes.py starts [$label]"; continue; }
	"$BIN/pycore-capture" -q -o "$dir/core" "$TARGET_PID"
	: >"$dir/stop"
	stop_target
	if [ ! -s "$dir/core" ]; then
		fail "pycore-capture wrote a core [$label]"
		continue
	fi
	if ! "$HEAPDUMP" "$dir/core" >"$dir/heap" 2>"$dir/heap.err"; then
		fail "heapdump reads the core [$label]"
		sed 's/^/    /' "$dir/heap.err"
		continue
	fi
	compare "$dir/ready.json" "$dir/heap" >"$dir/result"
	for model in $(awk '{ print $2 }' "$dir/result" | sort -u); do
		case $model in
		dict-rule)   name="defaultdict measured as dict" ;;
		object-rule) name="StringIO, BufferedRWPair, partial measured as object" ;;
		*)           name="$model" ;;
		esac
		if grep -q "^bad $model " "$dir/result"; then
			fail "sys.getsizeof of every $name [$label]"
			grep "^bad $model " "$dir/result" | cut -d' ' -f3- | sed 's/^/    /'
		else
			pass "sys.getsizeof of every $name ($(awk -v m="$model" '$2 == m { print $3 }' "$dir/result") objects) [$label]"
		fi
	done
	rm -f "$dir/core"
done < <(find_pythons)
exit 0
