# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Harness for the cgfw end-to-end tests (sourced by tests/e2e/test_*.sh), in
# the style of xdp-tools' test_runner.sh and the kernel selftests.
#
#   bash test_NAME.sh PATH_TO_CGFW [EXTRA...]
#
# Every test gets its own pinned state (CGFW_BPFFS_ROOT), its own pair of
# network namespaces joined by a veth and its own cgroup under the cgroup2
# mount, all named after the test's pid and name. `trap teardown EXIT` kills
# the servers, runs `cgfw reset --yes` and removes the pins, the cgroups and
# the namespaces, on success and on failure. Leftovers of a run that was
# killed (a ctest timeout sends SIGKILL) are reaped by the next run.
#
# Topology (no default route anywhere, so a packet a broken block lets
# through has nowhere to go):
#
#   $NSC (client)                          $NSS (server)
#   veth0 198.51.100.1/24  <-- veth -->    veth1 198.51.100.2/24, 198.51.100.3/24
#         2001:db8::1/64                         2001:db8::2/64, 2001:db8::3/64
#
# Clients run inside the test cgroup and the client namespace (from_cg),
# or only in the client namespace (from_outside). Exit status: 0 pass,
# 1 fail, 77 skip (not root).

set -u -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETUTIL="$E2E_DIR/netutil.py"
# The interpreter itself, not a version manager's shim (which costs ~0.1 s a start).
PYTHON=${PYTHON:-$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)}
SKIP_RC=77

