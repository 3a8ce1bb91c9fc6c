#!/usr/bin/env bash
# pycore-report reads the Python heap and threads out of cores of a planted
# target (tests/targets/plant.py), captured by pycore-capture and by gdb's
# gcore, and its JSON report agrees with what the target measured inside
# itself: the planted objects exactly, their instance dicts, the big dict,
# the 4000-byte blobs, every thread's frames, and the in-process census of
# the most common types within 2%.  Bad input ends in one line, not a crash.
. "$(dirname "$0")/../lib.sh"

CENSUS=$TOP/tests/tools/census.py
PY3=/usr/bin/python3
REPORT=$BIN/pycore-report
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT

# judge CHECK LABEL ORIGIN DIR NAME: one census.py check of DIR/report.ORIGIN.json.
judge() {
	local chk=$1 label=$2 origin=$3 dir=$4
	check "$5 ($origin core) [$label]" \
		"$PY3" "$CENSUS" "$chk" "$dir/ready.json" "$dir/census.json" "$dir/report.$origin.json"
}

check_report() {
	local label=$1 origin=$2 core=$3 dir=$4 rc pid version
	"$REPORT" --format json "$core" >"$dir/report.$origin.json" 2>"$dir/report.$origin.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "pycore-report --format json reads a $origin core [$label]"
	else
		fail "pycore-report --format json reads a $origin core [$label]"
		echo "    exit $rc: $(head -c 500 "$dir/report.$origin.err")"
	fi
	judge schema "$label" "$origin" "$dir" "the report is schema pycore-report/1, sorted, its totals add up"
	judge process "$label" "$origin" "$dir" "python version, pid, threads, executable and library are the process's"
	judge planted "$label" "$origin" "$dir" "planted AcmeSession, SlotPoint, BlobHolder: count and bytes exact"
	judge dicts "$label" "$origin" "$dir" "instance dicts counted as 'dict of <class>' exactly where they exist"
	judge bigdict "$label" "$origin" "$dir" "the 20000-entry dict, its ints and strs are counted"
	judge blobs "$label" "$origin" "$dir" "the 4000-byte bytes objects are counted"
	judge threads "$label" "$origin" "$dir" "every thread: native id, name and frames exact"
	judge census "$label" "$origin" "$dir" "the 20 most common types agree with the in-process census within 2%"
	judge sizes "$label" "$origin" "$dir" "every type counted alike has exactly the census's sys.getsizeof bytes"

	pid=$("$PY3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$dir/ready.json")
	version=$("$PY3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$dir/ready.json")
	"$REPORT" --format text "$core" >"$dir/text.$origin" 2>"$dir/text.$origin.err"
	rc=$?
	if [ "$rc" -eq 0 ] && head -5 "$dir/text.$origin" | grep -qF "$version" &&
	   head -5 "$dir/text.$origin" | grep -qw "$pid"; then
		pass "--format text starts with the python version and the pid ($origin core) [$label]"
	else
		fail "--format text starts with the python version and the pid ($origin core) [$label]"
		echo "    exit $rc, want $version and $pid in:"
		head -5 "$dir/text.$origin" | sed 's/^/      /'
		head -c 300 "$dir/text.$origin.err" | sed 's/^/    stderr: /'
	fi
}

# No binaries at all (--sysroot pointing at an empty directory): a right
# report (a pycore-capture core records what it needs in its PYCORE note;
# 3.13 finds its runtime through _Py_DebugOffsets) or a refusal naming the
# binary and build-id needed, never a silently empty or wrong report.
check_bare() {
	local label=$1 origin=$2 dir=$3 rc
	"$REPORT" --format json --sysroot "$dir/empty" "$dir/core.$origin" \
		>"$dir/report.$origin-bare.json" 2>"$dir/$origin-bare.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		judge planted "$label" "$origin-bare" "$dir" "without any binary, the planted objects are still counted exactly"
		judge threads "$label" "$origin-bare" "$dir" "without any binary, the threads are still read exactly"
	elif [ "$rc" -eq 11 ] && [ "$(grep -c . "$dir/$origin-bare.err")" -eq 1 ] &&
	     grep -qE 'build-id [0-9a-f]{40}\) is needed' "$dir/$origin-bare.err"; then
		pass "without any binary, a $origin core is refused naming the file and build-id needed [$label]"
	else
		fail "without any binary, a $origin core is read right or refused in one line [$label]"
		echo "    exit $rc: $(head -c 300 "$dir/$origin-bare.err")"
	fi
}

# refused NAME FILE: pycore-report exits non-zero, not by a signal (< 128),
# with exactly one line on stderr.
refused() {
	local err rc
	err=$("$REPORT" --format json "$2" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ]; then
		pass "$1"
	else
		fail "$1"
		printf '    exit %s, stderr: %s\n' "$rc" "$(printf '%s' "$err" | head -c 500)"
	fi
}

