#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# explain --iface end to end, on a stateful interface with a tproxy rule (IPv4
# and IPv6, listeners running), a redirect rule and an inbound rule: text and
# --json name the rule that decides (kind, id, dst) and whether the listener
# is there; an unsolicited packet no rule admits is dropped (stateful); egress
# with --egress. explain counts nothing (rule and datapath counters are
# unchanged by it) while real connections are counted, and each verdict is the
# one the real connection meets. With the listener stopped: listener false,
# drop_no_listener, and the real SYN is dropped.
source "$(dirname "$0")/lib.sh"

setup_pair
check "attach --stateful to $VS" cgfw tc attach "$VS" --stateful
check "tproxy add tcp 198.51.100.0/24 80-90 -> 127.0.0.1:9000" \
	cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 80-90 --to 127.0.0.1:9000
check "tproxy add tcp 2001:db8:2::/48 443 -> [::1]:9443" \
	cgfw tproxy add --dst 2001:db8:2::/48 --proto tcp --ports 443 --to '[::1]:9443'
check "redirect add tcp 203.0.113.5:80 -> 192.0.2.2:8080" \
	cgfw redirect add --dst 203.0.113.5 --proto tcp --ports 80 --to 192.0.2.2:8080
check "inbound add tcp 192.0.2.2:7000" cgfw inbound add --dst 192.0.2.2 --proto tcp --ports 7000

listen S "$WORK/tp" tcp 127.0.0.1 9000 --transparent --timeout 60
TP=$BGPID
listen S "$WORK/tp6" tcp ::1 9443 --transparent --timeout 60
listen S "$WORK/rd" tcp 192.0.2.2 8080 --timeout 60
listen S "$WORK/in" tcp 0.0.0.0 7000 --timeout 60
listen S "$WORK/un" tcp 0.0.0.0 7001 --timeout 60
listen C "$WORK/out" tcp 192.0.2.1 7001 --timeout 60

# rule_id KIND DST: the id `cgfw KIND list --json` gives the rule for DST.
rule_id() {
	cgfw "$1" list --json | "$PYTHON" -c '
import json, sys
print([r["id"] for r in json.load(sys.stdin)["rules"] if r["dst"] == sys.argv[1]][0])' "$2"
}
TP4=$(rule_id tproxy 198.51.100.0/24) || fail "no tproxy rule for 198.51.100.0/24"
TP6=$(rule_id tproxy 2001:db8:2::/48) || fail "no tproxy rule for 2001:db8:2::/48"
RD=$(rule_id redirect 203.0.113.5) || fail "no redirect rule"
IN=$(rule_id inbound 192.0.2.2) || fail "no inbound rule"
log "rule ids: tproxy $TP4, $TP6; redirect $RD; inbound $IN"

# snapshot FILE: every rule's packets and bytes and the datapath's counters,
# but those the veth's own background traffic (ARP, neighbour discovery, MLD)
# moves: not IP, ICMP, other protocols, egress packets no rule matches (below).
snapshot() {
	{
		for k in tproxy redirect inbound; do
			cgfw "$k" list --json | "$PYTHON" -c 'import json, sys
for r in json.load(sys.stdin)["rules"]: print(r["kind"], r["id"], r["packets"], r["bytes"])'
		done
		cgfw tc list --json | "$PYTHON" -c 'import json, sys
c = json.load(sys.stdin)["counters"]
for d in sorted(c):
    for r in sorted(c[d]):
        if r not in ("pass_icmp", "pass_other_proto", "pass_not_ip") and (d, r) != ("egress", "pass_nomatch"):
            print(d, r, c[d][r]["packets"], c[d][r]["bytes"])'
	} >"$1"
}

# xj OUT EXPLAIN-ARGS...: `cgfw explain --iface $VS ... --json` into OUT.
# xt OUT EXPLAIN-ARGS...: the same as text.
xj() {
	local out=$1
	shift
	cgfw explain --iface "$VS" "$@" --json >"$out" 2>&1 || not_ok "explain --iface $VS $* --json: exit $?"
}
xt() {
	local out=$1
	shift
	cgfw explain --iface "$VS" "$@" >"$out" 2>&1 || not_ok "explain --iface $VS $*: exit $?"
}
# jcheck DESC FILE PYEXPR: PYEXPR (d: the JSON in FILE) is true.
jcheck() {
	check "$1" "$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert eval("(" + sys.argv[2] + ")"), d' "$2" "$3"
}
# packets_of KIND ID: the rule's packet counter.
packets_of() {
	cgfw "$1" list --json | "$PYTHON" -c 'import json, sys
print([r["packets"] for r in json.load(sys.stdin)["rules"] if r["id"] == int(sys.argv[1])][0])' "$2"
}

