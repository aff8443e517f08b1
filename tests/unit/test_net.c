/*
 * test_net.c - tests for lib/server/net.c: network lists as mynetworks writes
 * them (malformed entries first), and matching addresses against them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "t.h"

/* test_bad - entries and lists that must be refused */
static void
test_bad(void)
{
	static const char *bad[] = {
		"", "/", "/24", "127.0.0.1/", "127.0.0.1/33", "127.0.0.1/-1",
		"127.0.0.1/x", "127.0.0.1/24/8", "127.0.0", "127.0.0.1.2",
		"256.0.0.1", "::1/129", "[::1", "::1]", "[]/8", "[127.0.0.1",
		"example.com", "127.0.0.1 ", "1.2.3.4/0x8",
		"0123456789012345678901234567890123456789012345678901234567890"
		"1234567890123456789012345678901234567890123456789012345678901"
		"234567890",
	};
	struct net n, *v;
	size_t	 i, nn;
	char	 err[256];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(net_parse(bad[i], &n) == -1, "refused: \"%s\"", bad[i]);
	T_EQ_INT(net_parse_list("127.0.0.0/8, bogus, ::1", &v, &nn, err,
	    sizeof(err)), -1, "a list with a bad entry");
	T_OK(v == NULL && nn == 0, "nothing kept");
	T_OK(strstr(err, "\"bogus\"") != NULL, "the bad entry named: %s", err);
}

/* test_good - entries, prefixes and matching */
static void
test_good(void)
{
	struct net n, *v;
	size_t	 nn;
	char	 err[256];

	T_EQ_INT(net_parse("127.0.0.1", &n), 0, "host");
	T_OK(n.bits == 32, "a host is /32");
	T_EQ_INT(net_parse("[::1]/128", &n), 0, "bracketed IPv6");
	T_EQ_INT(net_parse("2001:db8::/32", &n), 0, "bare IPv6 prefix");
	T_EQ_INT(net_parse("0.0.0.0/0", &n), 0, "everything");
	T_EQ_INT(net_parse_list("", &v, &nn, err, sizeof(err)), 0,
	    "empty list");
	T_OK(nn == 0 && !net_match(v, nn, "127.0.0.1"), "matches nothing");
	free(v);
	T_EQ_INT(net_parse_list("127.0.0.0/8 [::ffff:192.0.2.0]/120,"
	    "2001:db8::/32, 10.1.2.3/31", &v, &nn, err, sizeof(err)), 0,
	    "the seed article's kind of list");
	T_EQ_INT(nn, 4, "four networks");
	T_OK(net_match(v, nn, "127.1.2.3"), "in /8");
	T_OK(!net_match(v, nn, "128.0.0.1"), "outside /8");
	T_OK(net_match(v, nn, "192.0.2.77"), "IPv4 in an IPv4-mapped net");
	T_OK(!net_match(v, nn, "192.0.3.1"), "outside the mapped /120");
	T_OK(net_match(v, nn, "2001:db8:ffff::1"), "IPv6 in /32");
	T_OK(!net_match(v, nn, "2001:db9::1"), "IPv6 outside");
	T_OK(net_match(v, nn, "10.1.2.2") && !net_match(v, nn, "10.1.2.4"),
	    "/31");
	T_OK(!net_match(v, nn, "not an address"), "garbage matches nothing");
	T_OK(!net_match(v, nn, ""), "empty matches nothing");
	free(v);
	T_EQ_INT(net_parse_list("0.0.0.0/0", &v, &nn, err, sizeof(err)), 0,
	    "everything");
	T_OK(net_match(v, nn, "203.0.113.9"), "any IPv4");
	T_OK(net_match(v, nn, "::ffff:203.0.113.9") == 0 ||
	    net_match(v, nn, "::ffff:203.0.113.9") == 1, "mapped: no crash");
	free(v);
}

int
main(void)
{
	t_plan(44);
	test_bad();
	test_good();
	return t_done();
}
