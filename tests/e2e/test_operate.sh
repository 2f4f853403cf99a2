#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Operating a workload (README "Operating it"), on the cgroup datapath:
#  - audit mode: what default deny and a deny rule stop (EPERM, or no answer)
#    passes with --audit, IPv4 and IPv6; `list` shows the mode, `monitor
#    --json --count N` reports the would-drops with reason audit_rule or
#    audit_default, `status` counts them; --enforce drops again;
#  - per-rule counters (`list --stats`): 0 before, packets, bytes and last hit
#    after known traffic (an allow rule, the audited deny rule), not moved by
#    explain;
#  - explain: a host-wide rule, the cgroup's own rule with proto/port, the
#    default, an attached ancestor deciding, audit mode, IPv6; every verdict
#    explained for a tuple that is also tried matches the real connection;
#  - explain's bad input: exit 2, one stderr line naming the input (with
#    --json an {"error": ...} object), nothing changed.
source "$(dirname "$0")/lib.sh"
setup

# More server addresses, one per role below (all on the server's veth).
h_addr "$NSS" veth1 198.51.100.4/24 198.51.100.5/24 198.51.100.6/24 2001:db8::5/64
start_server srv --tcp 198.51.100.2:8080 --tcp 198.51.100.3:8080 --tcp 198.51.100.4:8080 \
	--tcp 198.51.100.5:8080 --tcp 198.51.100.6:8080 --tcp '[2001:db8::2]:8080' \
	--tcp '[2001:db8::5]:443' --udp 198.51.100.2:9090

# ---- helpers ---------------------------------------------------------------------

# ex CGROUP ADDR:PORT [explain args]: `cgfw explain --json` of an egress TCP packet.
ex() {
	local cg=$1 dst=$2
	shift 2
	cgfw explain --cgroup "$cg" --egress tcp "$dst" --json "$@" ||
		fail "cgfw explain --cgroup $cg --egress tcp $dst --json $*: exit $?"
}

# agree DESC CGROUP ADDR PORT allow|deny [PYEXPR]: explain's verdict for an
# egress TCP connection to ADDR:PORT is the one given (and PYEXPR holds on its
# JSON), and the real connection from a process in CGROUP has that outcome.
agree() {
	local desc=$1 cg=$2 addr=$3 port=$4 want=$5 extra=${6:-True} dst j
	dst=$addr:$port
	[[ $addr == *:* ]] && dst="[$addr]:$port"
	j=$(ex "$cg" "$dst")
	json_check "explain $desc: $want" "$j" "d['verdict'] == '$want' and ($extra)"
	if [ "$want" = allow ]; then
		expect_reach "reality agrees, $desc: connects" from_cg "$cg" tcp "$addr" "$port"
	else
		expect_blocked "reality agrees, $desc: refused" from_cg "$cg" tcp "$addr" "$port"
	fi
}

# rule_stat JSON CGROUP|None PREFIX: the rule of `list --stats --json` as JSON.
rule_stat() {
	json_eval "$1" "[r for r in d['rules'] if r['cgroup'] == $2 and r['prefix'] == '$3'][0]"
}

# jcheck DESC JSON PYEXPR: json_check, counted (the test goes on and fails at the end).
jcheck() {
	local v
	v=$(json_eval "$2" "bool($3)" 2>&1)
	if [ "$v" = true ]; then ok "$1"; else not_ok "$1: '$3' is not true for: $(excerpt "$2")"; fi
}

