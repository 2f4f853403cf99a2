#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# policy check / diff / apply / show: positions of errors, diff before and
# after editing the file, idempotence ("0 rules added, 0 removed"), a
# pending workload enforced by `cgfw exec`, manual and policy rules kept
# apart (origin in `cgfw list --json`), a workload dropped from the policy.
source "$(dirname "$0")/lib.sh"
setup

P1=$WORK/p1.yaml
cat >"$P1" <<EOF
version: 1
workloads:
  - name: app
    cgroup: $CG_REL
    default: deny
    egress:
      - allow: 198.51.100.2
        proto: tcp
        ports: 8080
  - name: late
    cgroup: $CG_REL/late
    default:
      egress: deny
    egress:
      - allow: 198.51.100.3
  - name: ctr              # hook-only
    default: deny
EOF

# ---- check ------------------------------------------------------------------------
out=$(must cgfw policy check "$P1")
assert_eq "check of a valid file" "ok: 3 workloads, 0 interfaces, 2 rules" "$out"

BAD=$WORK/bad.yaml
cat >"$BAD" <<EOF
workloads:
  - name: app
    cgroup: $CG_REL
    default: closed
    egress:
      - allow: 198.51.100.2
        ports: 8080
      - deny: 198.51.100.300
EOF
out=$(cgfw policy check "$BAD" 2>&1)
rc=$?
assert_eq "check of a bad file exits 2" 2 "$rc"
assert_eq "every error as FILE:LINE:COL: message" \
	"$BAD:4:14: default must be allow or deny, not 'closed'
$BAD:7:16: ports need proto: tcp or proto: udp
$BAD:8:15: invalid IP address '198.51.100.300'" "$out"
out=$(cgfw policy check --json "$BAD" 2>/dev/null)
json_check "check --json lists the errors" "$out" \
	'd["valid"] is False and len(d["errors"]) == 3'
out=$(cgfw policy apply "$BAD" 2>&1)
assert_eq "apply of a bad file exits 2" 2 "$?"
[ ! -e "$CGFW_STATE_DIR/policy.json" ] || fail "a rejected apply saved a policy"

# ---- diff before anything is applied changes nothing --------------------------------------
empty=$(list_json_stable)
out=$(must cgfw policy diff "$P1")
assert_contains "diff: attach" "$out" "+ attach $CG_REL (workload app)"
assert_contains "diff: pending" "$out" "! workload late: cgroup $CG_REL/late does not exist yet (pending)"
assert_contains "diff: rule" "$out" "+ rule $CG_REL egress allow 198.51.100.2 tcp 8080"
assert_contains "diff: defaults" "$out" "~ default $CG_REL egress: allow -> deny"
assert_contains "diff: summary" "$out" \
	"would apply: 1 rules added, 0 removed, 1 cgroups attached, 0 detached, 1 pending"
assert_eq "diff changes nothing" "$empty" "$(list_json_stable)"
[ ! -e "$CGFW_STATE_DIR/policy.json" ] || fail "diff saved a policy"
# A dry run on a host without cgfw state creates none.
[ ! -e "$CGFW_BPFFS_ROOT" ] || fail "diff created the pinned state $CGFW_BPFFS_ROOT"
log "ok: diff created no pinned state"

# ---- apply ------------------------------------------------------------------------------
out=$(must cgfw policy apply "$P1")
assert_contains "apply: summary" "$out" \
	"applied: 1 rules added, 0 removed, 1 cgroups attached, 0 detached, 1 pending"
ID_APP=$(cgroup_id "$CG_REL")
l=$(cgfw list --json)
json_check "apply: the workload's cgroup is attached with its defaults" "$l" \
	"[(a['cgroup'], a['default_ingress'], a['default_egress']) for a in d['attachments']] == [('$CG_REL', 'deny', 'deny')] and d['attachments'][0]['cgroup_id'] == $ID_APP"
json_check "apply: the policy rule, origin policy" "$l" \
	"d['rules'] == [{'cgroup': '$CG_REL', 'action': 'allow', 'prefix': '198.51.100.2', 'family': 'ipv4', 'direction': 'egress', 'proto': 'tcp', 'ports': 8080, 'origin': 'policy'}]"
s=$(cgfw policy show --json)
json_check "show: states" "$s" \
	"{w['name']: w['state'] for w in d['workloads']} == {'app': 'enforced', 'late': 'pending', 'ctr': 'hook-only'}"
json_check "show: rules and defaults" "$s" \
	"[(w['name'], w['rules'], w['default']) for w in d['workloads']] == [('app', 1, {'ingress': 'deny', 'egress': 'deny'}), ('late', 1, {'egress': 'deny'}), ('ctr', 0, {'ingress': 'deny', 'egress': 'deny'})]"
out=$(must cgfw policy show)
assert_contains "show: table" "$out" "late"

# ---- idempotence -------------------------------------------------------------------------
before=$(cgfw list --json)
out=$(must cgfw policy apply "$P1")
assert_contains "second apply changes nothing" "$out" \
	"applied: 0 rules added, 0 removed, 0 cgroups attached, 0 detached, 1 pending"
assert_eq "list after the second apply" "$before" "$(cgfw list --json)"
out=$(must cgfw policy diff --json "$P1")
json_check "diff --json after apply" "$out" \
	"d['rules_added'] == 0 and d['rules_removed'] == 0 and d['attached'] == 0 and d['pending'] == 1 and all(c['op'] == '!' for c in d['changes'])"

