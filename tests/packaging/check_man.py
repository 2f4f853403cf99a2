#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""cgfw(8) documents the command line the binary has, and nothing else.

    check_man.py CGFW MANDIR [SOURCE_DIR]

The command line is read from the built binary: `cgfw help` (commands and
global options), `cgfw help CMD` (an object's verbs, or a command's usage and
options) and `cgfw help CMD VERB`. The page is MANDIR/man8/cgfw.8 rendered by
mandoc. Checked:

  - every command and verb has an entry in COMMANDS, a line starting with
    "cgfw CMD" or "cgfw CMD VERB", and COMMANDS has no entry for a command or
    verb the binary does not have;
  - every option the help of a command lists is named in that command's
    entry, and the entry's synopsis names no option the command does not take;
  - every option, with the metavar the help gives it, has an entry in OPTIONS
    ("--proto tcp|udp|icmp"), and so has every global option ("-j, --json");
  - the environment variables cgfw reads (and every getenv("CGFW_...") in
    SOURCE_DIR's lib/ and cli/) are in ENVIRONMENT.
"""
import os
import re
import shutil
import subprocess
import sys

ENVIRONMENT = ("CGFW_BPFFS_ROOT", "CGFW_STATE_DIR", "CGFW_DEBUG")
OPTION = re.compile(r"--[a-z][a-z0-9-]*")

failures = []


def fail(msg):
    failures.append(msg)


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(argv)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def section(text, title):
    """The lines of a top-level section ("Commands:") of a help text."""
    out, inside = [], False
    for line in text.splitlines():
        if line == title:
            inside = True
        elif inside and (not line.strip() or not line.startswith(" ")):
            break
        elif inside:
            out.append(line)
    return out


def usage_options(text):
    """[(name, metavar)] from the Usage line(s) of a command's help."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("Usage: "):
        return None
    usage = lines[0][len("Usage: "):]
    for line in lines[1:]:
        if not line.startswith("      "):
            break
        usage += " " + line.strip()
    opts, i = [], 0
    while i < len(usage):
        if usage.startswith("[--", i):
            depth, j = 0, i
            while j < len(usage):
                depth += {"[": 1, "]": -1}.get(usage[j], 0)
                if depth == 0:
                    break
                j += 1
            words = usage[i + 1:j].split(" ", 1)
            opts.append((words[0], words[1] if len(words) > 1 else None))
            i = j + 1
        elif usage.startswith("--", i) and (i == 0 or usage[i - 1] == " ") and \
                usage[i + 2:i + 3] not in ("", " "):
            words = usage[i:].split(" ")
            name, meta = words[0], None
            # A required option: its metavar is the next word if the option
            # list shows the same pair.
            if len(words) > 1 and re.search(r"^  " + re.escape(name + " " + words[1]) + r"( |$)",
                                            text, re.M):
                meta = words[1]
            opts.append((name, meta))
            i += len(name)
        else:
            i += 1
    return opts


def listed_options(text):
    """Option names of the Options: block (its own lines only)."""
    return [m.group(1) for line in section(text, "Options:")
            for m in [re.match(r"  (--[a-z][a-z0-9-]*)", line)] if m]


def read_cli(cgfw):
    top = run([cgfw, "help"])
    commands = [l.split()[0] for l in section(top, "Commands:")]
    if not commands:
        sys.exit("FAIL: no commands in 'cgfw help'")
    globals_ = [l.strip().split("  ")[0] for l in section(top, "Global options:")]
    paths = {}
    for cmd in commands:
        text = run([cgfw, "help", cmd])
        verbs = [l.split()[0] for l in section(text, "Verbs:")]
        if verbs:
            for verb in verbs:
                paths[f"{cmd} {verb}"] = run([cgfw, "help", cmd, verb])
        else:
            paths[cmd] = text
    cli = {}
    for path, text in paths.items():
        opts = usage_options(text)
        if opts is None:
            sys.exit(f"FAIL: 'cgfw help {path}' has no Usage line")
        names = {n for n, _ in opts}
        for n in listed_options(text):
            if n not in names:
                opts.append((n, None))
        cli[path] = opts
    return commands, globals_, cli


def render(page):
    p = subprocess.run(["mandoc", "-Tascii", "-O", "width=1000", page],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode > 1:
        sys.exit(f"FAIL: mandoc {page}: {p.stderr.decode().strip()}")
    # Strip overstriking (bold, underline).
    return re.sub(r".\x08", "", p.stdout.decode())


def man_sections(text):
    secs, cur = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+$", line):
            cur = line
            secs[cur] = []
        elif cur:
            secs[cur].append(line)
    return secs


def entries(lines, head):
    """{head line: [lines of the entry]} for the list items of a section."""
    out, cur = {}, None
    for line in lines:
        m = head.match(line)
        if m:
            cur = line.strip()
            out[cur] = []
        elif cur is not None:
            if re.match(r"^   \S", line):  # a subsection title ends the entry
                cur = None
            else:
                out[cur].append(line)
    return out


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    cgfw, mandir = sys.argv[1], sys.argv[2]
    env_vars = set(ENVIRONMENT)
    if len(sys.argv) == 4:
        for sub in ("lib", "cli"):
            for dirpath, _, files in os.walk(os.path.join(sys.argv[3], sub)):
                for f in files:
                    if f.endswith((".c", ".h")):
                        with open(os.path.join(dirpath, f), errors="replace") as fh:
                            env_vars |= set(re.findall(r'getenv\("(CGFW_[A-Z0-9_]+)"\)',
                                                       fh.read()))
    if not shutil.which("mandoc"):
        print("SKIP: mandoc not installed (scripts/install-deps.sh)")
        return 77
    page = os.path.join(mandir, "man8", "cgfw.8")
    commands, globals_, cli = read_cli(cgfw)
    text = render(page)
    secs = man_sections(text)
    for s in ("COMMANDS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"):
        if s not in secs:
            fail(f"cgfw(8) has no {s} section")
    cmds = entries(secs.get("COMMANDS", []), re.compile(r"^ {5}cgfw [a-z]"))

    known = set(cli)
    objects = {p.split()[0] for p in known if " " in p}

    def entry_of(path):
        want = path.split()
        for head in cmds:
            if head.split()[1:1 + len(want)] == want:
                return head
        return None

    for path, opts in sorted(cli.items()):
        head = entry_of(path)
        if head is None:
            fail(f"cgfw(8) COMMANDS has no entry 'cgfw {path}'")
            continue
        body = head + "\n" + "\n".join(cmds[head])
        named = set(OPTION.findall(body))
        for name, _ in opts:
            if name not in named:
                fail(f"cgfw(8) 'cgfw {path}' does not mention {name}")
        accepted = {n for n, _ in opts}
        for name in OPTION.findall(head):
            if name not in accepted:
                fail(f"cgfw(8) synopsis 'cgfw {path}' names {name}, which "
                     f"'cgfw help {path}' does not list")
    for head in cmds:
        words = head.split()[1:3]
        path = " ".join(words) if words[0] in objects else words[0]
        if path not in known:
            fail(f"cgfw(8) documents 'cgfw {path}', which 'cgfw help' does not list")

    opt_heads = [l.strip() for l in secs.get("OPTIONS", []) if re.match(r"^ {5}-", l)]
    all_opts = {(n, m) for opts in cli.values() for n, m in opts}
    for name, meta in sorted(all_opts, key=lambda x: (x[0], x[1] or "")):
        want = name + (" " + meta if meta else "")
        if not any(h == want or h.startswith(want + " ") for h in opt_heads):
            fail(f"cgfw(8) OPTIONS has no entry '{want}'")
    for g in globals_:
        if not any(h == g or h.startswith(g + " ") for h in opt_heads):
            fail(f"cgfw(8) OPTIONS has no entry for the global option '{g}'")
    env = "\n".join(secs.get("ENVIRONMENT", []))
    for v in sorted(env_vars):
        if not re.search(r"^ {5}" + v + r"\b", env, re.M):
            fail(f"cgfw(8) ENVIRONMENT does not describe {v}")

    if failures:
        for f in failures:
            print("FAIL:", f)
        print(f"FAIL: cgfw(8) and 'cgfw help' disagree ({len(failures)}); "
              "edit docs/man/cgfw.8.in")
        return 1
    nopts = len({n for n, _ in all_opts})
    print(f"ok: cgfw(8) documents {len(commands)} commands, {len(cli)} commands and verbs, "
          f"{nopts} options and {len(globals_)} global options of 'cgfw help'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
