#!/usr/bin/env bash
# analyze/layout.c resolves CPython's layout the same way from every source:
# the built-in table (generated from a build's headers) equals that build's
# libpython DWARF for every value both know; both agree with the sizes the
# live interpreter reports (type.__basicsize__); a core of a stripped build
# resolves from the table; a 3.13 core's _Py_DebugOffsets agree with both,
# and win when they differ; versions outside 3.8-3.13 are refused by name.
. "$(dirname "$0")/../lib.sh"

COREREAD=$TOOLS/coreread
DUMP=$TOOLS/layoutdump
WORK=$(mktemp -d)
OTHER_PID=
trap 'stop_target; [ -n "$OTHER_PID" ] && kill -KILL "$OTHER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
for t in "$COREREAD" "$DUMP"; do
	[ -x "$t" ] || { fail "$(basename "$t") is built (make unit-tests)"; exit 0; }
done

# value NAME FILE: the value of a "NAME VALUE" line.
value() { awk -v n="$1" '$1 == n { print $2; exit }' "$2"; }

# disagreements A B: "NAME a≠b" for every name both files give, differently.
disagreements() {
	join <(sort "$1") <(sort "$2") | awk '$2 != $3 { printf "%s %s≠%s ", $1, $2, $3 }'
}

# The interpreter's own sizes, as "name=N" words, in a fixed order.
truth() {
	"$1" -c '
import sys
t = {"object": object, "list": list, "tuple": tuple, "dict": dict, "type": type,
     "int": int, "float": float, "set": set, "bytes": bytes, "str": str,
     "bytearray": bytearray, "module": type(sys), "function": type(lambda: 0)}
print(" ".join("%s=%d" % (k, v.__basicsize__) for k, v in t.items()))'
}

# The same words from a layout (NAME VALUE lines).  int's basicsize is the
# digits' offset, tuple's the items', bytes' one past the first byte.
sizes_of() {
	local f=$1
	printf 'object=%s list=%s tuple=%s dict=%s type=%s int=%s float=%s set=%s bytes=%s str=%s bytearray=%s module=%s function=%s' \
		"$(value LS_OBJECT "$f")" "$(value LS_LIST "$f")" "$(value LF_TUPLE_ITEMS "$f")" \
		"$(value LS_DICT "$f")" "$(value LS_HEAPTYPE "$f")" "$(value LF_LONG_DIGITS "$f")" \
		"$(value LS_FLOAT "$f")" "$(value LS_SET "$f")" "$(( $(value LF_BYTES_SVAL "$f") + 1 ))" \
		"$(value LS_UNICODE "$f")" "$(value LS_BYTEARRAY "$f")" "$(value LS_MODULE "$f")" \
		"$(value LS_FUNCTION "$f")"
}

