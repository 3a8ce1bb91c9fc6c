#!/usr/bin/env bash
# Whatever happens to pycore-capture, the target runs on: killed with
# SIGKILL at random points of a capture, or stopped with SIGTERM/SIGINT, it
# leaves the target running, untraced, no copy of it (no snapshot process,
# not even a zombie), and no file behind.  Snapshot captures (the default)
# are killed INTERRUPT_SNAPSHOT_KILLS times per interpreter (10 on the
# newest, 4 on the others; `make stress`: 50), at a random moment of the whole capture; stop-the-world
# captures (--no-fork) INTERRUPT_KILLS times (3), while they hold the target.
. "$(dirname "$0")/../lib.sh"

KILLS=${INTERRUPT_KILLS:-3}
FULL_KILLS=${INTERRUPT_SNAPSHOT_KILLS:-$([ -n "${PYCORE_SANITIZED:-}" ] && echo 4 || echo 10)}
FEW_KILLS=${INTERRUPT_SNAPSHOT_KILLS:-4}
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT

# Start a stop-the-world capture of pid into out and interrupt it with sig
# once it holds the target (its worker process is the tracer), after a
# random delay of 0-150 ms.  Prints the capture's exit status, or "missed"
# when it finished before the signal was sent.
interrupt_capture() {
	local pid=$1 out=$2 sig=$3 cap
	"$BIN/pycore-capture" -q --no-fork --lz4 -j 1 -o "$out" "$pid" 2>"$out.err" &
	cap=$!
	for _ in $(seq 2000); do
		[ "$(tracer_of "$pid")" != 0 ] && break
		kill -0 "$cap" 2>/dev/null || break
		sleep 0.001
	done
	sleep "0.$(printf '%03d' $((RANDOM % 150)))"
	if kill -0 "$cap" 2>/dev/null && [ "$(tracer_of "$pid")" != 0 ]; then
		kill "-$sig" "$cap"
		wait "$cap"
		echo $?
	else
		wait "$cap"
		echo missed
	fi
}

# Start a snapshot capture of pid into out (plain or --lz4) and SIGKILL it
# after a random delay of 0-400 ms: before, during or after the fork, in
# the dump, or while the copy is reaped.  Prints its exit status, or
# "missed" when it was over before the signal was sent.
kill_snapshot() {
	local pid=$1 out=$2 lz4=$3 cap
	"$BIN/pycore-capture" -q $lz4 -o "$out" "$pid" 2>"$out.err" &
	cap=$!
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	if kill -KILL "$cap" 2>/dev/null; then
		wait "$cap"
		echo $?
	else
		wait "$cap"
		echo missed
	fi
}

# Within five seconds the worker that a killed pycore-capture leaves behind
# (it outlives its parent to release the target) has finished.
worker_gone() {
	for _ in $(seq 500); do
		ps -eo args= | grep -q "^$BIN/pycore-capture .* $1\$" || return 0
		sleep 0.01
	done
	echo "a pycore-capture of $1 still runs"
	return 1
}

# Within two seconds no child of the target is left: the snapshot process
# was killed and reaped by the worker pycore-capture left behind.
no_copy_left() {
	local left
	for _ in $(seq 200); do
		left=$(ps --ppid "$1" -o pid=,stat=,comm= 2>/dev/null)
		[ -z "$left" ] && return 0
		sleep 0.01
	done
	echo "children of $1 remain: $left"
	return 1
}

# The target must be running again within a second: not stopped, not traced.
released() {
	local pid=$1
	for _ in $(seq 100); do
		case $(proc_state "$pid") in
		t|T) ;;
		gone) echo "target is gone"; return 1 ;;
		*) [ "$(tracer_of "$pid")" = 0 ] && return 0 ;;
		esac
		sleep 0.01
	done
	echo "target left in state $(proc_state "$pid"), tracer $(tracer_of "$pid")"
	return 1
}

no_files_left() {
	local left
	left=$(ls -A "$1" | grep -v -e '^ready.json$' -e '^target.out$' -e '\.err$')
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir/out"
	if ! start_target "$py" threads.py "$dir" --busy 1 --sleepers 1 --mb 300; then
		fail "target starts [$label]"
		continue
	fi
	pid=$TARGET_PID
	killed=0 missed=0 bad=0
	: >"$dir/problems"
	for round in $(seq "$(rounds "$label" "$FULL_KILLS" "$FEW_KILLS")"); do
		lz4=$([ $((round % 2)) = 0 ] && echo --lz4)
		status=$(kill_snapshot "$pid" "$dir/out/core" "$lz4")
		# The file appears under its name only once complete (it is
		# renamed into place): there, the worker had finished before the
		# signal reached its parent, and the kill missed the capture.
		if [ "$status" = 137 ] && [ -e "$dir/out/core" ]; then
			worker_gone "$pid" >/dev/null
			status=missed
		fi
		if [ "$status" = missed ]; then
			missed=$((missed + 1))
			rm -f "$dir/out/core"
			continue
		fi
		killed=$((killed + 1))
		{ [ "$status" = 137 ] || echo "round $round: exit status $status"
		  worker_gone "$pid" && released "$pid" && no_copy_left "$pid" &&
		  no_files_left "$dir/out"; } \
			>>"$dir/problems" 2>&1 || bad=$((bad + 1))
	done
	if [ "$killed" -gt 0 ]; then
		same "$killed snapshot captures SIGKILLed at random points: the target runs on, untraced, with no copy of it and no file left [$label]" "$bad" 0
		[ "$bad" -eq 0 ] || head -20 "$dir/problems" | sed 's/^/    /'
	else
		skip "SIGKILL in the middle of a snapshot capture [$label]: all $missed ended first"
	fi
	for round in $(seq "$KILLS") TERM INT; do
		case $round in TERM|INT) sig=$round ;; *) sig=KILL ;; esac
		status=$(interrupt_capture "$pid" "$dir/out/core" "$sig")
		if [ "$status" = missed ]; then
			skip "SIG$sig in the middle of a stop-the-world capture [$label]: the capture ended first"
			continue
		fi
		check "after SIG$sig to a stop-the-world pycore-capture the target runs on, untraced [$label]" released "$pid"
		check "after SIG$sig no partial core remains [$label]" no_files_left "$dir/out"
		case $sig in
		KILL) same "pycore-capture died by SIGKILL [$label]" "$status" 137 ;;
		*) same "SIG$sig makes pycore-capture exit 9, 'interrupted' [$label]" "$status" 9 ;;
		esac
	done
	echo 0 >"$dir/stop"
	wait "$pid"
	status=$?
	TARGET_PID=
	same "the target exits with its own status after all that [$label]" "$status" 37
	rm -rf "$dir"
done < <(find_pythons)
