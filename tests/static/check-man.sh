#!/bin/bash
#
# check-man.sh - the man pages are clean under "mandoc -Tlint -W warning",
# and man/main.cf.5 documents exactly the parameters of lib/conf/cfg_params.c
# (one ".It Cm NAME" entry per table entry, in both directions).
#
# Run by "make check" from the build directory; the source tree is $srcdir
# (default ".").  Prints one line per failure; exit 0 when all is well,
# 1 otherwise.

set -u
srcdir=${srcdir:-.}
fail=0

if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not installed (apt-get install mandoc)"
	exit 1
fi

# (a) every page is lint-clean at warning level and above
shopt -s nullglob
pages=("$srcdir"/man/*.[158])
if [ ${#pages[@]} -eq 0 ]; then
	echo "FAIL: no man pages in $srcdir/man"
	exit 1
fi
for page in "${pages[@]}"; do
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		echo "FAIL: $page: mandoc -Tlint -W warning is not silent"
		fail=1
	fi
done

# (b) table names and main.cf(5) entries are the same set
params="$srcdir/lib/conf/cfg_params.c"
manpage="$srcdir/man/main.cf.5"
for f in "$params" "$manpage"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: cannot read $f"
		exit 1
	fi
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# table entries are one per line: <tab>CP_TYPE("name", ...
sed -n 's/^[[:space:]]*CP_[A-Z]*("\([A-Za-z0-9_]*\)".*/\1/p' "$params" |
    LC_ALL=C sort >"$tmp/table"
# man entries: ".It Cm name ..." between ".Ss Parameters" and the next .Sh
awk '/^\.Ss Parameters/ { on = 1; next } /^\.Sh / { on = 0 }
    on && /^\.It Cm / { print $3 }' "$manpage" | LC_ALL=C sort >"$tmp/man"

if [ ! -s "$tmp/table" ]; then
	echo "FAIL: no parameter names found in $params"
	fail=1
fi
for list in table man; do
	for name in $(uniq -d "$tmp/$list"); do
		echo "FAIL: $name appears twice in the $list"
		fail=1
	done
done
for name in $(LC_ALL=C comm -23 "$tmp/table" "$tmp/man"); do
	echo "FAIL: parameter $name (lib/conf/cfg_params.c) is not documented" \
	    "in man/main.cf.5"
	fail=1
done
for name in $(LC_ALL=C comm -13 "$tmp/table" "$tmp/man"); do
	echo "FAIL: man/main.cf.5 documents $name, which is not in" \
	    "lib/conf/cfg_params.c"
	fail=1
done

if [ "$fail" -eq 0 ]; then
	echo "ok: ${#pages[@]} man page(s) lint-clean;" \
	    "$(wc -l <"$tmp/table") parameters documented"
fi
exit "$fail"
