#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cgfw benchmarks: datapath cost per packet, seen-IP record, map memory
# (cgfw_bench), and rule loading through the real CLI beside iptables-restore
# and nft -f. Markdown tables on stdout; raw numbers in OUT/results.json and,
# with gnuplot, a plot in OUT/lookup.png.
#
#   bench/run.sh BUILD [--smoke] [--out DIR]
#
# --smoke: tiny rule sets and few repeats, a few seconds; CI runs it so the
# benchmark cannot rot. A benchmark never fails on a number: it fails only
# when something does not work (a wrong verdict, a tool that errors, rules
# that did not arrive).
#
# Safety: nothing here sends a packet. iptables and nft run only inside a
# network namespace this script creates and deletes; cgfw uses private pin
# roots under /sys/fs/bpf. Everything is removed by the exit trap.
set -euo pipefail

usage() { echo "usage: $0 BUILD [--smoke] [--out DIR]" >&2; exit 2; }

[ $# -ge 1 ] || usage
BUILD=$1
shift
SMOKE=0
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/out
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 ;;
	--out) [ $# -ge 2 ] || usage; OUT=$2; shift ;;
	*) usage ;;
	esac
	shift
done

CGFW=$(realpath "$BUILD/cli/cgfw" 2>/dev/null || true)
BENCH=$(realpath "$BUILD/bench/cgfw_bench" 2>/dev/null || true)
for b in "$CGFW" "$BENCH"; do
	[ -n "$b" ] && [ -x "$b" ] || { echo "bench: $BUILD/cli/cgfw or $BUILD/bench/cgfw_bench not built (cmake --build $BUILD)" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: skipped: needs root (BPF programs, pins under /sys/fs/bpf, network namespaces)" >&2
	exit 77
fi

if [ "$SMOKE" = 1 ]; then
	COUNTS=1,1000 ROUNDS=3 REPEAT=20000 INSERT=600
	LOAD_COUNTS="1000" LOAD_ROUNDS=1 CAP=20
else
	COUNTS=1,10000,100000,1000000 ROUNDS=9 REPEAT=200000 INSERT=18000
	LOAD_COUNTS="10000 100000 1000000" LOAD_ROUNDS=3 CAP=300
fi

ID=$$
NS=cgfwbench-$ID
LOOKUP_ROOT=/sys/fs/bpf/cgfw-bench-$ID
LOAD_ROOT=/sys/fs/bpf/cgfw-bench-load-$ID
TMP=$(mktemp -d /tmp/cgfw-bench.XXXXXX)
NS_MADE=0

cleanup() {
	set +e
	[ "$NS_MADE" = 1 ] && ip netns del "$NS" 2>/dev/null
	CGFW_BPFFS_ROOT=$LOAD_ROOT "$CGFW" reset --yes >/dev/null 2>&1
	# cgfw_bench removes its own pins; this is for a bench that was killed.
	rm -rf "$LOOKUP_ROOT"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$OUT"

KERNEL=$(uname -r)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
NCPU=$(nproc)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)

echo "## cgfw benchmark$([ "$SMOKE" = 1 ] && echo " (smoke: tiny sets, numbers not meaningful)")"
echo
echo "Kernel $KERNEL; CPU $CPU ($NCPU CPUs); $DATE."
echo

# ---- 1 and 3: datapath, seen-IP record, memory ----
CGFW_BPFFS_ROOT=$LOOKUP_ROOT "$BENCH" lookup --counts "$COUNTS" --rounds "$ROUNDS" \
	--repeat "$REPEAT" --insert "$INSERT" --json "$TMP/datapath.json" --dat "$OUT/lookup.dat"

# ---- 2: rule loading ----

# Run a command, print its wall time in ms; the command's status is returned.
time_ms() {
	local t0 t1 rc=0
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$TMP/cmd.err" || rc=$?
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
	return $rc
}

fail() {
	echo "bench: $*" >&2
	[ -s "$TMP/cmd.err" ] && sed 's/^/bench:   /' "$TMP/cmd.err" | head -5 >&2
	exit 1
}

netns_new() {
	ip netns add "$NS"
	NS_MADE=1
}

# Flush first: deleting a namespace frees its rules later, in the background,
# where it would slow down the next measurement.
netns_del() {
	in_ns nft flush ruleset
	ip netns del "$NS"
	NS_MADE=0
}

in_ns() { nsenter --net=/run/netns/"$NS" "$@"; }

# median min max of the numbers on stdin
mmm() { sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'; }

human() { awk -v n="$1" 'BEGIN { if (n >= 1e6 && n % 1e6 == 0) printf "%dM", n / 1e6; else if (n >= 1000 && n % 1000 == 0) printf "%dk", n / 1000; else print n }'; }

secs() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }

# Expected time at n from the time at a smaller count, assuming linear growth (a lower bound).
extrapolate() { awk -v ms="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%d", ms * b / a / 1000 }'; }

have_ipt=0 have_nft=0
command -v iptables-restore >/dev/null && command -v ip6tables-restore >/dev/null && have_ipt=1
command -v nft >/dev/null && have_nft=1
IPT_VER=$([ $have_ipt = 1 ] && iptables-restore --version 2>&1 | head -1 || echo "not installed")
NFT_VER=$([ $have_nft = 1 ] && nft --version 2>&1 | head -1 || echo "not installed")

: >"$TMP/load.tsv" # tool n rules ms-list|- note
declare -A prev_ms=() prev_n=() gave_up=()

skip_reason() { # tool n -> prints a reason when the tool should not run at n
	local tool=$1 n=$2
	if [ -n "${gave_up[$tool]:-}" ]; then
		echo "${gave_up[$tool]}"
	elif [ -n "${prev_ms[$tool]:-}" ] && [ "$(extrapolate "${prev_ms[$tool]}" "${prev_n[$tool]}" "$n")" -gt "$CAP" ]; then
		echo "not measured (> $CAP s expected from ${prev_n[$tool]} rules)"
	fi
}

export CGFW_BPFFS_ROOT=$LOAD_ROOT
for n in $LOAD_COUNTS; do
	rules=$("$BENCH" genrules cgfw "$n" "$TMP/cgfw.txt")
	hit4=$(head -1 "$TMP/cgfw.txt")

	# cgfw: the state exists (as after any earlier cgfw command), the rules are new.
	list=""
	for ((r = 1; r <= LOAD_ROUNDS; r++)); do
		"$CGFW" reset --yes >/dev/null
		"$CGFW" block 192.0.2.1 >/dev/null && "$CGFW" unblock 192.0.2.1 >/dev/null ||
			fail "cannot prepare the cgfw state under $LOAD_ROOT"
		ms=$(time_ms timeout "$CAP" "$CGFW" block --from-file "$TMP/cgfw.txt") ||
			fail "cgfw block --from-file with $n rules failed"
		got=$("$CGFW" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["rules_ipv4"] + d["rules_ipv6"])')
		[ "$got" = "$rules" ] || fail "cgfw holds $got rules after loading $rules"
		list="$list $ms"
	done
	"$CGFW" reset --yes >/dev/null
	printf 'cgfw\t%s\t%s\t%s\t\n' "$n" "$rules" "${list# }" >>"$TMP/load.tsv"

	# iptables: one rule per address (the classic way), IPv4 and IPv6 together.
	if [ $have_ipt = 0 ]; then
		printf 'iptables\t%s\t%s\t-\tnot installed\n' "$n" "$rules" >>"$TMP/load.tsv"
	elif reason=$(skip_reason iptables "$n") && [ -n "$reason" ]; then
		printf 'iptables\t%s\t%s\t-\t%s\n' "$n" "$rules" "$reason" >>"$TMP/load.tsv"
	else
		n4=$("$BENCH" genrules iptables "$n" "$TMP/ipt4.rules")
		n6=$("$BENCH" genrules ip6tables "$n" "$TMP/ipt6.rules")
		netns_new
		rc=0
		ms4=$(time_ms timeout "$CAP" nsenter --net=/run/netns/"$NS" iptables-restore "$TMP/ipt4.rules") || rc=$?
		ms6=0
		if [ $rc = 0 ]; then
			ms6=$(time_ms timeout "$CAP" nsenter --net=/run/netns/"$NS" ip6tables-restore "$TMP/ipt6.rules") || rc=$?
		fi
		if [ $rc = 124 ]; then
			gave_up[iptables]="not measured (> $CAP s)"
			printf 'iptables\t%s\t%s\t-\t%s\n' "$n" "$rules" "${gave_up[iptables]}" >>"$TMP/load.tsv"
		elif [ $rc != 0 ]; then
			fail "iptables-restore with $n rules failed (status $rc)"
		else
			# A restore is one atomic commit, so success means every rule. Listing
			# them back costs minutes beyond ~100k rules, so count only up to there.
			if [ "$n" -le 100000 ]; then
				got4=$(in_ns iptables-save -t filter | grep -c '^-A OUTPUT') || true
				got6=$(in_ns ip6tables-save -t filter | grep -c '^-A OUTPUT') || true
				[ "$got4" = "$n4" ] && [ "$got6" = "$n6" ] ||
					fail "iptables holds $got4+$got6 rules after restoring $n4+$n6"
			fi
			ms=$((ms4 + ms6))
			prev_ms[iptables]=$ms prev_n[iptables]=$n
			printf 'iptables\t%s\t%s\t%s\t%s\n' "$n" "$((n4 + n6))" "$ms" "IPv4 $(secs "$ms4") + IPv6 $(secs "$ms6")" >>"$TMP/load.tsv"
		fi
		netns_del
	fi

	# nft: hash sets for hosts, interval sets for prefixes, one transaction.
	if [ $have_nft = 0 ]; then
		printf 'nft\t%s\t%s\t-\tnot installed\n' "$n" "$rules" >>"$TMP/load.tsv"
	elif reason=$(skip_reason nft "$n") && [ -n "$reason" ]; then
		printf 'nft\t%s\t%s\t-\t%s\n' "$n" "$rules" "$reason" >>"$TMP/load.tsv"
	else
		nn=$("$BENCH" genrules nft "$n" "$TMP/rules.nft")
		netns_new
		rc=0
		ms=$(time_ms timeout "$CAP" nsenter --net=/run/netns/"$NS" nft -f "$TMP/rules.nft") || rc=$?
		if [ $rc = 124 ]; then
			gave_up[nft]="not measured (> $CAP s)"
			printf 'nft\t%s\t%s\t-\t%s\n' "$n" "$rules" "${gave_up[nft]}" >>"$TMP/load.tsv"
		elif [ $rc != 0 ]; then
			fail "nft -f with $n rules failed (status $rc)"
		else
			in_ns nft get element inet cgfwbench host4 "{ $hit4 }" >/dev/null 2>"$TMP/cmd.err" ||
				fail "nft -f reported success but $hit4 is not in the set"
			prev_ms[nft]=$ms prev_n[nft]=$n
			printf 'nft\t%s\t%s\t%s\t\n' "$n" "$nn" "$ms" >>"$TMP/load.tsv"
		fi
		netns_del
	fi
done
unset CGFW_BPFFS_ROOT

cell() { # tool n -> table cell
	awk -F'\t' -v t="$1" -v n="$2" '$1 == t && $2 == n { print $4 "\t" $5 }' "$TMP/load.tsv" | {
		IFS=$'\t' read -r list note
		if [ "$list" = "-" ] || [ -z "$list" ]; then
			echo "${note:-—}"
		else
			read -r m lo hi < <(tr ' ' '\n' <<<"$list" | mmm)
			if [ "$(wc -w <<<"$list")" -gt 1 ]; then
				echo "$(secs "$m") [$(secs "$lo" | cut -d' ' -f1)–$(secs "$hi")]"
			else
				echo "$(secs "$m")"
			fi
		fi
	}
}

echo
echo "### Rule loading"
echo
echo "Wall time to load N deny rules (the datapath's rule mix: host addresses plus 6 prefixes, 3 IPv4 per IPv6)"
echo "into an empty rule set, parsing included. cgfw: \`cgfw block --from-file FILE\` (state already"
echo "present), $([ "$LOAD_ROUNDS" -gt 1 ] && echo "median of $LOAD_ROUNDS runs [min–max]" || echo "one run"). iptables: iptables-restore + ip6tables-restore, one rule"
echo "per address ($IPT_VER); nft: \`nft -f\`, hosts in hash sets and prefixes in interval sets"
echo "($NFT_VER); both once, in a throwaway network namespace."
echo
echo "| rules | cgfw | cgfw rules/s | iptables-restore | nft -f |"
echo "|---:|---:|---:|---:|---:|"
for n in $LOAD_COUNTS; do
	list=$(awk -F'\t' -v n="$n" '$1 == "cgfw" && $2 == n { print $4 }' "$TMP/load.tsv")
	read -r m _ _ < <(tr ' ' '\n' <<<"$list" | mmm)
	rate=$(awk -v n="$n" -v ms="$m" 'BEGIN { if (ms > 0) printf "%.0fk", n / ms; else print "—" }')
	echo "| $(human "$n") | $(cell cgfw "$n") | $rate | $(cell iptables "$n") | $(cell nft "$n") |"
done

# ---- raw numbers ----
python3 - "$TMP/datapath.json" "$TMP/load.tsv" "$OUT/results.json" \
	"$KERNEL" "$CPU" "$NCPU" "$DATE" "$SMOKE" "$IPT_VER" "$NFT_VER" "$CAP" <<'EOF'
import json, sys
dp, tsv, out, kernel, cpu, ncpu, date, smoke, ipt, nft, cap = sys.argv[1:]
load = []
for line in open(tsv):
    tool, n, rules, ms, note = line.rstrip("\n").split("\t")
    load.append({"tool": tool, "nominal": int(n), "rules": int(rules),
                 "ms": [int(x) for x in ms.split()] if ms != "-" else [],
                 "note": note})
res = {"kernel": kernel, "cpu": cpu, "cpus": int(ncpu), "date": date, "smoke": smoke == "1",
       "tools": {"iptables": ipt, "nft": nft, "timeout_s": int(cap)},
       "datapath": json.load(open(dp)), "load": load}
json.dump(res, open(out, "w"), indent=1)
EOF

if command -v gnuplot >/dev/null; then
	gnuplot -e "datafile='$OUT/lookup.dat'; outfile='$OUT/lookup.png'; subtitle='$KERNEL, $CPU'" \
		"$HERE/lookup.gp" || fail "gnuplot could not draw $OUT/lookup.png"
	PLOT=" and $OUT/lookup.png"
else
	PLOT=" (no plot: gnuplot not installed)"
fi
echo
echo "Raw numbers: $OUT/results.json$PLOT."
