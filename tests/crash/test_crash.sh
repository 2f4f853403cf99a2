#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Crash safety: kill -9 at random moments of a large change, then check that
# the state is the old one or the new one, never a mix:
#
#   test_crash.sh CGFW block    block --from-file / unblock --from-file, 100k lines
#   test_crash.sh CGFW policy   policy apply, switching between two large policies
#   test_crash.sh CGFW tproxy   tproxy add --from-file / del --from-file
#
# After each trial:
#   - the listing (`list --json`, `policy show --json`, `tproxy list --json`)
#     is exactly the old state or exactly the new one;
#   - the datapath agrees: a packet to an address the change adds a rule for,
#     and one to an address no rule covers, run through the programs with
#     BPF_PROG_RUN (`cgfw explain`; tc_prog for tproxy) get the verdict of
#     that same state;
#   - no lock is left (an exclusive flock on the state root succeeds);
#   - the next command works, and says on stderr what it completed or
#     rolled back.
# CGFW_CRASH_TRIALS trials (20 by default; the long mode is 200). The kill
# lands anywhere from the start to a little after the command's own run
# time, measured first (the median of three runs). Nothing is sent on any
# network.
source "$(dirname "$0")/../lib/harness.sh"

h_init crash "${1:-}"
MODE=${2:-block}
TRIALS=${CGFW_CRASH_TRIALS:-20}
H_TEST=$MODE
h_setup
cd "$WORK" || fail "no work dir"

# A canonical fingerprint of a listing: what it says, not how it is ordered.
fingerprint() { # JSON KIND
	printf '%s' "$1" | "$PYTHON" -c '
import hashlib, json, sys
d, kind = json.load(sys.stdin), sys.argv[1]
if kind == "list":
    rules = sorted(json.dumps({k: v for k, v in r.items() if k not in ("packets", "bytes", "last_hit")}, sort_keys=True) for r in d["rules"])
    atts = sorted(json.dumps({k: a[k] for k in ("cgroup", "default_ingress", "default_egress", "mode")}, sort_keys=True) for a in d["attachments"])
    doc = [rules, atts]
elif kind == "policy":
    doc = sorted(w["name"] for w in d.get("workloads", []))
else:
    doc = sorted(json.dumps({k: v for k, v in r.items() if k not in ("id", "packets", "bytes")}, sort_keys=True) for r in d)
print(hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:16])' "$2"
}

# explain's verdict (allow or deny) for an egress packet of CGROUP.
verdict() { # CGROUP PROTO ADDR:PORT
	cgfw explain --json --cgroup "$1" --egress "$2" "$3" |
		"$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["verdict"])'
}

no_lock() {
	flock -n -x "$CGFW_BPFFS_ROOT" true
}

# Run CMD... in the background, kill -9 after DELAY seconds; "killed" if it was
# still running, else "finished" (its exit status in $WORK/rc).
kill_at() { # DELAY CMD...
	local delay=$1 pid
	shift
	"$@" >"$WORK/killed.out" 2>&1 &
	pid=$!
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		echo killed
	else
		wait "$pid"
		echo $? >"$WORK/rc"
		echo finished
	fi
}

# A delay in [0, 1.2 * DURATION), from the trial number (reproducible).
delay_for() { # TRIAL DURATION
	"$PYTHON" -c 'import random, sys; r = random.Random(int(sys.argv[1]) * 7919); print("%.3f" % (r.random() * 1.2 * float(sys.argv[2])))' "$1" "$2"
}

timed() { # CMD...: run it, print its wall time in seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || fail "command failed: $*"
	t1=$(date +%s.%N)
	"$PYTHON" -c "print('%.3f' % ($t1 - $t0))"
}

