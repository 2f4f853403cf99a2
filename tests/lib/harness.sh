# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The one harness of cgfw's end-to-end suites (tests/e2e, tests/policy,
# tests/tc) and traffic benchmarks (bench/*.sh), sourced by each suite's own
# lib.sh (or bench/netlib.sh), which adds its topology and its clients. In the
# style of xdp-tools' test_runner.sh and the kernel selftests.
#
#   h_init SUITE CGFW     names, the cgroup2 mount ($CG2); not root: exit 77
#   h_need_peer           $PEER: tests/lib's cgfw_peer (serve, connect, rr, ...)
#   h_setup               the exit trap, the reaper, the work dir, the test's cgroup
#   h_pair NS1 DEV1 NS2 DEV2, h_addr NS DEV ADDR..., h_netns NS, in_ns NS CMD...
#   h_check_routes        the no-route-out check (below)
#   h_cgfw_netns NS       cgfw attaches to interfaces in NS: reset it there
#   bg [-n NS] OUT CMD..., h_wait_ready OUT PID, stop PID [SIGNAL]
#   h_sleep SECONDS       a fixed wait, times $H_SCALE
#
# Time: $H_SCALE is CGFW_TEST_TIME_SCALE (a whole number, 1 by default; the
# kernel matrix exports 3 under TCG). The harness's own waits (h_wait_ready,
# stop), tests/tc's listener lifetimes and fixed waits are multiplied by it.
#
# Names: everything a run makes carries H_NAME = cgfw-test-PID-SUITE-TEST, so
# that runs never collide and the next run can tell what a killed one left
# (a ctest timeout sends SIGKILL) from what a live one is using:
#   work dir      ${TMPDIR:-/tmp}/H_NAME            $WORK
#   pinned state  /sys/fs/bpf/H_NAME                $CGFW_BPFFS_ROOT (exported)
#                 /sys/fs/bpf/H_NAME-*              other pins of the test
#   saved state   $WORK/state                       $CGFW_STATE_DIR (exported)
#   cgroup        CG2/H_NAME (and H_NAME-*)         $CG, $CG_REL (relative to CG2)
#   netns         H_NAME-TAG                        h_netns
#   containers    $WORK/runc, $WORK/podman          their state roots
# The exit trap (h_teardown) and the reaper (h_reap: runs whose pid is gone)
# remove all of it with h_cleanup: containers, the processes in the cgroups
# and namespaces, `cgfw reset` (in the namespace h_cgfw_netns names, if the
# state has interfaces there), pins, cgroups, namespaces, the work dir.
#
# Network safety: traffic only between namespaces made here, over
# 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32.
# h_check_routes, run by every suite's setup and again at exit, fails the test
# if a namespace it made has a way out: a default route, or a unicast route to
# anything but those ranges, loopback and link-local.
#
# Assertions: fail-fast (fail, must, assert_eq, assert_contains,
# assert_not_contains, json_check) or counted, TAP-like (ok, not_ok, check,
# expect_rc, contains, lacks, then finish); a counted failure fails the test
# even without finish. Exit status: 0 pass, 1 fail, 77 skip.

set -u -o pipefail

H_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # for the suites
H_SRC=$(cd "$H_LIB/../.." && pwd)
H_PREFIX=cgfw-test
SKIP_RC=77
# The interpreter itself, not a version manager's shim (which costs ~0.1 s a start).
PYTHON=${PYTHON:-$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)}
H_TMP=${TMPDIR:-/tmp}
H_TEST=${H_TEST:-$(basename "$0" .sh)}
H_BG_PIDS=()
H_FAILS=0
H_SCALE=${CGFW_TEST_TIME_SCALE:-1}
[[ $H_SCALE =~ ^[1-9][0-9]{0,2}$ ]] || H_SCALE=1
H_SETUP=""

log() { echo "[$H_TEST] $*"; }

fail() {
	echo "FAIL: [$H_TEST] $*" >&2
	exit 1
}

skip() {
	echo "SKIP: [$H_TEST] $*"
	exit $SKIP_RC
}

