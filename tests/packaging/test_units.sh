#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The units as installed: the build tree installed into a throwaway root
# (DESTDIR) under /usr and under the configured prefix, each checked by
# check_units.sh (systemd-analyze verify, the files the units name, the
# oci-hooks(5) file). Configured at install time, the files name the prefix
# they are installed under.
#
#   test_units.sh BUILD_DIR
set -u -o pipefail

BUILD=${1:?usage: $0 BUILD_DIR}
HERE=$(dirname "$0")
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed (package systemd)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
configured=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
for prefix in $(printf '%s\n' /usr "${configured:-/usr/local}" | sort -u); do
	root=$T/root${prefix//\//-}
	if ! DESTDIR=$root cmake --install "$BUILD" --prefix "$prefix" >"$T/install.log" 2>&1; then
		cat "$T/install.log"
		echo "FAIL: cmake --install --prefix $prefix failed"
		fails=$((fails + 1))
		continue
	fi
	bash "$HERE/check_units.sh" "$root" "$prefix" || fails=$((fails + 1))
done

if [ $fails -ne 0 ]; then
	echo "FAIL: the units installed under $fails prefixes"
	exit 1
fi
