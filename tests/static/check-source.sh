#!/bin/sh
# check-source.sh - source rules that a compiler does not enforce (STYLE.md):
#  1. banned calls: strcpy strcat sprintf vsprintf gets strtok system popen
#     (and any exec of a shell)
#  2. layering (doc/design.md section 22).  lib/ is one directory per layer,
#     and a file includes (by basename) only headers of the layers its own
#     may use:
#	util	util				buffers, strings, log, key tables
#	conf	util conf			main.cf, master.cf
#	mail	util mail			message formats and mail data
#	dns	util dns			libunbound
#	tls	util conf tls			OpenSSL contexts and policy
#	maps	util conf mail maps		tables, access actions, restrictions
#	server	every layer			IPC, the daemon skeleton, privileges
#     A C file directly in lib/, a directory of lib/ not in this table, two
#     lib headers with one name, or a lib file Makefile.am does not build
#     is a failure: every lib module is in exactly one layer.  A program's
#     files include only lib headers and those of their own directory; the
#     one exception is sendmail/, which includes ../mailctl/mailctl.h (it
#     links mailctl_ctl.c and mailctl_queue.c: mailq, -q and newaliases are
#     mailctl's requests).  Every top-level directory with C files other
#     than lib/ and tests/ must be a program Makefile.am builds.
#  3. Berkeley DB (<db.h>) only in lib/maps/db.c
#  4. cppcheck finds nothing (when installed)
# The files are lib/ and the directory of every program Makefile.am builds
# (NAME_NAME_SOURCES); a missing or empty directory, or no program found,
# is a failure, never a silent pass.
srcdir=${srcdir:-.}
cd "$srcdir" || exit 1
fail=0
say() { echo "check-source: $*"; fail=1; }

layers="util conf mail dns tls maps server"
# the layers each layer may include, as in the table above
rules="util util
conf util conf
mail util mail
dns util dns
tls util conf tls
maps util conf mail maps
server $layers"

progs=$(sed -n 's/^\([a-z][a-z0-9]*\)_\1_SOURCES.*/\1/p' Makefile.am)
[ -n "$progs" ] && [ "$(echo "$progs" | wc -l)" -ge 11 ] ||
    say "fewer than 11 programs found in Makefile.am: $(echo $progs)"
for d in */; do
	d=${d%/}
	case " lib tests $(echo $progs) " in
	*" $d "*) continue ;;
	esac
	[ -n "$(ls "$d"/*.c 2>/dev/null)" ] &&
	    say "$d/ has C files but is no program of Makefile.am"
done
files=
for d in $layers; do
	f=$(ls lib/"$d"/*.[ch] 2>/dev/null)
	if [ -z "$f" ]; then
		say "no C files in lib/$d/ (a layer of $0)"
		continue
	fi
	files="$files $f"
done
for d in $progs; do
	f=$(ls "$d"/*.[ch] 2>/dev/null)
	if [ -z "$f" ]; then
		say "no C files in $d/"
		continue
	fi
	files="$files $f"
done
[ -n "$files" ] || { say "no files to check"; exit 1; }

# 1. banned functions (word followed by '('), outside comments roughly
bad=$(grep -nE '(^|[^_a-zA-Z0-9])(strcpy|strcat|sprintf|vsprintf|gets|strtok|system|popen)[[:space:]]*\(' $files |
    grep -vE '^\S+:[0-9]+:\s*(\*|/\*)')
[ -n "$bad" ] && say "banned function call:
$bad"
bad=$(grep -nE '"/bin/(ba)?sh"|execl?p?\([^)]*"sh"' $files)
[ -n "$bad" ] && say "shell invocation:
$bad"

# 2. layering
for f in lib/*; do
	if [ -d "$f" ]; then
		case " $layers " in
		*" ${f#lib/} "*) ;;
		*) say "$f/ is no layer (the table in $0 lists them)" ;;
		esac
	else
		case $f in
		*.[ch]) say "$f is in no layer: lib code lives in lib/LAYER/" ;;
		esac
	fi
done
for d in $layers; do
	grep -qF -- "-iquote \$(top_srcdir)/lib/$d " Makefile.am ||
	    say "Makefile.am's AM_CPPFLAGS does not have lib/$d"
done
for f in $(ls lib/*/*.[ch] 2>/dev/null); do
	grep -qwF "$f" Makefile.am || say "$f is not in Makefile.am"
