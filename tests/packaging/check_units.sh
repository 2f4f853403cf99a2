#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What a root that cgfw was installed into (DESTDIR, dpkg -x) holds for
# systemd and the container engines, checked (test_units.sh, test_deb.sh):
#   - `systemd-analyze verify` passes on every installed unit, and on a
#     service with the installed drop-in example, with no output at all. It
#     needs no running systemd: --root makes it check ExecStart= binaries in
#     the root, MANPATH makes its Documentation=man: check find the installed
#     man pages; the root gets this host's targets (sysinit.target, ...);
#   - every file a unit's comments or Documentation=file:// name exists;
#   - the oci-hooks(5) file is valid JSON whose hook is the installed binary.
#
#   check_units.sh ROOT PREFIX      (PREFIX: /usr, /usr/local, ...)
set -u -o pipefail

ROOT=${1:?usage: $0 ROOT PREFIX}
PREFIX=${2:?usage: $0 ROOT PREFIX}
SA=$(command -v systemd-analyze) || { echo "SKIP: systemd-analyze not installed (package systemd)"; exit 77; }
PY=${PYTHON:-python3}
HOST_UNITS=/lib/systemd/system
[ -d $HOST_UNITS ] || HOST_UNITS=/usr/lib/systemd/system
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

root=$ROOT prefix=$PREFIX sbin=$PREFIX/sbin/cgfw
declare -a units
[ -x "$root$sbin" ] || { echo "FAIL: $prefix: no $sbin"; exit 1; }
mapfile -t units < <(find "$root" -path '*/systemd/system/*' -type f \
	\( -name '*.service' -o -name '*.socket' -o -name '*.timer' -o -name '*.path' \) | sort)
printf '%s\n' "${units[@]}" | grep -q '/cgfw-restore\.service$' ||
	{ echo "FAIL: $prefix: cgfw-restore.service is not installed"; exit 1; }
printf '%s\n' "${units[@]}" | grep -q '/cgfw-metrics\.service$' ||
	{ echo "FAIL: $prefix: cgfw-metrics.service is not installed"; exit 1; }
mkdir -p "$root/etc/systemd/system"
cp "$HOST_UNITS"/*.target "$root/etc/systemd/system/"
for u in "${units[@]}"; do
	n=${u##*/}
	if grep -q '@[A-Za-z_]*@' "$u"; then
		fail "$prefix: $n has an unsubstituted @VARIABLE@"
	fi
	grep -q "^ExecStart=$sbin\b" "$u" || fail "$prefix: $n does not run $sbin"
	out=$(MANPATH="$root$prefix/share/man" "$SA" --root="$root" verify "$n" 2>&1)
	# shellcheck disable=SC2181
	if [ $? -ne 0 ] || [ -n "$out" ]; then
		fail "$prefix: systemd-analyze verify $n: ${out:-non-zero exit}"
	fi
	# The files the unit points a reader to.
	for f in $(grep -o 'file://[^ ]*' "$u" | sed 's|^file://||') \
		$(grep '^#' "$u" | grep -o "$prefix/[^ )]*" | sed 's/[.,;:]$//'); do
		[ -e "$root$f" ] || fail "$prefix: $n names $f, which is not installed"
	done
done
# The drop-in example on a service of the kind it is written for.
ex=$(find "$root" -name cgfw-enforce.conf.example -type f | head -1)
if [ -z "$ex" ]; then
	fail "$prefix: cgfw-enforce.conf.example is not installed"
else
	mkdir -p "$root/etc/systemd/system/cgfw-dropin-check.service.d"
	printf '[Unit]\nDescription=a workload\n[Service]\nExecStart=%s version\n' "$sbin" \
		>"$root/etc/systemd/system/cgfw-dropin-check.service"
	cp "$ex" "$root/etc/systemd/system/cgfw-dropin-check.service.d/cgfw.conf"
	out=$("$SA" --man=no --root="$root" verify cgfw-dropin-check.service 2>&1)
	# shellcheck disable=SC2181
	if [ $? -ne 0 ] || [ -n "$out" ]; then
		fail "$prefix: the drop-in example does not verify: ${out:-non-zero exit}"
	fi
	grep -q "^ExecStartPre=+$sbin restore$" "$ex" ||
		fail "$prefix: the drop-in example does not run $sbin restore"
fi
# The OCI hook file.
hook=$(find "$root$prefix/share/containers/oci/hooks.d" -name '*.json' 2>/dev/null | head -1)
if [ -z "$hook" ]; then
	fail "$prefix: no oci-hooks(5) file under $prefix/share/containers/oci/hooks.d"
elif ! "$PY" - "$hook" "$root" "$sbin" <<'EOF'; then
import json, os, re, sys
hook, root, sbin = sys.argv[1:]
h = json.load(open(hook))
assert h.get("version") == "1.0.0", "version is not 1.0.0"
assert h["hook"]["path"] == sbin, f"hook.path {h['hook']['path']} is not {sbin}"
assert os.access(root + sbin, os.X_OK), f"{sbin} is not installed"
assert h["hook"]["args"][:2] == ["cgfw", "oci-hook"], "args are not cgfw oci-hook"
stages = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
assert h["stages"] and set(h["stages"]) <= stages, f"unknown stages {h['stages']}"
for k, v in h["when"].get("annotations", {}).items():
    re.compile(k), re.compile(v)
EOF
	fail "$prefix: $hook is not a valid oci-hooks(5) file"
fi
[ $fails -eq 0 ] || exit 1
echo "ok: $prefix: ${#units[@]} unit(s) verified (${units[*]##*/}), drop-in example, $(basename "$hook")"
