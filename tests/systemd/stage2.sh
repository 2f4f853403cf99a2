#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Stage 2 of a tests/systemd guest: PID 1 for a moment on the overlay root
# (this machine's files read-only over 9p under a tmpfs, switched to by
# tests/kernels/init), before systemd. It does what an image build or a
# package installation would have done on a real machine, then execs
# /lib/systemd/systemd:
#
#   - /var/lib/cgfw is the 9p share cgfwstate, kept by the host from boot to
#     boot (the only state that survives); /var/lib/cgfw-test the share
#     cgfwtest (guest.env in, what each boot records out, in bootN/);
#   - cgfw installed with `cmake --install BUILD --prefix /usr` and
#     `systemctl enable cgfw-restore.service` (offline, as a package's postinst
#     would on an image);
#   - the test units of units.sh (the demo service with the installed drop-in
#     example, the control service without it, the test target and driver);
#   - what would slow a TCG boot down or wait for hardware masked; an empty
#     fstab (the host's is a container's);
#   - 192.0.2.1-3 on lo: the destinations the test services send to (UDP, to
#     the guest's own loopback; the guest has no network device).
#
# The phase (1: first boot, apply the policy; 2: reboot, check) is cgfw.phase=
# on the kernel command line.
{
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb
umask 022

fatal() {
	echo "cgfw-stage2: FATAL: $*" >/dev/console
	[ -z "${REC:-}" ] || echo "stage2: $*" >"$REC/stage2.failed"
	sync
	busybox poweroff -f
	sleep 5
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# The lower layer's /run is this machine's (stale sockets, /run/systemd/system,
# netns files): a fresh one, as systemd would mount it, which it keeps.
mount -t tmpfs -o mode=0755,nosuid,nodev,size=20%,nr_inodes=800k tmpfs /run
# This machine is a container (/.dockerenv): systemd would take the guest, a
# virtual machine, for one, and then read its options from PID 1's argv, not
# the kernel command line (systemd.unit= would be ignored). Removed from the
# overlay only.
rm -f /.dockerenv /.containerenv

PHASE=
for arg in $(cat /proc/cmdline); do
	case "$arg" in cgfw.phase=*) PHASE=${arg#cgfw.phase=} ;; esac
done
case "$PHASE" in 1 | 2) ;; *) fatal "no cgfw.phase=1|2 on the kernel command line" ;; esac

# The kept state, where a real machine has it: on the root filesystem, there
# before PID 1 starts. No cache: every write goes to the host at once.
mkdir -p /var/lib/cgfw /var/lib/cgfw-test
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 cgfwstate /var/lib/cgfw ||
	fatal "cannot mount the state share (cgfwstate) at /var/lib/cgfw"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 cgfwtest /var/lib/cgfw-test ||
	fatal "cannot mount the test share (cgfwtest) at /var/lib/cgfw-test"
[ -f /var/lib/cgfw-test/guest.env ] || fatal "no guest.env in the test share"
# shellcheck source=/dev/null
. /var/lib/cgfw-test/guest.env
: "${BUILD:?}" "${HERE:?}" "${KREL:?}"
BREAK=" ${BREAK:-} "
REC=/var/lib/cgfw-test/boot$PHASE
mkdir -p "$REC"
echo "$PHASE" >/var/lib/cgfw-test/phase

exec > >(tee "$REC/stage2.log" >/dev/console) 2>&1
log() { echo "cgfw-stage2: $*"; }
log "boot $PHASE, kernel $(uname -r), uptime $(cut -d' ' -f1 /proc/uptime)s"
log "/var/lib/cgfw at boot: $(ls -A /var/lib/cgfw | tr '\n' ' ')"
ls -la /var/lib/cgfw >"$REC/var-lib-cgfw.at-boot.txt" 2>&1

