#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Interception: new TCP connections per second and request latency into one
# transparent listener (IP_TRANSPARENT, 0.0.0.0:LPORT, in the server
# namespace) for connections to 198.51.100.1-254:DPORT, addresses configured
# nowhere, through
#
#   cgfw      `cgfw tc attach IFACE` + `cgfw tproxy add --dst 198.51.100.0/24
#             --proto tcp --ports DPORT --to LPORT` (bpf_sk_assign)
#   iptables  mangle PREROUTING -j TPROXY --on-port LPORT --tproxy-mark 1,
#             `ip rule add fwmark 1 lookup 100`, `ip route add local
#             0.0.0.0/0 dev lo table 100`
#   direct    no interception: the client dials 203.0.113.1-254:LPORT, which
#             a local route makes the server's own (a floor for both)
#
# Each is set up in the server namespace before its round and removed after
# it (rounds interleave: direct cgfw iptables direct ...). After each round
# the interceptor's own counter must show the round's connections, or the
# run fails: the connections went somewhere else.
#
#   bench/intercept.sh BUILD [--smoke] [--out DIR]
#
# Markdown on stdout; raw numbers and PASS/MISS in OUT/intercept.json.
# shellcheck source=bench/netlib.sh
source "$(dirname "$0")/netlib.sh"

if [ "$SMOKE" = 1 ]; then
	ROUNDS=1 T_CRR=0.2 T_RR=0.2
else
	ROUNDS=${BENCH_IC_ROUNDS:-7} T_CRR=1 T_RR=1
fi
CONFIGS="direct cgfw iptables"
LPORT=15001
DPORT=80
command -v iptables >/dev/null || fail "iptables not installed (scripts/install-deps.sh)"

CNS=$H_NAME-c
SNS=$H_NAME-s
VC=icc$$
VS=ics$$
h_pair "$CNS" "$VC" "$SNS" "$VS"
h_cgfw_netns "$SNS" # cgfw attaches to $VS: the trap's reset runs there
h_addr "$CNS" "$VC" 192.0.2.1/24
h_addr "$SNS" "$VS" 192.0.2.2/24
in_ns "$CNS" ip route add 198.51.100.0/24 via 192.0.2.2
in_ns "$CNS" ip route add 203.0.113.0/24 via 192.0.2.2
in_ns "$SNS" ip route add local 203.0.113.0/24 dev lo
h_check_routes || fail "refusing to send traffic"
# Sequential connections leave TIME_WAIT sockets at the client: reuse them and
# use every port (the destinations rotate too).
in_ns "$CNS" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"

bg -n "$SNS" "$WORK/listener.out" taskset -c "$PIN_CPU" \
	"$PEER" serve --tcp 0.0.0.0:$LPORT --transparent --serial --timeout 1200
h_wait_ready "$WORK/listener.out" "$BGPID"

client() { in_ns "$CNS" taskset -c "$PIN_CPU" "$PEER" "$@" 2>"$WORK/client.err"; }
S() { in_ns "$SNS" "$@" >"$WORK/cmd.out" 2>&1 || fail "in the server namespace: $*: $(cat "$WORK/cmd.out")"; }

setup_direct() { :; }
count_direct() { echo 0; }
teardown_direct() { :; }

setup_cgfw() {
	S "$CGFW" tc attach "$VS"
	S "$CGFW" tproxy add --dst 198.51.100.0/24 --proto tcp --ports $DPORT --to $LPORT
}
count_cgfw() {
	json_eval "$(in_ns "$SNS" "$CGFW" tproxy list --json)" 'sum(r["packets"] for r in d["rules"])'
}
teardown_cgfw() {
	S "$CGFW" tproxy flush
	S "$CGFW" tc detach "$VS"
}

setup_iptables() {
	S iptables -t mangle -A PREROUTING -p tcp -d 198.51.100.0/24 --dport $DPORT \
		-j TPROXY --on-port $LPORT --tproxy-mark 1
	S ip rule add fwmark 1 lookup 100
	S ip route add local 0.0.0.0/0 dev lo table 100
}
count_iptables() {
	in_ns "$SNS" iptables -t mangle -L PREROUTING -v -x -n | awk '/TPROXY/ { print $1; exit }'
}
teardown_iptables() {
	# The whole table goes, so no empty mangle hook stays to tax the next round.
	S nft flush ruleset
	S ip rule del fwmark 1 lookup 100
	S ip route flush table 100
}

dst() { [ "$1" = direct ] && echo "203.0.113.$2 $LPORT" || echo "198.51.100.$2 $DPORT"; }

# round CONFIG T_CRR T_RR: one measurement, the JSON of each client in CRR and RR
round() {
	local c=$1 pkts conns
	"setup_$c"
	# shellcheck disable=SC2046
	CRR=$(client crr $(dst "$c" 1-254) --time "$2") || fail "$c: crr: $(cat "$WORK/client.err")"
	# shellcheck disable=SC2046
	RR=$(client rr $(dst "$c" 7) --time "$3") || fail "$c: rr: $(cat "$WORK/client.err")"
	pkts=$("count_$c")
	conns=$(json_eval "$CRR" 'd["n"]')
	if [ "$c" != direct ] && [ "${pkts:-0}" -lt "$conns" ]; then
		fail "$c: the interceptor counted ${pkts:-0} packets for $conns connections"
	fi
	"teardown_$c"
}

# Warm-up and a check of every setup and teardown; not recorded.
for c in $CONFIGS; do
	round "$c" 0.1 0.1
done
: >"$WORK/raw.jsonl"
for ((r = 1; r <= ROUNDS; r++)); do
	for c in $CONFIGS; do
		round "$c" $T_CRR $T_RR
		printf '{"config":"%s","round":%s,"crr":%s,"rr":%s}\n' "$c" "$r" "$CRR" "$RR" \
			>>"$WORK/raw.jsonl"
	done
done

"$PY" report intercept "$WORK/raw.jsonl" "$OUT/intercept.json" "cpu=$PIN_CPU" \
	"lport=$LPORT" "dport=$DPORT" "t_crr=$T_CRR" "t_rr=$T_RR" "smoke=$SMOKE" "kernel=$KERNEL" \
	"ipt=$(iptables --version 2>&1 | head -1)"
