#!/usr/bin/env bash
# analyze/core.c reads cores of every origin — pycore-capture plain and
# --lz4 (in place, through its index), gdb's gcore, and the kernel — the
# same way: the target's threads, its mapped files, and a planted buffer
# byte for byte, as the target itself reported them.  Bad input is refused
# in one line.
. "$(dirname "$0")/../lib.sh"

COREREAD=$TOOLS/coreread
WORK=$(mktemp -d)
trap 'stop_target; rm -rf "$WORK"' EXIT
[ -x "$COREREAD" ] || { fail "$TOOLS/coreread is built (make unit-tests)"; exit 0; }

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

check_core() {
	local label=$1 origin=$2 core=$3 ready=$4 py=$5
	same "threads of a $origin core are the target's [$label]" \
		"$("$COREREAD" "$core" threads | sort -n | tr '\n' ' ')" \
		"$(json "$ready" "' '.join(map(str, d['native_ids'])) + ' '")"
	same "the planted buffer reads back from a $origin core [$label]" \
		"$("$COREREAD" "$core" read "$(json "$ready" "d['buffer_addr']")" \
			"$(json "$ready" "d['buffer_len']")" | sha256sum | cut -d' ' -f1)" \
		"$(json "$ready" "d['buffer_sha256']")"
	check "NT_FILE of a $origin core names the interpreter [$label]" \
		sh -c "'$COREREAD' '$core' files | awk '{print \$4}' | grep -qx '$(realpath "$py")'"
	same "a $origin core is whole [$label]" "$("$COREREAD" "$core" missing)" 0
	same "_PyRuntime is found through the binaries a $origin core names [$label]" \
		"$("$COREREAD" "$core" symbol _PyRuntime)" "$(json "$ready" "hex(d['runtime_addr'])")"
	# 3.11+: Py_Version, in .rodata, which only the binary holds; before:
	# the sys.version text in the core, found through .symtab (every build
	# here older than 3.11 is an unstripped pyenv build).
	same "the runtime and the exact Python version of a $origin core [$label]" \
		"$("$COREREAD" "$core" runtime)" "$(json "$ready" "'%#x %#x exact' % (d['runtime_addr'], d['hexversion'])")"
}

# Struct layouts from the runtime binary's DWARF agree with the sizes the
# interpreter itself reports (type.__basicsize__).
check_dwarf() {
	local label=$1 core=$2 ready=$3 got want
	if [ "$("$COREREAD" "$core" sizeof PyObject)" = no-dwarf ]; then
		skip "DWARF layouts [$label]: the binary has no debug info (stripped)"
		return
	fi
	dw() { "$COREREAD" "$core" "$@" 2>/dev/null; }
	int_digits=$(dw offsetof PyLongObject ob_digit)
	[ "$int_digits" = -1 ] && int_digits=$(dw offsetof PyLongObject long_value.ob_digit)
	got="object=$(dw sizeof PyObject) list=$(dw sizeof PyListObject)"
	got="$got tuple=$(dw offsetof PyTupleObject ob_item) dict=$(dw sizeof PyDictObject)"
	got="$got type=$(dw sizeof PyHeapTypeObject) int=$int_digits float=$(dw sizeof PyFloatObject)"
	got="$got set=$(dw sizeof PySetObject) bytes=$(( $(dw offsetof PyBytesObject ob_sval) + 1 ))"
	want=$(json "$ready" "' '.join('%s=%d' % (k, d['basicsize'][k]) for k in
		('object', 'list', 'tuple', 'dict', 'type', 'int', 'float', 'set', 'bytes'))")
	same "DWARF struct layouts match the interpreter's own basic sizes [$label]" "$got" "$want"
}

# --sysroot: binaries moved under another root are found there and checked
# by build-id; a different file at the same place is not used.
check_sysroot() {
	local label=$1 core=$2 ready=$3 root=$4 gdb_core=$5 bin
	for bin in $("$COREREAD" "$core" modules | awk '$1 ~ /python/ { print $1 }'); do
		mkdir -p "$root$(dirname "$bin")"
		cp "$bin" "$root$bin"
	done
	same "binaries copied under a sysroot are used from there [$label]" \
		"$("$COREREAD" "$core" symbol _PyRuntime "$root")" "$(json "$ready" "hex(d['runtime_addr'])")"
	for bin in $("$COREREAD" "$core" modules | awk '$1 ~ /python/ { print $1 }'); do
		cp /bin/true "$root$bin"
	done
	check "a binary whose build-id differs is not used, even at the right path [$label]" \
		sh -c "! '$COREREAD' '$core' symbol _PyRuntime '$root' 2>/dev/null && '$COREREAD' '$core' modules '$root' | grep python | grep -q MISSING"
	# A pycore core carries the runtime's facts in its PYCORE python note.
	same "without binaries, the capture's python note still gives the runtime and version [$label]" \
		"$("$COREREAD" "$core" runtime "$root" 2>&1)" \
		"$(json "$ready" "'%#x %#x exact' % (d['runtime_addr'], d['hexversion'])")"
	[ -s "$gdb_core" ] || return
	err=$("$COREREAD" "$gdb_core" runtime "$root" 2>&1)
	if [ "$(json "$ready" "d['hexversion'] >= 0x30d0000")" = True ]; then
		# 3.13+: _Py_DebugOffsets in the core finds the runtime without binaries.
		same "without binaries, 3.13's debug offsets still find the runtime and version (gdb core) [$label]" \
			"$err" "$(json "$ready" "'%#x %#x exact' % (d['runtime_addr'], d['hexversion'])")"
	else
		check "without its binary, a gdb core's error names the file and the build-id it must have [$label]" \
			sh -c "printf '%s' '$err' | grep -qE 'python3\.[0-9]+.* \(build-id [0-9a-f]{40}\) is needed'"
	fi
}

