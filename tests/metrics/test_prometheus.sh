#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# End to end with a real Prometheus: `cgfw metrics --listen 127.0.0.1:PORT`
# scraped every second by Debian's prometheus (on loopback, its TSDB in the
# test's work dir), known traffic from the test cgroup (datagrams to a
# blocked address: exactly one dropped packet each), and the counters read
# back through Prometheus's HTTP API: the target is up, the per-cgroup drop
# counter and the rule's counter have exactly the test's values, and a
# second batch shows up in a later scrape. Every wait is bounded.
source "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || skip "prometheus not installed (package prometheus)"
setup

must cgfw attach "$CG"
must cgfw block 198.51.100.3 --cgroup "$CG" --egress --proto udp --port 9090
start_metrics
log "cgfw metrics serves 127.0.0.1:$MPORT"

# ---- Prometheus on loopback ------------------------------------------------------------------
start_prometheus() {
	local try
	mkdir -p "$WORK/prometheus/data" || fail "cannot make the Prometheus dir"
	cat >"$WORK/prometheus/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: cgfw
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
EOF
	for try in 1 2 3; do
		PPORT=$(free_port) || fail "no free port"
		bg "$WORK/prometheus/log" prometheus \
			--config.file="$WORK/prometheus/prometheus.yml" \
			--storage.tsdb.path="$WORK/prometheus/data" \
			--web.listen-address="127.0.0.1:$PPORT" \
			--web.console.templates="$WORK/prometheus" \
			--web.console.libraries="$WORK/prometheus" \
			--log.level=warn
		PPID_=$BGPID
		for _ in $(seq 300); do
			[ "$(http GET "http://127.0.0.1:$PPORT/-/ready" 2>/dev/null | head -1)" = 200 ] &&
				return 0
			kill -0 "$PPID_" 2>/dev/null || break
			sleep 0.1
		done
		grep -q 'address already in use' "$WORK/prometheus/log" || break
		log "Prometheus's port $PPORT was taken (try $try)"
	done
	fail "prometheus did not become ready:"$'\n'"$(tail -20 "$WORK/prometheus/log" | sed 's/^/  | /')"
}

# query PROMQL: the value of the first result of an instant query, "none"
# when there is no result.
query() {
	"$PYTHON" - "http://127.0.0.1:$PPORT" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
d = json.load(urllib.request.urlopen(url, timeout=5))
assert d["status"] == "success", d
r = d["data"]["result"]
print(r[0]["value"][1] if r else "none")
EOF
}

# wait_value DESC PROMQL WANT [SECONDS]: until the query returns WANT (each
# scrape is a second apart; 30 s at most).
wait_value() {
	local desc=$1 q=$2 want=$3 got=none
	for _ in $(seq $((${4:-30} * 4))); do
		got=$(query "$q" 2>/dev/null) || got=error
		[ "$got" = "$want" ] && { log "ok: $desc ($q = $got)"; return 0; }
		sleep 0.25
	done
	fail "$desc: $q is $got after ${4:-30} s, expected $want"$'\n'"$(tail -5 "$WORK/prometheus/log" "$WORK/metrics.log")"
}

start_prometheus
log "prometheus on 127.0.0.1:$PPORT"
wait_value "Prometheus scrapes cgfw" 'up{job="cgfw"}' 1
DROPS="cgfw_packets_total{cgroup=\"$CG_REL\",direction=\"egress\",reason=\"drop_rule\"}"
RULE="cgfw_rule_packets_total{scope=\"cgroup\",cgroup=\"$CG_REL\",prefix=\"198.51.100.3\",proto=\"udp\",ports=\"9090\"}"
wait_value "no drop yet" "$DROPS" 0
wait_value "the cgroup is enforced" "cgfw_cgroup_audit_mode{cgroup=\"$CG_REL\"}" 0

# Known traffic: seven datagrams to the blocked address and port, each
# dropped at egress (EPERM, nothing sent), so exactly seven packets.
expect_rc 3 "seven datagrams are dropped" from_cg "$CG" udp 198.51.100.3 9090 --count 7
[ "$H_FAILS" = 0 ] || fail "the traffic was not dropped as it should"
wait_value "Prometheus has the cgroup's seven drops" "$DROPS" 7
wait_value "and the rule's" "$RULE" 7
wait_value "and the totals over all cgroups" \
	'cgfw_all_cgroups_packets_total{direction="egress",reason="drop_rule"}' 7

# Every scrape reads afresh: five more, and a later scrape has twelve.
expect_rc 3 "five more datagrams are dropped" from_cg "$CG" udp 198.51.100.3 9090 --count 5
[ "$H_FAILS" = 0 ] || fail "the traffic was not dropped as it should"
wait_value "a later scrape has all twelve" "$DROPS" 12
wait_value "the rate is positive" "sum(increase(${DROPS}[1m])) > bool 0" 1
wait_value "the scrape stayed up" 'min_over_time(up{job="cgfw"}[1m])' 1

stop "$MPID" TERM
rc=$?
[ $rc = 0 ] || fail "cgfw metrics --listen: exit $rc on SIGTERM"
log "ok: cgfw metrics stopped on SIGTERM"
wait_value "Prometheus sees the target down" 'up{job="cgfw"}' 0
# Prometheus itself is stopped by the exit trap (h_stop_all: SIGTERM, then SIGKILL).
stop "$PPID_" TERM >/dev/null
log "ok: prometheus stopped"