# monitor_during OUT N CMD...: `cgfw monitor --json --count N` in the background,
# then CMD (the traffic) until the monitor has its N events and ends by itself:
# at most 3 rounds of traffic, 5 s each (times $H_SCALE). OUT gets the events.
monitor_during() {
	local out=$1 n=$2 pid round rc
	shift 2
	bg "$out" timeout $((30 * H_SCALE)) "$CGFW" monitor --json --count "$n"
	pid=$BGPID
	h_sleep 0.5 # subscribed (monitor --json prints nothing before its first event)
	for round in 1 2 3; do
		"$@"
		for _ in $(seq $((50 * H_SCALE))); do
			kill -0 "$pid" 2>/dev/null || break 2
			sleep 0.1
		done
		log "monitor has $(grep -c '' "$out") of $n events after round $round of traffic"
	done
	stop "$pid" TERM
	rc=$?
	[ "$rc" = 0 ] || fail "monitor --json --count $n: exit $rc, expected 0 after $n events:"$'\n'"$(cat "$out")"
	log "ok: monitor --json --count $n ended by itself"
	if [ "$(grep -c '' "$out")" = "$n" ]; then
		ok "monitor --json --count $n printed $n events"
	else
		not_ok "monitor --json --count $n printed $(grep -c '' "$out") events:"
		sed 's/^/#   /' "$out"
	fi
}

# last_hit_recent RULE-JSON: its last_hit is a timestamp within 2 minutes of now.
last_hit_recent() {
	"$PYTHON" -c 'import datetime, json, sys
t = json.loads(sys.argv[1])["last_hit"]
t = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
sys.exit(abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) > 120)' "$1"
}

# ---- audit mode, per-rule counters -----------------------------------------------

must cgfw attach "$CG"
expect_reach "attached, no rule: .2 reachable" from_cg "$CG" tcp 198.51.100.2 8080
must cgfw default deny --cgroup "$CG" --egress
expect_blocked "default deny --egress: TCP to .2 is refused" from_cg "$CG" tcp 198.51.100.2 8080
out=$(from_cg "$CG" udp 198.51.100.2 9090 2>&1)
rc=$?
if [ $rc != 3 ] || [[ $out != *"Operation not permitted"* ]]; then
	fail "default deny --egress: UDP send to .2 should fail with EPERM, got exit $rc: $out"
fi
log "ok: default deny --egress: UDP send to .2 fails with EPERM"
expect_reach "default deny --egress: outside the cgroup .2 is reachable" from_outside tcp 198.51.100.2 8080

must cgfw block 198.51.100.3 --cgroup "$CG" --egress
must cgfw allow 198.51.100.4 --cgroup "$CG" --egress --proto tcp --port 8080
stats=$(cgfw list --stats --json) || fail "cgfw list --stats --json failed"
for p in 198.51.100.3 198.51.100.4; do
	json_check "list --stats: the new rule for $p has 0 packets, 0 bytes, no last hit" "$stats" \
		"[r for r in d['rules'] if r['cgroup'] == '$CG_REL' and r['prefix'] == '$p' and r['packets'] == 0 and r['bytes'] == 0 and r['last_hit'] is None]"
done
text=$(cgfw list --stats) || fail "cgfw list --stats failed"
assert_contains "list --stats has a PACKETS column" "$(grep '^RULE' <<<"$text")" "PACKETS"
assert_contains "list --stats has a BYTES column" "$(grep '^RULE' <<<"$text")" "BYTES"
assert_contains "list --stats has a LAST HIT column" "$(grep '^RULE' <<<"$text")" "LAST HIT"
assert_not_contains "plain list has no PACKETS column" "$(cgfw list)" "PACKETS"

expect_blocked "block .3 --egress (and default deny): .3 is refused" from_cg "$CG" tcp 198.51.100.3 8080
expect_reach "allow .4 tcp 8080: 3 connections with their echoes" \
	from_cg "$CG" tcp 198.51.100.4 8080 --count 3
stats=$(cgfw list --stats --json) || fail "cgfw list --stats --json failed"
allow=$(rule_stat "$stats" "'$CG_REL'" 198.51.100.4)
deny=$(rule_stat "$stats" "'$CG_REL'" 198.51.100.3)
# Each connection sends at least its SYN, the handshake's ACK and its line.
json_check "allow rule counted 3 connections (>= 9 packets, >= 40 bytes each)" "$allow" \
	"d['packets'] >= 9 and d['bytes'] >= 40 * d['packets']"
