#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Idempotence: attaching twice (under any spelling of the path) succeeds and
# leaves one attachment with one program per direction, keeping the rules and
# defaults; repeating a rule changes nothing; detaching a cgroup that is not
# attached fails with exit 1 and a message; reset removes cgfw and only cgfw.
source "$(dirname "$0")/lib.sh"
setup

start_server srv --tcp 198.51.100.2:8080 --tcp 198.51.100.3:8080 --tcp '[2001:db8::2]:8080'

one_attachment() { # DESC
	local json
	json=$(cgfw list --json) || fail "cgfw list --json failed"
	json_check "$1: one attachment listed" "$json" \
		"len([a for a in d['attachments'] if a['cgroup'] == '$CG_REL']) == 1 and len(d['attachments']) == 1"
	assert_eq "$1: one program per direction on the cgroup" \
		"egress:cgfw_egress ingress:cgfw_ingress" "$(cgroup_progs "$CG")"
}

must cgfw attach "$CG"
must cgfw attach "$CG"
one_attachment "attach twice"
must cgfw attach "$CG_REL/"
must cgfw attach "$CG2//$CG_REL/."
one_attachment "attach under other spellings of the path"

must cgfw block 198.51.100.2 --cgroup "$CG"
out=$(cgfw block 198.51.100.2 --cgroup "$CG" 2>&1) || fail "second block failed: $out"
[[ $out == *"no change"* ]] || fail "second identical block does not say 'no change': $out"
log "ok: a repeated block reports no change"
out=$(cgfw --json block 198.51.100.2 --cgroup "$CG") || fail "third block failed: $out"
json_check "a repeated block changes nothing (json)" "$out" "d['changed'] == 0"
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "one rule listed" "$json" "len(d['rules']) == 1"
must cgfw default deny --egress --cgroup "$CG"
must cgfw allow 198.51.100.3 --cgroup "$CG"

must cgfw attach "$CG"
one_attachment "re-attach with rules"
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "re-attach keeps the rules and the defaults" "$json" \
	"len(d['rules']) == 2 and d['attachments'][0]['default_egress'] == 'deny' and d['attachments'][0]['default_ingress'] == 'allow'"
expect_blocked "re-attach: .2 still blocked by its rule" from_cg "$CG" tcp 198.51.100.2 8080
expect_reach "re-attach: .3 still allowed by its rule" from_cg "$CG" tcp 198.51.100.3 8080
expect_blocked "re-attach: 2001:db8::2 still denied by the egress default" \
	from_cg "$CG" tcp 2001:db8::2 8080
must cgfw default allow --egress --cgroup "$CG"
must cgfw unallow 198.51.100.3 --cgroup "$CG"

# expect_input_error DESC NAMED CGFW-ARGS...: exit 2 (naming a cgroup that is not
# attached is bad input), one stderr line naming NAMED, nothing changed.
expect_input_error() {
	local desc=$1 named=$2 err rc before after
	shift 2
	before=$(cgfw list --json)
	err=$(cgfw "$@" 2>&1 >/dev/null)
	rc=$?
	after=$(cgfw list --json)
	[ $rc -eq 2 ] || fail "$desc: cgfw $*: expected exit 2, got $rc (stderr: $err)"
	[ "$(printf '%s\n' "$err" | grep -c '')" -eq 1 ] && [[ $err == *"$named"* ]] ||
		fail "$desc: cgfw $*: expected one stderr line naming '$named', got: $err"
	[ "$before" = "$after" ] || fail "$desc: cgfw $* changed the state"
	log "ok: $desc: exit 2: $err"
}

mkdir -p "$CG/other" || fail "cannot create $CG/other"
expect_input_error "detach of a cgroup never attached" "$CG_REL/other" detach "$CG_REL/other"
expect_input_error "detach of a cgroup that does not exist" "$CG_REL/nonexistent" \
	detach "$CG_REL/nonexistent"
expect_input_error "block for a cgroup that is not attached" "$CG_REL/other" \
	block 198.51.100.2 --cgroup "$CG_REL/other"
must cgfw detach "$CG"
expect_input_error "second detach" "$CG" detach "$CG"
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "nothing attached after detach" "$json" "d['attachments'] == [] and d['rules'] == []"
assert_eq "no program left on the cgroup after detach" "" "$(cgroup_progs "$CG")"
expect_reach "detached: .2 reachable" from_cg "$CG" tcp 198.51.100.2 8080

# Detach works after the cgroup directory is gone (the container exited).
mkdir -p "$CG/gone" || fail "cannot create $CG/gone"
must cgfw attach "$CG/gone"
must cgfw block 198.51.100.9 --cgroup "$CG/gone"
rmdir "$CG/gone" || fail "cannot remove $CG/gone"
# The kernel detaches the links of a removed cgroup asynchronously.
for _ in $(seq 50); do
	json=$(cgfw list --json) || fail "cgfw list --json failed"
	[ "$(json_eval "$json" "d['attachments'][0]['egress_attached'] or d['attachments'][0]['ingress_attached']")" = false ] && break
	sleep 0.1
done
json_check "list shows the removed cgroup's attachment without live links" "$json" \
	"[a for a in d['attachments'] if a['cgroup'] == '$CG_REL/gone' and not a['ingress_attached'] and not a['egress_attached']]"
must cgfw detach "$CG/gone"
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "detach of a removed cgroup drops its attachment and rules" "$json" \
	"d['attachments'] == [] and d['rules'] == []"

# reset: needs --yes, then removes every attachment and the pinned state.
must cgfw attach "$CG"
must cgfw attach "$CG/other"
must cgfw block 198.51.100.2
err=$(cgfw reset 2>&1)
assert_eq "reset without --yes: exit 2" 2 $?
[[ $err == *"--yes"* ]] || fail "reset without --yes does not mention --yes: $err"
expect_blocked "reset without --yes changed nothing" from_cg "$CG" tcp 198.51.100.2 8080
must cgfw reset --yes
assert_eq "reset: no program left on the cgroup" "" "$(cgroup_progs "$CG")"
assert_eq "reset: no program left on the second cgroup" "" "$(cgroup_progs "$CG/other")"
[ ! -e "$CGFW_BPFFS_ROOT" ] || fail "reset left $CGFW_BPFFS_ROOT: $(ls -R "$CGFW_BPFFS_ROOT")"
log "ok: reset removed $CGFW_BPFFS_ROOT"
json=$(cgfw list --json) || fail "cgfw list --json after reset failed"
json_check "list after reset is empty" "$json" "d['attachments'] == [] and d['rules'] == []"
expect_reach "after reset: .2 reachable" from_cg "$CG" tcp 198.51.100.2 8080
must cgfw reset --yes # resetting nothing is fine
