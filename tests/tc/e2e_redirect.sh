#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# redirect (DNAT) end to end: the service sees the new destination, the client
# sees replies from the address and port it dialled (TCP, UDP, IPv4, IPv6);
# counters move; deleting the rule stops the rewrite.
source "$(dirname "$0")/lib.sh"

setup_pair
check "attach to $VS" cgfw tc attach "$VS"
check "redirect add tcp 203.0.113.5:80 -> 192.0.2.2:8080" \
	cgfw redirect add --dst 203.0.113.5 --proto tcp --ports 80 --to 192.0.2.2:8080
check "redirect add udp 203.0.113.5:53 -> 192.0.2.2:8053" \
	cgfw redirect add --dst 203.0.113.5 --proto udp --ports 53 --to 192.0.2.2:8053
check "redirect add tcp [2001:db8:3::5]:80 -> [2001:db8:1::2]:8080" \
	cgfw redirect add --dst 2001:db8:3::5 --proto tcp --ports 80 --to '[2001:db8:1::2]:8080'
check "redirect add udp 2001:db8:3::/64 5300-5399 -> [2001:db8:1::2]:8053" \
	cgfw redirect add --dst 2001:db8:3::/64 --proto udp --ports 5300-5399 --to '[2001:db8:1::2]:8053'

# Plain (not transparent) services on the server's own addresses.
listen S "$WORK/s1" tcp 192.0.2.2 8080 --timeout 20
listen S "$WORK/s2" udp 192.0.2.2 8053 --timeout 20
listen S "$WORK/s3" tcp 2001:db8:1::2 8080 --timeout 20
listen S "$WORK/s4" udp 2001:db8:1::2 8053 --timeout 20

C "$PEER" connect tcp 203.0.113.5 80 >"$WORK/c1" 2>&1
contains "$WORK/c1" "PEER 203.0.113.5 80" "TCP: the client's connection is to the address it dialled"
contains "$WORK/c1" "REPLY ORIGDST 192.0.2.2 8080" "TCP: the service answered from 192.0.2.2:8080, the client saw 203.0.113.5:80"
contains "$WORK/s1" "CONN peer=192.0.2.1:" "TCP: the service saw the client's real address"

# A connected UDP socket takes datagrams only from the address it sent to.
C "$PEER" connect udp 203.0.113.5 53 >"$WORK/c2" 2>&1
contains "$WORK/c2" "REPLY ORIGDST 192.0.2.2 8053" "UDP: the reply reached the connected client (source restored)"
contains "$WORK/c2" "PEER 203.0.113.5 53" "UDP: from 203.0.113.5:53"

C "$PEER" connect tcp 2001:db8:3::5 80 >"$WORK/c3" 2>&1
contains "$WORK/c3" "PEER 2001:db8:3::5 80" "TCP/IPv6: the client sees the address it dialled"
contains "$WORK/c3" "REPLY ORIGDST 2001:db8:1::2 8080" "TCP/IPv6: served by [2001:db8:1::2]:8080"

C "$PEER" connect udp 2001:db8:3::99 5342 >"$WORK/c4" 2>&1
contains "$WORK/c4" "PEER 2001:db8:3::99 5342" "UDP/IPv6, prefix and port range: reply from the address and port dialled"
contains "$WORK/s4" "DGRAM peer=2001:db8:1::1:" "UDP/IPv6: the service saw the client"

r=$(counter restore egress)
[ "$r" -ge 4 ] && ok "egress restored $r replies" || not_ok "egress restored $r replies, expected >= 4"
n=$(rule_packets redirect 203.0.113.5 80)
[ "$n" -ge 3 ] && ok "rule counter: $n packets" || not_ok "rule counter: $n packets"

cgfw redirect list --json >"$WORK/list.json"
check "redirect list --json" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["rules"]) == 4, d
r = [r for r in d["rules"] if r["dst"] == "2001:db8:3::5"][0]
assert r["to"] == "[2001:db8:1::2]:8080" and r["kind"] == "redirect" and r["packets"] > 0, r
' "$WORK/list.json"

check "redirect del tcp 203.0.113.5:80" cgfw redirect del --dst 203.0.113.5 --proto tcp --ports 80
expect_rc 3 "after del: 203.0.113.5:80 is not rewritten (nothing answers)" \
	C "$PEER" connect tcp 203.0.113.5 80 --timeout 2
[ "$(grep -c CONN "$WORK/s1")" = 1 ] && ok "after del: the service got no new connection" \
	|| not_ok "after del: the service got another connection"

# Bad input: no address in --to, mixed families.
expect_rc 2 "redirect add without an address in --to" \
	cgfw redirect add --dst 203.0.113.6 --proto tcp --ports 80 --to 8080
expect_rc 2 "redirect add with IPv4 --dst and IPv6 --to" \
	cgfw redirect add --dst 203.0.113.6 --proto tcp --ports 80 --to '[2001:db8:1::2]:80'
check "redirect flush" cgfw redirect flush
finish
