# SPDX-License-Identifier: GPL-2.0-only
# Shared setup for the TC end-to-end tests. Source it after setting CGFW and
# PEER (paths of the cgfw binary and of tc_peer).
#
# Topology, created per test with unique names, removed by the exit trap:
#
#   [client ns CNS]  vc ---- veth ---- vs  [server ns SNS: cgfw attached to vs]
#   192.0.2.1/24                           192.0.2.2/24
#   2001:db8:1::1/64                       2001:db8:1::2/64
#
# The client routes 198.51.100.0/24, 203.0.113.0/24, 2001:db8:2::/48 and
# 2001:db8:3::/48 via the server; nothing else. No default route anywhere;
# documentation ranges only. cgfw runs inside SNS via nsenter, with its own
# state root CGFW_BPFFS_ROOT.

set -u

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root" >&2
	exit 77
fi

ID=${TC_TEST_NAME:-t}$$
CNS=tcc-$ID
SNS=tcs-$ID
VC=vc$$
VS=vs$$
export CGFW_BPFFS_ROOT=/sys/fs/bpf/cgfw-test-tc-$ID
TMPD=$(mktemp -d /tmp/cgfw-tc-test.XXXXXX)
FAILS=0
BGPIDS=""
CLEANUP_EXTRA=""

cleanup() {
	set +e
	for p in $BGPIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	eval "$CLEANUP_EXTRA"
	[ -e /run/netns/$SNS ] && S "$CGFW" reset --yes >/dev/null 2>&1
	ip netns del "$CNS" 2>/dev/null
	ip netns del "$SNS" 2>/dev/null
	rm -rf "$CGFW_BPFFS_ROOT" 2>/dev/null
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

S() { nsenter --net=/run/netns/$SNS "$@"; }
C() { nsenter --net=/run/netns/$CNS "$@"; }
cgfw() { S "$CGFW" "$@"; }

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	FAILS=$((FAILS + 1))
}
# check DESCRIPTION COMMAND...: the command must succeed
check() {
	local what=$1
	shift
	if "$@" >"$TMPD/check.out" 2>&1; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/#   /' "$TMPD/check.out"
	fi
}
# expect_rc RC DESCRIPTION COMMAND...: the command must exit with RC
expect_rc() {
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$TMPD/rc.out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$what (exit $rc)"
	else
		not_ok "$what: exit $rc, expected $want"
		sed 's/^/#   /' "$TMPD/rc.out"
	fi
}
# contains FILE PATTERN DESCRIPTION
contains() {
	if grep -q -- "$2" "$1"; then
		ok "$3"
	else
		not_ok "$3 (no '$2' in:)"
		sed 's/^/#   /' "$1"
	fi
}
lacks() {
	if grep -q -- "$2" "$1"; then
		not_ok "$3 ('$2' found in:)"
		sed 's/^/#   /' "$1"
	else
		ok "$3"
	fi
}

setup_pair() {
	ip netns add "$CNS" || exit 1
	ip netns add "$SNS" || exit 1
	ip link add "$VC" netns "$CNS" type veth peer name "$VS" netns "$SNS" || exit 1
	C ip link set lo up
	S ip link set lo up
	C ip link set "$VC" up
	S ip link set "$VS" up
	C ip addr add 192.0.2.1/24 dev "$VC"
	S ip addr add 192.0.2.2/24 dev "$VS"
	C ip addr add 2001:db8:1::1/64 dev "$VC" nodad
	S ip addr add 2001:db8:1::2/64 dev "$VS" nodad
	C ip route add 198.51.100.0/24 via 192.0.2.2
	C ip route add 203.0.113.0/24 via 192.0.2.2
	C ip -6 route add 2001:db8:2::/48 via 2001:db8:1::2
	C ip -6 route add 2001:db8:3::/48 via 2001:db8:1::2
	# Neighbours resolved once, so the first test packet is not a probe.
	C "$PEER" ping 192.0.2.2 --timeout 2 >/dev/null 2>&1
	C "$PEER" ping 2001:db8:1::2 --timeout 2 >/dev/null 2>&1
}

# bg S|C OUTFILE COMMAND...: run in a namespace in the background; BGPID is
# the command itself (exec'd, so signals reach it), killed by the exit trap.
bg() {
	local ns=$1 out=$2 dir
	shift 2
	[ "$ns" = S ] && dir=$SNS || dir=$CNS
	(exec nsenter --net=/run/netns/$dir "$@" >"$out" 2>&1) &
	BGPID=$!
	BGPIDS="$BGPIDS $BGPID"
}

# stop PID: SIGINT, then its exit status (124 if it did not stop within 3 s)
stop() {
	local i
	kill -INT "$1" 2>/dev/null
	for i in $(seq 1 30); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

# listen NS OUTFILE tcp|udp ADDR PORT [opts]: a listener in the background,
# returned once it is bound.
listen() {
	local ns=$1 out=$2 i
	shift 2
	bg "$ns" "$out" "$PEER" listen "$@"
	for i in $(seq 1 50); do
		grep -q READY "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "listener $* did not start:" >&2
	cat "$out" >&2
	return 1
}

# counter REASON [DIR]: a datapath counter from `cgfw tc list --json`
counter() {
	cgfw tc list --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["counters"][sys.argv[2]].get(sys.argv[1], {"packets": 0})["packets"])' "$1" "${2:-ingress}"
}

# rule_packets KIND DST PORTS: packet counter of a rule from the JSON listing
rule_packets() {
	cgfw "$1" list --json | python3 -c '
import json, sys
for r in json.load(sys.stdin)["rules"]:
    if r["dst"] == sys.argv[1] and str(r["ports"]) == sys.argv[2]:
        print(r["packets"]); break
else:
    print(-1)' "$2" "$3"
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		echo "# $FAILS failed"
		exit 1
	fi
	echo "# all passed"
	exit 0
}
