#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The bash completion, driven as readline would: bash-completion's framework
# sourced in a non-interactive bash, COMP_WORDS/COMP_CWORD/COMP_LINE set, the
# function called, COMPREPLY checked. Commands, verbs and every command's
# options must be exactly those of the built binary's `cgfw help`; cgroup
# paths come from the cgroup2 mount of a (fake, then the real) mountinfo,
# interfaces from a (fake) /sys/class/net, policy files are *.yaml and *.yml.
#
#   test_completion.sh CGFW COMPLETION_FILE
set -u -o pipefail

CGFW=${1:?usage: $0 CGFW COMPLETION_FILE}
COMPLETION=${2:?usage: $0 CGFW COMPLETION_FILE}
BC=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
[ -r "$BC" ] || { echo "SKIP: $BC not found (package bash-completion)"; exit 77; }

# shellcheck source=/dev/null
. "$BC"
# The loader finds the file by the command's name, as installed.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/user/completions"
cp "$COMPLETION" "$T/user/completions/cgfw"
export BASH_COMPLETION_USER_DIR=$T/user
complete -r cgfw 2>/dev/null
_completion_loader cgfw
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
complete -p cgfw 2>/dev/null | grep -q -- '-F _cgfw' ||
	{ echo "FAIL: bash-completion's loader did not load completions/cgfw: $(complete -p cgfw 2>&1)"; exit 1; }

# comp WORD... : complete the last word (may be empty) of "cgfw WORD...";
# the candidates, sorted, one per line, in $REPLY_SORTED.
comp() {
	COMP_WORDS=(cgfw "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	local err
	err=$(mktemp -p "$T")
	_cgfw cgfw "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>"$err"
	# compopt outside a real completion is harmless here.
	if grep -v 'compopt: not currently executing completion function' "$err" | grep -q .; then
		fail "cgfw $*<TAB> printed: $(cat "$err")"
	fi
	rm -f "$err"
	REPLY_SORTED=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u)
}

# expect "DESCRIPTION" "WANTED WORDS" WORD... : the candidates are exactly these.
expect() {
	local what=$1 want
	want=$(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort -u)
	shift 2
	comp "$@"
	if [ "$REPLY_SORTED" != "$want" ]; then
		fail "$what: cgfw $*<TAB> offered [${REPLY_SORTED//$'\n'/ }], expected [${want//$'\n'/ }]"
	fi
}

# expect_has "DESCRIPTION" WANTED WORD... : WANTED is among the candidates.
expect_has() {
	local what=$1 want=$2
	shift 2
	comp "$@"
	grep -qx -- "$want" <<<"$REPLY_SORTED" || fail "$what: cgfw $*<TAB> did not offer $want"
}