# h_init SUITE CGFW: the names of this run (see above), after the checks that
# need nothing made yet.
h_init() {
	local suite=$1 bin=${2:-}
	if [ -z "$bin" ]; then
		echo "usage: $0 PATH_TO_CGFW [...]" >&2
		exit 1
	fi
	H_SUITE=$suite
	H_TEST=$(basename "$0" .sh)
	H_TEST=${H_TEST#test_}
	H_TEST=${H_TEST#e2e_}
	H_TEST=${H_TEST//[^a-z0-9_]/_}
	[ "$(id -u)" -eq 0 ] || skip "needs root (cgroups, BPF, network namespaces)"
	CGFW=$(readlink -f "$bin")
	[ -x "$CGFW" ] || {
		echo "FAIL: cgfw binary '$bin' is not executable" >&2
		exit 1
	}
	CG2=$(h_cgroup_mounts cgroup2 | head -1)
	[ -n "$CG2" ] || fail "no cgroup2 filesystem in /proc/self/mountinfo"
	H_NAME=$H_PREFIX-$$-$H_SUITE-$H_TEST
	WORK=$H_TMP/$H_NAME
	CG_REL=$H_NAME
	CG=$CG2/$CG_REL
	export CGFW_BPFFS_ROOT=/sys/fs/bpf/$H_NAME
	export CGFW_STATE_DIR=$WORK/state
}

# h_need_peer: $PEER, tests/lib's cgfw_peer: $CGFW_PEER, else the one beside
# cgfw's build, else one built here from tests/lib/peer.c (kept by content).
h_need_peer() {
	local dir sum
	PEER=${CGFW_PEER:-}
	if [ -z "$PEER" ] && [ -x "$(dirname "$CGFW")/../tests/lib/cgfw_peer" ]; then
		PEER=$(readlink -f "$(dirname "$CGFW")/../tests/lib/cgfw_peer")
	fi
	if [ -z "$PEER" ]; then
		sum=$(md5sum <"$H_LIB/peer.c" | cut -c1-12)
		dir=$H_TMP/cgfw-peer-$sum
		PEER=$dir/cgfw_peer
		if [ ! -x "$PEER" ]; then
			log "building the peer from tests/lib/peer.c (no CGFW_PEER, none beside cgfw)"
			mkdir -p "$dir" || fail "cannot create $dir"
			# shellcheck disable=SC2046 # pkg-config's words
			if ! cc -O2 -o "$PEER.$$" "$H_LIB/peer.c" $(pkg-config --cflags --libs libbpf); then
				fail "cannot build tests/lib/peer.c"
			fi
			mv -f "$PEER.$$" "$PEER" || fail "cannot install $PEER"
		fi
	fi
	[ -x "$PEER" ] || fail "the peer '$PEER' is not executable"
}

# ---- setup and cleanup ----------------------------------------------------------

h_setup() {
	trap h_teardown EXIT
	trap 'exit 130' INT TERM HUP
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || fail "cannot mount bpffs"
	h_reap
	h_cleanup "$H_NAME" # what an earlier run with this pid left
	mkdir -m 700 "$WORK" || fail "cannot create $WORK"
	H_SETUP=1
	mkdir -p "$CG" || fail "cannot create cgroup $CG"
}

# h_cgfw_netns NETNS: this run's cgfw attaches to interfaces in NETNS, so its
# `cgfw reset` at cleanup runs there (an ifindex means nothing elsewhere).
h_cgfw_netns() { echo "$1" >"$WORK/.cgfw_netns"; }

h_teardown() {
	local rc=$?
	trap - EXIT
	set +e
	[ "$rc" = 0 ] && [ "$H_FAILS" -gt 0 ] && rc=1
	h_stop_all
	if [ -n "$H_SETUP" ]; then
		if ! h_check_routes; then
			echo "FAIL: [$H_TEST] a namespace of the test had a way out (above)" >&2
			rc=1
		fi
		h_cleanup "$H_NAME"
	fi
	case $rc in
	0) echo "PASS: $H_TEST" >&2 ;;
	"$SKIP_RC") echo "SKIP: $H_TEST" >&2 ;;
	*) echo "FAIL: $H_TEST (exit $rc)" >&2 ;;
	esac
	exit "$rc"
}

# A zombie (not yet reaped by its parent) counts as gone.
h_pid_alive() {
	local st
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# The mount points of the cgroup filesystems of TYPE (cgroup2, cgroup, or
# all), from mountinfo: the fields after " - " are the type and the source.
h_cgroup_mounts() {
	awk -v want="$1" '{ for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1)
		if (t == want || (want == "all" && (t == "cgroup" || t == "cgroup2"))) print $5
		break } }' /proc/self/mountinfo
}

