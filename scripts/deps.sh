#!/bin/sh
# deps.sh - install what youju needs on Debian 12, with apt-get, as root.
#
#   scripts/deps.sh build    the libraries and tools to build
#   scripts/deps.sh test     build + what the test suite runs against
#   scripts/deps.sh bench    test + Postfix (smtp-source/smtp-sink, the peer)
#
# Only missing packages are installed; "apt-get update" runs only when
# something is missing.  Without root it prints what is missing and fails.
set -eu

BUILD="autoconf automake make gcc pkg-config libssl-dev libsodium-dev
libevent-dev libunbound-dev libdb-dev libpam0g-dev libcrypt-dev
libsystemd-dev libpcre2-dev"
TEST="python3 swaks libnet-ssleay-perl cppcheck mandoc openssl procps
dovecot-imapd clang libclang-rt-14-dev dnsmasq python3-aiosmtpd strace
python3-dkim opendkim opendkim-tools logrotate curl prometheus postgrey
postfix-policyd-spf-python"
BENCH="postfix postfix-pcre bc"

case "${1:-build}" in
build) want="$BUILD" ;;
test) want="$BUILD $TEST" ;;
bench) want="$BUILD $TEST $BENCH" ;;
*) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Postfix is only the benchmark's peer and load generator: no configuration
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections 2>/dev/null || true
apt-get update -q >/dev/null
# packages with daemons (dovecot, postfix) must not start them: the tests
# run their own instances on loopback ports
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy=/usr/sbin/policy-rc.d
fi
# shellcheck disable=SC2086
rc=0
apt-get install -y -q --no-install-recommends $missing >/dev/null || rc=$?
[ -n "$policy" ] && rm -f "$policy"
exit $rc
