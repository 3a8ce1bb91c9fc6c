# tests/lib.sh — helpers for the integration tests (sourced, bash).
#
# Each test script reports cases with pass/fail/skip; tests/run counts them.
# Cases that need an interpreter run once per interpreter found by
# find_pythons, and name it: "gdb reads the core [3.12.1]".

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BIN=${BIN:-$TOP/bin}              # the programs under test
TOOLS=${TOOLS:-$TOP/build/tools}  # test-only programs (make unit-tests)
RESULTS=${RESULTS:-/dev/null}
TARGETS=$TOP/tests/targets

# CASE_TAG is appended to every case name (tests/run sets " (sanitizers)"
# for the second pass over the suite).
CASE_TAG=${CASE_TAG:-}
pass() { echo "PASS: $*$CASE_TAG"; echo "pass $*$CASE_TAG" >>"$RESULTS"; }
fail() { echo "FAIL: $*$CASE_TAG"; echo "fail $*$CASE_TAG" >>"$RESULTS"; }
skip() { echo "SKIP: $*$CASE_TAG"; echo "skip $*$CASE_TAG" >>"$RESULTS"; }

# check NAME CMD...: pass when CMD succeeds, else fail with its output.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name"; printf '%s\n' "$out" | tail -20 | sed 's/^/    /'; fi
}

# same NAME GOT WANT: pass when the two strings are equal.
same() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; printf '    got:  %s\n    want: %s\n' "$2" "$3"; fi
}

# refused_in_one_line NAME PATTERN CMD...: pass when CMD exits 11 (bad
# input) with exactly one line on stderr, matching PATTERN (grep -E).
refused_in_one_line() {
	local name=$1 pattern=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 11 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
	   printf '%s' "$err" | grep -qE "$pattern"; then
		pass "$name"
	else
		fail "$name"
		echo "    exit $rc: $(printf '%s' "$err" | head -c 400)"
	fi
}

# report NAME OUT ARGS...: pycore-report ARGS >OUT; on failure, a fail
# case NAME with its exit status and stderr.
report() {
	local name=$1 out=$2 rc
	shift 2
	"$BIN/pycore-report" "$@" >"$out" 2>"$out.err"
	rc=$?
	[ "$rc" -eq 0 ] && return 0
	fail "$name"
	echo "    exit $rc: $(head -c 500 "$out.err")"
	return 1
}

pyenv_root() {
	[ -n "${PYENV_ROOT:-}" ] && { echo "$PYENV_ROOT"; return; }
	pyenv root 2>/dev/null || echo "${HOME:-/root}/.pyenv"
}

# Every CPython 3.8-3.13 this machine has: pyenv builds (with DWARF) and
# Debian's stripped /usr/bin/python3.11.  Prints "LABEL PATH" lines.  With
# PYCORE_TEST_PYTHONS (words such as "3.13 debian"), only the interpreters
# whose label starts with one of them.
find_pythons() {
	if [ -n "${PYCORE_TEST_PYTHONS:-}" ]; then
		all_pythons | only_labels $PYCORE_TEST_PYTHONS
	else
		all_pythons
	fi
}

# only_labels WORD...: the "LABEL EXE" lines whose label starts with a WORD.
only_labels() {
	local label exe w
	while read -r label exe; do
		for w in "$@"; do
			case $label in "$w"*) echo "$label $exe"; break ;; esac
		done
	done
}

# The newest pyenv interpreter's label (such as 3.13.0), or nothing.
newest_label() {
	all_pythons | awk '$1 !~ /^debian/ { print $1 }' | sort -V | tail -1
}

# rounds LABEL FULL FEW: how many times to repeat a capture-side case on
# the interpreter LABEL: FULL on the newest one, FEW on the others.  What
# those repetitions exercise (ptrace, the injected fork, signals, the
# kernel's scheduling) is the same for every Python version; each version
# still gets its rounds, the full count runs once, and `make stress` runs
# the long counts.  An explicit count from the environment (passed as both
# FULL and FEW) applies everywhere.
rounds() {
	[ -n "${NEWEST_LABEL+set}" ] || NEWEST_LABEL=$(newest_label)
	if [ "$1" = "$NEWEST_LABEL" ]; then echo "$2"; else echo "$3"; fi
}

