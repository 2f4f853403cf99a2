#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `mandoc -Tlint` finds nothing in the built man pages, at every level down to
# STYLE, and groff -ww (what man-db renders them with) warns of nothing. A
# cross-reference to a page of another package that this host does not have
# installed is reported and allowed; one to a cgfw page is not.
#
#   test_man_lint.sh MANDIR     (the build tree's docs/man: man5/, man8/)
set -u -o pipefail

MANDIR=${1:?usage: $0 MANDIR}
command -v mandoc >/dev/null || { echo "SKIP: mandoc not installed (scripts/install-deps.sh)"; exit 77; }
mapfile -t pages < <(find "$MANDIR" -path "$MANDIR/man[1-9]/*" -type f | sort)
[ ${#pages[@]} -ge 2 ] || { echo "FAIL: no man pages under $MANDIR"; exit 1; }

# Our own pages are found through MANPATH; a stale host mandoc.db is the
# host's business ("outdated mandoc.db ... run makewhatis").
out=$(MANPATH="$MANDIR:" mandoc -Tlint -W style "${pages[@]}" 2>&1 | grep -v 'outdated mandoc.db')
bad=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	if [[ $line =~ STYLE:\ referenced\ manual\ not\ found:\ Xr\ ([^ ]+)\ ([0-9a-z]+) ]] &&
		[[ ${BASH_REMATCH[1]} != cgfw* ]]; then
		echo "note (not installed here): $line"
		continue
	fi
	echo "FAIL: $line"
	bad=$((bad + 1))
done <<<"$out"
[ $bad -eq 0 ] || { echo "FAIL: mandoc -Tlint: $bad messages"; exit 1; }
for p in "${pages[@]}"; do
	# Every page renders, and has the sections a reader looks for.
	text=$(mandoc -Tascii "$p" | sed 's/.\x08//g') || { echo "FAIL: mandoc cannot render $p"; exit 1; }
	for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		grep -qx "$s" <<<"$text" || { echo "FAIL: $p has no $s section"; bad=1; }
	done
	grep -q '@[A-Z_]*@' "$p" && { echo "FAIL: $p has an unsubstituted @VARIABLE@"; bad=1; }
	# man(1) renders with groff here: no warnings from it either.
	if command -v groff >/dev/null; then
		w=$(groff -mandoc -Tutf8 -ww -z "$p" 2>&1)
		[ -z "$w" ] || { echo "FAIL: groff -ww $p: $w"; bad=1; }
	fi
done
[ $bad -eq 0 ] || exit 1
echo "ok: mandoc -Tlint clean on ${pages[*]##*/}"
