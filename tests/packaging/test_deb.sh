#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian package, built from this tree with its CPack configuration (what
# `make deb` runs), into a temporary directory:
#   - it is named cgfw_VERSION_ARCH.deb and holds the binary, the units, the
#     OCI hook, the man pages, the completion, the docs and example policies;
#   - lintian reports no errors (its whole output is printed);
#   - extracted into a throwaway root (dpkg -x), the installed cgfw passes a
#     smoke run (version, help, policy check of the installed examples, a bad
#     policy refused with exit 2), its man pages and completion are found,
#     and check_units.sh passes on the root (systemd-analyze verify, ...);
#   - dpkg installs and purges it in another throwaway root (dpkg --root,
#     maintainer scripts run without chroot), leaving nothing behind.
#
#   test_deb.sh BUILD_DIR
set -u -o pipefail

BUILD=${1:?usage: $0 BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
for t in cpack dpkg-deb dpkg-shlibdeps lintian; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed (scripts/install-deps.sh)"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# ---- build ---------------------------------------------------------------------------------
(cd "$T" && cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$T/out") >"$T/cpack.log" 2>&1 ||
	{ cat "$T/cpack.log"; echo "FAIL: cpack -G DEB"; exit 1; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BUILD/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
deb=$T/out/cgfw_${version}_${arch}.deb
[ -f "$deb" ] || { ls "$T/out"; echo "FAIL: no $(basename "$deb") (cgfw_VERSION_ARCH.deb)"; exit 1; }
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
dpkg-deb --field "$deb" Package Version Architecture Depends | sed 's/^/  /'
[ "$(dpkg-deb --field "$deb" Package)" = cgfw ] || fail "Package is not cgfw"
[ "$(dpkg-deb --field "$deb" Version)" = "$version" ] || fail "Version is not $version"
dpkg-deb --field "$deb" Depends | grep -q 'libbpf' || fail "Depends does not name libbpf (shlibdeps)"

# ---- contents ------------------------------------------------------------------------------
dpkg-deb --contents "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$T/contents"
compdir=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null)
for f in /usr/sbin/cgfw \
	/usr/lib/systemd/system/cgfw-restore.service /usr/lib/systemd/system/cgfw-metrics.service \
	/usr/share/containers/oci/hooks.d/cgfw-hook.json \
	/usr/share/man/man8/cgfw.8.gz /usr/share/man/man5/cgfw-policy.5.gz \
	"${compdir:-/usr/share/bash-completion/completions}/cgfw" \
	/usr/share/doc/cgfw/README.md /usr/share/doc/cgfw/copyright /usr/share/doc/cgfw/changelog.gz \
	/usr/share/doc/cgfw/cgfw-enforce.conf.example \
	/usr/share/doc/cgfw/policies/README.md /usr/share/doc/cgfw/policies/web-db-dns.yaml; do
	grep -qxF "$f" "$T/contents" || fail "the package has no $f"
done
grep -q '^/usr/local' "$T/contents" && fail "the package has files under /usr/local"

# ---- lintian -------------------------------------------------------------------------------
lintian --display-info --tag-display-limit 0 "$deb" >"$T/lintian.log" 2>&1
lrc=$?
grep -v 'running with root privileges' "$T/lintian.log" | sed 's/^/  lintian: /'
if [ $lrc -ne 0 ] || grep -q '^E: ' "$T/lintian.log"; then
	fail "lintian reports errors (exit $lrc)"
else
	echo "ok: lintian: no errors, $(grep -c '^W: ' "$T/lintian.log") warnings"
fi

# ---- extracted into a throwaway root: a smoke run ------------------------------------------
R=$T/root
dpkg-deb -x "$deb" "$R" || { echo "FAIL: dpkg-deb -x"; exit 1; }
C=$R/usr/sbin/cgfw
out=$("$C" version) || fail "cgfw version failed"
[ "$out" = "${out#cgfw "$version"}" ] && fail "cgfw version says '$out', not cgfw $version"
"$C" help | grep -q '^Commands:' || fail "cgfw help lists no commands"
"$C" help policy check >/dev/null || fail "cgfw help policy check failed"
if ! out=$("$C" policy check "$R"/usr/share/doc/cgfw/policies/*.yaml 2>&1); then
	fail "cgfw policy check of the installed example policies: $out"
fi
printf 'workloads:\n  - name: web\n    default: maybe\n' >"$T/bad.yaml"
"$C" policy check "$T/bad.yaml" >"$T/bad.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "cgfw policy check of a bad policy exited $rc, not 2: $(cat "$T/bad.out")"
grep -q "bad.yaml:3:" "$T/bad.out" || fail "the bad policy's error names no FILE:LINE: $(cat "$T/bad.out")"
MANPATH=$R/usr/share/man man -w cgfw >/dev/null 2>&1 || fail "man cannot find the installed cgfw(8)"
MANPATH=$R/usr/share/man man -w 5 cgfw-policy >/dev/null 2>&1 || fail "man cannot find cgfw-policy(5)"
zcat "$R/usr/share/man/man8/cgfw.8.gz" | grep -q '^\.Dt CGFW 8' || fail "cgfw.8.gz is not the mdoc page"
zcat "$R/usr/share/man/man8/cgfw.8.gz" | grep -q '/usr/local' && fail "the packaged cgfw(8) names /usr/local"
# The completion, loaded from the package by bash-completion's loader.
if [ -r /usr/share/bash-completion/bash_completion ]; then
	mkdir -p "$T/xdg"
	ln -s "$R/usr/share/bash-completion" "$T/xdg/bash-completion"
	out=$(XDG_DATA_DIRS=$T/xdg bash -c '
		. /usr/share/bash-completion/bash_completion
		_completion_loader cgfw
		COMP_WORDS=(cgfw tp); COMP_CWORD=1; COMP_LINE="cgfw tp"; COMP_POINT=7
		_cgfw cgfw tp cgfw; echo "${COMPREPLY[*]}"' 2>&1)
	[ "$out" = tproxy ] || fail "the packaged completion does not complete 'cgfw tp' to tproxy: $out"
fi
bash "$HERE/check_units.sh" "$R" /usr || fails=$((fails + 1))

# ---- dpkg --root: the maintainer scripts, install and purge ---------------------------------
if [ "$(id -u)" -eq 0 ]; then
	D=$T/dpkgroot
	mkdir -p "$D/var/lib/dpkg/info" "$D/var/lib/dpkg/updates" "$D/var/lib/dpkg/triggers"
	: >"$D/var/lib/dpkg/status"
	: >"$D/var/lib/dpkg/available"
	# Its libraries are this host's: only the dependencies are not in the root.
	if ! dpkg --root="$D" --force-script-chrootless --force-depends --log=/dev/null \
		-i "$deb" >"$T/dpkg.log" 2>&1; then
		cat "$T/dpkg.log"
		fail "dpkg --root -i"
	fi
	[ "$(dpkg --root="$D" -s cgfw 2>/dev/null | sed -n 's/^Status: //p')" = "install ok installed" ] ||
		fail "cgfw is not 'install ok installed' in the dpkg root"
	[ -x "$D/usr/sbin/cgfw" ] || fail "dpkg -i installed no /usr/sbin/cgfw"
	if ! dpkg --root="$D" --force-script-chrootless --log=/dev/null --purge cgfw >"$T/dpkg.log" 2>&1; then
		cat "$T/dpkg.log"
		fail "dpkg --root --purge"
	fi
	left=$(find "$D" -mindepth 1 -not -path "$D/var/lib/dpkg*" -not -type d)
	[ -z "$left" ] || fail "purge left files behind: $left"
	echo "ok: dpkg --root installs and purges the package"
else
	echo "note: not root: dpkg --root install and purge not tried"
fi

if [ $fails -ne 0 ]; then
	echo "FAIL: $fails problems with $(basename "$deb")"
	exit 1
fi
echo "ok: $(basename "$deb"): contents, lintian, smoke run, units, dpkg install and purge"
