#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# An apply that fails part way (after attaching a new cgroup, while writing
# the rules: a ninth port range for one prefix and protocol does not fit
# beside eight added by hand, -ENOSPC) exits non-zero, says what failed, and leaves the previous policy
# in force: `cgfw list --json`, `policy show --json` and the saved policy are
# what they were, and real traffic still follows the previous policy.
source "$(dirname "$0")/lib.sh"
setup
setup_net
start_server 198.51.100.2:8080
start_server 198.51.100.3:8080

P1=$WORK/p1.yaml
one_allow_policy "$P1" app "$CG_REL" # default deny, allow 198.51.100.2 tcp 8080
must cgfw policy apply "$P1" >/dev/null
expect_reach "$CG_REL" 198.51.100.2:8080
expect_blocked "$CG_REL" 198.51.100.3:8080

# Nine port ranges for one prefix and protocol never fit (8 per value):
# check says so, at the rule that goes over, before anything is applied.
P9=$WORK/p9.yaml
{
	printf 'workloads:\n  - name: nine\n    egress:\n'
	for p in 1001 1002 1003 1004 1005 1006 1007 1008 1009; do
		printf '      - allow: 198.51.100.3\n        proto: tcp\n        ports: %s\n' $p
	done
} >"$P9"
out=$(cgfw policy check "$P9" 2>&1)
[ $? -eq 2 ] || fail "check accepted 9 port ranges for one prefix and protocol:"$'\n'"$out"
assert_contains "check names the rule that goes over" "$out" "$P9:28:9: more than 8 port ranges"

# A failure only the kernel state can cause: eight ranges added by hand on
# the cgroup 'other' fill the value the policy's one range must share.
mkdir -p "$CG/other" "$CG/third" || fail "cannot create $CG/other"
must cgfw attach "$CG_REL/other" >/dev/null
for p in 2001 2002 2003 2004 2005 2006 2007 2008; do
	must cgfw block 198.51.100.3 --cgroup "$CG_REL/other" --proto tcp --port $p >/dev/null
done
list_before=$(cgfw list --json)
show_before=$(cgfw policy show --json)
saved_before=$(cat "$CGFW_STATE_DIR/policy.json")
links_before=$(ls "$CGFW_BPFFS_ROOT/links")

# The new policy opens everything for app, puts one more range on 'other'
# and adds a workload on 'third', a cgroup the apply attaches before it
# writes the rules (and must detach again).
P2=$WORK/p2.yaml
cat >"$P2" <<EOF
workloads:
  - name: app
    cgroup: $CG_REL
    default: allow
  - name: other
    cgroup: $CG_REL/other
    egress:
      - allow: 198.51.100.3
        proto: tcp
        ports: 1001
  - name: third
    cgroup: $CG_REL/third
    default: deny
EOF
must cgfw policy check "$P2" >/dev/null
out=$(cgfw policy diff "$P2")
assert_contains "diff shows the attach the apply would do" "$out" "+ attach $CG_REL/third (workload third)"

out=$(cgfw policy apply "$P2" 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "the apply that cannot fit its rules succeeded:"$'\n'"$out"
log "ok: the failed apply exits $rc"
assert_contains "it says what failed" "$out" "too many port ranges for 198.51.100.3 tcp"
assert_contains "and that nothing changed" "$out" "the previous policy is still in force"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "the failure is not one line:"$'\n'"$out"
assert_eq "list --json after the failed apply" "$list_before" "$(cgfw list --json)"
assert_eq "policy show after the failed apply" "$show_before" "$(cgfw policy show --json)"
assert_eq "saved policy after the failed apply" "$saved_before" "$(cat "$CGFW_STATE_DIR/policy.json")"
assert_eq "no link left for the cgroup attached part way" "$links_before" "$(ls "$CGFW_BPFFS_ROOT/links")"

# Real traffic: the previous policy, not the new one.
expect_reach "$CG_REL" 198.51.100.2:8080
expect_blocked "$CG_REL" 198.51.100.3:8080
out=$(get_from_cg "$CG_REL/other" 198.51.100.3:8080)
[ "$out" != "$TOKEN" ] || fail "other: the app policy (deny) should cover its descendant"
log "ok: other is still only under app's previous policy"

# With one range added by hand taken out, the same policy fits and applies;
# traffic follows the new policy.
must cgfw unblock 198.51.100.3 --cgroup "$CG_REL/other" --proto tcp --port 2008 >/dev/null
out=$(must cgfw policy apply "$P2")
assert_contains "the policy that fits applies" "$out" "applied: 1 rules added, 1 removed, 1 cgroups attached"
expect_reach "$CG_REL" 198.51.100.3:8080
exit 0
