#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `cgfw metrics` on a state with everything in it (attached cgroups, one in
# audit mode and one whose name needs escaping, host-wide and per-cgroup
# rules, a cgroup attached twice under one path, TC programs and rules, real
# traffic counted by both datapaths) passes Debian's `promtool check metrics`
# without a remark, has every family once with its samples together, and
# says what the state says: the counters of `cgfw status` and `cgfw list
# --stats`, exactly the packets the test sent to a blocked address.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || skip "promtool not installed (package prometheus)"
setup
h_cgfw_netns "$NSS" # the TC programs are attached there
S() { in_ns "$NSS" "$CGFW" "$@"; }

start_server srv --tcp 198.51.100.2:8080 --udp 198.51.100.2:9090
must cgfw metrics >"$WORK/empty.prom"
check "no state: promtool passes" promtool check metrics <"$WORK/empty.prom"
contains "$WORK/empty.prom" '^cgfw_state_present{datapath="cgroup"} 0$' "no state: cgroup state absent"
lacks "$WORK/empty.prom" '^cgfw_packets_total' "no state: no counters"

# Cgroups: the test's, a child in audit mode with deny by default inbound, one
# whose name has a quote, a backslash, a space and a byte that is not UTF-8.
WEIRD=$(printf 'we"ird\\na me\xff')
mkdir -p "$CG/child" "$CG/$WEIRD" "$CG/again" || fail "cannot make the cgroups"
must cgfw attach "$CG"
must cgfw attach "$CG/child"
must cgfw attach "$CG/$WEIRD"
# Removed and made again while attached: two attachments with one path.
must cgfw attach "$CG/again"
rmdir "$CG/again" && mkdir "$CG/again" || fail "cannot remake $CG/again"
must cgfw attach "$CG/again"
must cgfw default deny --cgroup "$CG/child" --ingress --audit
must cgfw block 198.51.100.3                                            # host-wide
must cgfw allow 198.51.100.2 --cgroup "$CG" --egress --proto tcp --port 8080
must cgfw block 2001:db8::/32 --cgroup "$CG/child" --proto udp --port 53-60

# TC: stateful on the server's side, an inbound rule for the echo server, a redirect.
must S tc attach veth1 --stateful
must S inbound add --dst 198.51.100.2 --proto tcp --ports 8080
must S redirect add --dst 203.0.113.10 --proto tcp --ports 80 --to 198.51.100.2:8080

# Traffic: three echoes from the cgroup (allowed by its rule), five datagrams
# to the host-wide block (each dropped at egress: exactly one packet each).
t0=$(date +%s)
check "cgroup reaches the echo server" from_cg "$CG" tcp 198.51.100.2 8080 --echo --count 3
expect_rc 3 "five datagrams to the blocked address are dropped" \
	from_cg "$CG" udp 198.51.100.3 9090 --count 5
check "the audited child reaches the server" from_cg "$CG/child" tcp 198.51.100.2 8080 --echo
sleep 0.3 # the last ACKs and FINs

must cgfw metrics >"$WORK/m.prom"
cgfw status --json >"$WORK/status.json" || fail "cgfw status --json"
cgfw list --stats --json >"$WORK/list.json" || fail "cgfw list --json"
t1=$(date +%s)
log "$(wc -l <"$WORK/m.prom") lines of metrics"

# ---- promtool ------------------------------------------------------------------------
promtool check metrics <"$WORK/m.prom" >"$WORK/promtool.out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -s "$WORK/promtool.out" ] && ok "promtool check metrics: no problem" ||
	{ not_ok "promtool check metrics: exit $rc"; sed 's/^/#   /' "$WORK/promtool.out"; }

# ---- the format: each family once, HELP then TYPE then its samples -------------------------
check "every family once, its samples together, HELP and TYPE first" "$PYTHON" - "$WORK/m.prom" <<'EOF'
import re, sys
seen, cur, series = set(), None, set()
lines = open(sys.argv[1], "rb").read().decode("utf-8").split("\n")
assert lines[-1] == "", "no newline at the end"
for i, line in enumerate(lines[:-1], 1):
    m = re.match(r"# HELP ([a-z_]+) (.+)$", line)
    if m:
        assert m.group(1) not in seen, f"line {i}: {m.group(1)} declared again"
        seen.add(m.group(1)); cur = m.group(1)
        nxt = lines[i]
        assert nxt.startswith(f"# TYPE {cur} "), f"line {i + 1}: no TYPE after HELP"
        continue
    if line.startswith("# TYPE "):
        t = line.split()
        assert t[2] == cur and t[3] in ("counter", "gauge"), f"line {i}: {line}"
        assert (t[3] == "counter") == cur.endswith("_total"), f"line {i}: {cur} is a {t[3]}"
        continue
    m = re.match(r"([a-z_]+)(\{.*\})? (\S+)$", line)
    assert m, f"line {i}: not a sample: {line!r}"
    assert m.group(1) == cur, f"line {i}: {m.group(1)} outside its family {cur}"
    assert line.rsplit(" ", 1)[0] not in series, f"line {i}: a second sample of {line}"
    series.add(line.rsplit(" ", 1)[0])
    float(m.group(3))
