#!/usr/bin/env bash
# Snapshot captures (the default mode, issue #6), for every interpreter:
#  - a snapshot core of a process that does nothing holds exactly what a
#    stop-the-world core of it holds: the same PT_LOADs with the same bytes,
#    the same registers; the MADV_DONTFORK and MADV_WIPEONFORK regions the
#    fork cannot carry are left empty and named in a note, never dumped as
#    something they are not;
#  - a busy program (threads allocating without pause, real-time signals
#    raining on it) captured SNAPSHOT_CAPTURES times (20 on the newest
#    interpreter, 5 on the others; `make stress`: 200) receives every signal, never crashes, is never left stopped or
#    traced, has no child (neither the copy nor its zombie) after any
#    capture, and every core reports its planted objects exactly;
#  - a program under a seccomp filter that allows the injected calls (all
#    calls; a denylist; a container runtime's clone rule) is captured as a
#    snapshot, identical to its stop-the-world core;
#  - where a fork is refused (a seccomp filter that would kill the program
#    for the clone or for the wait4 that reaps the copy, or fail the clone,
#    or whose answer depends on the copy's id; RLIMIT_NPROC makes the
#    clone fail with EAGAIN) the capture says why in one line and goes on
#    stop-the-world, and the program runs on with its registers intact;
#  - --max-cow-mb abandons a snapshot of a program that rewrites its memory
#    during the dump (exit 12, no file, no copy left, the program running),
#    and does not stand in the way when the limit is above what it writes.
. "$(dirname "$0")/../lib.sh"

# Fewer under the sanitizers' second pass of tests/run: it is there to find
# memory errors, which one capture shows as well as twenty.
FULL_CAPTURES=${SNAPSHOT_CAPTURES:-$([ -n "${PYCORE_SANITIZED:-}" ] && echo 5 || echo 20)}
FEW_CAPTURES=${SNAPSHOT_CAPTURES:-5}
WORK=$(mktemp -d)
SENDER=
trap '[ -n "$SENDER" ] && kill "$SENDER" 2>/dev/null; stop_target; rm -rf "$WORK"' EXIT

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The target has no child process, alive or zombie: the copy was reaped.
no_children() {
	local left
	left=$(ps --ppid "$1" -o pid=,stat=,comm= 2>/dev/null)
	[ -z "$left" ] || { echo "children of $1: $left"; return 1; }
}

running_untraced() {
	case $(proc_state "$1") in t|T|Z|gone) echo "state $(proc_state "$1")"; return 1 ;; esac
	[ "$(tracer_of "$1")" = 0 ] || { echo "traced by $(tracer_of "$1")"; return 1; }
}

identity() {
	local label=$1 py=$2 dir=$3 pid
	if ! start_target "$py" idle.py "$dir" --mb 32; then
		fail "idle target starts [$label]"
		return
	fi
	pid=$TARGET_PID
	"$BIN/pycore-capture" -o "$dir/snap" "$pid" 2>"$dir/snap.err"
	check "the default capture is a snapshot [$label]" grep -q '(snapshot)$' "$dir/snap.err"
	"$BIN/pycore-capture" -q --no-fork -o "$dir/stw" "$pid"
	check "--no-fork captures stop-the-world, and the note says which [$label]" \
		python3 -c "
import json, subprocess, sys
m = [json.loads(subprocess.check_output([sys.executable, '$TOP/tests/tools/coreinfo.py', c]))['capture']['mode']
     for c in ('$dir/snap', '$dir/stw')]
sys.exit(m != [1, 0])"
	check "an idle process's snapshot core has the bytes and registers of its stop-the-world core; DONTFORK/WIPEONFORK regions are noted as absent [$label]" \
		python3 "$TOP/tests/tools/corecompare.py" "$dir/snap" "$dir/stw" "$dir/ready.json"
	check "no copy of the target is left, not even a zombie [$label]" no_children "$pid"
	check "the target runs on, untraced [$label]" running_untraced "$pid"
	rm -f "$dir/snap" "$dir/stw"
	stop_target
}