# calibrate FWD BACK D_FWD D_BACK: time the switch there and back (functions)
# twice more; "D_FWD D_BACK", the medians with the first timings given. The
# kill delays are drawn from these: one timing alone can be far off (a cold
# first run took 0.29 s where the trials took 0.1), and then most kills land
# after the command ended and test nothing. Ends where it began.
calibrate() {
	local fwd=$1 back=$2
	local -a f=("$3") b=("$4")
	for _ in 1 2; do
		f+=("$(timed "$fwd")") || return 1
		b+=("$(timed "$back")") || return 1
	done
	echo "$(median "${f[@]}") $(median "${b[@]}")"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A SEEN=()
killed=0

# After a trial: STATE must be OLD or NEW; echo which.
judge() { # TRIAL FP FP_OLD FP_NEW
	if [ "$2" = "$3" ]; then
		echo old
	elif [ "$2" = "$4" ]; then
		echo new
	else
		echo mix
	fi
}

next_command_notes() {
	# The notices of the first command after the kill: finished or rolled back.
	grep -hE "interrupted|killed" "$WORK"/next.err 2>/dev/null | head -2 | sed 's/^/    /'
}

case $MODE in
block)
	must cgfw attach "$CG"
	# The old state: rules of both families, host-wide and the cgroup's.
	"$PYTHON" - "$WORK" <<'PY' || fail "cannot write the rule files"
import ipaddress, random, sys
w = sys.argv[1]
r = random.Random(11)
old = ["198.51.100.%d" % i for i in range(10, 250)] + ["2001:db8:ff::%x" % i for i in range(1, 300)]
open(w + "/old.txt", "w").write("\n".join(old) + "\n")
open(w + "/oldcg.txt", "w").write("\n".join("192.0.2.%d" % i for i in range(100, 150)) + "\n")
# 100,000 lines of every mix of lengths, none covering the miss address 192.0.2.99
lines = set(["203.0.113.77"])
miss = int(ipaddress.ip_address("192.0.2.99"))
while len(lines) < 75000:
    l = r.choice([32] * 8 + [24, 16, 22, 20, 28, 27, 19, 12, 30, 26, 29, 23, 21, 18, 17])
    a = r.getrandbits(32) & (0xffffffff << (32 - l)) & 0xffffffff
    if a <= miss < a + (1 << (32 - l)):
        continue
    lines.add("%s/%d" % (ipaddress.ip_address(a), l))
while len(lines) < 100000:
    l = r.choice([128] * 6 + [64, 48, 56, 32, 40, 96, 112, 120])
    a = (0x20010db8 << 96 | r.getrandbits(96)) & ((1 << 128) - (1 << (128 - l)))
    lines.add("%s/%d" % (ipaddress.ip_address(a), l))
open(w + "/new.txt", "w").write("\n".join(sorted(lines)) + "\n")
PY
	must cgfw block --from-file "$WORK/old.txt"
	must cgfw block --cgroup "$CG" --from-file "$WORK/oldcg.txt"
	FP_OLD=$(fingerprint "$(cgfw list --json)" list)
	D_ADD=$(timed cgfw block --from-file "$WORK/new.txt") || fail "block --from-file failed"
	FP_NEW=$(fingerprint "$(cgfw list --json)" list)
	D_DEL=$(timed cgfw unblock --from-file "$WORK/new.txt") || fail "unblock --from-file failed"
	[ "$(fingerprint "$(cgfw list --json)" list)" = "$FP_OLD" ] ||
		fail "unblock --from-file did not restore the old rules"
	[ "$FP_OLD" != "$FP_NEW" ] || fail "the change changes nothing"
	fwd() { cgfw block --from-file "$WORK/new.txt"; }
	back() { cgfw unblock --from-file "$WORK/new.txt"; }
	read -r D_ADD D_DEL <<<"$(calibrate fwd back "$D_ADD" "$D_DEL")" || fail "calibrating failed"
	log "block --from-file (100,000 lines) takes ${D_ADD} s, unblock ${D_DEL} s (medians of 3); $TRIALS trials"
	state=old
	for ((t = 1; t <= TRIALS; t++)); do
		if [ $state = old ]; then
			how=$(kill_at "$(delay_for $t "$D_ADD")" "$CGFW" block --from-file "$WORK/new.txt")
		else
			how=$(kill_at "$(delay_for $t "$D_DEL")" "$CGFW" unblock --from-file "$WORK/new.txt")
		fi
		[ "$how" = killed ] && killed=$((killed + 1))
		no_lock && ok "trial $t ($how): no lock left" || not_ok "trial $t: the state root is still locked"
		json=$(cgfw list --json 2>"$WORK/next.err") || not_ok "trial $t: list failed: $(cat "$WORK/next.err")"
		now=$(judge $t "$(fingerprint "$json" list)" "$FP_OLD" "$FP_NEW")
		SEEN[$now]=$((${SEEN[$now]:-0} + 1))
		if [ "$now" = mix ]; then
			not_ok "trial $t ($how): the rules are neither the old set nor the new one"
			continue
		fi
		ok "trial $t ($how from $state): the rules are the $now set"
		next_command_notes
		hit=$(verdict "$CG" tcp 203.0.113.77:443) miss=$(verdict "$CG" tcp 192.0.2.99:443)
		want_hit=$([ "$now" = new ] && echo deny || echo allow)
		[ "$hit" = "$want_hit" ] && [ "$miss" = allow ] &&
			ok "trial $t: the datapath agrees (203.0.113.77 $hit, 192.0.2.99 $miss)" ||
			not_ok "trial $t: the datapath says 203.0.113.77 $hit, 192.0.2.99 $miss; the $now set says $want_hit, allow"
		if cgfw block 192.0.2.123 >/dev/null 2>&1 && cgfw unblock 192.0.2.123 >/dev/null 2>&1; then
			ok "trial $t: the next commands work"
		else
			not_ok "trial $t: block/unblock after the kill failed"
		fi
		state=$now
	done
	;;
