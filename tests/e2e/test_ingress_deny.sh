#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "No inbound connections": default deny on ingress only. New connections
# from outside are refused, and the workload's own outbound connections (let
# out by the egress default allow) should still get their replies.
#
# KNOWN ISSUE (registered DISABLED in CMakeLists.txt until fixed): only flows
# admitted by an allow *rule* are remembered for reply tracking, so with
# `default deny --ingress` every SYN-ACK is dropped (drop_default) and no
# outbound TCP connection of the workload completes.
source "$(dirname "$0")/lib.sh"
setup

start_server srv --tcp 198.51.100.3:8080 --tcp '[2001:db8::3]:8080'
must cgfw attach "$CG"
start_server_in_cg "$CG" insrv --tcp 198.51.100.1:7070
expect_reach "before: .3 connects in" from_server_ns tcp 198.51.100.1 7070 --src 198.51.100.3

must cgfw default deny --ingress --cgroup "$CG"
expect_blocked "ingress default deny: .3 cannot connect in" \
	from_server_ns tcp 198.51.100.1 7070 --src 198.51.100.3
expect_reach "ingress default deny: the workload still connects out to .3" \
	from_cg "$CG" tcp 198.51.100.3 8080
expect_reach "ingress default deny: the workload still connects out to 2001:db8::3" \
	from_cg "$CG" tcp 2001:db8::3 8080