if [ $# -lt 1 ]; then
	echo "usage: $0 PATH_TO_CGFW [...]" >&2
	exit 1
fi
CGFW=$(readlink -f "$1")
shift
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: $(basename "$0"): needs root (cgroups, BPF, network namespaces)"
	exit $SKIP_RC
fi
if [ ! -x "$CGFW" ]; then
	echo "FAIL: cgfw binary '$CGFW' is not executable" >&2
	exit 1
fi

TEST_NAME=$(basename "$0" .sh)
NAME=${TEST_NAME#test_}
NAME=${NAME//[^a-z0-9_]/_}

# Every name below is derived from (pid, name) so the reaper can find them.
e2e_pin_root() { echo "/sys/fs/bpf/cgfw-test-$1-e2e-$2"; }
e2e_extra_pins() { echo "/sys/fs/bpf/cgfw-test-$1-e2e-$2-extra"; }
e2e_netns() { echo "cgfw-e2e-$1-$2-$3"; }
e2e_cgroup_rel() { echo "cgfw-e2e-$1-$2"; }
e2e_workdir() { echo "${TMPDIR:-/tmp}/cgfw-e2e.$1.$2"; }

# The cgroup2 mount, from mountinfo: the fields after " - " are fstype, source.
cgroup2_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo
}

# A cgroup v1 hierarchy's mount point, or nothing.
cgroup1_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup") { print $5; exit } break } }' \
		/proc/self/mountinfo
}

CG2=$(cgroup2_mount)
if [ -z "$CG2" ]; then
	echo "FAIL: no cgroup2 filesystem in /proc/self/mountinfo" >&2
	exit 1
fi

export CGFW_BPFFS_ROOT
CGFW_BPFFS_ROOT=$(e2e_pin_root $$ "$NAME")
# shellcheck disable=SC2034 # for tests that pin programs of their own
EXTRA_PINS=$(e2e_extra_pins $$ "$NAME")
NSC=$(e2e_netns $$ "$NAME" c)
NSS=$(e2e_netns $$ "$NAME" s)
CG_REL=$(e2e_cgroup_rel $$ "$NAME")
CG="$CG2/$CG_REL"
WORK=$(e2e_workdir $$ "$NAME")
BG_PIDS=()

log() { echo "[$TEST_NAME] $*"; }

fail() {
	echo "FAIL: [$TEST_NAME] $*" >&2
	exit 1
}

# ---- cleanup ------------------------------------------------------------------

# Remove everything the run (pid, name) made. Safe to call on partial state.
e2e_cleanup() {
	local pid=$1 name=$2 root cg ns p
	root=$(e2e_pin_root "$pid" "$name")
	cg="$CG2/$(e2e_cgroup_rel "$pid" "$name")"

	# Processes first: everything in the test cgroup, everything in its netns.
	if [ -d "$cg" ]; then
		if [ -e "$cg/cgroup.kill" ]; then
			echo 1 >"$cg/cgroup.kill" 2>/dev/null
		else
			find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null |
				while read -r p; do kill -9 "$p" 2>/dev/null; done
		fi
	fi
	for ns in c s; do
		ns=$(e2e_netns "$pid" "$name" "$ns")
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
	done
	if [ -d "$cg" ]; then
		for _ in $(seq 50); do
			grep -q '^populated 0' "$cg/cgroup.events" 2>/dev/null && break
			sleep 0.1
		done
	fi

	# Pinned state: cgfw's own reset, then whatever is left of the pins.
	if [ -d "$root" ]; then
		CGFW_BPFFS_ROOT=$root "$CGFW" reset --yes >/dev/null 2>&1 ||
			echo "teardown: 'cgfw reset --yes' failed for $root" >&2
		rm -rf "$root"
	fi
	rm -rf "$(e2e_extra_pins "$pid" "$name")"

	if [ -d "$cg" ]; then
		find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null ||
			echo "teardown: cannot remove cgroup $cg" >&2
	fi
	for ns in c s; do
		ns=$(e2e_netns "$pid" "$name" "$ns")
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$(e2e_workdir "$pid" "$name")"
}

# A zombie (not yet reaped by its parent) counts as gone.
pid_alive() {
	local st
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Leftovers of e2e runs whose process is gone (killed by a timeout, a crash).
reap_stale() {
	local f base pairs=() pair pid name
	shopt -s nullglob
	for f in /run/netns/cgfw-e2e-* "$CG2"/cgfw-e2e-* /sys/fs/bpf/cgfw-test-*-e2e-* \
		"${TMPDIR:-/tmp}"/cgfw-e2e.*; do
		base=${f##*/}
		if [[ $base =~ ^cgfw-e2e-([0-9]+)-([a-z0-9_]+)(-[cs])?$ ]] ||
			[[ $base =~ ^cgfw-test-([0-9]+)-e2e-([a-z0-9_]+)(-extra)?$ ]] ||
			[[ $base =~ ^cgfw-e2e\.([0-9]+)\.([a-z0-9_]+)$ ]]; then
			pairs+=("${BASH_REMATCH[1]} ${BASH_REMATCH[2]}")
		fi
	done
	shopt -u nullglob
	for pair in $(printf '%s\n' "${pairs[@]}" | sort -u | tr ' ' ':'); do
		pid=${pair%%:*}
		name=${pair#*:}
		[ "$pid" = $$ ] && continue
		pid_alive "$pid" && continue
		log "reaping leftovers of an earlier run (pid $pid, test $name)"
		e2e_cleanup "$pid" "$name"
	done
}

teardown() {
	local rc=$? p
	trap - EXIT
	set +e
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	e2e_cleanup $$ "$NAME"
	case $rc in
	0) echo "PASS: $TEST_NAME" ;;
	"$SKIP_RC") echo "SKIP: $TEST_NAME" ;;
	*) echo "FAIL: $TEST_NAME (exit $rc)" ;;
	esac
	exit "$rc"
}

# ---- setup --------------------------------------------------------------------

setup() {
	trap teardown EXIT
	trap 'exit 130' INT TERM HUP
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || fail "cannot mount bpffs"
	reap_stale
	mkdir -p "$WORK" || fail "cannot create $WORK"

	ip netns add "$NSC" || fail "cannot create netns $NSC"
	ip netns add "$NSS" || fail "cannot create netns $NSS"
	ip -n "$NSC" link set lo up && ip -n "$NSS" link set lo up || fail "cannot bring lo up"
	ip -n "$NSC" link add veth0 type veth peer name veth1 netns "$NSS" ||
		fail "cannot create the veth pair"
	ip -n "$NSC" addr add 198.51.100.1/24 dev veth0 &&
		ip -n "$NSC" addr add 2001:db8::1/64 dev veth0 nodad &&
		ip -n "$NSS" addr add 198.51.100.2/24 dev veth1 &&
		ip -n "$NSS" addr add 198.51.100.3/24 dev veth1 &&
		ip -n "$NSS" addr add 2001:db8::2/64 dev veth1 nodad &&
		ip -n "$NSS" addr add 2001:db8::3/64 dev veth1 nodad ||
		fail "cannot add addresses"
	ip -n "$NSC" link set veth0 up && ip -n "$NSS" link set veth1 up || fail "cannot bring veth up"
	# Network safety: no way out of the test namespaces.
	for ns in "$NSC" "$NSS"; do
		if [ -n "$(ip -n "$ns" -4 route show default)$(ip -n "$ns" -6 route show default)" ]; then
			fail "netns $ns has a default route; refusing to send traffic"
		fi
	done
	mkdir -p "$CG" || fail "cannot create cgroup $CG"
	log "cgroup $CG, netns $NSC/$NSS, state $CGFW_BPFFS_ROOT"
}

# ---- running things ------------------------------------------------------------

# cgfw with the test's state root (exported); prints nothing extra.
cgfw() { "$CGFW" "$@"; }

# must CMD...: run, fail the test with its output if it does not exit 0.
must() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail "command failed (exit $rc): $*"$'\n'"$out"
	[ -z "$out" ] || printf '%s\n' "$out" | sed "s/^/  | /"
}

