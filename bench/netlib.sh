# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# shellcheck disable=SC2034 # variables for the scripts that source this one
#
# The benchmarks' layer on the tests' harness (tests/lib/harness.sh: names
# after the pid, reaper, one exit trap, namespaces, cgroups, pins, background
# servers), sourced by run.sh and the traffic sections (net_datapath.sh,
# intercept.sh, policy_swap.sh):
#
#   SCRIPT BUILD [--smoke] [--out DIR]
#
# Safety: traffic runs only between network namespaces made here, joined by
# veth pairs, over 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
# 2001:db8::/32, with no route out of any of them (h_check_routes). Both ends
# are tests/lib's cgfw_peer ($PEER), bounded in count and time.

set -euo pipefail

nb_usage() {
	echo "usage: $0 BUILD [--smoke] [--out DIR]" >&2
	exit 2
}

[ $# -ge 1 ] || nb_usage
BUILD=$1
shift
SMOKE=0
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/out
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 ;;
	--out)
		[ $# -ge 2 ] || nb_usage
		OUT=$2
		shift
		;;
	*) nb_usage ;;
	esac
	shift
done

# shellcheck source=tests/lib/harness.sh
source "$HERE/../tests/lib/harness.sh"

for b in "$BUILD/cli/cgfw" "$BUILD/tests/lib/cgfw_peer" ${NB_NEED:-}; do
	if [ ! -x "$b" ]; then
		echo "bench: $b is not built (cmake --build $BUILD)" >&2
		exit 1
	fi
done
h_init bench "$BUILD/cli/cgfw"
PEER=$(realpath "$BUILD/tests/lib/cgfw_peer")
PY=$HERE/netbench.py
h_setup
mkdir -p "$OUT"

# Client and server share the last CPU: the whole path is then serial work on
# one CPU, so what a firewall adds shows as time, not hidden on the other CPU.
PIN_CPU=${BENCH_CPU:-$(($(nproc) - 1))}

# cgroup_make NAME: a cgroup under the bench's own (removed by the trap); its
# path relative to the cgroup2 mount.
cgroup_make() {
	mkdir -p "$CG/$1"
	echo "$CG_REL/$1"
}

KERNEL=$(uname -r)
IPT_VER="not installed" NFT_VER="not installed"
command -v ip6tables-restore >/dev/null && IPT_VER=$(ip6tables-restore --version 2>&1 | head -1)
command -v nft >/dev/null && NFT_VER=$(nft --version 2>&1 | head -1)
