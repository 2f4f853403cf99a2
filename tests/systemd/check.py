#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The host's checks of what the two boots of tests/systemd/run.sh recorded.

check.py OUT BOOT1_RESULT BOOT2_RESULT KERNEL BOOT1_SECS BOOT2_SECS [BREAK]

Reads OUT/var-lib-cgfw-test/boot{1,2}/ (written by stage2.sh, service.sh and
driver.sh in the guest) and OUT/boot1/var-lib-cgfw.after (the kept state as
boot 1 left it). Prints a Markdown summary; exit 0 when every check passed.
Checks marked (info) are reported and never fail the run. BREAK (run.sh
--break: "restore", "dropin") only labels the summary: such a run must fail.
"""
import datetime
import json
import os
import re
import sys

OUT, R1, R2, KERNEL, S1, S2 = sys.argv[1:7]
BREAK = sys.argv[7] if len(sys.argv) > 7 else ""
REC = os.path.join(OUT, "var-lib-cgfw-test")
DEMO = "system.slice/cgfw-demo.service"
CONTROL = "system.slice/cgfw-control.service"
EPERM = "Operation not permitted"

results = []  # (boot, name, ok, info, detail)


def check(boot, name, ok, detail="", info=False):
    results.append((boot, name, bool(ok), info, detail))
    return ok


def path(boot, name):
    return os.path.join(REC, f"boot{boot}", name)


def text(boot, name, default=None):
    try:
        with open(path(boot, name), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def rc(boot, name):
    t = text(boot, name + ".rc")
    return int(t) if t and t.strip().lstrip("-").isdigit() else None


def kv(boot, name):
    """systemctl show / service.sh output: KEY=VALUE lines."""
    d = {}
    for line in (text(boot, name) or "").splitlines():
        k, sep, v = line.partition("=")
        if sep:
            d[k] = v
    return d


def js(boot, name):
    try:
        return json.loads(text(boot, name) or "null")
    except ValueError:
        return None


def utc_us(s):
    """'Tue 2026-12-01 10:11:12.123456 UTC' -> seconds since the epoch."""
    m = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC", s or "")
    if not m:
        return None
    v = m.group(1)
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in v else "%Y-%m-%d %H:%M:%S"
    return datetime.datetime.strptime(v, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()


def iso_ms(s):
    """cgfw's '2026-12-01T10:11:12.123Z' -> seconds since the epoch."""
    try:
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def exec_cmd(show_value):
    """systemctl show ExecStartPre= '{ path=... ; argv[]=... ; ... }' -> list of dicts."""
    cmds = []
    for m in re.finditer(r"\{([^{}]*)\}", show_value or ""):
        d = {}
        for part in m.group(1).split(" ; "):
            k, sep, v = part.strip().partition("=")
            if sep:
                d[k] = v.strip()
        cmds.append(d)
    return cmds


def norm(cg):
    return (cg or "").strip("/")


def attachment(lst, cg):
    for a in (lst or {}).get("attachments", []):
        if norm(a.get("cgroup")) == cg:
            return a
    return None


def rules_of(lst, cg):
    return [r for r in (lst or {}).get("rules", []) if norm(r.get("cgroup")) == cg]


def has_rule(rules, action, prefix, ports="9"):
    for r in rules:
        # a host prefix is listed without its length
        if (r.get("action") == action and r.get("prefix") in (prefix, prefix.split("/")[0])
                and r.get("proto") == "udp"
                and str(r.get("ports")) in (ports, f"{ports}-{ports}")
                and r.get("direction") == "egress" and r.get("origin") == "policy"):
            return True
    return False


def explain_ok(boot, who, i, verdict, reason):
    e = js(boot, f"explain-{who}-{i}.json")
    if not isinstance(e, dict):
        return False, (text(boot, f"explain-{who}-{i}.json.err") or "no output").strip()
    steps = e.get("steps") or []
    got = (e.get("verdict"), steps[0].get("reason") if steps else None)
    return got == (verdict, reason), f"{got[0]} ({got[1]})"