# A cgroup v1 hierarchy's mount point, or nothing.
cgroup1_mount() { h_cgroup_mounts cgroup | head -1; }

# h_reap: leftovers of runs whose process is gone (killed by a timeout, a crash).
h_reap() {
	local - f base name pid seen=" "
	set +e # the benches run with -e
	shopt -s nullglob
	for f in /run/netns/"$H_PREFIX"-* /sys/fs/bpf/"$H_PREFIX"-* "$H_TMP"/"$H_PREFIX"-* \
		$(for m in $(h_cgroup_mounts all); do echo "$m"/"$H_PREFIX"-*; done); do
		base=${f##*/}
		[[ $base =~ ^($H_PREFIX-([0-9]+)-[a-z0-9]+-[a-z0-9_]+) ]] || continue
		name=${BASH_REMATCH[1]}
		pid=${BASH_REMATCH[2]}
		[[ $seen == *" $name "* ]] && continue
		seen+="$name "
		[ "$pid" = $$ ] || h_pid_alive "$pid" && continue
		log "reaping what an earlier run left (pid $pid, $name)"
		h_cleanup "$name"
	done
	shopt -u nullglob
}

h_cgroup_kill() { # DIR: every process in the cgroup tree
	if [ -e "$1/cgroup.kill" ]; then
		echo 1 >"$1/cgroup.kill" 2>/dev/null
	else
		find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null |
			while read -r p; do kill -9 "$p" 2>/dev/null; done
	fi
}

h_cgroup_empty() { # DIR
	if [ -e "$1/cgroup.events" ]; then
		grep -q '^populated 0' "$1/cgroup.events" 2>/dev/null
	else
		[ -z "$(find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null)" ]
	fi
}

# h_cleanup NAME: remove everything named after the run NAME. Safe on partial
# state, and on a run that made nothing.
h_cleanup() {
	local - name=$1 work=$H_TMP/$1 root=/sys/fs/bpf/$1 ns="" c d m p
	local -a netns=() cgs=()
	set +e # the benches run with -e
	shopt -s nullglob
	for d in /run/netns/"$name" /run/netns/"$name"-*; do [ -e "$d" ] && netns+=("${d##*/}"); done
	for m in $(h_cgroup_mounts all); do
		for d in "$m/$name" "$m/$name"-*; do [ -d "$d" ] && cgs+=("$d"); done
	done
	shopt -u nullglob

	# Containers first: their poststop hooks use the run's state.
	if [ -d "$work/runc" ] && command -v runc >/dev/null; then
		for c in $(runc --root "$work/runc" list -q 2>/dev/null); do
			CGFW_STATE_DIR=$work/state CGFW_BPFFS_ROOT=$root \
				timeout 20 runc --root "$work/runc" delete --force "$c" >/dev/null 2>&1
		done
	fi
	if [ -d "$work/podman" ] && command -v podman >/dev/null; then
		for c in "rm -a -f -t 0" "rmi -a -f"; do
			# shellcheck disable=SC2086 # the subcommand's words
			timeout 60 podman --root "$work/podman/root" --runroot "$work/podman/run" \
				--storage-driver vfs --cgroup-manager cgroupfs $c >/dev/null 2>&1
		done
		grep -F " $work/podman/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null; done
	fi

	# Then every process in the run's cgroups and namespaces.
	for c in "${cgs[@]}"; do h_cgroup_kill "$c"; done
	for ns in "${netns[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	for c in "${cgs[@]}"; do
		for _ in $(seq 50); do
			h_cgroup_empty "$c" && break
			sleep 0.1
		done
	done

	# cgfw's own reset, then whatever is left of the pins. With interfaces in a
	# namespace that is gone there is nothing to detach, and no reset.
	if [ -d "$root" ]; then
		ns=$(cat "$work/.cgfw_netns" 2>/dev/null)
		if [ -z "$ns" ]; then
			CGFW_BPFFS_ROOT=$root CGFW_STATE_DIR=$work/state "$CGFW" reset --yes \
				>/dev/null 2>&1 || echo "cleanup: 'cgfw reset --yes' failed for $root" >&2
		elif [ -e "/run/netns/$ns" ]; then
			CGFW_BPFFS_ROOT=$root CGFW_STATE_DIR=$work/state \
				nsenter --net="/run/netns/$ns" "$CGFW" reset --yes >/dev/null 2>&1 ||
				echo "cleanup: 'cgfw reset --yes' in $ns failed for $root" >&2
		fi
	fi
	rm -rf "$root" "$root"-*

	# A sysctl the run changed for a while (bench/net_datapath.sh's per-program
	# figures) goes back to what it was.
	if [ -f "$work/.bpf_stats_enabled" ]; then
		sysctl -qw kernel.bpf_stats_enabled="$(cat "$work/.bpf_stats_enabled")" ||
			echo "cleanup: cannot restore kernel.bpf_stats_enabled" >&2
	fi

	# Cgroups deepest first (a process that just exited can keep one busy).
	for c in "${cgs[@]}"; do
		for _ in $(seq 50); do
			find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$c" ] || break
			sleep 0.1
		done
		[ ! -d "$c" ] || echo "cleanup: cannot remove cgroup $c" >&2
	done
	# Namespaces: their rules first, or they are freed in the background,
	# where they slow down whatever runs next.
	for ns in "${netns[@]}"; do
		command -v nft >/dev/null && nsenter --net="/run/netns/$ns" nft flush ruleset 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$work" "$work".* "$work"-*
}

# ---- namespaces --------------------------------------------------------------------

in_ns() { # NETNS CMD...
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# h_netns NETNS: a new network namespace (named after the run), lo up.
h_netns() {
	[[ $1 == "$H_NAME"* ]] || fail "netns '$1' is not named after the run ($H_NAME-...)"
	ip netns add "$1" || fail "cannot create netns $1"
	ip -n "$1" link set dev lo up || fail "cannot bring lo up in $1"
}

# h_pair NS1 DEV1 NS2 DEV2: two new namespaces joined by a veth, DEV1 in NS1
# and DEV2 in NS2, both up.
h_pair() {
	h_netns "$1"
	h_netns "$3"
	if ! ip -n "$1" link add name "$2" type veth peer name "$4" netns "$3" ||
		! ip -n "$1" link set dev "$2" up || ! ip -n "$3" link set dev "$4" up; then
		fail "cannot join $1 and $3 with a veth"
	fi
}

# h_addr NETNS DEV ADDR/LEN...: IPv6 addresses without duplicate address detection.
h_addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a; do
		if [[ $a == *:* ]]; then
			ip -n "$ns" addr add "$a" dev "$dev" nodad
		else
			ip -n "$ns" addr add "$a" dev "$dev"
		fi || fail "cannot add $a to $dev in $ns"
	done
}

# The check behind h_check_routes, on `ip -j route show table all` of both families,
# read from the files named (process substitutions: a namespace with tproxy's
# thousands of local routes would not fit in arguments).
H_ROUTES_PY='import ipaddress, json, sys
ok = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
      "2001:db8::/32", "127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10")]