# ---- manual rules are kept apart ----------------------------------------------------------
must cgfw block 203.0.113.9 --cgroup "$CG_REL" >/dev/null
must cgfw block 203.0.113.10 >/dev/null # host-wide
l=$(cgfw list --json)
json_check "list: origins" "$l" \
	"sorted((r['prefix'], r['origin']) for r in d['rules']) == [('198.51.100.2', 'policy'), ('203.0.113.10', 'manual'), ('203.0.113.9', 'manual')]"
out=$(must cgfw list)
assert_contains "list (text) shows the origin" "$out" "203.0.113.9              any   -           manual"

# ---- edit the file: diff, then apply --------------------------------------------------------
P2=$WORK/p2.yaml
cat >"$P2" <<EOF
version: 1
workloads:
  - name: app
    cgroup: $CG_REL
    default: deny
    egress:
      - allow: 198.51.100.2
        proto: tcp
        ports: 8081
      - deny: 203.0.113.0/24
  - name: late
    cgroup: $CG_REL/late
    default:
      egress: deny
      ingress: deny
    egress:
      - allow: 198.51.100.3
  - name: ctr
    default: deny
    egress:
      - allow: 198.51.100.3
EOF
out=$(must cgfw policy diff "$P2")
assert_contains "diff after edit: removed rule" "$out" "- rule $CG_REL egress allow 198.51.100.2 tcp 8080"
assert_contains "diff after edit: added rule" "$out" "+ rule $CG_REL egress allow 198.51.100.2 tcp 8081"
assert_contains "diff after edit: added deny" "$out" "+ rule $CG_REL egress deny 203.0.113.0/24"
assert_not_contains "diff: manual rules are not the policy's" "$out" "203.0.113.9"
assert_contains "diff after edit: summary" "$out" \
	"would apply: 2 rules added, 1 removed, 0 cgroups attached, 0 detached, 1 pending"
assert_eq "diff after edit changes nothing" "$l" "$(cgfw list --json)"
out=$(must cgfw policy apply "$P2")
assert_contains "apply after edit" "$out" "applied: 2 rules added, 1 removed"
l=$(cgfw list --json)
json_check "after edit: the new rules, and the manual ones untouched" "$l" \
	"sorted((r['cgroup'], r['action'], r['prefix'], r['ports'], r['origin']) for r in d['rules'] if r['cgroup']) == [('$CG_REL', 'allow', '198.51.100.2', 8081, 'policy'), ('$CG_REL', 'deny', '203.0.113.0/24', None, 'policy'), ('$CG_REL', 'deny', '203.0.113.9', None, 'manual')] and [(r['prefix'], r['origin']) for r in d['rules'] if not r['cgroup']] == [('203.0.113.10', 'manual')]"
json_check "after edit: show has the new rule counts" "$(cgfw policy show --json)" \
	"[(w['name'], w['rules']) for w in d['workloads']] == [('app', 2), ('late', 1), ('ctr', 1)]"

# ---- the pending workload is enforced when its cgroup appears through cgfw exec ----------
out=$(must cgfw exec --cgroup "$CG_REL/late" -- true)
ID_LATE=$(cgroup_id "$CG_REL/late")
l=$(cgfw list --json)
json_check "exec: the pending workload is attached with its defaults" "$l" \
	"[(a['default_ingress'], a['default_egress']) for a in d['attachments'] if a['cgroup'] == '$CG_REL/late' and a['cgroup_id'] == $ID_LATE] == [('deny', 'deny')]"
json_check "exec: its rule" "$l" \
	"[(r['prefix'], r['direction'], r['origin']) for r in d['rules'] if r['cgroup'] == '$CG_REL/late'] == [('198.51.100.3', 'egress', 'policy')]"
json_check "show: late is enforced" "$(cgfw policy show --json)" \
	"[w['state'] for w in d['workloads'] if w['name'] == 'late'] == ['enforced']"
out=$(must cgfw policy apply "$P2")
assert_contains "apply once late exists: nothing to do" "$out" \
	"applied: 0 rules added, 0 removed, 0 cgroups attached, 0 detached, 0 pending"

# ---- a workload dropped from the policy -----------------------------------------------------
P3=$WORK/p3.yaml
cat >"$P3" <<EOF
workloads:
  - name: late
    cgroup: $CG_REL/late
    default:
      egress: deny
      ingress: deny
    egress:
      - allow: 198.51.100.3
EOF
out=$(must cgfw policy apply "$P3")
assert_contains "drop app: its rules go" "$out" "- rule $CG_REL egress allow 198.51.100.2 tcp 8081"
l=$(cgfw list --json)
json_check "drop app: its manual rule stays, and so does its attachment, back to allow" "$l" \
	"[(a['default_ingress'], a['default_egress']) for a in d['attachments'] if a['cgroup'] == '$CG_REL'] == [('allow', 'allow')] and sorted((r['cgroup'] or '*', r['prefix'], r['origin']) for r in d['rules']) == [('*', '203.0.113.10', 'manual'), ('$CG_REL', '203.0.113.9', 'manual'), ('$CG_REL/late', '198.51.100.3', 'policy')]"
must cgfw unblock 203.0.113.9 --cgroup "$CG_REL" >/dev/null
must cgfw policy apply "$P1" >/dev/null
must cgfw policy apply "$P3" >/dev/null
l=$(cgfw list --json)
json_check "drop app without manual rules: detached" "$l" \
	"[a['cgroup'] for a in d['attachments']] == ['$CG_REL/late']"
exit 0
