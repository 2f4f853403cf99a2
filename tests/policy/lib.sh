# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The policy end-to-end suite (tests/policy/test_*.sh) on the shared harness,
# tests/lib/harness.sh (names, reaper, trap, pins, asserts):
#
#   bash test_NAME.sh PATH_TO_CGFW
#
# Besides the harness's names: $CGFW_STATE_DIR (the saved policy and the
# container records), $ID (= $H_NAME; containers get cgroups under $ID-ctr
# in every hierarchy, and state under $WORK/runc and $WORK/podman, all
# removed by the harness).
#
# Topology (setup_net), with no default route anywhere:
#   $NSC veth0 198.51.100.1/24  <-->  $NSS veth1 198.51.100.2/24, 198.51.100.3/24
# Servers are busybox httpd in $NSS serving $WORK/www/token ("cgfw-ok"): the
# containers, busybox only, fetch it with wget. Host-side clients are busybox
# wget too, in the client netns, inside a cgroup (get_from_cg) or not
# (get_from_outside), always with a timeout.
#
# Exit status: 0 pass, 1 fail, 77 skip (not root, or a tool is missing).

# shellcheck source=tests/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

TOKEN=cgfw-ok
h_init policy "${1:-}"
BUSYBOX=$(command -v busybox) || skip "needs busybox (busybox-static)"
# shellcheck disable=SC2034 # used by the tests
SRC_DIR=$H_SRC ID=$H_NAME
NSC=$H_NAME-c
NSS=$H_NAME-s

setup() {
	h_setup
	mkdir -p "$WORK/www" || fail "cannot create $WORK/www"
	echo "$TOKEN" >"$WORK/www/token"
	log "cgroup $CG_REL, state $CGFW_BPFFS_ROOT and $CGFW_STATE_DIR"
}

setup_net() {
	h_pair "$NSC" veth0 "$NSS" veth1
	h_addr "$NSC" veth0 198.51.100.1/24
	h_addr "$NSS" veth1 198.51.100.2/24 198.51.100.3/24
	h_check_routes || fail "refusing to send traffic"
	log "netns $NSC (198.51.100.1) <-> $NSS (198.51.100.2, .3)"
}

# start_server ADDR:PORT: busybox httpd in the server netns, bounded in time.
start_server() {
	bg -n "$NSS" "$WORK/httpd-$1.log" timeout $((170 * H_SCALE)) "$BUSYBOX" httpd -f -p "$1" -h "$WORK/www"
	for _ in $(seq 50); do
		if [ "$(in_ns "$NSS" timeout 2 "$BUSYBOX" wget -q -O - "http://$1/token" 2>/dev/null)" = \
			"$TOKEN" ]; then
			return 0
		fi
		sleep 0.1
	done
	fail "server $1 did not start: $(cat "$WORK/httpd-$1.log")"
}

# get_from_cg CG ADDR:PORT: fetch the token from a process in cgroup CG
# (created if needed, through `cgfw exec`) and the client netns. (busybox
# 1.35's wget -T crashes: the time limit is timeout(1)'s.)
# With CG_ENTER=raw the process joins the cgroup by writing cgroup.procs
# itself: `cgfw exec` enforces the policy of a workload it enters, which a
# test of what restore re-created must not rely on.
get_from_cg() {
	if [ "${CG_ENTER:-exec}" = raw ]; then
		mkdir -p "$CG2/$1" || return 1
		# shellcheck disable=SC2016 # expanded by that shell
		timeout 10 sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CG2/$1" \
			nsenter --net="/run/netns/$NSC" \
			timeout "${WGET_TIMEOUT:-3}" "$BUSYBOX" wget -q -O - "http://$2/token" 2>&1
		return
	fi
	timeout 10 "$CGFW" exec --cgroup "$1" -- nsenter --net="/run/netns/$NSC" \
		timeout "${WGET_TIMEOUT:-3}" "$BUSYBOX" wget -q -O - "http://$2/token" 2>&1
}