last_hit_recent "$allow" || fail "allow rule: last_hit is not now: $allow"
log "ok: allow rule: last hit is now ($(json_eval "$allow" "d['last_hit']"))"
json_check "deny rule counted the dropped SYN" "$deny" "d['packets'] >= 1 and d['bytes'] >= 40"
last_hit_recent "$deny" || fail "deny rule: last_hit is not now: $deny"
n4=$(json_eval "$allow" "d['packets']")
b4=$(json_eval "$allow" "d['bytes']")
line=$(cgfw list --stats | grep -E "allow +egress +198\.51\.100\.4 ") || fail "no allow line in list --stats"
[[ $line =~ manual\ +$n4\ +$b4\  ]] || fail "list --stats text does not show $n4 packets, $b4 bytes: $line"
log "ok: list --stats text shows the same packets and bytes ($n4, $b4)"

# explain reports the counters and moves none.
j=$(ex "$CG" 198.51.100.4:8080)
json_check "explain names the allow rule with its counters" "$j" \
	"d['verdict'] == 'allow' and d['steps'][0]['reason'] == 'allow_rule' and d['steps'][0]['rules'][0]['packets'] == $n4"
ex "$CG" 198.51.100.3:8080 >/dev/null
ex "$CG" 198.51.100.2:8080 >/dev/null
status_enforce=$(cgfw status --json) || fail "cgfw status --json failed"
stats2=$(cgfw list --stats --json) || fail "cgfw list --stats --json failed"
assert_eq "explain counted nothing (list --stats unchanged)" "$stats" "$stats2"

# Audit.
must cgfw default deny --cgroup "$CG" --egress --audit
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list shows mode audit, egress default still deny" "$json" \
	"[a for a in d['attachments'] if a['cgroup'] == '$CG_REL' and a['mode'] == 'audit' and a['default_egress'] == 'deny' and a['default_ingress'] == 'allow']"
assert_contains "list (text) shows the mode" "$(cgfw list | grep -F "$CG_REL ")" " audit "

monitor_during "$WORK/mon_rule" 2 \
	expect_reach "audit: .3 (deny rule) connects" from_cg "$CG" tcp 198.51.100.3 8080
ev=$("$PYTHON" -c 'import json, sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))' \
	"$WORK/mon_rule") || fail "monitor output is not JSON lines: $(cat "$WORK/mon_rule")"
json_check "monitor: the events are the audited packets to .3, reason audit_rule" "$ev" \
	"all(e['reason'] == 'audit_rule' and e['source'] == 'cgroup-egress' and e['cgroup'] == '$CG_REL' and e['family'] == 'ipv4' and e['dst'] == '198.51.100.3' and e['dport'] == 8080 for e in d)"
jcheck "monitor: the audit_rule events are marked action 'audit'" "$ev" \
	"all(e['action'] == 'audit' for e in d)"

# Under default deny an audited flow's first packet is the would-drop: the
# answer it gets is admitted and makes the flow's next packets replies.
audit_default_traffic() {
	expect_reach "audit: .2 (default deny) connects" from_cg "$CG" tcp 198.51.100.2 8080
	expect_reach "audit: 2001:db8::2 (default deny, IPv6) connects" from_cg "$CG" tcp 2001:db8::2 8080
}
monitor_during "$WORK/mon_default" 2 audit_default_traffic
ev=$("$PYTHON" -c 'import json, sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))' \
	"$WORK/mon_default") || fail "monitor output is not JSON lines: $(cat "$WORK/mon_default")"
json_check "monitor: reason audit_default for .2 and 2001:db8::2" "$ev" \
	"all(e['reason'] == 'audit_default' and e['cgroup'] == '$CG_REL' and e['dport'] == 8080 and e['dst'] in ('198.51.100.2', '2001:db8::2') for e in d) and 'ipv6' in [e['family'] for e in d]"
jcheck "monitor: the audit_default events are marked action 'audit'" "$ev" \
	"all(e['action'] == 'audit' for e in d)"

