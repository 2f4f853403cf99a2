# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Harness for the policy end-to-end tests (sourced by tests/policy/test_*.sh):
#
#   bash test_NAME.sh PATH_TO_CGFW
#
# Every run gets names made of its pid and test name ($ID = cgfw-pol-PID-NAME):
#   pinned state  /sys/fs/bpf/cgfw-test-pol-PID-NAME   ($CGFW_BPFFS_ROOT)
#   saved state   /tmp/cgfw-pol-PID-NAME/state         ($CGFW_STATE_DIR)
#   cgroup        $CG2/$ID (and, for containers, $ID-ctr in every hierarchy)
#   netns         $ID-c (client), $ID-s (server)
# `trap teardown EXIT` removes all of it on success and on failure; leftovers
# of a run that was killed are reaped by the next run (its pid is gone).
#
# Topology (setup_net), with no default route anywhere:
#   $NSC veth0 198.51.100.1/24  <-->  $NSS veth1 198.51.100.2/24, 198.51.100.3/24
# Servers are busybox httpd in $NSS serving $WORK/www/token ("cgfw-ok").
# Clients are busybox wget, run in the client netns, inside a cgroup
# (from_cg) or not (from_outside), always with a timeout.
#
# Exit status: 0 pass, 1 fail, 77 skip (not root, or a tool is missing).

set -u -o pipefail

POL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$POL_DIR/../.." && pwd)
SKIP_RC=77
TOKEN=cgfw-ok

