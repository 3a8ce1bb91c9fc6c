#!/usr/bin/env bash
# pycore-report on the other ways a core comes, and the other ways a heap
# is laid out, against the planted target's own truth (tests/targets/
# plant.py, checked by tests/tools/census.py):
#   - pycore-capture --lz4, read in place through its index;
#   - the same core compressed by the lz4 tool (no index): decompressed to
#     a temporary file, with a note on stderr;
#   - a kernel core (the target aborted with core dumps on);
#   - PYTHONMALLOC=malloc (every object a glibc chunk) and PYTHONMALLOC=debug
#     (16 bytes of hooks in front of every block);
#   - 3.13 PYTHONMALLOC=mimalloc: refused in one line naming it;
#   - a core whose interpreter binary was deleted after the capture (a copy
#     of Debian's one-file python3.11): read from the capture's PYCORE note;
#   - objects in a thread's own malloc arena and in mmapped chunks;
#   - a core taken while the garbage collector runs;
#   - 3.12+: objects of a sub-interpreter, which has its own allocator.
. "$(dirname "$0")/../lib.sh"

CENSUS=$TOP/tests/tools/census.py
PY3=/usr/bin/python3
REPORT=$BIN/pycore-report
SCALE=200
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT

# report_checks LABEL WHAT DIR CORE [ARGS...]: the report of CORE has the
# planted objects exactly and every thread's stack.
report_checks() {
	local label=$1 what=$2 dir=$3 core=$4 out
	shift 4
	out=$dir/report.$(echo "$what" | tr -c 'a-z0-9\n' '_').json
	if ! "$REPORT" --format json "$@" "$core" >"$out" 2>"$out.err"; then
		fail "pycore-report reads the $what [$label]"
		head -c 300 "$out.err" | sed 's/^/    /'
		return
	fi
	for chk in planted threads sizes blobs dicts; do
		check "$what: $chk as the process measured them [$label]" \
			"$PY3" "$CENSUS" "$chk" "$dir/ready.json" "$dir/census.json" "$out"
	done
}

# plant LABEL PY DIR [VAR=VALUE...]: start plant.py with those settings.
plant() {
	local label=$1 py=$2 dir=$3
	shift 3
	mkdir -p "$dir"
	TARGET_ENV="$*" start_target "$py" plant.py "$dir" --scale "$SCALE" && return 0
	fail "plant.py starts ($*) [$label]"
	stop_target
	return 1
}

finish() {
	: >"$1/stop"
	for _ in $(seq 100); do kill -0 "$TARGET_PID" 2>/dev/null || break; sleep 0.1; done
	stop_target
}

while read -r label py; do
	# Compressed cores: pycore's container, and the lz4 tool's stream.
	dir=$WORK/$label/lz4
	if plant "$label" "$py" "$dir"; then
		"$BIN/pycore-capture" -q --lz4 -o "$dir/core.lz4" "$TARGET_PID"
		finish "$dir"
		report_checks "$label" "--lz4 core" "$dir" "$dir/core.lz4"
		# Damage three blocks in the middle: a report of the rest, warned.
		cp "$dir/core.lz4" "$dir/core.damaged"
		"$PY3" -c '
