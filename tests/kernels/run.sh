#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cgfw's kernel matrix: boot Debian's own kernels under qemu and run cgfw's
# end-to-end suites inside them, on a pure cgroup v2 hierarchy with controllers
# enabled. See tests/kernels/README.md.
#
#   tests/kernels/run.sh [--kernel 6.1|6.12|linux-image-PKG]... --build DIR
#                        [--src DIR] [--labels 'e2e|tc-e2e'] [--tests REGEX]
#                        [--timeout SECS] [--accel tcg|kvm|auto] [--cpus N]
#                        [--mem MIB] [--timeout-scale N]
#                        [--boot-config none|provide] [--cache DIR] [--out DIR]
#                        [--console] [--offline]
#
# Exit status: 0 every selected test passed in every guest; 1 a test failed,
# a guest did not boot, hit its timeout or a kernel could not be had; 77 the
# tools are missing (qemu-system-x86_64, a static busybox), nothing ran.
#
# Kernels come from apt only: `apt-get download` of the linux-image package
# into the cache (default /var/cache/cgfw-kernels) and `dpkg-deb -x`. The guest
# has no network device (-nic none), at most 2 vCPUs, bounded memory, and a hard
# timeout (qemu is killed after --timeout seconds). Only one guest runs at a
# time (a lock in the cache dir).

# The whole script is one compound command, read before it runs: editing the
# file during a run does not change the run.
{
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIP_RC=77

KERNELS=()
BUILD=
SRC=
LABELS="e2e|tc-e2e|policy-e2e|prog|tc-prog"
TESTS=
TIMEOUT=3600
ACCEL=tcg
CPUS=2
MEM=2048
SCALE=
BOOT_CONFIG=none
CACHE=${CGFW_KERNEL_CACHE:-/var/cache/cgfw-kernels}
OUT=
CONSOLE=0
OFFLINE=0

usage() {
	sed -n '/^#   tests\/kernels\/run.sh/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}
die() { echo "run.sh: $*" >&2; exit 1; }
skip() { echo "run.sh: SKIP: $*" >&2; exit $SKIP_RC; }
log() { echo "run.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) KERNELS+=("${2:?}"); shift ;;
	--build) BUILD=${2:?}; shift ;;
	--src) SRC=${2:?}; shift ;;
	--labels) LABELS=${2:?}; shift ;;
	--tests) TESTS=${2:?}; shift ;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	--accel) ACCEL=${2:?}; shift ;;
	--cpus) CPUS=${2:?}; shift ;;
	--mem) MEM=${2:?}; shift ;;
	--timeout-scale) SCALE=${2:?}; shift ;;
	--boot-config) BOOT_CONFIG=${2:?}; shift ;;
	--cache) CACHE=${2:?}; shift ;;
	--out) OUT=${2:?}; shift ;;
	--console) CONSOLE=1 ;;
	--offline) OFFLINE=1 ;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done

[ ${#KERNELS[@]} -gt 0 ] || KERNELS=(6.1 6.12)
[ -n "$BUILD" ] || { echo "run.sh: --build DIR is required" >&2; usage; }
case "$ACCEL" in tcg | kvm | auto) ;; *) die "--accel must be tcg, kvm or auto" ;; esac
case "$BOOT_CONFIG" in none | provide) ;; *) die "--boot-config must be none or provide" ;; esac
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] && [ "$TIMEOUT" -ge 60 ] || die "--timeout must be at least 60 (seconds)"
[[ "$CPUS" =~ ^[12]$ ]] || die "--cpus must be 1 or 2"
[[ "$MEM" =~ ^[0-9]+$ ]] && [ "$MEM" -ge 512 ] && [ "$MEM" -le 4096 ] || die "--mem must be 512..4096 (MiB)"
[[ "$LABELS" =~ ^[A-Za-z0-9_|-]+$ ]] || die "--labels: label names separated by '|'"
[ -z "$SCALE" ] || [[ "$SCALE" =~ ^[0-9]+$ ]] || die "--timeout-scale must be a whole number"

[ "$(id -u)" -eq 0 ] || skip "needs root (qemu's 9p export of / must read every file)"
QEMU=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (package qemu-system-x86)"
BUSYBOX=$(command -v busybox) || skip "busybox not installed (package busybox-static)"
case "$(ldd "$BUSYBOX" 2>&1)" in *"not a dynamic executable"*) ;; *) false ;; esac || skip "$BUSYBOX is not static (package busybox-static)"
for t in dpkg-deb timeout flock gzip; do
	command -v $t >/dev/null || skip "$t not installed"
done

BUILD=$(readlink -f "$BUILD")
[ -x "$BUILD/cli/cgfw" ] || die "no cgfw binary in $BUILD/cli (an existing build dir is needed)"
[ -f "$BUILD/CTestTestfile.cmake" ] || die "$BUILD has no CTestTestfile.cmake"
home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt" 2>/dev/null)
if [ -z "$SRC" ]; then
	SRC=${home:-$(cd "$HERE/../.." && pwd)}