# get_from_outside ADDR:PORT: the same from the client netns, in no test cgroup.
get_from_outside() {
	timeout 10 nsenter --net="/run/netns/$NSC" \
		timeout "${WGET_TIMEOUT:-3}" "$BUSYBOX" wget -q -O - "http://$1/token" 2>&1
}

expect_reach() { # CG ADDR:PORT
	local out
	out=$(get_from_cg "$1" "$2")
	[ "$out" = "$TOKEN" ] || fail "$2 from cgroup $1: expected reachable, got: $out"
	log "ok: $2 reachable from $1"
}

# The address must be blocked from CG and, so that a server that is down
# cannot pass for a block, reachable from outside the cgroup.
expect_blocked() { # CG ADDR:PORT
	local out
	out=$(WGET_TIMEOUT=1 get_from_cg "$1" "$2")
	[ "$out" != "$TOKEN" ] || fail "$2 from cgroup $1: expected blocked, but it answered"
	out=$(get_from_outside "$2")
	[ "$out" = "$TOKEN" ] || fail "$2: the server does not answer outside the cgroup either: $out"
	log "ok: $2 blocked from $1"
}

# list --json without the attach times (which a re-attach changes).
list_json_stable() {
	"$CGFW" list --json | "$PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
for a in d["attachments"]:
    a.pop("attached_at", None)
print(json.dumps(d, sort_keys=True))'
}

cgroup_id() { stat -c %i "$CG2/$1"; }

# ---- policies and containers ---------------------------------------------------------------

# one_allow_policy FILE NAME [CGROUP_REL]: the suite's usual policy, workload
# NAME (on CGROUP_REL, else hook-only), default deny, egress only to
# 198.51.100.2 tcp 8080.
one_allow_policy() {
	{
		printf 'version: 1\nworkloads:\n  - name: %s\n' "$2"
		[ -z "${3:-}" ] || printf '    cgroup: %s\n' "$3"
		printf '    default: deny\n    egress:\n      - allow: 198.51.100.2\n'
		printf '        proto: tcp\n        ports: 8080\n'
	} >"$1"
}

# expect_container_enforced WHEN LIST CGROUP_REL ID: in LIST (`cgfw list
# --json`), the container's cgroup attached with one_allow_policy's defaults
# (deny) and rule (origin policy); its record written.
expect_container_enforced() {
	local when=$1 l=$2 cg=$3 cid
	cid=$(cgroup_id "$cg")
	json_check "$when: the container's cgroup is attached, default deny" "$l" \
		"[(a['default_ingress'], a['default_egress']) for a in d['attachments'] if a['cgroup'] == '$cg' and a['cgroup_id'] == $cid] == [('deny', 'deny')]"
	json_check "$when: its rules, origin policy" "$l" \
		"[(r['prefix'], r['ports'], r['origin']) for r in d['rules'] if r['cgroup'] == '$cg'] == [('198.51.100.2', 8080, 'policy')]"
	[ -f "$CGFW_STATE_DIR/containers/$4.json" ] || fail "no container record $when"
}

# make_rootfs DIR: a root filesystem of busybox-static and its applets.
make_rootfs() {
	local d=$1 a
	mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev" "$d/tmp" "$d/etc" || return 1
	cp "$BUSYBOX" "$d/bin/busybox" || return 1
	for a in sh wget cat echo sleep true timeout; do
		ln -sf busybox "$d/bin/$a"
	done
}

# The container's script: fetch the token from each ADDR:PORT and print one
# line per address, "ADDR:PORT ok" or "ADDR:PORT blocked".
container_script() {
	local s="" a
	for a in "$@"; do
		s+="if [ \"\$(timeout 2 wget -q -O - http://$a/token)\" = $TOKEN ]; then echo $a ok; else echo $a blocked; fi; "
	done
	printf '%s' "$s"
}