def check_attached(boot, lst, cg, label):
    a = attachment(lst, cg)
    check(boot, f"`cgfw list --json`: {label} attached, enforce, default deny both ways",
          a and a.get("mode") == "enforce" and a.get("default_ingress") == "deny"
          and a.get("default_egress") == "deny" and a.get("egress_attached")
          and a.get("ingress_attached"),
          json.dumps(a) if a else "not in attachments")
    rs = rules_of(lst, cg)
    check(boot, f"`cgfw list --json`: {label} has the policy's rules",
          has_rule(rs, "deny", "192.0.2.1/32") and has_rule(rs, "allow", "192.0.2.2/32"),
          "; ".join(f"{r.get('action')} {r.get('prefix')} {r.get('proto')} {r.get('ports')} "
                    f"{r.get('direction')} ({r.get('origin')})" for r in rs) or "no rules")
    return a


def probes(boot, who):
    s = kv(boot, f"service-{who}.txt")
    return s, tuple(s.get(f"probe_192.0.2.{i}") for i in (1, 2, 3))


BLOCKED = (EPERM, "sent", EPERM)
UNBLOCKED = ("sent", "sent", "sent")


def common(boot):
    check(boot, "the guest booted, ran the test and powered off",
          os.path.exists(path(boot, "done")) and not os.path.exists(path(boot, "stage2.failed")),
          (R1 if boot == 1 else R2) + ((": " + text(boot, "stage2.failed", "").strip())
                                       if os.path.exists(path(boot, "stage2.failed")) else ""))
    check(boot, "cgfw installed (cmake --install --prefix /usr), cgfw-restore.service enabled",
          re.search(r"^-- (Installing|Up-to-date): /usr/sbin/cgfw$", text(boot, "install.log") or "",
                    re.M)
          and "cgfw-restore.service" in (text(boot, "installed-units.txt") or "")
          and (text(boot, "restore.is-enabled") or "").strip() == "enabled",
          f"is-enabled: {(text(boot, 'restore.is-enabled') or '?').strip()}")
    check(boot, "systemd-analyze verify: every installed unit and the demo with its drop-in",
          rc(boot, "verify") == 0, (text(boot, "verify.txt") or "not run").strip().replace("\n", " | "))
    links = [ln.split(":")[1].strip() for ln in (text(boot, "links.txt") or "").splitlines()
             if ln.count(":") >= 2]
    routes = (text(boot, "routes.txt") or "") + (text(boot, "routes6.txt") or "")
    off_lo = [r for r in routes.splitlines() if r.strip() and not re.search(r"\bdev lo\b", r)]
    check(boot, "the guest's network: lo only, no route off it, no default route",
          links == ["lo"] and not off_lo and not re.search(r"^default", routes, re.M),
          f"links: {' '.join(links) or '?'}; routes not on lo: {off_lo or 'none'}")
    failed = (text(boot, "failed-units.txt") or "").strip()
    check(boot, "no cgfw or test unit failed", not re.search(r"cgfw", failed), failed or "none failed")
    check(boot, "failed units (any)", True, failed or "none", info=True)


def boot1():
    b = 1
    common(b)
    rs = kv(b, "restore.show")
    check(b, "cgfw-restore.service skipped: /var/lib/cgfw empty at the first boot",
          rs.get("ConditionResult") == "no" and rs.get("ActiveState") == "inactive"
          and int(rs.get("ConditionTimestampMonotonic") or 0) > 0,
          f"ConditionResult={rs.get('ConditionResult')} ActiveState={rs.get('ActiveState')} "
          f"condition checked at {int(rs.get('ConditionTimestampMonotonic') or 0) / 1e6:.3f}s")
    ds = kv(b, "demo.show")
    pre = exec_cmd(ds.get("ExecStartPre"))
    check(b, "the drop-in's `cgfw restore` with nothing saved succeeds, the service runs",
          pre and pre[0].get("status") == "0" and ds.get("ActiveState") == "active",
          f"ExecStartPre {pre[0] if pre else '?'}; ActiveState={ds.get('ActiveState')}")
    s, p = probes(b, "demo")
    check(b, "no policy yet: the demo's first datagrams are all sent", p == UNBLOCKED, f"{p}")
    check(b, "`cgfw policy apply` of the policy for both services", rc(b, "policy-apply.txt") == 0,
          ((text(b, "policy-apply.txt") or "") + (text(b, "policy-apply.txt.err") or "")).strip())
    lst = js(b, "list.json")
    check_attached(b, lst, DEMO, "the running demo service")
    check_attached(b, lst, CONTROL, "the running control service")
    live = kv(b, "live-demo.txt")
    got = tuple(live.get(f"probe_192.0.2.{i}") for i in (1, 2, 3))
    check(b, "applied to the running service: from its cgroup .1 and .3 dropped, .2 sent",
          got == BLOCKED, f"{got}")
    kept = os.path.join(OUT, "boot1", "var-lib-cgfw.after")
    names = sorted(os.listdir(kept)) if os.path.isdir(kept) else []
    pol = None
    try:
        with open(os.path.join(kept, "policy.json"), encoding="utf-8") as f:
            pol = json.load(f)
    except (OSError, ValueError):
        pass
    wl = {w.get("cgroup"): w for w in (pol or {}).get("workloads", [])}
    check(b, "the state kept for boot 2 (/var/lib/cgfw) holds the policy of both services",
          DEMO in wl and CONTROL in wl, f"files: {' '.join(names) or 'none'}")