bad = 0
for path in sys.argv[1:]:
    doc = open(path).read().strip()
    for r in json.loads(doc or "[]"):
        # local, broadcast, multicast, anycast, unreachable, ...: nothing leaves by them
        if r.get("type", "unicast") != "unicast":
            continue
        dst = r["dst"]
        net = None if dst == "default" else ipaddress.ip_network(dst, strict=False)
        if net is None or not any(net.version == o.version and net.subnet_of(o) for o in ok):
            print("  route %s%s" % (dst, "".join(" %s %s" % (k, r[k]) for k in ("gateway", "dev", "table") if k in r)))
            bad = 1
sys.exit(bad)'

# h_check_routes: none of the run's namespaces has a way out. Prints what it
# found and returns 1 if one has.
h_check_routes() {
	local ns out bad=0
	local -a all=()
	shopt -s nullglob
	for ns in /run/netns/"$H_NAME" /run/netns/"$H_NAME"-*; do
		[ -e "$ns" ] && all+=("${ns##*/}")
	done
	shopt -u nullglob
	for ns in "${all[@]}"; do
		out=$("$PYTHON" -c "$H_ROUTES_PY" <(ip -n "$ns" -j -4 route show table all) \
			<(ip -n "$ns" -j -6 route show table all) 2>&1) || {
			echo "netns $ns has a way out of the test's namespaces:"$'\n'"$out" >&2
			bad=1
		}
	done
	return $bad
}