FROM4=(--from 192.0.2.1:40000)
FROM6=(--from '[2001:db8:1::1]:40000')
snapshot "$WORK/snap0"

# --- what explain says ----------------------------------------------------------------
xj "$WORK/x1.json" tcp 198.51.100.10:85 "${FROM4[@]}"
jcheck "tproxy: pass (intercept), listener there, rule $TP4" "$WORK/x1.json" "
d['iface'] == '$VS' and d['direction'] == 'ingress' and d['verdict'] == 'pass' and
d['reason'] == 'intercept' and d['listener'] is True and d['stateful'] is True and
d['src'] == '192.0.2.1' and d['src_port'] == 40000 and d['dst'] == '198.51.100.10' and d['dst_port'] == 85 and
d['rule']['kind'] == 'tproxy' and d['rule']['id'] == $TP4 and d['rule']['dst'] == '198.51.100.0/24' and
d['rule']['ports'] == '80-90' and d['rule']['to'] == '127.0.0.1:9000'"
xt "$WORK/x1.txt" tcp 198.51.100.10:85 "${FROM4[@]}"
contains "$WORK/x1.txt" "^ingress tcp 192.0.2.1:40000 -> 198.51.100.10:85 on $VS: PASS (intercept)$" \
	"tproxy text: the verdict line"
contains "$WORK/x1.txt" "rule $TP4: tproxy --dst 198.51.100.0/24 --proto tcp --ports 80-90 --to 127.0.0.1:9000" \
	"tproxy text: the rule"
contains "$WORK/x1.txt" "listener: found" "tproxy text: the listener is there"

xj "$WORK/x2.json" tcp 198.51.100.10:91 "${FROM4[@]}"
jcheck "port 91 (outside 80-90): no rule, dropped as unsolicited" "$WORK/x2.json" \
	"d['verdict'] == 'drop' and d['reason'] == 'drop_unsolicited' and d['rule'] is None"

xj "$WORK/x3.json" tcp '[2001:db8:2::7]:443' "${FROM6[@]}"
jcheck "tproxy IPv6: pass (intercept), listener there, rule $TP6" "$WORK/x3.json" "
d['verdict'] == 'pass' and d['reason'] == 'intercept' and d['listener'] is True and
d['src'] == '2001:db8:1::1' and d['dst'] == '2001:db8:2::7' and d['dst_port'] == 443 and
d['rule']['kind'] == 'tproxy' and d['rule']['id'] == $TP6 and d['rule']['dst'] == '2001:db8:2::/48' and
d['rule']['family'] == 'ipv6' and d['rule']['to'] == '[::1]:9443'"

xj "$WORK/x4.json" tcp 203.0.113.5:80 "${FROM4[@]}"
jcheck "redirect: pass (redirect), rule $RD" "$WORK/x4.json" "
d['verdict'] == 'pass' and d['reason'] == 'redirect' and d['rule']['kind'] == 'redirect' and
d['rule']['id'] == $RD and d['rule']['dst'] == '203.0.113.5' and d['rule']['to'] == '192.0.2.2:8080'"
xt "$WORK/x4.txt" tcp 203.0.113.5:80 "${FROM4[@]}"
contains "$WORK/x4.txt" "on $VS: PASS (redirect)$" "redirect text: the verdict line"
contains "$WORK/x4.txt" "rule $RD: redirect --dst 203.0.113.5 --proto tcp" "redirect text: the rule"

xj "$WORK/x5.json" tcp 192.0.2.2:7000 "${FROM4[@]}"
jcheck "inbound: pass (pass_inbound), rule $IN" "$WORK/x5.json" "
d['verdict'] == 'pass' and d['reason'] == 'pass_inbound' and d['rule']['kind'] == 'inbound' and
d['rule']['id'] == $IN and d['rule']['dst'] == '192.0.2.2' and d['listener'] is False"
xt "$WORK/x5.txt" tcp 192.0.2.2:7000 "${FROM4[@]}"
contains "$WORK/x5.txt" "rule $IN: inbound --dst 192.0.2.2 --proto tcp" "inbound text: the rule"

xj "$WORK/x6.json" tcp 192.0.2.2:7001 "${FROM4[@]}"
jcheck "unsolicited, no rule: drop (drop_unsolicited)" "$WORK/x6.json" "
d['verdict'] == 'drop' and d['reason'] == 'drop_unsolicited' and d['rule'] is None and
d['listener'] is False and d['stateful'] is True"
xt "$WORK/x6.txt" tcp 192.0.2.2:7001 "${FROM4[@]}"
contains "$WORK/x6.txt" "^ingress tcp 192.0.2.1:40000 -> 192.0.2.2:7001 on $VS: DROP (drop_unsolicited)$" \
	"unsolicited text: the verdict line"
