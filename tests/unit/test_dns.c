/*
 * test_dns.c - tests for lib/dns/dns.c and lib/dns/dns_query.c: name
 * validation, MX rdata parsing, the MX list (null MX, duplicates, limits),
 * sorting and shuffling, domain literals, TXT rdata joining and zone-file
 * splitting, PTR names (malformed input first), then real lookups through
 * libunbound against a dnsmasq this test starts on a free loopback port (MX,
 * TXT of several strings, PTR in a reverse zone unbound would otherwise answer
 * itself), and the deadline against a server that never answers.
 *
 * dnsmasq is required: without it the test fails and says so.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "dns.h"
#include "t.h"
#include "util.h"

/* test_valid_name - dns_valid_name table */
static void
test_valid_name(void)
{
	static const char *const bad[] = { "", ".", "..", "a..b", ".a", "a.",
	    "-a.example", "a-.example", "a.-b.example", "a_b.example",
	    "a b.example", "a\tb", "\xc3\xa9.example", "1.2.3.4", "a.123",
	    "example.com.", "[192.0.2.1]", "a@b.example", "a/b" };
	static const char *const good[] = { "a", "localhost", "example.com",
	    "a-b.example", "xn--bcher-kva.example", "123.example.com",
	    "a.b1", "A.EXAMPLE", "0a.1b" };
	char	 name[300];
	size_t	 i;

	T_EQ_INT(dns_valid_name(NULL), 0, "NULL");
	for (i = 0; i < NELEM(bad); i++)
		T_EQ_INT(dns_valid_name(bad[i]), 0, bad[i]);
	for (i = 0; i < NELEM(good); i++)
		T_EQ_INT(dns_valid_name(good[i]), 1, good[i]);
	/* a 63-byte label is fine, 64 is not */
	memset(name, 'a', 64);
	memcpy(name + 64, ".example", 9);
	T_EQ_INT(dns_valid_name(name), 0, "64-byte label");
	T_EQ_INT(dns_valid_name(name + 1), 1, "63-byte label");
	/* 253 bytes in total are fine, 254 are not */
	for (i = 0; i < 254; i++)
		name[i] = i % 2 == 0 ? 'a' : '.';
	name[253] = '\0';
	T_EQ_INT(dns_valid_name(name), 1, "253 bytes");
	name[253] = 'b';
	name[254] = '\0';
	T_EQ_INT(dns_valid_name(name), 0, "254 bytes");
}

struct mx_case {
	const char	*rd;
	size_t		 len;
	int		 ret;
	int		 pref;
	const char	*host;
};

#define MX(s)	s, sizeof(s) - 1

static const struct mx_case mx_cases[] = {
	/* malformed */
	{ MX(""), -1, 0, NULL },
	{ MX("\x00"), -1, 0, NULL },
	{ MX("\x00\x0a"), -1, 0, NULL },
	{ MX("\x00\x0a\x02mx"), -1, 0, NULL },		/* no root label */
	{ MX("\x00\x0a\x03mx\x00"), -1, 0, NULL },	/* label past end */
	{ MX("\x00\x0a\x02mx\x00\x00"), -1, 0, NULL },	/* trailing byte */
	{ MX("\x00\x0a\xc0\x0c"), -1, 0, NULL },	/* compression */
	{ MX("\x00\x0a\x02mx\xc0\x0c"), -1, 0, NULL },
	{ MX("\x00\x0a\x40xx\x00"), -1, 0, NULL },	/* label type 01 */
	{ MX("\x00\x0a\x80xx\x00"), -1, 0, NULL },	/* label type 10 */
	{ MX("\x00\x0a\x3f"), -1, 0, NULL },
	/* good */
	{ MX("\x00\x00\x00"), 0, 0, "." },
	{ MX("\x00\x0a\x02mx\x07" "example\x03" "com\x00"), 0, 10,
	    "mx.example.com" },
	{ MX("\xff\xff\x02MX\x02" "Ex\x00"), 0, 65535, "mx.ex" },
	{ MX("\x00\x01\x03" "a.b\x02" "ex\x00"), 0, 1, "a?b.ex" },
	{ MX("\x00\x01\x03" "a\0b\x02" "ex\x00"), 0, 1, "a?b.ex" },
	{ MX("\x00\x01\x03" "a b\x00"), 0, 1, "a?b" },
};

/* test_parse_mx - dns_parse_mx table and the 255-byte name limit */
static void
test_parse_mx(void)
{
	unsigned char	 rd[300], *copy;
	char		 host[DNS_NAME_MAX + 1];
	size_t		 i, p;
	int		 pref, r;

	for (i = 0; i < NELEM(mx_cases); i++) {
		copy = malloc(mx_cases[i].len + 1);
		memcpy(copy, mx_cases[i].rd, mx_cases[i].len);
		host[0] = '\0';
		r = dns_parse_mx(copy, mx_cases[i].len, &pref, host,
		    sizeof(host));
		T_EQ_INT(r, mx_cases[i].ret, "mx case return");
		if (r == 0 && mx_cases[i].ret == 0) {
			T_EQ_INT(pref, mx_cases[i].pref, "preference");
			T_EQ_STR(host, mx_cases[i].host, "host");
		}
		free(copy);
	}
	/* 4 labels of 63 = 256 wire bytes with the root: too long */
	rd[0] = 0;
	rd[1] = 5;
	for (p = 2, i = 0; i < 4; i++) {
		rd[p++] = 63;
		memset(rd + p, 'a', 63);
		p += 63;
	}
	rd[p++] = 0;
	T_EQ_INT(dns_parse_mx(rd, p, &pref, host, sizeof(host)), -1,
	    "name of 257 wire bytes");
	/* 3 x 63 + 61 = 255 wire bytes: the longest name */
	rd[2 + 3 * 64] = 61;
	rd[2 + 3 * 64 + 62] = 0;
	p = 2 + 3 * 64 + 63;
	T_EQ_INT(dns_parse_mx(rd, p, &pref, host, sizeof(host)), 0,
	    "name of 255 wire bytes");
	T_EQ_INT(strlen(host), 253, "253 text bytes");
	T_EQ_INT(dns_valid_name(host), 1, "and valid");
	T_EQ_INT(dns_parse_mx(rd, p, &pref, host, 100), -1, "small buffer");
}

