#!/usr/bin/env bash
# A process in a container, captured from the host (issue #6): a planted
# target (tests/targets/plant.py) runs in its own mount and pid namespaces,
# pivoted into a root whose /opt/py is the interpreter's install, a path
# the host does not have.  From the host, by its host pid, pycore-capture
# (snapshot and --no-fork) writes a core whose NT_FILE and PYCORE notes
# name /opt/py/..., with the build-ids of the real files, the ids the
# process knows itself by in NT_PRSTATUS/NT_PRPSINFO, and the namespaces
# note; pycore-report reads it exactly with or without --sysroot (the
# python note stands in for the binaries); a core without that note is
# refused in one line naming the in-container path, the build-id and
# --sysroot /proc/PID/root, and read exactly from the container's root, an
# image of it, or build-id links.  Debian's /usr/bin/python3.11 (built-in
# layouts) runs chrooted in such namespaces, whose paths the host sees
# under the root's path.  Needs root; all mounts are made inside the
# container's mount namespace and vanish with it.
. "$(dirname "$0")/../lib.sh"

PY3=/usr/bin/python3
NSCORE="$PY3 $TOP/tests/tools/nscore.py"
CENSUS=$TOP/tests/tools/census.py
REPORT=$BIN/pycore-report
WORK=$(mktemp -d)
CTR=             # the unshare process (on the host); its child is the target
stop_container() {
	[ -n "$CTR" ] || return 0
	kill -KILL "$CTR" 2>/dev/null   # --kill-child: its namespaces die with it
	wait "$CTR" 2>/dev/null
	CTR=
	TARGET_PID=
}
trap 'stop_container; rm -rf "$WORK"' EXIT

if [ "$(id -u)" != 0 ]; then
	skip "containers: needs root (namespaces, mounts, pivot_root)"
	exit 0
fi
for tool in unshare pivot_root mount; do
	command -v "$tool" >/dev/null || { skip "containers: $tool is not installed"; exit 0; }
done

# The newest pyenv interpreter and Debian's stripped one (the time
# budget); under sanitizers the pyenv one alone (the unit tests cover the
# C code only the chroot case runs).
pythons=$(find_pythons | awk '$1 !~ /^debian/' | sort -V | tail -1)
[ -n "${PYCORE_SANITIZED:-}" ] || pythons=$(find_pythons | awk '$1 ~ /^debian/'; echo "$pythons")
if [ -z "$(printf '%s' "$pythons" | tr -d '[:space:]')" ]; then
	skip "containers: no CPython 3.8-3.13 to run in one"
	exit 0
fi

# The container's start: private mounts, /usr and /etc read-only, the
# interpreter's install at /opt/py, the targets and an exchange directory,
# then pivot_root into it, a /proc of its own, and the old root gone, as
# container runtimes do; or (HOW=chroot) a chroot, whose paths the host
# sees under the root's own path.
cat >"$WORK/enter.sh" <<'EOF'
set -e
how=$1 root=$2 pyhome=$3 out=$4
shift 4
mount --make-rprivate /
mount --bind "$root" "$root"
for d in usr etc; do
	mount --rbind "/$d" "$root/$d"
	mount -o remount,bind,ro "$root/$d"
done
[ -z "$pyhome" ] || mount --bind -o ro "$pyhome" "$root/opt/py"
mount --bind "$TOP/tests/targets" "$root/targets"
mount --bind "$out" "$root/out"
if [ "$how" = chroot ]; then
	mount -t proc proc "$root/proc"
	exec chroot "$root" "$@"
fi
cd "$root"
pivot_root . old
cd /
mount -t proc proc /proc
umount -l /old
exec "$@"
EOF