def boot2():
    b = 2
    common(b)
    check(b, "only /var/lib/cgfw carried over: no /etc/cgfw/demo.yaml in boot 2",
          (text(b, "policy-file.txt") or "").strip() == "absent",
          (text(b, "policy-file.txt") or "?").strip())
    rs = kv(b, "restore.show")
    check(b, "cgfw-restore.service: active (exited), Result=success, exit status 0, condition met",
          rs.get("ActiveState") == "active" and rs.get("SubState") == "exited"
          and rs.get("Result") == "success" and rs.get("ExecMainStatus") == "0"
          and rs.get("ConditionResult") == "yes" and rc(b, "restore.status") == 0,
          " ".join(f"{k}={rs.get(k)}" for k in ("ActiveState", "SubState", "Result",
                                                 "ExecMainStatus", "ConditionResult"))
          + f"; systemctl status exit {rc(b, 'restore.status')}")
    jr = text(b, "restore.journal") or ""
    m = re.search(r"restored: .*", jr)
    pend = [w for w in ("cgfw-demo", "cgfw-control")
            if re.search(rf"! workload {w}: cgroup /?system\.slice/{w}\.service does not exist yet "
                         r"\(pending\)", jr)]
    check(b, "cgfw-restore.service re-applied the saved policy at boot: both services' "
          "workloads pending (their cgroups do not exist yet)",
          m and len(pend) == 2, f"{m.group(0) if m else 'no restored: line'}; pending: {pend}")
    si = kv(b, "sysinit.show")
    ds = kv(b, "demo.show")
    try:
        r_exit = int(rs.get("ExecMainExitTimestampMonotonic", "0"))
        si_t = int(si.get("ActiveEnterTimestampMonotonic", "0"))
        d_t = int(ds.get("InactiveExitTimestampMonotonic", "0"))
    except ValueError:
        r_exit = si_t = d_t = 0
    check(b, "cgfw-restore.service finished before sysinit.target and before the demo started",
          0 < r_exit <= si_t and r_exit <= d_t,
          f"restore exited at {r_exit / 1e6:.3f}s, sysinit.target at {si_t / 1e6:.3f}s, "
          f"demo started at {d_t / 1e6:.3f}s (monotonic)")

    drop = "/etc/systemd/system/cgfw-demo.service.d/cgfw.conf"
    pre = exec_cmd(ds.get("ExecStartPre"))
    p0 = pre[0] if pre else {}
    check(b, "the demo's drop-in ran: ExecStartPre=+/usr/sbin/cgfw restore exited 0",
          drop in (ds.get("DropInPaths") or "") and p0.get("path") == "/usr/sbin/cgfw"
          and p0.get("argv[]") == "/usr/sbin/cgfw restore" and p0.get("status") == "0"
          and p0.get("code") == "exited",
          f"DropInPaths={ds.get('DropInPaths')}; ExecStartPre {p0}")

    jd = text(b, "demo.journal") or ""
    m = re.search(r"restored: .*", jd)
    check(b, "the drop-in's `cgfw restore` attached the demo's new cgroup",
          m and re.search(r"\+ attach /?system\.slice/cgfw-demo\.service \(workload cgfw-demo\)", jd),
          m.group(0) if m else "no restored: line in the demo's journal")

    lst = js(b, "list.json")
    a = check_attached(b, lst, DEMO, "the demo service")

    s, p = probes(b, "demo")
    check(b, "KEY: the service's own first action is already enforced: "
          "192.0.2.1 (deny rule) EPERM, 192.0.2.2 (allow rule) sent, 192.0.2.3 (default deny) EPERM",
          p == BLOCKED and norm(s.get("cgroup")) == DEMO and s.get("pid") == ds.get("MainPID"),
          f"{p}, in cgroup {s.get('cgroup')}, pid {s.get('pid')} (MainPID {ds.get('MainPID')})")
    first = float(s.get("first_action_realtime") or 0)
    pre_stop = utc_us(p0.get("stop_time"))
    att = iso_ms((a or {}).get("attached_at"))
    main_start = utc_us(ds.get("ExecMainStartTimestamp"))
    check(b, "order: the drop-in's `cgfw restore` attached the cgroup and exited before "
          "the service's first action",
          att is not None and pre_stop is not None and first > 0
          and att <= pre_stop + 0.001 and pre_stop <= first and (main_start or 0) <= first,
          f"attached_at {a and a.get('attached_at')}, ExecStartPre stop {p0.get('stop_time')}, "
          f"main start {ds.get('ExecMainStartTimestamp')}, first action "
          f"{datetime.datetime.fromtimestamp(first, datetime.timezone.utc).isoformat() if first else '?'}")

    ok = []
    for i, v, r in ((1, "deny", "drop_rule"), (2, "allow", "allow_rule"), (3, "deny", "drop_default")):
        good, d = explain_ok(b, "demo", i, v, r)
        ok.append(good)
        ok_d = f"192.0.2.{i}: {d}"
        results.append((b, f"`cgfw explain` udp 192.0.2.{i}:9 --egress on the demo: {v} ({r})",
                        good, False, ok_d))
    bt = text(b, "bpftool-demo.txt") or ""
    check(b, "the kernel's view (bpftool cgroup show): cgroup_skb programs on the demo's cgroup",
          "cgroup_inet_egress" in bt or "egress" in bt, bt.strip().replace("\n", " | ") or
          (text(b, "bpftool-demo.txt.err") or "").strip())

    # The control: the same policy, no drop-in, started after the demo. Its
    # workload stays pending and its first datagrams pass: what enforces the
    # demo is its drop-in, not cgfw-restore.service alone, and the datagrams
    # the demo had refused were refused by cgfw, not by this guest.
    cs, cp = probes(b, "control")
    ca = attachment(lst, CONTROL)
    check(b, "control (same policy, no drop-in): not enforced, its workload still pending; "
          "its first datagrams all sent",
          cp == UNBLOCKED and isinstance(lst, dict) and ca is None
          and norm(cs.get("cgroup")) == CONTROL,
          f"{cp}, in cgroup {cs.get('cgroup')}; attached: {'yes' if ca else 'no'}")


