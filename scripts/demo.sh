#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cgfw demo: a workload in its own cgroup is kept away from one address while
# it still reaches another, and cgfw shows what it saw. Everything is
# throwaway: a cgroup, two network namespaces joined by a veth (documentation
# addresses, no route out), and a private pin root under /sys/fs/bpf.
set -euo pipefail

CGFW=$(realpath "${1:-build/cli/cgfw}")
ID=$$
export CGFW_BPFFS_ROOT=/sys/fs/bpf/cgfw-demo-$ID
CLI_NS=cgfw-demo-c-$ID
SRV_NS=cgfw-demo-s-$ID
CG=cgfw-demo-$ID/app
SERVER_PID=

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates cgroups, namespaces and BPF programs)" >&2; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2" ] || { echo "demo: no cgroup2 mount found" >&2; exit 1; }

cleanup() {
	set +e
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	"$CGFW" reset --yes >/dev/null 2>&1
	ip netns del "$CLI_NS" 2>/dev/null
	ip netns del "$SRV_NS" 2>/dev/null
	rmdir "$CG2/$CG" "$CG2/cgfw-demo-$ID" 2>/dev/null
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Two network namespaces joined by a veth, no route out"
ip netns add "$CLI_NS"
ip netns add "$SRV_NS"
ip link add vc-$ID netns "$CLI_NS" type veth peer name vs-$ID netns "$SRV_NS"
nsenter --net=/run/netns/"$CLI_NS" sh -c "ip link set lo up; ip link set vc-$ID up;
	ip addr add 198.51.100.1/24 dev vc-$ID; ip -6 addr add 2001:db8::1/64 dev vc-$ID nodad"
nsenter --net=/run/netns/"$SRV_NS" sh -c "ip link set lo up; ip link set vs-$ID up;
	ip addr add 198.51.100.2/24 dev vs-$ID; ip addr add 198.51.100.3/24 dev vs-$ID;
	ip -6 addr add 2001:db8::2/64 dev vs-$ID nodad"
echo "client 198.51.100.1, 2001:db8::1    server 198.51.100.2, 198.51.100.3, 2001:db8::2 (port 8080)"

# A small TCP server answering "hello from ADDR" on every address, 60 s at most.
nsenter --net=/run/netns/"$SRV_NS" timeout 60 python3 -c '
import socket, selectors
sel = selectors.DefaultSelector()
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, 8080)); s.listen(64); sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        c.sendall(("hello from %s\n" % c.getsockname()[0]).encode()); c.close()
' &
SERVER_PID=$!
sleep 0.5

# connect ADDR: run a TCP client inside the workload's cgroup and the client netns.
connect() {
	printf '$ cgfw exec --cgroup %s -- nsenter --net=... connect %s:8080\n  -> ' "$CG" "$1"
	if "$CGFW" exec --cgroup "$CG" -- nsenter --net=/run/netns/"$CLI_NS" \
		timeout 2 bash -c "exec 3<>/dev/tcp/$1/8080 && head -1 <&3" 2>/dev/null; then
		:
	else
		echo "refused or timed out"
	fi
}

step "Attach cgfw to the workload's cgroup ($CG2/$CG)"
"$CGFW" exec --cgroup "$CG" -- true # creates the cgroup
run "$CGFW" attach "$CG"

step "Block one address for every attached workload"
run "$CGFW" block 198.51.100.2
run "$CGFW" block 2001:db8::2 --cgroup "$CG" --egress
run "$CGFW" list

step "The workload cannot reach the blocked addresses, and still reaches the others"
connect 198.51.100.2
connect 2001:db8::2
connect 198.51.100.3

step "A process outside the cgroup is not affected"
printf '$ nsenter --net=... connect 198.51.100.2:8080\n  -> '
nsenter --net=/run/netns/"$CLI_NS" timeout 2 bash -c 'exec 3<>/dev/tcp/198.51.100.2/8080 && head -1 <&3' ||
	echo "refused"

step "What the workload talked to"
run "$CGFW" seen --cgroup "$CG"

step "Unblock: the next packet is allowed again"
run "$CGFW" unblock 198.51.100.2
connect 198.51.100.2

step "Clean up"
run "$CGFW" detach "$CG"
echo "demo done"
