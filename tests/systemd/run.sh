#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cgfw under a real systemd at boot: two boots of Debian's own 6.1 kernel under
# qemu (TCG, -nic none), systemd as PID 1 on a copy-on-write root (this
# machine's files read-only over virtio-9p under a tmpfs overlay, the initramfs
# of tests/kernels), only /var/lib/cgfw kept from one boot to the next (a 9p
# share of OUT/var-lib-cgfw). tests/systemd/README.md has the details.
#
#   tests/systemd/run.sh BUILD [SRC] [--kernel 6.1|linux-image-PKG]
#                        [--timeout SECS] [--lock-wait SECS] [--out DIR]
#                        [--cache DIR] [--console] [--offline]
#                        [--break restore|dropin]
#
# Both boots: stage2.sh installs BUILD into the guest's root (cmake --install
# --prefix /usr), enables cgfw-restore.service, writes the test units
# (units.sh) and execs systemd with systemd.unit=cgfw-test.target. Two test
# services run service.sh, whose first command sends UDP datagrams on lo:
# cgfw-demo.service with the installed drop-in cgfw-enforce.conf.example,
# cgfw-control.service without it. driver.sh records what happened.
# Boot 1: nothing saved (cgfw-restore.service skipped by its condition); the
# driver applies a policy for both services with `cgfw policy apply` and the
# guest powers off. Boot 2: a fresh root, the same install and units; check.py
# (here, on the host) then requires that cgfw-restore.service ran and left the
# services' workloads pending, that the demo's drop-in attached its cgroup, and
# that the demo's very first datagrams were already dropped by the policy while
# the control's (no drop-in) were not.
#
# --break restore (cgfw-restore.service not enabled) and --break dropin (the
# demo without the drop-in) change boot 2 so that the checks must fail: a
# self-test of the test. --lock-wait: seconds to wait for another qemu guest of
# this machine (default 1800); --timeout: seconds per boot (default 660).
#
# Exit status: 0 every check passed; 1 a check failed, a guest did not boot or
# hit its timeout, or the lock was not had in time; 77 skipped (not root,
# qemu-system-x86_64, a static busybox, systemd or a kernel missing).

# The whole script is one compound command, read before it runs.
{
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KHERE=$(cd "$HERE/../kernels" && pwd)
SKIP_RC=77

BUILD=
SRC=
KERNEL=6.1
TIMEOUT=660
OUT=
CACHE=${CGFW_KERNEL_CACHE:-/var/cache/cgfw-kernels}
CONSOLE=0
OFFLINE=0
LOCK_WAIT=1800
BREAK=

usage() {
	sed -n '/^#   tests\/systemd\/run.sh/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}
die() { echo "run.sh: $*" >&2; exit 1; }
skip() { echo "run.sh: SKIP: $*" >&2; exit $SKIP_RC; }
log() { echo "run.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) KERNEL=${2:?}; shift ;;
	--timeout) TIMEOUT=${2:?}; shift ;;
	--lock-wait) LOCK_WAIT=${2:?}; shift ;;
	--break)
		case "$2" in restore | dropin) BREAK="$BREAK $2" ;; *) echo "run.sh: --break restore|dropin" >&2; usage ;; esac
		shift
		;;
	--out) OUT=${2:?}; shift ;;
	--cache) CACHE=${2:?}; shift ;;
	--console) CONSOLE=1 ;;
	--offline) OFFLINE=1 ;;
	-h | --help) usage 0 ;;
	-*) echo "run.sh: unknown option '$1'" >&2; usage ;;
	*)
		if [ -z "$BUILD" ]; then BUILD=$1
		elif [ -z "$SRC" ]; then SRC=$1
		else echo "run.sh: unexpected argument '$1'" >&2; usage; fi
		;;
	esac
	shift