# ---- the command line, against the binary's own help -------------------------------------
help_top=$("$CGFW" help) || { echo "FAIL: $CGFW help"; exit 1; }
commands=$(sed -n '/^Commands:/,/^$/{/^  /p}' <<<"$help_top" | awk '{print $1}')
[ -n "$commands" ] || { echo "FAIL: no commands in 'cgfw help'"; exit 1; }
expect "commands" "$commands" ''
expect "global options" "--json --pretty --help --version" --
ncmd=0
nverb=0
for c in $commands; do
	ncmd=$((ncmd + 1))
	h=$("$CGFW" help "$c")
	verbs=$(sed -n '/^Verbs:/,/^$/{/^  /p}' <<<"$h" | awk '{print $1}')
	if [ -n "$verbs" ]; then
		expect "verbs of $c" "$verbs" "$c" ''
		paths=$(for v in $verbs; do echo "$c $v"; done)
	else
		paths=$c
	fi
	while IFS= read -r p; do
		nverb=$((nverb + 1))
		# shellcheck disable=SC2086 # "tproxy add" is two words
		h=$("$CGFW" help $p)
		# The options the usage line and the option list name.
		opts=$({
			sed -n '/^Usage:/,/^$/p' <<<"$h"
			sed -n '/^Options:/,/^$/p' <<<"$h"
		} | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
		# shellcheck disable=SC2086
		expect "options of '$p'" "$opts --json --pretty --help" $p --
	done <<<"$paths"
done

# ---- values ------------------------------------------------------------------------------
expect "rule protocols" "tcp udp icmp" block 192.0.2.1 --proto ''
expect "tc rule protocols" "tcp udp" tproxy add --dst 192.0.2.0/24 --proto ''
expect "--proto=" "tcp udp" tproxy add --proto=''
expect "attach modes" "auto tcx clsact" tc attach eth0 --mode ''
expect "default verdicts" "allow deny" default ''
expect "OCI hook stages" "createRuntime poststop" oci-hook ''
expect "help: commands" "$commands" help ''
expect "help: verbs" "add del list flush" help tproxy ''
expect "no completion for an address" "" block ''
expect "no completion for ports" "" tproxy add --ports ''
expect_has "exec: a command after --" bash exec --cgroup app.slice -- ba
expect_has "exec: a command as first argument" bash exec --cgroup app.slice ba

# ---- cgroup paths under the cgroup2 mount ------------------------------------------------
# A hybrid host: cgroup v1 hierarchies first, the cgroup2 mount at .../unified.
mkdir -p "$T/hybrid/cpu/v1only.slice" "$T/hybrid/unified/app.slice/web.service" \
	"$T/hybrid/unified/app.slice/db.service" "$T/hybrid/unified/system.slice" \
	"$T/hybrid/unified/init.scope" "$T/pure/user.slice" "$T/pure/with space.slice"
cat >"$T/mountinfo.hybrid" <<EOF
22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
31 23 0:28 / $T/hybrid ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:29 / $T/hybrid/cpu rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu
41 31 0:38 / $T/hybrid/unified rw,nosuid,nodev,noexec,relatime shared:11 - cgroup2 cgroup2 rw,nsdelegate
EOF
export _CGFW_MOUNTINFO=$T/mountinfo.hybrid
expect "cgroups (hybrid)" "app.slice/ init.scope/ system.slice/" attach ''
expect "cgroups below a slice" "app.slice/db.service/ app.slice/web.service/" attach app.slice/
expect "cgroups by prefix" "system.slice/" detach sys
expect "--cgroup" "app.slice/" list --cgroup ap
expect "--cgroup=" "app.slice/" seen --cgroup=ap
expect "--cgroup of a rule" "init.scope/" block 192.0.2.1 --cgroup in
expect "absolute cgroup paths" "$T/hybrid/unified/app.slice/" attach "$T/hybrid/unified/ap"
expect "only the attach argument" "" attach app.slice ''
# A unified host, its mount point escaped in mountinfo (a space is \040).
mv "$T/pure" "$T/pure dir"
escaped=$T/pure\\040dir
cat >"$T/mountinfo.unified" <<EOF
30 23 0:26 / $escaped rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw
EOF
export _CGFW_MOUNTINFO=$T/mountinfo.unified
expect_has "cgroups (unified, escaped mount point)" user.slice/ exec --cgroup ''
# No cgroup2 mount: nothing, and no error.
echo "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw" >"$T/mountinfo.none"
export _CGFW_MOUNTINFO=$T/mountinfo.none
expect "no cgroup2 mount" "" attach ''
unset _CGFW_MOUNTINFO
# The real host.
mnt=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
if [ -n "$mnt" ]; then
	real=$(find "$mnt" -mindepth 1 -maxdepth 1 -type d -printf '%f/\n' 2>/dev/null | grep -v ' ' | sort)
	# Others may create or remove cgroups meanwhile: compare the stable ones.
	comp attach ''
	for d in $real; do
		[ -d "$mnt/$d" ] || continue
		grep -qxF -- "$d" <<<"$REPLY_SORTED" || fail "cgroups of this host ($mnt): $d not offered"
	done
	echo "note: this host's cgroup2 mount is $mnt"
fi

# ---- interfaces --------------------------------------------------------------------------
mkdir -p "$T/net/lo" "$T/net/eth0" "$T/net/veth-app0" "$T/net/wlp2s0"
export _CGFW_SYSNET=$T/net
expect "interfaces to attach (no loopback)" "eth0 veth-app0 wlp2s0" tc attach ''
expect "interfaces by prefix" "veth-app0" tc detach ve
expect "--iface" "eth0 lo veth-app0 wlp2s0" tproxy add --iface ''
expect "only one interface" "" tc attach eth0 ''
unset _CGFW_SYSNET
expect_has "this host's interfaces" lo tproxy del --iface ''

# ---- policy files ------------------------------------------------------------------------
mkdir -p "$T/pol/sub"
touch "$T/pol/web.yaml" "$T/pol/db.yml" "$T/pol/notes.txt" "$T/pol/blocklist.txt"
expect "policy files" "$T/pol/db.yml $T/pol/sub $T/pol/web.yaml" policy check "$T/pol/"
expect "more policy files" "$T/pol/db.yml $T/pol/sub $T/pol/web.yaml" policy apply "$T/pol/web.yaml" "$T/pol/"
expect "policy files by prefix" "$T/pol/web.yaml" policy diff "$T/pol/w"
expect "any file for --from-file" "$T/pol/blocklist.txt" block --from-file "$T/pol/b"

if [ $fails -ne 0 ]; then
	echo "FAIL: $fails completion cases (completion/cgfw.bash against 'cgfw help')"
	exit 1
fi
echo "ok: completion offers the $ncmd commands and the options of $nverb commands and verbs of 'cgfw help', cgroups, interfaces and policy files"
