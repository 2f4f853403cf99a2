#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Allowlist mode: default deny plus allow rules. Egress to an allowed address
# works (the handshake's replies come back through reply tracking), to any
# other address it does not, for IPv4 and IPv6. On ingress, a server in the
# cgroup accepts and answers a client the allow rule admits, and no other.
source "$(dirname "$0")/lib.sh"
setup

start_server srv --tcp 198.51.100.2:8080 --tcp 198.51.100.3:8080 \
	--tcp '[2001:db8::2]:8080' --tcp '[2001:db8::3]:8080'

must cgfw attach "$CG"
must cgfw default deny --cgroup "$CG"
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list shows default deny both ways" "$json" \
	"[a for a in d['attachments'] if a['cgroup'] == '$CG_REL' and a['default_ingress'] == 'deny' and a['default_egress'] == 'deny']"
expect_blocked "default deny, no allow: cgroup cannot reach .3" from_cg "$CG" tcp 198.51.100.3 8080
expect_reach "default deny applies only to the cgroup" from_outside tcp 198.51.100.3 8080

must cgfw allow 198.51.100.3 --cgroup "$CG"
expect_reach "allowed .3: handshake and echo complete" from_cg "$CG" tcp 198.51.100.3 8080 --count 3
expect_blocked "default deny: .2 not reachable" from_cg "$CG" tcp 198.51.100.2 8080

# Egress only: the SYN-ACK and the echo from ::3 match no rule and come back
# only because reply tracking remembers the flow the allow rule let out.
must cgfw allow 2001:db8::3 --egress --cgroup "$CG"
json=$(cgfw status --json) || fail "cgfw status --json failed"
replies=$(json_eval "$json" "d['packets']['ingress']['allow_reply']")
expect_reach "egress-only allow of 2001:db8::3: reachable" from_cg "$CG" tcp 2001:db8::3 8080 --count 3
expect_blocked "default deny: 2001:db8::2 not reachable" from_cg "$CG" tcp 2001:db8::2 8080
json=$(cgfw status --json) || fail "cgfw status --json failed"
json_check "status: at least 3 SYN-ACKs and 3 echoes admitted as replies" "$json" \
	"d['packets']['ingress']['allow_reply'] >= $replies + 6 and d['packets']['egress']['drop_default'] > 0"
expect_reach "descendant follows the allowlist: .3 reachable" from_cg "$CG/child" tcp 198.51.100.3 8080
expect_blocked "descendant follows the allowlist: .2 not reachable" \
	from_cg "$CG/child" tcp 198.51.100.2 8080

# Ingress: the server runs in the cgroup (client netns), clients outside it
# in the server netns. Only .2 is allowed in.
must cgfw unallow 198.51.100.3 --cgroup "$CG"
must cgfw allow 198.51.100.2 --ingress --cgroup "$CG"
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list shows the ingress-only allow rule" "$json" \
	"[r for r in d['rules'] if r['cgroup'] == '$CG_REL' and r['prefix'] == '198.51.100.2' and r['direction'] == 'ingress' and r['action'] == 'allow']"
start_server_in_cg "$CG" insrv --tcp 198.51.100.1:7070 --tcp '[2001:db8::1]:7070'
expect_reach "ingress allow: client .2 connects to the server in the cgroup and gets its answer" \
	from_server_ns tcp 198.51.100.1 7070 --src 198.51.100.2
expect_blocked "ingress: client .3 is refused" from_server_ns tcp 198.51.100.1 7070 --src 198.51.100.3
server_log insrv | grep -q ' peer=198.51.100.2:' || fail "server log has no connection from .2"
if server_log insrv | grep -q ' peer=198.51.100.3:'; then
	fail "server accepted a connection from .3:"$'\n'"$(server_log insrv)"
fi
log "ok: server log shows .2 and not .3"
expect_blocked "egress-only allow of 2001:db8::3 does not admit its new connections" \
	from_server_ns tcp 2001:db8::1 7070 --src 2001:db8::3
# The rule is ingress only: the workload itself cannot open connections to .2.
expect_blocked "ingress-only allow does not open egress to .2" from_cg "$CG" tcp 198.51.100.2 8080

must cgfw default allow --cgroup "$CG"
expect_reach "default allow again: .3 connects in" \
	from_server_ns tcp 198.51.100.1 7070 --src 198.51.100.3
expect_reach "default allow again: cgroup reaches 2001:db8::2" from_cg "$CG" tcp 2001:db8::2 8080
