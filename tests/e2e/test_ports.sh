#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Protocol- and port-scoped rules: a TCP rule on one port leaves the other
# ports (and UDP) of the same address alone; a UDP rule on a port range
# leaves ports outside the range and TCP alone.
source "$(dirname "$0")/lib.sh"
setup

start_server srv --tcp 198.51.100.2:8080 --tcp 198.51.100.2:8081 --tcp 198.51.100.3:8080 \
	--tcp 198.51.100.2:9090 --udp 198.51.100.2:8080 --udp 198.51.100.2:9090 \
	--udp 198.51.100.2:9091 --udp 198.51.100.2:9092 --tcp '[2001:db8::2]:8080' \
	--tcp '[2001:db8::2]:8081'

must cgfw attach "$CG"

must cgfw block 198.51.100.2 --proto tcp --port 8080 --cgroup "$CG"
expect_blocked "tcp/8080 on .2 blocked" from_cg "$CG" tcp 198.51.100.2 8080
expect_reach "tcp/8081 on .2 still works" from_cg "$CG" tcp 198.51.100.2 8081
expect_reach "tcp/8080 on .3 still works" from_cg "$CG" tcp 198.51.100.3 8080
expect_reach "udp/8080 on .2 still works (rule is tcp only)" from_cg "$CG" udp 198.51.100.2 8080
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list shows proto tcp, port 8080" "$json" \
	"[r for r in d['rules'] if r['prefix'] == '198.51.100.2' and r['proto'] == 'tcp' and r['ports'] == 8080 and r['action'] == 'deny']"

must cgfw block 198.51.100.2 --proto udp --port 9090-9091 --cgroup "$CG"
expect_blocked "udp/9090 on .2 blocked" from_cg "$CG" udp 198.51.100.2 9090
expect_blocked "udp/9091 on .2 blocked" from_cg "$CG" udp 198.51.100.2 9091
expect_reach "udp/9092 on .2 still works (outside the range)" from_cg "$CG" udp 198.51.100.2 9092
expect_reach "tcp/9090 on .2 still works (rule is udp only)" from_cg "$CG" tcp 198.51.100.2 9090
expect_reach "udp/9090 from outside the cgroup works" from_outside udp 198.51.100.2 9090
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list shows proto udp, ports 9090-9091" "$json" \
	"[r for r in d['rules'] if r['prefix'] == '198.51.100.2' and r['proto'] == 'udp' and r['ports'] == '9090-9091']"

must cgfw block 2001:db8::2 --proto tcp --port 8081 --cgroup "$CG"
expect_blocked "tcp/8081 on 2001:db8::2 blocked" from_cg "$CG" tcp 2001:db8::2 8081
expect_reach "tcp/8080 on 2001:db8::2 still works" from_cg "$CG" tcp 2001:db8::2 8080

# Unblock takes the same arguments and removes only that rule.
must cgfw unblock 198.51.100.2 --proto tcp --port 8080 --cgroup "$CG"
expect_reach "tcp/8080 on .2 works after unblock" from_cg "$CG" tcp 198.51.100.2 8080
expect_blocked "udp/9090 rule still in force" from_cg "$CG" udp 198.51.100.2 9090
must cgfw unblock 198.51.100.2 --proto udp --port 9090-9091 --cgroup "$CG"
expect_reach "udp/9090 on .2 works after unblock" from_cg "$CG" udp 198.51.100.2 9090
must cgfw unblock 2001:db8::2 --proto tcp --port 8081 --cgroup "$CG"
expect_reach "tcp/8081 on 2001:db8::2 works after unblock" from_cg "$CG" tcp 2001:db8::2 8081
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "no rules left" "$json" "d['rules'] == []"
