#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Rule files and reports for the traffic benchmarks (net_datapath.sh,
intercept.sh, policy_swap.sh).

  netbench.py addrs N SALT FORMAT FILE [--v4 PREFIX/24] [--probe ADDR]
      N distinct addresses, all in documentation ranges, as FORMAT:
      list (one per line: cgfw block --from-file, deny_file:), ip6tables
      (ip6tables-restore input, one OUTPUT rule per address), nft (one
      set, one rule on the output hook) or nft2 (the set, a rule on the
      output hook and one on the input hook). IPv6 host addresses in
      2001:db8:8000::/33 (never 2001:db8:1::/64, where the traffic runs),
      scattered by a hash of (SALT, i) like a real blocklist. --v4 puts the
      256 addresses of PREFIX/24 first; --probe makes ADDR the last one (the
      datapath checks that a packet to it is refused). These are rule keys:
      nothing is sent to them.
  netbench.py report datapath|intercept|swap RAW.jsonl OUT.json [KEY=VALUE...]
      Markdown table on stdout, raw numbers and per-target verdicts in OUT.json.
"""
import ipaddress
import json
import statistics
import sys

MASK64 = (1 << 64) - 1


def mix64(x):
    """splitmix64's finalizer: a bijection on 64-bit integers."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & MASK64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & MASK64
    return x ^ (x >> 31)


def gen_addrs(n, salt, v4=None, probe=None):
    out = []
    if v4:
        net = ipaddress.ip_network(v4)
        out += [str(a) for a in net][: n]
    i = 0
    while len(out) < n - (1 if probe else 0):
        h = mix64((salt << 40) + i)
        # 2001:db8:<1, 15 hash bits>:<16>:<16>:<16>:<i, 32 bits>: distinct by i.
        groups = [0x2001, 0x0DB8, 0x8000 | (h >> 49), (h >> 33) & 0xFFFF,
                  (h >> 17) & 0xFFFF, (h >> 1) & 0xFFFF, (i >> 16) & 0xFFFF, i & 0xFFFF]
        out.append("%x:%x:%x:%x:%x:%x:%x:%x" % tuple(groups))
        i += 1
    if probe:
        out.append(probe)
    return out


