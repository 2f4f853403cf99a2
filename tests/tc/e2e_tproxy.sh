#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tproxy end to end: real transparent listeners (TCP, UDP, IPv4, IPv6) see the
# original destination; the client sees the address it dialled; a port outside
# the range is not intercepted; deleting the rule stops interception; no
# listener: dropped and counted; the local routes come and go with the rules.
source "$(dirname "$0")/lib.sh"

setup_pair
check "attach to $VS" cgfw tc attach "$VS"

# --- TCP over IPv4 -----------------------------------------------------------
check "tproxy add tcp 198.51.100.0/24 80-90 -> 127.0.0.1:9000" \
	cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 80-90 --to 127.0.0.1:9000
S ip route show table local proto 207 >"$WORK/routes"
contains "$WORK/routes" "local 198.51.100.0/24 dev lo" "cgfw added the local route for the prefix"

listen S "$WORK/l1" tcp 127.0.0.1 9000 --transparent --timeout 20
C "$PEER" connect tcp 198.51.100.10 85 >"$WORK/c1" 2>&1
contains "$WORK/c1" "REPLY ORIGDST 198.51.100.10 85" "TCP: the listener's accepted socket has the original destination"
contains "$WORK/c1" "PEER 198.51.100.10 85" "TCP: the client is connected to the address it dialled"
contains "$WORK/l1" "CONN peer=192.0.2.1:[0-9]* origdst=198.51.100.10:85" "TCP: the listener saw the client and 198.51.100.10:85"

# The local route makes 198.51.100.10 this host's: port 91 meets the plain stack,
# which has no socket there and refuses.
expect_rc 1 "port 91 (outside 80-90) reaches the stack, which refuses it" \
	C "$PEER" connect tcp 198.51.100.10 91 --timeout 2
lacks "$WORK/l1" "origdst=198.51.100.10:91" "port 91 was not intercepted"

n=$(rule_packets tproxy 198.51.100.0/24 80-90)
[ "$n" -ge 3 ] && ok "rule counter: $n packets" || not_ok "rule counter: $n packets, expected >= 3"

# An established flow keeps going to its own socket: a second connection gets its
# own accepted socket (the stack found it), counted as established after the SYN.
est0=$(counter pass_established)
C "$PEER" connect tcp 198.51.100.11 80 >"$WORK/c3" 2>&1
contains "$WORK/c3" "REPLY ORIGDST 198.51.100.11 80" "TCP: a second flow is intercepted too"
est1=$(counter pass_established)
[ "$est1" -gt "$est0" ] && ok "packets after the SYN went to the flow's own socket ($est0 -> $est1)" \
	|| not_ok "no packet counted as established ($est0 -> $est1)"

# --- no listener ---------------------------------------------------------------
check "tproxy add tcp 198.51.100.0/24 7777 -> 9999 (nobody listens)" \
	cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 7777 --to 9999
d0=$(counter drop_no_listener)
expect_rc 3 "no listener: the client's SYNs are dropped (timeout, not refused)" \
	C "$PEER" connect tcp 198.51.100.10 7777 --timeout 2
d1=$(counter drop_no_listener)
[ "$d1" -gt "$d0" ] && ok "drop_no_listener counted ($d0 -> $d1)" || not_ok "drop_no_listener not counted ($d0 -> $d1)"

# --- UDP over IPv4, default listener address (this host) ------------------------
check "tproxy add udp 198.51.100.0/24 53 -> 9053" \
	cgfw tproxy add --dst 198.51.100.0/24 --proto udp --ports 53 --to 9053
listen S "$WORK/l2" udp 0.0.0.0 9053 --transparent --timeout 20
C "$PEER" connect udp 198.51.100.7 53 >"$WORK/c4" 2>&1
contains "$WORK/l2" "DGRAM peer=192.0.2.1:[0-9]* origdst=198.51.100.7:53" "UDP: IP_RECVORIGDSTADDR gives the original destination"
contains "$WORK/c4" "REPLY ORIGDST 198.51.100.7 53" "UDP: the reply from the original destination reaches the connected client"

