# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The cgroup datapath's end-to-end suite (tests/e2e/test_*.sh) on the shared
# harness, tests/lib/harness.sh (names, reaper, trap, pins, asserts):
#
#   bash test_NAME.sh PATH_TO_CGFW [EXTRA...]
#
# setup gives every test its own pinned state, cgroup ($CG) and pair of
# network namespaces joined by a veth (no default route anywhere, so a packet
# a broken block lets through has nowhere to go):
#
#   $NSC (client)                          $NSS (server)
#   veth0 198.51.100.1/24  <-- veth -->    veth1 198.51.100.2/24, 198.51.100.3/24
#         2001:db8::1/64                         2001:db8::2/64, 2001:db8::3/64
#
# Servers are cgfw_peer echo servers; clients (cgfw_peer connect --echo) run
# inside a cgroup and the client netns (from_cg), only in the client netns
# (from_outside), or in the server netns (from_server_ns).

# shellcheck source=tests/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

h_init e2e "${1:-}"
shift
h_need_peer

NSC=$H_NAME-c
NSS=$H_NAME-s
# shellcheck disable=SC2034 # for tests that pin programs of their own
EXTRA_PINS=/sys/fs/bpf/$H_NAME-extra

setup() {
	h_setup
	h_pair "$NSC" veth0 "$NSS" veth1
	h_addr "$NSC" veth0 198.51.100.1/24 2001:db8::1/64
	h_addr "$NSS" veth1 198.51.100.2/24 198.51.100.3/24 2001:db8::2/64 2001:db8::3/64
	h_check_routes || fail "refusing to send traffic"
	log "cgroup $CG, netns $NSC/$NSS, state $CGFW_BPFFS_ROOT"
}

# from_cg CG PROTO ADDR PORT [connect options]: from a process in cgroup CG
# (created if needed) and the client netns.
from_cg() {
	local cg=$1
	shift
	"$CGFW" exec --cgroup "$cg" -- nsenter --net="/run/netns/$NSC" \
		"$PEER" connect "$@" --echo --timeout "${CONNECT_TIMEOUT:-1}"
}

# From a process in the client netns outside the test cgroup.
from_outside() { in_ns "$NSC" "$PEER" connect "$@" --echo --timeout "${CONNECT_TIMEOUT:-1}"; }

# From a process in the server netns (outside the test cgroup).
from_server_ns() { in_ns "$NSS" "$PEER" connect "$@" --echo --timeout "${CONNECT_TIMEOUT:-1}"; }

# expect_reach DESC CLIENT-CMD...: every attempt must get its echo back.
expect_reach() { expect_client 0 "${REACH_TIMEOUT:-5}" reachable "$@"; }

# expect_blocked DESC CLIENT-CMD...: every attempt must be stopped the way the
# firewall stops it (no answer in time, or EPERM: exit 3); a refused
# connection or any other error is a failure, so a missing server cannot pass
# as blocked.
expect_blocked() { expect_client 3 "${BLOCK_TIMEOUT:-1}" blocked "$@"; }

expect_client() { # RC TIMEOUT WHAT DESC CLIENT-CMD...
	local want=$1 timeout=$2 what=$3 desc=$4 out rc
	shift 4
	out=$(CONNECT_TIMEOUT=$timeout "$@" 2>&1)
	rc=$?
	[ $rc -eq "$want" ] || fail "$desc: expected $what, got exit $rc:"$'\n'"$out"
	log "ok: $desc"
}

# start_server TAG SERVE-ARGS...: an echo server in the server netns, e.g.
# start_server srv --tcp 198.51.100.2:8080 --udp 198.51.100.2:9090
start_server() {
	local tag=$1
	shift
	bg -n "$NSS" "$WORK/$tag.log" "$PEER" serve --timeout "${SERVER_LIFETIME:-90}" "$@"
	h_wait_ready "$WORK/$tag.log" "$BGPID"
}

# start_server_in_cg CG TAG SERVE-ARGS...: an echo server in cgroup CG, client netns.
start_server_in_cg() {
	local cg=$1 tag=$2
	shift 2
	bg "$WORK/$tag.log" "$CGFW" exec --cgroup "$cg" -- nsenter --net="/run/netns/$NSC" \
		"$PEER" serve --timeout "${SERVER_LIFETIME:-90}" "$@"
	h_wait_ready "$WORK/$tag.log" "$BGPID"
}

# server_log TAG: the server's lines, "CONN peer=A:P origdst=A:P" per connection.
server_log() { cat "$WORK/$1.log" 2>/dev/null; }

# cgroup_progs CGROUP: "attach_type:name" of every BPF program attached to
# CGROUP (bpftool's view), sorted, on one line; "bpftool-error: ..." when
# bpftool or its output fails, so a comparison cannot pass by accident.
cgroup_progs() {
	local out
	out=$(bpftool -j cgroup show "$1" 2>&1) || {
		echo "bpftool-error: $out"
		return 1
	}
	printf '%s' "$out" | "$PYTHON" -c 'import json, sys
text = sys.stdin.read().strip()
progs = json.loads(text) if text else []   # bpftool prints nothing for no program
print(" ".join(sorted("%s:%s" % (p["attach_type"].replace("cgroup_inet_", ""), p["name"])
                      for p in progs)))' 2>&1 || echo "bpftool-error: cannot parse: $out"
}