/* mx_list - run dns_mx_list over a list of rdata strings */
static int
mx_list(const char *const *rd, const int *len, size_t n,
    struct dns_target *t, size_t *nt)
{
	char	 why[256];

	return dns_mx_list("example.test", (char *const *)rd, len, n, t, nt,
	    why, sizeof(why));
}

/* test_mx_list - null MX, duplicates, invalid names, limits */
static void
test_mx_list(void)
{
	static const char *const nullmx[] = { "\x00\x00\x00" };
	static const char *const nullmx10[] = { "\x00\x0a\x00" };
	static const char *const mixed[] = { "\x00\x00\x00",
	    "\x00\x0a\x02mx\x02" "ex\x00" };
	static const char *const dups[] = { "\x00\x14\x02mx\x02" "ex\x00",
	    "\x00\x0a\x02MX\x02" "ex\x00", "\x00\x05\x02mz\x02" "ex\x00",
	    "\x00\x05\x03" "a_b\x02" "ex\x00" };
	static const char *const broken[] = { "\x00\x0a\x02mx\x02" "ex\x00",
	    "\x00\x0a\xc0\x0c" };
	const char	*many[DNS_MAX_RR + 1];
	int		 len[DNS_MAX_RR + 1];
	char		 rd[12][16];
	struct dns_target t[DNS_MAX_TARGETS];
	size_t		 n, i;

	len[0] = 3;
	T_EQ_INT(mx_list(nullmx, len, 1, t, &n), DNS_NULLMX, "null MX");
	T_EQ_INT(n, 0, "no targets");
	T_EQ_INT(mx_list(nullmx10, len, 1, t, &n), DNS_TEMPFAIL,
	    "\".\" with preference 10: no valid host");
	len[1] = 9;
	T_EQ_INT(mx_list(mixed, len, 2, t, &n), DNS_OK, "\".\" among others");
	T_OK(n == 1 && strcmp(t[0].host, "mx.ex") == 0, "only mx.ex");
	len[0] = len[1] = len[2] = 9;
	len[3] = 10;
	T_EQ_INT(mx_list(dups, len, 4, t, &n), DNS_OK, "duplicates");
	T_EQ_INT(n, 2, "one per host, invalid name dropped");
	T_OK(strcmp(t[0].host, "mz.ex") == 0 && t[0].pref == 5 &&
	    strcmp(t[1].host, "mx.ex") == 0 && t[1].pref == 10,
	    "sorted, lower preference of a duplicate kept");
	len[1] = 4;
	T_EQ_INT(mx_list(broken, len, 2, t, &n), DNS_TEMPFAIL, "malformed");
	len[1] = -1;
	T_EQ_INT(mx_list(broken, len, 2, t, &n), DNS_TEMPFAIL, "length < 0");
	T_EQ_INT(mx_list(broken, len, 0, t, &n), DNS_TEMPFAIL, "none");
	/* 12 hosts: the 10 best are kept, in order */
	for (i = 0; i < 12; i++) {
		memcpy(rd[i], "\x00\x00\x03mxA\x02" "ex\x00", 10);
		rd[i][1] = (char)(100 - i);
		rd[i][5] = (char)('a' + i);
		many[i] = rd[i];
		len[i] = 10;
	}
	T_EQ_INT(mx_list(many, len, 12, t, &n), DNS_OK, "12 MX");
	T_EQ_INT(n, DNS_MAX_TARGETS, "capped");
	T_OK(t[0].pref == 89 && strcmp(t[0].host, "mxl.ex") == 0 &&
	    t[9].pref == 98, "best first");
	for (i = 0; i <= DNS_MAX_RR; i++) {
		many[i] = rd[0];
		len[i] = 10;
	}
	T_EQ_INT(mx_list(many, len, DNS_MAX_RR + 1, t, &n), DNS_TEMPFAIL,
	    "more than DNS_MAX_RR records");
	T_EQ_INT(mx_list(many, len, DNS_MAX_RR, t, &n), DNS_OK,
	    "DNS_MAX_RR records (all the same host)");
	T_EQ_INT(n, 1, "one host");
}

/* test_sort - by preference; equal preferences shuffled */
static void
test_sort(void)
{
	static const int prefs[] = { 30, 10, 20, 10, 0, 65535, 20, 10 };
	struct dns_target t[NELEM(prefs)], keep[NELEM(prefs)];
	int		 first[3] = { 0, 0, 0 }, sorted = 1;
	size_t		 i, round;

	for (round = 0; round < 300; round++) {
		memset(t, 0, sizeof(t));
		for (i = 0; i < NELEM(prefs); i++) {
			t[i].pref = prefs[i];
			util_fmt(t[i].host, sizeof(t[i].host), "h%zu", i);
		}
		dns_sort_mx(t, NELEM(prefs));
		for (i = 1; i < NELEM(prefs); i++)
			sorted &= t[i - 1].pref <= t[i].pref;
		/* the three of preference 10 are t[1..3] */
		first[0] += strcmp(t[1].host, "h1") == 0;
		first[1] += strcmp(t[1].host, "h3") == 0;
		first[2] += strcmp(t[1].host, "h7") == 0;
	}
	T_OK(sorted, "always sorted by preference");
	T_OK(first[0] > 0 && first[1] > 0 && first[2] > 0,
	    "each equal host comes first sometimes (%d %d %d)", first[0],
	    first[1], first[2]);
	T_OK(strcmp(t[0].host, "h4") == 0 && strcmp(t[7].host, "h5") == 0,
	    "lowest first, highest last");
	/* out of order: a sort of 0 or 1 elements must leave all of it */
	t[0].pref = 30;
	t[1].pref = 10;
	memcpy(keep, t, sizeof(keep));
	dns_sort_mx(t, 0);
	T_OK(memcmp(t, keep, sizeof(keep)) == 0, "0 elements: nothing moved");
	dns_sort_mx(t, 1);
	T_OK(memcmp(t, keep, sizeof(keep)) == 0, "1 element: nothing moved");
}