done
[ -n "$BUILD" ] || { echo "run.sh: BUILD is required" >&2; usage; }
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] && [ "$TIMEOUT" -ge 120 ] || die "--timeout must be at least 120 (seconds, per boot)"
[[ "$LOCK_WAIT" =~ ^[0-9]+$ ]] || die "--lock-wait must be a number of seconds"

[ "$(id -u)" -eq 0 ] || skip "needs root (qemu's 9p export of / must read every file)"
QEMU=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (package qemu-system-x86)"
BUSYBOX=$(command -v busybox) || skip "busybox not installed (package busybox-static)"
case "$(ldd "$BUSYBOX" 2>&1)" in *"not a dynamic executable"*) ;; *) false ;; esac || skip "$BUSYBOX is not static (package busybox-static)"
[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd on this machine (package systemd): the guest boots this machine's files"
for t in dpkg-deb timeout flock gzip cmake; do
	command -v $t >/dev/null || skip "$t not installed"
done
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3) || skip "python3 not installed"

BUILD=$(readlink -f "$BUILD")
[ -x "$BUILD/cli/cgfw" ] || die "no cgfw binary in $BUILD/cli (an existing build dir is needed)"
[ -f "$BUILD/cmake_install.cmake" ] || die "$BUILD has no cmake_install.cmake"
home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt" 2>/dev/null)
[ -n "$SRC" ] || SRC=${home:-$(cd "$HERE/../.." && pwd)}
SRC=$(readlink -f "$SRC")
[ -n "$OUT" ] || OUT=$BUILD/test-systemd
mkdir -p "$OUT" "$CACHE/debs" || die "cannot create $OUT or $CACHE"
OUT=$(readlink -f "$OUT")
CACHE=$(readlink -f "$CACHE")

# One guest at a time on this machine (the kernel matrix takes the same lock).
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	log "waiting up to ${LOCK_WAIT}s for another qemu guest (lock $CACHE/.lock)"
	# In the background, so that a signal ends the wait (and the waiting flock).
	flock -w "$LOCK_WAIT" 9 &
	lpid=$!
	trap 'kill $lpid 2>/dev/null; exit 1' INT TERM HUP
	wait $lpid || die "timed out waiting for $CACHE/.lock"
	trap - INT TERM HUP
fi

# ---- the kernel and the initramfs: tests/kernels/lib.sh, as the kernel matrix ---

# shellcheck source=tests/kernels/lib.sh
source "$KHERE/lib.sh"

# ---- the run -------------------------------------------------------------------

get_kernel "$KERNEL" || skip "no kernel for '$KERNEL' from apt or in $CACHE"
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* | head -1)

