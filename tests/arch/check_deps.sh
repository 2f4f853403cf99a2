#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The dependency rule of docs/ARCHITECTURE.md, checked on the built objects:
# every symbol a module uses from another module must come from one the rule
# allows, library code never prints or exits, and each fuzzer links only the
# modules it fuzzes. An upward call fails here, not in a reviewer's eye.
#
#   check_deps.sh BUILD_DIR
set -u -o pipefail

BUILD=${1:?usage: $0 BUILD_DIR}
NM=${NM:-nm}

# The rule: which modules each module may use (directly or through others).
declare -A ALLOWED=(
	[core]=""
	[lpm]=""
	[pin]="core"
	[cgroup]="pin core lpm"
	[tc]="pin core lpm"
	[events]="pin core"
	[policy]="core"
	[ops]="cgroup tc events policy pin core lpm"
	[metrics]="core"
)
# What each fuzzer may contain.
declare -A FUZZ_ALLOWED=(
	[fuzz_policy]="policy core"
	[fuzz_oci_state]="ops cgroup tc policy pin core lpm"
	[fuzz_lines]="tc pin core lpm"
	[fuzz_addr]="tc pin core lpm"
	[fuzz_netlink]="tc pin core lpm"
	[fuzz_state]="ops cgroup tc policy pin core lpm"
)
# Library code returns errors; only the CLI prints (to stdout or stderr) and exits.
FORBIDDEN="stdout stderr printf puts putchar vprintf perror exit _exit abort err errx warn warnx"

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

declare -A OWNER # symbol -> module that defines it
modules=()
for mod in "${!ALLOWED[@]}"; do
	lib="$BUILD/lib/$mod/libcgfw_$mod.a"
	[ -e "$lib" ] || continue
	modules+=("$mod")
	while read -r sym; do
		OWNER[$sym]=$mod
	done < <("$NM" --defined-only -g "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }')
done
[ ${#modules[@]} -ge 7 ] || { echo "FAIL: found only ${#modules[@]} module libraries under $BUILD/lib"; exit 1; }

allowed() { # allowed FROM TO
	[ "$1" = "$2" ] && return 0
	for m in ${ALLOWED[$1]}; do
		[ "$m" = "$2" ] && return 0
	done
	return 1
}

for mod in "${modules[@]}"; do
	lib="$BUILD/lib/$mod/libcgfw_$mod.a"
	while read -r obj sym; do
		owner=${OWNER[$sym]:-}
		if [ -n "$owner" ] && ! allowed "$mod" "$owner"; then
			fail "$mod/${obj%.o} uses $sym from $owner: $mod may use only: ${ALLOWED[$mod]:-nothing}"
		fi
		for f in $FORBIDDEN; do
			[ "$sym" = "$f" ] && fail "$mod/${obj%.o} calls $sym: library code never prints or exits"
		done
	done < <("$NM" -u -A "$lib" 2>/dev/null |
		 sed -E 's/^[^:]*:([^:]*):[[:space:]]*U[[:space:]]+(.*)$/\1 \2/' |
		 sed -E 's/@.*$//')
done

# cgroup, tc and events never use each other (already in the table; said twice on purpose).
for a in cgroup tc events; do
	for b in cgroup tc events; do
		[ "$a" != "$b" ] && allowed "$a" "$b" && fail "the rule lets $a use $b"
	done
done

for fz in "${!FUZZ_ALLOWED[@]}"; do
	bin="$BUILD/fuzz/$fz"
	[ -x "$bin" ] || continue
	while read -r sym; do
		owner=${OWNER[$sym]:-}
		[ -n "$owner" ] || continue
		ok=0
		for m in ${FUZZ_ALLOWED[$fz]}; do
			[ "$m" = "$owner" ] && ok=1
		done
		[ $ok = 1 ] || fail "$fz contains $sym of module $owner: it may link only ${FUZZ_ALLOWED[$fz]}"
	done < <("$NM" --defined-only "$bin" 2>/dev/null | awk 'NF == 3 && ($2 == "T" || $2 == "t") { print $3 }')
done

if [ $fails -ne 0 ]; then
	echo "$fails violations of the dependency rule"
	exit 1
fi
echo "ok: ${#modules[@]} modules follow the dependency rule"