/* test_literals - domain literals and addresses: no lookup needed */
static void
test_literals(struct dns *d)
{
	static const char *const bad[] = { "[]", "[1.2.3]", "[1.2.3.4",
	    "[1.2.3.4]x", "[IPv6:zz]", "[IPv6:1.2.3.4]", "[::1]",
	    "[1.2.3.4.5]", "[ 1.2.3.4]", "[IPv6:]",
	    "[IPv6:0000:0000:0000:0000:0000:0000:0000:0000:0000]" };
	struct dns_target t[DNS_MAX_TARGETS];
	char		 why[256], txt[64];
	size_t		 n, i;

	for (i = 0; i < NELEM(bad); i++) {
		n = 99;
		T_EQ_INT(dns_targets(d, bad[i], 1, t, &n, why, sizeof(why)),
		    DNS_NOTFOUND, bad[i]);
		T_EQ_INT(n, 0, "no target");
	}
	T_EQ_INT(dns_targets(d, "[192.0.2.1]", 1, t, &n, why, sizeof(why)),
	    DNS_OK, "[192.0.2.1]");
	T_OK(n == 1 && t[0].naddr == 1 && t[0].addr[0].family == AF_INET &&
	    strcmp(t[0].host, "[192.0.2.1]") == 0 &&
	    strcmp(dns_addr_text(&t[0].addr[0], txt, sizeof(txt)),
	    "192.0.2.1") == 0, "IPv4 literal target");
	T_EQ_INT(dns_targets(d, "[ipv6:2001:DB8:0::1]", 1, t, &n, why,
	    sizeof(why)), DNS_OK, "IPv6 literal");
	T_OK(n == 1 && t[0].naddr == 1 && t[0].addr[0].family == AF_INET6 &&
	    strcmp(t[0].host, "[IPv6:2001:db8::1]") == 0, "IPv6 target %s",
	    t[0].host);
	T_EQ_INT(dns_host(d, "192.0.2.7", 1, &t[0], why, sizeof(why)),
	    DNS_OK, "dns_host address");
	T_OK(t[0].naddr == 1 && t[0].addr[0].family == AF_INET, "one addr");
	T_EQ_INT(dns_host(d, "::1", 1, &t[0], why, sizeof(why)), DNS_OK,
	    "dns_host IPv6 address");
	T_EQ_INT(dns_host(d, "[192.0.2.8]", 1, &t[0], why, sizeof(why)),
	    DNS_OK, "dns_host literal");
	T_EQ_INT(dns_host(d, "bad_name", 1, &t[0], why, sizeof(why)),
	    DNS_NOTFOUND, "dns_host invalid name");
	T_EQ_INT(dns_targets(d, "bad..name", 1, t, &n, why, sizeof(why)),
	    DNS_NOTFOUND, "dns_targets invalid domain");
	T_EQ_STR(dns_addr_text(&(struct dns_addr){ 99, { 0 } }, txt,
	    sizeof(txt)), "?", "unknown family");
}

/* test_new - dns_new refuses bad server addresses */
static void
test_new(void)
{
	static const char *const bad[] = { "nonsense", "host.example:53",
	    "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:x", "[::1",
	    "[::1]x", "[::1]:", ":53", "1.2.3.4:53:53" };
	static const char *const good[] = { "127.0.0.1", "127.0.0.1:5353",
	    "[127.0.0.1]:5353", "::1", "[::1]:53" };
	struct dns	*d;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		d = dns_new(bad[i], err, sizeof(err));
		T_OK(d == NULL && err[0] != '\0', "bad server %s: %s", bad[i],
		    err);
		dns_free(d);
	}
	for (i = 0; i < NELEM(good); i++) {
		d = dns_new(good[i], err, sizeof(err));
		T_OK(d != NULL, "server %s", good[i]);
		dns_free(d);
	}
}

