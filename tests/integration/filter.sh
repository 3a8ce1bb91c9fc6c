#!/usr/bin/env bash
# pycore-capture --filter python: a target with planted objects and big
# mappings that hold no object (tests/targets/mapped.py: a data file
# mapped three ways, anonymous shared memory) is captured once under the
# kernel's rules (the default) and once filtered, on every interpreter.
# The filtered core leaves out what the python rules drop and nothing
# else, is smaller by at least those mappings, says so in its PYCORE
# note, gives pycore-report the same document (and the target's truth)
# without a warning, and gdb and eu-stack still unwind every thread.  The
# filtered capture's mode turns with the interpreters: snapshot, --no-fork,
# --lz4, --no-fork --lz4.
. "$(dirname "$0")/../lib.sh"

CHECK=$TOP/tests/tools/filtercheck.py
PY3=/usr/bin/python3
MB=10           # each mapping of mapped.py
# In memory: some 100 MB of cores per interpreter, written and read once.
WORK=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT

# Every thread's backtrace reaches the interpreter's eval loop, and gdb
# lists as many threads as the target had (readers.sh's check).
check_gdb() {
	local py=$1 core=$2 want=$3 bt
	bt=$(gdb -batch -nx -ex 'thread apply all bt' "$py" "$core" 2>&1)
	printf '%s\n' "$bt" | awk -v want="$want" '
		/^Thread [0-9]+ / { if (t && !seen) bad++; t++; seen = 0 }
		/_PyEval_EvalFrameDefault|PyEval_EvalFrame/ { seen = 1 }
		END { if (t && !seen) bad++; if (t != want) bad++; exit bad > 0 }' ||
		{ printf '%s\n' "$bt" | grep -E '^Thread|^#0|warning|rror' | head -12; return 1; }
}

# eu-stack lists the target's threads, each one's frames through the
# eval loop.
check_eu_stack() {
	local py=$1 core=$2 want=$3 out got
	out=$(eu-stack --core "$core" --executable "$py" 2>/dev/null)
	got=$(printf '%s\n' "$out" | awk '/^TID/ { sub(":", "", $2); print $2 }' | sort -n | tr '\n' ' ')
	[ "$got" = "$want" ] || { echo "eu-stack threads: '$got', target: '$want'"; return 1; }
	printf '%s\n' "$out" | awk '
		/^TID/ { if (t && !seen) bad++; t++; seen = 0 }
		/_PyEval_EvalFrameDefault|PyEval_EvalFrame/ { seen = 1 }
		END { if (t && !seen) bad++; exit bad > 0 }' ||
		{ printf '%s\n' "$out" | head -20; return 1; }
}

# The apparent size and, for a core pycore-capture wrote plain (ON_DISK
# yes; not one lz4 -d unpacked, whose holes are lz4's), the bytes on disk:
# smaller by at least the left-out mappings.
check_smaller() {
	local full=$1 filt=$2 least=$3 on_disk=$4 a b c d
	a=$(stat -c %s "$full"); b=$(stat -c %s "$filt")
	c=$(du -B1 "$full" | cut -f1); d=$(du -B1 "$filt" | cut -f1)
	[ $((a - b)) -ge "$least" ] && { [ "$on_disk" = no ] || [ $((c - d)) -ge "$least" ]; } ||
		{ echo "size $a -> $b, on disk $c -> $d, want smaller by $least"; return 1; }
}

declare -A CASE_NAME=(
	[loads]="the filtered core leaves out exactly the shared and data-file mappings the kernel's rules dump"
	[note]="its PYCORE note names the python rules, the coredump_filter and the kernel's bytes"
	[same]="pycore-report: the same document from both cores, no warning from the filtered one"
	[planted]="the filtered core's report has the planted objects exactly"
	[threads]="the filtered core's report has every thread's frames exactly"
	[sizes]="the filtered core's report has the in-process census's bytes for every type counted alike"
)
check_text() {
	grep -q "^Filtered: captured with --filter python" "$1" && ! grep "^Warning" "$1"
}

