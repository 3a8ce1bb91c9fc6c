#!/usr/bin/env bash
# Faults during a capture (issue #7), in both modes (snapshot, the default,
# and --no-fork, alternately with --lz4), on one interpreter (the newest
# pyenv one: none of this depends on the Python version):
#  - the target exits by itself (os._exit from a thread, sys.exit from the
#    main thread), execs a new program (/bin/sleep from a thread, python
#    from the main thread) or is SIGKILLed, at a random point of a capture
#    (FAULTS_ROUNDS captures per fate and mode, 1; FAULTS_KILLS SIGKILLs,
#    2, 1 under the sanitizers; `make stress`: 5 and 10): each capture ends
#    with a whole core (the fate came after the capture, or after the
#    snapshot's fork; or, for an exec before the capture, a core of the new
#    program), or with one line naming what happened and its status (3 no
#    such process, 6 exited or killed, 13 executed a new program); no file
#    is left, nor a pycore-capture process, nor a copy of the target; a
#    target that exited did so with its own status, one that exec'd runs
#    the new program, untraced, not stopped, without a child;
#  - once the snapshot's copy exists, the target's exit, exec or death does
#    not matter: the core of the instant of the fork is written whole, and
#    no time is lost on a target that died (left a zombie by its parent);
#  - a target SIGKILLed the moment its copy appears, in the injected clone
#    (FAULTS_FORK_KILLS, 3): a whole core or status 6, never a hang;
#  - SIGINT, SIGTERM and SIGHUP to a snapshot capture at random points
#    (FAULTS_SIGNAL_ROUNDS, 2) end it with status 9 and one line (or it was
#    over first, with a whole core); SIGPIPE is ignored; the target runs
#    on, untraced, without a copy;
#  - a target with FAULTS_THREADS threads (2000; 1000 under the sanitizers)
#    blocked on an Event: the core has one NT_PRSTATUS per task the target
#    listed, read by tests/tools/coreinfo.py; the target runs on and every
#    thread does its work afterwards; the capture's time and pause printed;
#  - threads born and ending during FAULTS_CHURN_CAPTURES captures per mode
#    (3): every thread of a core is one the target started, none of the
#    long-lived ones missing;
#  - pycore-capture's peak memory (its own and its worker's, from
#    getrusage) does not grow with the target: a 600 MB target costs at
#    most 32 MB more than a 50 MB one, in each mode (not measured under the
#    sanitizers).
# The full disk is in errors.sh, SIGKILLs of pycore-capture in interrupt.sh.
# FAULTS_PARTS picks parts: fates after_fork kill_at_fork signals many_threads
# churn memory.
. "$(dirname "$0")/../lib.sh"

SAN=${PYCORE_SANITIZED:-}
ROUNDS=${FAULTS_ROUNDS:-1}
KILLS=${FAULTS_KILLS:-$([ -n "$SAN" ] && echo 1 || echo 2)}
SIGROUNDS=${FAULTS_SIGNAL_ROUNDS:-$([ -n "$SAN" ] && echo 1 || echo 2)}
NTHREADS=${FAULTS_THREADS:-$([ -n "$SAN" ] && echo 1000 || echo 2000)}
CHURNS=${FAULTS_CHURN_CAPTURES:-$([ -n "$SAN" ] && echo 2 || echo 3)}
FORKKILLS=${FAULTS_FORK_KILLS:-$([ -n "$SAN" ] && echo 2 || echo 3)}
WORK=$(mktemp -d)
trap 'stop_target; [ -n "${HOLDER:-}" ] && kill -KILL "$HOLDER" 2>/dev/null; rm -rf "$WORK"' EXIT

