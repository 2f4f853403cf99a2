#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The code's format is the .clang-format at the top (the kernel's style at
# 100 columns): any drift fails the tests. Fix with
#   clang-format-19 -i $(git ls-files '*.c' '*.h')
#
#   check.sh SOURCE_DIR
set -u -o pipefail

SRC=${1:?usage: $0 SOURCE_DIR}
CF=${CLANG_FORMAT:-clang-format-19}
command -v "$CF" >/dev/null || { echo "FAIL: $CF not found (scripts/install-deps.sh installs it)"; exit 1; }
cd "$SRC" || exit 1
if git rev-parse --git-dir >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.c' '*.h')
else
	mapfile -t files < <(find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
bad=0
for f in "${files[@]}"; do
	[ -e "$f" ] || continue
	if ! "$CF" --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "drift: $f ($("$CF" "$f" | diff "$f" - | grep -c '^<') lines differ)"
		bad=$((bad + 1))
	fi
done
if [ $bad -ne 0 ]; then
	echo "FAIL: $bad of ${#files[@]} files are not formatted as .clang-format says"
	exit 1
fi
echo "ok: ${#files[@]} files formatted"
