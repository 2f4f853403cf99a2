#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Large blocklists: block --from-file with 10,000 addresses and prefixes blocks
# the targets in it and nothing else; unblock --from-file restores; the
# status counts follow.
source "$(dirname "$0")/lib.sh"
setup

# Two more server addresses that only a prefix of the list covers.
ip -n "$NSS" addr add 198.51.100.200/24 dev veth1 &&
	ip -n "$NSS" addr add 2001:db8:8000::5/64 dev veth1 nodad &&
	ip -n "$NSC" route add 2001:db8:8000::/64 dev veth0 ||
	fail "cannot add the extra addresses"
start_server srv --tcp 198.51.100.2:8080 --tcp 198.51.100.3:8080 \
	--tcp '[2001:db8::2]:8080' --tcp '[2001:db8::3]:8080' --tcp 198.51.100.200:8080 \
	--tcp '[2001:db8:8000::5]:8080'
must cgfw attach "$CG"

# 10,000 lines: every host of 203.0.113.0/24, prefixes and hosts of
# 198.51.100.0/24 and 2001:db8::/32 that stay clear of the test addresses,
# and the two targets 198.51.100.2 and 2001:db8::2. 198.51.100.200 and
# 2001:db8:8000::5 are covered by a prefix only (/25, /33). The counts go to $WORK.
list="$WORK/blocklist.txt"
"$PYTHON" - "$list" "$WORK/counts" <<'PY' || fail "cannot generate the blocklist"
import ipaddress, sys
v4, v6 = [], []
v4 += ["203.0.113.%d" % i for i in range(256)]
v4 += ["198.51.100.%d/%d" % (256 - 2 ** (32 - l), l) for l in range(25, 31)]  # .128/25 ... .252/30
v4 += ["198.51.100.%d" % i for i in range(4, 128)]
v4 += ["198.51.100.2"]
base = int(ipaddress.ip_address("2001:db8::"))
v6 += ["%s/%d" % (ipaddress.ip_address(base | 1 << (128 - l)), l) for l in range(33, 121)]
v6 += ["2001:db8::2"]
n = 1
while len(v4) + len(v6) < 10000:
    v6.append(str(ipaddress.ip_address(base | 1 << 80 | n)))  # 2001:db8:1::n
    n += 1
ranges = [ipaddress.ip_network(r) for r in ("198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
keep = [ipaddress.ip_address(a) for a in ("198.51.100.1", "198.51.100.3", "2001:db8::1", "2001:db8::3")]
assert "198.51.100.200" not in v4 and "2001:db8:8000::5" not in v6
lines = v4 + v6
assert len(set(lines)) == len(lines) == 10000
for l in lines:
    net = ipaddress.ip_network(l)
    assert any(net.version == r.version and net.subnet_of(r) for r in ranges), l
    assert not any(k in net for k in keep), l
with open(sys.argv[1], "w") as f:
    f.write("# generated blocklist for the cgfw e2e tests\n\n")
    for i, l in enumerate(lines):
        f.write(l + ("   # target\n" if l in ("198.51.100.2", "2001:db8::2") else "\n"))
lens4 = {int(l.split("/")[1]) if "/" in l else 32 for l in v4}
lens6 = {int(l.split("/")[1]) if "/" in l else 128 for l in v6}
with open(sys.argv[2], "w") as f:
    f.write("%d %d %d %d\n" % (len(v4), len(v6), len(lens4), len(lens6)))
PY
read -r n4 n6 l4 l6 <"$WORK/counts"
log "blocklist: $n4 IPv4 and $n6 IPv6 entries, $l4 and $l6 prefix lengths"

expect_reach "before: cgroup reaches .2" from_cg "$CG" tcp 198.51.100.2 8080
expect_reach "before: cgroup reaches .200" from_cg "$CG" tcp 198.51.100.200 8080
expect_reach "before: cgroup reaches 2001:db8:8000::5" from_cg "$CG" tcp 2001:db8:8000::5 8080

start=$(date +%s%N)
out=$(cgfw --json block --from-file "$list" --cgroup "$CG") || fail "block --from-file failed: $out"
log "block --from-file of 10000 rules took $((($(date +%s%N) - start) / 1000000)) ms"
json_check "block --from-file reports 10000 rules read and changed" "$out" \
	"d['rules'] == 10000 and d['changed'] == 10000"

expect_blocked "target 198.51.100.2 blocked" from_cg "$CG" tcp 198.51.100.2 8080
expect_blocked "target 2001:db8::2 blocked" from_cg "$CG" tcp 2001:db8::2 8080
expect_blocked "198.51.100.200 blocked by 198.51.100.128/25" \
	from_cg "$CG" tcp 198.51.100.200 8080
expect_blocked "2001:db8:8000::5 blocked by 2001:db8:8000::/33" \
	from_cg "$CG" tcp 2001:db8:8000::5 8080
expect_reach ".3 (not in the list) still reachable" from_cg "$CG" tcp 198.51.100.3 8080
expect_reach "2001:db8::3 (not in the list) still reachable" from_cg "$CG" tcp 2001:db8::3 8080

json=$(cgfw status --json) || fail "cgfw status --json failed"
json_check "status counts $n4 IPv4 and $n6 IPv6 rules, $l4 and $l6 prefix lengths" "$json" \
	"d['rules_ipv4'] == $n4 and d['rules_ipv6'] == $n6 and d['prefix_lengths_ipv4'] == $l4 and d['prefix_lengths_ipv6'] == $l6"
json=$(cgfw list --json --cgroup "$CG") || fail "cgfw list --json failed"
json_check "list shows all 10000 rules" "$json" \
	"len(d['rules']) == 10000 and all(r['action'] == 'deny' and r['cgroup'] == '$CG_REL' for r in d['rules'])"

out=$(cgfw --json block --from-file "$list" --cgroup "$CG") || fail "second block --from-file failed"
json_check "blocking the same list again changes nothing" "$out" "d['changed'] == 0"

out=$(cgfw --json unblock --from-file "$list" --cgroup "$CG") || fail "unblock --from-file failed: $out"
json_check "unblock --from-file removes 10000 rules" "$out" "d['changed'] == 10000"
expect_reach "after unblock: .2 reachable" from_cg "$CG" tcp 198.51.100.2 8080
expect_reach "after unblock: 2001:db8::2 reachable" from_cg "$CG" tcp 2001:db8::2 8080
expect_reach "after unblock: .200 reachable" from_cg "$CG" tcp 198.51.100.200 8080
expect_reach "after unblock: 2001:db8:8000::5 reachable" from_cg "$CG" tcp 2001:db8:8000::5 8080
json=$(cgfw status --json) || fail "cgfw status --json failed"
json_check "status counts no rules and no prefix lengths" "$json" \
	"d['rules_ipv4'] == 0 and d['rules_ipv6'] == 0 and d['prefix_lengths_ipv4'] == 0 and d['prefix_lengths_ipv6'] == 0"
