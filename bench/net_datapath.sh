#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Datapath under real traffic: 1-byte TCP request/response latency and bulk
# TCP throughput between two network namespaces over a veth, through N rules
# that never match, for four firewalls holding the same addresses:
#
#   none      no firewall
#   cgfw      the client runs in a cgroup cgfw is attached to, the rules loaded
#             with `cgfw block --from-file` (both directions, the default)
#   iptables  one ip6tables rule per address in the client namespace's OUTPUT
#             chain (ip6tables-restore)
#   nft       one nftables set with the addresses and one rule on the output hook
#
# Each firewall gets its own pair of namespaces (same addresses, same veth),
# loaded once per N, so the rounds can interleave (none cgfw iptables nft
# none ...) without reloading anything. Every client runs through
# `cgfw exec --cgroup CG -- nsenter --net=NS taskset -c CPU ...`; only cgfw's
# cgroup has cgfw attached. The traffic is IPv6 (2001:db8:1::1 -> ::2): the
# IPv4 documentation ranges hold 768 addresses, far fewer than 10k rules.
# The last rule is 2001:db8:1::3, an address the server holds: a datagram to
# it must be refused (EPERM) by every firewall but 'none', before and after
# the rounds, or the run fails (a firewall that does not see the packets
# measures nothing).
#
#   bench/net_datapath.sh BUILD [--smoke] [--out DIR]
#
# Markdown on stdout; raw numbers and PASS/MISS per target in OUT/net_datapath.json.
# shellcheck source=bench/netlib.sh
source "$(dirname "$0")/netlib.sh"

if [ "$SMOKE" = 1 ]; then
	COUNTS="200" ROUNDS=1 T_RR=0.2 T_BULK=0.2
else
	COUNTS="10000 100000" ROUNDS=${BENCH_DP_ROUNDS:-7} T_RR=1 T_BULK=1
fi
CONFIGS="none cgfw iptables nft"
SRV=2001:db8:1::2
PROBE=2001:db8:1::3
command -v ip6tables-restore >/dev/null || fail "ip6tables-restore not installed (scripts/install-deps.sh)"
command -v nft >/dev/null || fail "nft not installed (scripts/install-deps.sh)"

CG_FW=$(cgroup_make fw)
CG_PLAIN=$(cgroup_make plain)
declare -A CNS=() SNS=()
i=0
for c in $CONFIGS; do
	i=$((i + 1))
	CNS[$c]=$H_NAME-$c-c
	SNS[$c]=$H_NAME-$c-s
	h_pair "${CNS[$c]}" "dpc$$-$i" "${SNS[$c]}" "dps$$-$i"
	h_addr "${CNS[$c]}" "dpc$$-$i" 2001:db8:1::1/64
	h_addr "${SNS[$c]}" "dps$$-$i" $SRV/64 $PROBE/64
	bg -n "${SNS[$c]}" "$WORK/srv-$c-rr.out" taskset -c "$PIN_CPU" \
		"$PEER" serve --tcp "[::]:5201" --serial --timeout 1200
	h_wait_ready "$WORK/srv-$c-rr.out" "$BGPID"
	bg -n "${SNS[$c]}" "$WORK/srv-$c-bulk.out" taskset -c "$PIN_CPU" \
		"$PEER" serve --tcp "[::]:5202" --sink --serial --timeout 1200
	h_wait_ready "$WORK/srv-$c-bulk.out" "$BGPID"
done
h_check_routes || fail "refusing to send traffic"

# client CONFIG ARGS...: the peer in that firewall's cgroup and namespace, pinned.
client() {
	local c=$1 cg=$CG_PLAIN
	shift
	[ "$c" = cgfw ] && cg=$CG_FW
	"$CGFW" exec --cgroup "$cg" -- nsenter --net=/run/netns/"${CNS[$c]}" \
		taskset -c "$PIN_CPU" "$PEER" "$@" 2>"$WORK/client.err"
}

# probe CONFIG: the rule for $PROBE must refuse a datagram (not for 'none').
probe() {
	local c=$1 res want=1
	[ "$c" = none ] && want=0
	res=$(client "$c" udpsend --rate 1000 --count 1 $PROBE 9) ||
		fail "$c: probe datagram: $(cat "$WORK/client.err")"
	got=$(json_eval "$res" 'd["streams"][0]["eperm"]')
	[ "$got" = "$want" ] ||
		fail "$c: a datagram to $PROBE (the last rule) was $([ "$got" = 1 ] && echo refused ||
			echo sent); expected the opposite"
}

: >"$WORK/raw.jsonl"
for n in $COUNTS; do
	"$PY" addrs "$n" 1 list "$WORK/rules.txt" --probe $PROBE >/dev/null
	"$PY" addrs "$n" 1 ip6tables "$WORK/rules.ipt" --probe $PROBE >/dev/null
	"$PY" addrs "$n" 1 nft "$WORK/rules.nft" --probe $PROBE >/dev/null

	"$CGFW" reset --yes >/dev/null
	"$CGFW" attach "$CG_FW" >/dev/null || fail "cgfw attach $CG_FW failed"
	"$CGFW" block --from-file "$WORK/rules.txt" >/dev/null ||
		fail "cgfw block --from-file ($n rules) failed"
	got=$(json_eval "$("$CGFW" status --json)" 'd["rules_ipv4"] + d["rules_ipv6"]')
	[ "$got" = "$n" ] || fail "cgfw holds $got rules after loading $n"

	in_ns "${CNS[iptables]}" ip6tables-restore "$WORK/rules.ipt" ||
		fail "ip6tables-restore ($n rules) failed"
	got=$(in_ns "${CNS[iptables]}" ip6tables-save -t filter | grep -c '^-A OUTPUT') || true
	[ "$got" = "$n" ] || fail "ip6tables holds $got rules after restoring $n"

	in_ns "${CNS[nft]}" nft flush ruleset
	in_ns "${CNS[nft]}" nft -f "$WORK/rules.nft" || fail "nft -f ($n addresses) failed"

	for c in $CONFIGS; do
		probe "$c"
		# Warm-up (neighbour discovery, caches); not recorded.
		client "$c" rr $SRV 5201 --time 0.1 >/dev/null || fail "$c: warm-up: $(cat "$WORK/client.err")"
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		for c in $CONFIGS; do
			rr=$(client "$c" rr $SRV 5201 --time $T_RR) ||
				fail "$c, $n rules: rr: $(cat "$WORK/client.err")"
			bulk=$(client "$c" bulk $SRV 5202 --time $T_BULK) ||
				fail "$c, $n rules: bulk: $(cat "$WORK/client.err")"
			printf '{"n":%s,"config":"%s","round":%s,"rr":%s,"bulk":%s}\n' \
				"$n" "$c" "$r" "$rr" "$bulk" >>"$WORK/raw.jsonl"
		done
	done
	for c in $CONFIGS; do
		probe "$c"
	done
done

"$PY" report datapath "$WORK/raw.jsonl" "$OUT/net_datapath.json" "cpu=$PIN_CPU" \
	"ipt=$IPT_VER" "nft=$NFT_VER" "t_rr=$T_RR" "t_bulk=$T_BULK" "smoke=$SMOKE" "kernel=$KERNEL"