import os, sys
f = open(sys.argv[1], "r+b")
size = os.path.getsize(sys.argv[1])
for at in (size // 3, size // 2, 2 * size // 3):
    f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0xFF]))' "$dir/core.damaged"
		"$REPORT" --format json "$dir/core.damaged" >"$dir/damaged.json" 2>"$dir/damaged.err"
		rc=$?
		if [ "$rc" -eq 0 ] && [ "$(grep -c . "$dir/damaged.err")" -eq 1 ] &&
		   grep -q "warning: .*could not be read" "$dir/damaged.err" &&
		   "$PY3" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (r["warnings"] and r["totals"]["objects"] > 0))' "$dir/damaged.json"; then
			pass "a damaged --lz4 core gives a report of the rest and one warning [$label]"
		else
			fail "a damaged --lz4 core gives a report of the rest and one warning [$label]"
			echo "    exit $rc: $(head -c 300 "$dir/damaged.err")"
		fi
		lz4 -q -d "$dir/core.lz4" "$dir/core.plain" && lz4 -q "$dir/core.plain" "$dir/core.stream.lz4"
		report_checks "$label" "lz4-tool stream" "$dir" "$dir/core.stream.lz4"
		if grep -q "decompressed into a temporary file" "$dir"/report.lz4_tool_stream.json.err; then
			pass "an LZ4 stream without index is decompressed first, with a note [$label]"
		else
			fail "an LZ4 stream without index is decompressed first, with a note [$label]"
		fi
		rm -f "$dir"/core.*
	fi

	dir=$WORK/$label/kernel
	if kernel_core "$py" plant.py "$dir" "$dir/core.kernel" --scale "$SCALE"; then
		report_checks "$label" "kernel core" "$dir" "$dir/core.kernel"
		rm -f "$dir/core.kernel"
	else
		skip "kernel core [$label]: core dumps are piped elsewhere or disabled here"
	fi

	# glibc beyond its main heap: a thread's own arena, mmapped chunks.
	dir=$WORK/$label/bigalloc
	mkdir -p "$dir"
	if start_target "$py" bigalloc.py "$dir"; then
		"$BIN/pycore-capture" -q -o "$dir/core" "$TARGET_PID"
		finish "$dir"
		"$TOOLS/heapdump" "$dir/core" >"$dir/objects" 2>&1
		check "objects in a thread's malloc arena and in mmapped chunks are found [$label]" \
			"$PY3" "$TOP/tests/tools/ids_found.py" "$dir/ready.json" "$dir/objects"
		rm -f "$dir/core"
	else
		fail "bigalloc.py starts [$label]"
	fi

	# A core taken while the collector runs: the GC lists are in flux,
	# the objects are not (the capture is retried until one is caught
	# mid-collection; the report says so in a warning).
	dir=$WORK/$label/gcbusy
	mkdir -p "$dir"
	if start_target "$py" gcbusy.py "$dir" 100000; then
		caught=
		for _ in $(seq 20); do
			"$BIN/pycore-capture" -q -f -o "$dir/core" "$TARGET_PID"
			"$REPORT" --no-leaks --format json "$dir/core" >"$dir/report.json" 2>/dev/null
			grep -q "garbage collection" "$dir/report.json" && { caught=1; break; }
		done
		finish "$dir"
		if [ -n "$caught" ]; then
			same "a core taken mid-collection still counts every planted object [$label]" \
				"$("$PY3" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(*[(t["count"], t["bytes"]) for t in r["types"] if t["name"] == "__main__.Planted"])' "$dir/report.json")" \
				"$("$PY3" -c 'import json,sys; t=json.load(open(sys.argv[1])); print((t["count"], t["bytes"]))' "$dir/ready.json")"
		else
			skip "a core taken mid-collection [$label]: 20 captures never caught the collector running"
		fi
		rm -f "$dir/core"
	else
		fail "gcbusy.py starts [$label]"
	fi

	for alloc in malloc debug; do
		dir=$WORK/$label/$alloc
		plant "$label" "$py" "$dir" PYTHONMALLOC=$alloc || continue
		"$BIN/pycore-capture" -q -o "$dir/core" "$TARGET_PID"
		finish "$dir"
		report_checks "$label" "PYTHONMALLOC=$alloc core" "$dir" "$dir/core"
		rm -f "$dir/core"
	done

	case $label in
	3.12*|3.13*)
		dir=$WORK/$label/subinterp
		mkdir -p "$dir"
		if start_target "$py" subinterp.py "$dir" 3000; then
			"$BIN/pycore-capture" -q -o "$dir/core" "$TARGET_PID"
			finish "$dir"
			"$TOOLS/heapdump" "$dir/core" >"$dir/objects" 2>&1
			check "a sub-interpreter's own objects are found, sized as it measured them [$label]" \
				"$PY3" "$TOP/tests/tools/ids_found.py" "$dir/ready.json" "$dir/objects"
			rm -f "$dir/core"
		else
			fail "subinterp.py starts [$label]"
		fi ;;
	esac
	case $label in
	3.13*)
		dir=$WORK/$label/mimalloc
		if plant "$label" "$py" "$dir" PYTHONMALLOC=mimalloc; then
			"$BIN/pycore-capture" -q -o "$dir/core" "$TARGET_PID"
			finish "$dir"
			err=$("$REPORT" "$dir/core" 2>&1 >/dev/null)
			rc=$?
			if [ "$rc" -eq 11 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] &&
			   printf '%s' "$err" | grep -q mimalloc; then
				pass "a PYTHONMALLOC=mimalloc core is refused in one line naming it [$label]"
			else
				fail "a PYTHONMALLOC=mimalloc core is refused in one line naming it [$label]"
				echo "    exit $rc: $err"
			fi
			rm -f "$dir/core"
		fi ;;
	debian-3.11)
		# The interpreter's only binary, copied, run, captured, deleted.
		dir=$WORK/$label/deleted
		mkdir -p "$dir/bin"
		cp "$py" "$dir/bin/python3.11"
		if plant "$label" "$dir/bin/python3.11" "$dir"; then
			"$BIN/pycore-capture" -q -o "$dir/core" "$TARGET_PID"
			finish "$dir"
			rm -rf "$dir/bin"
			report_checks "$label" "core whose binary was deleted" "$dir" "$dir/core"
			same "the layout came from the capture's note [$label]" \
				"$("$PY3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["python"]["layout_source"])' \
					"$dir/report.core_whose_binary_was_deleted.json" 2>/dev/null)" note
			rm -f "$dir/core"
		fi ;;
	esac
done < <(find_pythons)
