# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The TC end-to-end suite (tests/tc/e2e_*.sh) on the shared harness,
# tests/lib/harness.sh (names, reaper, trap, pins, counted asserts):
#
#   bash e2e_NAME.sh PATH_TO_CGFW
#
# Topology (setup_pair), removed by the exit trap:
#
#   [client ns CNS]  vc ---- veth ---- vs  [server ns SNS: cgfw attached to vs]
#   192.0.2.1/24                           192.0.2.2/24
#   2001:db8:1::1/64                       2001:db8:1::2/64
#
# The client routes 198.51.100.0/24, 203.0.113.0/24, 2001:db8:2::/48 and
# 2001:db8:3::/48 via the server; nothing else. No default route anywhere;
# documentation ranges only. cgfw runs inside SNS (nsenter), where the exit
# trap's `cgfw reset` runs too. The other end of every test is cgfw_peer.

# shellcheck source=tests/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

h_init tc "${1:-}"
h_need_peer

CNS=$H_NAME-c
SNS=$H_NAME-s
VC=vc$$
VS=vs$$

S() { in_ns "$SNS" "$@"; }
C() { in_ns "$CNS" "$@"; }
cgfw() { S "$CGFW" "$@"; }

setup_pair() {
	h_setup
	h_cgfw_netns "$SNS"
	h_pair "$CNS" "$VC" "$SNS" "$VS"
	h_addr "$CNS" "$VC" 192.0.2.1/24 2001:db8:1::1/64
	h_addr "$SNS" "$VS" 192.0.2.2/24 2001:db8:1::2/64
	if ! C ip route add 198.51.100.0/24 via 192.0.2.2 ||
		! C ip route add 203.0.113.0/24 via 192.0.2.2 ||
		! C ip -6 route add 2001:db8:2::/48 via 2001:db8:1::2 ||
		! C ip -6 route add 2001:db8:3::/48 via 2001:db8:1::2; then
		fail "cannot add the routes"
	fi
	h_check_routes || fail "refusing to send traffic"
	# Neighbours resolved once, so the first test packet is not a probe.
	C "$PEER" ping 192.0.2.2 --timeout 2 >/dev/null 2>&1
	C "$PEER" ping 2001:db8:1::2 --timeout 2 >/dev/null 2>&1
}

# listen S|C OUTFILE tcp|udp ADDR PORT [--transparent] [--timeout S]: a
# listener that answers "ORIGDST A P", in the background, returned once bound.
# It lives S times $H_SCALE seconds.
listen() {
	local ns=$CNS out=$2 proto=$3 addr=$4 port=$5
	local -a opts=()
	[ "$1" = S ] && ns=$SNS
	shift 5
	while [ $# -gt 0 ]; do
		if [ "$1" = --timeout ] && [ $# -ge 2 ]; then
			opts+=(--timeout $(($2 * H_SCALE)))
			shift 2
		else
			opts+=("$1")
			shift
		fi
	done
	[[ $addr == *:* ]] && addr="[$addr]"
	bg -n "$ns" "$out" "$PEER" serve "--$proto" "$addr:$port" --origdst "${opts[@]}"
	h_wait_ready "$out" "$BGPID"
}

# counter REASON [DIR]: a datapath counter from `cgfw tc list --json`
counter() {
	cgfw tc list --json | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(d["counters"][sys.argv[2]].get(sys.argv[1], {"packets": 0})["packets"])' "$1" "${2:-ingress}"
}

# rule_packets KIND DST PORTS: packet counter of a rule from the JSON listing
rule_packets() {
	cgfw "$1" list --json | "$PYTHON" -c '
import json, sys
for r in json.load(sys.stdin)["rules"]:
    if r["dst"] == sys.argv[1] and str(r["ports"]) == sys.argv[2]:
        print(r["packets"]); break
else:
    print(-1)' "$2" "$3"
}