contains "$WORK/x6.txt" "no rule matched (the interface is stateful)" "unsolicited text: no rule"
xj "$WORK/x6b.json" tcp '[2001:db8:1::2]:7001' "${FROM6[@]}"
jcheck "unsolicited IPv6: drop (drop_unsolicited)" "$WORK/x6b.json" \
	"d['verdict'] == 'drop' and d['reason'] == 'drop_unsolicited' and d['dst'] == '2001:db8:1::2'"

xj "$WORK/x7.json" --egress tcp 192.0.2.1:7001 --from 192.0.2.2:40000
jcheck "egress: pass, no rule" "$WORK/x7.json" "
d['direction'] == 'egress' and d['verdict'] == 'pass' and d['reason'] == 'pass_nomatch' and
d['src'] == '192.0.2.2' and d['dst'] == '192.0.2.1' and d['dst_port'] == 7001 and d['rule'] is None"
xt "$WORK/x7.txt" --egress tcp 192.0.2.1:7001 --from 192.0.2.2:40000
contains "$WORK/x7.txt" "^egress tcp 192.0.2.2:40000 -> 192.0.2.1:7001 on $VS: PASS" "egress text: the verdict line"

# Egress packets no rule matches: background traffic moves the counter now
# and then, 20 explains would move it by 20.
e0=$(counter pass_nomatch egress)
for _ in $(seq 20); do
	cgfw explain --iface "$VS" --egress tcp 192.0.2.1:7001 --from 192.0.2.2:40000 >/dev/null
done
e1=$(counter pass_nomatch egress)
[ $((e1 - e0)) -lt 20 ] && ok "20 egress explains did not count (pass_nomatch $e0 -> $e1)" ||
	not_ok "20 egress explains counted (pass_nomatch $e0 -> $e1)"

snapshot "$WORK/snap1"
if cmp -s "$WORK/snap0" "$WORK/snap1"; then
	ok "explain counted nothing: rule and datapath counters unchanged"
else
	not_ok "explain changed counters:"
	diff "$WORK/snap0" "$WORK/snap1" | sed 's/^/#   /'
fi

# --- what the packets meet ----------------------------------------------------------------
p0=$(packets_of tproxy "$TP4")
i0=$(counter intercept)
C "$PEER" connect tcp 198.51.100.10 85 --timeout 3 >"$WORK/c1" 2>&1
contains "$WORK/c1" "REPLY ORIGDST 198.51.100.10 85" "real: 198.51.100.10:85 reaches the transparent listener (intercept)"
contains "$WORK/tp" "CONN peer=192.0.2.1:[0-9]* origdst=198.51.100.10:85" "real: the listener saw the flow"
p1=$(packets_of tproxy "$TP4")
i1=$(counter intercept)
[ "$p1" -gt "$p0" ] && ok "real: the tproxy rule counted the connection ($p0 -> $p1 packets)" ||
	not_ok "real: tproxy rule counter did not move ($p0 -> $p1)"
[ "$i1" -gt "$i0" ] && ok "real: the intercept counter moved ($i0 -> $i1)" ||
	not_ok "real: intercept counter did not move ($i0 -> $i1)"
xj "$WORK/x1b.json" tcp 198.51.100.10:85 "${FROM4[@]}"
jcheck "explain reports the rule's counter ($p1 packets so far)" "$WORK/x1b.json" \
	"d['rule']['packets'] == $p1 and d['rule']['bytes'] > 0"
[ "$(packets_of tproxy "$TP4")" = "$p1" ] && ok "explain did not count itself" ||
	not_ok "explain moved the tproxy rule counter"

expect_rc 3 "real: 198.51.100.10:91 is dropped (no answer)" C "$PEER" connect tcp 198.51.100.10 91 --timeout 2

C "$PEER" connect tcp 2001:db8:2::7 443 --timeout 3 >"$WORK/c3" 2>&1
contains "$WORK/c3" "REPLY ORIGDST 2001:db8:2::7 443" "real: [2001:db8:2::7]:443 is intercepted"
[ "$(packets_of tproxy "$TP6")" -gt 0 ] && ok "real: the IPv6 tproxy rule counted it" ||
	not_ok "real: the IPv6 tproxy rule counted nothing"

C "$PEER" connect tcp 203.0.113.5 80 --timeout 3 >"$WORK/c4" 2>&1
contains "$WORK/c4" "REPLY ORIGDST 192.0.2.2 8080" "real: 203.0.113.5:80 is redirected to 192.0.2.2:8080"
contains "$WORK/c4" "PEER 203.0.113.5 80" "real: the client sees the address it dialled"
[ "$(packets_of redirect "$RD")" -gt 0 ] && ok "real: the redirect rule counted it" ||
	not_ok "real: the redirect rule counted nothing"