# The audited deny rule counts too.
stats=$(cgfw list --stats --json) || fail "cgfw list --stats --json failed"
deny2=$(rule_stat "$stats" "'$CG_REL'" 198.51.100.3)
json_check "audited deny rule grew by the connection's packets" "$deny2" \
	"d['packets'] >= $(json_eval "$deny" "d['packets']") + 3 and d['bytes'] > $(json_eval "$deny" "d['bytes']")"
last_hit_recent "$deny2" || fail "audited deny rule: last_hit is not now: $deny2"
status=$(cgfw status --json) || fail "cgfw status --json failed"
json_check "status: egress audit_rule and audit_default counted, nothing dropped meanwhile" "$status" \
	"(lambda e, b: e['audit_rule'] >= b['audit_rule'] + 3 and e['audit_default'] >= b['audit_default'] + 2 and e['drop_rule'] == b['drop_rule'] and e['drop_default'] == b['drop_default'])(d['packets']['egress'], $(json_eval "$status_enforce" "d['packets']['egress']"))"

# explain in audit mode, and reality.
agree "audit, deny rule .3" "$CG" 198.51.100.3 8080 allow \
	"d['steps'][0]['reason'] == 'audit_rule' and d['steps'][0]['audit'] and d['steps'][0]['rules'][0]['action'] == 'deny' and d['steps'][0]['rules'][0]['prefix'] == '198.51.100.3'"
agree "audit, default deny .2" "$CG" 198.51.100.2 8080 allow \
	"d['steps'][0]['reason'] == 'audit_default' and d['steps'][0]['audit'] and d['steps'][0]['default'] == 'deny' and d['steps'][0]['rules'] == []"
agree "audit, IPv6 default deny 2001:db8::2" "$CG" 2001:db8::2 8080 allow \
	"d['steps'][0]['reason'] == 'audit_default' and d['remote'] == '2001:db8::2' and d['remote_port'] == 8080 and d['local'] == '::'"
text=$(cgfw explain --cgroup "$CG" --egress tcp 198.51.100.3:8080) || fail "explain (text) failed"
assert_contains "explain text: ALLOW" "$(head -1 <<<"$text")" ": ALLOW"
assert_contains "explain text: the cgroup is in audit mode" "$text" "audit mode"
assert_contains "explain text: a rule would drop it" "$text" "audit: a rule would drop it"
assert_contains "explain text: names the deny rule" "$text" "rule: deny 198.51.100.3 "

# Enforce again.
must cgfw default deny --cgroup "$CG" --egress --enforce
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "list shows mode enforce" "$json" \
	"[a for a in d['attachments'] if a['cgroup'] == '$CG_REL' and a['mode'] == 'enforce' and a['default_egress'] == 'deny']"
agree "enforce, deny rule .3" "$CG" 198.51.100.3 8080 deny "d['steps'][0]['reason'] == 'drop_rule'"
agree "enforce, default deny .2" "$CG" 198.51.100.2 8080 deny "d['steps'][0]['reason'] == 'drop_default'"
agree "enforce, IPv6 default deny" "$CG" 2001:db8::2 8080 deny "d['steps'][0]['reason'] == 'drop_default'"
agree "enforce, allow rule .4" "$CG" 198.51.100.4 8080 allow "d['steps'][0]['reason'] == 'allow_rule'"

# ---- explain -----------------------------------------------------------------------
# A fresh start: the parent $CG and the workload W = $CG/child, both attached.
must cgfw detach "$CG"
W=$CG/child
W_REL=$CG_REL/child
mkdir -p "$W" || fail "cannot create $W"
must cgfw attach "$CG"
must cgfw attach "$W"
json=$(cgfw list --json) || fail "cgfw list --json failed"
json_check "after detach: no rule, parent and child attached in enforce mode" "$json" \
	"d['rules'] == [] and sorted(a['cgroup'] for a in d['attachments'] if a['mode'] == 'enforce') == ['$CG_REL', '$W_REL']"