TEST_NAME=$(basename "$0" .sh)
NAME=${TEST_NAME#test_}

skip() {
	echo "SKIP: [$TEST_NAME] $*"
	exit $SKIP_RC
}

if [ $# -lt 1 ]; then
	echo "usage: $0 PATH_TO_CGFW" >&2
	exit 1
fi
CGFW=$(readlink -f "$1")
[ -x "$CGFW" ] || { echo "FAIL: cgfw binary '$1' is not executable" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "needs root (cgroups, BPF, network namespaces)"
BUSYBOX=$(command -v busybox) || skip "needs busybox (busybox-static)"
PYTHON=$(command -v python3) || skip "needs python3"

cgroup2_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo
}
# Every cgroup mount point, v1 and v2 (container runtimes create their
# cgroups in all of them on a hybrid host).
cgroup_mounts() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' \
		/proc/self/mountinfo | sort -u
}
CG2=$(cgroup2_mount)
[ -n "$CG2" ] || { echo "FAIL: no cgroup2 filesystem in /proc/self/mountinfo" >&2; exit 1; }

pol_id() { echo "cgfw-pol-$1-$2"; }
pol_pins() { echo "/sys/fs/bpf/cgfw-test-pol-$1-$2"; }
pol_work() { echo "/tmp/cgfw-pol-$1-$2"; }

ID=$(pol_id $$ "$NAME")
WORK=$(pol_work $$ "$NAME")
export CGFW_BPFFS_ROOT CGFW_STATE_DIR
CGFW_BPFFS_ROOT=$(pol_pins $$ "$NAME")
CGFW_STATE_DIR=$WORK/state
CG_REL=$ID
CG=$CG2/$CG_REL
NSC=$ID-c
NSS=$ID-s
BG_PIDS=()

log() { echo "[$TEST_NAME] $*"; }

fail() {
	echo "FAIL: [$TEST_NAME] $*" >&2
	exit 1
}

# ---- cleanup -------------------------------------------------------------------

# Kill everything in a cgroup tree and remove it (deepest first).
remove_cgroup_tree() {
	local d=$1 i
	[ -d "$d" ] || return 0
	if [ -e "$d/cgroup.kill" ]; then
		echo 1 >"$d/cgroup.kill" 2>/dev/null
	else
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
	fi
	for i in $(seq 30); do
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
		[ -d "$d" ] || return 0
		sleep 0.1
	done
	echo "teardown: cannot remove cgroup $d" >&2
}

# Remove everything run (pid, name) made. Safe on partial state.
pol_cleanup() {
	local pid=$1 name=$2 id work pins m ns p
	id=$(pol_id "$pid" "$name")
	work=$(pol_work "$pid" "$name")
	pins=$(pol_pins "$pid" "$name")

	# Containers of the run first (their hooks use the run's state).
	if [ -d "$work/runc" ] && command -v runc >/dev/null; then
		for p in $(runc --root "$work/runc" list -q 2>/dev/null); do
			CGFW_STATE_DIR=$work/state CGFW_BPFFS_ROOT=$pins \
				timeout 20 runc --root "$work/runc" delete --force "$p" >/dev/null 2>&1
		done
	fi
	if [ -d "$work/podman" ] && command -v podman >/dev/null; then
		timeout 60 podman --root "$work/podman/root" --runroot "$work/podman/run" \
			--storage-driver vfs --cgroup-manager cgroupfs rm -a -f -t 0 >/dev/null 2>&1
		timeout 60 podman --root "$work/podman/root" --runroot "$work/podman/run" \
			--storage-driver vfs --cgroup-manager cgroupfs rmi -a -f >/dev/null 2>&1
		grep -F " $work/podman/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null; done
	fi
	for ns in c s; do
		[ -e "/run/netns/$id-$ns" ] || continue
		for p in $(ip netns pids "$id-$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
	done
	for m in $(cgroup_mounts); do
		remove_cgroup_tree "$m/$id-ctr"
		remove_cgroup_tree "$m/$id"
	done
	if [ -d "$pins" ]; then
		CGFW_BPFFS_ROOT=$pins CGFW_STATE_DIR=$work/state "$CGFW" reset --yes >/dev/null 2>&1 ||
			echo "teardown: 'cgfw reset --yes' failed for $pins" >&2
		rm -rf "$pins"
	fi
	for ns in c s; do
		[ -e "/run/netns/$id-$ns" ] && ip netns del "$id-$ns" 2>/dev/null
	done
	rm -rf "$work"
}

pid_alive() {
	local st
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Leftovers of earlier runs whose process is gone.
reap_stale() {
	local f base pairs=() pair
	shopt -s nullglob
	for f in /run/netns/cgfw-pol-* /sys/fs/bpf/cgfw-test-pol-* /tmp/cgfw-pol-* \
		$(for m in $(cgroup_mounts); do echo "$m"/cgfw-pol-*; done); do
		base=${f##*/}
		if [[ $base =~ ^cgfw-(test-)?pol-([0-9]+)-([a-z0-9_]+)(-c|-s|-ctr)?$ ]]; then
			pairs+=("${BASH_REMATCH[2]}:${BASH_REMATCH[3]}")
		fi
	done
	shopt -u nullglob
	for pair in $(printf '%s\n' "${pairs[@]}" | sort -u); do
		[ "${pair%%:*}" = $$ ] && continue
		pid_alive "${pair%%:*}" && continue
		log "reaping leftovers of an earlier run (pid ${pair%%:*}, test ${pair#*:})"
		pol_cleanup "${pair%%:*}" "${pair#*:}"
	done
}

teardown() {
	local rc=$? p
	trap - EXIT
	set +e
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	pol_cleanup $$ "$NAME"
	case $rc in
	0) echo "PASS: $TEST_NAME" ;;
	"$SKIP_RC") echo "SKIP: $TEST_NAME" ;;
	*) echo "FAIL: $TEST_NAME (exit $rc)" ;;
	esac
	exit "$rc"
}

# ---- setup ----------------------------------------------------------------------

setup() {
	trap teardown EXIT
	trap 'exit 130' INT TERM HUP
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || fail "cannot mount bpffs"
	reap_stale
	mkdir -p "$WORK/www" || fail "cannot create $WORK"
	echo "$TOKEN" >"$WORK/www/token"
	mkdir -p "$CG" || fail "cannot create cgroup $CG"
	log "cgroup $CG_REL, state $CGFW_BPFFS_ROOT and $CGFW_STATE_DIR"
}

setup_net() {
	local ns
	ip netns add "$NSC" || fail "cannot create netns $NSC"
	ip netns add "$NSS" || fail "cannot create netns $NSS"
	ip -n "$NSC" link set lo up && ip -n "$NSS" link set lo up || fail "cannot bring lo up"
	ip -n "$NSC" link add veth0 type veth peer name veth1 netns "$NSS" ||
		fail "cannot create the veth pair"
	ip -n "$NSC" addr add 198.51.100.1/24 dev veth0 &&
		ip -n "$NSS" addr add 198.51.100.2/24 dev veth1 &&
		ip -n "$NSS" addr add 198.51.100.3/24 dev veth1 || fail "cannot add addresses"
	ip -n "$NSC" link set veth0 up && ip -n "$NSS" link set veth1 up || fail "cannot bring veth up"
	# Network safety: no way out of the test namespaces.
	for ns in "$NSC" "$NSS"; do
		[ -z "$(ip -n "$ns" -4 route show default)$(ip -n "$ns" -6 route show default)" ] ||
			fail "netns $ns has a default route; refusing to send traffic"
	done
	log "netns $NSC (198.51.100.1) <-> $NSS (198.51.100.2, .3)"
}

# start_server ADDR:PORT: busybox httpd in the server netns, bounded in time.
start_server() {
	local i
	nsenter --net="/run/netns/$NSS" timeout 170 "$BUSYBOX" httpd -f -p "$1" -h "$WORK/www" \
		>"$WORK/httpd-$1.log" 2>&1 &
	BG_PIDS+=($!)
	for i in $(seq 50); do
		if [ "$(nsenter --net="/run/netns/$NSS" timeout 2 "$BUSYBOX" wget -q -O - \
			"http://$1/token" 2>/dev/null)" = "$TOKEN" ]; then
			return 0
		fi
		sleep 0.1
	done
	fail "server $1 did not start: $(cat "$WORK/httpd-$1.log")"
}

# ---- clients ----------------------------------------------------------------------

# get_from_cg CG ADDR:PORT: fetch the token from a process in cgroup CG
# (created if needed, through `cgfw exec`) and the client netns. (busybox
# 1.35's wget -T crashes: the time limit is timeout(1)'s.)
# With CG_ENTER=raw the process joins the cgroup by writing cgroup.procs
# itself: `cgfw exec` enforces the policy of a workload it enters, which a
# test of what restore re-created must not rely on.
get_from_cg() {
	if [ "${CG_ENTER:-exec}" = raw ]; then
		mkdir -p "$CG2/$1" || return 1
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

# ---- running things and checking output --------------------------------------------

cgfw() { "$CGFW" "$@"; }

# must CMD...: run; fail the test with its output unless it exits 0. Output on stdout.
must() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail "command failed (exit $rc): $*"$'\n'"$out"
	printf '%s\n' "$out"
}

# json_check DESC JSON PYEXPR: PYEXPR (with `d` the document) must be true.
json_check() {
	local v
	v=$("$PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])
print(bool(eval(sys.argv[2])))' "$2" "$3" 2>&1) || fail "$1: cannot evaluate '$3': $v"
	[ "$v" = True ] || fail "$1: '$3' is false for:"$'\n'"$2"
	log "ok: $1"
}

# list --json without the attach times (which a re-attach changes).
list_json_stable() {
	"$CGFW" list --json | "$PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
for a in d["attachments"]:
    a.pop("attached_at", None)
print(json.dumps(d, sort_keys=True))'
}

assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected"$'\n'"  $2"$'\n'"got"$'\n'"  $3"
	log "ok: $1"
}

assert_contains() { # DESC HAYSTACK NEEDLE
	case $2 in
	*"$3"*) log "ok: $1" ;;
	*) fail "$1: '$3' not in:"$'\n'"$2" ;;
	esac
}

assert_not_contains() {
	case $2 in
	*"$3"*) fail "$1: '$3' unexpectedly in:"$'\n'"$2" ;;
	*) log "ok: $1" ;;
	esac
}

cgroup_id() { stat -c %i "$CG2/$1"; }

# ---- containers ----------------------------------------------------------------------

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