# truncation_told RC JSON ERR: exit 0 with a JSON report whose first
# warning says "truncated", or exit 1-127 with one line saying "is truncated".
truncation_told() {
	if [ "$1" -eq 0 ]; then
		"$PY3" -c 'import json, sys; w = json.load(open(sys.argv[1]))["warnings"]
assert w and "truncated" in w[0], w' "$2"
	else
		[ "$1" -lt 128 ] && [ "$(grep -c . "$3")" -eq 1 ] && grep -q "is truncated" "$3" ||
			{ echo "exit $1: $(cat "$3")"; return 1; }
	fi
}

# The file offset halfway through the last PT_LOAD that has file data.
last_segment_middle() {
	"$PY3" - "$1" "$TOP/tests/tools" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from elfcore import PT_LOAD, read_elf
with open(sys.argv[1], "rb") as f:
    phdrs = read_elf(f).phdrs
off, size = max((p.offset, p.filesz) for p in phdrs if p.type == PT_LOAD and p.filesz > 0)
print(off + size // 2)
EOF
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	start_target "$py" plant.py "$dir" || { fail "plant.py starts [$label]"; continue; }
	"$BIN/pycore-capture" -q -o "$dir/core.pycore" "$TARGET_PID"
	# Copies of every ELF file the process maps, the executable renamed.
	mkdir -p "$dir/bins" "$dir/empty"
	awk '$3 == "00000000" && $6 ~ /^\// { print $6 }' "/proc/$TARGET_PID/maps" | sort -u |
	while read -r f; do
		head -c 4 "$f" | grep -q ELF && cp "$f" "$dir/bins/"
	done
	exe=$(readlink "/proc/$TARGET_PID/exe")
	mv "$dir/bins/$(basename "$exe")" "$dir/bins/moved-python"
	[ -s "$dir/core.pycore" ] || fail "pycore-capture wrote a core [$label]"
	gdb -q -batch -nx -p "$TARGET_PID" -ex "gcore $dir/core.gdb" </dev/null >/dev/null 2>&1
	[ -s "$dir/core.gdb" ] || fail "gdb gcore wrote a core [$label]"
	# The target ends on its own once told to, unharmed by the captures.
	: >"$dir/stop"
	for _ in $(seq 100); do kill -0 "$TARGET_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$TARGET_PID" 2>/dev/null; then
		fail "the target exits when told to, after the captures [$label]"
		stop_target
	else
		wait "$TARGET_PID"
		same "the target exits when told to, after the captures [$label]" "exit $?" "exit 0"
		TARGET_PID=
	fi

	[ -s "$dir/core.pycore" ] && check_report "$label" pycore "$dir/core.pycore" "$dir"
	[ -s "$dir/core.gdb" ] && check_report "$label" gdb "$dir/core.gdb" "$dir"

	if [ -s "$dir/core.gdb" ]; then
		# Binaries elsewhere: the same report from the copies, found by
		# --exe and --lib-search-path under a --sysroot that has nothing.
		# (A gdb core: it has no PYCORE note to fall back on.)
		"$REPORT" --format json --sysroot "$dir/empty" --exe "$dir/bins/moved-python" \
			--lib-search-path "$dir/nowhere:$dir/bins" "$dir/core.gdb" >"$dir/moved.json" 2>&1
		check "--sysroot, --exe and --lib-search-path: copied binaries give the same report [$label]" \
			cmp "$dir/moved.json" "$dir/report.gdb.json"
	fi
	for origin in pycore gdb; do
		[ -s "$dir/core.$origin" ] && check_bare "$label" "$origin" "$dir"
	done

	# A core cut short, as by ulimit -c or a half-finished copy.  Cut in
	# half: a report that warns it is truncated, or — when the runtime's
	# state went with the second half (a libpython's data) — one line that
	# says so.  Cut in its last segment with data (the main thread's C
	# stack): the heap is all there, so a report, exact, with the warning.
	if [ -s "$dir/core.pycore" ]; then
		head -c $(( $(stat -c %s "$dir/core.pycore") / 2 )) "$dir/core.pycore" >"$dir/core.cut"
		"$REPORT" --format json "$dir/core.cut" >"$dir/report.cut.json" 2>"$dir/report.cut.err"
		check "a core cut in half: a report warning it is truncated, or one line saying so [$label]" \
			truncation_told $? "$dir/report.cut.json" "$dir/report.cut.err"
		head -c "$(last_segment_middle "$dir/core.pycore")" "$dir/core.pycore" >"$dir/core.tail"
		"$REPORT" --format json "$dir/core.tail" >"$dir/report.tail.json" 2>"$dir/report.tail.err"
		check "a core missing its tail is reported, warning that it is truncated [$label]" \
			"$PY3" -c 'import json, sys; w = json.load(open(sys.argv[1]))["warnings"]
assert w and "truncated" in w[0], w' "$dir/report.tail.json"
		judge planted "$label" tail "$dir" "a core missing its tail: the planted objects still exact"
	fi
	rm -rf "$dir"
done < <(find_pythons)

yes 'this is not a core file' | head -20 >"$WORK/text"
refused "a text file is refused in one line, not a crash" "$WORK/text"
refused "an ELF program is refused in one line, not a crash" /bin/ls
: >"$WORK/empty"
refused "an empty file is refused in one line, not a crash" "$WORK/empty"
refused "a file that does not exist is refused in one line, not a crash" "$WORK/absent"