# The capabilities each series must come out with (docs, §2-§5).
want_caps() {
	case $1 in
	3.8) echo "frames_are_objects gc_in_runtime str_has_wstr" ;;
	3.9) echo "frames_are_objects str_has_wstr" ;;
	3.10) echo "frames_are_objects frames_lasti_in_units str_has_wstr" ;;
	3.11) echo "code_has_qualname dict_keys_log2 frames_in_cframe has_preheader instr_is_previous line_table_locations str_has_wstr" ;;
	3.12) echo "code_has_qualname dict_keys_log2 frames_in_cframe has_preheader immortal_refcounts instr_is_previous line_table_locations long_tagged managed_dict_tagged obmalloc_in_interp static_types_per_interp" ;;
	3.13) echo "code_has_qualname dict_keys_log2 has_preheader immortal_refcounts inline_values line_table_locations long_tagged obmalloc_in_interp obmalloc_is_pointer static_types_per_interp" ;;
	esac
}
caps_of() {
	awk '$1 ~ /^[a-z0-9_]+$/ && $2 == 1 && $1 !~ /^debug_offsets/ { print $1 }' "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

# The table against the libpython it was generated beside, without a core.
check_sources() {
	local label=$1 py=$2 series=$3 dir=$4 lib
	lib=$(dirname "$py")/../lib/libpython$series.so.1.0
	"$DUMP" builtin "$(json_hex "$py")" >"$dir/builtin" ||
		{ fail "a built-in table exists for $series [$label]"; return; }
	if [ ! -f "$lib" ] || ! "$DUMP" dwarf "$lib" >"$dir/dwarf" 2>/dev/null; then
		skip "built-in table against DWARF [$label]: no libpython with debug info"
		return
	fi
	same "the built-in table equals libpython's DWARF wherever both know a value [$label]" \
		"$(disagreements "$dir/dwarf" "$dir/builtin")" ""
	# Macros are not in DWARF: compare only sizes and fields for presence,
	# leaving out what the table took from extension modules built as
	# shared objects (lib-dynload/array…so), which libpython does not hold.
	awk '/ DWARF: / && $0 !~ /libpython/ { sub(/,$/, "", $2); print $2 }' \
		"$TOP/analyze/layouts/layout_${series/./_}.c" >"$dir/from_modules"
	same "the built-in table and libpython's DWARF know the same sizes and fields [$label]" \
		"$(comm -3 <(awk '$1 !~ /^LC_/ { print $1 }' "$dir/dwarf" | sort) \
			   <(awk 'NR == FNR { mod[$1] = 1; next }
				  $1 !~ /^LC_/ { n = $1; sub(/\.(size|alt)$/, "", n); if (!(n in mod)) print $1 }' \
				 "$dir/from_modules" "$dir/builtin" | sort) | tr -d '\t' | tr '\n' ' ')" ""
	same "libpython's DWARF gives the interpreter's own basic sizes [$label]" \
		"$(sizes_of "$dir/dwarf")" "$(truth "$py")"
	same "the built-in table gives the interpreter's own basic sizes [$label]" \
		"$(sizes_of "$dir/builtin")" "$(truth "$py")"
}

json_hex() { "$1" -c 'import sys; print(hex(sys.hexversion))'; }

# 3.13: move one debug offset in a copy of the core; the layout must take it.
check_debug_override() {
	local label=$1 core=$2 dir=$3 at field
	at=$(value LF_DEBUG_TSTATE_NATIVE_THREAD_ID "$dir/layout")
	field=$(value LF_TSTATE_NATIVE_THREAD_ID "$dir/layout")
	cp "$core" "$dir/core.patched"
	"$COREREAD" "$core" segments >"$dir/segments"
	python3 - "$dir/core.patched" "$dir/segments" "$("$COREREAD" "$core" runtime | cut -d' ' -f1)" \
		"$at" "$((field + 8))" <<'EOF' || { fail "patching a debug offset in a core [$label]"; return; }
import struct, sys
path, segments, runtime, at, new = sys.argv[1], sys.argv[2], int(sys.argv[3], 16), int(sys.argv[4]), int(sys.argv[5])
addr = runtime + at
for line in open(segments):
    vaddr, memsz, filesz, off = (int(x, 16) for x in line.split())
    if vaddr <= addr < vaddr + filesz:
        with open(path, "r+b") as f:
            f.seek(off + addr - vaddr)
            f.write(struct.pack("<Q", new))
        sys.exit(0)
sys.exit("the runtime is not in the core")
EOF
	"$COREREAD" "$dir/core.patched" layout >"$dir/patched"
	same "a debug offset that differs from the DWARF wins, and says so [$label]" \
		"$(value source "$dir/patched") $(value debug_offsets_changed "$dir/patched") $(value LF_TSTATE_NATIVE_THREAD_ID "$dir/patched")" \
		"debug-offsets 1 $((field + 8))"
}

# A core of the target, resolved from DWARF (when the binary has it) and
# from the built-in table alone.
check_core() {
	local label=$1 py=$2 series=$3 dir=$4 want_source mode
	start_target "$py" threads.py "$dir" --busy 1 --sleepers 1 || { fail "target starts [$label]"; return; }
	"$BIN/pycore-capture" -q -o "$dir/core" "$TARGET_PID" || { fail "capture [$label]"; stop_target; return; }
	stop_target
	# With no DWARF, a pycore core's python note holds the layout the
	# capture resolved; --builtin ignores both.
	want_source=dwarf
	[ "$("$COREREAD" "$dir/core" sizeof PyObject)" = no-dwarf ] && want_source=note
	for mode in "" --builtin; do
		"$COREREAD" "$dir/core" layout $mode >"$dir/layout" 2>"$dir/layout.err" ||
			{ fail "a core resolves its layout $mode [$label]: $(cat "$dir/layout.err")"; continue; }
		same "a core's layout ${mode:+($mode) }comes from $want_source [$label]" \
			"$(value source "$dir/layout")" "$want_source"
		same "a core's layout ${mode:+($mode) }gives the interpreter's own basic sizes [$label]" \
			"$(sizes_of "$dir/layout")" "$(truth "$py")"
		same "a core's capabilities ${mode:+($mode) }are those of $series [$label]" \
			"$(caps_of "$dir/layout")" "$(want_caps "$series")"
		if [ "$series" = 3.13 ]; then
			# The target's own offsets were read and matched every value.
			same "3.13 debug offsets ${mode:+($mode) }read from the core agree with the $want_source layout [$label]" \
				"$(value debug_offsets_read "$dir/layout") $(value debug_offsets_changed "$dir/layout")" "1 0"
		fi
		want_source=builtin
	done
	[ "$series" = 3.13 ] && check_debug_override "$label" "$dir/core" "$dir"
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	series=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	check_sources "$label" "$py" "$series" "$dir"
	check_core "$label" "$py" "$series" "$dir"
	rm -rf "$dir"
done < <(find_pythons)

# A version outside 3.8-3.13 is refused, naming it (3.7 has _PyRuntime and a
# version text, so it gets as far as the layout).
py37=$(pyenv_root)/versions/$(ls "$(pyenv_root)/versions" 2>/dev/null | grep '^3\.7\.' | tail -1)/bin/python3.7
if [ -x "$py37" ]; then
	mkdir -p "$WORK/3.7"
	"$py37" -c 'import sys, time; open(sys.argv[1], "w").write("1"); time.sleep(60)' "$WORK/3.7/ready" &
	OTHER_PID=$!
	for _ in $(seq 100); do [ -s "$WORK/3.7/ready" ] && break; sleep 0.1; done
	"$BIN/pycore-capture" -q -o "$WORK/3.7/core" "$OTHER_PID"
	kill -KILL "$OTHER_PID"; wait "$OTHER_PID" 2>/dev/null; OTHER_PID=
	err=$("$COREREAD" "$WORK/3.7/core" layout 2>&1 >/dev/null)
	rc=$?
	same "Python 3.7 is refused in one line, by its version [$("$py37" -c 'import platform; print(platform.python_version())')]" \
		"$rc $err" "11 coreread: Python $("$py37" -c 'import platform; print(platform.python_version())') is not supported (pycore reads 3.8 to 3.13)"
else
	skip "Python 3.7 is refused: no pyenv 3.7 build here"
fi
