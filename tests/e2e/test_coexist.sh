#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Coexistence: another cgroup_skb program on the same cgroup (attached with
# bpftool, multi) keeps running while cgfw blocks, and cgfw attach, re-attach,
# detach and reset leave it in place.
#   bash test_coexist.sh PATH_TO_CGFW PATH_TO_other_prog.bpf.o
source "$(dirname "$0")/lib.sh"
OBJ=${1:-}
[ -r "$OBJ" ] || fail "usage: $0 CGFW OTHER_PROG_OBJ (object '$OBJ' not readable)"
command -v bpftool >/dev/null || fail "bpftool not found"
setup

start_server srv --tcp 198.51.100.2:8080 --tcp 198.51.100.3:8080

mkdir -p "$EXTRA_PINS" || fail "cannot create $EXTRA_PINS"
must bpftool prog loadall "$OBJ" "$EXTRA_PINS/progs" pinmaps "$EXTRA_PINS/maps"
must bpftool cgroup attach "$CG" egress pinned "$EXTRA_PINS/progs/other_egress" multi
must bpftool cgroup attach "$CG" ingress pinned "$EXTRA_PINS/progs/other_ingress" multi

# counter ingress|egress: packets the other program has seen.
counter() {
	local key=0
	[ "$1" = egress ] && key=1
	bpftool -j map lookup pinned "$EXTRA_PINS/maps/other_count" key $key 0 0 0 |
		"$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["formatted"]["value"])'
}


# expect_growth DESC DIR BEFORE MIN: the DIR counter grew by at least MIN.
expect_growth() {
	local now
	now=$(counter "$2") || fail "cannot read the other program's counter"
	[ "$now" -ge $(($3 + $4)) ] || fail "$1: $2 counter went from $3 to $now (expected +$4)"
	log "ok: $1 ($2 counter $3 -> $now)"
}

other="egress:other_egress ingress:other_ingress"
assert_eq "other program attached" "$other" "$(cgroup_progs "$CG")"
e0=$(counter egress) i0=$(counter ingress)
expect_reach "other program alone: .2 reachable" from_cg "$CG" tcp 198.51.100.2 8080
expect_growth "other program counts the connection" egress "$e0" 4
expect_growth "other program counts the replies" ingress "$i0" 2

must cgfw attach "$CG"
assert_eq "cgfw attach adds its programs next to the other ones" \
	"egress:cgfw_egress egress:other_egress ingress:cgfw_ingress ingress:other_ingress" \
	"$(cgroup_progs "$CG")"
must cgfw block 198.51.100.2 --cgroup "$CG"
e0=$(counter egress) i0=$(counter ingress)
expect_blocked "cgfw blocks .2 with the other program attached" from_cg "$CG" tcp 198.51.100.2 8080
expect_reach "cgfw lets .3 through" from_cg "$CG" tcp 198.51.100.3 8080
expect_growth "other program keeps counting while cgfw blocks" egress "$e0" 4
expect_growth "other program keeps counting replies" ingress "$i0" 2

# Re-attaching swaps cgfw's program in place; the other one stays.
must cgfw attach "$CG"
assert_eq "re-attach leaves the other programs" \
	"egress:cgfw_egress egress:other_egress ingress:cgfw_ingress ingress:other_ingress" \
	"$(cgroup_progs "$CG")"
expect_blocked "still blocked after re-attach" from_cg "$CG" tcp 198.51.100.2 8080

# A program attached after cgfw does not displace it.
must bpftool cgroup detach "$CG" egress pinned "$EXTRA_PINS/progs/other_egress"
must bpftool cgroup attach "$CG" egress pinned "$EXTRA_PINS/progs/other_egress" multi
expect_blocked "still blocked after the other program is attached again" \
	from_cg "$CG" tcp 198.51.100.2 8080

must cgfw detach "$CG"
assert_eq "cgfw detach removes only its own programs" "$other" "$(cgroup_progs "$CG")"
e0=$(counter egress)
expect_reach "after detach: .2 reachable" from_cg "$CG" tcp 198.51.100.2 8080
expect_growth "other program still counts after cgfw detach" egress "$e0" 4

must cgfw attach "$CG"
must cgfw reset --yes
assert_eq "cgfw reset removes only its own programs" "$other" "$(cgroup_progs "$CG")"
e0=$(counter egress)
expect_reach "after reset: .2 reachable" from_cg "$CG" tcp 198.51.100.2 8080
expect_growth "other program still counts after cgfw reset" egress "$e0" 4
