# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The metrics suite (tests/metrics/test_*.sh) on the shared harness,
# tests/lib/harness.sh (names, reaper, trap, pins, asserts):
#
#   bash test_NAME.sh PATH_TO_CGFW
#
# The topology is the e2e suite's (tests/e2e/lib.sh): a cgroup ($CG) and two
# network namespaces joined by a veth, no route out of either:
#
#   $NSC (client)                          $NSS (server)
#   veth0 198.51.100.1/24  <-- veth -->    veth1 198.51.100.2/24, 198.51.100.3/24
#
# HTTP (cgfw metrics --listen, Prometheus) only on 127.0.0.1 / ::1 of the
# host's own namespace. Every wait is bounded.

# shellcheck source=tests/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

h_init metrics "${1:-}"
shift
h_need_peer

NSC=$H_NAME-c
NSS=$H_NAME-s

setup() {
	h_setup
	h_pair "$NSC" veth0 "$NSS" veth1
	h_addr "$NSC" veth0 198.51.100.1/24
	h_addr "$NSS" veth1 198.51.100.2/24 198.51.100.3/24
	h_check_routes || fail "refusing to send traffic"
	log "cgroup $CG, netns $NSC/$NSS, state $CGFW_BPFFS_ROOT"
}

# from_cg CG PROTO ADDR PORT [connect options]: from a process in cgroup CG
# (created if needed) and the client netns.
from_cg() {
	local cg=$1
	shift
	"$CGFW" exec --cgroup "$cg" -- nsenter --net="/run/netns/$NSC" \
		"$PEER" connect "$@" --timeout "${CONNECT_TIMEOUT:-1}"
}

# start_server TAG SERVE-ARGS...: an echo server in the server netns.
start_server() {
	local tag=$1
	shift
	bg -n "$NSS" "$WORK/$tag.log" "$PEER" serve --timeout "${SERVER_LIFETIME:-90}" "$@"
	h_wait_ready "$WORK/$tag.log" "$BGPID"
}

# free_port: a TCP port of 127.0.0.1 nobody listens on now (the kernel's
# choice; a caller that loses a race tries again).
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_metrics: `cgfw metrics --listen 127.0.0.1:PORT` in the background,
# returned once it serves; $MPORT, $MPID. A port taken meanwhile: another.
start_metrics() {
	local try
	for try in 1 2 3 4 5; do
		MPORT=$(free_port) || fail "no free port"
		bg "$WORK/metrics.log" "$CGFW" metrics --listen "127.0.0.1:$MPORT"
		MPID=$BGPID
		for _ in $(seq 50); do
			grep -q 'serving metrics' "$WORK/metrics.log" 2>/dev/null && return 0
			kill -0 "$MPID" 2>/dev/null || break
			sleep 0.1
		done
		grep -q 'Address already in use' "$WORK/metrics.log" || break
		log "port $MPORT was taken (try $try)"
	done
	fail "cgfw metrics --listen did not start:"$'\n'"$(sed 's/^/  | /' "$WORK/metrics.log")"
}

# http METHOD URL [BODY]: prints "STATUS", the headers as "name: value" lines
# (names in lower case), a blank line and the body; bounded by 10 s. No
# answer at all (refused, reset, timed out): status 000.
http() {
	"$PYTHON" - "$@" <<'EOF'
import sys, urllib.error, urllib.request
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=data, method=method)
try:
    r = urllib.request.urlopen(req, timeout=10)
except urllib.error.HTTPError as e:
    r = e
except (urllib.error.URLError, OSError) as e:  # refused, reset, timed out
    print("000\n\n%s" % e)
    sys.exit(0)
try:
    body = r.read()
    print(r.status if hasattr(r, "status") else r.code)
    for k, v in r.headers.items():
        print("%s: %s" % (k.lower(), v))
    print()
    sys.stdout.flush()
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
except BrokenPipeError:  # a reader that wanted only the status line
    sys.stderr.close()
EOF
}

# sample FILE NAME LABELS: the value of the sample NAME{LABELS} (LABELS as a
# Python dict literal, matched exactly) in an exposition file; "absent" if
# there is none.
sample() {
	"$PYTHON" - "$@" <<'EOF'
import ast, re, sys
path, name, want = sys.argv[1], sys.argv[2], ast.literal_eval(sys.argv[3])
lab = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)
for line in open(path, encoding="utf-8"):
    if line.startswith("#"):
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', line.rstrip("\n"))
    if not m or m.group(1) != name:
        continue
    labels = {k: unescape(v) for k, v in lab.findall(m.group(2) or "")}
    if labels == want:
        print(m.group(3))
        break
else:
    print("absent")
EOF
}