# One capture of the busy target, then its checks.  Prints nothing and
# returns 0 when all is well, else says what went wrong.
capture_and_check() {
	local pid=$1 dir=$2 i=$3 core=$2/core
	"$BIN/pycore-capture" -o "$core" "$pid" 2>"$dir/capture.err" ||
		{ echo "capture $i failed: $(cat "$dir/capture.err")"; return 1; }
	grep -q '(snapshot)$' "$dir/capture.err" || { echo "capture $i: $(cat "$dir/capture.err")"; return 1; }
	running_untraced "$pid" || { echo "after capture $i"; return 1; }
	no_children "$pid" || { echo "after capture $i"; return 1; }
	"$BIN/pycore-report" --format json --no-leaks "$core" >"$dir/report.json" 2>"$dir/report.err" ||
		{ echo "capture $i: pycore-report failed: $(head -c 300 "$dir/report.err")"; return 1; }
	python3 "$TOP/tests/tools/census.py" planted "$dir/ready.json" "$dir/ready.json" "$dir/report.json" ||
		{ echo "in capture $i"; return 1; }
	rm -f "$core"
}

stress() {
	local label=$1 py=$2 dir=$3 pid i failures=0 sent status got captures
	if ! start_target "$py" busyplant.py "$dir"; then
		fail "busy target starts [$label]"
		return
	fi
	pid=$TARGET_PID
	python3 "$TARGETS/signaller.py" "$pid" "$(json "$dir/ready.json" "d['rtsig']")" \
		"$dir/signals.stop" "$dir/signals.sent" &
	SENDER=$!
	: >"$dir/problems"
	captures=$(rounds "$label" "$FULL_CAPTURES" "$FEW_CAPTURES")
	for i in $(seq "$captures"); do
		capture_and_check "$pid" "$dir" "$i" >>"$dir/problems" 2>&1 || failures=$((failures + 1))
		rm -f "$dir/core"
	done
	same "$captures snapshots of a busy, signalled target: each reports the planted objects exactly, leaves no child and the target running [$label]" \
		"$failures" 0
	[ "$failures" -eq 0 ] || head -20 "$dir/problems" | sed 's/^/    /'
	touch "$dir/signals.stop"
	wait "$SENDER"
	SENDER=
	sent=$(cat "$dir/signals.sent")
	echo "$sent" >"$dir/stop"
	wait "$pid"
	status=$?
	TARGET_PID=
	same "the busy target never crashed and exits with its own status [$label]" "$status" 37
	got=$(json "$dir/result.json" "d['rt_signals']" 2>/dev/null)
	same "the busy target received every one of the $sent signals sent [$label]" "$got" "$sent"
}

# cow_limit PYTHON: --max-cow-mb, once (nothing in it depends on the
# interpreter).  The target counts its passes over its 200 MB: a pass
# during the capture means 200 MB of copy-on-write, far over 20.
cow_limit() {
	local dir=$WORK/cow pid before after rc
	mkdir -p "$dir"
	if ! start_target "$1" cowwriter.py "$dir" --mb 200; then
		fail "the rewriting target starts"
		return
	fi
	pid=$TARGET_PID
	for _ in $(seq 100); do [ -s "$dir/passes" ] && break; sleep 0.05; done
	before=$(cat "$dir/passes" 2>/dev/null || echo 0)
	"$BIN/pycore-capture" -q --max-cow-mb 20 -o "$dir/core" "$pid" 2>"$dir/cow.err"
	rc=$?
	after=$(cat "$dir/passes" 2>/dev/null || echo 0)
	if [ "$rc" = 0 ] && [ "$after" -le "$((before + 1))" ]; then
		skip "--max-cow-mb 20: the capture ended before the target rewrote its memory"
	else
		same "--max-cow-mb 20 abandons the snapshot of a target that rewrote its 200 MB $((after - before)) times meanwhile: exit 12" "$rc" 12
		check "and leaves no file, no copy, the target running" \
			eval "[ ! -e '$dir/core' ] && no_children $pid && running_untraced $pid"
	fi
	"$BIN/pycore-capture" -q --max-cow-mb 100000 -o "$dir/core.big" "$pid"
	same "--max-cow-mb above what the target writes: the capture succeeds" "$?" 0
	stop_target
	rm -rf "$dir"
}

