#!/usr/bin/env bash
# pycore-diff compares cores of a process that grew between two captures
# (tests/targets/grow.py appends N objects to a module global): exactly N
# more of the class and their sys.getsizeof bytes, nothing for the class
# that did not change, the list among the containers that grew with its
# lengths and the path naming the global; a core against itself shows no change; cores of two
# processes are labelled as type-level only; bad input ends in one line.
. "$(dirname "$0")/../lib.sh"

PY3=/usr/bin/python3
DIFF=$BIN/pycore-diff
N=3000
WORK=$(mktemp -d)
OTHER_PID=
trap 'stop_target; [ -n "$OTHER_PID" ] && kill -KILL "$OTHER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

# json_check NAME FILE EXPR: pass when the Python expression EXPR over d
# (the diff's JSON) and t (the target's grown.json) is true.
json_check() {
	local name=$1 file=$2 expr=$3
	check "$name" "$PY3" -c "
import json, sys
d = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
rows = {r['name']: r for r in d.get('types', [])}
ok = $expr
if not ok:
    sys.exit('diff: %s' % json.dumps({k: v for k, v in rows.items() if k.startswith('__main__')}))
" "$file" "$grown"
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	start_target "$py" grow.py "$dir" "$N" || { fail "grow.py starts [$label]"; continue; }
	"$BIN/pycore-capture" -q -o "$dir/a.core" "$TARGET_PID"
	: >"$dir/grow"
	for _ in $(seq 300); do [ -s "$dir/grown.json" ] && break; sleep 0.1; done
	grown=$dir/grown.json
	"$BIN/pycore-capture" -q -o "$dir/b.core" "$TARGET_PID"
	cp "$grown" "$dir/grown1.json"
	grown=$dir/grown1.json
	# A second step, for a series of three cores.
	: >"$dir/grow"
	for _ in $(seq 300); do [ -e "$dir/grow" ] || break; sleep 0.1; done
	"$BIN/pycore-capture" -q -o "$dir/c3.core" "$TARGET_PID"
	: >"$dir/stop"
	stop_target

	"$DIFF" --format json "$dir/a.core" "$dir/b.core" >"$dir/ab.json" 2>"$dir/ab.err" ||
		{ fail "pycore-diff reads two cores [$label]"; head -3 "$dir/ab.err"; continue; }
	json_check "exactly N more Added, with their sys.getsizeof bytes [$label]" "$dir/ab.json" \
		"rows['__main__.Added']['count_delta'] == t['count'] and rows['__main__.Added']['bytes_delta'] == t['bytes']"
	json_check "the class that did not change shows no delta [$label]" "$dir/ab.json" \
		"rows['__main__.Steady']['count_delta'] == 0 and rows['__main__.Steady']['bytes_delta'] == 0 and rows['__main__.Steady']['count_after'] == t['steady']['count'] and rows['__main__.Steady']['bytes_after'] == t['steady']['bytes']"
	json_check "the list ADDED grew, before/after lengths and a path naming the global [$label]" "$dir/ab.json" \
		"any(g['path'] == \"sys.modules['__main__'].ADDED\" and [g['len_before'], g['len_after']] == t['list_len'] and g['type'] == 'list' for g in d['growth'])"
	json_check "the new objects are held mostly by ADDED, named by its path [$label]" "$dir/ab.json" \
		"d['new_retainers'][0]['path'] == \"sys.modules['__main__'].ADDED\" and d['new_retainers'][0]['new_bytes'] >= t['bytes'] and d['new_objects']['count'] >= t['count']"
	json_check "two cores of one process are known as such [$label]" "$dir/ab.json" \
		"d['schema'] == 'pycore-diff/1' and d['same_process'] is True"
	"$DIFF" --format json "$dir/a.core" "$dir/a.core" >"$dir/aa.json" 2>/dev/null
	json_check "a core against itself shows no change [$label]" "$dir/aa.json" \
		"all(r['count_delta'] == 0 and r['bytes_delta'] == 0 for r in d['types'] + d['kinds'])"
	check "the text diff says so too [$label]" sh -c \
		"'$DIFF' '$dir/a.core' '$dir/a.core' | grep -q 'Types: no change'"
	check "the text diff shows Added among the types that changed, +$N [$label]" sh -c \
		"'$DIFF' '$dir/a.core' '$dir/b.core' | sed -n '/^Types that changed/,/^\$/p' | grep -E '[+]$N .* __main__.Added\$' >/dev/null"

	"$DIFF" --format json "$dir/a.core" "$dir/b.core" "$dir/c3.core" >"$dir/abc.json" 2>/dev/null
	json_check "three cores: Added and the list ADDED grew in every interval [$label]" "$dir/abc.json" \
		"len(d['intervals']) == 2 and '__main__.Added' in d['grew_every_interval']['types'] and '__main__.Steady' not in d['grew_every_interval']['types'] and any(c['path'] == \"sys.modules['__main__'].ADDED\" and c['len_last'] == 2 * t['count'] for c in d['grew_every_interval']['containers'])"

	# Another process of the same program: type-level only.
	mkdir -p "$dir/other"
	"$py" "$TARGETS/grow.py" "$dir/other" 10 >/dev/null 2>&1 &
	OTHER_PID=$!
	for _ in $(seq 300); do [ -s "$dir/other/ready.json" ] && break; sleep 0.1; done
	"$BIN/pycore-capture" -q -o "$dir/c.core" "$OTHER_PID"
	kill -KILL "$OTHER_PID" 2>/dev/null
	wait "$OTHER_PID" 2>/dev/null
	OTHER_PID=
	"$DIFF" --format json "$dir/a.core" "$dir/c.core" >"$dir/ac.json" 2>/dev/null
	json_check "cores of two processes are labelled type-level only [$label]" "$dir/ac.json" \
		"d['same_process'] is False and 'type-level' in d['identity']"
	rm -f "$dir"/*.core
done < <(find_pythons)

# Bad input: one line, a non-zero exit that is not a crash.
printf 'not a core\n' >"$WORK/text"
err=$("$DIFF" "$WORK/text" "$WORK/text" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ]; then
	pass "a file that is not a core is refused in one line"
else
	fail "a file that is not a core is refused in one line"
	echo "    exit $rc: $err"
fi
err=$("$DIFF" "$WORK/text" 2>&1 >/dev/null)
rc=$?
same "one core is a usage error" "$rc" 2