# The XSAVE layout note (NT_X86_XSAVE_LAYOUT, Linux 6.9+) tells readers
# where each register component sits in NT_X86_XSTATE on this CPU: a
# pycore core must carry the kernel's, byte for byte.  Older kernels
# write none, and then there is nothing to compare with.
xsave_layout() {
	python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from elfcore import read_elf, read_notes
with open(sys.argv[1], "rb") as f:
    notes = read_notes(f, read_elf(f).phdrs)
print(" ".join(d.hex() for n, t, d in notes if (n, t) == ("LINUX", 0x205)))' "$1" "$TOP/tests/tools"
}

check_xsave_layout() {
	local label=$1 kernel_layout
	kernel_layout=$(xsave_layout "$2")
	if [ -n "$kernel_layout" ]; then
		same "the XSAVE layout note is the kernel's [$label]" "$(xsave_layout "$3")" "$kernel_layout"
	else
		skip "the XSAVE layout note [$label]: this kernel writes none"
	fi
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	start_target "$py" threads.py "$dir" --busy 1 --sleepers 1 || { fail "target starts [$label]"; continue; }
	"$BIN/pycore-capture" -q -o "$dir/core.plain" "$TARGET_PID"
	"$BIN/pycore-capture" -q --lz4 -o "$dir/core.lz4" "$TARGET_PID"
	gdb -q -batch -nx -p "$TARGET_PID" -ex "gcore $dir/core.gdb" >/dev/null 2>&1
	check_core "$label" pycore-capture "$dir/core.plain" "$dir/ready.json" "$py"
	check_dwarf "$label" "$dir/core.plain" "$dir/ready.json"
	check_sysroot "$label" "$dir/core.plain" "$dir/ready.json" "$dir/sysroot" "$dir/core.gdb"
	check_core "$label" "pycore-capture --lz4" "$dir/core.lz4" "$dir/ready.json" "$py"
	if [ -s "$dir/core.gdb" ]; then
		check_core "$label" "gdb gcore" "$dir/core.gdb" "$dir/ready.json" "$py"
	else
		fail "gdb gcore wrote a core [$label]"
	fi
	stop_target
	if kernel_core "$py" threads.py "$dir/kernel" "$dir/core.kernel" --busy 1 --sleepers 1; then
		check_core "$label" kernel "$dir/core.kernel" "$dir/kernel/ready.json" "$py"
		check_xsave_layout "$label" "$dir/core.kernel" "$dir/core.plain"
	else
		skip "kernel core [$label]: core dumps are piped elsewhere or disabled here"
	fi

	# A core cut short, as by ulimit -c or a half-finished copy.
	size=$(stat -c %s "$dir/core.plain")
	head -c $((size / 2)) "$dir/core.plain" >"$dir/core.cut"
	check "a truncated core says how much is missing [$label]" \
		test "$("$COREREAD" "$dir/core.cut" missing)" -gt 0
	"$COREREAD" "$dir/core.cut" read "$(json "$dir/ready.json" "d['buffer_addr']")" \
		"$(json "$dir/ready.json" "d['buffer_len']")" >/dev/null 2>"$dir/cut.err"
	rc=$?
	# The buffer may lie in the half that is kept: then the read succeeds.
	check "reading past the end of a truncated core is a format error, not a crash [$label]" \
		test "$rc" -eq 0 -o "$rc" -eq 11
	last=$("$COREREAD" "$dir/core.plain" segments | python3 -c '
import sys
half = int(sys.argv[1])
rows = [l.split() for l in sys.stdin]
print([r[0] for r in rows if int(r[2], 16) and int(r[3], 16) >= half][-1])' $((size / 2)))
	err=$("$COREREAD" "$dir/core.cut" read "0x$last" 4096 2>&1 >/dev/null)
	rc=$?
	check "memory beyond the end of a truncated core is refused, naming the cause [$label]" \
		sh -c "[ $rc -eq 11 ] && printf '%s' '$err' | grep -q truncated"
	rm -rf "$dir"
done < <(find_pythons)

# coreread refuses what is not a core: exit 11 (bad input), one line.
yes 'this is not a core file' | head -20 >"$WORK/text"
refused_in_one_line "a text file is refused: not an ELF file" 'not an ELF file' "$COREREAD" "$WORK/text" threads
refused_in_one_line "an ELF program is refused: not a core" 'not a 64-bit little-endian core' "$COREREAD" /bin/ls threads
: >"$WORK/empty"
refused_in_one_line "an empty file is refused" 'too short' "$COREREAD" "$WORK/empty" threads
