#!/usr/bin/env bash
# Bad days end in one clear line and a distinct exit status, never a crash,
# a hang, a stopped target or a partial file.  These cases are about the
# process, not the Python inside it, so they run against one interpreter.
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d)
MNT=
trap 'stop_target; [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$WORK"' EXIT
read -r label py < <(find_pythons)
[ -n "${py:-}" ] || exit 0

# expect_exit NAME STATUS PATTERN CMD...: CMD exits STATUS, prints one line
# on stderr matching PATTERN, and was not killed by a signal.
expect_exit() {
	local name=$1 want=$2 pattern=$3 err rc
	shift 3
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq "$want" ] && [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] &&
	   printf '%s\n' "$err" | grep -qE "$pattern"; then
		pass "$name"
	else
		fail "$name"
		printf '    exit %s (want %s), stderr: %s\n' "$rc" "$want" "$err"
	fi
}

capture() { "$BIN/pycore-capture" -q "$@"; }

expect_exit "no arguments is a usage error (2)" 2 'expected one PID' capture
expect_exit "a non-numeric pid is a usage error (2)" 2 'not a process id' capture abc
expect_exit "an unknown option is a usage error (2)" 2 'help' capture --bogus 1
check "--help prints the usage and exits 0" sh -c "'$BIN/pycore-capture' --help | grep -q '^Usage: pycore-capture'"
check "--version prints the version and exits 0" sh -c "'$BIN/pycore-capture' --version | grep -q '^pycore-capture [0-9]'"

sh -c 'exit 0' & gone=$!
wait $gone
expect_exit "a pid that does not exist exits 3" 3 "no process with pid $gone" capture -o "$WORK/x" "$gone"

"$py" -c 'import os, time
if os.fork() == 0: os._exit(0)
time.sleep(30)' & parent=$!
sleep 0.5
zombie=$(pgrep -P "$parent" | head -1)
if [ -n "$zombie" ] && [ "$(proc_state "$zombie")" = Z ]; then
	expect_exit "a zombie exits 4" 4 "zombie" capture -o "$WORK/z" "$zombie"
else
	skip "a zombie exits 4: no zombie could be made"
fi
kill "$parent" 2>/dev/null; wait "$parent" 2>/dev/null

start_target "$py" threads.py "$WORK" --busy 1 --sleepers 1 || { fail "target starts [$label]"; exit 0; }
pid=$TARGET_PID

thread=$(ls "/proc/$pid/task" | grep -v "^$pid\$" | head -1)
expect_exit "a thread id is refused, naming its process (exit 2)" 2 "thread of process $pid" \
	capture -o "$WORK/thread" "$thread"

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	public=$(mktemp -d /tmp/pycore-public.XXXXXX)
	chmod 0777 "$public"
	expect_exit "an unprivileged user is told how to get permission (exit 5)" 5 'CAP_SYS_PTRACE' \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/pycore-capture" -q -o "$public/core" "$pid"
	same "and no file is left" "$(ls -A "$public")" ""
	rm -rf "$public"
else
	skip "permission error: needs root to run as another user"
fi

gdb -q -batch -nx -p "$pid" -ex 'shell sleep 4' >/dev/null 2>&1 &
gdbpid=$!
for _ in $(seq 100); do [ "$(tracer_of "$pid")" != 0 ] && break; sleep 0.05; done
if [ "$(tracer_of "$pid")" != 0 ]; then
	expect_exit "a target already traced by a debugger exits 10" 10 'already traced' capture -o "$WORK/t" "$pid"
else
	skip "already traced: gdb did not attach"
fi
wait "$gdbpid"
check "the target is running after gdb and pycore let go" sh -c "[ \"\$(awk '/^TracerPid:/{print \$2}' /proc/$pid/status)\" = 0 ]"

echo "precious" >"$WORK/exists"
expect_exit "an existing output file is refused (exit 8)" 8 'already exists.*--force' capture -o "$WORK/exists" "$pid"
same "the refused file is untouched" "$(cat "$WORK/exists")" precious
check "--force replaces it with a core" sh -c "'$BIN/pycore-capture' -q --force -o '$WORK/exists' $pid && head -c 4 '$WORK/exists' | grep -q ELF"
expect_exit "an output directory that does not exist exits 7" 7 'cannot write' capture -o "$WORK/no/such/dir/core" "$pid"

MNT=$WORK/small
mkdir "$MNT"
if mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null; then
	for opt in "" --lz4 --no-fork "--no-fork --lz4"; do
		expect_exit "a full disk exits 7 ${opt:+with $opt }and says so" 7 'No space left' capture $opt -o "$MNT/core" "$pid"
		same "a full disk leaves no partial file ${opt:+with $opt}" "$(ls -A "$MNT")" ""
		same "a full disk leaves no copy of the target ${opt:+with $opt}" \
			"$(cat /proc/"$pid"/task/*/children)" ""
	done
	check "the target runs on after the disk filled up" sh -c "[ \"\$(awk '/^TracerPid:/{print \$2}' /proc/$pid/status)\" = 0 ]"
	umount "$MNT"
	MNT=
else
	skip "a full disk exits 7: cannot mount a small tmpfs here"
fi
stop_target

# The target dies while it is being captured.
start_target "$py" threads.py "$WORK" --busy 1 --sleepers 1 --mb 300 || { fail "target starts [$label]"; exit 0; }
pid=$TARGET_PID
# Stop-the-world, so that the kill lands while the target is held (a
# snapshot's copy would be dumped whole; faults.sh has that); the tracer
# is pycore-capture's worker process, not $cap.
"$BIN/pycore-capture" -q --no-fork --lz4 -j 1 -o "$WORK/dying" "$pid" 2>"$WORK/dying.err" &
cap=$!
for _ in $(seq 2000); do [ "$(tracer_of "$pid")" != 0 ] && break; sleep 0.001; done
kill -KILL "$pid"
wait "$cap"
rc=$?
err=$(cat "$WORK/dying.err")
if [ $rc -eq 0 ]; then
	skip "a target killed mid-capture exits 6: the capture ended first"
else
	same "a target killed mid-capture exits 6 [$label]" "$rc" 6
	check "and says the target exited [$label]" sh -c "printf '%s' '$err' | grep -qE 'killed|exited'"
	same "and leaves no partial file [$label]" "$(ls "$WORK" | grep -c '^dying$')" 0
fi
wait "$pid" 2>/dev/null
TARGET_PID=