# fallback NAME WHY DIR LAUNCHER... : start idle.py through LAUNCHER
# (which ends with the interpreter and may add options), capture it by
# default: exit 0, one line saying why there is no snapshot (matching the
# grep -E pattern WHY), a mode-0 core whose registers a --no-fork capture
# then finds unchanged.
fallback() {
	local name=$1 why=$2 dir=$3 pid
	shift 3
	mkdir -p "$dir"
	chmod o+x "$WORK"   # the nproc target runs as nobody
	chmod 777 "$dir"
	rm -f "$dir/ready.json"
	"$@" >"$dir/target.out" 2>&1 &
	TARGET_PID=$!
	for _ in $(seq 100); do [ -s "$dir/ready.json" ] && break; sleep 0.1; done
	pid=$(json "$dir/ready.json" "d['pid']" 2>/dev/null)
	if [ -z "$pid" ]; then
		fail "$name: the target starts"
		cat "$dir/target.out"
		stop_target
		return
	fi
	"$BIN/pycore-capture" -o "$dir/core" "$pid" 2>"$dir/err"
	same "$name: the capture succeeds" "$?" 0
	check "$name: one line says why, and the capture is stop-the-world" \
		eval "grep -q '^pycore-capture: no snapshot of pid $pid (.*): capturing it stop-the-world\$' '$dir/err' &&
		      grep -qE '^pycore-capture: no snapshot .*$why' '$dir/err' &&
		      grep -q '(stop-the-world)\$' '$dir/err' && [ \$(grep -c . '$dir/err') = 2 ]"
	"$BIN/pycore-capture" -q --no-fork -o "$dir/core.nofork" "$pid"
	check "$name: the target's registers are intact after the refused fork" \
		python3 "$TOP/tests/tools/corecompare.py" --registers "$dir/core" "$dir/core.nofork"
	check "$name: the target runs on, untraced, with no child" \
		eval "running_untraced $pid && no_children $pid"
	kill -KILL "$pid" 2>/dev/null
	stop_target
	rm -rf "$dir"
}

# seccomp_snapshot RULES PYTHON: idle.py under the seccomp filter RULES
# (idle.py's list), whose filter allows what a snapshot injects, is
# captured as a snapshot holding what its stop-the-world core holds.
seccomp_snapshot() {
	local rules=$1 py=$2 dir=$WORK/seccomp-$1 name="a target under a seccomp filter ($1)"
	mkdir -p "$dir"
	start_target "$py" idle.py "$dir" --mb 8 --seccomp "$rules" || { fail "$name: the target starts"; return; }
	"$BIN/pycore-capture" -o "$dir/snap" "$TARGET_PID" 2>"$dir/err"
	if grep -q "filters cannot be read" "$dir/err"; then
		skip "$name is captured as a snapshot: $(grep -o '(it runs.*)' "$dir/err")"
	else
		check "$name is captured as a snapshot, without a word" \
			eval "grep -q '(snapshot)\$' '$dir/err' && [ \$(grep -c . '$dir/err') = 1 ]"
		"$BIN/pycore-capture" -q --no-fork -o "$dir/stw" "$TARGET_PID"
		check "$name: the snapshot core has the bytes and registers of its stop-the-world core" \
			python3 "$TOP/tests/tools/corecompare.py" "$dir/snap" "$dir/stw" "$dir/ready.json"
	fi
	check "$name: the target runs on, untraced, with no child" \
		eval "running_untraced $TARGET_PID && no_children $TARGET_PID"
	stop_target
	rm -rf "$dir"
}

first_python=$(find_pythons | head -1 | cut -d' ' -f2)
for rules in allow denylist runtime; do
	seccomp_snapshot "$rules" "$first_python"
done
while read -r rules why; do
	fallback "a target whose seccomp filter refuses the snapshot's calls ($rules)" "$why" \
		"$WORK/$rules" "$first_python" "$TARGETS/idle.py" "$WORK/$rules" --mb 8 --seccomp "$rules"
done <<'CASES'
kill-fork would kill the process for the injected clone
errno-fork would fail it with an error for the injected clone
kill-wait4 would kill the process for the injected wait4
kill-by-pid answer to the injected kill depends on an argument
CASES
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null &&
   command -v prlimit >/dev/null && [ -x /usr/bin/python3 ]; then
	fallback "a target whose clone fails (RLIMIT_NPROC)" "its clone failed" "$WORK/nproc" \
		prlimit --nproc=1:1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/python3 "$TARGETS/idle.py" "$WORK/nproc" --mb 8
else
	skip "a target whose clone fails (RLIMIT_NPROC): needs root, user nobody, setpriv, prlimit, /usr/bin/python3"
fi
cow_limit "$first_python"

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	identity "$label" "$py" "$dir"
	stress "$label" "$py" "$dir"
	rm -rf "$dir"
done < <(find_pythons)