# ---- background processes ---------------------------------------------------------------

# bg [-n NETNS] OUT CMD...: CMD in the background (exec'd, so a signal reaches
# it), in NETNS if given, its output in OUT; its pid in BGPID. The exit trap
# stops it.
bg() {
	local ns="" out
	if [ "$1" = -n ]; then
		ns=$2
		shift 2
	fi
	out=$1
	shift
	if [ -n "$ns" ]; then
		(exec nsenter --net="/run/netns/$ns" "$@" >"$out" 2>&1) &
	else
		(exec "$@" >"$out" 2>&1) &
	fi
	BGPID=$!
	H_BG_PIDS+=("$BGPID")
}

# h_wait_ready OUT PID [SECONDS]: until OUT has a line READY (a server bound
# its sockets); fails the test if PID ends first or the time (times
# $H_SCALE) runs out.
h_wait_ready() {
	for _ in $(seq $((${3:-10} * H_SCALE * 10))); do
		grep -q '^READY' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	fail "a server did not start ($1):"$'\n'"$(sed 's/^/  | /' "$1" 2>/dev/null)"
}

# stop PID [SIGNAL]: send SIGNAL (INT), then its exit status; 124 if it did
# not end within 10 s times $H_SCALE (then it is killed).
stop() {
	kill -"${2:-INT}" "$1" 2>/dev/null || true
	for _ in $(seq $((100 * H_SCALE))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

# h_sleep SECONDS: sleep SECONDS (a fraction too) times $H_SCALE.
h_sleep() { sleep "$(awk -v s="$1" -v k="$H_SCALE" 'BEGIN { print s * k }')"; }

# The exit trap's: SIGTERM to every background process, 2 s, then SIGKILL.
h_stop_all() {
	local p alive
	[ ${#H_BG_PIDS[@]} -gt 0 ] || return 0
	for p in "${H_BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 20); do
		alive=""
		for p in "${H_BG_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ -n "$alive" ] || break
		sleep 0.1
	done
	for p in "${H_BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}

# ---- running things --------------------------------------------------------------------------

# cgfw with the test's state (exported); a suite may run it elsewhere.
cgfw() { "$CGFW" "$@"; }

# must CMD...: run; fail the test with its output unless it exits 0. Its
# output goes to stdout.
must() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	[ $rc -eq 0 ] || fail "command failed (exit $rc): $*"$'\n'"$out"
	[ -z "$out" ] || printf '%s\n' "$out"
}

# ---- fail-fast assertions ------------------------------------------------------------------------

assert_eq() { # DESC WANT GOT
	[ "$2" = "$3" ] || fail "$1: expected"$'\n'"  $2"$'\n'"got"$'\n'"  $3"
	log "ok: $1"
}

assert_contains() { # DESC HAYSTACK NEEDLE
	case $2 in
	*"$3"*) log "ok: $1" ;;
	*) fail "$1: '$3' not in:"$'\n'"$2" ;;
	esac
}

assert_not_contains() { # DESC HAYSTACK NEEDLE
	case $2 in
	*"$3"*) fail "$1: '$3' unexpectedly in:"$'\n'"$2" ;;
	*) log "ok: $1" ;;
	esac
}

# json_eval JSON PYEXPR: the value of PYEXPR with the document as `d` (JSON
# for lists, dicts, booleans and None). The document goes through stdin: a
# listing can exceed the argument limit.
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

# ---- counted assertions (TAP-like) -----------------------------------------------------------------

ok() { echo "ok - $*"; }

not_ok() {
	echo "not ok - $*"
	H_FAILS=$((H_FAILS + 1))
}

# check DESC CMD...: the command must succeed.
check() {
	local what=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/#   /' "$WORK/check.out"
	fi
}

# expect_rc RC DESC CMD...: the command must exit with RC.
expect_rc() {
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$WORK/rc.out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$what (exit $rc)"
	else
		not_ok "$what: exit $rc, expected $want"
		sed 's/^/#   /' "$WORK/rc.out"
	fi
}

# contains FILE PATTERN DESC / lacks FILE PATTERN DESC: grep for PATTERN.
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

finish() {
	if [ "$H_FAILS" -gt 0 ]; then
		echo "# $H_FAILS failed"
		exit 1
	fi
	echo "# all passed"
	exit 0
}
