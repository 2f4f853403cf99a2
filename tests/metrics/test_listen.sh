#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `cgfw metrics --listen`: bad addresses exit 2 and a busy port 1, each with
# one line naming the input; /metrics answers 200 in the text format (GET and
# HEAD), other paths 404, other methods 405; every scrape reads the state
# afresh (attach, rules and reset while it runs, which it never holds up);
# concurrent scrapes; IPv6 loopback; SIGTERM and SIGINT stop it with exit 0.
# Loopback only.
source "$(dirname "$0")/lib.sh"
setup

# ---- bad input ---------------------------------------------------------------------------
bad() { # RC ARG [what the message names]
	local want=$1 arg=$2 name=${3:-$2} rc lines
	timeout 10 "$CGFW" metrics --listen "$arg" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	lines=$(wc -l <"$WORK/err")
	if [ $rc -eq "$want" ] && [ "$lines" -eq 1 ] && grep -qF -- "$name" "$WORK/err" &&
		[ ! -s "$WORK/out" ]; then
		ok "--listen '$arg': exit $rc, one line naming it"
	else
		not_ok "--listen '$arg': exit $rc (expected $want), $lines lines on stderr:"
		sed 's/^/#   /' "$WORK/err" "$WORK/out"
	fi
}
for a in "" 127.0.0.1 9469 :9469 127.0.0.1: 127.0.0.1:0 127.0.0.1:65536 127.0.0.1:-1 \
	127.0.0.1:+80 "127.0.0.1: 80" 127.0.0.1:80x 127.0.0.1:9469:1 localhost:9469 \
	256.1.1.1:9469 ::1:9469 "[::1]" "[::1]9469" "[]:9469" "[127.0.0.1]:9469" "[::1:9469"; do
	bad 2 "$a"
done
# 192.0.2.99: a documentation address this host does not have (bind fails, nothing is sent).
bad 2 192.0.2.99:9469
expect_rc 2 "--json does not apply" "$CGFW" metrics --json
expect_rc 2 "an argument is refused" "$CGFW" metrics now
expect_rc 2 "--listen needs a value" "$CGFW" metrics --listen

start_metrics
URL=http://127.0.0.1:$MPORT
bad 1 "127.0.0.1:$MPORT" "Address already in use"

# ---- HTTP --------------------------------------------------------------------------------
http GET "$URL/metrics" >"$WORK/r"
head -1 "$WORK/r" | grep -qx 200 && ok "GET /metrics: 200" || not_ok "GET /metrics: $(head -1 "$WORK/r")"
contains "$WORK/r" '^content-type: text/plain; version=0.0.4; charset=utf-8$' "the text format's content type"
sed '1,/^$/d' "$WORK/r" >"$WORK/body.prom"
contains "$WORK/body.prom" '^cgfw_state_present{datapath="cgroup"} 0$' "no state yet: cgroup state absent"
if command -v promtool >/dev/null; then
	check "the body passes promtool" promtool check metrics <"$WORK/body.prom"
fi
http GET "$URL/metrics?x=1&y" | head -1 | grep -qx 200 && ok "a query string is ignored" ||
	not_ok "GET /metrics?x=1: not 200"
http HEAD "$URL/metrics" >"$WORK/r"
head -1 "$WORK/r" | grep -qx 200 && [ -z "$(sed '1,/^$/d' "$WORK/r")" ] &&
	ok "HEAD /metrics: 200, no body" || { not_ok "HEAD /metrics"; sed 's/^/#   /' "$WORK/r"; }
for p in / /metrics/ /metricsx /favicon.ico /metrics/../x; do
	code=$(http GET "$URL$p" | head -1)
	[ "$code" = 404 ] && ok "GET $p: 404" || not_ok "GET $p: $code, expected 404"
done
http POST "$URL/metrics" "a=b" >"$WORK/r"
head -1 "$WORK/r" | grep -qx 405 && grep -q '^allow: GET, HEAD$' "$WORK/r" &&
	ok "POST /metrics: 405 with Allow: GET, HEAD" || { not_ok "POST /metrics"; sed 's/^/#   /' "$WORK/r"; }
