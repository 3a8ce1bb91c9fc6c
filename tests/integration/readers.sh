#!/usr/bin/env bash
# The cores pycore-capture writes are read by gdb, elfutils and lz4 as they
# read a kernel core, for every interpreter found: threads, backtraces,
# memory contents and notes are compared with what the target reported
# about itself.  Both modes: the default snapshot and --no-fork
# (stop-the-world), plain; --lz4 in the default mode.
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# LWPs gdb lists for a core, sorted, one line.
gdb_lwps() {
	gdb -batch -nx -ex 'info threads' "$1" "$2" 2>&1 |
		grep -E '^[* ] +[0-9]+ +(Thread 0x[0-9a-f]+ \(LWP [0-9]+\)|LWP [0-9]+)' |
		grep -o 'LWP [0-9]*' | awk '{print $2}' | sort -n | tr '\n' ' '
}

# SHA-256 of [addr, addr+len) as gdb reads it from the core.
gdb_sha256() {
	local out=$WORK/mem.bin
	rm -f "$out"
	gdb -batch -nx -ex "dump binary memory $out $3 $(($3 + $4))" "$1" "$2" >/dev/null 2>&1
	[ -f "$out" ] && sha256sum "$out" | cut -d' ' -f1
}

# Every thread's backtrace reaches the interpreter's eval loop.
check_backtraces() {
	local py=$1 core=$2 bt
	bt=$(gdb -batch -nx -ex 'thread apply all bt' "$py" "$core" 2>&1)
	if printf '%s\n' "$bt" | grep -qiE 'truncated|not a core|not in executable format'; then
		printf '%s\n' "$bt" | grep -iE 'truncated|not a core|format' >&2
		return 1
	fi
	printf '%s\n' "$bt" | awk '
		/^Thread [0-9]+ / { if (t && !seen) bad++; t = $0; seen = 0 }
		/_PyEval_EvalFrameDefault|PyEval_EvalFrame/ { seen = 1 }
		END { if (t && !seen) bad++; if (!t) bad++; exit bad > 0 }'
}

