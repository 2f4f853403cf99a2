#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `cgfw oci-hook` driven directly with OCI state documents, for the cases a
# runtime run does not reach easily:
#   - the cgroup from /proc/PID/cgroup, and without a pid from the bundle's
#     linux.cgroupsPath (cgroupfs and systemd "slice:prefix:name" forms);
#   - the hook run twice for one container (createRuntime and prestart both
#     configured): poststop still removes everything;
#   - bad stages and bad documents: a non-zero exit, one line on stderr,
#     nothing changed;
#   - a container cgroup attached before the hook gets back what it had.
source "$(dirname "$0")/lib.sh"
setup

one_allow_policy "$WORK/policy.yaml" ctr # hook-only: default deny, allow 198.51.100.2 tcp 8080
must cgfw policy apply "$WORK/policy.yaml" >/dev/null
list_before=$(cgfw list --json)
pins_before=$(cd "$CGFW_BPFFS_ROOT" && find . | sort)

# hook STAGE JSON: run the hook as a runtime does (empty environment but the state).
hook() {
	printf '%s' "$2" | env -i CGFW_STATE_DIR="$CGFW_STATE_DIR" CGFW_BPFFS_ROOT="$CGFW_BPFFS_ROOT" \
		"$CGFW" oci-hook $1
}

# A process standing in for the container's init, in its own cgroup.
start_init() { # CGROUP_REL
	mkdir -p "$CG2/$1" || fail "cannot create $CG2/$1"
	bg /dev/null sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 60' sh "$CG2/$1"
	INIT=$BGPID
	for _ in $(seq 50); do
		grep -q "^0::/$1\$" "/proc/$INIT/cgroup" 2>/dev/null && return 0
		sleep 0.02
	done
	fail "the init stand-in did not join $1"
}

attachment_of() { # JSON CGROUP_REL -> "ingress egress" defaults, or nothing
	"$PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1])
print(" ".join(a["default_ingress"] + " " + a["default_egress"] for a in d["attachments"] if a["cgroup"] == sys.argv[2]))' "$1" "$2"
}

expect_enforced() { # DESC CGROUP_REL
	local l
	l=$(cgfw list --json)
	assert_eq "$1: attached, default deny" "deny deny" "$(attachment_of "$l" "$2")"
	json_check "$1: its rule" "$l" \
		"[(r['prefix'], r['ports'], r['origin']) for r in d['rules'] if r['cgroup'] == '$2'] == [('198.51.100.2', 8080, 'policy')]"
}

expect_clean() { # DESC ID
	assert_eq "$1: list --json as before" "$list_before" "$(cgfw list --json)"
	assert_eq "$1: nothing left in bpffs" "$pins_before" "$(cd "$CGFW_BPFFS_ROOT" && find . | sort)"
	[ ! -e "$CGFW_STATE_DIR/containers/$2.json" ] || fail "$1: the record of $2 is left"
}

# ---- the cgroup from /proc/PID/cgroup ----------------------------------------------------
start_init "$ID-ctr/a"
must hook createRuntime '{"ociVersion":"1.0.2","id":"a","status":"creating","pid":'$INIT',"bundle":"/nonexistent","annotations":{"io.cgfw.policy":"ctr"}}' >/dev/null
expect_enforced "from /proc/PID/cgroup" "$ID-ctr/a"
must hook poststop '{"ociVersion":"1.0.2","id":"a","status":"stopped","bundle":"/nonexistent","annotations":{"io.cgfw.policy":"ctr"}}' >/dev/null
expect_clean "poststop of a" a
kill "$INIT" 2>/dev/null