code=$(http DELETE "$URL/metrics" | head -1)
[ "$code" = 405 ] && ok "DELETE /metrics: 405" || not_ok "DELETE /metrics: $code"

# ---- every scrape reads the state afresh ----------------------------------------------------
must cgfw attach "$CG"
must cgfw block 198.51.100.3 --cgroup "$CG"
http GET "$URL/metrics" | sed '1,/^$/d' >"$WORK/m1.prom"
[ "$(sample "$WORK/m1.prom" cgfw_attached_cgroups "{}")" = 1 ] &&
	ok "attached while serving: the next scrape shows it" ||
	not_ok "the scrape after attach: cgfw_attached_cgroups $(sample "$WORK/m1.prom" cgfw_attached_cgroups "{}")"
expect_rc 3 "three datagrams to the blocked address" from_cg "$CG" udp 198.51.100.3 9 --count 3
http GET "$URL/metrics" | sed '1,/^$/d' >"$WORK/m2.prom"
got=$(sample "$WORK/m2.prom" cgfw_packets_total "{'cgroup': '$CG_REL', 'direction': 'egress', 'reason': 'drop_rule'}")
[ "$got" = 3 ] && ok "the next scrape counts the three drops" || not_ok "drops after traffic: $got, expected 3"
# The listener holds no lock between scrapes: a change, and a reset, go through at once.
check "a change while serving does not wait" timeout 10 "$CGFW" block 198.51.100.4 --cgroup "$CG"
check "reset while serving does not wait" timeout 10 "$CGFW" reset --yes
http GET "$URL/metrics" | sed '1,/^$/d' >"$WORK/m3.prom"
[ "$(sample "$WORK/m3.prom" cgfw_state_present "{'datapath': 'cgroup'}")" = 0 ] &&
	ok "after reset the scrape says the state is gone" || not_ok "after reset: state still present"

# ---- concurrent scrapes ------------------------------------------------------------------------
must cgfw attach "$CG"
pids=()
for i in $(seq 8); do
	(http GET "$URL/metrics" >"$WORK/c$i") &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
n=0
for i in $(seq 8); do
	head -1 "$WORK/c$i" | grep -qx 200 && grep -q '^cgfw_attached_cgroups 1$' "$WORK/c$i" && n=$((n + 1))
done
[ $n = 8 ] && ok "8 concurrent scrapes all answered" || not_ok "of 8 concurrent scrapes $n answered"

# ---- stopping -------------------------------------------------------------------------------------
stop "$MPID" TERM
rc=$?
[ $rc = 0 ] && ok "SIGTERM: exit 0" || not_ok "SIGTERM: exit $rc"
contains "$WORK/metrics.log" "serving metrics on http://127.0.0.1:$MPORT/metrics" "it said where it serves"
code=$(http GET "$URL/metrics" | head -1)
[ "$code" = 000 ] && ok "stopped: the port is closed" || not_ok "after SIGTERM: $code, expected no answer"

# IPv6 loopback, then SIGINT.
for _ in 1 2 3; do
	port=$(free_port)
	bg "$WORK/metrics6.log" "$CGFW" metrics --listen "[::1]:$port"
	pid6=$BGPID
	for _ in $(seq 50); do
		grep -q 'serving metrics' "$WORK/metrics6.log" 2>/dev/null && break
		kill -0 "$pid6" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'serving metrics' "$WORK/metrics6.log" && break
done
code=$(http GET "http://[::1]:$port/metrics" | head -1)
[ "$code" = 200 ] && ok "[::1]:$port serves /metrics" || not_ok "[::1]:$port: $code ($(cat "$WORK/metrics6.log"))"
stop "$pid6" INT
rc=$?
[ $rc = 0 ] && ok "SIGINT: exit 0" || not_ok "SIGINT: exit $rc"
finish
