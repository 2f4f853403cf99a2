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

CNS=cgfwb-sw$$-c
SNS=cgfwb-sw$$-s
VC=swc$$
VS=sws$$
pair "$CNS" "$SNS" "$VC" "$VS"
in_ns "$CNS" ip addr add 192.0.2.1/24 dev "$VC"
in_ns "$SNS" ip addr add 192.0.2.2/24 dev "$VS"
in_ns "$SNS" ip addr add 192.0.2.3/24 dev "$VS"
CG=$(cgroup_make app)

"$PY" addrs $RULES 1 list "$TMP/set1.txt" --v4 198.51.100.0/24 >/dev/null
"$PY" addrs $RULES 2 list "$TMP/set2.txt" --v4 203.0.113.0/24 >/dev/null
cat >"$TMP/policy-1.yaml" <<EOF
version: 1
workloads:
  - name: app
    cgroup: $CG
    default: allow
    egress:
      - deny_file: set1.txt
      - deny: 192.0.2.3
EOF
cat >"$TMP/same-2.yaml" <<EOF
version: 1
workloads:
  - name: app
    cgroup: $CG
    default: allow
    egress:
      - deny_file: set2.txt
      - deny: 192.0.2.3
EOF
cat >"$TMP/moved-2.yaml" <<EOF
version: 1
workloads:
  - name: app
    cgroup: $CG
    default: deny
    egress:
      - deny_file: set2.txt
      - allow: 192.0.2.2
        proto: udp
        ports: 5001
EOF
for f in policy-1 same-2 moved-2; do
	"$CGFW" policy check "$TMP/$f.yaml" >/dev/null 2>"$TMP/cmd.err" ||
		fail "policy check $f.yaml: $(cat "$TMP/cmd.err")"
done

now_ns() { date +%s%N; }
jget() { python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

: >"$TMP/raw.jsonl"
for scenario in same moved; do
	second=$TMP/$scenario-2.yaml
	"$CGFW" policy apply "$TMP/policy-1.yaml" >/dev/null 2>"$TMP/cmd.err" ||
		fail "policy apply policy-1.yaml: $(cat "$TMP/cmd.err")"

	bg "$TMP/recv.out" nsenter --net=/run/netns/"$SNS" "$NB" udprecv 5001 5002 --timeout 600
	RECV=$BG_PID
	wait_ready "$TMP/recv.out" "$RECV" || exit 1
	# Resolve the neighbours first (from outside the cgroup): datagrams queued
	# behind an ARP request could be dropped, and counted as the firewall's.
	in_ns "$CNS" "$NB" udpsend --rate 1000 --count 1 192.0.2.2 9 192.0.2.3 9 >/dev/null
	sleep 0.2

	bg "$TMP/send.out" "$CGFW" exec --cgroup "$CG" -- nsenter --net=/run/netns/"$CNS" \
		"$NB" udpsend --rate "$RATE" --count $((RATE * 300)) --time 300 \
		192.0.2.2 5001 192.0.2.3 5002
	SEND=$BG_PID
	sleep 0.5
	applies=""
	for ((k = 1; k <= APPLIES; k++)); do
		f=$([ $((k % 2)) = 1 ] && echo "$second" || echo "$TMP/policy-1.yaml")
		t0=$(now_ns)
		"$CGFW" policy apply "$f" >/dev/null 2>"$TMP/cmd.err" ||
			fail "policy apply $(basename "$f") under traffic: $(cat "$TMP/cmd.err")"
		t1=$(now_ns)
		applies="$applies${applies:+,}$(printf '{"file":"%s","t0_ns":%s,"t1_ns":%s,"s":%s}' \
			"$(basename "$f")" "$t0" "$t1" "$(awk -v d=$((t1 - t0)) 'BEGIN { print d / 1e9 }')")"
		kill -0 "$SEND" 2>/dev/null ||
			fail "the sender stopped during apply $k: $(cat "$TMP/send.out")"
		sleep 0.3
	done
	sleep 0.3
	stop_bg "$SEND" || fail "the sender failed: $(cat "$TMP/send.out")"
	sleep 0.3
	stop_bg "$RECV" || fail "the receiver failed: $(cat "$TMP/recv.out")"
	send=$(grep '^{' "$TMP/send.out") || fail "no result from the sender: $(cat "$TMP/send.out")"
	recv=$(grep '^{' "$TMP/recv.out") || fail "no result from the receiver: $(cat "$TMP/recv.out")"
	[ "$(jget "$send" 'd["streams"][1]["eperm"]')" -gt 0 ] ||
		fail "$scenario: stream B was never refused: the policy does not see the sender"
	[ "$(jget "$recv" 'd["ports"][0]["received"]')" -gt 0 ] ||
		fail "$scenario: stream A never arrived"
	printf '{"scenario":"%s","applies":[%s],"sender":%s,"receiver":%s}\n' \
		"$([ $scenario = same ] && echo "same rules" || echo "verdict moves")" \
		"$applies" "$send" "$recv" >>"$TMP/raw.jsonl"
done

"$PY" report swap "$TMP/raw.jsonl" "$OUT/policy_swap.json" "rate=$RATE" "applies=$APPLIES" \
	"rules=$RULES" "smoke=$SMOKE" "kernel=$KERNEL"
