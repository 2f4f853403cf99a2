#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Datapath under real traffic: 1-byte TCP request/response latency and bulk
# TCP throughput between two network namespaces over a veth, through N rules
# that never match, for these configurations (the firewalls hold the same
# addresses):
#
#   none      no firewall
#   empty     a cgroup_skb program pair that lets everything through
#             (bench_empty.bpf.c) on the client's cgroup, both directions: the
#             kernel's own cost for any cgroup_skb firewall, the floor under cgfw
#   cgfw      the client runs in a cgroup cgfw is attached to, the rules loaded
#             with `cgfw block --from-file` (both directions, the default)
#   iptables  one ip6tables rule per address in the client namespace's OUTPUT
#             chain (ip6tables-restore)
#   nft       one nftables set with the addresses and one rule on the output hook
#   nft2      the same set with a rule on the output hook and one on the input
#             hook: both directions, what `cgfw block` does
#
# Each firewall gets its own pair of namespaces (same addresses, same veth),
# loaded once per N, so the rounds can interleave (none empty cgfw iptables
# nft nft2 none ...) without reloading anything. Every client runs through
# `cgfw exec --cgroup CG -- nsenter --net=NS taskset -c CPU ...`; only cgfw's
# cgroup has cgfw attached, only empty's the empty pair. The report compares
# each round with the others' in the same round (paired), so a slow minute of
# the machine's neighbours moves both sides of a comparison. The traffic is
# IPv6 (2001:db8:1::1 -> ::2): the IPv4 documentation ranges hold 768
# addresses, far fewer than 10k rules.
# The last rule is 2001:db8:1::3, an address the server holds: a datagram to
# it must be refused (EPERM) by every firewall but 'none' and 'empty', before
# and after the rounds, or the run fails (a firewall that does not see the packets
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
	COUNTS=${BENCH_DP_COUNTS:-10000 100000} ROUNDS=${BENCH_DP_ROUNDS:-11} T_RR=1 T_BULK=0.5
fi
CONFIGS="none empty cgfw iptables nft nft2"
SRV=2001:db8:1::2
PROBE=2001:db8:1::3
command -v ip6tables-restore >/dev/null || fail "ip6tables-restore not installed (scripts/install-deps.sh)"
command -v nft >/dev/null || fail "nft not installed (scripts/install-deps.sh)"
command -v bpftool >/dev/null || fail "bpftool not installed (scripts/install-deps.sh)"
EMPTY_OBJ=$BUILD/skel/bench_empty.bpf.o
[ -f "$EMPTY_OBJ" ] || fail "$EMPTY_OBJ is not built (cmake --build $BUILD)"

CG_FW=$(cgroup_make fw)
CG_PLAIN=$(cgroup_make plain)
CG_EMPTY=$(cgroup_make empty)
# The empty pair, pinned beside the run's cgfw root (the trap removes both) and
# attached the plain way: one program per direction, as cgfw's links are.
EMPTY_PIN=$CGFW_BPFFS_ROOT-empty
bpftool prog loadall "$EMPTY_OBJ" "$EMPTY_PIN" || fail "bpftool prog loadall $EMPTY_OBJ failed"
for at in egress:bench_empty ingress:bench_empty_in; do
	bpftool cgroup attach "$CG2/$CG_EMPTY" "${at%%:*}" pinned "$EMPTY_PIN/${at#*:}" ||
		fail "cannot attach ${at#*:} to $CG2/$CG_EMPTY (${at%%:*})"
done
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

# cg_of CONFIG: the cgroup that configuration's client runs in.
cg_of() {
	case $1 in
	cgfw) echo "$CG_FW" ;;
	empty) echo "$CG_EMPTY" ;;
	*) echo "$CG_PLAIN" ;;
	esac
}

# client CONFIG ARGS...: the peer in that firewall's cgroup and namespace, pinned.
client() {
	local c=$1 cg
	shift
	cg=$(cg_of "$c")
	"$CGFW" exec --cgroup "$cg" -- nsenter --net=/run/netns/"${CNS[$c]}" \
		taskset -c "$PIN_CPU" "$PEER" "$@" 2>"$WORK/client.err"
}

