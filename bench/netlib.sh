# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# shellcheck disable=SC2034 # variables for the scripts that source this one
#
# Shared by the traffic benchmarks (net_datapath.sh, intercept.sh,
# policy_swap.sh): arguments, namespaces, cgroups, background servers and
# one exit trap that removes all of it.
#
#   SCRIPT BUILD [--smoke] [--out DIR]
#
# Safety: traffic runs only between network namespaces made here, joined by
# veth pairs, over 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
# 2001:db8::/32, with no default route in any of them. Names carry the pid
# ($$) so a rerun after a crash does not collide; cgfw state lives under
# /sys/fs/bpf/cgfw-bench-* and a state directory under /tmp.

set -euo pipefail

nb_usage() { echo "usage: $0 BUILD [--smoke] [--out DIR]" >&2; exit 2; }

[ $# -ge 1 ] || nb_usage
BUILD=$1
shift
SMOKE=0
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/out
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 ;;
	--out) [ $# -ge 2 ] || nb_usage; OUT=$2; shift ;;
	*) nb_usage ;;
	esac
	shift
done

CGFW=$(realpath "$BUILD/cli/cgfw" 2>/dev/null || true)
NB=$(realpath "$BUILD/bench/net_bench" 2>/dev/null || true)
PY=$HERE/netbench.py
for b in "$CGFW" "$NB"; do
	if [ -z "$b" ] || [ ! -x "$b" ]; then
		echo "bench: $BUILD/cli/cgfw or $BUILD/bench/net_bench not built (cmake --build $BUILD)" >&2
		exit 1
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: skipped: needs root (BPF programs, cgroups, network namespaces)" >&2
	exit 77
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$OUT"

# The cgroup2 mount, from mountinfo (the fields after " - " are fstype, source).
CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
	/proc/self/mountinfo)
[ -n "$CG2" ] || { echo "bench: no cgroup2 filesystem in /proc/self/mountinfo" >&2; exit 1; }

# Client and server share the last CPU: the whole path is then serial work on
# one CPU, so what a firewall adds shows as time, not hidden on the other CPU.
PIN_CPU=${BENCH_CPU:-$(($(nproc) - 1))}

NB_TAG=$(basename "$0" .sh | tr -c 'a-z0-9\n' '-')$$
TMP=$(mktemp -d "/tmp/cgfw-bench-$NB_TAG.XXXXXX")
export CGFW_BPFFS_ROOT=/sys/fs/bpf/cgfw-bench-$NB_TAG
export CGFW_STATE_DIR=$TMP/state
mkdir -p "$CGFW_STATE_DIR"

NB_NETNS=()
NB_PIDS=()
NB_CGROUP=cgfw-bench-$NB_TAG # the parent of every cgroup the bench makes
NB_CLEANUP_EXTRA=""

nb_cleanup() {
	local p ns
	set +e
	for p in "${NB_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${NB_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	eval "$NB_CLEANUP_EXTRA"
	if [ -d "$CG2/$NB_CGROUP" ]; then
		find "$CG2/$NB_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null |
			while read -r p; do kill -9 "$p" 2>/dev/null; done
	fi
	if [ -d "$CGFW_BPFFS_ROOT" ]; then
		"$CGFW" reset --yes >/dev/null 2>&1 ||
			echo "bench: cleanup: cgfw reset failed for $CGFW_BPFFS_ROOT" >&2
		rm -rf "$CGFW_BPFFS_ROOT"
	fi
	if [ -d "$CG2/$NB_CGROUP" ]; then
		# A process that just exited can keep its cgroup busy for a moment.
		for _ in $(seq 50); do
			find "$CG2/$NB_CGROUP" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$CG2/$NB_CGROUP" ] || break
			sleep 0.1
		done
		[ -d "$CG2/$NB_CGROUP" ] && echo "bench: cleanup: cannot remove cgroup $CG2/$NB_CGROUP" >&2
	fi
	for ns in "${NB_NETNS[@]}"; do
		# Rules first: a namespace is freed in the background, where its rule
		# sets would slow down whatever runs next.
		nsenter --net=/run/netns/"$ns" nft flush ruleset 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap nb_cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "bench: $*" >&2
	exit 1
}

in_ns() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

# pair CNS SNS CDEV SDEV: two namespaces joined by a veth, lo and the veth up.
# Addresses and routes are the caller's; no namespace gets a default route.
pair() {
	local c=$1 s=$2 cd=$3 sd=$4
	ip netns add "$c"
	NB_NETNS+=("$c")
	ip netns add "$s"
	NB_NETNS+=("$s")
	ip link add "$cd" netns "$c" type veth peer name "$sd" netns "$s"
	in_ns "$c" ip link set lo up
	in_ns "$s" ip link set lo up
	in_ns "$c" ip link set "$cd" up
	in_ns "$s" ip link set "$sd" up
}

# cgroup_make REL: make a cgroup under the bench's own parent (removed by the
# trap) and print its path relative to the cgroup2 mount.
cgroup_make() {
	mkdir -p "$CG2/$NB_CGROUP/$1"
	echo "$NB_CGROUP/$1"
}

# bg OUT CMD...: run CMD in the background (exec'd, so a signal reaches the
# program itself); its pid in BG_PID, killed by the trap.
bg() {
	local out=$1
	shift
	(exec "$@" >"$out" 2>&1) &
	BG_PID=$!
	NB_PIDS+=("$BG_PID")
}

# wait_ready FILE PID: until FILE says READY (5 s at most)
wait_ready() {
	for _ in $(seq 50); do
		grep -q READY "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: a server did not start:" >&2
	sed 's/^/bench:   /' "$1" >&2
	return 1
}

# stop_bg PID: SIGTERM and wait; its status is returned.
stop_bg() {
	local rc=0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" || rc=$?
	return $rc
}

KERNEL=$(uname -r)
IPT_VER="not installed" NFT_VER="not installed"
command -v ip6tables-restore >/dev/null && IPT_VER=$(ip6tables-restore --version 2>&1 | head -1)
command -v nft >/dev/null && NFT_VER=$(nft --version 2>&1 | head -1)