C "$PEER" connect tcp 192.0.2.2 7000 --timeout 3 >"$WORK/c5" 2>&1
contains "$WORK/c5" "REPLY ORIGDST 192.0.2.2 7000" "real: the inbound rule admits 192.0.2.2:7000"
[ "$(packets_of inbound "$IN")" -gt 0 ] && ok "real: the inbound rule counted it" ||
	not_ok "real: the inbound rule counted nothing"

u0=$(counter drop_unsolicited)
expect_rc 3 "real: unsolicited 192.0.2.2:7001 is dropped" C "$PEER" connect tcp 192.0.2.2 7001 --timeout 2
expect_rc 3 "real: unsolicited [2001:db8:1::2]:7001 is dropped" C "$PEER" connect tcp 2001:db8:1::2 7001 --timeout 2
lacks "$WORK/un" "CONN" "real: the listener on 7001 saw nothing"
u1=$(counter drop_unsolicited)
[ "$u1" -gt "$u0" ] && ok "real: drop_unsolicited counted ($u0 -> $u1)" || not_ok "real: drop_unsolicited ($u0 -> $u1)"

check "real: egress 192.0.2.2 -> 192.0.2.1:7001 passes (and its replies)" \
	S "$PEER" connect tcp 192.0.2.1 7001 --timeout 3

# --- the listener goes -----------------------------------------------------------------------
stop "$TP"
for _ in $(seq $((50 * H_SCALE))); do
	[ -z "$(S ss -Hltn 'sport = :9000')" ] && break
	sleep 0.1
done
[ -z "$(S ss -Hltn 'sport = :9000')" ] || not_ok "the listener on 127.0.0.1:9000 is still there"
snapshot "$WORK/snap2"
xj "$WORK/x8.json" tcp 198.51.100.10:85 "${FROM4[@]}"
jcheck "no listener: drop (drop_no_listener), listener false, rule $TP4" "$WORK/x8.json" "
d['verdict'] == 'drop' and d['reason'] == 'drop_no_listener' and d['listener'] is False and
d['rule']['kind'] == 'tproxy' and d['rule']['id'] == $TP4"
xt "$WORK/x8.txt" tcp 198.51.100.10:85 "${FROM4[@]}"
contains "$WORK/x8.txt" "on $VS: DROP (drop_no_listener)$" "no listener text: the verdict line"
contains "$WORK/x8.txt" "listener: none" "no listener text: listener none"
xj "$WORK/x9.json" tcp '[2001:db8:2::7]:443' "${FROM6[@]}"
jcheck "the IPv6 listener is still there" "$WORK/x9.json" "d['listener'] is True and d['reason'] == 'intercept'"
snapshot "$WORK/snap3"
cmp -s "$WORK/snap2" "$WORK/snap3" && ok "explain of the no-listener drop counted nothing" ||
	not_ok "explain of the no-listener drop changed counters: $(diff "$WORK/snap2" "$WORK/snap3" | tr '\n' ' ')"
n0=$(counter drop_no_listener)
expect_rc 3 "real: with no listener the SYN to 198.51.100.10:85 is dropped" \
	C "$PEER" connect tcp 198.51.100.10 85 --timeout 2
n1=$(counter drop_no_listener)
[ "$n1" -gt "$n0" ] && ok "real: drop_no_listener counted ($n0 -> $n1)" || not_ok "real: drop_no_listener ($n0 -> $n1)"

# --- bad input ----------------------------------------------------------------------------------
S "$CGFW" explain --iface lo tcp 192.0.2.2:7000 >"$WORK/bad.out" 2>"$WORK/bad.err"
rc=$?
[ "$rc" = 2 ] && [ ! -s "$WORK/bad.out" ] && [ "$(grep -c '' "$WORK/bad.err")" = 1 ] &&
	grep -q "interface lo" "$WORK/bad.err" && ok "explain --iface of an interface not attached: exit 2, one line" ||
	{ not_ok "explain --iface lo: exit $rc"; sed 's/^/#   /' "$WORK/bad.out" "$WORK/bad.err"; }
S "$CGFW" --json explain --iface "$VS" --ingress --egress tcp 192.0.2.2:7000 >"$WORK/bad.out" 2>"$WORK/bad.err"
rc=$?
[ "$rc" = 2 ] && [ ! -s "$WORK/bad.out" ] && "$PYTHON" -c 'import json, sys
d = json.loads(open(sys.argv[1]).read()); assert list(d) == ["error"] and "--egress" in d["error"], d' "$WORK/bad.err" &&
	ok "explain --iface with both directions, --json: exit 2, {\"error\": ...}" ||
	{ not_ok "explain --iface --ingress --egress --json: exit $rc"; sed 's/^/#   /' "$WORK/bad.out" "$WORK/bad.err"; }

finish