# Run netutil connect from a process in cgroup CG and the client netns.
from_cg() {
	local cg=$1 proto=$2 addr=$3 port=$4
	shift 4
	"$CGFW" exec --cgroup "$cg" -- nsenter --net="/run/netns/$NSC" \
		"$PYTHON" "$NETUTIL" connect --proto "$proto" --addr "$addr" --port "$port" \
		--timeout "${CONNECT_TIMEOUT:-1}" "$@"
}

# From a process in the client netns outside the test cgroup.
from_outside() {
	local proto=$1 addr=$2 port=$3
	shift 3
	nsenter --net="/run/netns/$NSC" "$PYTHON" "$NETUTIL" connect --proto "$proto" \
		--addr "$addr" --port "$port" --timeout "${CONNECT_TIMEOUT:-1}" "$@"
}

# From a process in the server netns (outside the test cgroup).
from_server_ns() {
	local proto=$1 addr=$2 port=$3
	shift 3
	nsenter --net="/run/netns/$NSS" "$PYTHON" "$NETUTIL" connect --proto "$proto" \
		--addr "$addr" --port "$port" --timeout "${CONNECT_TIMEOUT:-1}" "$@"
}

# expect_reach DESC CLIENT-CMD...: every attempt must get its echo back.
expect_reach() {
	local desc=$1 out rc
	shift
	out=$(CONNECT_TIMEOUT=${REACH_TIMEOUT:-5} "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail "$desc: expected reachable, got exit $rc:"$'\n'"$out"
	log "ok: $desc"
}

# expect_blocked DESC CLIENT-CMD...: every attempt must be stopped the way the
# firewall stops it (no answer in time, or EPERM); a refused connection or
# any other error is a failure, so a missing server cannot pass as blocked.
expect_blocked() {
	local desc=$1 out rc
	shift
	out=$(CONNECT_TIMEOUT=${BLOCK_TIMEOUT:-1} "$@" 2>&1)
	rc=$?
	[ $rc -eq 2 ] || fail "$desc: expected blocked, got exit $rc:"$'\n'"$out"
	log "ok: $desc"
}

# start_server TAG NETUTIL-SERVE-ARGS...: echo server in the server netns,
# e.g. start_server srv --tcp 198.51.100.2:8080 --udp 198.51.100.2:9090
start_server() {
	local tag=$1
	# shellcheck disable=SC2034 # used through a nameref
	local -a pre=(nsenter --net="/run/netns/$NSS")
	shift
	_start_server "$tag" pre "$@"
}

# start_server_in_cg CG TAG ARGS...: echo server in cgroup CG, client netns.
start_server_in_cg() {
	local cg=$1 tag=$2
	# shellcheck disable=SC2034 # used through a nameref
	local -a pre=("$CGFW" exec --cgroup "$cg" -- nsenter --net="/run/netns/$NSC")
	shift 2
	_start_server "$tag" pre "$@"
}

_start_server() {
	local tag=$1 ready
	local -n _pre=$2
	shift 2
	ready="$WORK/$tag.ready"
	rm -f "$ready"
	"${_pre[@]}" "$PYTHON" "$NETUTIL" serve --ready "$ready" --log "$WORK/$tag.log" \
		--lifetime "${SERVER_LIFETIME:-90}" "$@" >"$WORK/$tag.out" 2>&1 &
	BG_PIDS+=($!)
	for _ in $(seq 100); do
		[ -e "$ready" ] && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.05
	done
	fail "server $tag did not start:"$'\n'"$(cat "$WORK/$tag.out")"
}

# ---- assertions on output --------------------------------------------------------

# json_eval JSON PYEXPR: print the value of PYEXPR with the document as `d`.
# The document goes through stdin: a listing can exceed the argument limit.
json_eval() {
	printf '%s' "$1" | "$PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$2"
}

# At most the first 2000 characters of a document, for failure messages.
excerpt() {
	if [ ${#1} -gt 2000 ]; then
		printf '%s... (%d characters)' "${1:0:2000}" ${#1}
	else
		printf '%s' "$1"
	fi
}

# json_check DESC JSON PYEXPR: PYEXPR (with `d` the document) must be true.
json_check() {
	local desc=$1 json=$2 expr=$3 v
	v=$(json_eval "$json" "bool($expr)") ||
		fail "$desc: cannot evaluate '$expr' on: $(excerpt "$json")"
	[ "$v" = true ] || fail "$desc: '$expr' is false for:"$'\n'"$(excerpt "$json")"
	log "ok: $desc"
}

assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	log "ok: $1"
}

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

# Server log lines (see netutil.py) for a test's server TAG.
server_log() { cat "$WORK/$1.log" 2>/dev/null; }