policy)
	for w in w1 w2 w3 w4; do mkdir -p "$CG/$w" || fail "cannot create $CG/$w"; done
	"$PYTHON" - "$WORK" "$CG" <<'PY' || fail "cannot write the policies"
import sys
w, cg = sys.argv[1], sys.argv[2]
def wl(name, default, audit, rules):
    s = "  - name: %s\n    cgroup: %s/%s\n    default: %s\n" % (name, cg, name, default)
    if audit:
        s += "    audit: true\n"
    s += "    egress:\n" + "".join("      - deny: %s\n" % r for r in rules)
    return s
def hosts(tag, n):
    return ["2001:db8:%x::%x" % (tag, i) for i in range(1, n)]
a = "workloads:\n" + wl("w1", "allow", False, ["203.0.113.0/24"] + hosts(1, 3000)) \
    + wl("w2", "allow", False, ["198.51.100.0/24"] + hosts(2, 3000)) \
    + wl("w3", "allow", False, hosts(3, 3000))
b = "workloads:\n" + wl("w2", "deny", False, ["192.0.2.0/24"] + hosts(4, 3000)) \
    + wl("w3", "allow", True, hosts(5, 3000)) \
    + wl("w4", "allow", False, ["203.0.113.0/24"] + hosts(6, 3000))
