#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ExecStart of cgfw-demo.service and cgfw-control.service (service.sh NAME).
# Its first command is the service's own first action: one UDP datagram to each
# of 192.0.2.1 (the policy's deny rule), 192.0.2.2 (its allow rule) and
# 192.0.2.3 (no rule: the default, deny), all on the guest's lo. A datagram the
# cgroup's egress program drops fails the write with EPERM ("Operation not
# permitted") in this very process; one it passes is sent. Then it records the
# results and when, and stays (its cgroup stays, for the driver to inspect).
for a in 192.0.2.1 192.0.2.2 192.0.2.3; do r[${a##*.}]=$({ echo "cgfw-test $1" >"/dev/udp/$a/9"; } 2>&1 && echo sent); t[${a##*.}]=$EPOCHREALTIME; done
rec=/var/lib/cgfw-test/boot$(cat /var/lib/cgfw-test/phase)
out=$rec/service-$1.txt
{
	echo "name=$1"
	echo "pid=$$"
	echo "first_action_realtime=${t[1]}"
	echo "uptime_after=$(cut -d' ' -f1 /proc/uptime)"
	echo "cgroup=$(cut -d: -f3 /proc/self/cgroup)"
	for i in 1 2 3; do
		# "sent", or bash's message ending in the error
		m=${r[$i]##*: }
		echo "probe_192.0.2.$i=${m:-?}"
		echo "probe_192.0.2.${i}_raw=${r[$i]//$'\n'/ }"
	done
} >"$out.tmp" && mv "$out.tmp" "$out"
echo "cgfw-test service $1: 192.0.2.1 ${r[1]##*: }, 192.0.2.2 ${r[2]##*: }, 192.0.2.3 ${r[3]##*: }"
exec sleep infinity
