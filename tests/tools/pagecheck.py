#!/usr/bin/python3
"""The checks of an HTML page of pycore-report or pycore-diff (--format html).

usage: pagecheck.py CHECK ARGS

  selfcontained PAGE       no URL, nothing that loads, exactly two script
                           elements (the data, the code), a
                           Content-Security-Policy with default-src 'none',
                           no '<' in the data
  data PAGE JSON [KEY...]  the data embedded in PAGE is the JSON document;
                           it has each KEY (absent: -KEY)
  dom DUMP [WANT...]       chromium's --dump-dom of the page: drawn, no
                           script error, treemap cells (unless WANT has
                           no-treemap), and each WANT: selftest (passed),
                           zoomed, text:S, scripts:N, title:T

Exits 0 (pass) or with what failed.
"""
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
    if "no-treemap" not in want and (not cells or int(cells) <= 0):
        bad.append("no treemap cells (data-treemap-cells=%s)" % cells)
    for w in want:
        if w == "no-treemap":
            continue
        elif w == "selftest" and attr("data-selftest") != "ok":
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
