#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Policy swap under traffic: two UDP streams at a fixed rate from one process
# in a cgroup (client namespace -> server namespace over a veth) while
# `cgfw policy apply` replaces the cgroup's policy several times, alternating
# between two files whose deny_file lists hold RULES different addresses each
# (documentation ranges, never a stream's target).
#
#   stream A  192.0.2.2 udp/5001, allowed by both policies
#   stream B  192.0.2.3 udp/5002, denied by both policies
#
# Two scenarios: 'same rules' (both policies: default allow, deny 192.0.2.3)
# and 'verdict moves' (policy 2: default deny, allow 192.0.2.2 udp/5001), where
# the rules and the default that decide the streams change at every apply.
# The receiver counts what arrives; the sender counts what the kernel refused
# (EPERM: the cgroup egress verdict). Target: no A datagram lost, no B
# datagram received. The run fails only if the streams or the applies do not
# work at all (B never refused, A never received, an apply that errs).
#
#   bench/policy_swap.sh BUILD [--smoke] [--out DIR]
#
# Markdown on stdout; raw numbers and PASS/MISS in OUT/policy_swap.json.
# shellcheck source=bench/netlib.sh
source "$(dirname "$0")/netlib.sh"

if [ "$SMOKE" = 1 ]; then
	RULES=1000 RATE=5000 APPLIES=2
else
	RULES=100000 RATE=${BENCH_SWAP_RATE:-20000} APPLIES=${BENCH_SWAP_APPLIES:-4}
fi

CNS=$H_NAME-c
SNS=$H_NAME-s
VC=swc$$
VS=sws$$
h_pair "$CNS" "$VC" "$SNS" "$VS"
h_addr "$CNS" "$VC" 192.0.2.1/24
h_addr "$SNS" "$VS" 192.0.2.2/24 192.0.2.3/24
h_check_routes || fail "refusing to send traffic"
APP=$(cgroup_make app)

"$PY" addrs $RULES 1 list "$WORK/set1.txt" --v4 198.51.100.0/24 >/dev/null
"$PY" addrs $RULES 2 list "$WORK/set2.txt" --v4 203.0.113.0/24 >/dev/null
# policy FILE DEFAULT DENY_FILE [LINE...]: the workload 'app' on $APP, its
# egress rules the deny_file and the LINEs.
policy() {
	local f=$WORK/$1 def=$2 list=$3
	shift 3
	cat >"$f" <<EOF
version: 1
workloads:
  - name: app
    cgroup: $APP
    default: $def
    egress:
      - deny_file: $list
EOF
	printf '%s\n' "$@" >>"$f"
}
policy policy-1.yaml allow set1.txt '      - deny: 192.0.2.3'
policy same-2.yaml allow set2.txt '      - deny: 192.0.2.3'
policy moved-2.yaml deny set2.txt '      - allow: 192.0.2.2' '        proto: udp' '        ports: 5001'
for f in policy-1 same-2 moved-2; do
	"$CGFW" policy check "$WORK/$f.yaml" >/dev/null 2>"$WORK/cmd.err" ||
		fail "policy check $f.yaml: $(cat "$WORK/cmd.err")"
done

now_ns() { date +%s%N; }

: >"$WORK/raw.jsonl"
for scenario in same moved; do
	second=$WORK/$scenario-2.yaml
	"$CGFW" policy apply "$WORK/policy-1.yaml" >/dev/null 2>"$WORK/cmd.err" ||
		fail "policy apply policy-1.yaml: $(cat "$WORK/cmd.err")"

	bg -n "$SNS" "$WORK/recv.out" "$PEER" udprecv 5001 5002 --timeout 600
	RECV=$BGPID
	h_wait_ready "$WORK/recv.out" "$RECV"
	# Resolve the neighbours first (from outside the cgroup): datagrams queued
	# behind an ARP request could be dropped, and counted as the firewall's.
	in_ns "$CNS" "$PEER" udpsend --rate 1000 --count 1 192.0.2.2 9 192.0.2.3 9 >/dev/null
	sleep 0.2

	bg "$WORK/send.out" "$CGFW" exec --cgroup "$APP" -- nsenter --net=/run/netns/"$CNS" \
		"$PEER" udpsend --rate "$RATE" --count $((RATE * 300)) --time 300 \
		192.0.2.2 5001 192.0.2.3 5002
	SEND=$BGPID
	sleep 0.5
	applies=""
	for ((k = 1; k <= APPLIES; k++)); do
		f=$([ $((k % 2)) = 1 ] && echo "$second" || echo "$WORK/policy-1.yaml")
		t0=$(now_ns)
		"$CGFW" policy apply "$f" >/dev/null 2>"$WORK/cmd.err" ||
			fail "policy apply $(basename "$f") under traffic: $(cat "$WORK/cmd.err")"
		t1=$(now_ns)
		applies="$applies${applies:+,}$(printf '{"file":"%s","t0_ns":%s,"t1_ns":%s,"s":%s}' \
			"$(basename "$f")" "$t0" "$t1" "$(awk -v d=$((t1 - t0)) 'BEGIN { print d / 1e9 }')")"
		kill -0 "$SEND" 2>/dev/null ||
			fail "the sender stopped during apply $k: $(cat "$WORK/send.out")"
		sleep 0.3
	done
	sleep 0.3
	stop "$SEND" TERM || fail "the sender failed: $(cat "$WORK/send.out")"
	sleep 0.3
	stop "$RECV" TERM || fail "the receiver failed: $(cat "$WORK/recv.out")"
	send=$(grep '^{' "$WORK/send.out") || fail "no result from the sender: $(cat "$WORK/send.out")"
	recv=$(grep '^{' "$WORK/recv.out") || fail "no result from the receiver: $(cat "$WORK/recv.out")"
	[ "$(json_eval "$send" 'd["streams"][1]["eperm"]')" -gt 0 ] ||
		fail "$scenario: stream B was never refused: the policy does not see the sender"
	[ "$(json_eval "$recv" 'd["ports"][0]["received"]')" -gt 0 ] ||
		fail "$scenario: stream A never arrived"
	printf '{"scenario":"%s","applies":[%s],"sender":%s,"receiver":%s}\n' \
		"$([ $scenario = same ] && echo "same rules" || echo "verdict moves")" \
		"$applies" "$send" "$recv" >>"$WORK/raw.jsonl"
done

"$PY" report swap "$WORK/raw.jsonl" "$OUT/policy_swap.json" "rate=$RATE" "applies=$APPLIES" \
	"rules=$RULES" "smoke=$SMOKE" "kernel=$KERNEL"
