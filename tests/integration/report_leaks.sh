#!/usr/bin/env bash
# pycore-report finds the leak (issue #4): on a core of a target that
# leaked references, left cyclic garbage and piled most of its heap into one
# list (tests/targets/leaks.py), the JSON report's "unreachable" has the
# leaked objects and the garbage exactly as planted, and nothing reachable
# (the cyclic garbage is exactly what gc.collect() would free there);
# its first suspect is that list, retaining what the process measured; and
# --why gives the path to a module global and to an entry of a dict held by
# an attribute, the address given in hex and in decimal.  The text format
# has its Unreachable and Suspects sections, and --why prints the path.
# Checked by tests/tools/leakcheck.py against the target's ready.json.
. "$(dirname "$0")/../lib.sh"

LEAKCHECK=$TOP/tests/tools/leakcheck.py
PY3=/usr/bin/python3
REPORT=$BIN/pycore-report
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT
[ -x "$BIN/pycore-capture" ] && [ -x "$REPORT" ] || { fail "pycore-capture and pycore-report are built (make)"; exit 0; }

# truth DIR EXPR: a value from DIR/ready.json (EXPR indexes it as t).
truth() {
	"$PY3" -c 'import json, sys; t = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1/ready.json" "$2"
}

# judge CHECK NAME DIR REPORT: one leakcheck.py check.
judge() {
	check "$2" "$PY3" "$LEAKCHECK" "$1" "$3/ready.json" "$4"
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	capture_once "$py" leaks.py "$dir" "$label" || continue

	if report "pycore-report --format json reads the core [$label]" "$dir/report.json" \
		--format json "$dir/core"; then
		judge shape "unreachable, retainers and suspects are shaped as the schema says [$label]" \
			"$dir" "$dir/report.json"
		judge leaked "leaked references: the LeakedThings exactly, what they own, nothing reachable [$label]" \
			"$dir" "$dir/report.json"
		judge garbage "cyclic garbage: the CycleThing rings exactly, their strs, nothing reachable [$label]" \
			"$dir" "$dir/report.json"
		judge gcfree "cyclic garbage is exactly what gc.collect() would free, nothing else [$label]" \
			"$dir" "$dir/report.json"
		judge suspect "the first suspect is BIG, retaining what the process measured (>= 85% of the heap) [$label]" \
			"$dir" "$dir/report.json"
	fi

	# The address as id() gives it: in hex for one object, in decimal for
	# the other.
	for name in ONE_KEPT HOLDER_ITEM; do
		if [ "$name" = ONE_KEPT ]; then
			base=hex addr=$(truth "$dir" "hex(t['ids']['$name'])")
		else
			base=decimal addr=$(truth "$dir" "t['ids']['$name']")
		fi
		if report "--why ($base) reads the core [$label]" "$dir/why.$name.json" \
			--format json --why "$addr" "$dir/core"; then
			judge why "--why ($base): the path to $name is $(truth "$dir" "t['paths']['$name']") [$label]" \
				"$dir" "$dir/why.$name.json"
		fi
	done

	if report "pycore-report --format text reads the core [$label]" "$dir/report.txt" \
		--format text "$dir/core"; then
		if grep -q 'Unreachable' "$dir/report.txt" && grep -q 'Suspects' "$dir/report.txt"; then
			pass "--format text has an Unreachable and a Suspects section [$label]"
		else
			fail "--format text has an Unreachable and a Suspects section [$label]"
			grep -iE 'unreachable|suspect' "$dir/report.txt" | head -5 | sed 's/^/    has: /'
		fi
	fi
	addr=$(truth "$dir" 'hex(t["ids"]["HOLDER_ITEM"])')
	path=$(truth "$dir" 't["paths"]["HOLDER_ITEM"]')
	if report "--format text --why reads the core [$label]" "$dir/why.txt" \
		--format text --why "$addr" "$dir/core"; then
		if grep -qF "$path" "$dir/why.txt"; then
			pass "--format text --why prints the path $path [$label]"
		else
			fail "--format text --why prints the path $path [$label]"
			head -10 "$dir/why.txt" | sed 's/^/    got: /'
		fi
	fi
	rm -rf "$dir"
done < <(find_pythons)