# OUT/var-lib-cgfw is the guest's /var/lib/cgfw in both boots (tag cgfwstate);
# OUT/var-lib-cgfw-test its /var/lib/cgfw-test (tag cgfwtest): guest.env from
# here, boot1/ and boot2/ with what each boot recorded. Nothing else survives a
# boot: the root's upper layer is a tmpfs.
QPID=
cleanup() {
	[ -z "$QPID" ] || kill "$QPID" 2>/dev/null
	rm -rf "$OUT"/initramfs.?????? 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

rm -rf "$OUT/var-lib-cgfw" "$OUT/var-lib-cgfw-test" "$OUT"/boot[12] "$OUT/checks.txt" "$OUT/summary.md"
mkdir -p "$OUT/var-lib-cgfw" "$OUT/var-lib-cgfw-test" "$OUT/boot1" "$OUT/boot2"
chmod 755 "$OUT/var-lib-cgfw"
build_initramfs "$OUT/initramfs.cpio.gz" || die "cannot build the initramfs"

q() { printf '%q' "$1"; }
{
	echo "BUILD=$(q "$BUILD")"
	echo "SRC=$(q "$SRC")"
	echo "HERE=$(q "$HERE")"
	echo "KREL=$(q "$KREL")"
	echo "BREAK=$(q "${BREAK# }")"
} >"$OUT/var-lib-cgfw-test/guest.env"

declare -A BOOT_SECS BOOT_RESULT
boot() {
	local n=$1 dir t0 qrc
	dir=$OUT/boot$n
	local serial=(-chardev "file,id=con,path=$dir/console.log" -serial chardev:con)
	[ $CONSOLE = 0 ] || serial=(-chardev "stdio,id=con,signal=off,logfile=$dir/console.log" -serial chardev:con)
	# systemd.unit: a target that pulls sysinit.target (cgfw-restore.service),
	# the test services and the test driver, not multi-user.target's gettys,
	# networking and timers (stage2.sh writes it). No NIC (-nic none): nothing
	# waits for a network.
	local append="console=ttyS0 panic=-1 loglevel=4 tsc=reliable cgfw.guest=$HERE/stage2.sh"
	append="$append cgfw.phase=$n systemd.unit=cgfw-test.target systemd.show_status=1"
	append="$append systemd.unified_cgroup_hierarchy=1 systemd.log_target=console"
	# shellcheck disable=SC2054 # qemu options are comma-separated
	local cmd=("$QEMU" -nodefaults -no-user-config -nic none -display none -monitor none
		-machine pc -accel tcg -cpu qemu64 -smp 2 -m 2048 -no-reboot
		"${serial[@]}"
		-kernel "$VMLINUZ" -initrd "$OUT/initramfs.cpio.gz" -append "$append"
		-fsdev "local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=fsroot,mount_tag=cgfwroot
		-fsdev "local,id=fsstate,path=$OUT/var-lib-cgfw,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=fsstate,mount_tag=cgfwstate
		-fsdev "local,id=fstest,path=$OUT/var-lib-cgfw-test,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=fstest,mount_tag=cgfwtest)
	printf '%q ' timeout -k 10 "$TIMEOUT" "${cmd[@]}" >"$dir/qemu.cmd"
	echo >>"$dir/qemu.cmd"
	log "boot $n: $PKG $PKGVER ($KREL), systemd as PID 1, TCG, timeout ${TIMEOUT}s; console: $dir/console.log"
	t0=$SECONDS
	timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null 2>"$dir/qemu.err" &
	QPID=$!
	wait $QPID
	qrc=$?
	QPID=
	BOOT_SECS[$n]=$((SECONDS - t0))
	if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
		BOOT_RESULT[$n]="timeout after ${BOOT_SECS[$n]}s"
	elif [ ! -f "$OUT/var-lib-cgfw-test/boot$n/done" ]; then
		BOOT_RESULT[$n]="no result from the guest (qemu exit $qrc; see $dir/console.log)"
	else
		BOOT_RESULT[$n]="powered off after ${BOOT_SECS[$n]}s"
	fi
	log "boot $n: ${BOOT_RESULT[$n]}"
	# What the guest recorded, next to the console log.
	cp -a "$OUT/var-lib-cgfw-test/boot$n/." "$dir/" 2>/dev/null
	[ -f "$OUT/var-lib-cgfw-test/boot$n/done" ]
}

RC=0
if boot 1; then
	cp -a "$OUT/var-lib-cgfw" "$OUT/boot1/var-lib-cgfw.after"
	boot 2 || RC=1
else
	RC=1
fi

# ---- the checks ------------------------------------------------------------------
"$PY" "$HERE/check.py" "$OUT" "${BOOT_RESULT[1]:-not booted}" "${BOOT_RESULT[2]:-not booted}" \
	"$PKG $PKGVER ($KREL)" "${BOOT_SECS[1]:-0}" "${BOOT_SECS[2]:-0}" "${BREAK# }" | tee "$OUT/summary.md"
crc=${PIPESTATUS[0]}
[ "$crc" -eq 0 ] || RC=1
log "logs: $OUT/boot{1,2}/{console.log,stage2.log,journal.txt,...}, summary $OUT/summary.md"
exit $RC
}