# start_container HOW DIR PYHOME EXE: plant.py in a container rooted at
# DIR/root (PYHOME mounted at /opt/py when not empty), as EXE, entered by
# pivot_root or chroot (HOW); waits for DIR/out/ready.json.  Sets
# TARGET_PID to its pid on the host.  1 on failure.
start_container() {
	local how=$1 dir=$2 pyhome=$3 exe=$4 r=$2/root d
	for d in usr etc opt/py proc targets out old; do mkdir -p "$r/$d"; done
	for d in bin lib lib64; do [ -e "/$d" ] && ln -sfn "usr/$d" "$r/$d"; done
	mkdir -p "$dir/out"
	TOP=$TOP unshare --mount --pid --fork --kill-child \
		env LD_LIBRARY_PATH=/opt/py/lib bash "$WORK/enter.sh" "$how" "$r" "$pyhome" "$dir/out" \
		"$exe" /targets/plant.py /out --scale 300 >"$dir/target.out" 2>&1 &
	CTR=$!
	for _ in $(seq 300); do
		[ -s "$dir/out/ready.json" ] && break
		kill -0 "$CTR" 2>/dev/null || break
		sleep 0.05
	done
	TARGET_PID=$(cat "/proc/$CTR/task/$CTR/children" 2>/dev/null | awk '{ print $1 }')
	[ -s "$dir/out/ready.json" ] && [ -n "$TARGET_PID" ] && return 0
	sed 's/^/    /' "$dir/target.out" | head -5
	return 1
}