want = """cgfw_build_info cgfw_state_present cgfw_state_layout_version
cgfw_state_created_timestamp_seconds cgfw_attached_cgroups cgfw_cgroup_info
cgfw_cgroup_audit_mode cgfw_cgroup_default_deny cgfw_cgroup_program_attached
cgfw_packets_total cgfw_bytes_total cgfw_all_cgroups_packets_total
cgfw_all_cgroups_bytes_total cgfw_rules cgfw_rule_prefix_lengths cgfw_rule_packets_total
cgfw_rule_bytes_total cgfw_rule_last_hit_timestamp_seconds cgfw_ruleset_generation
cgfw_tc_attached_interfaces cgfw_tc_rules cgfw_tc_packets_total cgfw_tc_bytes_total
cgfw_tc_rule_packets_total cgfw_tc_rule_bytes_total cgfw_map_entries
cgfw_map_entries_limit cgfw_events_lost_total""".split()
missing = [f for f in want if f not in seen]
assert not missing, f"families missing: {missing}"
EOF

# ---- what the state says --------------------------------------------------------------------
M=$WORK/m.prom
expect_sample() { # DESC NAME LABELS WANT
	local got
	got=$(sample "$M" "$2" "$3")
	[ "$got" = "$4" ] && ok "$1 ($2 = $got)" || not_ok "$1: $2$3 is $got, expected $4"
}
expect_positive() { # DESC NAME LABELS
	local got
	got=$(sample "$M" "$2" "$3")
	[[ $got =~ ^[0-9.e+]+$ ]] && "$PYTHON" -c "import sys; sys.exit(not float('$got') > 0)" &&
		ok "$1 ($2 = $got)" || not_ok "$1: $2$3 is $got, expected more than 0"
}
layout=$(cgfw version --json | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["layout_version"])')
expect_sample "layout version as cgfw version says" cgfw_state_layout_version "{}" "$layout"
expect_sample "cgroup state present" cgfw_state_present "{'datapath': 'cgroup'}" 1
expect_sample "TC state present" cgfw_state_present "{'datapath': 'tc'}" 1
expect_sample "five attachments" cgfw_attached_cgroups "{}" 5
expect_sample "the child is in audit mode" cgfw_cgroup_audit_mode "{'cgroup': '$CG_REL/child'}" 1
expect_sample "the test cgroup is enforced" cgfw_cgroup_audit_mode "{'cgroup': '$CG_REL'}" 0
expect_sample "the child denies inbound by default" cgfw_cgroup_default_deny \
	"{'cgroup': '$CG_REL/child', 'direction': 'ingress'}" 1
expect_sample "a weird name, escaped (invalid UTF-8 as U+FFFD)" cgfw_cgroup_audit_mode \
	"{'cgroup': '$CG_REL/we\"ird\\\\na me\ufffd'}" 0
expect_sample "the cgroup attached last keeps its path" cgfw_cgroup_program_attached \
	"{'cgroup': '$CG_REL/again', 'direction': 'egress'}" 1
grep -q "^cgfw_cgroup_info{cgroup=\"$CG_REL/again (cgroup id [0-9]*)\",cgroup_id=\"[0-9]*\"} 1$" "$M" &&
	ok "the older attachment of that path says its cgroup id" ||
	not_ok "no cgfw_cgroup_info for the older attachment of $CG_REL/again"

expect_sample "exactly the five dropped datagrams, for the cgroup" cgfw_packets_total \
	"{'cgroup': '$CG_REL', 'direction': 'egress', 'reason': 'drop_rule'}" 5
expect_sample "and in the totals" cgfw_all_cgroups_packets_total \
	"{'direction': 'egress', 'reason': 'drop_rule'}" 5
expect_sample "and on the host-wide rule" cgfw_rule_packets_total \
	"{'scope': 'host', 'cgroup': '', 'action': 'deny', 'direction': 'both', 'prefix': '198.51.100.3', 'proto': 'any', 'ports': '', 'origin': 'manual'}" 5
