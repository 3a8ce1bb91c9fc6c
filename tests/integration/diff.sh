#!/usr/bin/env bash
# pycore-diff compares cores of a process that grew between two captures
# (tests/targets/grow.py appends N objects to a module global, gives an
# instance a longer str, frees N/3 instances of another class): exactly N
# more of the class and their sys.getsizeof bytes, nothing for the class
# that did not change; the list among the objects that grew with its
# lengths, its retained bytes before and after as the process measured
# them and the path naming the global; the instance too, not a container,
# with its retained bytes; the freed class exactly, count and bytes; the
# text says the same; a core against itself shows no change; three cores:
# what grew in every interval; cores of two processes are labelled as
# type-level only; --format html embeds the --format json document in a
# self-contained page that chromium draws, sorting its tables in its
# #selftest, for two cores and for three; bad input ends in one line.
. "$(dirname "$0")/../lib.sh"

PY3=/usr/bin/python3
DIFF=$BIN/pycore-diff
N=3000
WORK=$(mktemp -d)
OTHER_PID=
trap 'stop_target; [ -n "$OTHER_PID" ] && kill -KILL "$OTHER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

# json_check NAME FILE EXPR: pass when the Python expression EXPR over d
# (the diff's JSON), t (the target's grown.json, after the step) and r (its
# ready.json, before) is true; row(path) is the growth row of that path.
json_check() {
	local name=$1 file=$2 expr=$3
	check "$name" "$PY3" -c "
import json, sys
d = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
r = json.load(open(sys.argv[3]))
rows = {x['name']: x for x in d.get('types', [])}
freed = {x['name']: x for x in d.get('freed', [])}
def row(path):
    return ([g for g in d.get('growth', []) if g['path'] == path] or [{}])[0]
ok = $expr
if not ok:
    sys.exit('diff: %s' % json.dumps({'types': {k: v for k, v in rows.items() if k.startswith('__main__')},
                                      'growth': d.get('growth', [])[:4], 'freed': d.get('freed', [])[:4]}))
" "$file" "$grown" "$dir/ready.json"
}
MAIN="sys.modules['__main__']"

# text_check NAME SECTION EXPR: pass when a line of SECTION (from its title
# to the blank line) of $dir/ab.txt, split into words, is the list EXPR
# (over t and r as for json_check).
text_check() {
	check "$1" "$PY3" -c "
import json, sys
text = open(sys.argv[1]).read()
t = json.load(open(sys.argv[2]))
r = json.load(open(sys.argv[3]))
MAIN = \"$MAIN\"
want = $3
lines = text.split('\\n' + sys.argv[4], 1)[-1].split('\\n\\n', 1)[0].splitlines()
if want not in [l.split() for l in lines]:
    sys.exit('want %s in:\\n%s' % (' '.join(want), '\\n'.join(lines)))
" "$dir/ab.txt" "$grown" "$dir/ready.json" "$2"
}

first=1
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
		"row(\"$MAIN.ADDED\").get('type') == 'list' and [row(\"$MAIN.ADDED\")['len_before'], row(\"$MAIN.ADDED\")['len_after']] == t['list_len']"
	json_check "ADDED's retained bytes before and after are what it alone kept alive in the process [$label]" "$dir/ab.json" \
		"[row(\"$MAIN.ADDED\").get('retained_before'), row(\"$MAIN.ADDED\").get('retained_after')] == [r['retained']['ADDED'], t['retained']['ADDED']]"
	json_check "the instance BLOB grew though no container did: no length, its retained bytes before and after [$label]" "$dir/ab.json" \
		"row(\"$MAIN.BLOB\").get('type') == '__main__.Holder' and row(\"$MAIN.BLOB\")['len_after'] is None and [row(\"$MAIN.BLOB\")['retained_before'], row(\"$MAIN.BLOB\")['retained_after']] == [r['retained']['BLOB'], t['retained']['BLOB']]"
	json_check "exactly the Doomed freed, with their sys.getsizeof bytes [$label]" "$dir/ab.json" \
		"[freed[t['freed']['type']]['count'], freed[t['freed']['type']]['bytes']] == [t['freed']['count'], t['freed']['bytes']] and d['freed_objects']['count'] >= t['freed']['count'] and sum(x['bytes'] for x in d['freed']) == d['freed_objects']['bytes']"
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
	"$DIFF" "$dir/a.core" "$dir/b.core" >"$dir/ab.txt" 2>/dev/null
	text_check "the text diff shows ADDED's lengths and retained bytes before and after among the objects that grew [$label]" \
		"Objects that grew" "['0', str(t['list_len'][1]), str(r['retained']['ADDED']), str(t['retained']['ADDED']), 'list', MAIN + '.ADDED']"
	text_check "the text diff shows the Doomed freed, count and bytes [$label]" \
		"Freed objects" "[str(t['freed']['count']), str(t['freed']['bytes']), t['freed']['type']]"

	if "$DIFF" --format html "$dir/a.core" "$dir/b.core" >"$dir/ab.html" 2>"$dir/ab.html.err"; then
		check "--format html: the page is self-contained [$label]" pagecheck selfcontained "$dir/ab.html"
		check "--format html: the page's data is the --format json document [$label]" \
			pagecheck data "$dir/ab.html" "$dir/ab.json" growth freed new_retainers
		[ "$first" = 1 ] && browse "--format html: chromium draws the page; its selftest sorts the types table [$label]" \
			"$dir/ab.html" "#selftest" selftest no-treemap "text:$MAIN.ADDED" "text:__main__.Doomed" \
			"title:pycore-diff: $dir/a.core -&gt; $dir/b.core"
	else
		fail "pycore-diff --format html writes a page [$label]"
		head -3 "$dir/ab.html.err"
	fi

	"$DIFF" --format json "$dir/a.core" "$dir/b.core" "$dir/c3.core" >"$dir/abc.json" 2>/dev/null
	json_check "three cores: Added and the list ADDED grew in every interval [$label]" "$dir/abc.json" \
		"len(d['intervals']) == 2 and '__main__.Added' in d['grew_every_interval']['types'] and '__main__.Steady' not in d['grew_every_interval']['types'] and any(c['path'] == \"sys.modules['__main__'].ADDED\" and c['len_last'] == 2 * t['count'] for c in d['grew_every_interval']['containers'])"
	if [ "$first" = 1 ]; then
		"$DIFF" --format html "$dir/a.core" "$dir/b.core" "$dir/c3.core" >"$dir/abc.html" 2>/dev/null
		check "three cores, --format html: the page's data is the --format json document [$label]" \
			pagecheck data "$dir/abc.html" "$dir/abc.json" intervals grew_every_interval
		browse "three cores, --format html: chromium draws every interval and what grew in all [$label]" \
			"$dir/abc.html" "#selftest" selftest no-treemap "text:id=\"every\"" "text:id=\"growth-2\""
	fi

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
	first=0
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
