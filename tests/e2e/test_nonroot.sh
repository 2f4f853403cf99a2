#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Not root, with a policy in force: every read command is refused with exit 1
# and one line on stderr saying cgfw needs root ({"error": ...} with --json),
# prints nothing on stdout (no empty listing passed off as success), and
# changes nothing (the state as root is the same before and after).
source "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
setup
h_cgfw_netns "$NSS" # the interface programs are attached in the server netns
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# The policy file where nobody can read it (WORK is 0700): the refusal must
# come from the state, not from the file. Removed with the run ($WORK.*).
PUB=$WORK.pub
mkdir -m 755 "$PUB" || fail "cannot create $PUB"
POL=$PUB/policy.yaml
cat >"$POL" <<EOF
version: 1
workloads:
  - name: app
    cgroup: $CG_REL
    default: deny
    egress:
      - allow: 198.51.100.2
        proto: tcp
        ports: 8080
    ingress:
      - allow: 198.51.100.0/24
EOF
chmod 644 "$POL"
"${NOBODY[@]}" test -r "$POL" || fail "nobody cannot read $POL"

must cgfw policy apply "$POL"
must cgfw block 203.0.113.7 --cgroup "$CG"
must in_ns "$NSS" "$CGFW" tc attach veth1
must in_ns "$NSS" "$CGFW" tproxy add --dst 203.0.113.0/24 --proto tcp --ports 80 --to 127.0.0.1:9000
# The policy changed since apply, so that diff has something to say as root.
sed -i 's/ports: 8080/ports: 8081/' "$POL"

# snapshot: the state as root, without the counters that traffic moves.
snapshot() {
	{
		cgfw list --json
		cgfw policy show --json
		in_ns "$NSS" "$CGFW" tc list --json | "$PYTHON" -c '
import json, sys; d = json.load(sys.stdin); d.pop("counters", None); print(json.dumps(d["interfaces"]))'
		in_ns "$NSS" "$CGFW" tproxy list --json | "$PYTHON" -c '
import json, sys; print(json.dumps([{k: v for k, v in r.items() if k not in ("packets", "bytes")}
                                    for r in json.load(sys.stdin)["rules"]]))'
	} 2>&1
}
before=$(snapshot)
json_check "as root: the workload is enforced" "$(cgfw list --json)" \
	"any(r['origin'] != 'manual' for r in d['rules']) and any(r['origin'] == 'manual' for r in d['rules'])"
out=$(cgfw policy diff "$POL" 2>&1)
assert_contains "as root: policy diff sees the edit" "$out" "8081"

# refused [-n NETNS] CGFW-ARGS...: as nobody (in NETNS if given), exit 1,
# nothing on stdout, one stderr line that says root; with --json that line
# is {"error": "..."}.
refused() {
	local -a pre=()
	local rc err lines json=""
	if [ "$1" = -n ]; then
		pre=(nsenter --net="/run/netns/$2")
		shift 2
	fi
	[[ " $* " == *" --json "* ]] && json=1
	"${pre[@]}" timeout -k 5 $((20 * H_SCALE)) "${NOBODY[@]}" "$CGFW" "$@" \
		>"$WORK/nr.out" 2>"$WORK/nr.err" </dev/null
	rc=$?
	err=$(cat "$WORK/nr.err")
	lines=$(grep -c '' "$WORK/nr.err")
	if [ "$rc" != 1 ]; then
		not_ok "cgfw $* as nobody: exit $rc, expected 1"
		sed 's/^/#   stdout| /' "$WORK/nr.out"
		sed 's/^/#   stderr| /' "$WORK/nr.err"
		return
	fi
	if [ -s "$WORK/nr.out" ]; then
		not_ok "cgfw $* as nobody: exit 1 but output on stdout"
		sed 's/^/#   stdout| /' "$WORK/nr.out"
		return
	fi
	if [ "$lines" != 1 ] || [[ $err != *root* ]]; then
		not_ok "cgfw $* as nobody: not one stderr line saying root ($lines lines)"
		sed 's/^/#   stderr| /' "$WORK/nr.err"
		return
	fi
	if [ -n "$json" ] && ! printf '%s' "$err" | "$PYTHON" -c '
import json, sys; d = json.load(sys.stdin)
assert isinstance(d, dict) and list(d) == ["error"] and "root" in d["error"]' 2>/dev/null; then
		not_ok "cgfw $* as nobody: stderr is not one {\"error\": ...} object: $err"
		return
	fi
	ok "cgfw $* as nobody: exit 1: $err"
}

refused list
refused list --json
refused status
refused status --json
refused seen
refused seen --json
refused policy show
refused policy show --json
refused policy diff "$POL"
refused explain tcp 192.0.2.1:80 --cgroup "$CG" --egress
refused explain tcp 198.51.100.2:8080 --cgroup "$CG_REL" --egress --json
refused -n "$NSS" tc list
refused -n "$NSS" tc list --json
refused -n "$NSS" tproxy list
refused -n "$NSS" inbound list
refused -n "$NSS" redirect list
refused -n "$NSS" redirect list --json
refused -n "$NSS" explain tcp 203.0.113.5:80 --iface veth1
if "$CGFW" help metrics >/dev/null 2>&1; then
	refused metrics
else
	ok "# skip: this cgfw has no metrics command"
fi
refused monitor --count 1
refused monitor --count 1 --json

after=$(snapshot)
if [ "$after" = "$before" ]; then
	ok "the state as root is unchanged"
else
	not_ok "the state changed:"
	diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/#   /'
fi
finish
