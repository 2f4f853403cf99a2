#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A policy enforced on real traffic: a default-deny workload with one allow
# (address + port) reaches that service and nothing else, its descendant
# cgroups too, processes outside it are unaffected; replacing the policy
# changes what passes.
source "$(dirname "$0")/lib.sh"
setup
setup_net
start_server 198.51.100.2:8080
start_server 198.51.100.2:8081
start_server 198.51.100.3:8080

# Before any policy everything answers (and so the blocks below are real).
expect_reach "$CG_REL" 198.51.100.2:8080
expect_reach "$CG_REL" 198.51.100.3:8080

one_allow_policy "$WORK/web.yaml" web "$CG_REL" # default deny, allow 198.51.100.2 tcp 8080
must cgfw policy apply "$WORK/web.yaml" >/dev/null
expect_reach "$CG_REL" 198.51.100.2:8080
expect_blocked "$CG_REL" 198.51.100.2:8081  # same address, other port
expect_blocked "$CG_REL" 198.51.100.3:8080  # other address, same port
expect_reach "$CG_REL/child" 198.51.100.2:8080
expect_blocked "$CG_REL/child" 198.51.100.3:8080
out=$(get_from_outside 198.51.100.3:8080)
assert_eq "a process outside the workload is unaffected" "$TOKEN" "$out"

# Replace it: default allow, one deny.
cat >"$WORK/web.yaml" <<EOF
version: 1
workloads:
  - name: web
    cgroup: $CG_REL
    default: allow
    egress:
      - deny: 198.51.100.3
EOF
out=$(must cgfw policy apply "$WORK/web.yaml")
assert_contains "the swap in one apply" "$out" "applied: 1 rules added, 1 removed, 0 cgroups attached"
expect_reach "$CG_REL" 198.51.100.2:8080
expect_reach "$CG_REL" 198.51.100.2:8081
expect_blocked "$CG_REL" 198.51.100.3:8080
exit 0