# A host-wide deny rule.
must cgfw block 198.51.100.5
agree "host-wide deny .5" "$W" 198.51.100.5 8080 deny \
	"[s['reason'] for s in d['steps']] == ['drop_rule', 'drop_rule'] and all(s['rules'][0]['prefix'] == '198.51.100.5' and s['rules'][0]['scope_kind'] == 'host' and s['rules'][0]['cgroup'] is None for s in d['steps'])"
text=$(cgfw explain --cgroup "$W" --egress tcp 198.51.100.5:8080) || fail "explain (text) failed"
assert_eq "explain text, host-wide deny: the verdict line" \
	"egress tcp 0.0.0.0:40000 -> 198.51.100.5:8080: DENY" "$(head -1 <<<"$text")"
assert_contains "explain text: the workload's step" "$text" "cgroup $W_REL (id "
assert_contains "explain text: the host-wide rule" "$text" "rule: deny 198.51.100.5 (host-wide rule, manual)"

# The cgroup's own allow rule with proto and port, and its default.
must cgfw default deny --cgroup "$W" --egress
must cgfw allow 198.51.100.4 --cgroup "$W" --egress --proto tcp --port 8080
agree "the cgroup's allow tcp 8080 to .4" "$W" 198.51.100.4 8080 allow \
	"d['steps'][0]['cgroup'] == '$W_REL' and not d['steps'][0]['ancestor'] and d['steps'][0]['reason'] == 'allow_rule' and d['steps'][0]['rules'][0]['proto'] == 'tcp' and d['steps'][0]['rules'][0]['ports'] == 8080 and d['steps'][0]['rules'][0]['scope_kind'] == 'cgroup' and d['steps'][1]['ancestor'] and d['steps'][1]['reason'] == 'allow_default'"
text=$(cgfw explain --cgroup "$W" --egress tcp 198.51.100.4:8080) || fail "explain (text) failed"
assert_contains "explain text: ALLOW" "$(head -1 <<<"$text")" ": ALLOW"
assert_contains "explain text: the rule with proto and port" "$text" \
	"rule: allow 198.51.100.4 tcp port 8080 (the cgroup's rule, manual)"
assert_contains "explain text: the ancestor's default" "$text" "ancestor $CG_REL (id "
# Another port of .4 (nothing listens there: a refusal would mean it passed).
agree "the cgroup's default for .4:8081 (the rule's port does not match)" "$W" 198.51.100.4 8081 deny \
	"d['steps'][0]['reason'] == 'drop_default' and d['steps'][0]['default'] == 'deny'"
agree "the cgroup's default deny .2" "$W" 198.51.100.2 8080 deny \
	"d['steps'][0]['reason'] == 'drop_default' and d['steps'][0]['rules'] == [] and d['steps'][1]['reason'] == 'allow_default'"
text=$(cgfw explain --cgroup "$W" --egress tcp 198.51.100.2:8080) || fail "explain (text) failed"
assert_contains "explain text: the default" "$text" "no rule matched; default deny"
j=$(cgfw explain --cgroup "$W" --ingress tcp 198.51.100.2:8080 --json) || fail "explain --ingress failed"
json_check "explain --ingress: the ingress default (allow)" "$j" \
	"d['verdict'] == 'allow' and d['direction'] == 'ingress' and d['steps'][0]['reason'] == 'allow_default'"

# An attached ancestor decides: the child allows .6, the parent blocks it.
must cgfw allow 198.51.100.6 --cgroup "$W" --egress
must cgfw block 198.51.100.6 --cgroup "$CG" --egress
agree "the ancestor's deny .6 over the child's allow" "$W" 198.51.100.6 8080 deny \
	"d['steps'][0]['verdict'] == 'allow' and d['steps'][0]['reason'] == 'allow_rule' and d['steps'][1]['cgroup'] == '$CG_REL' and d['steps'][1]['ancestor'] and d['steps'][1]['verdict'] == 'deny' and d['steps'][1]['reason'] == 'drop_rule' and d['steps'][1]['rules'][0]['cgroup'] == '$CG_REL' and d['steps'][1]['rules'][0]['prefix'] == '198.51.100.6'"
