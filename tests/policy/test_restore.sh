#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cgfw restore: after the pins are lost (`cgfw reset --yes`, as after a
# reboot) it re-creates every attachment, rule and default verdict of the
# applied policy and of what `cgfw save` saved (list --json equal to before,
# traffic enforced again); a second run changes nothing; a pending workload
# whose cgroup appeared is enforced by it; a later apply is what it restores.
# `cgfw exec` into a workload's cgroup also re-enforces the policy: checked last.
source "$(dirname "$0")/lib.sh"
# Clients join the cgroups without `cgfw exec`, which would itself enforce
# the workload's policy and hide what restore did or did not re-create.
CG_ENTER=raw
setup
setup_net
start_server 198.51.100.2:8080
start_server 198.51.100.3:8080

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
      - deny: 2001:db8::/32
    ingress:
      - allow: 192.0.2.0/24
        proto: udp
        ports: 53-54
  - name: late
    cgroup: $CG_REL/late
    default:
      egress: deny
    egress:
      - allow: 198.51.100.3
EOF
must cgfw policy apply "$P1" >/dev/null
# By hand: a rule on the policy's cgroup, another attachment with its own
# default (in audit mode) and rule, a host-wide rule; saved for restore.
must cgfw block 203.0.113.9 --cgroup "$CG_REL" >/dev/null
mkdir -p "$CG/man"
must cgfw attach "$CG_REL/man" >/dev/null
must cgfw default deny --cgroup "$CG_REL/man" --ingress --audit >/dev/null
must cgfw block 203.0.113.7 --cgroup "$CG_REL/man" --proto tcp --port 443 >/dev/null
must cgfw block 203.0.113.8 >/dev/null
must cgfw save >/dev/null

# The pending workload's cgroup appears; restore enforces it.
mkdir -p "$CG/late"
out=$(must cgfw restore)
assert_contains "restore attaches the workload that was pending" "$out" "+ attach $CG_REL/late (workload late)"
json_check "late is enforced" "$(cgfw policy show --json)" \
	"[w['state'] for w in d['workloads']] == ['enforced', 'enforced']"

before=$(list_json_stable)
json_check "the state restore must bring back" "$before" \
	"len(d['attachments']) == 3 and len(d['rules']) == 7"
json_check "the manual attachment is in audit mode" "$before" \
	"[a['mode'] for a in d['attachments'] if a['cgroup'].endswith('/man')] == ['audit']"
expect_reach "$CG_REL" 198.51.100.2:8080
expect_blocked "$CG_REL" 198.51.100.3:8080

# ---- the pins are lost -------------------------------------------------------------
must cgfw reset --yes >/dev/null
assert_eq "after reset nothing is attached" '{"attachments": [], "rules": []}' "$(list_json_stable)"
expect_reach "$CG_REL" 198.51.100.3:8080 # nothing enforced any more

out=$(must cgfw restore)
assert_contains "restore re-attaches" "$out" "+ attach $CG_REL (workload app)"
assert_eq "list --json after restore" "$before" "$(list_json_stable)"
expect_reach "$CG_REL" 198.51.100.2:8080
expect_blocked "$CG_REL" 198.51.100.3:8080
expect_blocked "$CG_REL/late" 198.51.100.2:8080 # app allows it, late (a descendant) does not

# ---- idempotent --------------------------------------------------------------------
full=$(cgfw list --json)
out=$(must cgfw restore)
assert_contains "a second restore changes nothing" "$out" \
	"restored: 0 rules added, 0 removed, 0 cgroups attached, 0 detached, 0 pending"
assert_eq "list --json after the second restore (attach times included)" "$full" "$(cgfw list --json)"

# ---- a later apply is what restore brings back -------------------------------------------
cat >"$WORK/p2.yaml" <<EOF
version: 1
workloads:
  - name: app
    cgroup: $CG_REL
    default: allow
    egress:
      - deny: 198.51.100.3
EOF
must cgfw policy apply "$WORK/p2.yaml" >/dev/null
expect_reach "$CG_REL" 198.51.100.2:8080
expect_blocked "$CG_REL" 198.51.100.3:8080
after_p2=$(list_json_stable)
must cgfw reset --yes >/dev/null
must cgfw restore >/dev/null
assert_eq "restore after a newer apply brings back the newer policy" "$after_p2" "$(list_json_stable)"
expect_reach "$CG_REL" 198.51.100.2:8080
expect_blocked "$CG_REL" 198.51.100.3:8080

# Pins lost again: `cgfw exec` into the workload's cgroup enforces it before the command runs.
must cgfw reset --yes >/dev/null
expect_reach "$CG_REL" 198.51.100.3:8080
CG_ENTER=exec expect_blocked "$CG_REL" 198.51.100.3:8080
exit 0
