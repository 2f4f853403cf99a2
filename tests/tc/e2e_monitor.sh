#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# cgfw monitor end to end: drop, intercept and redirect events of the TC
# programs and drop events of the cgroup programs, one JSON object per line;
# text output; SIGINT and SIGTERM end it with exit 0; under a flood the
# datapath drops events, never packets, and the monitor reports the loss.
source "$(dirname "$0")/lib.sh"

setup_pair
check "attach --stateful" cgfw tc attach "$VS" --stateful
check "tproxy add" cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports 80 --to 127.0.0.1:9000
check "redirect add" cgfw redirect add --dst 203.0.113.5 --proto tcp --ports 80 --to 192.0.2.2:8080
listen S "$WORK/tp" tcp 127.0.0.1 9000 --transparent --timeout 60
listen S "$WORK/rd" tcp 192.0.2.2 8080 --timeout 60
listen S "$WORK/s7003" udp 0.0.0.0 7003 --timeout 60

# --- JSON events ---------------------------------------------------------------------
bg -n "$SNS" "$WORK/mon.json" "$CGFW" monitor --json
MON=$BGPID
h_sleep 0.5
C "$PEER" connect tcp 192.0.2.2 7000 --timeout 1 >/dev/null 2>&1
C "$PEER" connect tcp 198.51.100.10 80 >/dev/null 2>&1
C "$PEER" connect tcp 203.0.113.5 80 >/dev/null 2>&1
h_sleep 0.5
stop "$MON"
rc=$?
[ "$rc" = 0 ] && ok "monitor --json exits 0 on SIGINT" || not_ok "monitor --json: exit $rc on SIGINT"
check "every line is a JSON object" python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no events"
for l in lines:
    assert isinstance(json.loads(l), dict), l
' "$WORK/mon.json"
check "a drop event: unsolicited SYN to 192.0.2.2:7000 on $VS" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(e["action"] == "drop" and e["reason"] == "drop_unsolicited" and e["source"] == "tc-ingress"
           and e["dst"] == "192.0.2.2" and e["dport"] == 7000 and e["src"] == "192.0.2.1"
           and e["iface"] == sys.argv[2] and e["proto"] == "tcp" for e in ev), ev
' "$WORK/mon.json" "$VS"
check "an intercept event: 198.51.100.10:80 to 127.0.0.1:9000, with its rule" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(e["action"] == "intercept" and e["dst"] == "198.51.100.10" and e["dport"] == 80
           and e["to_addr"] == "127.0.0.1" and e["to_port"] == 9000 and e["rule"] for e in ev), ev
' "$WORK/mon.json"
check "a redirect event: 203.0.113.5:80 to 192.0.2.2:8080" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(e["action"] == "redirect" and e["dst"] == "203.0.113.5" and e["to_addr"] == "192.0.2.2"
           and e["to_port"] == 8080 for e in ev), ev
' "$WORK/mon.json"

# --- text output, SIGTERM --------------------------------------------------------------------
bg -n "$SNS" "$WORK/mon.txt" "$CGFW" monitor
MON=$BGPID
h_sleep 0.5
C "$PEER" connect tcp 192.0.2.2 7000 --timeout 1 >/dev/null 2>&1
h_sleep 0.3
kill -TERM "$MON"
wait "$MON"
rc=$?
[ "$rc" = 0 ] && ok "monitor exits 0 on SIGTERM" || not_ok "monitor: exit $rc on SIGTERM"
contains "$WORK/mon.txt" "tc-ingress *$VS drop drop_unsolicited tcp 192.0.2.1:[0-9]* -> 192.0.2.2:7000" \
	"text: one line per event"

# --- a flood: events dropped, never packets ---------------------------------------------------
rx() { S ip -j -s link show dev "$VS" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }
bg -n "$SNS" "$WORK/flood.json" "$CGFW" monitor --json
MON=$BGPID
h_sleep 0.5
d0=$(counter drop_unsolicited) r0=$(rx)
check "flood: 20000 unsolicited datagrams" C "$PEER" flood udp 192.0.2.2 7003 20000
h_sleep 1.5
d1=$(counter drop_unsolicited) r1=$(rx)
stop "$MON"
rc=$?
[ "$rc" = 0 ] && ok "monitor exits 0 on SIGINT after a flood" || not_ok "monitor: exit $rc after a flood"
arrived=$((r1 - r0)) dropped=$((d1 - d0))
# Everything that reached the interface was dropped by cgfw (a few neighbour
# packets aside), none reached the socket.
[ "$dropped" -ge $((arrived - 20)) ] && [ "$dropped" -ge 10000 ] \
	&& ok "flood: every datagram that arrived was dropped ($dropped of $arrived)" \
	|| not_ok "flood: $dropped dropped of $arrived arrived"
lacks "$WORK/s7003" "DGRAM" "flood: nothing reached the UDP socket"
check "flood: far fewer events than packets, and the loss reported" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
drops = [e for e in ev if e.get("action") == "drop"]
lost = sum(e["events"] for e in ev if e.get("action") == "lost")
dropped = int(sys.argv[2])
print("events", len(drops), "lost", lost, "dropped", dropped)
assert 0 < len(drops) <= 5000, len(drops)
assert lost > 0, ev[-3:]
assert len(drops) + lost >= dropped * 0.9, (len(drops), lost, dropped)
' "$WORK/flood.json" "$dropped"

# --- drop events of the cgroup programs ---------------------------------------------------
# A cgroup under the test's own (the harness removes both; the reset at exit detaches it).
CG=$CG_REL/mon
check "cgroup created" "$CGFW" exec --cgroup "$CG" -- true
check "cgroup attached" "$CGFW" attach "$CG"
check "block 192.0.2.2 for the cgroup" "$CGFW" block 192.0.2.2 --cgroup "$CG"
bg -n "$SNS" "$WORK/cg.json" "$CGFW" monitor --json
MON=$BGPID
h_sleep 0.5
expect_rc 3 "the blocked connection from inside the cgroup fails" \
	"$CGFW" exec --cgroup "$CG" -- nsenter --net=/run/netns/$CNS "$PEER" connect tcp 192.0.2.2 7000 --timeout 1
h_sleep 0.3
stop "$MON"
check "a cgroup drop event names the cgroup" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(e["source"] == "cgroup-egress" and e["action"] == "drop" and e["cgroup"] == sys.argv[2]
           and e["dst"] == "192.0.2.2" and e["dport"] == 7000 for e in ev), ev
' "$WORK/cg.json" "$CG"

# --- both datapaths pace one per-CPU event bucket, on one clock -------------------------------
# A cgroup drop event and then a TC drop event on the same CPU: both are reported
# (a bucket stamped on the cgroup programs' clock must not refuse the TC's events).
bg -n "$SNS" "$WORK/both.json" "$CGFW" monitor --json
MON=$BGPID
h_sleep 0.5
expect_rc 3 "on CPU 0: the blocked connection from inside the cgroup fails" \
	taskset -c 0 "$CGFW" exec --cgroup "$CG" -- nsenter --net=/run/netns/$CNS "$PEER" connect tcp 192.0.2.2 7000 --timeout 1
C taskset -c 0 "$PEER" connect tcp 192.0.2.2 7001 --timeout 1 >/dev/null 2>&1
h_sleep 0.3
stop "$MON"
check "on one CPU: a cgroup drop event, then a TC drop event" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(e["source"] == "cgroup-egress" and e["dport"] == 7000 for e in ev), ev
assert any(e["source"] == "tc-ingress" and e["action"] == "drop" and e["dport"] == 7001 for e in ev), ev
' "$WORK/both.json"
finish
