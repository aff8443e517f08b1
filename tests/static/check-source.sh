#!/bin/sh
# check-source.sh - source rules that a compiler does not enforce (STYLE.md):
#  1. banned calls: strcpy strcat sprintf vsprintf gets strtok system popen
#     (and any exec of a shell)
#  2. layering: lib/ util modules include no mail or server module, mail
#     modules include no server module; every lib/ module is in a layer
#  3. Berkeley DB (<db.h>) only in lib/db.c
#  4. cppcheck finds nothing (when installed)
# The files are lib/ and the directory of every program Makefile.am builds
# (NAME_NAME_SOURCES); a missing or empty directory, or no program found,
# is a failure, never a silent pass.
srcdir=${srcdir:-.}
cd "$srcdir" || exit 1
fail=0
say() { echo "check-source: $*"; fail=1; }

progs=$(sed -n 's/^\([a-z][a-z0-9]*\)_\1_SOURCES.*/\1/p' Makefile.am)
[ -n "$progs" ] && [ "$(echo "$progs" | wc -l)" -ge 8 ] ||
    say "fewer than 8 programs found in Makefile.am: $(echo $progs)"
files=
for d in lib $progs; do
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
util="buf util log privdrop passwd sasl ktab cfg_edit"
mail="qid qfile addr net config config_params cfg mcf ipc db
users aliases header restr dkim dkim_client dns dns_async dns_priv dns_query smtpreply dsn tls spf
maps maps_priv maps_text maps_db maps_cidr maps_re access maillog metrics
policy"
server="skel cfcheck ipc_client metrics_client"
for m in $util $mail $server; do
	[ -f "lib/$m.c" ] || [ -f "lib/$m.h" ] ||
	    say "layer lists name $m, but there is no lib/$m.c or lib/$m.h"
done
for f in lib/*.[ch]; do
	m=$(basename "$f"); m=${m%.?}
	case " $(echo $util $mail $server) " in
	*" $m "*) ;;
	*) say "$f is in no layer (util, mail or server in $0)" ;;
	esac
done
for m in $util; do
	for f in lib/$m.c lib/$m.h; do
		[ -f "$f" ] || continue
		for h in $mail $server; do
			grep -q "#include \"$h.h\"" "$f" &&
			    say "$f (util layer) includes $h.h (higher layer)"
		done
	done
done
for m in $mail; do
	for f in lib/$m.c lib/$m.h; do
		[ -f "$f" ] || continue
		for h in $server; do
			grep -q "#include \"$h.h\"" "$f" &&
			    say "$f (mail layer) includes $h.h (server layer)"
		done
	done
done

# 3. Berkeley DB behind lib/db only
bad=$(grep -ln '#include <db.h>' $files | grep -v '^lib/db.c$')
[ -n "$bad" ] && say "Berkeley DB used outside lib/db.c: $bad"

# 4. cppcheck
if command -v cppcheck >/dev/null 2>&1; then
	out=$(cppcheck -q --enable=warning,portability --error-exitcode=1 \
	    --inline-suppr -D_GNU_SOURCE -DDB_VERSION_MAJOR=5 -I lib $(echo "$files" | grep '\.c$') 2>&1) ||
	    say "cppcheck:
$out"
else
	say "cppcheck not installed (apt-get install cppcheck)"
fi

[ $fail = 0 ] && echo "check-source: ok ($(echo $files | wc -w) files: lib/ and" \
    "$(echo $progs | wc -w) program directories)"
exit $fail
