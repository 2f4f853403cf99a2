#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `cgfw seen`: per remote address and direction, the packets, bytes and drops
# of the cgroup's traffic, with first and last seen times.
source "$(dirname "$0")/lib.sh"
setup

start_server srv --tcp 198.51.100.3:8080 --udp 198.51.100.3:9090 --udp 198.51.100.2:9090 \
	--tcp '[2001:db8::2]:8080'

must cgfw attach "$CG"
must cgfw block 198.51.100.2 --cgroup "$CG"
must cgfw block 2001:db8::2 --cgroup "$CG"
t0=$(date +%s)

N_TCP=5 N_UDP=4 N_DROP_UDP=3 N_DROP_TCP=2
expect_reach "$N_TCP TCP connections to .3" from_cg "$CG" tcp 198.51.100.3 8080 --count $N_TCP
expect_reach "$N_UDP UDP exchanges with .3" from_cg "$CG" udp 198.51.100.3 9090 --count $N_UDP
# A blocked UDP send is one dropped packet (the kernel answers EPERM).
expect_blocked "$N_DROP_UDP UDP datagrams to blocked .2" \
	from_cg "$CG" udp 198.51.100.2 9090 --count $N_DROP_UDP
# A blocked TCP connect is at least its SYN (retransmits may follow).
expect_blocked "$N_DROP_TCP TCP connects to blocked 2001:db8::2" \
	from_cg "$CG" tcp 2001:db8::2 8080 --count $N_DROP_TCP
# Traffic from outside the cgroup is not the cgroup's.
expect_reach "UDP from outside the cgroup to .2" from_outside udp 198.51.100.2 9090 --count 2
t1=$(date +%s)

json=$(cgfw seen --json --cgroup "$CG") || fail "cgfw seen --json failed"
log "seen: $json"
entry() { # ADDR DIR -> python expression of the one matching entry
	echo "[e for e in d if e['addr'] == '$1' and e['direction'] == '$2']"
}
json_check "seen lists only this cgroup" "$json" \
	"d and all(e['cgroup'] == '$CG_REL' for e in d)"
for key in "198.51.100.3 egress" "198.51.100.3 ingress" "198.51.100.2 egress" \
	"2001:db8::2 egress"; do
	json_check "one entry for $key" "$json" "len($(entry $key)) == 1"
done

# Each TCP connection sends at least SYN, ACK, data and FIN; each UDP
# exchange one datagram each way.
json_check ".3 egress: packets >= 4*$N_TCP + $N_UDP, bytes > 0, nothing dropped" "$json" \
	"(lambda e: e['packets'] >= 4 * $N_TCP + $N_UDP and e['bytes'] > 0 and e['dropped'] == 0 and e['family'] == 'ipv4')($(entry 198.51.100.3 egress)[0])"
json_check ".3 ingress: packets >= 2*$N_TCP + $N_UDP (SYN-ACK, echo; UDP echo)" "$json" \
	"(lambda e: e['packets'] >= 2 * $N_TCP + $N_UDP and e['bytes'] > 0 and e['dropped'] == 0)($(entry 198.51.100.3 ingress)[0])"
json_check ".2 egress: exactly $N_DROP_UDP packets, all dropped" "$json" \
	"(lambda e: e['packets'] == $N_DROP_UDP and e['dropped'] == $N_DROP_UDP and e['bytes'] > 0)($(entry 198.51.100.2 egress)[0])"
json_check "2001:db8::2 egress: >= $N_DROP_TCP packets, every one dropped" "$json" \
	"(lambda e: e['packets'] >= $N_DROP_TCP and e['dropped'] == e['packets'] and e['family'] == 'ipv6')($(entry 2001:db8::2 egress)[0])"
json_check "no ingress entry for blocked .2 (nothing came back)" "$json" \
	"not $(entry 198.51.100.2 ingress)"

# Times: ISO 8601 UTC, first <= last, within the time the test ran.
json_check "first_seen <= last_seen, ISO 8601, during the test" "$json" "all(
	__import__('re').fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', e['first_seen']) and
	__import__('re').fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', e['last_seen']) and
	e['first_seen'] <= e['last_seen'] and
	$t0 - 2 <= __import__('calendar').timegm(__import__('time').strptime(e['first_seen'][:19], '%Y-%m-%dT%H:%M:%S')) <= $t1 + 2 and
	$t0 - 2 <= __import__('calendar').timegm(__import__('time').strptime(e['last_seen'][:19], '%Y-%m-%dT%H:%M:%S')) <= $t1 + 2
	for e in d)"

# More traffic moves last_seen and the counters, not first_seen.
before=$json
sleep 1.1
expect_reach "one more TCP connection to .3" from_cg "$CG" tcp 198.51.100.3 8080
json=$(cgfw seen --json --cgroup "$CG") || fail "cgfw seen --json failed"
json_check "counters grow, last_seen moves, first_seen stays" "$json" \
	"(lambda o, n: n['packets'] >= o['packets'] + 4 and n['first_seen'] == o['first_seen'] and n['last_seen'] > o['last_seen'])($(json_eval "$before" "$(entry 198.51.100.3 egress)[0]"), $(entry 198.51.100.3 egress)[0])"

# Detach drops the cgroup's records.
must cgfw detach "$CG"
json=$(cgfw seen --json) || fail "cgfw seen --json failed"
json_check "no records left after detach" "$json" "d == []"
