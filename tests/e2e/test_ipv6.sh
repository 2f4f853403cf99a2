#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Blocking an IPv6 address: 2001:db8::2 is lost to the cgroup while
# 2001:db8::3 and processes outside the cgroup keep working; unblock restores.
source "$(dirname "$0")/lib.sh"
setup

start_server srv --tcp '[2001:db8::2]:8080' --tcp '[2001:db8::3]:8080'

must cgfw attach "$CG_REL" # a path relative to the cgroup2 mount works too
expect_reach "attached, no rule: cgroup reaches ::2" from_cg "$CG" tcp 2001:db8::2 8080

must cgfw block 2001:db8::2 --cgroup "$CG"
expect_blocked "blocked: cgroup cannot reach 2001:db8::2" from_cg "$CG" tcp 2001:db8::2 8080
expect_reach "blocked ::2: cgroup reaches 2001:db8::3" from_cg "$CG" tcp 2001:db8::3 8080
expect_reach "blocked ::2: outside the cgroup reaches ::2" from_outside tcp 2001:db8::2 8080
expect_blocked "blocked: descendant cgroup cannot reach ::2" from_cg "$CG/child" tcp 2001:db8::2 8080

json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list shows the IPv6 deny rule" "$json" \
	"[r for r in d['rules'] if r['cgroup'] == '$CG_REL' and r['prefix'] == '2001:db8::2' and r['family'] == 'ipv6' and r['action'] == 'deny']"
json=$(cgfw status --json) || fail "cgfw status --json failed"
json_check "status counts one IPv6 rule, no IPv4 rule" "$json" \
	"d['rules_ipv6'] == 1 and d['rules_ipv4'] == 0"

must cgfw unblock 2001:db8::2 --cgroup "$CG"
expect_reach "unblocked: cgroup reaches ::2 again" from_cg "$CG" tcp 2001:db8::2 8080

# A /127 covering ::2 and ::3 blocks both; a more specific allow wins for ::3.
must cgfw block 2001:db8::2/127 --cgroup "$CG"
expect_blocked "prefix block: cgroup cannot reach ::3" from_cg "$CG" tcp 2001:db8::3 8080
must cgfw allow 2001:db8::3 --cgroup "$CG"
expect_reach "longer allow beats shorter block: cgroup reaches ::3" \
	from_cg "$CG" tcp 2001:db8::3 8080
expect_blocked "prefix block still covers ::2" from_cg "$CG" tcp 2001:db8::2 8080
must cgfw unblock 2001:db8::2/127 --cgroup "$CG"
must cgfw unallow 2001:db8::3 --cgroup "$CG"
expect_reach "all rules removed: cgroup reaches ::2" from_cg "$CG" tcp 2001:db8::2 8080
