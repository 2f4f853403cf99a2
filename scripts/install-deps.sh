#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian package cgfw needs to build, test and demo.
# Idempotent: does nothing when all packages are already present.
set -eu

PKGS="build-essential cmake pkg-config make
clang-19 llvm-19 lld-19 libclang-rt-19-dev clang-format-19
libbpf-dev libelf-dev zlib1g-dev libcgroup-dev bpftool
check libjansson-dev libyaml-dev libmnl-dev
iproute2 util-linux procps netcat-openbsd socat python3
runc podman busybox-static
iptables nftables gnuplot-nox
mandoc bash-completion man-db systemd dpkg-dev lintian
qemu-system-x86
libmicrohttpd-dev prometheus"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi

echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

# Debian's prometheus package starts its server (0.0.0.0:9090) on install. The
# tests only need the binary, which they run on loopback themselves: stop and
# disable the service this script just installed (not one that was there).
case " $missing " in
*" prometheus "*)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus.service >/dev/null 2>&1 || true
		echo "install-deps: prometheus.service stopped and disabled (the tests run their own)" >&2
	fi
	;;
esac
