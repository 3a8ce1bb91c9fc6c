#!/usr/bin/env bash
# Whatever happens to pycore-capture, the target runs on: killed with
# SIGKILL at random points of a capture, or stopped with SIGTERM/SIGINT, it
# leaves the target running, untraced, and no file behind.
. "$(dirname "$0")/../lib.sh"

KILLS=${INTERRUPT_KILLS:-3}
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT

# Start a capture of pid into dir/out and interrupt it with sig once it
# holds the target, after a random delay of 0-150 ms.  Prints the capture's
# exit status, or "missed" when it finished before the signal was sent.
interrupt_capture() {
	local pid=$1 out=$2 sig=$3 cap status
	"$BIN/pycore-capture" -q --lz4 -j 1 -o "$out" "$pid" 2>"$out.err" &
	cap=$!
	for _ in $(seq 2000); do
		[ "$(tracer_of "$pid")" = "$cap" ] && break
		kill -0 "$cap" 2>/dev/null || break
		sleep 0.001
	done
	sleep "0.$(printf '%03d' $((RANDOM % 150)))"
	if kill -0 "$cap" 2>/dev/null && [ "$(tracer_of "$pid")" = "$cap" ]; then
		kill "-$sig" "$cap"
		wait "$cap"
		echo $?
	else
		wait "$cap"
		echo missed
	fi
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
	for round in $(seq "$KILLS") TERM INT; do
		case $round in TERM|INT) sig=$round ;; *) sig=KILL ;; esac
		status=$(interrupt_capture "$pid" "$dir/out/core" "$sig")
		if [ "$status" = missed ]; then
			skip "SIG$sig in the middle of a capture [$label]: the capture ended first"
			continue
		fi
		check "after SIG$sig to pycore-capture the target runs on, untraced [$label]" released "$pid"
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