fi
SRC=$(readlink -f "$SRC")
[ -z "$home" ] || [ "$(readlink -f "$home")" = "$SRC" ] ||
	log "warning: $BUILD was configured from $home, not $SRC (the tests run the scripts CMake recorded)"
[ -n "$OUT" ] || OUT=$BUILD/test-kernels
mkdir -p "$OUT" "$CACHE/debs" || die "cannot create $OUT or $CACHE"
OUT=$(readlink -f "$OUT")
CACHE=$(readlink -f "$CACHE")

# One guest at a time on this machine, and one writer of the cache.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	log "waiting for another kernel-matrix run (lock $CACHE/.lock)"
	flock -w 7200 9 || die "timed out waiting for $CACHE/.lock"
fi

# ---- kernels from apt, the initramfs: tests/kernels/lib.sh ----------------------

# shellcheck source=tests/kernels/lib.sh
source "$HERE/lib.sh"

# ---- the kconfig probe (host-built, run in the guest) -----------------------------
PROBE=
if command -v cc >/dev/null && [ -f /usr/include/bpf/libbpf.h ]; then
	mkdir -p "$OUT/bin"
	if cc -O1 -Wall -o "$OUT/bin/kconfig-probe" "$HERE/kconfig_probe.c" -lbpf 2>"$OUT/bin/cc.log"; then
		PROBE=$OUT/bin/kconfig-probe
	else
		log "warning: cannot build the kconfig probe: $(head -3 "$OUT/bin/cc.log")"
	fi
fi

# ---- qemu -------------------------------------------------------------------------

