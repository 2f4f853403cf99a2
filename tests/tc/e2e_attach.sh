#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Attaching end to end: tcx and clsact modes; an unrelated u32 filter (with a
# mirred counter) and another cls_bpf program on the same interface keep
# working; detach leaves the interface as it was found; two interfaces share
# one set of pinned maps; loopback is refused; `ip netns exec` is detected;
# bad input exits 2 with one line; reset detaches.
source "$(dirname "$0")/lib.sh"

setup_pair
CNT=$CGFW_BPFFS_ROOT-count # (and ${CNT}_map): removed with the test's pins

snapshot() {
	{
		S tc qdisc show dev "$VS" | grep -v '^qdisc noqueue'
		S tc filter show dev "$VS" ingress
		S tc filter show dev "$VS" egress
	} 2>&1 | sed 's/ id [0-9]*//; s/tag [0-9a-f]*//' >"$1"
}

intercepts() {
	C "$PEER" connect tcp 198.51.100.10 80 2>&1 | grep -q "REPLY ORIGDST 198.51.100.10 80"
}

listen S "$WORK/tp" tcp 127.0.0.1 9000 --transparent --timeout 60
listen S "$WORK/s7000" tcp 0.0.0.0 7000 --timeout 60

# --- a bare interface: clsact mode adds the qdisc and removes it again ------------
snapshot "$WORK/bare"
check "attach --mode clsact" cgfw tc attach "$VS" --mode clsact
S tc filter show dev "$VS" ingress >"$WORK/f"
contains "$WORK/f" "pref 1 bpf.*cgfw_tc_ingress.*direct-action" "clsact: cls_bpf filter, direct action, priority 1"
S tc filter show dev "$VS" egress >"$WORK/f"
contains "$WORK/f" "cgfw_tc_egress" "clsact: egress filter too"
check "tproxy add" cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 80 --to 127.0.0.1:9000
check "clsact mode intercepts" intercepts
check "detach" cgfw tc detach "$VS"
snapshot "$WORK/after"
check "detach left the bare interface as it was (no clsact qdisc)" diff -u "$WORK/bare" "$WORK/after"

# --- somebody else's filters: u32 with a mirred counter, and another cls_bpf -------
S ip link add "mir$$" type veth peer name "mis$$"
S ip link set "mir$$" up
S ip link set "mis$$" up
S tc qdisc add dev "$VS" clsact
# The counting program goes first: it returns TC_ACT_UNSPEC, so the u32 filter
# after it sees the packets too (a u32 match with a classid ends classification).
S "$PEER" bpfcount create "$CNT"
S tc filter add dev "$VS" ingress prio 5 bpf da object-pinned "$CNT"
S tc filter add dev "$VS" ingress prio 10 protocol ip u32 match ip protocol 6 0xff \
	classid 1:1 action mirred egress mirror dev "mir$$"
snapshot "$WORK/theirs"

u32_sent() { S tc -s filter show dev "$VS" ingress | awk '/Sent/ { print $4; exit }'; }
bpf_count() { S "$PEER" bpfcount read "$CNT"; }

# auto picks tcx where the kernel has it (6.6 and later), else clsact.
IFS=.- read -r kmaj kmin _ <<<"$(uname -r)"
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 6 ]; }; then
	auto_mode=tcx
else
	auto_mode=clsact
fi
log "kernel $(uname -r): auto should pick $auto_mode"

for mode in auto clsact; do
	check "attach ($mode) next to the u32 and cls_bpf filters" \
		cgfw tc attach "$VS" --mode "$mode"
	cgfw tc list --json >"$WORK/tc.json"
	want=$([ "$mode" = auto ] && echo "$auto_mode" || echo clsact)
	check "$mode: attached in $want mode" python3 -c '