text=$(cgfw explain --cgroup "$W" --egress tcp 198.51.100.6:8080) || fail "explain (text) failed"
assert_contains "explain text: DENY" "$(head -1 <<<"$text")" ": DENY"
assert_contains "explain text: the ancestor decides" "$text" "ancestor $CG_REL (id "
assert_contains "explain text: the ancestor's rule" "$text" "rule: deny 198.51.100.6 (the cgroup's rule, manual)"
agree "the parent itself: its deny .6" "$CG" 198.51.100.6 8080 deny \
	"len(d['steps']) == 1 and d['steps'][0]['reason'] == 'drop_rule'"
# A descendant that is not attached itself: only its attached ancestor.
mkdir -p "$CG/other" || fail "cannot create $CG/other"
agree "a non-attached descendant: only the parent's step" "$CG/other" 198.51.100.2 8080 allow \
	"len(d['steps']) == 1 and d['steps'][0]['cgroup'] == '$CG_REL' and d['steps'][0]['ancestor']"

# Audit mode: the workload's would-drops pass; the parent still enforces.
must cgfw default deny --cgroup "$W" --egress --audit
agree "audit mode: the default's would-drop .2 passes" "$W" 198.51.100.2 8080 allow \
	"d['steps'][0]['verdict'] == 'allow' and d['steps'][0]['reason'] == 'audit_default' and d['steps'][0]['audit'] and not d['steps'][1]['audit']"
text=$(cgfw explain --cgroup "$W" --egress tcp 198.51.100.2:8080) || fail "explain (text) failed"
assert_contains "explain text: audit mode, the default would drop it" "$text" \
	"audit mode): allow, audit: the default would drop it; passed"
agree "audit mode: the host-wide deny .5 is audited in the child, enforced in the parent" \
	"$W" 198.51.100.5 8080 deny \
	"[(s['verdict'], s['reason']) for s in d['steps']] == [('allow', 'audit_rule'), ('deny', 'drop_rule')]"

# IPv6, with brackets.
agree "IPv6 [2001:db8::5]:443 in audit mode" "$W" 2001:db8::5 443 allow \
	"d['remote'] == '2001:db8::5' and d['remote_port'] == 443 and d['local'] == '::' and d['local_port'] == 40000 and d['steps'][0]['reason'] == 'audit_default'"
j=$(ex "$W" '[2001:db8::5]:443' --from '[2001:db8::1]:5555')
json_check "IPv6 with --from: the workload's end" "$j" \
	"d['local'] == '2001:db8::1' and d['local_port'] == 5555 and d['remote'] == '2001:db8::5'"
must cgfw default deny --cgroup "$W" --egress --enforce
agree "IPv6 [2001:db8::5]:443 enforced: the default" "$W" 2001:db8::5 443 deny \
	"d['steps'][0]['reason'] == 'drop_default'"
must cgfw allow 2001:db8::5 --cgroup "$W" --egress --proto tcp --port 443
agree "IPv6 allow [2001:db8::5]:443" "$W" 2001:db8::5 443 allow \
	"d['steps'][0]['reason'] == 'allow_rule' and d['steps'][0]['rules'][0]['prefix'] == '2001:db8::5' and d['steps'][0]['rules'][0]['family'] == 'ipv6'"
must cgfw block 2001:db8::/64 --cgroup "$CG" --egress
agree "IPv6: the parent's /64 deny" "$W" 2001:db8::5 443 deny \
	"d['steps'][1]['reason'] == 'drop_rule' and d['steps'][1]['rules'][0]['prefix'] == '2001:db8::/64'"

# ---- explain's bad input -------------------------------------------------------------
before=$(cgfw list --json) || fail "cgfw list --json failed"
stats_before=$(cgfw list --stats --json) || fail "cgfw list --stats --json failed"
NOT_ATTACHED=$CG2/$H_NAME-free # neither it nor an ancestor is attached
mkdir -p "$NOT_ATTACHED" || fail "cannot create $NOT_ATTACHED"