open(w + "/a.yaml", "w").write(a)
open(w + "/b.yaml", "w").write(b)
PY
	must cgfw policy check "$WORK/a.yaml"
	must cgfw policy check "$WORK/b.yaml"
	must cgfw policy apply "$WORK/a.yaml"
	FP_A=$(fingerprint "$(cgfw list --json)" list)
	PA=$(fingerprint "$(cgfw policy show --json)" policy)
	# The trials switch between the two: time the switches, not the first
	# apply (which also creates the state and loads the programs).
	D_B=$(timed cgfw policy apply "$WORK/b.yaml") || fail "policy apply b.yaml failed"
	FP_B=$(fingerprint "$(cgfw list --json)" list)
	PB=$(fingerprint "$(cgfw policy show --json)" policy)
	D_A=$(timed cgfw policy apply "$WORK/a.yaml") || fail "policy apply a.yaml failed"
	[ "$(fingerprint "$(cgfw list --json)" list)" = "$FP_A" ] || fail "re-applying a.yaml gives another state"
	fwd() { cgfw policy apply "$WORK/b.yaml"; }
	back() { cgfw policy apply "$WORK/a.yaml"; }
	read -r D_B D_A <<<"$(calibrate fwd back "$D_B" "$D_A")" || fail "calibrating failed"
	log "policy apply takes ${D_A} s (a.yaml), ${D_B} s (b.yaml) (medians of 3); $TRIALS trials"
	state=old # a.yaml
	for ((t = 1; t <= TRIALS; t++)); do
		if [ $state = old ]; then
			how=$(kill_at "$(delay_for $t "$D_B")" "$CGFW" policy apply "$WORK/b.yaml")
		else
			how=$(kill_at "$(delay_for $t "$D_A")" "$CGFW" policy apply "$WORK/a.yaml")
		fi
		[ "$how" = killed ] && killed=$((killed + 1))
		no_lock && ok "trial $t ($how): no lock left" || not_ok "trial $t: the state root is still locked"
		# policy show finishes or undoes what the kill left, and says so.
		pjson=$(cgfw policy show --json 2>"$WORK/next.err") || not_ok "trial $t: policy show failed: $(cat "$WORK/next.err")"
		next_command_notes
		json=$(cgfw list --json) || not_ok "trial $t: list failed"
		now=$(judge $t "$(fingerprint "$json" list)" "$FP_A" "$FP_B")
		saved=$(judge $t "$(fingerprint "$pjson" policy)" "$PA" "$PB")
		SEEN[$now]=$((${SEEN[$now]:-0} + 1))
		if [ "$now" = mix ]; then
			not_ok "trial $t ($how): attachments and rules are neither a.yaml's nor b.yaml's"
			continue
		fi
		[ "$saved" = "$now" ] && ok "trial $t ($how): a.yaml/b.yaml: $now in force and saved" ||
			not_ok "trial $t: the $now policy is in force but the saved one is $saved"
		# w2: a.yaml denies 198.51.100.0/24 (default allow); b.yaml denies 192.0.2.0/24 and defaults to deny.
		hit=$(verdict "$CG/w2" tcp 198.51.100.5:80) other=$(verdict "$CG/w2" tcp 2001:db8:7::1:80 2>/dev/null || verdict "$CG/w2" tcp '[2001:db8:7::1]:80')
		if [ "$now" = old ]; then want="deny allow"; else want="deny deny"; fi
		[ "$hit $other" = "$want" ] &&
			ok "trial $t: the datapath agrees (w2: 198.51.100.5 $hit, 2001:db8:7::1 $other)" ||
			not_ok "trial $t: the datapath says $hit $other for w2; the $now policy says $want"
		if [ "$now" = old ]; then next=a; else next=b; fi
		if cgfw policy apply "$WORK/$next.yaml" >/dev/null 2>"$WORK/next2.err"; then
			ok "trial $t: the next apply works"
		else
			not_ok "trial $t: the next apply failed: $(cat "$WORK/next2.err")"
		fi
		state=$now
	done
	;;
