#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The OCI hook with a real runtime: runc runs busybox-static containers whose
# config.json calls `cgfw oci-hook createRuntime|poststop` (absolute path, the
# test's state in the hook's env) in a network namespace holding the client
# side of the veth.
#   - io.cgfw.policy=ctr-web: enforced at create, before the container's
#     process runs; it reaches the allowed address and not the denied one;
#     after it exits and `runc delete`, nothing of it is left in bpffs, in
#     `cgfw list` or in $CGFW_STATE_DIR/containers;
#   - no annotation: unaffected, the hook does nothing;
#   - an unknown policy name: `runc run` fails with the hook's one-line message.
source "$(dirname "$0")/lib.sh"
command -v runc >/dev/null || skip "needs runc"
setup
setup_net
start_server 198.51.100.2:8080
start_server 198.51.100.3:8080

RUNC=(runc --root "$WORK/runc")
mkdir -p "$WORK/runc"
make_rootfs "$WORK/rootfs" || fail "cannot build the rootfs"
(cd "$WORK" && runc spec) || fail "runc spec failed"
SCRIPT=$(container_script 198.51.100.2:8080 198.51.100.3:8080)

# make_bundle NAME [POLICY]: a bundle running SCRIPT in cgroup $ID-ctr/NAME.
make_bundle() {
	local b=$WORK/b-$1
	mkdir -p "$b" || return 1
	"$PYTHON" - "$WORK/config.json" "$b/config.json" "$WORK/rootfs" "$SCRIPT" "/$ID-ctr/$1" \
		"/run/netns/$NSC" "$CGFW" "CGFW_STATE_DIR=$CGFW_STATE_DIR" \
		"CGFW_BPFFS_ROOT=$CGFW_BPFFS_ROOT" "${2:-}" "$((20 * H_SCALE))" <<'EOF'
import json, sys
src, dst, rootfs, script, cgpath, netns, cgfw, env1, env2, policy, limit = sys.argv[1:]
c = json.load(open(src))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "-c", script]
c["root"] = {"path": rootfs, "readonly": True}
c["hostname"] = "cgfw-test"
ns = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
ns.append({"type": "network", "path": netns})
c["linux"]["namespaces"] = ns
c["linux"]["cgroupsPath"] = cgpath
hook = lambda stage: [{"path": cgfw, "args": ["cgfw", "oci-hook", stage],
                       "env": [env1, env2], "timeout": int(limit)}]
c["hooks"] = {"createRuntime": hook("createRuntime"), "poststop": hook("poststop")}
if policy:
    c["annotations"] = {"io.cgfw.policy": policy}
json.dump(c, open(dst, "w"), indent=1)
EOF
}

# wait_stopped NAME: until runc says the container stopped (at most 20 s, times H_SCALE).
wait_stopped() {
	local i
	for i in $(seq $((200 * H_SCALE))); do
		"${RUNC[@]}" state "$1" 2>/dev/null | grep -q '"status": "stopped"' && return 0
		sleep 0.1
	done
	fail "container $1 did not stop"
}

one_allow_policy "$WORK/policy.yaml" ctr-web # hook-only: default deny, allow 198.51.100.2 tcp 8080
must cgfw policy apply "$WORK/policy.yaml" >/dev/null
list_before=$(cgfw list --json)
pins_before=$(cd "$CGFW_BPFFS_ROOT" && find . | sort)

# ---- a container with the policy ---------------------------------------------------
make_bundle web ctr-web || fail "cannot make bundle web"
"${RUNC[@]}" create --bundle "$WORK/b-web" web >"$WORK/web.out" 2>"$WORK/web.err" </dev/null ||
	fail "runc create failed: $(cat "$WORK/web.err")"
# Created, not started: the hook has enforced the policy before the process runs.
l=$(cgfw list --json)
expect_container_enforced "at create" "$l" "$ID-ctr/web" web
json_check "policy show lists the container" "$(cgfw policy show --json)" \
	"d['workloads'][0]['containers'] == [{'id': 'web', 'cgroup': '$ID-ctr/web'}]"