done
dup=$(ls lib/*/*.[ch] 2>/dev/null | sed 's|.*/||' | sort | uniq -d)
[ -n "$dup" ] && say "lib files with the same name in two layers:" $dup
hmap=$(for f in lib/*/*.h; do d=${f#lib/}; echo "${f##*/} ${d%%/*}"; done)
own=$(for d in $progs; do ls "$d"/*.h 2>/dev/null; done)
# shellcheck disable=SC2086
bad=$(grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $files |
    sed 's/^\([^:]*\):[^"]*"\([^"]*\)".*/\1 \2/' |
    awk -v hmap="$hmap" -v rules="$rules" -v own="$own" '
BEGIN {
	n = split(hmap, l, "\n")
	for (i = 1; i <= n; i++) { split(l[i], a, " "); layer[a[1]] = a[2] }
	n = split(rules, l, "\n")
	for (i = 1; i <= n; i++) {
		k = split(l[i], a, " ")
		for (j = 2; j <= k; j++) may[a[1] " " a[j]] = 1
	}
	n = split(own, l, "\n")
	for (i = 1; i <= n; i++) ownh[l[i]] = 1
}
{
	f = $1; h = $2; dir = f; sub(/\/[^\/]*$/, "", dir)
	if (f ~ /^lib\//) {
		fl = dir; sub(/^lib\//, "", fl)
		if (h ~ /\//)
			print f ": includes \"" h "\" by a path, not by its name"
		else if (!(h in layer))
			print f ": includes \"" h "\", which is no lib header"
		else if (!((fl " " layer[h]) in may))
			print f " (" fl " layer) includes " h " (" layer[h] \
			    " layer)"
		next
	}
	if (dir == "sendmail" && h == "../mailctl/mailctl.h")
		next	# the one exception, see the top of this file
	if (h ~ /\//)
		print f ": includes \"" h "\" (a program includes only lib " \
		    "and its own directory)"
	else if ((dir "/" h) in ownh) {
		if (h in layer)
			print f ": " dir "/" h " has the name of lib/" \
			    layer[h] "/" h
	} else if (!(h in layer))
		print f ": includes \"" h "\", which is neither in lib nor " \
		    "in " dir "/"
}')
[ -n "$bad" ] && say "layering:
$bad"

# 3. Berkeley DB behind lib/maps/db only
bad=$(grep -ln '#include <db.h>' $files | grep -v '^lib/maps/db.c$')
[ -n "$bad" ] && say "Berkeley DB used outside lib/maps/db.c: $bad"

# 4. cppcheck
if command -v cppcheck >/dev/null 2>&1; then
	incs=$(for d in $layers; do echo "-I lib/$d"; done)
	cfiles=$(for f in $files; do case $f in *.c) echo "$f" ;; esac; done)
	# shellcheck disable=SC2086
	out=$(cppcheck -q --enable=warning,portability --error-exitcode=1 \
	    --inline-suppr -D_GNU_SOURCE -DDB_VERSION_MAJOR=5 $incs $cfiles 2>&1) ||
	    say "cppcheck:
$out"
else
	say "cppcheck not installed (apt-get install cppcheck)"
fi

[ $fail = 0 ] && echo "check-source: ok ($(echo $files | wc -w) files:" \
    "$(echo $layers | wc -w) lib layers and $(echo $progs | wc -w) programs)"
exit $fail