# ---- without a pid: the bundle's linux.cgroupsPath -----------------------------------------
mkdir -p "$WORK/bundle" "$CG2/$ID-ctr/b" "$CG2/$ID-ctr/cgfw-c.scope"
printf '{"ociVersion":"1.0.2","linux":{"cgroupsPath":"/%s"}}\n' "$ID-ctr/b" >"$WORK/bundle/config.json"
# (no "status": the stage argument decides)
must hook createRuntime '{"id":"b","bundle":"'"$WORK/bundle"'","annotations":{"io.cgfw.policy":"ctr"}}' >/dev/null
expect_enforced "from linux.cgroupsPath" "$ID-ctr/b"
must hook poststop '{"id":"b","bundle":"'"$WORK/bundle"'","annotations":{"io.cgfw.policy":"ctr"}}' >/dev/null
expect_clean "poststop of b" b
printf '{"linux":{"cgroupsPath":"%s:cgfw:c"}}\n' "$ID-ctr" >"$WORK/bundle/config.json"
must hook createRuntime '{"id":"c","bundle":"'"$WORK/bundle"'","annotations":{"io.cgfw.policy":"ctr"}}' >/dev/null
expect_enforced "from a systemd cgroupsPath" "$ID-ctr/cgfw-c.scope"
must hook poststop '{"id":"c","status":"stopped"}' >/dev/null
expect_clean "poststop of c" c

# ---- the hook configured twice (createRuntime and prestart) ------------------------------------
start_init "$ID-ctr/d"
state='{"ociVersion":"1.0.2","id":"d","status":"created","pid":'$INIT',"annotations":{"io.cgfw.policy":"ctr"}}'
must hook createRuntime "$state" >/dev/null
must hook prestart "$state" >/dev/null
expect_enforced "hook run twice" "$ID-ctr/d"
must hook poststop '{"id":"d","status":"stopped"}' >/dev/null
expect_clean "poststop after the hook ran twice" d
kill "$INIT" 2>/dev/null

# ---- bad input: a non-zero exit, one line, nothing changed ---------------------------------------
start_init "$ID-ctr/e"
for bad in \
	"bogus|{\"id\":\"e\",\"pid\":$INIT,\"annotations\":{\"io.cgfw.policy\":\"ctr\"}}|unsupported hook stage" \
	"createRuntime|{\"id\":\"e\",\"pid\":$INIT,\"annotations\":{\"io.cgfw.policy\":\"nope\"}}|unknown policy 'nope'" \
	"createRuntime|{\"id\":\"../e\",\"pid\":$INIT,\"annotations\":{\"io.cgfw.policy\":\"ctr\"}}|invalid container id" \
	"createRuntime|{\"id\":\"e\",\"pid\":$INIT,\"annotations\":{\"io.cgfw.policy\":\"../ctr\"}}|invalid policy name" \
	"createRuntime|{\"id\":\"e\",\"annotations\":{\"io.cgfw.policy\":\"ctr\"}}|cannot find its cgroup" \
	"createRuntime|{\"id\":\"e\",\"pid\":$INIT,\"annotations\":{\"io.cgfw.policy\":\"ctr\"}|not JSON"; do
	IFS='|' read -r stage doc msg <<<"$bad"
	err=$(hook "$stage" "$doc" 2>&1 >/dev/null)
	rc=$?
	[ $rc -ne 0 ] || fail "hook $stage accepted: $doc"
	assert_contains "bad input ($msg): the message" "$err" "$msg"
	assert_eq "bad input ($msg): one line" 1 "$(printf '%s\n' "$err" | wc -l)"
done
expect_clean "after bad input" e
kill "$INIT" 2>/dev/null

# ---- a cgroup attached before the container ------------------------------------------------
# The container's cgroup was attached already (by hand): createRuntime
# changes its defaults and adds the workload's rules; poststop must remove
# those and put the defaults back, keeping the attachment.
mkdir -p "$CG2/$ID-ctr/f"
must cgfw attach "$ID-ctr/f" >/dev/null
before=$(cgfw list --json)
start_init "$ID-ctr/f"
must hook createRuntime '{"id":"f","pid":'$INIT',"annotations":{"io.cgfw.policy":"ctr"}}' >/dev/null
expect_enforced "pre-attached cgroup" "$ID-ctr/f"
must hook poststop '{"id":"f","status":"stopped"}' >/dev/null
assert_eq "pre-attached cgroup: poststop restores it as it was" "$before" "$(cgfw list --json)"
kill "$INIT" 2>/dev/null
exit 0