read -r label py < <(find_pythons | awk '$1 !~ /^debian/' | sort -V | tail -1)
[ -n "${py:-}" ] || read -r label py < <(find_pythons | head -1)
[ -n "${py:-}" ] || exit 0

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(*[$2])" "$1"; }
ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# The target's children (the snapshot's copy, alive or a zombie), if any.
children() { cat /proc/"$1"/task/*/children 2>/dev/null | tr -s ' \n' ' ' | sed 's/ $//'; }

# Running (not stopped, not a zombie), untraced and without a child,
# within a second.
untouched() {
	local pid=$1
	for _ in $(seq 100); do
		case $(proc_state "$pid") in
		t|T) ;;
		Z|gone) echo "pid $pid is $(proc_state "$pid")"; return 1 ;;
		*) [ "$(tracer_of "$pid")" = 0 ] && [ -z "$(children "$pid")" ] && return 0 ;;
		esac
		sleep 0.01
	done
	echo "pid $pid: state $(proc_state "$pid"), tracer $(tracer_of "$pid"), children '$(children "$pid")'"
	return 1
}

# No pycore-capture of pid, and no process started from the target's
# command line (which names its directory) but the target itself: the
# snapshot's copy is gone too, even where the target died and init
# inherited it.
nothing_left_of() {
	local pid=$1 dir=$2 keep=$3 left
	for _ in $(seq 200); do
		left=$( (ps -eo pid=,args= | grep -F " $BIN/pycore-capture " | grep " $pid\$"
			 ps -eo pid=,stat=,args= | grep -F "fates.py $dir " | grep -v "^ *$keep ") |
			grep -v grep)
		[ -z "$left" ] && return 0
		sleep 0.01
	done
	echo "left behind: $left"
	return 1
}

# The core holds every task the target listed, its planted buffer, and
# every byte its headers promise.
core_whole() {
	local core=$1 ready=$2 got addr len sha tasks
	read -r addr len sha tasks < <(json "$ready" \
		"d['buffer_addr'], d['buffer_len'], d['buffer_sha256'], ','.join(map(str, d['tasks']))")
	got=$("$TOOLS/coreread" "$core" threads | sort -n | paste -sd,)
	[ "$got" = "$tasks" ] || { echo "threads: core $got, target $tasks"; return 1; }
	got=$("$TOOLS/coreread" "$core" missing)
	[ "$got" = 0 ] || { echo "the core lacks $got bytes"; return 1; }
	got=$("$TOOLS/coreread" "$core" read "$addr" "$len" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$sha" ] || { echo "the planted buffer differs"; return 1; }
}

# The core is of the program the target exec'd before the capture began:
# one thread, and no planted buffer.
new_program() {
	[ "$("$TOOLS/coreread" "$1" threads | tr '\n' ' ')" = "$2 " ] &&
		! "$TOOLS/coreread" "$1" read "$(json "$dir/ready.json" "d['buffer_addr']")" 16 >/dev/null 2>&1 &&
		echo "new" >>"$WORK/outcomes"
}

# launch DIR ARGS...: fates.py in DIR, as the child of a process that never
# reaps it (so that a target that exits stays a zombie, as under a parent
# busy elsewhere); sets TARGET_PID and HOLDER.
launch() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir/out"
	setsid sh -c '"$@" >"$0/target.out" 2>&1 & exec sleep 600' "$dir" "$py" "$TARGETS/fates.py" "$dir" "$@" &
	HOLDER=$!
	for _ in $(seq 300); do [ -s "$dir/ready.json" ] && break; sleep 0.02; done
	TARGET_PID=$(json "$dir/ready.json" "d['pid']" 2>/dev/null)
	[ -n "$TARGET_PID" ] || { cat "$dir/target.out"; return 1; }
}

# End the holder: a target that is a zombie goes to init and is reaped, so
# TARGET_PID must be cleared (stop_target) first.
reap_holder() {
	kill -KILL "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
	HOLDER=
}

# fate_round MODE FATE DELAY LZ4: a capture (MODE: "" or --no-fork) of a
# target bound for FATE (exit, sysexit, exec, execpy-main, kill), which
# meets it DELAY ms after the capture started.  Prints nothing when all is
# well, else what went wrong; appends the outcome to $WORK/outcomes.
fate_round() {
	local mode=$1 fate=$2 delay=$3 lz4=$4 dir=$WORK/fate pid rc err
	launch "$dir" --fill 100 $([ "$fate" != kill ] && echo "--fate $fate") ||
		{ echo "the target did not start"; return 1; }
	pid=$TARGET_PID
	"$BIN/pycore-capture" -q $mode $lz4 -o "$dir/out/core" "$pid" 2>"$dir/err" &
	local cap=$!
	sleep "$(ms "$delay")"
	if [ "$fate" = kill ]; then kill -KILL "$pid"; else touch "$dir/go"; fi
	wait "$cap"
	rc=$?
	err=$(cat "$dir/err")
	echo "$fate $rc" >>"$WORK/outcomes"
	local what="${mode:-snapshot} $lz4 $fate after $delay ms: exit $rc${err:+ ($err)}"
	case $rc:$fate in
	0:exec*) core_whole "$dir/out/core" "$dir/ready.json" >/dev/null || new_program "$dir/out/core" "$pid" ||
		{ echo "$what: $(core_whole "$dir/out/core" "$dir/ready.json")"; return 1; }
	     rm -f "$dir/out/core" ;;
	0:sysexit) # Maybe caught in Python's finalization, the buffer freed.
	     core_whole "$dir/out/core" "$dir/ready.json" >/dev/null ||
	     core_whole "$dir/out/core" "$dir/ready.json" | grep -qx "the planted buffer differs" ||
		{ echo "$what: $(core_whole "$dir/out/core" "$dir/ready.json")"; return 1; }
	     rm -f "$dir/out/core" ;;
	0:*) core_whole "$dir/out/core" "$dir/ready.json" || { echo "$what"; return 1; }
	     rm -f "$dir/out/core" ;;
	3:exit|3:sysexit|3:kill) [[ $err = "pycore-capture: no process with pid $pid" ]] ||
		{ echo "$what"; return 1; } ;;
	6:exit|6:sysexit|6:kill)
		[[ $err =~ ^pycore-capture:\ pid\ $pid\ (exited|was\ killed).*during\ capture$ ]] ||
		{ echo "$what"; return 1; } ;;
	13:exec*) [[ $err =~ ^pycore-capture:\ pid\ $pid\ executed\ a\ new\ program ]] ||
		{ echo "$what"; return 1; } ;;
	*) echo "$what"; return 1 ;;
	esac
	[ -z "$(ls -A "$dir/out")" ] || { echo "$what: left $(ls -A "$dir/out")"; return 1; }
	case $fate in
	exec*)
		for _ in $(seq 200); do
			case $fate in
			exec) [ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "sleep 600 " ] && break ;;
			*) [ -s "$dir/execd.json" ] && break ;;
			esac
			sleep 0.01
		done
		[ "$fate" = exec ] || [ "$(json "$dir/execd.json" "d['pid']" 2>/dev/null)" = "$pid" ] ||
			{ echo "$what: the new python did not start"; return 1; }
		untouched "$pid" >"$dir/state" || { echo "$what: the new program: $(cat "$dir/state")"; return 1; }
		nothing_left_of "$pid" "$dir" 0 || { echo "$what"; return 1; }
		;;
	*)
		for _ in $(seq 200); do [ "$(proc_state "$pid")" = Z ] && break; sleep 0.01; done
		[ "$(proc_state "$pid")" = Z ] || { echo "$what: the target did not end: $(proc_state "$pid")"; return 1; }
		# Its own end, not one the capture gave it: the wait status the
		# kernel keeps for its zombie (the last field of its stat).
		[ "$(awk '{ print $NF }' "/proc/$pid/stat")" = "$(own_end "$fate")" ] ||
			{ echo "$what: the target's wait status is $(awk '{ print $NF }' "/proc/$pid/stat")"; return 1; }
		nothing_left_of "$pid" "$dir" "$pid" || { echo "$what"; return 1; }
		;;
	esac
}

# The wait status of a target that met FATE: exit 41, exit 42, SIGKILL.
own_end() { case $1 in exit) echo $((41 << 8)) ;; sysexit) echo $((42 << 8)) ;; kill) echo 9 ;; esac; }

fates() {
	local mode fate round lz4 bad=0 n=0
	: >"$WORK/outcomes"
	: >"$WORK/problems"
	for mode in "" --no-fork; do
		for fate in exit sysexit exec execpy-main kill; do
			for round in $(seq "$([ $fate = kill ] && echo "$KILLS" || echo "$ROUNDS")"); do
				lz4=$([ $(((round + n) % 2)) = 0 ] && echo --lz4)
				n=$((n + 1))
				fate_round "$mode" "$fate" $((RANDOM % 400)) "$lz4" >>"$WORK/problems" 2>&1 ||
					bad=$((bad + 1))
				stop_target
				reap_holder
			done
		done
	done
	same "$n captures whose target exits, execs or is killed at a random point: a whole core or one line and its status, nothing left behind, the target's own end" "$bad" 0
	[ "$bad" -eq 0 ] || head -20 "$WORK/problems" | sed 's/^/    /'
	echo "    outcomes (fate, exit status): $(sort "$WORK/outcomes" | uniq -c | tr -s ' \n' ' ')"
}

# after_fork FATE LZ4: the target meets FATE as soon as the snapshot's copy
# exists; the capture goes on with the copy and writes a whole core.
after_fork() {
	local fate=$1 lz4=$2 dir=$WORK/afterfork pid rc cap
	launch "$dir" --fill 150 $([ "$fate" != kill ] && echo "--fate $fate") ||
		{ fail "the target starts"; return; }
	pid=$TARGET_PID
	"$BIN/pycore-capture" -q $lz4 -o "$dir/out/core" "$pid" 2>"$dir/err" &
	cap=$!
	for _ in $(seq 5000); do
		[ -n "$(children "$pid")" ] && [ "$(tracer_of "$pid")" = 0 ] && break
		kill -0 "$cap" 2>/dev/null || break
	done
	if [ -z "$(children "$pid")" ] || [ "$(tracer_of "$pid")" != 0 ]; then
		skip "$fate right after the snapshot's fork $lz4: the copy and the target's release were not seen"
		wait "$cap"
		stop_target; reap_holder
		return
	fi
	if [ "$fate" = kill ]; then kill -KILL "$pid"; else touch "$dir/go"; fi
	wait "$cap"
	rc=$?
	same "$fate right after the snapshot's fork $lz4: the capture of the copy succeeds" "$rc:$(cat "$dir/err")" "0:"
	check "and its core is whole: every thread, the planted buffer, every byte" \
		core_whole "$dir/out/core" "$dir/ready.json"
	case $fate in
	exec) check "and the new program runs on, untraced, not stopped, without a child (the copy was reaped)" \
		untouched "$pid" ;;
	*) check "and nothing is left: no pycore-capture, no copy of the target" nothing_left_of "$pid" "$dir" "$pid"
	   same "and the target's end is its own" "$(awk '{ print $NF }' "/proc/$pid/stat")" "$(own_end "$fate")" ;;
	esac
	stop_target
	reap_holder
}

# kill_at_fork: SIGKILL the target the moment its copy appears, while the
# clone injected into it may still be under way (a builtin read of its
# children, microseconds apart).  The capture ends in FORKKILLS rounds
# with a whole core or status 6, and never hangs: its waits for the main
# thread of a killed process, whose death the kernel reports only once
# the other threads are reaped, used to block for ever.
kill_at_fork() {
	local dir=$WORK/atfork pid cap c rc round bad=0 outcomes=
	: >"$WORK/problems"
	for round in $(seq "$FORKKILLS"); do
		launch "$dir" --fill 100 --threads 4 || { fail "the target starts"; return; }
		pid=$TARGET_PID
		timeout -k 2 20 "$BIN/pycore-capture" -q -o "$dir/out/core" "$pid" 2>"$dir/err" &
		cap=$!
		c=
		while [ -z "$c" ] && kill -0 "$cap" 2>/dev/null; do read -r c <"/proc/$pid/task/$pid/children"; done
		kill -KILL "$pid"
		wait "$cap"
		rc=$?
		outcomes="$outcomes $rc"
		{ case $rc in
		  0) core_whole "$dir/out/core" "$dir/ready.json" && rm -f "$dir/out/core" ;;
		  6) grep -qxE "pycore-capture: pid $pid was killed( by signal 9)? during capture" "$dir/err" ||
			echo "exit 6: $(cat "$dir/err")" ;;
		  *) echo "exit $rc: $(cat "$dir/err")"
		     ps -eo pid=,args= | grep -F "$BIN/pycore-capture -q -o $dir/out/core $pid" |
			grep -v grep | while read -r p _; do kill -KILL "$p"; done ;;
		  esac
		  nothing_left_of "$pid" "$dir" "$pid" && [ -z "$(ls -A "$dir/out")" ] &&
		  [ "$(awk '{ print $NF }' "/proc/$pid/stat")" = 9 ]
		} >"$dir/round" 2>&1 || echo "failed" >>"$dir/round"
		[ -s "$dir/round" ] && { bad=$((bad + 1)); cat "$dir/round" >>"$WORK/problems"; }
		stop_target
		reap_holder
	done
	same "$FORKKILLS targets SIGKILLed as their snapshot's copy appears: a whole core or exit 6, no hang, no copy or file left (exits:$outcomes)" "$bad" 0
	[ "$bad" -eq 0 ] || head -20 "$WORK/problems" | sed 's/^/    /'
}

# Signals to pycore-capture (its parent process, as a shell would send
# them) during snapshot captures, at random points of 30-330 ms.
signals() {
	local dir=$WORK/signals pid sig round rc bad=0 n=0 missed=0 cap line
	: >"$WORK/problems"
	launch "$dir" --fill 150 || { fail "the target starts"; return; }
	pid=$TARGET_PID
	for round in $(seq "$SIGROUNDS"); do
		for sig in INT TERM HUP; do
			"$BIN/pycore-capture" -q $([ $((n % 2)) = 1 ] && echo --lz4) -o "$dir/out/core" "$pid" 2>"$dir/err" &
			cap=$!
			# From 30 ms: a signal before main() (the dynamic loader, a
			# sanitizer's start-up) meets the default action, as for any
			# program.
			sleep "$(ms $((30 + RANDOM % 300)))"
			kill "-$sig" "$cap" 2>/dev/null
			wait "$cap"
			rc=$?
			n=$((n + 1))
			if [ "$rc" = 0 ]; then
				missed=$((missed + 1))
				core_whole "$dir/out/core" "$dir/ready.json" >>"$WORK/problems" || bad=$((bad + 1))
				rm -f "$dir/out/core"
				continue
			fi
			{ line=$(cat "$dir/err")
			  [ "$rc" = 9 ] && [[ $line =~ ^pycore-capture:\ interrupted\ by\ signal\ [0-9]+$ ]] ||
				echo "SIG$sig: exit $rc: $line"
			  untouched "$pid" && nothing_left_of "$pid" "$dir" "$pid" &&
			  { [ -z "$(ls -A "$dir/out")" ] || echo "left: $(ls -A "$dir/out")"; }
			} >"$dir/round" 2>&1
			[ -s "$dir/round" ] && { bad=$((bad + 1)); sed "s/^/SIG$sig: /" "$dir/round" >>"$WORK/problems"; }
		done
	done
	same "SIGINT, SIGTERM, SIGHUP to $n snapshot captures ($missed over first): exit 9 'interrupted', the target running, untraced, no copy, no file" "$bad" 0
	[ "$bad" -eq 0 ] || head -20 "$WORK/problems" | sed 's/^/    /'
	"$BIN/pycore-capture" -q -o "$dir/out/core" "$pid" 2>"$dir/err" &
	cap=$!
	sleep 0.05
	kill -PIPE "$cap"
	wait "$cap"
	same "SIGPIPE to pycore-capture is ignored: the capture goes on" "$?:$(cat "$dir/err")" "0:"
	check "and its core is whole" core_whole "$dir/out/core" "$dir/ready.json"
	check "and the target runs on" untouched "$pid"
	stop_target
	reap_holder
}

# Thousands of threads: the core has them all, the pause is measured.
many_threads() {
	local dir=$WORK/threads pid mode summary
	mkdir -p "$dir"
	if ! start_target "$py" fates.py "$dir" --threads "$NTHREADS" --fill 20; then
		fail "a target with $NTHREADS threads starts"
		return
	fi
	pid=$TARGET_PID
	for mode in "" --no-fork; do
		"$BIN/pycore-capture" $mode -o "$dir/core" "$pid" 2>"$dir/err"
		same "a target of $((NTHREADS + 1)) tasks is captured ${mode:-(snapshot)}" "$?" 0
		summary=$(grep -o '[0-9.]* s, target paused [0-9.]* s' "$dir/err")
		echo "    $((NTHREADS + 1)) tasks, ${mode:-snapshot}: $summary"
		check "the core has one NT_PRSTATUS per task the target listed, the main thread first ${mode:-(snapshot)}" \
			python3 -c "
import json, subprocess, sys
info = json.loads(subprocess.check_output([sys.executable, '$TOP/tests/tools/coreinfo.py', '$dir/core']))
tasks = json.load(open('$dir/ready.json'))['tasks']
got = info['prstatus_pids']
sys.exit(0 if got[0] == $pid and sorted(got) == tasks and info['capture']['threads'] == len(tasks) else
         'core: %d threads, target: %d' % (len(got), len(tasks)))"
		check "and the target runs on, untraced, without a copy ${mode:-(snapshot)}" untouched "$pid"
		rm -f "$dir/core"
	done
	: >"$dir/stop"
	wait "$pid"
	same "then all $NTHREADS threads do their work, and the target exits with its own status" \
		"$?:$(json "$dir/result.json" "d['finished']" 2>/dev/null)" "37:$NTHREADS"
	TARGET_PID=
}

# Threads born and dying during captures: each core's threads are threads
# the target started, the long-lived ones all there.
churn() {
	local dir=$WORK/churn pid mode i bad=0
	mkdir -p "$dir"
	: >"$WORK/problems"
	if ! start_target "$py" threads.py "$dir" --busy 1 --sleepers 1 --churn; then
		fail "a target whose threads come and go starts"
		return
	fi
	pid=$TARGET_PID
	for mode in "" --no-fork; do
		for i in $(seq "$CHURNS"); do
			"$BIN/pycore-capture" -q $mode -o "$dir/core.$i${mode}" "$pid" 2>>"$WORK/problems" || bad=$((bad + 1))
		done
	done
	echo 0 >"$dir/stop"
	wait "$pid"
	same "a target whose threads come and go exits with its own status" "$?" 37
	TARGET_PID=
	for core in "$dir"/core.*; do
		python3 -c "
import json, subprocess, sys
info = json.loads(subprocess.check_output([sys.executable, '$TOP/tests/tools/coreinfo.py', '$core']))
ready = json.load(open('$dir/ready.json'))
churned = set(json.load(open('$dir/result.json'))['churn_ids'])
born = churned | set(ready['native_ids']) | {$pid}
got = info['prstatus_pids']
stray = set(got) - born
lost = set(ready['native_ids']) - churned - set(got)
if got[0] != $pid or stray or lost or len(set(got)) != len(got) or info['capture']['threads'] != len(got):
    sys.exit('$core: %d threads, %d never started, %d long-lived missing' % (len(got), len(stray), len(lost)))
" >>"$WORK/problems" 2>&1 || bad=$((bad + 1))
	done
	same "$((2 * CHURNS)) captures (snapshot and --no-fork) while threads come and go: every thread is one the target started, none of the long-lived missing" "$bad" 0
	[ "$bad" -eq 0 ] || head -10 "$WORK/problems" | sed 's/^/    /'
	rm -f "$dir"/core.*
}

# pycore-capture's peak resident memory (its own and its worker's) for a
# capture of a target of MB MiB, in every mode.
peak_memory() {
	local dir=$WORK/mem$1 opt pid
	shift
	mkdir -p "$dir"
	start_target "$py" fates.py "$dir" --fill "$1" || { echo "no target"; return 1; }
	pid=$TARGET_PID
	for opt in "" --no-fork --lz4; do
		python3 -c "
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
" "$BIN/pycore-capture" -q $opt -o "$dir/core" "$pid"
		rm -f "$dir/core"
	done
	stop_target
	rm -rf "$dir"
}

memory() {
	local small big mode i=0
	if [ -n "$SAN" ]; then
		skip "pycore-capture's memory does not grow with the target: not measured under the sanitizers (their shadow memory and quarantine)"
		return
	fi
	small=$(peak_memory small 50)
	big=$(peak_memory big 600)
	for mode in snapshot --no-fork --lz4; do
		i=$((i + 1))
		local s b
		s=$(echo "$small" | sed -n "${i}p")
		b=$(echo "$big" | sed -n "${i}p")
		echo "    peak RSS of pycore-capture ($mode): 50 MB target ${s#* } MB, 600 MB target ${b#* } MB"
		check "pycore-capture's memory does not grow with the target ($mode): ${s#* } MB for 50 MB, ${b#* } MB for 600 MB" \
			test "${s%% *}:${b%% *}" = 0:0 -a "${b#* }" -le $((${s#* } + 32))
	done
}

SECONDS=0
for part in ${FAULTS_PARTS:-fates after_fork kill_at_fork signals many_threads churn memory}; do
	case $part in
	after_fork) for f in exit exec kill; do after_fork "$f" $([ "$f" = exec ] && echo --lz4); done ;;
	*) "$part" ;;
	esac
	echo "    ($part: $SECONDS s so far)"
done
