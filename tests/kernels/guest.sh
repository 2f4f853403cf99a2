#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Stage 2 of a cgfw kernel-matrix guest, PID 1 on the overlay root (the host's
# files read-only over 9p under a tmpfs). Sets the machine up as a stock
# systemd host would be, probes the facts, runs the requested ctest suites of an
# existing build dir and leaves everything in the 9p output share (tag
# cgfwout), then powers off. run.sh writes the share's guest.env and reads the
# rest:
#
#   status          exit status of the guest run: 0 all passed, 1 otherwise
#   facts.env       KEY=value facts (kernel, cgroup mode, tc mode, ...)
#   kconfig-probe.txt  which BPF objects load without the kernel config, externs
#   cli-probe.txt   cgfw status/attach/tc attach with and without the config
#   ctest.log       the ctest output
#   results.tsv     label <TAB> test <TAB> status <TAB> seconds
#   guest.log       this script's whole output (also on the serial console)
#
# Layout of the guest:
#   /proc /sys /dev (devtmpfs) /dev/pts /dev/shm /dev/mqueue; /run and /tmp
#   tmpfs (the source and build trees, when under /tmp on the host, are bound
#   back into the new /tmp); bpffs at /sys/fs/bpf; a pure cgroup v2 hierarchy
#   at /sys/fs/cgroup (nsdelegate,memory_recursiveprot as systemd mounts it)
#   with every available controller enabled in the root's and system.slice's
#   subtree_control; PID 1 in /init.scope, the tests in
#   /system.slice/cgfw-tests.service; loopback up, no other interface; the
#   kernel's modules from its .deb at /lib/modules/$(uname -r), loaded on demand
#   through busybox modprobe.