# probe CONFIG: the rule for $PROBE must refuse a datagram (not for 'none'
# and 'empty').
probe() {
	local c=$1 res want=1
	[ "$c" = none ] || [ "$c" = empty ] && want=0
	res=$(client "$c" udpsend --rate 1000 --count 1 $PROBE 9) ||
		fail "$c: probe datagram: $(cat "$WORK/client.err")"
	got=$(json_eval "$res" 'd["streams"][0]["eperm"]')
	[ "$got" = "$want" ] ||
		fail "$c: a datagram to $PROBE (the last rule) was $([ "$got" = 1 ] && echo refused ||
			echo sent); expected the opposite"
}

# insitu N: what each cgroup_skb program costs per packet of real traffic,
# from the kernel's own accounting (kernel.bpf_stats_enabled: run_time_ns and
# run_cnt per program), over one request/response round each for empty and
# cgfw. Apart from the rounds above: the accounting reads the clock twice a
# run, which would slow every round of those two.
prog_ids() { bpftool cgroup show "$CG2/$1" --json | json_eval "$(cat)" '" ".join("%d:%s" % (p["id"], p["attach_type"]) for p in d)'; }
prog_stat() { bpftool prog show id "$1" --json | json_eval "$(cat)" '"%d %d" % (d.get("run_time_ns", 0), d.get("run_cnt", 0))'; }
insitu() {
	local n=$1 prev c ids id at t0 n0 t1 n1 out="" ok=1
	prev=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) || return 0
	# The harness's cleanup puts the old value back should this run die here.
	echo "$prev" >"$WORK/.bpf_stats_enabled"
	sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null || {
		log "kernel.bpf_stats_enabled cannot be set: no per-program figures"
		rm -f "$WORK/.bpf_stats_enabled"
		return 0
	}
	for c in empty cgfw; do
		ids=$(prog_ids "$(cg_of "$c")") || ok=0
		declare -A before=()
		for id in $ids; do before[$id]=$(prog_stat "${id%%:*}") || ok=0; done
		client "$c" rr $SRV 5201 --time $T_RR >/dev/null || ok=0
		for id in $ids; do
			at=${id#*:}
			read -r t0 n0 <<<"${before[$id]}"
			read -r t1 n1 <<<"$(prog_stat "${id%%:*}")" || ok=0
			out+="${out:+,}\"$c/$at\":{\"ns\":$((t1 - t0)),\"runs\":$((n1 - n0))}"
		done
		unset before
	done
	sysctl -qw kernel.bpf_stats_enabled="$prev" && rm -f "$WORK/.bpf_stats_enabled"
	[ "$ok" = 1 ] || fail "the per-program figures (bpftool, or the client) failed"
	echo "{\"n\":$n,\"insitu\":{$out}}" >>"$WORK/insitu.jsonl"
}

: >"$WORK/raw.jsonl"
: >"$WORK/insitu.jsonl"
for n in $COUNTS; do
	"$PY" addrs "$n" 1 list "$WORK/rules.txt" --probe $PROBE >/dev/null
	"$PY" addrs "$n" 1 ip6tables "$WORK/rules.ipt" --probe $PROBE >/dev/null
	"$PY" addrs "$n" 1 nft "$WORK/rules.nft" --probe $PROBE >/dev/null
	"$PY" addrs "$n" 1 nft2 "$WORK/rules.nft2" --probe $PROBE >/dev/null

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
	in_ns "${CNS[nft2]}" nft flush ruleset
	in_ns "${CNS[nft2]}" nft -f "$WORK/rules.nft2" || fail "nft -f ($n addresses, both hooks) failed"

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
	insitu "$n"
done

"$PY" report datapath "$WORK/raw.jsonl" "$OUT/net_datapath.json" "cpu=$PIN_CPU" \
	"insitu=$WORK/insitu.jsonl" \
	"ipt=$IPT_VER" "nft=$NFT_VER" "t_rr=$T_RR" "t_bulk=$T_BULK" "smoke=$SMOKE" "kernel=$KERNEL"