def write_addrs(argv):
    n, salt, fmt, path = int(argv[0]), int(argv[1]), argv[2], argv[3]
    v4 = probe = None
    rest = argv[4:]
    while rest:
        if rest[0] == "--v4":
            v4 = rest[1]
        elif rest[0] == "--probe":
            probe = rest[1]
        else:
            sys.exit("netbench.py: unknown option %s" % rest[0])
        rest = rest[2:]
    addrs = gen_addrs(n, salt, v4, probe)
    with open(path, "w") as f:
        if fmt == "list":
            f.write("\n".join(addrs) + "\n")
        elif fmt == "ip6tables":
            if any(":" not in a for a in addrs):
                sys.exit("netbench.py: ip6tables takes IPv6 addresses only")
            f.write("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
            f.writelines("-A OUTPUT -d %s/128 -j DROP\n" % a for a in addrs)
            f.write("COMMIT\n")
        elif fmt in ("nft", "nft2"):
            if any(":" not in a for a in addrs):
                sys.exit("netbench.py: nft formats take IPv6 addresses only")
            # nft: the output hook only; nft2: both ways, as `cgfw block` does.
            f.write("table inet cgfwbench {\n"
                    "\tset deny6 { type ipv6_addr; }\n"
                    "\tchain output { type filter hook output priority 0; policy accept; "
                    "ip6 daddr @deny6 drop; }\n")
            if fmt == "nft2":
                f.write("\tchain input { type filter hook input priority 0; policy accept; "
                        "ip6 saddr @deny6 drop; }\n")
            f.write("}\n")
            for k in range(0, len(addrs), 2000):
                f.write("add element inet cgfwbench deny6 { %s }\n" % ", ".join(addrs[k:k + 2000]))
        else:
            sys.exit("netbench.py: unknown format %s" % fmt)
    print(len(addrs))


# ---- reports ----

def mmm(values):
    """median, min, max"""
    return statistics.median(values), min(values), max(values)


def human(n):
    n = int(n)
    if n >= 1000000 and n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n >= 1000 and n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


def cell(values, fmt="%.1f"):
    if not values:
        return "—"
    m, lo, hi = mmm(values)
    if len(values) == 1:
        return fmt % m
    return (fmt + " [" + fmt + "–" + fmt + "]") % (m, lo, hi)


def pct(a, b):
    """a relative to b, in percent"""
    return (a / b - 1) * 100 if b else float("nan")


def verdict(ok):
    return "PASS" if ok else "MISS"


def load_raw(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def paired(raw, n, a, b, key):
    """Per round: a's figure relative to b's in the same round, in percent."""
    by = {(r["config"], r["round"]): key(r) for r in raw if r["n"] == n}
    return [pct(by[(a, k)], by[(b, k)]) for (c, k) in sorted(by) if c == a and (b, k) in by]


def pcell(values):
    """median of paired percentages [min–max]"""
    if not values:
        return "—"
    m, lo, hi = mmm(values)
    return "%+.1f%% [%+.1f–%+.1f]" % (m, lo, hi)


def report_datapath(raw, meta):
    counts = sorted({r["n"] for r in raw})
    configs = [c for c in ["none", "empty", "cgfw", "iptables", "nft", "nft2"]
               if any(r["config"] == c for r in raw)]
    names = {"none": "no firewall", "empty": "empty cgroup_skb pair (the hook's floor)",
             "cgfw": "cgfw (cgroup_skb, compiled rule set)",
             "iptables": "ip6tables, one rule per address", "nft": "nftables, one set + one rule",
             "nft2": "nftables, one set + a rule each way"}
    p50 = lambda r: r["rr"]["p50_us"]
    gbit = lambda r: r["bulk"]["gbit"]
    rounds = max(r["round"] for r in raw)
    print("### Datapath: request/response and throughput through N non-matching rules")
    print()
    print("Two network namespaces joined by a veth, IPv6 (2001:db8:1::1 -> ::2: the"
          " documentation ranges hold only 768 IPv4 addresses, fewer than 10k rules need)."
          " Client and server pinned to CPU %s with taskset; the client runs in a cgroup"
          " (`cgfw exec --cgroup CG -- nsenter --net=NS ...`): for cgfw one with cgfw attached and the"
          " rules loaded by `cgfw block --from-file` (both directions, the default); empty: one with"
          " a cgroup_skb program pair that returns 1 (both directions); ip6tables: the rules in the client"
          " namespace's OUTPUT chain (ip6tables-restore, %s); nft: one ipv6_addr set with the same"
          " addresses and one rule on the output hook (%s); nft2: the same set and rules on the output"
          " and input hooks (both directions, as cgfw). Latency: 1-byte TCP ping-pong on one"
          " connection, %s s per round, each round's median (p50) and 99th percentile; throughput:"
          " one TCP stream, %s s per round. %d interleaved rounds (none, empty, cgfw, ip6tables, nft,"
          " nft2, none, ...). Absolute figures: median of the rounds [min–max]; \"vs none\": each round"
          " against no firewall in the same round, median of the rounds [min–max]." % (
              meta.get("cpu", "?"), meta.get("ipt", "?"), meta.get("nft", "?"),
              meta.get("t_rr", "?"), meta.get("t_bulk", "?"), rounds))
    print()
    print("| rules | firewall | RR p50 µs | RR p99 µs | p50 vs none | TCP Gbit/s | vs none |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    summary = {}
    for n in counts:
        for c in configs:
            rows = [r for r in raw if r["n"] == n and r["config"] == c]
            if not rows:
                continue
            l50 = [p50(r) for r in rows]
            l99 = [r["rr"]["p99_us"] for r in rows]
            gb = [gbit(r) for r in rows]
            d50 = paired(raw, n, c, "none", p50)
            dgb = paired(raw, n, c, "none", gbit)
            summary.setdefault(str(n), {})[c] = {
                "rr_p50_us": l50, "rr_p99_us": l99, "gbit": gb,
                "rr_p50_median": statistics.median(l50), "rr_p99_median": statistics.median(l99),
                "gbit_median": statistics.median(gb),
                "rr_p50_vs_none_pct": d50, "gbit_vs_none_pct": dgb}
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                human(n), names[c], cell(l50, "%.2f"), cell(l99, "%.1f"),
                "—" if c == "none" else pcell(d50), cell(gb, "%.2f"),
                "—" if c == "none" else pcell(dgb)))
    print()
    targets = []
    for n in counts:
        s = summary[str(n)]
        lat = statistics.median(s["cgfw"]["rr_p50_vs_none_pct"])
        thr = statistics.median(s["cgfw"]["gbit_vs_none_pct"])
        targets.append({"n": n, "target": "cgfw latency within 5% of no firewall",
                        "value": "%+.1f%%" % lat, "pass": lat <= 5.0})
        targets.append({"n": n, "target": "cgfw throughput within 5% of no firewall",
                        "value": "%+.1f%%" % thr, "pass": thr >= -5.0})
        # cgfw against nft round by round: the output hook only (nft), and both
        # ways (nft2: the same job). "No worse" allows 1% for two measurements
        # of the same noisy quantity.
        for c, what in (("nft", "the nftables set"),
                        ("nft2", "the nftables set filtering both ways")):
            if c not in configs:
                continue
            vl = paired(raw, n, "cgfw", c, p50)
            vt = statistics.median(paired(raw, n, "cgfw", c, gbit))
            ml = statistics.median(vl)
            targets.append({"n": n, "target": "cgfw latency no worse than %s (1%% slack)" % what,
                            "value": "%+.1f%% (lower in %d of %d rounds)" % (
                                ml, sum(1 for v in vl if v <= 0), len(vl)),
                            "pass": ml <= 1.0})
            targets.append({"n": n, "target": "cgfw throughput no worse than %s (1%% slack)" % what,
                            "value": "%+.1f%%" % vt, "pass": vt >= -1.0})
        if "empty" in configs:
            fl = statistics.median(paired(raw, n, "cgfw", "empty", p50))
            targets.append({"n": n, "target": "(figure) cgfw latency over the empty pair's",
                            "value": "%+.1f%%" % fl, "pass": None})
    print("| rules | target | cgfw | |")
    print("|---:|---|---:|---|")
    for t in targets:
        print("| %s | %s | %s | %s |" % (human(t["n"]), t["target"], t["value"],
                                         "" if t["pass"] is None else verdict(t["pass"])))
    insitu = report_insitu(meta.get("insitu"))
    return {"raw": raw, "summary": summary, "targets": targets, "insitu": insitu}


def report_insitu(path):
    """Per program, ns per packet of real traffic (kernel.bpf_stats_enabled)."""
    try:
        rows = load_raw(path) if path else []
    except OSError:
        rows = []
    if not rows:
        return []
    print()
    print("Per packet of that traffic, from the kernel's own accounting of each program"
          " (kernel.bpf_stats_enabled, one request/response round apart from the rounds above;"
          " the accounting's two clock reads are inside these figures, and as much in the empty"
          " program's): where BPF_PROG_RUN runs a program with warm caches, here it runs between"
          " the rest of the stack's work.")
    print()
    print("| rules | program | runs | ns per run | net of the empty program |")
    print("|---:|---|---:|---:|---:|")
    out = []
    for r in rows:
        per = {k: v["ns"] / v["runs"] for k, v in r["insitu"].items() if v["runs"]}
        for k in sorted(r["insitu"]):
            v = r["insitu"][k]
            if not v["runs"]:
                continue
            c, at = k.split("/", 1)
            base = per.get("empty/" + at)
            net = "—" if c == "empty" or base is None else "%.0f ns" % (per[k] - base)
            print("| %s | %s %s | %d | %.0f | %s |" % (human(r["n"]), c,
                                                        at.replace("cgroup_inet_", ""), v["runs"],
                                                        per[k], net))
        out.append({"n": r["n"], "ns_per_run": per})
    return out


def report_intercept(raw, meta):
    configs = ["direct", "cgfw", "iptables"]
    names = {"direct": "no interception (reference: listener's own address)",
             "cgfw": "cgfw tproxy (tc + bpf_sk_assign)",
             "iptables": "iptables TPROXY (mangle + fwmark + table 100)"}
    rounds = max(r["round"] for r in raw)
    print("### Interception: new connections and requests into a transparent listener")
    print()
    print("One IP_TRANSPARENT TCP listener (0.0.0.0:%s) in the server namespace; the client, in"
          " another namespace, connects to 198.51.100.1–254 port %s, addresses configured"
          " nowhere: only interception brings them to the listener. cgfw: `cgfw tc attach IFACE` +"
          " `cgfw tproxy add --dst 198.51.100.0/24 --proto tcp --ports %s --to %s`; iptables: `-t"
          " mangle -A PREROUTING ... -j TPROXY --on-port %s --tproxy-mark 1`, `ip rule add fwmark 1"
          " lookup 100`, `ip route add local 0.0.0.0/0 dev lo table 100`; both set up and torn down"
          " in the server namespace around each round. CRR: connect, 1-byte request, 1-byte reply,"
          " close, one at a time for %s s (per-connection time is connect to reply); RR: 1-byte"
          " ping-pong on one intercepted connection for %s s. Client and listener pinned to CPU %s."
          " %d interleaved rounds; median of the rounds [min–max]." % (
              meta.get("lport"), meta.get("dport"), meta.get("dport"), meta.get("lport"),
              meta.get("lport"), meta.get("t_crr"), meta.get("t_rr"), meta.get("cpu"), rounds))
    print()
    print("| path | connections/s | CRR p50 µs | CRR p99 µs | RR p50 µs | RR p99 µs |")
    print("|---|---:|---:|---:|---:|---:|")
    summary = {}
    for c in configs:
        rows = [r for r in raw if r["config"] == c]
        if not rows:
            continue
        cps = [r["crr"]["cps"] for r in rows]
        c50 = [r["crr"]["p50_us"] for r in rows]
        c99 = [r["crr"]["p99_us"] for r in rows]
        r50 = [r["rr"]["p50_us"] for r in rows]
        r99 = [r["rr"]["p99_us"] for r in rows]
        summary[c] = {"cps": cps, "crr_p50_us": c50, "crr_p99_us": c99, "rr_p50_us": r50,
                      "rr_p99_us": r99, "cps_median": statistics.median(cps),
                      "crr_p50_median": statistics.median(c50),
                      "rr_p50_median": statistics.median(r50)}
        print("| %s | %s | %s | %s | %s | %s |" % (names[c], cell(cps, "%.0f"), cell(c50, "%.1f"),
                                                   cell(c99, "%.1f"), cell(r50, "%.2f"),
                                                   cell(r99, "%.1f")))
    print()
    cg, ip = summary["cgfw"], summary["iptables"]
    d_cps = pct(cg["cps_median"], ip["cps_median"])
    d_crr = pct(cg["crr_p50_median"], ip["crr_p50_median"])
    d_rr = pct(cg["rr_p50_median"], ip["rr_p50_median"])
    targets = [
        {"target": "cgfw connections/s at least iptables TPROXY's (1% slack)",
         "value": "%+.1f%%" % d_cps, "pass": d_cps >= -1.0},
        {"target": "cgfw CRR latency at most iptables TPROXY's (1% slack)",
         "value": "%+.1f%%" % d_crr, "pass": d_crr <= 1.0},
        {"target": "cgfw request latency at most iptables TPROXY's (1% slack)",
         "value": "%+.1f%%" % d_rr, "pass": d_rr <= 1.0},
    ]
    print("| target | cgfw vs iptables | |")
    print("|---|---:|---|")
    for t in targets:
        print("| %s | %s | %s |" % (t["target"], t["value"], verdict(t["pass"])))
    return {"raw": raw, "summary": summary, "targets": targets}


def report_swap(raw, meta):
    print("### Policy swap under traffic")
    print()
    print("Two UDP streams of %s datagrams/s each from one process in a cgroup (client namespace"
          " -> server namespace over a veth) while `cgfw policy apply` replaces the cgroup's policy"
          " %s times, alternating between two files whose `deny_file:` lists hold %s different"
          " addresses each (documentation ranges, never a stream's target: every apply removes"
          " and adds that many rules). Stream A (192.0.2.2 udp/5001) is allowed by both policies,"
          " stream B (192.0.2.3 udp/5002) denied by both. *same rules*: both policies default"
          " allow and `deny: 192.0.2.3`; *verdict moves*: policy 1 as before, policy 2 default deny"
          " and `allow: 192.0.2.2 udp 5001`, so the rules that decide the streams change at each"
          " apply. Wrongly dropped: A datagrams sent but not received (of which refused at the"
          " sender with EPERM, the cgroup egress verdict; receive-buffer overflows are counted"
          " apart). Wrongly let through: B datagrams received." % (
              meta.get("rate"), meta.get("applies"), human(meta.get("rules", 0))))
    print()
    print("| scenario | apply s (median [min–max]) | A sent | A wrongly dropped (EPERM) "
          "| rcvbuf overflow | B sent | B refused | B wrongly let through |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    targets = []
    for r in raw:
        a, b = r["sender"]["streams"]
        ra, rb = r["receiver"]["ports"]
        a_tot = a["sent"] + a["eperm"] + a["errors"]
        b_tot = b["sent"] + b["eperm"] + b["errors"]
        dropped = a_tot - ra["received"]
        leaked = rb["received"]
        r["wrongly_dropped"], r["wrongly_let_through"] = dropped, leaked
        print("| %s | %s | %d | %d (%d) | %d | %d | %d | %d |" % (
            r["scenario"], cell([x["s"] for x in r["applies"]], "%.2f"), a_tot, dropped,
            a["eperm"], ra["overflow"], b_tot, b["eperm"], leaked))
        targets.append({"scenario": r["scenario"], "target": "A wrongly dropped = 0",
                        "value": dropped, "pass": dropped == 0})
        targets.append({"scenario": r["scenario"], "target": "B wrongly let through = 0",
                        "value": leaked, "pass": leaked == 0})
    print()
    # Where the wrong verdicts fell, relative to the applies.
    for r in raw:
        notes = []
        for what, rng in (("A refused", r["sender"]["streams"][0]["refused"]),
                          ("B received", r["receiver"]["ports"][1]["ranges"])):
            for lo, hi, tlo, thi in rng[:8]:
                where = "between applies"
                for k, ap in enumerate(r["applies"]):
                    if ap["t0_ns"] <= thi and tlo <= ap["t1_ns"]:
                        where = "during apply %d (%s, %.0f–%.0f ms into it)" % (
                            k + 1, ap["file"], (tlo - ap["t0_ns"]) / 1e6, (thi - ap["t0_ns"]) / 1e6)
                        break
                notes.append("%s: seq %d–%d (%d), %s" % (what, lo, hi, hi - lo + 1, where))
        if notes:
            print("%s: %s." % (r["scenario"], "; ".join(notes)))
            print()
    print("| scenario | target | value | |")
    print("|---|---|---:|---|")
    for t in targets:
        print("| %s | %s | %d | %s |" % (t["scenario"], t["target"], t["value"], verdict(t["pass"])))
    return {"raw": raw, "targets": targets}


def report(argv):
    kind, raw_path, out_path = argv[:3]
    meta = dict(kv.split("=", 1) for kv in argv[3:])
    raw = load_raw(raw_path)
    if not raw:
        sys.exit("netbench.py: no measurements in %s" % raw_path)
    res = {"datapath": report_datapath, "intercept": report_intercept, "swap": report_swap}[kind](raw, meta)
    res["meta"] = meta
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "addrs":
        write_addrs(sys.argv[2:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "report":
        report(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