modes=("" "--no-fork" "--lz4" "--no-fork --lz4")
n=0
while read -r label py; do
	mode=${modes[$((n % 4))]}
	n=$((n + 1))
	tag="$label${mode:+, $mode}"
	dir=$WORK/$label
	mkdir -p "$dir"
	start_target "$py" mapped.py "$dir" --scale 200 --mb "$MB" || { fail "mapped.py starts [$label]"; continue; }
	cdf=$(cat "/proc/$TARGET_PID/coredump_filter")
	tasks=$(ls "/proc/$TARGET_PID/task" | sort -n | tr '\n' ' ')
	filtered=$dir/core.py
	[[ $mode == *--lz4* ]] && filtered=$dir/core.py.lz4
	"$BIN/pycore-capture" -q -o "$dir/core.full" "$TARGET_PID"
	# shellcheck disable=SC2086  # mode is words
	"$BIN/pycore-capture" -q --filter python $mode -o "$filtered" "$TARGET_PID"
	rc=$?
	: >"$dir/stop"
	stop_target
	if [ ! -s "$dir/core.full" ] || [ "$rc" -ne 0 ] || [ ! -s "$filtered" ]; then
		fail "pycore-capture writes both cores, --filter python exits 0 [$tag]"
		continue
	fi
	plain=$dir/core.py
	[ "$filtered" = "$plain" ] || lz4 -d -q "$filtered" "$plain"

	# gdb, the slowest reader, in the background meanwhile.
	check_gdb "$py" "$plain" "$(echo $tasks | wc -w)" >"$dir/gdb.out" 2>&1 &
	gdb_pid=$!
	check "the filtered core is smaller by at least those $((2 * MB)) MiB [$tag]" \
		check_smaller "$dir/core.full" "$plain" $((2 * MB << 20)) \
		"$([ "$filtered" = "$plain" ] && echo yes || echo no)"
	for c in full py; do
		core=$dir/core.full
		[ "$c" = py ] && core=$filtered
		report "pycore-report --format json reads the $c core [$tag]" "$dir/report.$c.json" \
			--format json "$core" || { wait "$gdb_pid"; continue 2; }
	done
	# One Python process for the checks of the cores and reports (census.py's
	# among them: planted, threads, sizes; not its census within 2%, which
	# holds at plant.py's default scale, 5 times this one: report.sh's).
	"$PY3" "$CHECK" "$dir" "$cdf" >"$dir/checks" 2>&1
	for c in loads note same planted threads sizes; do
		line=$(grep -m1 -E "^(ok|no) $c(:|\$)" "$dir/checks")
		if [ "${line%% *}" = ok ]; then pass "${CASE_NAME[$c]} [$tag]"; else
			fail "${CASE_NAME[$c]} [$tag]"
			echo "    ${line:-$(head -c 300 "$dir/checks")}"
		fi
	done
	if report "pycore-report text of the filtered core [$tag]" "$dir/report.py.txt" \
		--no-leaks --limit 1 "$filtered"; then
		check "the text report says the core was filtered, and warns of nothing [$tag]" \
			check_text "$dir/report.py.txt"
	fi
	if wait "$gdb_pid"; then
		pass "gdb: thread apply all bt reaches the eval loop on every thread of the filtered core [$tag]"
	else
		fail "gdb: thread apply all bt reaches the eval loop on every thread of the filtered core [$tag]"
		sed 's/^/    /' "$dir/gdb.out"
	fi
	check "eu-stack unwinds every thread of the filtered core into the eval loop [$tag]" \
		check_eu_stack "$py" "$plain" "$tasks"
	rm -rf "$dir"
done < <(find_pythons)

"$BIN/pycore-capture" --filter everything 1 >/dev/null 2>"$WORK/usage.err"
same "--filter with an unknown name is a usage error (exit 2) [capture]" \
	"$?:$(grep -c . "$WORK/usage.err")" "2:1"