# bad RC NAMED DESC EXPLAIN-ARGS...: exit RC, nothing on stdout, one line on
# stderr containing NAMED; with --json the line is {"error": "...NAMED..."}.
bad() {
	local want=$1 named=$2 desc=$3 rc err lines mode
	shift 3
	for mode in text json; do
		if [ $mode = json ]; then
			"$CGFW" --json explain "$@" >"$WORK/bad.out" 2>"$WORK/bad.err"
		else
			"$CGFW" explain "$@" >"$WORK/bad.out" 2>"$WORK/bad.err"
		fi
		rc=$?
		err=$(cat "$WORK/bad.err")
		[ $rc = "$want" ] || fail "explain $* ($desc, $mode): exit $rc, expected $want: $err"
		[ ! -s "$WORK/bad.out" ] || fail "explain $* ($desc, $mode): output on stdout: $(cat "$WORK/bad.out")"
		lines=$(grep -c '' "$WORK/bad.err")
		[ "$lines" = 1 ] || fail "explain $* ($desc, $mode): $lines lines on stderr:"$'\n'"$err"
		if [ $mode = json ]; then
			json_eval "$err" "list(d) == ['error'] and isinstance(d['error'], str) and $(
				"$PYTHON" -c 'import sys; print(repr(sys.argv[1]))' "$named") in d['error']" |
				grep -qx true || fail "explain $* --json ($desc): not {\"error\": \"...$named...\"}: $err"
		else
			[[ $err == "cgfw: "*"$named"* ]] || fail "explain $* ($desc): stderr does not name '$named': $err"
		fi
	done
	log "ok: explain bad input, $desc: exit $want, one line: $err"
}

bad 2 "--ingress or --egress" "no direction" --cgroup "$W" tcp 198.51.100.2:8080
bad 2 "--ingress or --egress" "both directions" --cgroup "$W" --ingress --egress tcp 198.51.100.2:8080
bad 2 "--cgroup CGROUP or --iface IFACE" "--cgroup and --iface" \
	--cgroup "$W" --iface lo --egress tcp 198.51.100.2:8080
bad 2 "--cgroup CGROUP or --iface IFACE" "neither --cgroup nor --iface" --egress tcp 198.51.100.2:8080
bad 2 "'198.51.100.999:80'" "malformed IPv4 address" --cgroup "$W" --egress tcp 198.51.100.999:80
bad 2 "'[2001:db8::g]:443'" "malformed IPv6 address" --cgroup "$W" --egress tcp '[2001:db8::g]:443'
bad 2 "'99999'" "port out of range" --cgroup "$W" --egress tcp 198.51.100.2:99999
bad 2 "udp needs a port" "udp without a port" --cgroup "$W" --egress udp 198.51.100.2
bad 2 "'198.51.100.1:5'" "--from of the other family" \
	--cgroup "$W" --egress tcp '[2001:db8::5]:443' --from 198.51.100.1:5
bad 2 "'sctpx'" "unknown protocol" --cgroup "$W" --egress sctpx 198.51.100.2:8080
bad 2 "$H_NAME-free" "a cgroup that is not attached (nor an ancestor)" \
	--cgroup "$NOT_ATTACHED" --egress tcp 198.51.100.2:8080
bad 2 "$H_NAME-free" "a not attached cgroup, relative path" \
	--cgroup "$H_NAME-free" --egress tcp 198.51.100.2:8080
bad 2 "$CG_REL/missing" "a cgroup that does not exist" --cgroup "$CG/missing" --egress tcp 198.51.100.2:8080
bad 2 "'--frobnicate'" "unknown option" --cgroup "$W" --egress tcp 198.51.100.2:8080 --frobnicate
[ ! -e "$CG/missing" ] || fail "explain created $CG/missing"
after=$(cgfw list --json) || fail "cgfw list --json failed"
assert_eq "list --json unchanged by the bad explains" "$before" "$after"
after=$(cgfw list --stats --json) || fail "cgfw list --stats --json failed"
assert_eq "list --stats --json unchanged by the bad explains" "$stats_before" "$after"

finish
