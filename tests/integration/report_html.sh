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
CHROMIUM=${CHROMIUM-$(command -v chromium || command -v chromium-browser || true)}
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT
[ -x "$BIN/pycore-capture" ] && [ -x "$REPORT" ] || { fail "pycore-capture and pycore-report are built (make)"; exit 0; }

# pagecheck.py CHECK ARGS: the checks of a page, its data and its DOM.
cat >"$WORK/pagecheck.py" <<'EOF'
import json, re, sys

OPEN = '<script type="application/json" id="data">'

def split(path):
    """The page without its data, and the data (up to the first '</')."""
    page = open(path, encoding="utf-8", errors="replace").read()
    a = page.find(OPEN)
    if a < 0:
        sys.exit("no %s element" % OPEN)
    a += len(OPEN)
    b = page.find("</", a)
    return page[:a] + page[b:], page[a:b]

def selfcontained(path):
    rest, data = split(path)
    bad = []
    for what, rx in [("a URL", r"(?i)\b(https?|ftp|wss?):|//[a-z0-9.-]+\.[a-z]{2,}/"),
                     ("an element that loads", r"(?i)<(link|img|iframe|object|embed|audio|video|source|base|frame)\b"),
                     ("a src attribute", r"(?i)\bsrc\s*="),
                     ("an href that leaves the page", r"(?i)\bhref\s*=\s*[\"']?(?!#)"),
                     ("a CSS import or url()", r"(?i)@import|\burl\s*\("),
                     ("a fetching API", r"\bfetch\s*\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon|\bimport\s*\(|importScripts|new\s+Worker")]:
        m = re.search(rx, rest)
        if m:
            bad.append("%s: ...%s..." % (what, rest[max(0, m.start() - 40):m.end() + 40].replace("\n", " ")))
    if len(re.findall(r"(?i)<script\b", rest)) != 2:
        bad.append("%d script elements, not 2 (the data, the code)" % len(re.findall(r"(?i)<script\b", rest)))
    if not re.search(r"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';", rest):
        bad.append("no Content-Security-Policy with default-src 'none'")
    if "<" in data:
        bad.append("a '<' in the data: " + data[data.find("<"):][:60])
    if bad:
        sys.exit("\n".join(bad))

def data(path, want, *keys):
    rest, text = split(path)
    got = json.loads(text)
    want = json.load(open(want, encoding="utf-8", errors="replace"))
    if got != want:
        keys = [k for k in set(got) | set(want) if got.get(k) != want.get(k)]
        sys.exit("the embedded data differs from --format json in: %s" % ", ".join(sorted(keys)))
    for k in keys:
        if k.startswith("-") and k[1:] in got:
            sys.exit("the data has %s" % k[1:])
        if not k.startswith("-") and k not in got:
            sys.exit("the data lacks %s" % k)

def dom(path, *want):
    """chromium's --dump-dom: drawn, no error, the selftest passed, cells."""
    d = open(path, encoding="utf-8", errors="replace").read()
    attr = lambda name: (re.search(r'\b%s="([^"]*)"' % name, d) or [None, None])[1]
    bad = []
    if attr("data-rendered") != "true":
        bad.append("not drawn (no data-rendered)")
    if attr("data-errors") != "0":
        bad.append("script errors: %s: %s" % (attr("data-errors"), re.sub(r"<[^>]*>", "", (re.search(r'id="page-errors"[^>]*>(.*?)</div>', d) or [0, ""])[1])))
    cells = attr("data-treemap-cells")
    if not cells or int(cells) <= 0:
        bad.append("no treemap cells (data-treemap-cells=%s)" % cells)
    for w in want:
        if w == "selftest" and attr("data-selftest") != "ok":
            bad.append("selftest: %s" % attr("data-selftest"))
        elif w == "zoomed" and not attr("data-selftest-zoomed"):
            bad.append("the selftest found no treemap cell to zoom into")
        elif w.startswith("text:") and w[5:] not in d:
            bad.append("no %r in the page" % w[5:])
        elif w.startswith("scripts:") and len(re.findall(r"<script\b", d)) != int(w[8:]):
            bad.append("%d script elements in the DOM, not %s" % (len(re.findall(r"<script\b", d)), w[8:]))
        elif w.startswith("title:") and not re.search(r"<title>%s</title>" % re.escape(w[6:]), d):
            bad.append("the title is %s" % (re.search(r"<title>.*?</title>", d) or ["none"])[0])
    if bad:
        sys.exit("\n".join(bad))

{"selfcontained": selfcontained, "data": data, "dom": dom}[sys.argv[1]](*sys.argv[2:])
EOF
pagecheck() { "$PY3" "$WORK/pagecheck.py" "$@"; }

# browse NAME PAGE HASH CHECKS...: load PAGE#HASH in headless chromium; pass
# when nothing reached its console and the DOM passes the CHECKS (pagecheck
# dom).  Chromium's own logging (dbus, GPU) is not the page's.
browse() {
	local name=$1 page=$2 hash=$3 out
	shift 3
	if [ -z "$CHROMIUM" ]; then
		skip "$name (chromium is not installed: apt-get install chromium)"
		return
	fi
	out=$WORK/dom.$$.html
	timeout 120 "$CHROMIUM" --headless --disable-gpu --no-sandbox --no-first-run \
		--user-data-dir="$WORK/chromium" --virtual-time-budget=5000 \
		--enable-logging=stderr --v=0 --dump-dom "file://$page$hash" >"$out" 2>"$out.err"
	if grep -q 'CONSOLE' "$out.err"; then
		fail "$name"
		grep 'CONSOLE' "$out.err" | head -5 | sed 's/^/    console: /'
	elif [ ! -s "$out" ]; then
		fail "$name"
		echo "    chromium wrote no DOM:"
		tail -5 "$out.err" | sed 's/^/    /'
	else
		check "$name" pagecheck dom "$out" "$@"
	fi
}

[ -n "$CHROMIUM" ] || echo "    (chromium is not installed: the checks in a browser are skipped)"
first=1
while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	start_target "$py" leaks.py "$dir" || { fail "leaks.py starts [$label]"; continue; }
	"$BIN/pycore-capture" -q -o "$dir/core" "$TARGET_PID"
	: >"$dir/stop"
	stop_target
	[ -s "$dir/core" ] || { fail "pycore-capture wrote a core of leaks.py [$label]"; continue; }

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