layout_of() { grep -o '"layout_source": *"[a-z-]*"' "$1" | sed 's/.*"\([a-z-]*\)"$/\1/'; }
json() { "$PY3" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The ids the target has in its own pid namespace, from the host's /proc.
ns_ids() {
	local t
	for t in /proc/"$TARGET_PID"/task/*; do
		awk '/^NSpid:/ { print $NF }' "$t/status"
	done | sort -n | tr '\n' ' '
}

# judge CHECK NAME DIR REPORT: a census.py check of a report against the truth.
judge() {
	check "$2" "$PY3" "$CENSUS" "$1" "$3/out/ready.json" "$3/out/census.json" "$4"
}

# check_core LABEL MODE DIR CORE PYHOME EXE HOW: the notes of a capture,
# against the truth in DIR/truth (the process's own ids, from ready.json).
check_core() {
	local label=$1 mode=$2 dir=$3 core=$4 pyhome=$5 exe=$6 how=$7 info=$3/info want
	$NSCORE --text "$core" >"$info"
	same "the capture note says the mode ($mode) [$label]" \
		"$(sed -n 's/^mode //p' "$info")" "$([ "$mode" = snapshot ] && echo 1 || echo 0)"
	# The python note's facts come from the process's binaries, as it
	# sees them (the host has no /opt/py).
	same "the python note was made from the binaries in the container ($mode) [$label]" \
		"$(sed -n 's/^python //p' "$info")" "$([ -n "$pyhome" ] && echo dwarf || echo builtin)"
	sed -n 's/^file //p' "$info" >"$dir/files"
	check "NT_FILE and the modules note name the files by their paths in the container ($how, $mode) [$label]" \
		sh -c "grep -qx '$exe' '$dir/files' && grep -qx 'module $exe [0-9a-f]*' '$info' &&
			{ [ -z '$pyhome' ] || grep -q '^module /opt/py/lib/libpython3' '$info'; } &&
			! grep -q '^$dir' '$dir/files' || { cat '$dir/files'; false; }"
	# Every module's build-id is its real file's: /opt/py is PYHOME here,
	# everything else is the host's (bind-mounted).
	sed -n "s|^module ||; T; s|^/opt/py/|$pyhome/|; p" "$info" >"$dir/ids.want"
	# shellcheck disable=SC2046
	$NSCORE --build-id $(awk '{ print $1 }' "$dir/ids.want") >"$dir/ids.got"
	check "the modules note's build-ids are those of the files in the container ($mode) [$label]" \
		sh -c "[ -s '$dir/ids.want' ] && diff '$dir/ids.want' '$dir/ids.got'"
	want="$TARGET_PID $(awk '/^NSpid:/ { print $NF }' /proc/"$TARGET_PID"/status)"
	[ "$how" = chroot ] && want="7 $want $dir/root" || want="3 $want /"
	same "the namespaces note: other mount and pid namespaces (and root), the pid here and inside ($how, $mode) [$label]" \
		"$(sed -n 's/^ns //p' "$info")" "$want"
	same "the namespaces note pairs every thread's id here with its id inside ($mode) [$label]" \
		"$(sed -n 's/^tids //p' "$info")" \
		"$(for t in /proc/"$TARGET_PID"/task/*; do awk '/^NSpid:/ { printf "%d:%d\n", $2, $NF }' "$t/status"; done | sort -n | tr '\n' ' ' | sed 's/ $//')"
	same "NT_PRSTATUS and NT_PRPSINFO carry the ids the process knows itself by, as the kernel writes them ($mode) [$label]" \
		"$(sed -n 's/^ids //p' "$info")" "$(sed -n 's/^ids //p' "$dir/truth")"
}

while read -r label py; do
	dir=$WORK/$label
	mkdir -p "$dir"
	case $label in
	debian*) pyhome= exe=$py how=chroot ;;
	*) pyhome=$(dirname "$(dirname "$py")") exe=/opt/py/bin/$(basename "$py") how=pivot_root ;;
	esac
	if ! start_container "$how" "$dir" "$pyhome" "$exe"; then
		skip "containers [$label]: no container could be started here (unshare, mount or pivot_root failed)"
		stop_container
		continue
	fi
	# The truth, as the process sees itself.
	json "$dir/out/ready.json" "'ids %s / %d\npid %d\nthreads %d' % (' '.join(map(str, sorted(t['native_id'] for t in d['threads']))), d['pid'], d['pid'], d['os_threads'])" >"$dir/truth"
	for mode in snapshot stopped; do
		opt=$([ "$mode" = stopped ] && echo --no-fork)
		# shellcheck disable=SC2086
		check "pycore-capture of a process in a container, by its host pid ($mode) [$label]" \
			"$BIN/pycore-capture" -q $opt -o "$dir/core.$mode" "$TARGET_PID"
		[ -s "$dir/core.$mode" ] && check_core "$label" "$mode" "$dir" "$dir/core.$mode" "$pyhome" "$exe" "$how"
	done
	same "no copy of the process is left in the container, not even a zombie [$label]" \
		"$(cat "/proc/$TARGET_PID/task/$TARGET_PID/children")" ""

	# The python note stands in for binaries the host does not have.
	core=$dir/core.snapshot
	if report "pycore-report reads the core without --sysroot [$label]" "$dir/r.json" \
		--format json "$core"; then
		judge planted "without --sysroot, the planted objects are exact (the python note) [$label]" "$dir" "$dir/r.json"
		judge process "without --sysroot, pid, threads, executable and library are the process's own [$label]" "$dir" "$dir/r.json"
	fi
	if report "pycore-report --sysroot /proc/PID/root reads the core [$label]" "$dir/root.json" \
		--format json --sysroot "/proc/$TARGET_PID/root" "$core"; then
		judge planted "with --sysroot /proc/PID/root, the planted objects are exact [$label]" "$dir" "$dir/root.json"
		judge threads "with --sysroot /proc/PID/root, every thread's id, name and frames are exact [$label]" "$dir" "$dir/root.json"
		[ -n "$pyhome" ] && same "with --sysroot /proc/PID/root, the layout is the binaries' DWARF [$label]" \
			"$(layout_of "$dir/root.json")" dwarf
	fi
	"$REPORT" --format text "$core" 2>&1 | head -4 | grep '^Process' >"$dir/header"
	same "the text report names the process by both pids [$label]" "$(cat "$dir/header")" \
		"Process $(sed -n 's/^pid //p' "$dir/truth") ($TARGET_PID outside its pid namespace): $(sed -n 's/^threads //p' "$dir/truth") threads, 3 Python thread states"

	if [ -n "$pyhome" ]; then
		# A core with no python note (as gdb and the kernel write them)
		# needs the container's binaries.
		$NSCORE --hide-python "$core" "$dir/core.bare"
		refused_in_one_line "without the container's binaries, a core is refused naming the path inside, the build-id and --sysroot /proc/PID/root [$label]" \
			"^pycore-report: .*/opt/py/[^ ]*python3[^ ]* \(build-id [0-9a-f]{40}\) is needed and was not found: the process ran in a container: give --sysroot .*/proc/$TARGET_PID/root" \
			"$REPORT" --format json "$dir/core.bare"
		# Files of other builds at the container's paths are not used.
		mkdir -p "$dir/other/opt/py/bin" "$dir/other/opt/py/lib"
		ln -s /usr/bin/python3.11 "$dir/other$exe"
		for f in "$pyhome"/lib/libpython3*.so.1.0; do
			ln -s /usr/lib/x86_64-linux-gnu/libc.so.6 "$dir/other/opt/py/lib/$(basename "$f")"
		done
		refused_in_one_line "a file of another build at the container's path is not used, and the error says so [$label]" \
			"/opt/py/[^ ]* \(build-id [0-9a-f]{40}\) is needed and was not found \($dir/other/opt/py/[^ ]* has another build-id\)" \
			"$REPORT" --format json --sysroot "$dir/other" "$dir/core.bare"
		if report "pycore-report --sysroot /proc/PID/root reads a core with no python note [$label]" \
			"$dir/bare.json" --format json --sysroot "/proc/$TARGET_PID/root" "$dir/core.bare"; then
			judge planted "a core with no python note, --sysroot /proc/PID/root: the planted objects are exact [$label]" "$dir" "$dir/bare.json"
		fi
		# The container's image on the host: its /opt/py is the install.
		mkdir -p "$dir/image/opt"
		ln -s "$pyhome" "$dir/image/opt/py"
		if report "pycore-report --sysroot IMAGE reads a core with no python note [$label]" \
			"$dir/image.json" --format json --sysroot "$dir/image" "$dir/core.bare"; then
			judge planted "a core with no python note, --sysroot of the image: the planted objects are exact [$label]" "$dir" "$dir/image.json"
		fi
		# Found by build-id alone: .build-id/xx/yyyy links, as Fedora keeps them.
		sed -n 's|^module \(/opt/py/\)|\1|p' "$dir/info" |
		while read -r path id; do
			mkdir -p "$dir/ids/usr/lib/.build-id/${id:0:2}"
			ln -s "$pyhome${path#/opt/py}" "$dir/ids/usr/lib/.build-id/${id:0:2}/${id:2}"
		done
		if report "pycore-report finds the container's binaries by their build-id links [$label]" \
			"$dir/ids.json" --format json --sysroot "$dir/ids" "$dir/core.bare"; then
			same "binaries found by build-id give the layout from their DWARF [$label]" \
				"$(layout_of "$dir/ids.json")" dwarf
		fi
	fi
	stop_container

	# Binaries deleted since they were mapped (an upgrade under a running
	# service; a container's layer gone): read through /proc/PID/map_files.
	if [ -n "$pyhome" ] && [ -z "${PYCORE_SANITIZED:-}" ]; then
		gone=$dir/gone
		mkdir -p "$gone/bin" "$gone/lib" "$dir/g"
		cp "$py" "$gone/bin/"
		cp "$pyhome"/lib/libpython3*.so.1.0 "$gone/lib/"
		ln -s "$pyhome/lib/$(basename "$py")" "$gone/lib/"
		if TARGET_ENV="LD_LIBRARY_PATH=$gone/lib" start_target "$gone/bin/$(basename "$py")" \
			plant.py "$dir/g" --scale 300; then
			rm "$gone/bin/$(basename "$py")" "$gone"/lib/libpython3*.so.1.0
			"$BIN/pycore-capture" -q -o "$dir/core.gone" "$TARGET_PID"
			: >"$dir/g/stop"
			stop_target
			$NSCORE --text "$dir/core.gone" >"$dir/gone.info"
			same "binaries deleted since they were mapped still give the python note its facts (map_files) [$label]" \
				"$(sed -n 's/^python //p' "$dir/gone.info") $(grep -c '^module .*libpython.* (deleted) [0-9a-f]\{40\}$' "$dir/gone.info")" \
				"dwarf 1"
		else
			fail "plant.py starts with its binaries copied [$label]"
		fi
	fi
	rm -rf "$dir"
done < <(printf '%s\n' "$pythons" | grep .)