# While it runs, its workload cannot be dropped, and re-applying changes nothing.
printf 'workloads: []\n' >"$WORK/empty.yaml"
out=$(cgfw policy apply "$WORK/empty.yaml" 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "a policy without the running container's workload was applied"
assert_contains "the workload of a running container is kept" "$out" \
	"workload 'ctr-web' is used by running container web"
out=$(must cgfw policy apply "$WORK/policy.yaml")
assert_contains "re-apply with a container running" "$out" "applied: 0 rules added, 0 removed"
assert_eq "... and it keeps the container's rules" "$l" "$(cgfw list --json)"

"${RUNC[@]}" start web || fail "runc start failed"
wait_stopped web
out=$(cat "$WORK/web.out")
assert_contains "the container reaches the allowed address" "$out" "198.51.100.2:8080 ok"
assert_contains "the container does not reach the denied one" "$out" "198.51.100.3:8080 blocked"
[ "$(get_from_outside 198.51.100.3:8080)" = "$TOKEN" ] || fail "198.51.100.3 does not answer at all"
"${RUNC[@]}" delete web || fail "runc delete failed"
assert_eq "after delete: list --json as before the container" "$list_before" "$(cgfw list --json)"
assert_eq "after delete: nothing of it in bpffs" "$pins_before" "$(cd "$CGFW_BPFFS_ROOT" && find . | sort)"
[ ! -e "$CGFW_STATE_DIR/containers/web.json" ] || fail "the container record is left after delete"
log "ok: the container record is gone"
json_check "policy show: no container" "$(cgfw policy show --json)" "d['workloads'][0]['containers'] == []"

# ---- a container without the annotation ---------------------------------------------
make_bundle plain || fail "cannot make bundle plain"
"${RUNC[@]}" create --bundle "$WORK/b-plain" plain >"$WORK/plain.out" 2>"$WORK/plain.err" </dev/null ||
	fail "runc create failed: $(cat "$WORK/plain.err")"
assert_eq "no annotation: nothing attached" "$list_before" "$(cgfw list --json)"
"${RUNC[@]}" start plain || fail "runc start failed"
wait_stopped plain
out=$(cat "$WORK/plain.out")
assert_contains "no annotation: reaches .2" "$out" "198.51.100.2:8080 ok"
assert_contains "no annotation: reaches .3" "$out" "198.51.100.3:8080 ok"
"${RUNC[@]}" delete plain || fail "runc delete failed"
assert_eq "no annotation: list unchanged" "$list_before" "$(cgfw list --json)"

# ---- an unknown policy name fails the start ---------------------------------------------
make_bundle nope does-not-exist || fail "cannot make bundle nope"
out=$(timeout 60 "${RUNC[@]}" run --bundle "$WORK/b-nope" nope 2>&1 </dev/null)
rc=$?
[ $rc -ne 0 ] || fail "runc run with an unknown policy succeeded:"$'\n'"$out"
assert_contains "runc reports the hook's message" "$out" \
	"cgfw oci-hook: container nope: unknown policy 'does-not-exist'"
assert_not_contains "the container's process never ran" "$out" "198.51.100"
"${RUNC[@]}" delete --force nope >/dev/null 2>&1
assert_eq "unknown policy: nothing attached" "$list_before" "$(cgfw list --json)"
[ ! -e "$CGFW_STATE_DIR/containers/nope.json" ] || fail "a record for the failed container"
# The hook itself: a non-zero exit and exactly one line on stderr.
state='{"ociVersion":"1.0.2","id":"nope","status":"creating","pid":'$$',"bundle":"'$WORK/b-nope'","annotations":{"io.cgfw.policy":"does-not-exist"}}'
err=$(printf '%s' "$state" | env -i CGFW_STATE_DIR="$CGFW_STATE_DIR" CGFW_BPFFS_ROOT="$CGFW_BPFFS_ROOT" \
	"$CGFW" oci-hook createRuntime 2>&1 >/dev/null)
rc=$?
[ $rc -ne 0 ] || fail "the hook accepted an unknown policy"
assert_eq "the hook's message is one line" 1 "$(printf '%s\n' "$err" | wc -l)"
exit 0