# Every interpreter, unfiltered.
all_pythons() {
	local root v exe
	root=$(pyenv_root)
	for v in "$root"/versions/*; do
		[ -d "$v" ] || continue
		for exe in "$v"/bin/python3.[0-9]*; do
			case $exe in *-config|*m) continue ;; esac
			[ -x "$exe" ] || continue
			case $(basename "$exe") in
			python3.8|python3.9|python3.10|python3.11|python3.12|python3.13)
				echo "$(basename "$v") $exe" ;;
			esac
		done
	done
	[ -x /usr/bin/python3.11 ] && echo "debian-3.11 /usr/bin/python3.11"
	return 0
}

# Interpreters outside 3.8-3.13 that exist here, for the skipped list.
unsupported_pythons() {
	local root v
	root=$(pyenv_root)
	for v in "$root"/versions/*; do
		case $(basename "$v") in 3.[89].*|3.1[0-3].*) ;; *) [ -d "$v" ] && basename "$v" ;; esac
	done
}

# start_target PYTHON SCRIPT OUTDIR ARGS...: run a target program in the
# background (under the environment settings in TARGET_ENV, if any: e.g.
# TARGET_ENV=PYTHONMALLOC=malloc); it writes OUTDIR/ready.json when its
# objects are planted.  Sets TARGET_PID.  Fails when the target does not
# get ready in 60 s.
start_target() {
	local py=$1 script=$2 dir=$3
	shift 3
	rm -f "$dir/ready.json"
	env ${TARGET_ENV:-} "$py" "$TARGETS/$script" "$dir" "$@" >"$dir/target.out" 2>&1 &
	TARGET_PID=$!
	for _ in $(seq 600); do
		[ -s "$dir/ready.json" ] && return 0
		kill -0 "$TARGET_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "target $script did not start:" >&2
	cat "$dir/target.out" >&2
	return 1
}

# capture_once PYTHON SCRIPT DIR LABEL [CAPTURE OPTIONS...]: start a target
# program, capture it into DIR/core, then end it.  0, or 1 after a fail
# line saying which step went wrong.
capture_once() {
	local py=$1 script=$2 dir=$3 label=$4
	shift 4
	start_target "$py" "$script" "$dir" || { fail "$script starts [$label]"; return 1; }
	"$BIN/pycore-capture" -q "$@" -o "$dir/core" "$TARGET_PID"
	: >"$dir/stop"
	stop_target
	[ -s "$dir/core" ] || { fail "pycore-capture wrote a core of $script [$label]"; return 1; }
}

stop_target() {
	[ -n "${TARGET_PID:-}" ] || return 0
	kill -KILL "$TARGET_PID" 2>/dev/null
	wait "$TARGET_PID" 2>/dev/null
	TARGET_PID=
}

# The state letter of a process (R, S, t, T, Z...), or "gone".
proc_state() {
	awk '{ sub(/.*\) /, ""); print substr($0, 1, 1) }' "/proc/$1/stat" 2>/dev/null || echo gone
}

tracer_of() {
	awk '/^TracerPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# kernel_core PYTHON SCRIPT OUTDIR CORE ARGS...: a core written by the
# kernel: the target runs in OUTDIR with core dumps on until ready.json,
# then gets SIGABRT (whose default action dumps without running any Python
# code, so its frames stay where they were); the core is moved to CORE.
# Fails when core dumps go elsewhere (core_pattern is a pipe or a path).
kernel_core() {
	local py=$1 script=$2 dir=$3 core=$4 pid f
	shift 4
	case $(cat /proc/sys/kernel/core_pattern) in core|core.%p) ;; *) return 1 ;; esac
	mkdir -p "$dir"
	(cd "$dir" && ulimit -c unlimited && exec "$py" "$TARGETS/$script" "$dir" "$@") \
		>"$dir/target.out" 2>&1 &
	pid=$!
	for _ in $(seq 600); do [ -s "$dir/ready.json" ] && break; sleep 0.1; done
	[ -s "$dir/ready.json" ] || { kill -KILL "$pid"; wait "$pid" 2>/dev/null; return 1; }
	kill -ABRT "$pid"
	wait "$pid" 2>/dev/null
	for f in "$dir/core" "$dir/core.$pid"; do
		[ -s "$f" ] && { mv "$f" "$core"; return 0; }
	done
	return 1
}

# The HTML pages (--format html): tests/tools/pagecheck.py checks a page,
# its data and, in a headless chromium where one is installed, what it
# draws.
CHROMIUM=${CHROMIUM-$(command -v chromium || command -v chromium-browser || true)}
pagecheck() { /usr/bin/python3 "$TOP/tests/tools/pagecheck.py" "$@"; }

# browse NAME PAGE HASH CHECKS...: load PAGE#HASH in headless chromium (its
# profile and the DOM go to $WORK); pass when nothing reached its console
# and the DOM passes the CHECKS (pagecheck dom).  Chromium's own logging
# (dbus, GPU) is not the page's.  Skipped, naming it, without chromium.
browse() {
	local name=$1 page=$2 hash=$3 out
	shift 3
	if [ -z "$CHROMIUM" ]; then
		skip "$name (chromium is not installed: apt-get install chromium)"
		return
	fi
	out=${WORK:?}/dom.$$.html
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