# A fresh /tmp, as on a booted machine: systemd-tmpfiles would otherwise empty
# this machine's (D /tmp) through the overlay, minutes under TCG. The build and
# source trees, when under /tmp here, are bound back.
mkdir -p /run/cgfw-test/hosttmp
mount --bind /tmp /run/cgfw-test/hosttmp || fatal "cannot bind /tmp"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fatal "cannot mount a tmpfs at /tmp"
for d in "$BUILD" "${SRC:-}" "$HERE"; do
	case "$d" in
	/tmp/*)
		mkdir -p "$d"
		mount --bind "/run/cgfw-test/hosttmp/${d#/tmp/}" "$d" || fatal "cannot bind $d back"
		;;
	esac
done

# ---- cgfw, installed as on a real machine ------------------------------------
t0=$SECONDS
if ! cmake --install "$BUILD" --prefix /usr >"$REC/install.log" 2>&1; then
	cat "$REC/install.log"
	fatal "cmake --install $BUILD --prefix /usr failed"
fi
log "cmake --install $BUILD --prefix /usr: $((SECONDS - t0))s"
[ -x /usr/sbin/cgfw ] || fatal "no /usr/sbin/cgfw after the install"
find /usr/lib/systemd/system -name 'cgfw*' >"$REC/installed-units.txt"
if [ "$PHASE" = 2 ] && [[ "$BREAK" == *" restore "* ]]; then
	# run.sh --break restore: the checks must fail.
	log "BREAK: cgfw-restore.service left disabled"
	: >"$REC/enable.log"
else
	systemctl enable cgfw-restore.service >"$REC/enable.log" 2>&1 ||
		fatal "systemctl enable cgfw-restore.service failed: $(cat "$REC/enable.log")"
	cat "$REC/enable.log"
fi

# ---- the machine ------------------------------------------------------------------
echo "# none: the root is the initramfs's overlay (tests/systemd)" >/etc/fstab
hostname cgfw-systemd-guest
echo cgfw-systemd-guest >/etc/hostname
# Units that wait for hardware or a network, timers, gettys, first-boot and
# update jobs: none of them is in the path under test, all of them are slow
# under TCG or never finish without a NIC.
for u in getty@tty1.service serial-getty@ttyS0.service console-getty.service \
	systemd-timesyncd.service systemd-pstore.service systemd-networkd-wait-online.service \
	networking.service ifupdown-pre.service systemd-udev-trigger.service systemd-udev-settle.service \
	ldconfig.service systemd-hwdb-update.service systemd-journal-catalog-update.service \
	systemd-update-done.service systemd-firstboot.service systemd-random-seed.service \
	systemd-binfmt.service proc-sys-fs-binfmt_misc.automount systemd-modules-load.service \
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
	fstrim.timer man-db.timer podman-auto-update.timer systemd-tmpfiles-clean.timer \
	podman.socket; do
	ln -sf /dev/null "/etc/systemd/system/$u"
done
# The loopback addresses the test services send to (the policy's rules).
ip link set lo up
for a in 192.0.2.1 192.0.2.2 192.0.2.3; do
	ip addr add "$a/32" dev lo || fatal "cannot add $a to lo"
done

# ---- the test units -------------------------------------------------------------
# shellcheck source=units.sh
. "$HERE/units.sh" || fatal "cannot source $HERE/units.sh"
write_units "$PHASE" "$REC" || fatal "cannot write the test units"
systemctl enable cgfw-demo.service cgfw-control.service >>"$REC/enable.log" 2>&1 ||
	fatal "systemctl enable of the test services failed: $(cat "$REC/enable.log")"
systemctl list-unit-files 'cgfw*' --no-pager >"$REC/unit-files.txt" 2>&1

log "exec /lib/systemd/systemd (uptime $(cut -d' ' -f1 /proc/uptime)s)"
date +%s.%N >"$REC/stage2.exec-systemd"
sync
exec >/dev/console 2>&1
exec /lib/systemd/systemd
}