# --- IPv6 -------------------------------------------------------------------------------
check "tproxy add tcp 2001:db8:2::/48 443 -> [::1]:9443" \
	cgfw tproxy add --dst 2001:db8:2::/48 --proto tcp --ports 443 --to '[::1]:9443'
check "tproxy add udp 2001:db8:2::/48 443 -> 9443" \
	cgfw tproxy add --dst 2001:db8:2::/48 --proto udp --ports 443 --to 9443
listen S "$WORK/l3" tcp ::1 9443 --transparent --timeout 20
listen S "$WORK/l4" udp :: 9443 --transparent --timeout 20
C "$PEER" connect tcp 2001:db8:2::77 443 >"$WORK/c5" 2>&1
contains "$WORK/c5" "REPLY ORIGDST 2001:db8:2::77 443" "TCP/IPv6: original destination at the listener"
contains "$WORK/c5" "PEER 2001:db8:2::77 443" "TCP/IPv6: the client sees the address it dialled"
C "$PEER" connect udp 2001:db8:2::78 443 >"$WORK/c6" 2>&1
contains "$WORK/l4" "origdst=2001:db8:2::78:443" "UDP/IPv6: original destination at the listener"
contains "$WORK/c6" "REPLY ORIGDST 2001:db8:2::78 443" "UDP/IPv6: the client gets the reply"

# --- listing --------------------------------------------------------------------------
cgfw tproxy list --json >"$WORK/list.json"
check "tproxy list --json is JSON with 5 rules and 2 routes" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["rules"]) == 5, d
assert {r["prefix"] for r in d["routes"]} == {"198.51.100.0/24", "2001:db8:2::/48"}, d
r = [r for r in d["rules"] if r["ports"] == "80-90"][0]
assert r["to"] == "127.0.0.1:9000" and r["proto"] == "tcp" and r["packets"] > 0 and r["bytes"] > 0, r
' "$WORK/list.json"

# --- deletion stops interception; the route goes with the last rule -------------------
check "tproxy del tcp 198.51.100.0/24 80-90" cgfw tproxy del --dst 198.51.100.0/24 --proto tcp --ports 80-90
C "$PEER" connect tcp 198.51.100.10 85 --timeout 2 >"$WORK/c7" 2>&1
lacks "$WORK/c7" "REPLY ORIGDST" "after del: port 85 is no longer intercepted"
[ "$(grep -c 'origdst=198.51.100.10:85' "$WORK/l1")" = 1 ] && ok "after del: the listener got no new connection" \
	|| not_ok "after del: the listener got another connection"
expect_rc 2 "del of a rule that is gone fails" cgfw tproxy del --dst 198.51.100.0/24 --proto tcp --ports 80-90
S ip route show table local proto 207 >"$WORK/routes"
contains "$WORK/routes" "198.51.100.0/24" "route stays while other rules need it"
check "tproxy del udp 53" cgfw tproxy del --dst 198.51.100.0/24 --proto udp --ports 53
check "tproxy del tcp 7777" cgfw tproxy del --dst 198.51.100.0/24 --proto tcp --ports 7777
S ip route show table local proto 207 >"$WORK/routes"
lacks "$WORK/routes" "198.51.100.0/24" "the route went with the last rule that needed it"

# A route that was there before cgfw is used, and left alone.
S ip route add local 203.0.113.0/24 dev lo table local
check "tproxy add over an existing local route" \
	cgfw tproxy add --dst 203.0.113.0/24 --proto tcp --ports 80 --to 127.0.0.1:9000
check "tproxy flush" cgfw tproxy flush
S ip route show table local >"$WORK/routes"
contains "$WORK/routes" "local 203.0.113.0/24 dev lo" "a route cgfw did not add survives the flush"
lacks "$WORK/routes" "2001:db8:2::/48" "flush removed cgfw's IPv6 route"
cgfw tproxy list --json >"$WORK/list.json"
check "flush left no tproxy rule" python3 -c '
import json, sys; assert json.load(open(sys.argv[1]))["rules"] == []' "$WORK/list.json"

finish
