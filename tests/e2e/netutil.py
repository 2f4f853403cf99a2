#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""TCP/UDP echo server and client for the cgfw end-to-end tests.

Both sides are bounded in time: the server exits after --lifetime seconds,
every client attempt after --timeout seconds. Only the addresses the test
passes are used; the tests give their namespaces no route out.

  serve   --tcp ADDR:PORT ... --udp ADDR:PORT ... [--ready FILE] [--log FILE]
  connect --proto tcp|udp --addr ADDR --port PORT [--source ADDR]
          [--count N] [--timeout S]

connect exit status: 0 every attempt got its echo back; 2 every attempt was
stopped the way a firewall stops it (no answer within the timeout, or EPERM
from the kernel); 3 anything else (connection refused, no route, a mix).
It prints one line per attempt on stdout and a summary line on stderr.
"""
import argparse
import errno
import ipaddress
import os
import selectors
import socket
import sys
import threading
import time

OK, BLOCKED, OTHER = 0, 2, 3


def split_hostport(s):
    host, _, port = s.rpartition(":")
    host = host.strip("[]")
    return host, int(port)


# Network safety: the only addresses these tools will ever use.
SAFE_NETS = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128", "192.0.2.0/24",
                                               "198.51.100.0/24", "203.0.113.0/24",
                                               "2001:db8::/32")]


def check_safe(addr):
    a = ipaddress.ip_address(addr)
    if not any(a in n for n in SAFE_NETS):
        sys.exit("netutil: refusing address %s: outside the test ranges" % addr)
    return addr


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def log_line(path, lock, line):
    if not path:
        return
    with lock:
        with open(path, "a") as f:
            f.write(line + "\n")


def serve_tcp_conn(conn, peer, local, args, lock):
    try:
        conn.settimeout(2.0)
        data = b""
        while not data.endswith(b"\n") and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        conn.sendall(data)
        log_line(args.log, lock, "tcp %s:%d <- %s:%d %d" % (local[0], local[1], peer[0],
                                                           peer[1], len(data)))
    except OSError as e:
        log_line(args.log, lock, "tcp %s:%d <- %s:%d error %s" % (local[0], local[1], peer[0],
                                                                 peer[1], e))
    finally:
        conn.close()


def cmd_serve(args):
    sel = selectors.DefaultSelector()
    lock = threading.Lock()
    socks = []
    for spec in args.tcp or []:
        host, port = split_hostport(spec)
        check_safe(host)
        s = socket.socket(family_of(host), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "tcp")
        socks.append(s)
    for spec in args.udp or []:
        host, port = split_hostport(spec)
        check_safe(host)
        s = socket.socket(family_of(host), socket.SOCK_DGRAM)
        s.bind((host, port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "udp")
        socks.append(s)
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(args.ready + ".tmp", args.ready)

    deadline = time.monotonic() + args.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(timeout=min(left, 1.0)):
            s = key.fileobj
            local = s.getsockname()
            if key.data == "tcp":
                try:
                    conn, peer = s.accept()
                except OSError:
                    continue
                conn.setblocking(True)
                threading.Thread(target=serve_tcp_conn, args=(conn, peer, local, args, lock),
                                 daemon=True).start()
            else:
                try:
                    data, peer = s.recvfrom(65536)
                    s.sendto(data, peer)
                except OSError as e:
                    log_line(args.log, lock, "udp %s:%d error %s" % (local[0], local[1], e))
                    continue
                log_line(args.log, lock, "udp %s:%d <- %s:%d %d" % (local[0], local[1],
                                                                   peer[0], peer[1], len(data)))
    for s in socks:
        s.close()
    return 0


def attempt(args, i):
    """One connection (TCP) or one datagram exchange (UDP): OK, BLOCKED or OTHER."""
    fam = family_of(args.addr)
    kind = socket.SOCK_STREAM if args.proto == "tcp" else socket.SOCK_DGRAM
    payload = ("cgfw-e2e %d %s\n" % (i, "x" * args.size)).encode()
    s = socket.socket(fam, kind)
    s.settimeout(args.timeout)
    try:
        if args.source:
            s.bind((args.source, 0))
        s.connect((args.addr, args.port))
        if args.proto == "tcp":
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        else:
            s.send(payload)
            got = s.recv(65536)
        if got != payload:
            return OTHER, "short or wrong echo (%d of %d bytes)" % (len(got), len(payload))
        return OK, "echo ok"
    except socket.timeout:
        return BLOCKED, "timed out after %.1fs" % args.timeout
    except OSError as e:
        if e.errno == errno.EPERM:
            return BLOCKED, "EPERM (dropped by a cgroup program)"
        return OTHER, "%s" % (e.strerror or e)
    finally:
        s.close()


def cmd_connect(args):
    results = []
    for i in range(args.count):
        code, why = attempt(args, i)
        results.append(code)
        print("%s %s port %d/%s: %s" % ({OK: "ok", BLOCKED: "blocked", OTHER: "error"}[code],
                                        args.addr, args.port, args.proto, why))
        sys.stdout.flush()
    n_ok, n_blk = results.count(OK), results.count(BLOCKED)
    sys.stderr.write("netutil: %s %s port %d: %d ok, %d blocked, %d other\n" %
                     (args.proto, args.addr, args.port, n_ok, n_blk,
                      len(results) - n_ok - n_blk))
    if n_ok == len(results):
        return OK
    if n_blk == len(results):
        return BLOCKED
    return OTHER


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--tcp", action="append", metavar="ADDR:PORT")
    s.add_argument("--udp", action="append", metavar="ADDR:PORT")
    s.add_argument("--lifetime", type=float, default=170.0)
    s.add_argument("--ready")
    s.add_argument("--log")
    c = sub.add_parser("connect")
    c.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    c.add_argument("--addr", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--source")
    c.add_argument("--count", type=int, default=1)
    c.add_argument("--timeout", type=float, default=1.0)
    c.add_argument("--size", type=int, default=16, help="payload filler bytes")
    args = p.parse_args()
    if args.cmd == "serve":
        return cmd_serve(args)
    check_safe(args.addr)
    if args.source:
        check_safe(args.source)
    args.count = max(1, min(args.count, 1000))
    args.timeout = max(0.1, min(args.timeout, 10.0))
    return cmd_connect(args)


if __name__ == "__main__":
    sys.exit(main())
