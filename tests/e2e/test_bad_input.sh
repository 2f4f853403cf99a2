#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input: exit status 2, exactly one line on stderr naming the input, and
# nothing changed (`cgfw list --json` byte-identical before and after).
source "$(dirname "$0")/lib.sh"
setup

must cgfw attach "$CG"
must cgfw block 198.51.100.7 --cgroup "$CG"
must cgfw allow 2001:db8::7 --proto tcp --port 443 --cgroup "$CG"
before=$(cgfw list --json) || fail "cgfw list --json failed"
status_before=$(cgfw status --json | sed 's/"packets":.*//') || fail "cgfw status failed"

# expect_bad NAMED-TEXT CGFW-ARGS...: exit 2, one stderr line containing
# NAMED-TEXT, no state change.
expect_bad() {
	local named=$1 rc err lines after
	shift
	err=$(cgfw "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 2 ] || fail "cgfw $*: expected exit 2, got $rc (stderr: $err)"
	lines=$(printf '%s\n' "$err" | grep -c '')
	[ -n "$err" ] && [ "$lines" -eq 1 ] ||
		fail "cgfw $*: expected one line on stderr, got $lines:"$'\n'"$err"
	[[ $err == *"$named"* ]] || fail "cgfw $*: stderr does not name '$named': $err"
	after=$(cgfw list --json) || fail "cgfw list --json failed after cgfw $*"
	[ "$after" = "$before" ] ||
		fail "cgfw $*: state changed:"$'\n'"before: $before"$'\n'"after:  $after"
	log "ok: cgfw $* -> exit 2: $err"
}

expect_bad "'300.1.2.3'" block 300.1.2.3 --cgroup "$CG"
expect_bad "'10.0.0.0/33'" block 10.0.0.0/33 --cgroup "$CG"
expect_bad "'::g'" block ::g --cgroup "$CG"
expect_bad "'2001:db8::/129'" block 2001:db8::/129
expect_bad "'0'" block 198.51.100.2 --proto tcp --port 0 --cgroup "$CG"
expect_bad "'9-5'" block 198.51.100.2 --proto tcp --port 9-5 --cgroup "$CG"
expect_bad "'70000'" block 198.51.100.2 --proto udp --port 70000 --cgroup "$CG"
expect_bad "'80'" block 198.51.100.2 --port 80 --cgroup "$CG" # --port needs --proto
expect_bad "'sctpx'" block 198.51.100.2 --proto sctpx --cgroup "$CG"
expect_bad "'--frobnicate'" block 198.51.100.2 --frobnicate --cgroup "$CG"
expect_bad "'--frobnicate'" list --frobnicate
expect_bad "'--cgroup'" block 198.51.100.2 --cgroup
expect_bad "'maybe'" default maybe --cgroup "$CG"
expect_bad "'frobnicate'" frobnicate

missing="$CG_REL-missing"
expect_bad "'$missing'" block 198.51.100.2 --cgroup "$missing"
expect_bad "'$missing'" attach "$missing"
expect_bad "'$CG2/$missing'" attach "$CG2/$missing"
expect_bad "'$missing'" default deny --cgroup "$missing"
[ ! -e "$CG2/$missing" ] || fail "a failed command created $CG2/$missing"

v1=$(cgroup1_mount)
if [ -n "$v1" ]; then
	expect_bad "'$v1'" attach "$v1"
	expect_bad "'$v1'" block 198.51.100.2 --cgroup "$v1"
	# The message names the v2 mount so the user knows where to look.
	err=$(cgfw attach "$v1" 2>&1)
	[[ $err == *"$CG2"* ]] || fail "v1 error does not name the cgroup2 mount $CG2: $err"
	log "ok: the v1 error names the cgroup2 mount"
else
	log "skip: no cgroup v1 hierarchy mounted on this host"
fi

# A bad line in the middle of a file: nothing of the file is applied, not
# even the good lines before it.
f="$WORK/bad-list.txt"
{
	echo "# blocklist with a typo on line 5"
	for i in 10 11 12; do echo "198.51.100.$i"; done
	echo "198.51.100.300"
	for i in 13 14 15; do echo "198.51.100.$i"; done
} >"$f"
expect_bad "$f:5" block --from-file "$f" --cgroup "$CG"
# The line is named, its content never echoed (a list option may name a file that is no list).
expect_bad "not an address or prefix" block --from-file "$f" --cgroup "$CG"
err=$(cgfw block --from-file "$f" --cgroup "$CG" 2>&1)
[[ $err != *198.51.100.300* ]] || fail "the list's content is echoed: $err"
expect_bad "$f:5" block --from-file "$f"
expect_bad "$f:5" unblock --from-file "$f" --cgroup "$CG"
printf '2001:db8::10\n2001:db8::11/200\n' >"$f"
expect_bad "$f:2" allow --from-file "$f" --cgroup "$CG"

status_after=$(cgfw status --json | sed 's/"packets":.*//') || fail "cgfw status failed"
assert_eq "status counts unchanged" "$status_before" "$status_after"

# Bad input on a host where cgfw never ran creates no state either.
CGFW_BPFFS_ROOT=$EXTRA_PINS cgfw block 300.1.2.3 2>/dev/null
assert_eq "bad input with no state: exit 2" 2 $?
CGFW_BPFFS_ROOT=$EXTRA_PINS cgfw block --from-file "$f" 2>/dev/null
assert_eq "bad file with no state: exit 2" 2 $?
[ ! -e "$EXTRA_PINS" ] || fail "bad input created state under $EXTRA_PINS"
log "ok: no state created by bad input"