try:
    boot1()
except Exception as e:  # a crash in a check is a failed check, not a traceback
    check(1, "boot 1 checks ran", False, repr(e))
if R2 != "not booted" or os.path.isdir(os.path.join(REC, "boot2")):
    try:
        boot2()
    except Exception as e:
        check(2, "boot 2 checks ran", False, repr(e))
else:
    check(2, "boot 2 ran", False, "not booted (boot 1 failed)")


def timing(boot):
    """Uptimes: systemd started, sysinit.target reached, the driver done."""
    m = re.search(r"exec /lib/systemd/systemd \(uptime ([0-9.]+)s\)", text(boot, "stage2.log") or "")
    si = kv(boot, "sysinit.show").get("ActiveEnterTimestampMonotonic", "")
    up = (text(boot, "uptime.txt") or "?").split()
    return (f"systemd started at {m.group(1) if m else '?'}s uptime, sysinit.target at "
            f"{int(si) / 1e6 if si.isdigit() else '?'}s, driver done at {up[0] if up else '?'}s")


print(f"# cgfw under systemd at boot ({KERNEL}, TCG)\n")
if BREAK:
    print(f"**Self-test, --break {BREAK}: boot 2 was broken on purpose; this run must FAIL.**\n")
print(f"- boot 1: {R1} (wall {S1}s): {timing(1)}")
print(f"- boot 2: {R2} (wall {S2}s): {timing(2)}\n")
print("| boot | check | result | detail |")
print("|---|---|---|---|")
fails = 0
for boot, name, ok, info, detail in results:
    res = "info" if info else ("PASS" if ok else "FAIL")
    if not ok and not info:
        fails += 1
    d = detail.replace("|", "\\|").replace("\n", " ")
    if len(d) > 400:
        d = d[:400] + "..."
    print(f"| {boot} | {name.replace('|', '/')} | {res} | {d} |")
print(f"\n{sum(1 for r in results if not r[3]) - fails}/{sum(1 for r in results if not r[3])} checks passed")
sys.exit(1 if fails else 0)
