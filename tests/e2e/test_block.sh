#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Blocking an IPv4 address for a cgroup: the cgroup and its descendants lose
# it, other processes and other addresses keep working, enforcement outlives
# the cgfw process, unblock and detach restore it.
source "$(dirname "$0")/lib.sh"
setup

start_server srv --tcp 198.51.100.2:8080 --tcp 198.51.100.3:8080

expect_reach "before attach: cgroup reaches .2" from_cg "$CG" tcp 198.51.100.2 8080

must cgfw attach "$CG"
expect_reach "attached, no rule: cgroup reaches .2" from_cg "$CG" tcp 198.51.100.2 8080

must cgfw block 198.51.100.2 --cgroup "$CG"
# Every client below is a fresh process started after the cgfw command exited:
# what stops it is the pinned programs and maps, not a running cgfw.
expect_blocked "blocked: cgroup cannot reach .2" from_cg "$CG" tcp 198.51.100.2 8080
expect_reach "blocked .2: cgroup still reaches .3" from_cg "$CG" tcp 198.51.100.3 8080
expect_reach "blocked .2: process outside the cgroup reaches .2" from_outside tcp 198.51.100.2 8080
expect_blocked "blocked: descendant cgroup cannot reach .2" from_cg "$CG/child" tcp 198.51.100.2 8080
expect_reach "blocked .2: descendant cgroup reaches .3" from_cg "$CG/child" tcp 198.51.100.3 8080

# A descendant with an attachment of its own is held to both policies: its
# allow cannot undo the parent's block, its block does not reach the parent.
must cgfw attach "$CG/child"
must cgfw allow 198.51.100.2 --cgroup "$CG/child"
must cgfw block 198.51.100.3 --cgroup "$CG/child"
expect_blocked "child's allow does not override the parent's block" \
	from_cg "$CG/child" tcp 198.51.100.2 8080
expect_blocked "child's own block applies to the child" from_cg "$CG/child" tcp 198.51.100.3 8080
expect_reach "child's block does not apply to the parent" from_cg "$CG" tcp 198.51.100.3 8080
must cgfw detach "$CG/child"

json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list shows the attachment with live links" "$json" \
	"[a for a in d['attachments'] if a['cgroup'] == '$CG_REL' and a['ingress_attached'] and a['egress_attached']]"
json_check "list shows the deny rule for the cgroup" "$json" \
	"[r for r in d['rules'] if r['cgroup'] == '$CG_REL' and r['action'] == 'deny' and r['prefix'] == '198.51.100.2' and r['direction'] == 'both']"

# Several fresh processes over a second: still blocked, no cgfw involved.
sleep 1
expect_blocked "still blocked a second later (fresh process)" \
	from_cg "$CG" tcp 198.51.100.2 8080

must cgfw unblock 198.51.100.2 --cgroup "$CG"
expect_reach "unblocked: cgroup reaches .2 again" from_cg "$CG" tcp 198.51.100.2 8080
expect_reach "unblocked: descendant reaches .2 again" from_cg "$CG/child" tcp 198.51.100.2 8080
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list has no rule after unblock" "$json" "d['rules'] == []"

# A host-wide rule (no --cgroup) applies to every attached cgroup.
must cgfw block 198.51.100.3
expect_blocked "host-wide block: cgroup cannot reach .3" from_cg "$CG" tcp 198.51.100.3 8080
expect_reach "host-wide block: outside the cgroup reaches .3" from_outside tcp 198.51.100.3 8080

# Detach removes the programs: the host-wide rule no longer applies here.
must cgfw block 198.51.100.2 --cgroup "$CG"
must cgfw detach "$CG"
expect_reach "detached: cgroup reaches .2" from_cg "$CG" tcp 198.51.100.2 8080
expect_reach "detached: cgroup reaches .3" from_cg "$CG" tcp 198.51.100.3 8080
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list no longer shows the attachment" "$json" \
	"not [a for a in d['attachments'] if a['cgroup'] == '$CG_REL']"
json_check "detach dropped the cgroup's rules" "$json" \
	"not [r for r in d['rules'] if r['cgroup'] == '$CG_REL']"