RULE="{'scope': 'cgroup', 'cgroup': '$CG_REL', 'action': 'allow', 'direction': 'egress', 'prefix': '198.51.100.2', 'proto': 'tcp', 'ports': '8080', 'origin': 'manual'}"
expect_positive "the cgroup's allow rule counted the echoes" cgfw_rule_packets_total "$RULE"
expect_positive "and their bytes" cgfw_rule_bytes_total "$RULE"
hit=$(sample "$M" cgfw_rule_last_hit_timestamp_seconds "$RULE")
"$PYTHON" -c "import sys; sys.exit(not $t0 - 2 <= float('$hit') <= $t1 + 2)" 2>/dev/null &&
	ok "its last hit is a time of this test ($hit)" || not_ok "last hit $hit is not in [$t0, $t1]"
expect_sample "a rule never hit has no last hit" cgfw_rule_last_hit_timestamp_seconds \
	"{'scope': 'cgroup', 'cgroup': '$CG_REL/child', 'action': 'deny', 'direction': 'both', 'prefix': '2001:db8::/32', 'proto': 'udp', 'ports': '53-60', 'origin': 'manual'}" absent
expect_positive "the audited child's traffic is counted as its own" cgfw_packets_total \
	"{'cgroup': '$CG_REL/child', 'direction': 'egress', 'reason': 'allow_default'}"
expect_positive "TC: the inbound rule admitted the echoes" cgfw_tc_packets_total \
	"{'direction': 'ingress', 'reason': 'pass_inbound'}"
expect_positive "TC: and the rule counted them" cgfw_tc_rule_packets_total \
	"{'id': '1', 'kind': 'inbound', 'dst': '198.51.100.2', 'src': '', 'proto': 'tcp', 'ports': '8080', 'iface': '', 'to': ''}"
expect_sample "TC: the redirect rule, not hit" cgfw_tc_rule_packets_total \
	"{'id': '2', 'kind': 'redirect', 'dst': '203.0.113.10', 'src': '', 'proto': 'tcp', 'ports': '80', 'iface': '', 'to': '198.51.100.2:8080'}" 0
expect_sample "TC: one interface" cgfw_tc_attached_interfaces "{}" 1
expect_sample "TC: rules by kind" cgfw_tc_rules "{'kind': 'inbound'}" 1
expect_positive "the TC rule set's fill level" cgfw_map_entries "{'map': 'tc_ruleset'}"
expect_positive "the seen map's capacity" cgfw_map_entries_limit "{'map': 'seen'}"
expect_positive "seen addresses recorded" cgfw_map_entries "{'map': 'seen'}"
expect_sample "no lost events" cgfw_events_lost_total "{}" 0

# The same numbers as cgfw status and cgfw list --stats, read right after.
check "totals, rules and fill levels as 'cgfw status' and 'cgfw list --stats' say" \
	"$PYTHON" - "$M" "$WORK/status.json" "$WORK/list.json" "$CG_REL" <<'EOF'
import json, re, sys
text, st, ls, cg = open(sys.argv[1], encoding="utf-8").read(), json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), sys.argv[4]
def val(name, **labels):
    inner = ",".join('%s="%s"' % kv for kv in labels.items())
    m = re.search("^%s%s (\\S+)$" % (re.escape(name), re.escape("{%s}" % inner) if inner else ""), text, re.M)
    assert m, f"no {name}{labels}"
    return float(m.group(1))
for d, reasons in st["packets"].items():
    for r, n in reasons.items():
        got = val("cgfw_all_cgroups_packets_total", direction=d, reason=r)
        assert got == n, f"{d}/{r}: metrics {got}, status {n}"
        per = sum(float(x) for x in re.findall(r'^cgfw_packets_total\{cgroup="[^\n]*",direction="%s",reason="%s"\} (\S+)$' % (d, r), text, re.M))
        assert per <= got, f"{d}/{r}: the cgroups' sum {per} is more than the total {got}"
assert val("cgfw_rules", family="ipv4") == st["rules_ipv4"]
assert val("cgfw_rules", family="ipv6") == st["rules_ipv6"]
n = 0
for r in ls["rules"]:
    if r["cgroup"] != cg:
        continue
    n += 1
    ports = "" if r["ports"] is None else str(r["ports"])
    got = val("cgfw_rule_packets_total", scope="cgroup", cgroup=cg, action=r["action"],
              direction=r["direction"], prefix=r["prefix"], proto=r["proto"], ports=ports,
              origin=r["origin"])
    assert got == r["packets"], f"rule {r}: metrics {got}"
assert n, "no rule of the test cgroup in the listing"
EOF

# Still valid when the state is gone (reset where the interface is).
must S reset --yes
must cgfw metrics >"$WORK/after.prom"
check "after reset: promtool passes" promtool check metrics <"$WORK/after.prom"
contains "$WORK/after.prom" '^cgfw_state_present{datapath="tc"} 0$' "after reset: TC state absent"
finish
