#!/usr/bin/env bash
# pycore-report --format html: one self-contained page.  On a core of
# tests/targets/leaks.py, for every interpreter: the page loads nothing (no
# script, style sheet, font, image or fetch from anywhere: no URL outside
# its data, and a Content-Security-Policy that forbids any load), and the
# JSON it embeds is the --format json document of the same core, also
# with --no-leaks (where the leak keys are absent).  In a headless
# chromium, where one is installed (else skipped, naming it), the page
# draws without a console message or a script error, its treemap has cells,
# and its #selftest sorts the types table and zooms the treemap in and out
# through the page's own click handlers; also with --no-leaks and --why.
# And a process whose strings say "</script><script>…<!--", captured under
# a core file named with quotes and markup, gets a page that shows them as
# text: the data cannot end its element and nothing of it runs.
. "$(dirname "$0")/../lib.sh"

PY3=/usr/bin/python3
REPORT=$BIN/pycore-report
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT
[ -x "$BIN/pycore-capture" ] && [ -x "$REPORT" ] || { fail "pycore-capture and pycore-report are built (make)"; exit 0; }

[ -n "$CHROMIUM" ] || echo "    (chromium is not installed: the checks in a browser are skipped)"
first=1
while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	capture_once "$py" leaks.py "$dir" "$label" || continue

	if report "pycore-report --format html writes a page [$label]" "$dir/report.html" \
		--format html "$dir/core" &&
	   report "pycore-report --format json reads the core [$label]" "$dir/report.json" \
		--format json "$dir/core"; then
		[ "$first" = 1 ] && echo "    report.html: $(wc -c <"$dir/report.html") bytes, of which the JSON document $(wc -c <"$dir/report.json")"
		check "the page is self-contained: no URL, nothing loaded, a CSP forbidding loads [$label]" \
			pagecheck selfcontained "$dir/report.html"
		check "the page's data is the --format json document [$label]" \
			pagecheck data "$dir/report.html" "$dir/report.json" dominator_tree suspects
		browse "chromium draws the page without errors; the selftest sorts a table and zooms the treemap [$label]" \
			"$dir/report.html" "#selftest" selftest zoomed "text:sys.modules['__main__'].BIG"
	fi
	if report "pycore-report --format html --no-leaks writes a page [$label]" "$dir/noleaks.html" \
		--format html --no-leaks "$dir/core" &&
	   report "pycore-report --format json --no-leaks reads the core [$label]" "$dir/noleaks.json" \
		--format json --no-leaks "$dir/core"; then
		check "--no-leaks: the page's data is the --format json document, without the leak keys [$label]" \
			pagecheck data "$dir/noleaks.html" "$dir/noleaks.json" -dominator_tree -suspects -unreachable
		[ "$first" = 1 ] && browse "--no-leaks: chromium draws the page (a treemap of the kinds) without errors [$label]" \
			"$dir/noleaks.html" "#selftest" selftest
	fi
	if [ "$first" = 1 ]; then
		addr=$("$PY3" -c 'import json, sys; print(hex(json.load(open(sys.argv[1]))["ids"]["HOLDER_ITEM"]))' "$dir/ready.json")
		path=$("$PY3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["paths"]["HOLDER_ITEM"])' "$dir/ready.json")
		report "pycore-report --format html --why writes a page [$label]" "$dir/why.html" \
			--format html --why "$addr" "$dir/core" &&
			browse "--why: chromium shows the path $path [$label]" "$dir/why.html" "" \
				"text:id=\"why\"" "text:$path"
	fi
	first=0
	rm -rf "$dir"
done < <(find_pythons)

# Markup in the data and in the core's name: shown as text, never run.
py=$(find_pythons | head -1 | cut -d' ' -f2)
dir=$WORK/markup
mkdir -p "$dir"
cat >"$WORK/markup.py" <<'EOF'
import os, sys, time
# The largest str of the heap: the report lists it, markup and all.
EVIL = "</script><script>document.title='PWNED'</script><!--<script>" * 400
os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], "ready.tmp"), "w") as f:
    f.write("{}")
os.rename(os.path.join(sys.argv[1], "ready.tmp"), os.path.join(sys.argv[1], "ready.json"))
while not os.path.exists(os.path.join(sys.argv[1], "stop")):
    time.sleep(0.05)
EOF
core="$dir/core \"'><b>x<!--"
TARGETS=$WORK start_target "$py" markup.py "$dir" || fail "markup.py starts"
if [ -n "${TARGET_PID:-}" ] && "$BIN/pycore-capture" -q -o "$core" "$TARGET_PID"; then
	: >"$dir/stop"
	stop_target
	if report "pycore-report --format html reads a core of strings of markup" "$dir/report.html" \
		--format html "$core" &&
	   report "pycore-report --format json reads a core of strings of markup" "$dir/report.json" \
		--format json "$core"; then
		if grep -q '</script><script>document.title' "$dir/report.json"; then
			pass "the JSON document has the string of markup"
		else
			fail "the JSON document has the string of markup"
		fi
		check "markup in the data: still self-contained, no '<' in the data" \
			pagecheck selfcontained "$dir/report.html"
		check "markup in the data: the page's data is the --format json document" \
			pagecheck data "$dir/report.html" "$dir/report.json"
		browse "markup in the data and the core's name: shown as text, nothing of it runs, the page draws" \
			"$dir/report.html" "#selftest" selftest scripts:2 \
			"title:pycore-report: $dir/core \"'&gt;&lt;b&gt;x&lt;!--" \
			"text:&lt;/script&gt;&lt;script&gt;document.title="
	fi
else
	fail "pycore-capture wrote a core of markup.py"
fi
stop_target
