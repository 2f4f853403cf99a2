#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# cgfw-test-driver.service: driver.sh PHASE RECORD_DIR. Runs after both test
# services have started. Records into RECORD_DIR (the host's check.py reads it):
#
# boot 1: the units' state before any policy (cgfw-restore.service skipped by
#   its condition, the drop-in's `cgfw restore` with nothing saved), then
#   `cgfw policy apply` of a policy for both services (the file is in /etc/cgfw,
#   which the next boot does not have), and the result on the running services.
# boot 2: cgfw-restore.service, the demo's ExecStartPre, `cgfw list --json`,
#   `cgfw explain`, the kernel's own view (bpftool), the services' first actions.
# Both: `systemd-analyze verify` of every installed unit and of the demo
#   service with its drop-in, the interfaces and routes, the journal.
set -u
PHASE=$1 REC=$2
CGFW=/usr/sbin/cgfw
DEMO=system.slice/cgfw-demo.service
CONTROL=system.slice/cgfw-control.service
export SYSTEMD_PAGER='' SYSTEMD_COLORS=0
cd "$REC" || exit 1
log() { echo "cgfw-test driver (boot $PHASE): $*"; }

# run NAME CMD...: stdout to NAME, stderr to NAME.err, exit status to NAME.rc
run() {
	local n=$1
	shift
	"$@" >"$n" 2>"$n.err"
	echo $? >"$n.rc"
}

# Both services record their first action; bounded wait.
for s in demo control; do
	for _ in $(seq 1 240); do
		[ -f "service-$s.txt" ] && break
		sleep 0.5
	done
	[ -f "service-$s.txt" ] || log "cgfw-$s.service recorded nothing"
done

show_props=ActiveState,SubState,Result,ExecMainCode,ExecMainStatus,ConditionResult,ConditionTimestampMonotonic,ExecMainStartTimestampMonotonic,ExecMainExitTimestampMonotonic,ActiveEnterTimestampMonotonic,InactiveExitTimestampMonotonic,UnitFileState
run restore.show systemctl show cgfw-restore.service -p "$show_props"
run restore.status systemctl status cgfw-restore.service --no-pager -l
run restore.journal journalctl -b -u cgfw-restore.service --no-pager -o short-monotonic
run restore.is-enabled systemctl is-enabled cgfw-restore.service
run sysinit.show systemctl show sysinit.target -p ActiveEnterTimestampMonotonic
for s in demo control; do
	run "$s.show" systemctl show "cgfw-$s.service" --timestamp=us+utc \
		-p ActiveState,SubState,MainPID,ControlGroup,DropInPaths,ExecStartPre,ExecStart,ExecMainStartTimestamp,ExecMainStartTimestampMonotonic,InactiveExitTimestampMonotonic,After
	run "$s.cat" systemctl cat "cgfw-$s.service"
	run "$s.journal" journalctl -b -u "cgfw-$s.service" --no-pager -o short-monotonic
done
ls -la /var/lib/cgfw >var-lib-cgfw.before-driver.txt 2>&1

if [ "$PHASE" = 1 ]; then
	mkdir -p /etc/cgfw
	cat >/etc/cgfw/demo.yaml <<'EOF'
# tests/systemd: the workloads of the two test services. Written in boot 1
# only; boot 2 has no /etc/cgfw, only /var/lib/cgfw.
version: 1
workloads:
  - name: cgfw-demo
    cgroup: system.slice/cgfw-demo.service
    default: deny
    egress:
      - deny: 192.0.2.1
        proto: udp
        ports: 9
      - allow: 192.0.2.2
        proto: udp
        ports: 9
  - name: cgfw-control
    cgroup: system.slice/cgfw-control.service
    default: deny
    egress:
      - deny: 192.0.2.1
        proto: udp
        ports: 9
      - allow: 192.0.2.2
        proto: udp
        ports: 9
EOF
	cp /etc/cgfw/demo.yaml policy.yaml
	run policy-check.txt "$CGFW" policy check /etc/cgfw/demo.yaml
	run policy-apply.txt "$CGFW" policy apply /etc/cgfw/demo.yaml
	log "cgfw policy apply: exit $(cat policy-apply.txt.rc): $(cat policy-apply.txt policy-apply.txt.err)"
	# The policy on the running service, seen from inside its cgroup.
	(
		echo $BASHPID >/sys/fs/cgroup/$DEMO/cgroup.procs || exit 9
		for a in 192.0.2.1 192.0.2.2 192.0.2.3; do
			m=$({ echo live >"/dev/udp/$a/9"; } 2>&1 && echo sent)
			echo "probe_$a=${m##*: }"
		done
	) >live-demo.txt 2>&1
	echo $? >live-demo.txt.rc
else
	[ -e /etc/cgfw/demo.yaml ] && echo present >policy-file.txt || echo absent >policy-file.txt
fi

run list.json "$CGFW" --json list
run policy-show.json "$CGFW" --json policy show
run status.json "$CGFW" --json status
for i in 1 2 3; do
	run "explain-demo-$i.json" "$CGFW" --json explain udp "192.0.2.$i:9" --cgroup $DEMO --egress
	run "explain-control-$i.json" "$CGFW" --json explain udp "192.0.2.$i:9" --cgroup $CONTROL --egress
done
run bpftool-demo.txt bpftool cgroup show /sys/fs/cgroup/$DEMO
run bpftool-control.txt bpftool cgroup show /sys/fs/cgroup/$CONTROL

# systemd-analyze verify: every installed cgfw unit, and the demo with its drop-in.
: >verify.txt
vrc=0
for u in $(cat installed-units.txt) /etc/systemd/system/cgfw-demo.service; do
	out=$(systemd-analyze verify "$u" 2>&1)
	rc=$?
	printf '$ systemd-analyze verify %s\n%s[exit %d]\n' "$u" "${out:+$out$'\n'}" $rc >>verify.txt
	[ $rc -eq 0 ] && [ -z "$out" ] || vrc=1
done
echo $vrc >verify.rc

systemctl list-units --failed --no-legend --plain >failed-units.txt 2>&1
# The guest's network: lo only, no route off it (the host checks).
run links.txt ip -o link show
run routes.txt ip route show table all
run routes6.txt ip -6 route show table all
cat /proc/uptime >uptime.txt
ls -la /var/lib/cgfw >var-lib-cgfw.after-driver.txt 2>&1
journalctl -b --no-pager -o short-monotonic >journal.txt 2>&1
echo 0 >driver.rc
log "done ($(cut -d' ' -f1 /proc/uptime)s since boot)"
sync
