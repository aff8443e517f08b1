#!/bin/sh
# run.sh - build the libFuzzer targets in tests/fuzz and run each of them.
#
#	tests/fuzz/run.sh [BUILD_DIR]		(default .build/fuzz)
#
# Builds lib/ (without db.c and skel.c) and every tests/fuzz/fuzz_*.c with
# clang -fsanitize=fuzzer,address,undefined into BUILD_DIR, then runs each
# target for FUZZ_SECONDS (default 10) over a fresh copy of its corpus
# (tests/fuzz/corpus/NAME is never written to).  FUZZ_SECONDS=0 only
# replays the corpus (-runs=0): the regression mode.  FUZZ_TARGETS="addr
# qfile" runs a subset.  One line per target: "fuzz_X: ok (N runs)" or
# "fuzz_X: FAILED" with the crash file and the log.  Exit status 1 when a
# target fails or does not build.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-"$top/.build/fuzz"}
mkdir -p "$build" || exit 1
build=$(cd "$build" && pwd)
secs=${FUZZ_SECONDS:-10}
CC=${CC:-clang}
# every fuzz_*.c here is a target (tests/run expects a line from each)
targets=${FUZZ_TARGETS:-$(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}

case $secs in
''|*[!0-9]*) echo "run.sh: FUZZ_SECONDS must be a number" >&2; exit 1 ;;
esac

cflags="-g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
-Wall -Wextra -Wno-unused-parameter $(pkg-config --cflags libsodium) \
$(pkg-config --cflags libunbound) $(pkg-config --cflags libcrypto) \
$(pkg-config --cflags libpcre2-8)"
libs="$(pkg-config --libs libsodium) $(pkg-config --libs libunbound) \
$(pkg-config --libs libcrypto) $(pkg-config --libs libpcre2-8) -lcrypt"
san=address,undefined

# lib/'s layers, one directory each: headers are included by basename
libinc=
for d in "$top"/lib/*/; do
	libinc="$libinc -iquote ${d%/}"
done

# fuzz_cc - the compiler with the flags every object needs
fuzz_cc() {
	# shellcheck disable=SC2086
	$CC $libinc -D_GNU_SOURCE -DYOUJU_VERSION='"fuzz"' \
	    -DYOUJU_LIBEXECDIR='"/nonexistent"' \
	    -DYOUJU_SYSCONFDIR='"/nonexistent"' $cflags "$@"
}

# fuzz_maxlen - the -max_len of a target
fuzz_maxlen() {
	case $1 in
	addr) echo 4096 ;;
	ipc) echo 65600 ;;	# a frame over IPC_HDR + IPC_MAX_PAYLOAD too
	maps) echo 4096 ;;	# every rule is tried for every key
	*) echo 65536 ;;
	esac
}

# fuzz_stale - is $1 missing or older than any of the other files
fuzz_stale() {
	out=$1
	shift
	[ -f "$out" ] || return 0
	[ -n "$(find "$@" -newer "$out" 2>/dev/null | head -n 1)" ]
}

# fuzz_build_lib - lib/*/*.o with coverage, in one archive
fuzz_build_lib() {
	mkdir -p "$build/lib" || return 1
	objs=
	for src in "$top"/lib/*/*.c; do
		case $src in
		*/db.c|*/skel.c) continue ;;
		esac
		obj=$build/lib/$(basename "$src" .c).o
		objs="$objs $obj"
		fuzz_stale "$obj" "$src" "$top"/lib/*/*.h || continue
		fuzz_cc -fsanitize=fuzzer-no-link,$san -c -o "$obj" "$src" ||
		    return 1
	done
	# shellcheck disable=SC2086
	if fuzz_stale "$build/libyouju-fuzz.a" $objs; then
		rm -f "$build/libyouju-fuzz.a"
		ar cr "$build/libyouju-fuzz.a" $objs || return 1
	fi
	return 0
}

# fuzz_build - one target
fuzz_build() {
	src=$here/fuzz_$1.c
	bin=$build/fuzz_$1
	[ -f "$src" ] || return 1
	fuzz_stale "$bin" "$src" "$here/fuzz.h" "$build/libyouju-fuzz.a" ||
	    return 0
	# shellcheck disable=SC2086
	fuzz_cc -fsanitize=fuzzer,$san -o "$bin" "$src" \
	    "$build/libyouju-fuzz.a" $libs
}

# fuzz_run - run one built target; prints its line, returns 1 on failure
fuzz_run() {
	t=$1
	bin=$build/fuzz_$t
	work=$build/run/$t
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/crashes" || return 1
	if [ -d "$here/corpus/$t" ]; then
		cp -R "$here/corpus/$t"/. "$work/corpus/" || return 1
	fi
	set -- -max_len="$(fuzz_maxlen "$t")" -timeout=20 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$work/crashes/"
	[ -f "$here/dict/$t.dict" ] && set -- "$@" -dict="$here/dict/$t.dict"
	if [ "$secs" -eq 0 ]; then
		set -- "$@" -runs=0
	else
		set -- "$@" -max_total_time="$secs"
	fi
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	    "$bin" "$@" "$work/corpus" >"$work/log" 2>&1
	rc=$?
	crash=
	for f in "$work"/crashes/*; do
		[ -e "$f" ] && crash=$f && break
	done
	if [ $rc -eq 0 ] && [ -z "$crash" ]; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$work/log" | tail -n 1)
		echo "fuzz_$t: ok (${runs:-?} runs)"
		return 0
	fi
	echo "fuzz_$t: FAILED"
	if [ -n "$crash" ]; then
		echo "  crash: $crash"
	fi
	echo "  log:   $work/log"
	grep -m 3 -E '^(==[0-9]+==ERROR|.*runtime error|.*property broken|SUMMARY)' \
	    "$work/log" | sed 's/^/  /'
	return 1
}

fail=0
if ! fuzz_build_lib; then
	echo "run.sh: lib/ does not build" >&2
	for t in $targets; do
		echo "fuzz_$t: FAILED (build)"
	done
	exit 1
fi
for t in $targets; do
	if ! fuzz_build "$t"; then
		echo "fuzz_$t: FAILED (build)"
		fail=1
		continue
	fi
	fuzz_run "$t" || fail=1
done
exit $fail