/* free_port - a loopback port nobody uses right now (UDP and TCP) */
static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t	 sl = sizeof(sin);
	int		 u, t, port = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((u = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	if (bind(u, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(u, (struct sockaddr *)&sin, &sl) == 0 &&
	    (t = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
		if (bind(t, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			port = ntohs(sin.sin_port);
		close(t);
	}
	close(u);
	return port;
}

/* tcp_ready - something accepts TCP on 127.0.0.1:port */
static int
tcp_ready(int port)
{
	struct sockaddr_in sin;
	int		 s, ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	ok = connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(s);
	return ok;
}

/* dnsmasq_path - the dnsmasq binary, or NULL */
static const char *
dnsmasq_path(void)
{
	static const char *const where[] = { "/usr/sbin/dnsmasq",
	    "/usr/local/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq" };
	size_t	 i;

	for (i = 0; i < NELEM(where); i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

/* dnsmasq_start - dnsmasq with the test zone on 127.0.0.1:port; pid */
static pid_t
dnsmasq_start(const char *bin, int port)
{
	char	 portarg[32];
	char	*argv[] = { (char *)"dnsmasq", (char *)"--no-daemon",
	    (char *)"--conf-file=/dev/null", (char *)"--pid-file=",
	    (char *)"--no-resolv", (char *)"--no-hosts", portarg,
	    (char *)"--listen-address=127.0.0.1", (char *)"--bind-interfaces",
	    (char *)"--local=/test/",
	    (char *)"--mx-host=example.test,mx1.example.test,10",
	    (char *)"--mx-host=example.test,mx2.example.test,20",
	    (char *)"--host-record=mx1.example.test,127.0.0.2",
	    (char *)"--host-record=mx2.example.test,127.0.0.3,fd00::3",
	    (char *)"--host-record=aonly.test,127.0.0.4",
	    (char *)"--txt-record=nomail.test,nothing",
	    (char *)"--mx-host=cname.test,alias.example.test,5",
	    (char *)"--cname=alias.example.test,mx1.example.test",
	    (char *)"--mx-host=noaddr.test,nothere.test,10",
	    (char *)"--mx-host=badmx.test,bad_name.test,10",
	    (char *)"--mx-host=nullmx.test,.,0",
	    /* raw MX rdata: "0 ." beside "10 mx1.example.test" */
	    (char *)"--dns-rr=nullmix.test,15,000000",
	    (char *)"--dns-rr=nullmix.test,15,000a036d7831076578616d706c65"
	    "0474657374" "00",
	    /* raw MX rdata that ends inside a label: a malformed answer */
	    (char *)"--dns-rr=badwire.test,15,000a03ab",
	    /* a DNSBL entry for 192.0.2.7, with a reason */
	    (char *)"--host-record=7.2.0.192.rbl.test,127.0.0.2",
	    (char *)"--txt-record=7.2.0.192.rbl.test,listed for spam",
	    /* dns_query: TXT of two strings, two TXT records, PTR */
	    (char *)"--txt-record=s1._domainkey.example.test,v=DKIM1; k=rsa; ,"
	    "p=ABCDEF",
	    (char *)"--txt-record=example.test,v=spf1 mx -all",
	    (char *)"--txt-record=example.test,other",
	    (char *)"--local=/2.0.192.in-addr.arpa/",
	    (char *)"--ptr-record=25.2.0.192.in-addr.arpa,mx1.example.test",
	    (char *)"--ptr-record=25.0.0.127.in-addr.arpa,mx1.example.test",
	    NULL };
	pid_t	 pid;
	int	 fd, i;

	util_fmt(portarg, sizeof(portarg), "--port=%d", port);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (getenv("TEST_DNS_VERBOSE") == NULL)
				dup2(fd, 2);
		}
		execv(bin, argv);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		if (tcp_ready(port))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(50000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return -1;
}

/* has_addr - target has this printable address */
static int
has_addr(const struct dns_target *t, const char *want)
{
	char	 txt[64];
	size_t	 i;

	for (i = 0; i < t->naddr; i++)
		if (strcmp(dns_addr_text(&t->addr[i], txt, sizeof(txt)),
		    want) == 0)
			return 1;
	return 0;
}

/* test_lookups - real answers from dnsmasq through libunbound */
static void
test_lookups(struct dns *d)
{
	struct dns_target t[DNS_MAX_TARGETS];
	char		 why[256];
	uint64_t	 t0, ms;
	size_t		 n;
	int		 r;

	r = dns_targets(d, "example.test", 5, t, &n, why, sizeof(why));
	T_EQ_INT(r, DNS_OK, "example.test MX");
	T_OK(n == 2 && strcmp(t[0].host, "mx1.example.test") == 0 &&
	    t[0].pref == 10 && strcmp(t[1].host, "mx2.example.test") == 0 &&
	    t[1].pref == 20, "two MX in preference order");
	T_OK(n == 2 && t[0].naddr == 1 && has_addr(&t[0], "127.0.0.2"),
	    "mx1 address");
	T_OK(n == 2 && t[1].naddr == 2 && has_addr(&t[1], "127.0.0.3") &&
	    has_addr(&t[1], "fd00::3") && t[1].addr[0].family == AF_INET,
	    "mx2 IPv4 then IPv6");
	r = dns_targets(d, "EXAMPLE.test.", 5, t, &n, why, sizeof(why));
	T_OK(r == DNS_OK && n == 2, "case and trailing dot");
	r = dns_targets(d, "aonly.test", 5, t, &n, why, sizeof(why));
	T_EQ_INT(r, DNS_OK, "NODATA for MX: implicit MX");
	T_OK(n == 1 && strcmp(t[0].host, "aonly.test") == 0 &&
	    t[0].pref == 0 && t[0].naddr == 1 && has_addr(&t[0], "127.0.0.4"),
	    "the domain itself");
	r = dns_targets(d, "nx.test", 5, t, &n, why, sizeof(why));
	T_EQ_INT(r, DNS_NOTFOUND, "NXDOMAIN");
	T_OK(n == 0 && strstr(why, "nx.test") != NULL, "why: %s", why);
	r = dns_targets(d, "nomail.test", 5, t, &n, why, sizeof(why));
	T_EQ_INT(r, DNS_NOTFOUND, "no MX, no A/AAAA: not found");
	r = dns_targets(d, "cname.test", 5, t, &n, why, sizeof(why));
	T_OK(r == DNS_OK && n == 1 &&
	    strcmp(t[0].host, "alias.example.test") == 0 &&
	    has_addr(&t[0], "127.0.0.2"), "MX host behind a CNAME");
	r = dns_targets(d, "noaddr.test", 5, t, &n, why, sizeof(why));
	T_OK(r == DNS_OK && n == 1 && t[0].naddr == 0,
	    "MX host without address kept with naddr 0 (%d)", r);
	r = dns_targets(d, "badmx.test", 5, t, &n, why, sizeof(why));
	T_EQ_INT(r, DNS_TEMPFAIL, "only an invalid MX name");
	r = dns_targets(d, "nullmx.test", 5, t, &n, why, sizeof(why));
	T_OK(r == DNS_NULLMX && n == 0, "null MX (%d): %s", r, why);
	r = dns_targets(d, "nullmix.test", 5, t, &n, why, sizeof(why));
	T_OK(r == DNS_OK && n == 1 &&
	    strcmp(t[0].host, "mx1.example.test") == 0 && t[0].naddr == 1,
	    "\".\" beside another MX is not a null MX (%d)", r);
	r = dns_targets(d, "badwire.test", 5, t, &n, why, sizeof(why));
	T_OK(r == DNS_TEMPFAIL && n == 0, "malformed answer: TEMPFAIL (%d)",
	    r);
	/* dnsmasq refuses names outside its zones: SERVFAIL, at once */
	t0 = util_mono_ms();
	r = dns_targets(d, "refused.example", 5, t, &n, why, sizeof(why));
	ms = util_mono_ms() - t0;
	T_OK(r == DNS_TEMPFAIL && ms < 2000, "SERVFAIL: TEMPFAIL in %llu ms: "
	    "%s", (unsigned long long)ms, why);
	r = dns_host(d, "mx2.example.test", 5, &t[0], why, sizeof(why));
	T_OK(r == DNS_OK && t[0].naddr == 2 &&
	    strcmp(t[0].host, "mx2.example.test") == 0, "dns_host");
	r = dns_host(d, "nothere.test", 5, &t[0], why, sizeof(why));
	T_EQ_INT(r, DNS_NOTFOUND, "dns_host NXDOMAIN");
}

/* test_answer_fill - raw records into text, malformed ones skipped */
static void
test_answer_fill(void)
{
	struct dns_answer a;
	char	*ad[] = { (char *)"\x7f\x00\x00\x02", (char *)"\x01\x02",
	    NULL };
	int	 al[] = { 4, 2 };
	char	*td[] = { (char *)"\x05" "ab\x1b\xff" "z", (char *)"\x09short",
	    (char *)"", NULL };
	int	 tl[] = { 6, 6, 0 };
	char	*md[] = { (char *)"\x00\x00\x00", NULL };
	int	 ml[] = { 3 };
	char	*bd[] = { (char *)"\x00\x0a\x03" "bad_\x00", NULL };
	int	 bl[] = { 7 };
	/* PTR: numeric tail, '_', truncated, a pointer, then a good name */
	char	*pd[] = { (char *)"\x01" "1\x03" "123\x00",
	    (char *)"\x03" "a_b\x00", (char *)"\x05" "ab",
	    (char *)"\xc0\x0c", (char *)"\x04" "Mail\x04" "test\x00", NULL };
	int	 pl[] = { 7, 5, 3, 2, 11 };
	char	 name[300];

	dns_answer_fill(DNS_Q_A, 1, 3, NULL, NULL, &a);
	T_EQ_INT(a.status, DNS_NOTFOUND, "NXDOMAIN");
	dns_answer_fill(DNS_Q_A, 0, 2, NULL, NULL, &a);
	T_EQ_INT(a.status, DNS_TEMPFAIL, "SERVFAIL");
	dns_answer_fill(DNS_Q_A, 0, 0, NULL, NULL, &a);
	T_EQ_INT(a.status, DNS_EMPTY, "no data");
	dns_answer_fill(DNS_Q_A, 0, 0, ad, al, &a);
	T_OK(a.status == DNS_OK && a.n == 1 &&
	    strcmp(a.text[0], "127.0.0.2") == 0, "A; a 2-byte record skipped");
	dns_answer_fill(DNS_Q_TXT, 0, 0, td, tl, &a);
	T_OK(a.status == DNS_OK && a.n == 3 &&
	    strcmp(a.text[0], "ab??z") == 0 && strcmp(a.text[1], "") == 0 &&
	    strcmp(a.text[2], "") == 0,
	    "TXT: controls and 8-bit made '?', a length past the end and "
	    "an empty record give empty text");
	dns_answer_fill(DNS_Q_MX, 0, 0, md, ml, &a);
	T_EQ_INT(a.status, DNS_NULLMX, "MX 0 . is a null MX");
	dns_answer_fill(DNS_Q_MX, 0, 0, bd, bl, &a);
	T_EQ_INT(a.status, DNS_TEMPFAIL, "MX records, none usable");
	dns_answer_fill(DNS_Q_PTR, 0, 0, pd, pl, &a);
	T_OK(a.status == DNS_OK && a.n == 1 &&
	    strcmp(a.text[0], "mail.test") == 0,
	    "PTR: only the valid, non-numeric name, lower case");
	pd[4] = NULL;
	dns_answer_fill(DNS_Q_PTR, 0, 0, pd, pl, &a);
	T_EQ_INT(a.status, DNS_EMPTY, "PTR records, none usable: no name");
	T_EQ_INT(dns_rbl_name("192.0.2.7", "rbl.test", name, sizeof(name)), 0,
	    "rbl name v4");
	T_EQ_STR(name, "7.2.0.192.rbl.test", "reversed octets");
	T_EQ_INT(dns_rbl_name("2001:db8::1", "z.test", name, sizeof(name)), 0,
	    "rbl name v6");
	T_EQ_STR(name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d."
	    "0.1.0.0.2.z.test", "reversed nibbles");
	T_EQ_INT(dns_rbl_name("999.1.1.1", "z.test", name, sizeof(name)), -1,
	    "bad address");
	T_EQ_INT(dns_rbl_name("1.2.3.4", "bad zone", name, sizeof(name)), -1,
	    "bad zone");
	T_EQ_INT(dns_rbl_name("1.2.3.4", "z.test", name, 10), -1,
	    "too small");
	T_EQ_INT(dns_rbl_filter("127.0.0.2", "127.0.0.2"), 1, "exact");
	T_EQ_INT(dns_rbl_filter("127.0.0.2", "127.0.0.3"), 0, "exact miss");
	T_EQ_INT(dns_rbl_filter("127.0.0.[2..11]", "127.0.0.11"), 1, "range");
	T_EQ_INT(dns_rbl_filter("127.0.0.[2..11]", "127.255.255.254"), 0,
	    "range miss (a public resolver's error code)");
	T_EQ_INT(dns_rbl_filter("127.0.0.[2;4;10..11]", "127.0.0.4"), 1,
	    "list");
	T_EQ_INT(dns_rbl_filter("127.0.0.[2;4;10..11]", "127.0.0.3"), 0,
	    "list miss");
	T_EQ_INT(dns_rbl_filter("127.[0..1].0.2", "127.1.0.2"), 1,
	    "range in a middle octet");
	T_EQ_INT(dns_rbl_filter("127.0.0.2", "::1"), 0, "IPv6 answer");
	T_EQ_INT(dns_rbl_filter("127.0.0", "127.0.0.2"), -1, "three octets");
	T_EQ_INT(dns_rbl_filter("127.0.0.2.5", "127.0.0.2"), -1,
	    "five octets");
	T_EQ_INT(dns_rbl_filter("127.0.0.256", "127.0.0.2"), -1, "256");
	T_EQ_INT(dns_rbl_filter("127.0.0.[11..2]", "127.0.0.5"), -1,
	    "backwards range");
	T_EQ_INT(dns_rbl_filter("127.0.0.[2;]", "127.0.0.2"), -1,
	    "empty item");
	T_EQ_INT(dns_rbl_filter("127.0.0.[2", "127.0.0.2"), -1, "no ]");
	T_EQ_INT(dns_rbl_filter("127..0.2", "127.0.0.2"), -1, "empty octet");
	T_EQ_INT(dns_rbl_filter("", "127.0.0.2"), -1, "empty");
}

struct txt_case {
	const char	*rd;
	size_t		 len;
	int		 ret;
	const char	*want;
};

#define TX(s)	s, sizeof(s) - 1

static const struct txt_case txt_cases[] = {
	/* malformed */
	{ TX(""), -1, NULL },				/* no string at all */
	{ TX("\x05" "abc"), -1, NULL },			/* past the end */
	{ TX("\x02" "ab\x03" "cd"), -1, NULL },		/* second past end */
	{ TX("\xff"), -1, NULL },
	/* good */
	{ TX("\x00"), 0, "" },
	{ TX("\x03" "abc"), 0, "abc" },
	{ TX("\x03" "abc\x00\x02" "de"), 0, "abcde" },	/* empty in between */
	{ TX("\x07v=spf1 \x07mx -all"), 0, "v=spf1 mx -all" },
};

/* test_txt_join - TXT rdata into one text */
static void
test_txt_join(void)
{
	struct buf	 b;
	unsigned char	 rd[600];
	size_t		 i;
	int		 r;

	for (i = 0; i < NELEM(txt_cases); i++) {
		buf_init(&b, 4096);
		r = dns_txt_join((const unsigned char *)txt_cases[i].rd,
		    txt_cases[i].len, &b);
		T_OK(r == txt_cases[i].ret && (r != 0 ||
		    strcmp(buf_cstr(&b), txt_cases[i].want) == 0),
		    "txt join case %zu: %d \"%s\"", i, r, buf_cstr(&b));
		buf_free(&b);
	}
	T_EQ_INT(dns_txt_join(NULL, 3, &b), -1, "NULL rdata");
	/* 255 + 255 + 5 bytes join to 515; a limit of 514 refuses it */
	rd[0] = 255;
	memset(rd + 1, 'a', 255);
	rd[256] = 255;
	memset(rd + 257, 'b', 255);
	rd[512] = 5;
	memcpy(rd + 513, "ccccc", 5);
	buf_init(&b, 515);
	T_OK(dns_txt_join(rd, 518, &b) == 0 && b.len == 515 &&
	    b.data[254] == 'a' && b.data[255] == 'b' && b.data[514] == 'c',
	    "three strings, 515 bytes");
	buf_free(&b);
	buf_init(&b, 514);
	T_EQ_INT(dns_txt_join(rd, 518, &b), -1, "over the buffer's limit");
	buf_free(&b);
}

/* test_txt_zone - zone-file strings of at most 255 bytes, escaped */
static void
test_txt_zone(void)
{
	struct buf	 b, j;
	char		 v[600];
	unsigned char	 wire[700];
	size_t		 i, w, k;

	buf_init(&b, 4096);
	T_OK(dns_txt_zone("", 0, " ", &b) == 0 &&
	    strcmp(buf_cstr(&b), "\"\"") == 0, "empty value: \"\"");
	buf_reset(&b);
	T_OK(dns_txt_zone("a\"b\\c\x01\xe9", 7, " ", &b) == 0 &&
	    strcmp(buf_cstr(&b), "\"a\\\"b\\\\c\\001\\233\"") == 0,
	    "quote, backslash, control and 8-bit escaped: %s", buf_cstr(&b));
	buf_reset(&b);
	memset(v, 'x', 255);
	T_OK(dns_txt_zone(v, 255, " ", &b) == 0 && b.len == 257,
	    "255 bytes: one string");
	buf_reset(&b);
	for (i = 0; i < sizeof(v); i++)
		v[i] = (char)('a' + i % 26);
	T_OK(dns_txt_zone(v, 511, "\n\t", &b) == 0 &&
	    b.len == 511 + 6 + 4 && b.data[256] == '"' &&
	    b.data[257] == '\n' && b.data[258] == '\t' &&
	    b.data[259] == '"' && b.data[515] == '"' &&
	    b.data[518] == '"' && b.data[520] == '"',
	    "511 bytes: 255 + 255 + 1 with the separator");
	buf_free(&b);
	/* the strings, as wire rdata, join back to the value */
	buf_init(&b, 4096);
	buf_init(&j, 4096);
	dns_txt_zone(v, 600, " ", &b);
	for (i = w = 0; i < 600; i += k) {
		k = 600 - i < 255 ? 600 - i : 255;
		wire[w++] = (unsigned char)k;
		memcpy(wire + w, v + i, k);
		w += k;
	}
	T_OK(dns_txt_join(wire, w, &j) == 0 && j.len == 600 &&
	    memcmp(j.data, v, 600) == 0, "split and joined back");
	T_OK(strstr(buf_cstr(&b), "\" \"") != NULL &&
	    b.len == 600 + 3 * 2 + 2, "600 bytes: three strings");
	buf_free(&b);
	buf_free(&j);
	buf_init(&b, 10);
	T_EQ_INT(dns_txt_zone(v, 100, " ", &b), -1, "over the limit");
	buf_free(&b);
}

/* test_parse_name - PTR rdata and reverse names */
static void
test_parse_name(void)
{
	char	 name[DNS_NAME_MAX + 1];
	unsigned char big[300];
	size_t	 i;

	T_EQ_INT(dns_parse_name((const unsigned char *)"", 0, name,
	    sizeof(name)), -1, "empty");
	T_EQ_INT(dns_parse_name((const unsigned char *)"\x00", 1, name,
	    sizeof(name)), -1, "the root");
	T_EQ_INT(dns_parse_name((const unsigned char *)"\x04mail", 5, name,
	    sizeof(name)), -1, "no final root label");
	T_EQ_INT(dns_parse_name((const unsigned char *)"\x05mail\x00", 6,
	    name, sizeof(name)), -1, "label past the end");
	T_EQ_INT(dns_parse_name((const unsigned char *)"\xc0\x0c", 2, name,
	    sizeof(name)), -1, "compression pointer");
	T_EQ_INT(dns_parse_name((const unsigned char *)"\x01" "a\x00\x00", 4,
	    name, sizeof(name)), -1, "bytes after the name");
	T_EQ_INT(dns_parse_name((const unsigned char *)"\x04mail\x04test\x00",
	    11, name, 8), -1, "output too small");
	for (i = 0; i + 64 < sizeof(big); i += 64) {
		big[i] = 63;
		memset(big + i + 1, 'a', 63);
	}
	big[i] = 0;
	T_EQ_INT(dns_parse_name(big, i + 1, name, sizeof(name)), -1,
	    "longer than 255 bytes on the wire");
	T_OK(dns_parse_name((const unsigned char *)"\x04MaIl\x04t.st\x00",
	    11, name, sizeof(name)) == 0 && strcmp(name, "mail.t?st") == 0,
	    "lowercased, a dot inside a label made '?': %s", name);
	T_EQ_INT(dns_reverse_name("192.0.2.1", name, sizeof(name)), 0,
	    "reverse v4");
	T_EQ_STR(name, "1.2.0.192.in-addr.arpa", "in-addr.arpa");
	T_EQ_INT(dns_reverse_name("2001:db8::1", name, sizeof(name)), 0,
	    "reverse v6");
	T_OK(strncmp(name, "1.0.0.0.", 8) == 0 &&
	    strcmp(name + strlen(name) - 8, "ip6.arpa") == 0, "ip6.arpa");
	T_EQ_INT(dns_reverse_name("mail.test", name, sizeof(name)), -1,
	    "a name is no address");
}

/* has_txt - one of the TXT records of an answer joins to want */
static int
has_txt(const struct dns_rrs *rrs, const char *want)
{
	struct buf	 b;
	size_t		 i;
	int		 hit = 0;

	for (i = 0; i < rrs->n && !hit; i++) {
		buf_init(&b, 65536);
		hit = dns_txt_join(rrs->rd[i], rrs->len[i], &b) == 0 &&
		    strcmp(buf_cstr(&b), want) == 0;
		buf_free(&b);
	}
	return hit;
}

/* test_query - dns_query for TXT, PTR and the answers' statuses */
static void
test_query(struct dns *d)
{
	struct dns_rrs	 rrs;
	char		 why[256], name[DNS_NAME_MAX + 1];
	int		 r;

	r = dns_query(d, "s1._domainkey.example.test", DNS_Q_TXT, 5, &rrs,
	    why, sizeof(why));
	T_OK(r == DNS_OK && rrs.n == 1 && has_txt(&rrs, "v=DKIM1; k=rsa; "
	    "p=ABCDEF"), "TXT of two strings, underscores in the name (%d)",
	    r);
	dns_rrs_free(&rrs);
	r = dns_query(d, "Example.TEST.", DNS_Q_TXT, 5, &rrs, why,
	    sizeof(why));
	T_OK(r == DNS_OK && rrs.n == 2 && has_txt(&rrs, "v=spf1 mx -all") &&
	    has_txt(&rrs, "other"), "two TXT records (%d)", r);
	dns_rrs_free(&rrs);
	r = dns_query(d, "aonly.test", DNS_Q_TXT, 5, &rrs, why, sizeof(why));
	T_OK(r == DNS_EMPTY && rrs.n == 0, "no TXT: DNS_EMPTY (%d)", r);
	dns_rrs_free(&rrs);
	r = dns_query(d, "nx.test", DNS_Q_TXT, 5, &rrs, why, sizeof(why));
	T_EQ_INT(r, DNS_NOTFOUND, "NXDOMAIN");
	dns_rrs_free(&rrs);
	r = dns_query(d, "bad name.test", DNS_Q_TXT, 5, &rrs, why,
	    sizeof(why));
	T_EQ_INT(r, DNS_NOTFOUND, "invalid name, no query");
	dns_rrs_free(&rrs);
	r = dns_query(d, "a..test", DNS_Q_TXT, 5, &rrs, why, sizeof(why));
	T_EQ_INT(r, DNS_NOTFOUND, "empty label");
	dns_rrs_free(&rrs);
	r = dns_query(d, "refused.example", DNS_Q_TXT, 5, &rrs, why,
	    sizeof(why));
	T_OK(r == DNS_TEMPFAIL && strstr(why, "TXT") != NULL,
	    "refused: TEMPFAIL: %s", why);
	dns_rrs_free(&rrs);
	dns_reverse_name("192.0.2.25", name, sizeof(name));
	r = dns_query(d, name, DNS_Q_PTR, 5, &rrs, why, sizeof(why));
	T_OK(r == DNS_OK && rrs.n == 1 && dns_parse_name(rrs.rd[0],
	    rrs.len[0], name, sizeof(name)) == 0 &&
	    strcmp(name, "mx1.example.test") == 0,
	    "PTR in 2.0.192.in-addr.arpa from the server (%d)", r);
	dns_rrs_free(&rrs);
	dns_reverse_name("127.0.0.25", name, sizeof(name));
	r = dns_query(d, name, DNS_Q_PTR, 5, &rrs, why, sizeof(why));
	T_OK(r == DNS_OK && rrs.n == 1, "PTR in 127.in-addr.arpa from the "
	    "server (%d)", r);
	dns_rrs_free(&rrs);
}

struct test_async {
	int			 done;
	struct dns_answer	 a;
};

/* test_async_cb - keep the answer */
static void
test_async_cb(void *arg, const struct dns_answer *a)
{
	struct test_async *t = arg;

	t->a = *a;
	t->done++;
}

/* test_async_wait - run dns_process until *done or 5 s */
static void
test_async_wait(struct dns *d, int *done)
{
	struct pollfd pfd;
	uint64_t t0 = util_mono_ms();

	while (!*done && util_mono_ms() - t0 < 5000) {
		pfd.fd = dns_fd(d);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) > 0 && dns_process(d) == -1)
			break;
	}
}

/* test_async - queries through an event loop's interface */
static void
test_async(struct dns *d)
{
	struct test_async t, c;
	struct dns_aq *q;

	memset(&t, 0, sizeof(t));
	T_OK(dns_async(d, "7.2.0.192.rbl.test", DNS_Q_A, test_async_cb,
	    &t) != NULL, "async A");
	test_async_wait(d, &t.done);
	T_OK(t.done == 1 && t.a.status == DNS_OK && t.a.n == 1 &&
	    strcmp(t.a.text[0], "127.0.0.2") == 0, "listed: 127.0.0.2");
	memset(&t, 0, sizeof(t));
	dns_async(d, "7.2.0.192.rbl.test", DNS_Q_TXT, test_async_cb, &t);
	test_async_wait(d, &t.done);
	T_OK(t.done == 1 && t.a.status == DNS_OK &&
	    strcmp(t.a.text[0], "listed for spam") == 0, "TXT reason: %s",
	    t.a.text[0]);
	memset(&t, 0, sizeof(t));
	dns_async(d, "8.2.0.192.rbl.test", DNS_Q_A, test_async_cb, &t);
	test_async_wait(d, &t.done);
	T_EQ_INT(t.a.status, DNS_NOTFOUND, "not listed: NXDOMAIN");
	memset(&t, 0, sizeof(t));
	dns_async(d, "aonly.test", DNS_Q_MX, test_async_cb, &t);
	test_async_wait(d, &t.done);
	T_EQ_INT(t.a.status, DNS_EMPTY, "no MX: empty");
	memset(&t, 0, sizeof(t));
	dns_async(d, "nullmx.test", DNS_Q_MX, test_async_cb, &t);
	test_async_wait(d, &t.done);
	T_EQ_INT(t.a.status, DNS_NULLMX, "null MX");
	memset(&t, 0, sizeof(t));
	dns_async(d, "example.test", DNS_Q_MX, test_async_cb, &t);
	test_async_wait(d, &t.done);
	T_OK(t.a.status == DNS_OK && t.a.n == 2, "two MX hosts");
	/* a cancelled query never calls back */
	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	q = dns_async(d, "mx1.example.test", DNS_Q_A, test_async_cb, &c);
	dns_async_cancel(q);
	dns_async(d, "mx2.example.test", DNS_Q_A, test_async_cb, &t);
	test_async_wait(d, &t.done);
	T_OK(t.done == 1 && c.done == 0, "cancelled query silent");
}

/* test_timeout - a server that never answers: TEMPFAIL by the deadline */
static void
test_timeout(void)
{
	struct sockaddr_in sin;
	socklen_t	 sl = sizeof(sin);
	struct dns_target t[DNS_MAX_TARGETS];
	struct dns	*d;
	char		 srv[64], why[256];
	uint64_t	 t0, ms;
	size_t		 n;
	int		 u, r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	if (u == -1 || bind(u, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(u, (struct sockaddr *)&sin, &sl) == -1) {
		T_OK(0, "silent UDP socket: %s", strerror(errno));
		return;
	}
	util_fmt(srv, sizeof(srv), "127.0.0.1:%d", ntohs(sin.sin_port));
	d = dns_new(srv, why, sizeof(why));
	T_OK(d != NULL, "resolver for the silent server");
	if (d == NULL)
		return;
	t0 = util_mono_ms();
	r = dns_targets(d, "example.test", 2, t, &n, why, sizeof(why));
	ms = util_mono_ms() - t0;
	T_EQ_INT(r, DNS_TEMPFAIL, "silent server: TEMPFAIL");
	T_OK(ms <= 2500, "within the 2 s deadline (%llu ms): %s",
	    (unsigned long long)ms, why);
	t0 = util_mono_ms();
	r = dns_host(d, "mx1.example.test", 1, &t[0], why, sizeof(why));
	ms = util_mono_ms() - t0;
	T_OK(r == DNS_TEMPFAIL && ms <= 1500, "dns_host: TEMPFAIL in %llu ms",
	    (unsigned long long)ms);
	dns_free(d);
	close(u);
}

/* test_hosts_line - hosts(5) lines, good and malformed */
static void
test_hosts_line(void)
{
	static const struct {
		const char	*line;
		const char	*rev, *name;	/* rev NULL: skipped */
	} tab[] = {
		{ "127.0.0.1\tlocalhost\n", "1.0.0.127.in-addr.arpa",
		  "localhost" },
		{ "  192.0.2.7 Mail.Example.COM mail  # the server\n",
		  "7.2.0.192.in-addr.arpa", "mail.example.com" },
		{ "::1 ip6-localhost ip6-loopback", "1.0.0.0.0.0.0.0.0.0.0.0.0."
		  "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
		  "ip6-localhost" },
		{ "10.0.0.1 host#comment", "1.0.0.10.in-addr.arpa", "host" },
		/* skipped */
		{ "", NULL, NULL },
		{ "\n", NULL, NULL },
		{ "# 127.0.0.1 localhost", NULL, NULL },
		{ "127.0.0.1", NULL, NULL },
		{ "127.0.0.1   # no name", NULL, NULL },
		{ "localhost 127.0.0.1", NULL, NULL },
		{ "300.1.1.1 bad", NULL, NULL },
		{ "127.0.0.1 -bad-", NULL, NULL },
		{ "127.0.0.1 a..b", NULL, NULL },
		{ "127.0.0.1 under_score", NULL, NULL },
		{ "fe80::1%eth0 link", NULL, NULL },
	};
	char	 rev[DNS_NAME_MAX + 1], name[DNS_NAME_MAX + 1], big[600];
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(tab); i++) {
		r = dns_hosts_line(tab[i].line, rev, sizeof(rev), name,
		    sizeof(name));
		if (tab[i].rev == NULL)
			T_OK(r == 0, "skipped: \"%s\"", tab[i].line);
		else
			T_OK(r == 1 && strcmp(rev, tab[i].rev) == 0 &&
			    strcmp(name, tab[i].name) == 0, "\"%s\": %s %s",
			    tab[i].line, r ? rev : "-", r ? name : "-");
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "127.0.0.1 ", 10);
	T_OK(dns_hosts_line(big, rev, sizeof(rev), name, sizeof(name)) == 0,
	    "a name longer than DNS_NAME_MAX is skipped");
	T_OK(dns_hosts_line("127.0.0.1 localhost", rev, sizeof(rev), name,
	    4) == 0, "a name longer than the buffer is skipped");
}

int
main(void)
{
	struct dns	*d;
	const char	*bin;
	char		 srv[64], err[256];
	pid_t		 pid;
	int		 port;

	t_plan(244 + 15 + 2);
	if (sodium_init() == -1)
		return 1;
	test_valid_name();
	test_hosts_line();
	test_parse_mx();
	test_mx_list();
	test_sort();
	test_answer_fill();
	test_txt_join();
	test_txt_zone();
	test_parse_name();
	test_new();
	d = dns_new("127.0.0.1:1", err, sizeof(err));
	T_OK(d != NULL, "resolver: %s", d == NULL ? err : "ok");
	if (d != NULL)
		test_literals(d);
	dns_free(d);
	test_timeout();

	if ((bin = dnsmasq_path()) == NULL) {
		T_OK(0, "dnsmasq not found: the DNS lookup tests need it "
		    "(apt-get install dnsmasq)");
		return t_done();
	}
	if ((port = free_port()) == -1 ||
	    (pid = dnsmasq_start(bin, port)) == -1) {
		T_OK(0, "cannot start %s on 127.0.0.1:%d (TEST_DNS_VERBOSE=1 "
		    "shows its errors)", bin, port);
		return t_done();
	}
	util_fmt(srv, sizeof(srv), "127.0.0.1:%d", port);
	d = dns_new(srv, err, sizeof(err));
	T_OK(d != NULL, "resolver for dnsmasq: %s", d == NULL ? err : "ok");
	if (d != NULL) {
		test_lookups(d);
		test_query(d);
		test_async(d);
	}
	dns_free(d);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return t_done();
}
