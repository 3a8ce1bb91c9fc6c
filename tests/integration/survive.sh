#!/usr/bin/env bash
# The target survives captures: a busy multi-threaded program captured 50
# times (on the newest interpreter; 10 on the others, see rounds() in
# tests/lib.sh; SURVIVE_CAPTURES sets one count for all) while real-time
# signals rain on it receives every signal, keeps running, is never left
# stopped or traced, and exits with its own status.
# A program stopped by SIGSTOP stays stopped after a capture.
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d)
SENDER=
trap '[ -n "$SENDER" ] && kill "$SENDER" 2>/dev/null; stop_target; rm -rf "$WORK"' EXIT

capture_many() {
	local pid=$1 dir=$2 i failures=0
	for i in $(seq "$captures"); do
		if ! "$BIN/pycore-capture" -q -o "$dir/core" "$pid" 2>>"$dir/capture.err"; then
			failures=$((failures + 1))
		fi
		rm -f "$dir/core"
		case $(proc_state "$pid") in t|T|gone) echo "left in state $(proc_state "$pid") after capture $i"; return 1 ;; esac
	done
	[ "$failures" -eq 0 ] || { echo "$failures captures failed:"; sort -u "$dir/capture.err"; return 1; }
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	if ! start_target "$py" threads.py "$dir" --busy 2 --sleepers 2 --rtsig; then
		fail "target starts [$label]"
		continue
	fi
	pid=$TARGET_PID
	captures=$(rounds "$label" "${SURVIVE_CAPTURES:-50}" "${SURVIVE_CAPTURES:-10}")
	signum=$(python3 -c "import json; print(json.load(open('$dir/ready.json'))['rtsig'])")
	python3 "$TARGETS/signaller.py" "$pid" "$signum" "$dir/signals.stop" "$dir/signals.sent" &
	SENDER=$!
	check "$captures captures under a rain of signals all succeed [$label]" capture_many "$pid" "$dir"
	touch "$dir/signals.stop"
	wait "$SENDER"
	SENDER=
	check "the target is running and untraced after the captures [$label]" \
		test "$(tracer_of "$pid")" = 0 -a "$(proc_state "$pid")" != t -a "$(proc_state "$pid")" != T
	sent=$(cat "$dir/signals.sent")
	echo "$sent" >"$dir/stop"
	wait "$pid"
	status=$?
	TARGET_PID=
	same "the target exits with its own status [$label]" "$status" 37
	got=$(python3 -c "import json; print(json.load(open('$dir/result.json'))['rt_signals'])" 2>/dev/null)
	same "the target received every one of the $sent signals sent [$label]" "$got" "$sent"
	check "every busy thread kept running [$label]" python3 -c "
import json, sys
c = json.load(open('$dir/result.json'))['counts']
sys.exit(0 if len(c) == 2 and min(c.values()) > 0 else 1)"

	# Threads born and ending while the capture attaches.
	rm -f "$dir/stop" "$dir/result.json"
	if start_target "$py" threads.py "$dir" --busy 1 --sleepers 1 --churn; then
		pid=$TARGET_PID
		ok=0
		for i in $(seq 10); do
			"$BIN/pycore-capture" -q -o "$dir/core.churn" "$pid" 2>>"$dir/churn.err" &&
				python3 "$TOP/tests/tools/coreinfo.py" "$dir/core.churn" >"$dir/churn.json" &&
				python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d['prstatus_pids'][0] == $pid and d['capture']['threads'] == len(d['prstatus_pids']) >= 3))" "$dir/churn.json" &&
				ok=$((ok + 1))
			rm -f "$dir/core.churn"
		done
		same "10 captures of a target whose threads come and go all succeed [$label]" "$ok" 10
		[ "$ok" -eq 10 ] || sort -u "$dir/churn.err" | sed 's/^/    /'
		echo 0 >"$dir/stop"
		wait "$pid"
		status=$?
		TARGET_PID=
		born=$(python3 -c "import json; print(json.load(open('$dir/result.json'))['threads_born'])" 2>/dev/null)
		same "and it exits with its own status, having started $born threads [$label]" "$status" 37
		rm -f "$dir/stop" "$dir/result.json"
	fi

	# Job control is left alone: a stopped program stays stopped.
	if start_target "$py" threads.py "$dir" --busy 1 --sleepers 1; then
		pid=$TARGET_PID
		kill -STOP "$pid"
		for _ in $(seq 50); do [ "$(proc_state "$pid")" = T ] && break; sleep 0.1; done
		"$BIN/pycore-capture" -q -o "$dir/core.stopped" "$pid"
		check "a SIGSTOPped target can be captured [$label]" test -s "$dir/core.stopped"
		sleep 0.2
		same "a SIGSTOPped target is still stopped after the capture [$label]" "$(proc_state "$pid")" T
		kill -CONT "$pid"
		sleep 0.3
		check "SIGCONT resumes it as usual [$label]" test "$(proc_state "$pid")" != T
		stop_target
	fi
	rm -rf "$dir"
done < <(find_pythons)
