#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Stateful inbound end to end: an unsolicited connection is dropped; replies
# to flows this host opened pass (TCP, connected and unconnected UDP); ssh
# only to the interface's own addresses (kept in sync), --no-ssh; inbound
# rules; DHCP replies; ICMP echo only with --icmp; tproxy still works;
# attaching again without --stateful opens the interface again.
source "$(dirname "$0")/lib.sh"

setup_pair
# A second address on the server, reached through it, that is not the interface's.
S ip addr add 198.51.100.77/32 dev lo
check "attach --stateful" cgfw tc attach "$VS" --stateful
cgfw tc list --json >"$WORK/tc.json"
check "tc list shows stateful, ssh on, the interface's addresses" python3 -c '
import json, sys
i = json.load(open(sys.argv[1]))["interfaces"][0]
assert i["stateful"] and i["ssh"] and not i["icmp"] and i["live"], i
assert "192.0.2.2" in i["addresses"] and "2001:db8:1::2" in i["addresses"], i
assert "198.51.100.77" not in i["addresses"], i
' "$WORK/tc.json"

listen S "$WORK/s7000" tcp 0.0.0.0 7000 --timeout 30
listen S "$WORK/s7003" udp 0.0.0.0 7003 --timeout 30
listen S "$WORK/s22" tcp 0.0.0.0 22 --timeout 30
listen S "$WORK/s22v6" tcp :: 22 --timeout 30
listen S "$WORK/s68" udp 0.0.0.0 68 --timeout 30
listen C "$WORK/c7001" tcp 192.0.2.1 7001 --timeout 30
listen C "$WORK/c7002" udp 192.0.2.1 7002 --timeout 30

d0=$(counter drop_unsolicited)
expect_rc 3 "unsolicited TCP connection to a listening port is dropped" \
	C "$PEER" connect tcp 192.0.2.2 7000 --timeout 2
lacks "$WORK/s7000" "CONN" "the server's listener never saw it"
expect_rc 3 "unsolicited UDP to a bound port is dropped" C "$PEER" connect udp 192.0.2.2 7003 --timeout 1
lacks "$WORK/s7003" "DGRAM" "the server's UDP socket never saw it"
d1=$(counter drop_unsolicited)
[ "$d1" -gt "$d0" ] && ok "drop_unsolicited counted ($d0 -> $d1)" || not_ok "drop_unsolicited not counted"

check "outbound TCP: the replies of a flow this host opened pass" S "$PEER" connect tcp 192.0.2.1 7001
check "outbound UDP, connected socket: the reply passes" S "$PEER" connect udp 192.0.2.1 7002
check "outbound UDP, unconnected socket: the reply passes" \
	S "$PEER" connect udp 192.0.2.1 7002 --unconnected

C "$PEER" connect tcp 192.0.2.2 22 >"$WORK/ssh1" 2>&1
contains "$WORK/ssh1" "REPLY ORIGDST 192.0.2.2 22" "ssh to the interface's address passes"
C "$PEER" connect tcp 2001:db8:1::2 22 >"$WORK/ssh2" 2>&1
contains "$WORK/ssh2" "REPLY ORIGDST 2001:db8:1::2 22" "ssh to the interface's IPv6 address passes"
expect_rc 3 "ssh to another address of the host (198.51.100.77) is dropped" \
	C "$PEER" connect tcp 198.51.100.77 22 --timeout 2

# Addresses are kept in sync from user space.
S ip addr add 192.0.2.3/24 dev "$VS"
expect_rc 3 "a new address is not an ssh address before the sync" \
	C "$PEER" connect tcp 192.0.2.3 22 --timeout 1
check "tc sync" cgfw tc sync
check "after tc sync, ssh to the new address passes" C "$PEER" connect tcp 192.0.2.3 22
bg -n "$SNS" "$WORK/watch" "$CGFW" tc sync --watch
WATCH=$BGPID
h_sleep 0.5
S ip addr add 192.0.2.4/24 dev "$VS"
S ip addr del 192.0.2.3/24 dev "$VS"
for _ in $(seq 1 $((30 * H_SCALE))); do
	cgfw tc list --json | grep -q '"192.0.2.4"' && break
	sleep 0.1
done
check "tc sync --watch follows a new address" C "$PEER" connect tcp 192.0.2.4 22
cgfw tc list --json >"$WORK/tc.json"
lacks "$WORK/tc.json" '"192.0.2.3"' "tc sync --watch dropped the removed address"
stop "$WATCH"
rc=$?
[ "$rc" = 0 ] && ok "tc sync --watch exits 0 on SIGINT" || not_ok "tc sync --watch exit $rc on SIGINT"

# DHCP client replies (udp 67 -> 68) pass.
C "$PEER" connect udp 192.0.2.2 68 --sport 67 --timeout 2 >/dev/null 2>&1
contains "$WORK/s68" "DGRAM peer=192.0.2.1:67" "a DHCP reply (udp 67 -> 68) reached the host"

# Inbound rules.
check "inbound add tcp 192.0.2.2 7000" cgfw inbound add --dst 192.0.2.2 --proto tcp --ports 7000
check "the inbound rule admits connections to 7000" C "$PEER" connect tcp 192.0.2.2 7000
check "inbound del" cgfw inbound del --dst 192.0.2.2 --proto tcp --ports 7000
expect_rc 3 "after inbound del, 7000 is closed again" C "$PEER" connect tcp 192.0.2.2 7000 --timeout 1
check "inbound add with a source prefix that is not the client's" \
	cgfw inbound add --dst 192.0.2.0/24 --src 203.0.113.0/24 --proto tcp --ports 7000
expect_rc 3 "an inbound rule for another source does not admit the client" \
	C "$PEER" connect tcp 192.0.2.2 7000 --timeout 1
check "inbound list --json" sh -c "'$CGFW' inbound list --json | python3 -c '
import json, sys; r = json.load(sys.stdin)[\"rules\"]; assert len(r) == 1 and r[0][\"src\"] == \"203.0.113.0/24\", r'"

# tproxy still intercepts on a stateful interface.
check "tproxy add on the stateful interface" \
	cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 80 --to 127.0.0.1:9000
listen S "$WORK/tp" tcp 127.0.0.1 9000 --transparent --timeout 30
C "$PEER" connect tcp 198.51.100.10 80 >"$WORK/tpc" 2>&1
contains "$WORK/tpc" "REPLY ORIGDST 198.51.100.10 80" "stateful: a tproxy rule admits and intercepts"

# ICMP echo only with --icmp.
expect_rc 3 "ping without --icmp is dropped" C "$PEER" ping 192.0.2.2 --timeout 1
check "attach again with --icmp (settings swapped in place)" cgfw tc attach "$VS" --stateful --icmp
check "ping with --icmp" C "$PEER" ping 192.0.2.2
check "ping6 with --icmp" C "$PEER" ping 2001:db8:1::2

# --no-ssh.
check "attach again with --no-ssh" cgfw tc attach "$VS" --stateful --no-ssh
expect_rc 3 "--no-ssh: ssh to the interface's address is dropped" \
	C "$PEER" connect tcp 192.0.2.2 22 --timeout 1

# Not stateful any more: unsolicited connections pass again.
check "attach again without --stateful" cgfw tc attach "$VS"
check "without --stateful the listener is reachable" C "$PEER" connect tcp 192.0.2.2 7000
expect_rc 2 "--icmp without --stateful is bad input" cgfw tc attach "$VS" --icmp
finish