tproxy)
	# An interface in a namespace of the run's own, where the local routes go.
	NS=$H_NAME-t
	h_pair "$NS" v0 "$NS-peer" v1
	h_cgfw_netns "$NS"
	ns() { in_ns "$NS" "$@"; }
	tcfp() { ns "$CGFW" tproxy list --json | "$PYTHON" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["rules"]))'; }
	# explain's reason for a SYN to ADDR:PORT on v0 (no listener: a tproxy hit drops).
	tcwhy() { ns "$CGFW" explain --json --iface v0 tcp "$1" --from 192.0.2.1:40000 |
		"$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["reason"])'; }
	# Routes cgfw added in the namespace, and the prefixes its tproxy rules name.
	routes_ok() {
		local have want
		have=$({ ip -n "$NS" -4 route show table local proto 207; ip -n "$NS" -6 route show table local proto 207; } | wc -l)
		want=$(ns "$CGFW" tproxy list --json | "$PYTHON" -c 'import json, sys; print(len({r["dst"] for r in json.load(sys.stdin)["rules"]}))')
		[ "$have" = "$want" ] || { echo "$have routes for $want prefixes"; return 1; }
	}
	must ns "$CGFW" tc attach v0
	"$PYTHON" - "$WORK" <<'PY' || fail "cannot write the rule files"
import sys
w = sys.argv[1]
old = ["--dst 203.0.113.%d --proto tcp --ports 443 --to 127.0.0.1:9443" % i for i in range(1, 200)]
open(w + "/old.txt", "w").write("\n".join(old) + "\n")
# 100,000 lines: 20,000 destination prefixes of 2001:db8::/32 and 198.51.100.0/24
# of many lengths, 5 port ranges each; 198.51.100.77:8080 is one of them.
lines = []
for i in range(20000):
    if i == 0:
        dst = "198.51.100.77"
    elif i < 200:
        dst = "198.51.100.%d/%d" % (i % 128, 25 + i % 8)
    else:
        dst = "2001:db8:%x:%x::/%d" % (i >> 8, i & 0xff, 48 + i % 65)
    for k in range(5):
        lo = 8080 + 100 * k if i == 0 else 1000 + 2000 * k + i % 1000
        lines.append("--dst %s --proto tcp --ports %d-%d --to %s" % (dst, lo, lo + 50 if i else lo,
                     "[::1]:9443" if ":" in dst else "127.0.0.1:9443"))
open(w + "/new.txt", "w").write("\n".join(lines) + "\n")
PY
	must ns "$CGFW" tproxy add --from-file "$WORK/old.txt"
	FP_OLD=$(fingerprint "$(tcfp)" tc)
	D_ADD=$(timed ns "$CGFW" tproxy add --from-file "$WORK/new.txt") || fail "tproxy add --from-file failed"
	FP_NEW=$(fingerprint "$(tcfp)" tc)
	D_DEL=$(timed ns "$CGFW" tproxy del --from-file "$WORK/new.txt") || fail "tproxy del --from-file failed"
	[ "$(fingerprint "$(tcfp)" tc)" = "$FP_OLD" ] || fail "tproxy del --from-file did not restore the old rules"
	fwd() { ns "$CGFW" tproxy add --from-file "$WORK/new.txt"; }
	back() { ns "$CGFW" tproxy del --from-file "$WORK/new.txt"; }
	read -r D_ADD D_DEL <<<"$(calibrate fwd back "$D_ADD" "$D_DEL")" || fail "calibrating failed"
	log "tproxy add --from-file (100,000 lines) takes ${D_ADD} s, del ${D_DEL} s (medians of 3); $TRIALS trials"
	state=old
	for ((t = 1; t <= TRIALS; t++)); do
		if [ $state = old ]; then
			how=$(kill_at "$(delay_for $t "$D_ADD")" nsenter --net="/run/netns/$NS" "$CGFW" tproxy add --from-file "$WORK/new.txt")
		else
			how=$(kill_at "$(delay_for $t "$D_DEL")" nsenter --net="/run/netns/$NS" "$CGFW" tproxy del --from-file "$WORK/new.txt")
		fi
		[ "$how" = killed ] && killed=$((killed + 1))
		no_lock && ok "trial $t ($how): no lock left" || not_ok "trial $t: the state root is still locked"
		# A locked command first: it sets right the routes a kill left behind, and says so.
		ns "$CGFW" tc sync >/dev/null 2>"$WORK/next.err" || not_ok "trial $t: tc sync failed: $(cat "$WORK/next.err")"
		next_command_notes
		now=$(judge $t "$(fingerprint "$(tcfp)" tc)" "$FP_OLD" "$FP_NEW")
		SEEN[$now]=$((${SEEN[$now]:-0} + 1))
		if [ "$now" = mix ]; then
			not_ok "trial $t ($how): the tproxy rules are neither the old set nor the new one"
			continue
		fi
		ok "trial $t ($how from $state): the tproxy rules are the $now set"
		hit=$(tcwhy 198.51.100.77:8080) miss=$(tcwhy 198.51.100.200:8080)
		want_hit=$([ "$now" = new ] && echo drop_no_listener || echo pass_nomatch)
		[ "$hit" = "$want_hit" ] && [ "$miss" = pass_nomatch ] &&
			ok "trial $t: the datapath agrees (198.51.100.77:8080 $hit, 198.51.100.200:8080 $miss)" ||
			not_ok "trial $t: the datapath says $hit, $miss; the $now set says $want_hit, pass_nomatch"
		if msg=$(routes_ok); then
			ok "trial $t: one local route per tproxy prefix"
		else
			not_ok "trial $t: $msg"
		fi
		if ns "$CGFW" tproxy add --dst 192.0.2.123 --proto tcp --ports 1 --to 9 >/dev/null 2>&1 &&
			ns "$CGFW" tproxy del --dst 192.0.2.123 --proto tcp --ports 1 >/dev/null 2>&1; then
			ok "trial $t: the next commands work"
		else
			not_ok "trial $t: tproxy add/del after the kill failed"
		fi
		state=$now
	done
	;;
*)
	fail "unknown mode '$MODE' (block, policy, tproxy)"
	;;
esac

log "outcomes: old ${SEEN[old]:-0}, new ${SEEN[new]:-0}, mix ${SEEN[mix]:-0}; killed while running: $killed of $TRIALS"
[ "$killed" -ge $((TRIALS / 3)) ] || not_ok "only $killed of $TRIALS kills hit a running command: the trials tested little"
finish