kvm_usable() {
	local dir=$1 vmlinuz=$2 initrd=$3
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || { log "kvm: /dev/kvm not usable"; return 1; }
	log "kvm: probing with a 60 s boot"
	# A subshell, so that bash's own "Aborted" for a crashing qemu goes nowhere.
	(timeout -k 5 60 "$QEMU" -nodefaults -no-user-config -nic none -display none -monitor none \
		-accel kvm -cpu host -smp 1 -m 256 -no-reboot -serial "file:$dir/kvm-probe.log" \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4 cgfw.probe=1" </dev/null >"$dir/kvm-probe.err" 2>&1; exit $?) 2>/dev/null
	grep -q "cgfw-init: probe ok" "$dir/kvm-probe.log" 2>/dev/null ||
		{ log "kvm: the probe boot did not finish ($(tail -1 "$dir/kvm-probe.err" 2>/dev/null)), using TCG"; return 1; }
}

q() { printf '%q' "$1"; }

# Boot one kernel and run the suites. Sets RC_ONE; results in $dir/share.
run_one() {
	local want=$1 dir vmlinuz accel cpu scale t0 qrc
	RC_ONE=1
	if ! get_kernel "$want"; then
		ROWS+=("$want|-|-|-|-|-|-|kernel not available")
		return
	fi
	dir="$OUT/$KREL"
	rm -rf "$dir"
	mkdir -p "$dir/share"
	[ -z "$PROBE" ] || cp "$PROBE" "$dir/share/kconfig-probe"
	vmlinuz=$(ls "$KDIR"/boot/vmlinuz-* | head -1)
	build_initramfs "$dir/initramfs.cpio.gz" || { ROWS+=("$KREL|$PKG $PKGVER|-|-|-|-|-|no initramfs"); return; }

	accel=$ACCEL
	if [ "$accel" = auto ]; then
		if kvm_usable "$dir" "$vmlinuz" "$dir/initramfs.cpio.gz"; then accel=kvm; else accel=tcg; fi
	fi
	cpu=qemu64
	[ "$accel" = kvm ] && cpu=host
	scale=${SCALE:-$([ "$accel" = kvm ] && echo 1 || echo 3)}

	{
		echo "BUILD=$(q "$BUILD")"
		echo "SRC=$(q "$SRC")"
		echo "KDIR=$(q "$KDIR")"
		echo "LABELS=$(q "$LABELS")"
		echo "TESTS=$(q "$TESTS")"
		echo "BUDGET=$((TIMEOUT - 30))"
		echo "TIMEOUT_SCALE=$scale"
		echo "BOOT_CONFIG=$BOOT_CONFIG"
		echo "PROBE=$([ -n "$PROBE" ] && echo /run/cgfw-kernel/out/kconfig-probe)"
	} >"$dir/share/guest.env"

	local serial=(-chardev "file,id=con,path=$dir/console.log" -serial chardev:con)
	[ $CONSOLE = 0 ] || serial=(-chardev "stdio,id=con,signal=off,logfile=$dir/console.log" -serial chardev:con)
	# shellcheck disable=SC2054 # qemu options are comma-separated
	local cmd=("$QEMU" -nodefaults -no-user-config -nic none -display none -monitor none
		-machine pc -accel "$accel" -cpu "$cpu" -smp "$CPUS" -m "$MEM" -no-reboot
		"${serial[@]}"
		-kernel "$vmlinuz" -initrd "$dir/initramfs.cpio.gz"
		-append "console=ttyS0 panic=-1 loglevel=4 tsc=reliable cgfw.guest=$HERE/guest.sh"
		-fsdev "local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=fsroot,mount_tag=cgfwroot
		-fsdev "local,id=fsout,path=$dir/share,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=fsout,mount_tag=cgfwout)
	printf '%q ' timeout -k 10 "$TIMEOUT" "${cmd[@]}" >"$dir/qemu.cmd"
	echo >>"$dir/qemu.cmd"
	log "booting $PKG $PKGVER ($KREL) under qemu ($accel, $CPUS vCPUs, $MEM MiB, timeout ${TIMEOUT}s); console: $dir/console.log"
	t0=$SECONDS
	timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null 2>"$dir/qemu.err"
	qrc=$?
	local secs=$((SECONDS - t0)) result
	if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
		result="timeout after ${secs}s"
	elif [ ! -f "$dir/share/status" ]; then
		result="guest gave no result (qemu exit $qrc; see console.log)"
	elif [ "$(cat "$dir/share/status")" = 0 ]; then
		result="pass"
		RC_ONE=0
	else
		result="FAIL"
	fi
	summarize "$dir" "$accel" "$secs" "$result"
}

# ---- summary ------------------------------------------------------------------------

ROWS=()
FAILS=()

# "passed/total" for a label, with what failed.
label_cell() {
	local tsv=$1 l=$2
	awk -F'\t' -v l="$l" '$1 == l { n++; if ($3 == "Passed") p++; else if ($3 == "Skipped") s++; else f++ }
		END { if (!n) { print "-"; exit }
		      c = p + 0 "/" n; if (f) c = c " (" f " failed)"; if (s) c = c " (" s " skipped)"; print c }' "$tsv"
}

summarize() {
	local dir=$1 accel=$2 secs=$3 result=$4 share="$1/share" cells="" l
	local KERNEL=$KREL CGROUP_MODE='?' CONTROLLERS='?' TC_MODE='?' OBJECTS_WITHOUT_CONFIG='?' ATTACH_NOCONFIG='?'
	local BOOT_CONFIG_FOR_TESTS='?'
	# shellcheck source=/dev/null
	[ -f "$share/facts.env" ] && . "$share/facts.env"
	IFS='|' read -ra ls <<<"$LABELS"
	for l in "${ls[@]}"; do
		if [ -f "$share/results.tsv" ]; then cells="$cells|$(label_cell "$share/results.tsv" "$l")"; else cells="$cells|-"; fi
	done
	local noconf tcm=$TC_MODE
	case "$ATTACH_NOCONFIG" in
	0*) noconf="cgfw attach works" ;;
	\?) noconf="?" ;;
	*) noconf="cgfw attach: exit ${ATTACH_NOCONFIG%%$'\t'*}, \"${ATTACH_NOCONFIG#*$'\t'}\"" ;;
	esac
	case "$OBJECTS_WITHOUT_CONFIG" in
	fail:*) noconf="${OBJECTS_WITHOUT_CONFIG#fail: } do not load; $noconf" ;;
	"all load") noconf="all objects load; $noconf" ;;
	esac
	[ "$tcm" != none ] || tcm="n/a (tc attach failed)"
	ROWS+=("$KERNEL|$PKG $PKGVER|$accel, ${secs}s|$CGROUP_MODE; controllers: $CONTROLLERS|$tcm|$noconf|$BOOT_CONFIG_FOR_TESTS$cells|$result")
	if [ -f "$share/results.tsv" ]; then
		while IFS=$'\t' read -r lab t st s; do
			[ "$st" = Passed ] || FAILS+=("$KERNEL: $t ($lab): $st${s:+ after ${s}s}")
		done <"$share/results.tsv"
	fi
	if grep -qE '(BUG:|Oops|WARNING:|Call Trace:|Kernel panic)' "$dir/console.log" 2>/dev/null; then
		FAILS+=("$KERNEL: kernel warnings on the console: $(grep -cE '(BUG:|Oops|WARNING:|Kernel panic)' "$dir/console.log") lines (see $dir/console.log)")
	fi
}

print_summary() {
	local hdr="| Kernel | Debian package | qemu, time | cgroup | tc attach (auto) | without /boot/config | config for the suites | " l r
	local sep="|---|---|---|---|---|---|---|"
	IFS='|' read -ra ls <<<"$LABELS"
	for l in "${ls[@]}"; do hdr="$hdr$l | "; sep="$sep---|"; done
	hdr="${hdr}result |"
	sep="$sep---|"
	{
		echo "$hdr"
		echo "$sep"
		for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
		if [ ${#FAILS[@]} -gt 0 ]; then
			echo
			echo "Not passed:"
			for r in "${FAILS[@]}"; do echo "- $r"; done
		fi
		echo
		echo "Logs: $OUT/<kernel>/{console.log,share/ctest.log,share/kconfig-probe.txt,share/cli-probe.txt}"
	} | tee "$OUT/summary.md"
}

rc=0
for k in "${KERNELS[@]}"; do
	run_one "$k"
	[ "$RC_ONE" = 0 ] || rc=1
done
print_summary
exit $rc
exit
}
