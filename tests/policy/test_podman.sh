#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The OCI hook with podman: an image imported from a busybox-static rootfs,
# podman with private storage under /tmp, the cgroupfs manager and
# --hooks-dir holding the shipped oci-hooks(5) file
# (packaging/oci/cgfw-hook.json.in, with the test's cgfw and state in env),
# containers in a network namespace holding the client side of the veth.
#   - --annotation io.cgfw.policy=ctr-web: enforced once the runtime created
#     the container (podman init), before its process runs; reaches the allowed
#     address and not the denied one; after `podman rm` nothing of it is left;
#   - no annotation: the hook does not match, the container is unaffected;
#   - an unknown policy name: the start fails with the hook's one-line message.
source "$(dirname "$0")/lib.sh"
command -v podman >/dev/null || skip "needs podman"
command -v runc >/dev/null || skip "needs runc (podman's runtime here)"
setup
setup_net
start_server 198.51.100.2:8080
start_server 198.51.100.3:8080

mkdir -p "$WORK/podman/root" "$WORK/podman/run" "$WORK/podman/tmp" "$WORK/hooks"
# No CAP_SYS_RESOURCE here: podman's default limits (nofile 1048576) cannot be set.
PODMAN=(timeout 120 podman --root "$WORK/podman/root" --runroot "$WORK/podman/run"
	--tmpdir "$WORK/podman/tmp" --storage-driver vfs --cgroup-manager cgroupfs
	--events-backend none --runtime runc --hooks-dir "$WORK/hooks")
RUN_OPTS=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --network "ns:/run/netns/$NSC"
	--cgroup-parent "/$ID-ctr")
IMAGE=localhost/cgfw-busybox:test

# The hook file we ship, pointed at the cgfw under test and the test's state.
"$PYTHON" - "$SRC_DIR/packaging/oci/cgfw-hook.json.in" "$WORK/hooks/cgfw.json" "$CGFW" \
	"CGFW_STATE_DIR=$CGFW_STATE_DIR" "CGFW_BPFFS_ROOT=$CGFW_BPFFS_ROOT" <<'EOF' ||
import json, sys
src, dst, cgfw, env1, env2 = sys.argv[1:]
text = open(src).read()
assert "@CMAKE_INSTALL_FULL_SBINDIR@/cgfw" in text
h = json.loads(text.replace("@CMAKE_INSTALL_FULL_SBINDIR@/cgfw", cgfw))
h["hook"]["env"] = [env1, env2]
json.dump(h, open(dst, "w"), indent=1)
EOF
	fail "cannot write the hooks file"

make_rootfs "$WORK/rootfs" || fail "cannot build the rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" . || fail "cannot tar the rootfs"
out=$("${PODMAN[@]}" import "$WORK/rootfs.tar" "$IMAGE" 2>&1) || fail "podman import failed: $out"
SCRIPT=$(container_script 198.51.100.2:8080 198.51.100.3:8080)

one_allow_policy "$WORK/policy.yaml" ctr-web # hook-only: default deny, allow 198.51.100.2 tcp 8080
must cgfw policy apply "$WORK/policy.yaml" >/dev/null
list_before=$(cgfw list --json)
pins_before=$(cd "$CGFW_BPFFS_ROOT" && find . | sort)

# ---- a container with the policy ---------------------------------------------------
CTR=$("${PODMAN[@]}" create --name "$ID-web" "${RUN_OPTS[@]}" \
	--annotation io.cgfw.policy=ctr-web "$IMAGE" /bin/sh -c "$SCRIPT" 2>"$WORK/create.err") ||
	fail "podman create failed: $(cat "$WORK/create.err")"
out=$("${PODMAN[@]}" init "$ID-web" 2>&1) || fail "podman init failed: $out"
# The runtime created it and ran createRuntime; its process has not run.
CG_CTR="$ID-ctr/libpod-$CTR"
[ -d "$CG2/$CG_CTR" ] || fail "no cgroup $CG2/$CG_CTR for the container"
expect_container_enforced "at init" "$(cgfw list --json)" "$CG_CTR" "$CTR"
out=$("${PODMAN[@]}" start -a "$ID-web" 2>&1) || fail "podman start failed: $out"
assert_contains "the container reaches the allowed address" "$out" "198.51.100.2:8080 ok"
assert_contains "the container does not reach the denied one" "$out" "198.51.100.3:8080 blocked"
[ "$(get_from_outside 198.51.100.3:8080)" = "$TOKEN" ] || fail "198.51.100.3 does not answer at all"
out=$("${PODMAN[@]}" rm "$ID-web" 2>&1) || fail "podman rm failed: $out"
assert_eq "after rm: list --json as before the container" "$list_before" "$(cgfw list --json)"
assert_eq "after rm: nothing of it in bpffs" "$pins_before" "$(cd "$CGFW_BPFFS_ROOT" && find . | sort)"
[ ! -e "$CGFW_STATE_DIR/containers/$CTR.json" ] || fail "the container record is left after rm"
log "ok: the container record is gone"

# ---- the same with podman run --rm ---------------------------------------------------
out=$("${PODMAN[@]}" run --rm "${RUN_OPTS[@]}" --annotation io.cgfw.policy=ctr-web "$IMAGE" \
	/bin/sh -c "$SCRIPT" 2>&1) || fail "podman run failed: $out"
assert_contains "run --rm: allowed" "$out" "198.51.100.2:8080 ok"
assert_contains "run --rm: denied" "$out" "198.51.100.3:8080 blocked"
assert_eq "run --rm: list --json as before" "$list_before" "$(cgfw list --json)"
assert_eq "run --rm: no record left" "" "$(ls "$CGFW_STATE_DIR/containers")"

# ---- a container without the annotation ----------------------------------------------
out=$("${PODMAN[@]}" run --rm "${RUN_OPTS[@]}" "$IMAGE" /bin/sh -c "$SCRIPT" 2>&1) ||
	fail "podman run failed: $out"
assert_contains "no annotation: reaches .2" "$out" "198.51.100.2:8080 ok"
assert_contains "no annotation: reaches .3" "$out" "198.51.100.3:8080 ok"
assert_eq "no annotation: list unchanged" "$list_before" "$(cgfw list --json)"

# ---- an unknown policy name fails the start --------------------------------------------
out=$("${PODMAN[@]}" run --rm "${RUN_OPTS[@]}" --annotation io.cgfw.policy=does-not-exist \
	"$IMAGE" /bin/sh -c "$SCRIPT" 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "podman run with an unknown policy succeeded:"$'\n'"$out"
assert_contains "podman reports the hook's message" "$out" "unknown policy 'does-not-exist'"
assert_not_contains "the container's process never ran" "$out" "8080 ok"
assert_eq "unknown policy: nothing attached" "$list_before" "$(cgfw list --json)"
assert_eq "unknown policy: no record" "" "$(ls "$CGFW_STATE_DIR/containers")"
exit 0
