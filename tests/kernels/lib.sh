# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Debian kernels for qemu guests, shared by tests/kernels/run.sh (the kernel
# matrix) and tests/systemd/run.sh (systemd at boot): a linux-image package
# from apt (apt-get download, dpkg-deb -x, busybox depmod) kept in a cache,
# and a busybox initramfs with tests/kernels/init and the virtio/9p/overlay
# modules of that kernel.
#
# Source it; the caller sets CACHE (the kernel cache, with debs/), OFFLINE
# (1: apt is not asked), OUT (scratch files), BUSYBOX (a static busybox) and
# defines log().

KLIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

apt_candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }

# The newest linux-image package of a series: 6.1 -> linux-image-6.1.0-N-amd64
# (Debian 12's own), 6.12 -> linux-image-6.12.N+debN-amd64 (bookworm's 6.12).
resolve_series() {
	local s=${1//./\\.}
	apt-cache pkgnames "linux-image-$1" 2>/dev/null |
		grep -E "^linux-image-$s(\.0-[0-9]+|\.[0-9]+\+deb[0-9]+)-amd64\$" | sort -V |
		while read -r p; do
			c=$(apt_candidate "$p")
			[ -z "$c" ] || [ "$c" = "(none)" ] || echo "$p"
		done | tail -1
}

# Extract a downloaded .deb into the cache and index its modules.
prepare_kdir() {
	local deb=$1 kdir=$2 krel
	[ -f "$kdir/.ready" ] && return 0
	rm -rf "$kdir.tmp"
	mkdir -p "$kdir.tmp"
	log "extracting $(basename "$deb")"
	dpkg-deb -x "$deb" "$kdir.tmp" || return 1
	krel=$(ls "$kdir.tmp/lib/modules" 2>/dev/null | head -1)
	[ -n "$krel" ] && ls "$kdir.tmp"/boot/vmlinuz-* >/dev/null 2>&1 || { log "$deb holds no kernel"; return 1; }
	# The .deb ships no modules.dep (its postinst runs depmod): make one.
	log "indexing the modules of $krel (busybox depmod)"
	"$BUSYBOX" depmod -b "$kdir.tmp" "$krel" || return 1
	rm -rf "$kdir"
	mv "$kdir.tmp" "$kdir" && touch "$kdir/.ready"
}

# Sets PKG, PKGVER, KDIR, KREL for a --kernel argument.
get_kernel() {
	local want=$1 deb ver
	PKG='' PKGVER='' KDIR='' KREL=''
	case "$want" in
	linux-image-*) PKG=$want ;;
	[0-9]*.[0-9]*) [ $OFFLINE = 1 ] || PKG=$(resolve_series "$want") ;;
	*) log "--kernel $want: a series (6.1, 6.12) or a linux-image package name"; return 1 ;;
	esac
	if [ $OFFLINE = 0 ] && [ -z "$PKG" ] && [ -z "${APT_UPDATED:-}" ]; then
		log "apt knows no linux-image for $want: apt-get update"
		APT_UPDATED=1
		apt-get update -qq >&2 || true
		case "$want" in linux-image-*) ;; *) PKG=$(resolve_series "$want") ;; esac
	fi
	ver=
	[ -z "$PKG" ] || [ $OFFLINE = 1 ] || ver=$(apt_candidate "$PKG")
	if [ -n "$ver" ] && [ "$ver" != "(none)" ]; then
		deb="$CACHE/debs/${PKG}_${ver//:/%3a}_amd64.deb"
		if [ ! -f "$deb" ]; then
			log "apt-get download $PKG=$ver"
			(cd "$CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download "$PKG=$ver" >&2) ||
				{ log "apt-get download $PKG=$ver failed"; return 1; }
		fi
		[ -f "$deb" ] || { log "no $deb after apt-get download"; return 1; }
		KDIR="$CACHE/${PKG}_$ver"
		prepare_kdir "$deb" "$KDIR" || { log "cannot prepare $KDIR"; return 1; }
		PKGVER=$ver
	else
		# Offline, or apt has none: the newest one already in the cache.
		local pat
		case "$want" in
		linux-image-*) pat="${want}_*" ;;
		*) pat="linux-image-${want}[.-]*-amd64_*" ;;
		esac
		# shellcheck disable=SC2010,SC2086
		KDIR=$(ls -d "$CACHE"/$pat 2>/dev/null | grep -v '\.tmp$' | sort -V | tail -1)
		[ -n "$KDIR" ] && [ -f "$KDIR/.ready" ] ||
			{ log "no kernel for '$want' from apt or in $CACHE"; return 1; }
		PKG=$(basename "$KDIR"); PKGVER=${PKG#*_}; PKG=${PKG%%_*}
		case "$want" in [0-9]*) [[ "$PKG" =~ ^linux-image-${want//./\\.}[.-] ]] || return 1 ;; esac
		log "using the cached $PKG $PKGVER"
	fi
	KREL=$(ls "$KDIR/lib/modules" | head -1)
	[ -n "$KREL" ]
}

# ---- initramfs --------------------------------------------------------------------

# Modules (paths relative to the modules dir) for the given names and their
# dependencies, dependencies first, from modules.dep. Built-in ones are skipped.
resolve_modules() {
	local mdir=$1
	shift
	awk -v roots="$*" -v builtin="$mdir/modules.builtin" '
	function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
	function visit(n,   a, k, i) {
		if (n in seen) return
		seen[n] = 1
		if (!(n in path)) {
			if (!(n in bi)) { print "missing module " n > "/dev/stderr"; bad = 1 }
			return
		}
		k = split(deps[n], a, " ")
		for (i = 1; i <= k; i++) visit(a[i])
		print path[n]
	}
	BEGIN { while ((getline l < builtin) > 0) bi[base(l)] = 1 }
	{
		key = $1; sub(/:$/, "", key); n = base(key); path[n] = key; d = ""
		for (i = 2; i <= NF; i++) d = d " " base($i)
		deps[n] = d
	}
	END { k = split(roots, r, " "); for (i = 1; i <= k; i++) visit(r[i]); exit bad }
	' "$mdir/modules.dep"
}

build_initramfs() {
	local out=$1 mdir="$KDIR/lib/modules/$KREL" root m b
	root=$(mktemp -d "$OUT/initramfs.XXXXXX")
	mkdir -p "$root/bin" "$root/dev" "$root/modules"
	cp "$BUSYBOX" "$root/bin/busybox"
	cp "$KLIB_DIR/init" "$root/init"
	chmod 755 "$root/init"
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
	: >"$root/modules/order"
	for m in $(resolve_modules "$mdir" virtio_pci 9pnet_virtio 9p overlay); do
		b=$(basename "$m")
		case "$b" in
		*.ko.xz) "$BUSYBOX" xzcat "$mdir/$m" >"$root/modules/${b%.xz}"; b=${b%.xz} ;;
		*.ko.gz) "$BUSYBOX" zcat "$mdir/$m" >"$root/modules/${b%.gz}"; b=${b%.gz} ;;
		*.ko) cp "$mdir/$m" "$root/modules/$b" ;;
		*) log "cannot handle module $m"; rm -rf "$root"; return 1 ;;
		esac
		echo "$b" >>"$root/modules/order"
	done
	(cd "$root" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) >"$out" || {
		rm -rf "$root"
		return 1
	}
	log "initramfs: busybox + $(tr '\n' ' ' <"$root/modules/order")"
	rm -rf "$root"
}