import json, sys; i = json.load(open(sys.argv[1]))["interfaces"][0]
assert i["mode"] == sys.argv[2] and i["live"], i' "$WORK/tc.json" "$want"
	u0=$(u32_sent) b0=$(bpf_count) p0=$(counter pass_nomatch)
	check "$mode: a plain connection works" C "$PEER" connect tcp 192.0.2.2 7000
	check "$mode: interception works" intercepts
	u1=$(u32_sent) b1=$(bpf_count) p1=$(counter pass_nomatch)
	[ "$u1" -gt "$u0" ] && ok "$mode: the u32 filter's mirred counter moved ($u0 -> $u1)" \
		|| not_ok "$mode: the u32 filter's counter did not move ($u0 -> $u1)"
	[ "$b1" -gt "$b0" ] && ok "$mode: the other cls_bpf program counted ($b0 -> $b1)" \
		|| not_ok "$mode: the other cls_bpf program did not count ($b0 -> $b1)"
	[ "$p1" -gt "$p0" ] && ok "$mode: cgfw saw the packets too ($p0 -> $p1)" \
		|| not_ok "$mode: cgfw counted nothing ($p0 -> $p1)"
	check "$mode: detach" cgfw tc detach "$VS"
	snapshot "$WORK/after"
	check "$mode: detach restored exactly the filters that were there" \
		diff -u "$WORK/theirs" "$WORK/after"
	b2=$(bpf_count)
	check "$mode: after detach the traffic still flows" C "$PEER" connect tcp 192.0.2.2 7000
	[ "$(bpf_count)" -gt "$b2" ] && ok "$mode: the other program still counts after detach" \
		|| not_ok "$mode: the other program stopped counting"
done
S tc qdisc del dev "$VS" clsact

# --- two interfaces, one set of maps -----------------------------------------------
VC2=vd$$ VS2=vt$$
ip link add "$VC2" netns "$CNS" type veth peer name "$VS2" netns "$SNS"
C ip link set "$VC2" up
S ip link set "$VS2" up
C ip route del 203.0.113.0/24
C ip addr add 203.0.113.1/24 dev "$VC2"
S ip addr add 203.0.113.2/24 dev "$VS2"
check "attach the first interface" cgfw tc attach "$VS"
check "attach the second interface" cgfw tc attach "$VS2"
check "through the first interface: intercepted" intercepts
C ip route replace 198.51.100.0/24 via 203.0.113.2
check "through the second interface: intercepted by the same rule" intercepts
n=$(rule_packets tproxy 198.51.100.0/24 80)
[ "$n" -ge 6 ] && ok "one rule counted the packets of both interfaces ($n)" || not_ok "rule counter $n"
[ "$(ls "$CGFW_BPFFS_ROOT" | grep -c '^cgfw_tc_rtab$')" = 1 ] && ok "one pinned rule table" \
	|| not_ok "not one pinned rule table"
cgfw tc list --json >"$WORK/tc.json"
check "tc list --json shows both interfaces" python3 -c '
import json, sys
names = sorted(i["iface"] for i in json.load(open(sys.argv[1]))["interfaces"])
assert names == sorted(sys.argv[2:]), names' "$WORK/tc.json" "$VS" "$VS2"
check "a rule bound to the first interface only" \
	cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 81 --to 127.0.0.1:9000 --iface "$VS"
expect_rc 1 "it does not apply on the second interface (the stack refuses port 81)" \
	C "$PEER" connect tcp 198.51.100.10 81 --timeout 2
C ip route replace 198.51.100.0/24 via 192.0.2.2
C "$PEER" connect tcp 198.51.100.10 81 >"$WORK/c81" 2>&1
contains "$WORK/c81" "REPLY ORIGDST 198.51.100.10 81" "it applies on the first interface"
check "detach the second interface" cgfw tc detach "$VS2"