# The whole script is one compound command, read before it runs: editing the
# file during a run does not change the run.
{
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb SHELL=/bin/bash
umask 022

OUT=/run/cgfw-kernel/out

poweroff_now() {
	sync
	busybox poweroff -f
	sleep 5
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
# Keep a handle on the overlay's /tmp before a tmpfs covers it.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/cgfw-kernel/out /run/cgfw-kernel/hosttmp /run/cgfw-kernel/bin
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 cgfwout "$OUT"; then
	echo "cgfw-guest: FATAL: cannot mount the output share (cgfwout)" >/dev/console
	poweroff_now
fi
if [ ! -f "$OUT/guest.env" ]; then
	echo "cgfw-guest: FATAL: no guest.env in the output share" >/dev/console
	poweroff_now
fi
# shellcheck source=/dev/null
. "$OUT/guest.env"
: "${BUILD:?}" "${SRC:?}" "${KDIR:?}" "${LABELS:?}"
: "${TESTS:=}" "${BUDGET:=600}" "${TIMEOUT_SCALE:=1}" "${BOOT_CONFIG:=none}" "${PROBE:=}"

# Everything below goes to the console and to guest.log.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
exec > >(tee "$OUT/guest.log" >/dev/console) 2>&1
TEE_PID=$!

log() { echo "cgfw-guest: $*"; }
fact() { printf '%s=%q\n' "$1" "$2" >>"$OUT/facts.env"; }
: >"$OUT/facts.env"

# ---- mounts ---------------------------------------------------------------------
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
for f in stdin:0 stdout:1 stderr:2; do
	[ -e "/dev/${f%:*}" ] || ln -s "/proc/self/fd/${f#*:}" "/dev/${f%:*}"
done
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf -o mode=700 bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

mount --bind /tmp /run/cgfw-kernel/hosttmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
for d in "$SRC" "$BUILD" "$KDIR"; do
	case "$d" in
	/tmp/*)
		mkdir -p "$d"
		mount --bind "/run/cgfw-kernel/hosttmp/${d#/tmp/}" "$d" || log "cannot bind $d back"
		;;
	esac
done

hostname cgfw-guest
ip link set lo up

KREL=$(uname -r)
# The kernel's own modules, and a modprobe for the kernel to call (busybox's
# reads the modules.dep/modules.alias that run.sh made with busybox depmod).
if [ -d "$KDIR/lib/modules/$KREL" ]; then
	mkdir -p "/lib/modules/$KREL"
	mount --bind "$KDIR/lib/modules/$KREL" "/lib/modules/$KREL"
fi
ln -sf "$(command -v busybox)" /run/cgfw-kernel/bin/modprobe
echo /run/cgfw-kernel/bin/modprobe >/proc/sys/kernel/modprobe

# The kernel config as the guest sees it: the host's /boot does not match this
# kernel. Hide a matching one (a host that runs this very kernel) for the probe.
if [ -e "/boot/config-$KREL" ]; then
	log "hiding /boot/config-$KREL (the host's own) for the probe"
	rm -f "/boot/config-$KREL"
fi

# ---- cgroup v2, as a systemd host has it -----------------------------------------
CG=/sys/fs/cgroup
enable_all() {
	local c bad=
	for c in $(cat "$CG/cgroup.controllers"); do
		echo "+$c" >"$1/cgroup.subtree_control" 2>/dev/null || bad="$bad $c"
	done
	[ -z "$bad" ] || log "could not enable in $1:$bad"
}
enable_all "$CG"
mkdir -p "$CG/init.scope" "$CG/system.slice/cgfw-tests.service"
echo $$ >"$CG/init.scope/cgroup.procs"
enable_all "$CG/system.slice"

cgroup_mode() {
	local v1 v2
	v2=$(awk '$3 == "cgroup2" { print $2 }' /proc/mounts | tr '\n' ' ')
	v1=$(awk '$3 == "cgroup" { print $2 }' /proc/mounts | tr '\n' ' ')
	if [ -n "$v2" ] && [ -z "$v1" ]; then echo "v2 (pure, ${v2% })"
	elif [ -n "$v2" ]; then echo "hybrid (v2 at ${v2% })"
	else echo "v1"; fi
}

fact KERNEL "$KREL"
fact KERNEL_VERSION "$(cat /proc/version)"
fact CGROUP_MODE "$(cgroup_mode)"
fact CONTROLLERS "$(cat $CG/cgroup.subtree_control)"
fact SYSTEM_SLICE_CONTROLLERS "$(cat $CG/system.slice/cgroup.subtree_control)"
fact BTF "$([ -e /sys/kernel/btf/vmlinux ] && echo yes || echo no)"
fact BOOT_CONFIG_AT_START "$([ -e /boot/config-$KREL ] && echo present || echo absent)"
fact PROC_CONFIG_GZ "$([ -e /proc/config.gz ] && echo present || echo absent)"
fact NPROC "$(nproc)"
fact MEM_KB "$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
fact NICS "$(ls /sys/class/net | tr '\n' ' ')"
log "kernel $KREL, cgroup $(cgroup_mode), controllers: $(cat $CG/cgroup.subtree_control)"
log "interfaces: $(ls /sys/class/net | tr '\n' ' ')"

# ---- probes --------------------------------------------------------------------
CGFW=$BUILD/cli/cgfw

# cgfw commands on a throwaway state, cgroup and netns; prints the results.
# $1 = label of this round; sets TC_MODE from `cgfw tc list --json`.
cli_probe() {
	local tag=$1 ns=cgfw-kprobe cgrel=cgfw-kprobe.slice out rc
	export CGFW_BPFFS_ROOT=/sys/fs/bpf/cgfw-kprobe CGFW_STATE_DIR=/run/cgfw-kernel/probe-state
	echo "== cgfw probe, $tag (/boot/config-$KREL: $([ -e "/boot/config-$KREL" ] && echo present || echo absent))"
	mkdir -p "$CG/$cgrel"
	for cmd in "status" "attach $cgrel" "block 203.0.113.7 --cgroup $cgrel" "list"; do
		# shellcheck disable=SC2086
		out=$("$CGFW" $cmd 2>&1)
		rc=$?
		printf '$ cgfw %s\n%s\n[exit %d]\n' "$cmd" "$out" $rc
		[ "$cmd" != "attach $cgrel" ] || printf '%s\t%s\n' "$rc" "$(echo "$out" | head -1)" >"/run/cgfw-kernel/attach.$tag"
	done
	ip netns add $ns
	ip -n $ns link add kp0 type veth peer name kp1
	ip -n $ns link set kp0 up
	ip -n $ns link set kp1 up
	out=$(nsenter --net=/run/netns/$ns "$CGFW" tc attach kp0 2>&1)
	rc=$?
	printf '$ cgfw tc attach kp0   (in netns %s)\n%s\n[exit %d]\n' $ns "$out" $rc
	printf '%s\t%s\n' "$rc" "$(echo "$out" | head -1)" >"/run/cgfw-kernel/tcattach.$tag"
	out=$(nsenter --net=/run/netns/$ns "$CGFW" tc list --json 2>&1)
	printf '$ cgfw tc list --json\n%s\n' "$out"
	TC_MODE=$(echo "$out" | python3 -c 'import json,sys
try: print(",".join(i["mode"] for i in json.load(sys.stdin)["interfaces"]) or "none")
except Exception: print("none")' 2>/dev/null)
	printf '$ tc filter show dev kp0 ingress\n%s\n' "$(nsenter --net=/run/netns/$ns tc filter show dev kp0 ingress 2>&1)"
	nsenter --net=/run/netns/$ns "$CGFW" tc detach kp0 >/dev/null 2>&1
	"$CGFW" reset --yes >/dev/null 2>&1
	ip netns del $ns
	rmdir "$CG/$cgrel" 2>/dev/null
	rm -rf "$CGFW_BPFFS_ROOT" "$CGFW_STATE_DIR"
	unset CGFW_BPFFS_ROOT CGFW_STATE_DIR
}

KCONF=$KDIR/boot/config-$KREL
if [ -n "$PROBE" ] && [ -x "$PROBE" ]; then
	objs=$(ls "$BUILD"/skel/*.bpf.o "$BUILD"/tests/e2e/*.bpf.o 2>/dev/null)
	# shellcheck disable=SC2086
	CGFW_PROBE_KCONFIG=$KCONF "$PROBE" /sys/fs/bpf/cgfw-kconfig-probe $objs >"$OUT/kconfig-probe.txt" 2>&1
	fact OBJECTS_WITHOUT_CONFIG "$(awk '/^\// { o = $0; sub(".*/", "", o) } /RESULT: FAILS/ { f = f " " o } END { print (f == "" ? "all load" : "fail:" f) }' "$OUT/kconfig-probe.txt")"
	cat "$OUT/kconfig-probe.txt"
fi

if [ -x "$CGFW" ]; then
	cli_probe noconfig >"$OUT/cli-probe.txt" 2>&1
	fact TC_MODE_NOCONFIG "$TC_MODE"
	fact ATTACH_NOCONFIG "$(cat /run/cgfw-kernel/attach.noconfig)"
	if [ "$BOOT_CONFIG" = provide ] && [ -f "$KCONF" ]; then
		mkdir -p /boot
		cp "$KCONF" "/boot/config-$KREL"
		cli_probe config >>"$OUT/cli-probe.txt" 2>&1
		fact ATTACH_CONFIG "$(cat /run/cgfw-kernel/attach.config)"
	fi
	fact TC_MODE "$TC_MODE"
	cat "$OUT/cli-probe.txt"
else
	log "no cgfw binary at $CGFW"
fi
fact BOOT_CONFIG_FOR_TESTS "$([ -e "/boot/config-$KREL" ] && echo "provided (from the .deb)" || echo absent)"

# ---- the suites -------------------------------------------------------------------
# Per-test timeouts scaled for TCG, in the overlay's copy of the build dir only.
if [ "$TIMEOUT_SCALE" != 1 ]; then
	find "$BUILD" -name CTestTestfile.cmake -exec perl -pi -e \
		's/TIMEOUT "(\d+)"/"TIMEOUT \"" . int($1 * '"$TIMEOUT_SCALE"') . "\""/ge' {} +
fi

# The e2e harness's servers live SERVER_LIFETIME seconds (90 by default): a
# test that runs longer than that under TCG would lose its server (the policy
# restore test takes ~250 s under TCG at scale 3), so they get a longer one.
export SERVER_LIFETIME=$((150 * TIMEOUT_SCALE))
# For harnesses that scale their own fixed waits (the tc tests' listeners live
# 30-60 s today, which a TCG run can outlast): the same factor.
export CGFW_TEST_TIME_SCALE=$TIMEOUT_SCALE

label_re="^($LABELS)\$"
ctest_args=(-L "$label_re" --output-on-failure --timeout $((600 * TIMEOUT_SCALE)))
[ -z "$TESTS" ] || ctest_args+=(-R "$TESTS")
left=$((BUDGET - SECONDS - 20))
[ $left -gt 30 ] || left=30
log "ctest ${ctest_args[*]} (budget ${left}s) in $BUILD"
fact CTEST_BUDGET "$left"
t0=$SECONDS
(
	echo $BASHPID >"$CG/system.slice/cgfw-tests.service/cgroup.procs"
	cd "$BUILD" || exit 1
	# A test's timeout once sent ctest a SIGHUP (the console's session): ignore it.
	trap '' HUP
	exec timeout -k 10 "$left" ctest "${ctest_args[@]}" --output-junit "$OUT/junit.xml"
) </dev/null 2>&1 | tee "$OUT/ctest.log"
rc=${PIPESTATUS[0]}
fact CTEST_RC "$rc"
fact CTEST_SECONDS "$((SECONDS - t0))"
[ $rc -ne 124 ] && [ $rc -ne 137 ] || log "ctest hit the guest's time budget (${left}s)"

# label, test, status, seconds for every selected test (NotRun when ctest never
# reported it, e.g. when the budget ran out).
: >"$OUT/results.tsv"
IFS='|' read -ra labels <<<"$LABELS"
for l in "${labels[@]}"; do
	(cd "$BUILD" && ctest -N -L "^$l\$" ${TESTS:+-R "$TESTS"}) |
		sed -n 's/^ *Test *#[0-9]*: *//p' | while read -r t; do
		line=$(grep -E "Test +#[0-9]+: $t \." "$OUT/ctest.log" | tail -1)
		if [ -z "$line" ]; then
			printf '%s\t%s\tNotRun\t-\n' "$l" "$t"
			continue
		fi
		st=$(echo "$line" | sed -E 's/.*: [^ ]+ \.+ *//; s/\*//g' | awk '{ print $1 }')
		[ "$st" != Not ] || st=NotRun
		secs=$(echo "$line" | sed -nE 's/.* ([0-9.]+) sec.*/\1/p')
		printf '%s\t%s\t%s\t%s\n' "$l" "$t" "$st" "${secs:--}"
	done
done >>"$OUT/results.tsv"

fact MODULES "$(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
fact GUEST_SECONDS "$SECONDS"
# Skipped tests are listed in the summary; they do not fail the run.
if awk -F'\t' '$3 != "Passed" && $3 != "Skipped" { bad = 1 } END { exit bad ? 1 : 0 }' "$OUT/results.tsv" &&
	[ -s "$OUT/results.tsv" ] && [ "$rc" -eq 0 ]; then
	status=0
else
	status=1
fi
log "done in ${SECONDS}s, status $status"
echo $status >"$OUT/status"
exec >/dev/console 2>&1
wait $TEE_PID 2>/dev/null
sync
poweroff_now
exit
}