# ELF files the target maps at file offset 0, and their build-ids on disk.
elf_modules_of() {
	awk '$3 == "00000000" && $6 ~ /^\// { print $6 }' "/proc/$1/maps" | sort -u |
	while read -r f; do
		[ "$(head -c 4 "$f" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] || continue
		id=$(eu-readelf -n "$f" 2>/dev/null | awk '/Build ID:/ { print $3; exit }')
		echo "$f $id"
	done
}

check_notes() {
	local info=$1 ready=$2 t0=$3 t1=$4 py=$5
	python3 - "$info" "$ready" "$t0" "$t1" "$py" <<'PYEOF'
import json, os, sys
info, ready = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t0, t1, py = float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
cap = info["capture"]
problems = []
def expect(what, got, want):
    if got != want:
        problems.append(f"{what}: core says {got!r}, target says {want!r}")
expect("ELF type", info["ehdr"]["e_type"], 4)
expect("machine", info["ehdr"]["e_machine"], 62)
expect("threads in NT_PRSTATUS", sorted(info["prstatus_pids"]), ready["native_ids"])
expect("first thread", info["prstatus_pids"][0], ready["pid"])
expect("pid", cap["pid"], ready["pid"])
expect("command line", cap["cmdline_hex"], ready["cmdline_hex"])
expect("executable", cap["exe"], os.path.realpath(py))
expect("thread count", cap["threads"], len(ready["native_ids"]))
if not t0 - 1 <= cap["time"] <= t1 + 1:
    problems.append(f"capture time {cap['time']} outside [{t0}, {t1}]")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PYEOF
}

check_modules() {
	local info=$1 pid=$2
	diff <(python3 -c '
import json, sys
for m in json.load(open(sys.argv[1]))["modules"]:
    print(m["path"], m["build_id"])' "$info" | sort) <(elf_modules_of "$pid" | sort)
}

check_loads() {
	local info=$1 maps=$2
	diff <(python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["loads"]:
    print("%x-%x" % (p["vaddr"], p["vaddr"] + p["memsz"]))' "$info") <(awk '{print $1}' "$maps" | sed 's/^0*//; s/-0*/-/')
}

check_eu_stack() {
	local py=$1 core=$2 want=$3 got
	got=$(eu-stack --core "$core" --executable "$py" 2>/dev/null | awk '/^TID/ { sub(":", "", $2); print $2 }' | sort -n | tr '\n' ' ')
	[ "$got" = "$want" ] || { echo "eu-stack threads: '$got', target: '$want'"; return 1; }
}

check_eu_readelf() {
	local core=$1 n=$2 notes
	notes=$(eu-readelf -n "$core" 2>&1) || { printf '%s\n' "$notes" | tail -3; return 1; }
	[ "$(printf '%s\n' "$notes" | grep -c ' PRSTATUS$')" -eq "$n" ] || { echo "PRSTATUS count"; return 1; }
	for t in PRPSINFO AUXV FILE SIGINFO FPREGSET X86_XSTATE; do
		printf '%s\n' "$notes" | grep -q " $t\$" || { echo "no $t note"; return 1; }
	done
	! printf '%s\n' "$notes" | grep -qiE 'invalid|error'
}

check_sparse() {
	local core=$1 alloc apparent
	alloc=$(du -B1 "$1" | cut -f1)
	apparent=$(stat -c %s "$1")
	[ "$alloc" -lt "$apparent" ] || { echo "not sparse: $alloc of $apparent bytes allocated"; return 1; }
}

# check_core LABEL MODE RC CORE MODE_NUMBER: every reader check of one
# plain core (uses py, pid, dir, ready, tasks, addr, len, sha, t0, t1).
check_core() {
	local label="$1 $2" rc=$3 core=$4 want_mode=$5
	check "pycore-capture exits 0 [$label]" test "$rc" -eq 0
	[ -f "$core" ] || return
	check "the core is mode 0600 [$label]" test "$(stat -c %a "$core")" = 600
	python3 "$TOP/tests/tools/coreinfo.py" "$core" >"$dir/info.json"
	check "notes name every thread, the pid, command line and time [$label]" \
		check_notes "$dir/info.json" "$ready" "$t0" "$t1" "$py"
	same "the PYCORE note records the capture mode [$label]" \
		"$(json "$dir/info.json" "d['capture']['mode']")" "$want_mode"
	check "the PYCORE note lists every mapped ELF file with its build-id [$label]" \
		check_modules "$dir/info.json" "$pid"
	if cmp -s "$dir/maps.before" "$dir/maps.after"; then
		check "one PT_LOAD per mapping of /proc/PID/maps [$label]" \
			check_loads "$dir/info.json" "$dir/maps.before"
	else
		skip "one PT_LOAD per mapping [$label]: the target's mappings changed meanwhile"
	fi
	same "gdb lists exactly the target's threads [$label]" \
		"$(gdb_lwps "$py" "$core")" "$tasks"
	check "gdb backtraces of every thread reach the eval loop [$label]" \
		check_backtraces "$py" "$core"
	same "gdb reads the planted buffer byte for byte [$label]" \
		"$(gdb_sha256 "$py" "$core" "$addr" "$len")" "$sha"
	check "eu-stack unwinds every thread [$label]" check_eu_stack "$py" "$core" "$tasks"
	check "eu-readelf -n decodes every note [$label]" \
		check_eu_readelf "$core" "$(echo $tasks | wc -w)"
	check "zero pages are holes: the core is sparse [$label]" check_sparse "$core"
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	if ! start_target "$py" threads.py "$dir" --busy 2 --sleepers 2; then
		fail "target starts [$label]"
		continue
	fi
	pid=$TARGET_PID
	ready=$dir/ready.json
	tasks=$(json "$ready" "' '.join(map(str, d['native_ids']))")" "
	addr=$(json "$ready" "d['buffer_addr']")
	len=$(json "$ready" "d['buffer_len']")
	sha=$(json "$ready" "d['buffer_sha256']")
	cp "/proc/$pid/maps" "$dir/maps.before"
	t0=$(date +%s.%N)
	"$BIN/pycore-capture" -q -o "$dir/core" "$pid"
	rc=$?
	"$BIN/pycore-capture" -q --no-fork -o "$dir/core.nofork" "$pid"
	rc_nofork=$?
	t1=$(date +%s.%N)
	"$BIN/pycore-capture" -q --lz4 -o "$dir/core.lz4" "$pid"
	rc_lz4=$?
	cp "/proc/$pid/maps" "$dir/maps.after"

	check_core "$label" snapshot "$rc" "$dir/core" 1
	check_core "$label" --no-fork "$rc_nofork" "$dir/core.nofork" 0
	[ -f "$dir/core" ] || { stop_target; continue; }

	check "pycore-capture --lz4 exits 0 [$label]" test "$rc_lz4" -eq 0
	check "lz4 -t accepts the --lz4 core [$label]" lz4 -q -t "$dir/core.lz4"
	lz4 -q -d "$dir/core.lz4" "$dir/core.unpacked"
	same "gdb lists the same threads from the unpacked --lz4 core [$label]" \
		"$(gdb_lwps "$py" "$dir/core.unpacked")" "$tasks"
	same "gdb reads the planted buffer from the unpacked --lz4 core [$label]" \
		"$(gdb_sha256 "$py" "$dir/core.unpacked" "$addr" "$len")" "$sha"
	check "eu-stack unwinds the unpacked --lz4 core [$label]" \
		check_eu_stack "$py" "$dir/core.unpacked" "$tasks"
	check "the --lz4 core is smaller than the plain one on disk [$label]" \
		test "$(du -B1 "$dir/core.lz4" | cut -f1)" -lt "$(du -B1 "$dir/core" | cut -f1)"
	stop_target
	rm -rf "$dir"
done < <(find_pythons)