# --- what is refused ------------------------------------------------------------------------
expect_rc 2 "attach to loopback is refused" cgfw tc attach lo
cgfw tc attach lo 2>"$WORK/err"
contains "$WORK/err" "loopback" "the message says loopback"
expect_rc 2 "attach to an interface that does not exist" cgfw tc attach nosuch$$
expect_rc 2 "detach of an interface that is not attached" cgfw tc detach "$VS2"
expect_rc 2 "an unknown verb" cgfw tc frobnicate
expect_rc 2 "--mode with a bad value" cgfw tc attach "$VS" --mode xdp
expect_rc 2 "tproxy add without --to" cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 80
expect_rc 2 "tproxy add with a bad prefix" cgfw tproxy add --dst 198.51.100.0/33 --proto tcp --ports 80 --to 1
expect_rc 2 "tproxy add with --proto icmp" cgfw tproxy add --dst 198.51.100.0/24 --proto icmp --ports 80 --to 1
expect_rc 2 "tproxy add with port 0" cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 0 --to 1
expect_rc 2 "tproxy add with ports 90-80" cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 90-80 --to 1
expect_rc 2 "tproxy add --to IPv6 without brackets" \
	cgfw tproxy add --dst 2001:db8:2::/48 --proto tcp --ports 80 --to ::1:9000
expect_rc 2 "inbound add with --to" cgfw inbound add --dst 192.0.2.2 --proto tcp --ports 80 --to 1
expect_rc 2 "an unknown option" cgfw tproxy list --frob
cgfw tproxy add --dst 198.51.100.0/33 --proto tcp --ports 80 --to 1 2>"$WORK/err"
[ "$(wc -l <"$WORK/err")" = 1 ] && contains "$WORK/err" "198.51.100.0/33" "bad input: one line that names it" \
	|| not_ok "bad input message is not one line: $(cat "$WORK/err")"
expect_rc 1 "a match that exists with another kind is refused" \
	cgfw inbound add --dst 198.51.100.0/24 --proto tcp --ports 80

# --from-file: one rule per line, '#' comments, all or nothing.
printf '# two rules\n--dst 203.0.113.0/24 --proto udp --ports 53 --to 127.0.0.1:9053\n\n--dst=2001:db8:4::/64 --proto tcp --ports 1-1024 --to [::1]:9000 # v6\n' >"$WORK/rules"
check "tproxy add --from-file" cgfw tproxy add --from-file "$WORK/rules"
printf -- '--dst 203.0.113.9 --proto udp --ports 54 --to 9\n--dst 203.0.113.10 --proto udq --ports 53 --to 9\n' >"$WORK/bad"
expect_rc 2 "a bad line in --from-file" cgfw tproxy add --from-file "$WORK/bad"
cgfw tproxy add --from-file "$WORK/bad" 2>"$WORK/err"
contains "$WORK/err" "bad:2:" "the message names FILE:LINE"
n=$(cgfw tproxy list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))')
[ "$n" = 4 ] && ok "the bad file added nothing (4 rules)" || not_ok "$n rules after a bad file, expected 4"

# --- ip netns exec hides the bpffs: said clearly -----------------------------------------
ip netns exec "$SNS" "$CGFW" tc list >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 1 ] && ok "under ip netns exec: exit 1" || not_ok "under ip netns exec: exit $rc"
contains "$WORK/err" "nsenter --net=/run/netns/NAME" "under ip netns exec: the message says to use nsenter"
ip netns exec "$SNS" "$CGFW" tc attach "$VS2" >"$WORK/out" 2>"$WORK/err"
contains "$WORK/err" "ip netns exec" "attach under ip netns exec refuses to mount a private bpffs"

# --- reset detaches ------------------------------------------------------------------------------
check "attach in clsact mode once more" cgfw tc attach "$VS2" --mode clsact
check "reset --yes" cgfw reset --yes
S tc filter show dev "$VS2" ingress >"$WORK/f"
lacks "$WORK/f" "cgfw_tc" "reset removed the cls_bpf filters"
S ip route show table local proto 207 >"$WORK/routes"
[ ! -s "$WORK/routes" ] && ok "reset removed cgfw's routes" || not_ok "routes left: $(cat "$WORK/routes")"
finish
