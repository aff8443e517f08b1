/*
 * test_spf.c - tests for lib/mail/spf.c: malformed records first (unknown
 * mechanisms, bad CIDR lengths and addresses, empty domain-specs, broken
 * macros, twice redirect=), then well-formed ones, the worst-case lookup
 * count (includes followed, loops stopped at the limit, macros counted
 * without being followed), and check_host() against a table of DNS
 * answers: ip4/ip6 with CIDR, a, mx, include, redirect, exists with
 * macros, qualifiers, two records, void lookups, temporary failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf.h"
#include "t.h"
#include "util.h"

/* ---- the parser ---- */

static const char *const bad_records[] = {
	"", "v=spf", "v=spf10", "v=spf1x", " v=spf1", "spf1 mx",
	"v=spf1 foo", "v=spf1 mx:", "v=spf1 include", "v=spf1 include:",
	"v=spf1 exists", "v=spf1 all:x", "v=spf1 +-all", "v=spf1 -",
	"v=spf1 ip4", "v=spf1 ip4:", "v=spf1 ip4:1.2.3", "v=spf1 ip4:1.2.3.4/",
	"v=spf1 ip4:1.2.3.4/33", "v=spf1 ip4:1.2.3.4/01",
	"v=spf1 ip4:1.2.3.4/-1", "v=spf1 ip4:01.2.3.4", "v=spf1 ip4:::1",
	"v=spf1 ip6:1.2.3.4", "v=spf1 ip6:::1/129", "v=spf1 ip6:zz::1",
	"v=spf1 a/", "v=spf1 a/33", "v=spf1 a//", "v=spf1 a//129",
	"v=spf1 mx/24//", "v=spf1 a:example.com/24/", "v=spf1 ptr:",
	"v=spf1 include:%{z}.example", "v=spf1 include:%{d",
	"v=spf1 include:%x", "v=spf1 include:%", "v=spf1 exists:%{i0}.x",
	"v=spf1 exists:%{ir!}.x", "v=spf1 redirect=", "v=spf1 redirect=a =b",
	"v=spf1 redirect=a.example redirect=b.example",
	"v=spf1 exp=a.example exp=b.example", "v=spf1 mx\t-all",
	"v=spf1 include:ex\x01mple.com", "v=spf1 x=\x7f",
	"v=spf1 include:ex%{d}/24",
};

struct good_case {
	const char	*rec;
	size_t		 nterms;
	int		 mech0;
	int		 qual0;
	int		 cidr4;
	int		 cidr6;
	const char	*domain0;
	const char	*redirect;
};

static const struct good_case good_records[] = {
	{ "v=spf1", 0, 0, 0, 0, 0, NULL, NULL },
	{ "V=SPF1 MX -ALL", 2, SPF_M_MX, '+', 32, 128, NULL, NULL },
	{ "v=spf1   mx   -all  ", 2, SPF_M_MX, '+', 32, 128, NULL, NULL },
	{ "v=spf1 ~all", 1, SPF_M_ALL, '~', 32, 128, NULL, NULL },
	{ "v=spf1 ?a:mail.example.com/24//64 -all", 2, SPF_M_A, '?', 24, 64,
	    "mail.example.com", NULL },
	{ "v=spf1 mx//48", 1, SPF_M_MX, '+', 32, 48, NULL, NULL },
	{ "v=spf1 ip4:192.0.2.0/24", 1, SPF_M_IP4, '+', 24, 128, NULL,
	    NULL },
	{ "v=spf1 ip4:192.0.2.1/0", 1, SPF_M_IP4, '+', 0, 128, NULL, NULL },
	{ "v=spf1 -ip6:2001:db8::/32", 1, SPF_M_IP6, '-', 32, 32, NULL,
	    NULL },
	{ "v=spf1 include:_spf.example.com ~all", 2, SPF_M_INCLUDE, '+', 32,
	    128, "_spf.example.com", NULL },
	{ "v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all", 2, SPF_M_EXISTS, '+',
	    32, 128, "%{ir}.%{v}._spf.%{d2}", NULL },
	{ "v=spf1 ptr", 1, SPF_M_PTR, '+', 32, 128, NULL, NULL },
	{ "v=spf1 redirect=_spf.example.com", 0, 0, 0, 0, 0, NULL,
	    "_spf.example.com" },
	{ "v=spf1 mx foo=bar%%x exp=explain.%{d} ra=abc -all", 2, SPF_M_MX,
	    '+', 32, 128, NULL, NULL },
	{ "v=spf1 a:%{l-}.x.example", 1, SPF_M_A, '+', 32, 128,
	    "%{l-}.x.example", NULL },
	{ "v=spf1 redirect=a.example b= c=%{d}", 0, 0, 0, 0, 0, NULL,
	    "a.example" },
};

/* test_parse - malformed records refused with a reason, good ones read */
static void
test_parse(void)
{
	struct spf_record r;
	char	 err[256], big[SPF_RECORD_MAX + 16];
	size_t	 i;
	int	 ok;

	for (i = 0; i < NELEM(bad_records); i++) {
		err[0] = '\0';
		ok = spf_parse(bad_records[i], strlen(bad_records[i]), &r, err,
		    sizeof(err)) == -1;
		T_OK(ok && err[0] != '\0' && r.t == NULL,
		    "refused \"%s\": %s", bad_records[i], err);
		if (!ok)
			spf_record_free(&r);
	}
	for (i = 0; i < NELEM(good_records); i++) {
		const struct good_case *g = &good_records[i];

		if (spf_parse(g->rec, strlen(g->rec), &r, err,
		    sizeof(err)) == -1) {
			T_OK(0, "parse \"%s\": %s", g->rec, err);
			continue;
		}
		ok = r.n == g->nterms && (r.n == 0 ||
		    (r.t[0].mech == g->mech0 && r.t[0].qual == g->qual0 &&
		    r.t[0].cidr4 == g->cidr4 && r.t[0].cidr6 == g->cidr6 &&
		    ((g->domain0 == NULL && r.t[0].domain == NULL) ||
		    (g->domain0 != NULL && r.t[0].domain != NULL &&
		    strcmp(g->domain0, r.t[0].domain) == 0)))) &&
		    ((g->redirect == NULL && r.redirect == NULL) ||
		    (g->redirect != NULL && r.redirect != NULL &&
		    strcmp(g->redirect, r.redirect) == 0));
		T_OK(ok, "parsed \"%s\"", g->rec);
		spf_record_free(&r);
	}
	/* 64 terms are fine, 65 are not; a record over the limit is not */
	memcpy(big, "v=spf1", 6);
	for (i = 0; i < 65; i++)
		memcpy(big + 6 + 3 * i, " mx", 3);
	T_EQ_INT(spf_parse(big, 6 + 3 * 64, &r, err, sizeof(err)), 0,
	    "64 terms");
	spf_record_free(&r);
	T_EQ_INT(spf_parse(big, 6 + 3 * 65, &r, err, sizeof(err)), -1,
	    "65 terms");
	memset(big + 6, ' ', sizeof(big) - 6);
	T_EQ_INT(spf_parse(big, SPF_RECORD_MAX + 1, &r, err, sizeof(err)), -1,
	    "longer than SPF_RECORD_MAX");
	T_EQ_INT(spf_is_record("v=spf1", 6), 1, "v=spf1 alone");
	T_EQ_INT(spf_is_record("v=spf1 mx", 9), 1, "v=spf1 mx");
	T_EQ_INT(spf_is_record("v=spf1mx", 8), 0, "v=spf1mx");
	T_EQ_INT(spf_is_record("v=DKIM1", 7), 0, "a DKIM record");
}

/* ---- a table of DNS answers ---- */

#define TEMP	"!temp"		/* the lookup fails temporarily */

struct zone_rr {
	const char	*name;
	int		 type;
	const char	*v[4];
};

static const struct zone_rr zone[] = {
	{ "example.test", SPF_Q_TXT, { "v=spf1 mx ip4:192.0.2.0/25 "
	    "include:_spf.provider.test -all", "unrelated text" } },
	{ "example.test", SPF_Q_MX, { "mail.example.test" } },
	{ "mail.example.test", SPF_Q_A, { "198.51.100.10" } },
	{ "mail.example.test", SPF_Q_AAAA, { "2001:db8::10" } },
	{ "_spf.provider.test", SPF_Q_TXT, { "v=spf1 ip4:203.0.113.0/24 "
	    "ip6:2001:db8:1::/48 ?all" } },
	/* two SPF records: permerror */
	{ "two.test", SPF_Q_TXT, { "v=spf1 -all", "v=spf1 +all" } },
	{ "none.test", SPF_Q_TXT, { "just text" } },
	{ "soft.test", SPF_Q_TXT, { "v=spf1 a:host.soft.test/24 ~all" } },
	{ "host.soft.test", SPF_Q_A, { "192.0.2.200", "junk" } },
	{ "redir.test", SPF_Q_TXT, { "v=spf1 redirect=example.test" } },
	{ "redirnone.test", SPF_Q_TXT, { "v=spf1 redirect=none.test" } },
	{ "bad.test", SPF_Q_TXT, { "v=spf1 ip4:1.2.3.4/99 -all" } },
	{ "incbad.test", SPF_Q_TXT, { "v=spf1 include:bad.test -all" } },
	{ "incnone.test", SPF_Q_TXT, { "v=spf1 include:none.test -all" } },
	{ "loop.test", SPF_Q_TXT, { "v=spf1 include:loop.test -all" } },
	{ "deep.test", SPF_Q_TXT, { "v=spf1 a mx include:d1.test -all" } },
	{ "d1.test", SPF_Q_TXT, { "v=spf1 a mx include:d2.test" } },
	{ "d2.test", SPF_Q_TXT, { "v=spf1 a mx exists:x.test ptr" } },
	{ "eleven.test", SPF_Q_TXT, { "v=spf1 a mx include:d1.test "
	    "include:d1.test -all" } },
	{ "macro.test", SPF_Q_TXT, { "v=spf1 exists:%{ir}.%{v}._spf.%{d} "
	    "include:%{i}.dyn.test -all" } },
	{ "1.2.0.192.in-addr._spf.macro.test", SPF_Q_A, { "127.0.0.2" } },
	{ "voids.test", SPF_Q_TXT, { "v=spf1 a:n1.test a:n2.test a:n3.test "
	    "ip4:192.0.2.1 -all" } },
	{ "voids2.test", SPF_Q_TXT, { "v=spf1 a:n1.test a:n2.test "
	    "ip4:192.0.2.1 -all" } },
	{ "temp.test", SPF_Q_TXT, { TEMP } },
	{ "inctemp.test", SPF_Q_TXT, { "v=spf1 include:temp.test -all" } },
	{ "mxtemp.test", SPF_Q_TXT, { "v=spf1 mx -all" } },
	{ "mxtemp.test", SPF_Q_MX, { TEMP } },
	{ "manymx.test", SPF_Q_TXT, { "v=spf1 mx -all" } },
	{ "manymx.test", SPF_Q_MX, { "m1.test", "m2.test", "m3.test",
	    "m4.test" } },
	{ "six.test", SPF_Q_TXT, { "v=spf1 ip6:2001:db8::/64 -ip4:0.0.0.0/0"
	    } },
};

struct fake_dns {
	int	 queries;
	int	 mx_many;	/* manymx.test answers 11 hosts */
};

/* fake_lookup - answers from the table */
static int
fake_lookup(void *arg, const char *name, int type, char ***v, size_t *n)
{
	struct fake_dns *f = arg;
	size_t	 i, k;

	f->queries++;
	*v = NULL;
	*n = 0;
	if (f->mx_many && type == SPF_Q_MX &&
	    strcmp(name, "manymx.test") == 0) {
		*v = xcalloc(11, sizeof(char *));
		for (k = 0; k < 11; k++)
			(*v)[k] = xstrdup("m.test");
		*n = 11;
		return 0;
	}
	for (i = 0; i < NELEM(zone); i++) {
		if (strcmp(zone[i].name, name) != 0 || zone[i].type != type)
			continue;
		if (strcmp(zone[i].v[0], TEMP) == 0)
			return -1;
		*v = xcalloc(4, sizeof(char *));
		for (k = 0; k < 4 && zone[i].v[k] != NULL; k++)
			(*v)[k] = xstrdup(zone[i].v[k]);
		*n = k;
		return 0;
	}
	return 1;
}

/* test_count - worst-case DNS lookups */
static void
test_count(void)
{
	struct fake_dns f;
	struct spf_dns d = { fake_lookup, &f };
	char	 why[256];
	int	 n, r;

	memset(&f, 0, sizeof(f));
	r = spf_count(&d, "example.test", &n, why, sizeof(why));
	T_OK(r == 0 && n == 2, "mx + include: 2 (%d, %d)", r, n);
	r = spf_count(&d, "redir.test", &n, why, sizeof(why));
	T_OK(r == 0 && n == 3, "redirect + the target's 2 (%d, %d)", r, n);
	r = spf_count(&d, "deep.test", &n, why, sizeof(why));
	T_OK(r == 0 && n == 10, "three levels: 10 (%d, %d)", r, n);
	r = spf_count(&d, "eleven.test", &n, why, sizeof(why));
	T_OK(r == 0 && n > SPF_LOOKUP_MAX, "over 10: %d", n);
	r = spf_count(&d, "loop.test", &n, why, sizeof(why));
	T_OK(r == 0 && n == SPF_LOOKUP_MAX + 1, "a loop stops at 11 (%d)", n);
	r = spf_count(&d, "macro.test", &n, why, sizeof(why));
	T_OK(r == 0 && n == 2, "macros with %%{i}: counted, not followed "
	    "(%d, %d)", r, n);
	r = spf_count(&d, "two.test", &n, why, sizeof(why));
	T_OK(r == SPF_PERMERROR && strstr(why, "more than one") != NULL,
	    "two records: %s", why);
	r = spf_count(&d, "none.test", &n, why, sizeof(why));
	T_EQ_INT(r, SPF_NONE, "no record");
	r = spf_count(&d, "nx.test", &n, why, sizeof(why));
	T_EQ_INT(r, SPF_NONE, "no such domain");
	r = spf_count(&d, "bad.test", &n, why, sizeof(why));
	T_OK(r == SPF_PERMERROR && strstr(why, "bad.test") != NULL,
	    "malformed: %s", why);
	r = spf_count(&d, "incbad.test", &n, why, sizeof(why));
	T_OK(r == SPF_PERMERROR && strstr(why, "bad.test") != NULL,
	    "malformed include: %s", why);
	r = spf_count(&d, "incnone.test", &n, why, sizeof(why));
	T_OK(r == SPF_PERMERROR && strstr(why, "none.test") != NULL,
	    "include without a record: %s", why);
	r = spf_count(&d, "temp.test", &n, why, sizeof(why));
	T_EQ_INT(r, SPF_TEMPERROR, "temporary failure");
	r = spf_count(&d, "inctemp.test", &n, why, sizeof(why));
	T_EQ_INT(r, SPF_TEMPERROR, "temporary failure in an include");
}

struct check_case {
	const char	*domain;
	const char	*ip;
	int		 want;
	const char	*why;	/* a part of the reason */
};

static const struct check_case checks[] = {
	{ "example.test", "192.0.2.1", SPF_PASS, "ip4:192.0.2.0/25" },
	{ "example.test", "192.0.2.127", SPF_PASS, "ip4" },
	{ "example.test", "192.0.2.128", SPF_FAIL, "-all" },
	{ "example.test", "198.51.100.10", SPF_PASS, "mx" },
	{ "example.test", "2001:db8::10", SPF_PASS, "mx" },
	{ "example.test", "2001:db8::11", SPF_FAIL, "-all" },
	{ "example.test", "203.0.113.9", SPF_PASS, "include" },
	{ "example.test", "2001:db8:1:ffff::1", SPF_PASS, "include" },
	{ "redir.test", "203.0.113.9", SPF_PASS, "include" },
	{ "redir.test", "192.0.2.200", SPF_FAIL, "-all" },
	{ "soft.test", "192.0.2.7", SPF_PASS, "a:host.soft.test/24" },
	{ "soft.test", "192.0.3.7", SPF_SOFTFAIL, "~all" },
	{ "two.test", "192.0.2.1", SPF_PERMERROR, "more than one" },
	{ "none.test", "192.0.2.1", SPF_NONE, "no SPF record" },
	{ "nx.test", "192.0.2.1", SPF_NONE, "no SPF record" },
	{ "bad.test", "192.0.2.1", SPF_PERMERROR, "ip4:1.2.3.4/99" },
	{ "incnone.test", "192.0.2.1", SPF_PERMERROR, "none.test" },
	{ "redirnone.test", "192.0.2.1", SPF_PERMERROR, "none.test" },
	{ "loop.test", "192.0.2.1", SPF_PERMERROR, "more than 10" },
	{ "macro.test", "192.0.2.1", SPF_PASS, "exists" },
	{ "macro.test", "192.0.2.2", SPF_PERMERROR, "192.0.2.2.dyn.test" },
	{ "voids.test", "192.0.2.1", SPF_PERMERROR, "n3.test" },
	{ "voids2.test", "192.0.2.1", SPF_PASS, "ip4" },
	{ "temp.test", "192.0.2.1", SPF_TEMPERROR, "temp.test" },
	{ "inctemp.test", "192.0.2.1", SPF_TEMPERROR, "temp.test" },
	{ "mxtemp.test", "192.0.2.1", SPF_TEMPERROR, "MX" },
	{ "manymx.test", "192.0.2.1", SPF_FAIL, "-all" },
	{ "six.test", "192.0.2.1", SPF_FAIL, "-ip4:0.0.0.0/0" },
	{ "six.test", "2001:db8::ff", SPF_PASS, "ip6" },
	{ "example.test", "not-an-ip", SPF_PERMERROR, "not an address" },
};

/* test_check - check_host() for addresses against the table */
static void
test_check(void)
{
	struct fake_dns f;
	struct spf_dns d = { fake_lookup, &f };
	char	 why[256];
	size_t	 i;
	int	 r, n;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < NELEM(checks); i++) {
		why[0] = '\0';
		r = spf_check(&d, checks[i].domain, checks[i].ip,
		    "postmaster@example.test", &n, why, sizeof(why));
		T_OK(r == checks[i].want && strstr(why, checks[i].why) != NULL,
		    "%s for %s: %s (want %s): %s", checks[i].domain,
		    checks[i].ip, spf_result_name(r),
		    spf_result_name(checks[i].want), why);
	}
	f.mx_many = 1;
	r = spf_check(&d, "manymx.test", "192.0.2.1", "x@y", &n, why,
	    sizeof(why));
	T_OK(r == SPF_PERMERROR && strstr(why, "10 MX") != NULL,
	    "11 MX hosts: %s", why);
	T_EQ_STR(spf_result_name(SPF_SOFTFAIL), "softfail", "result name");
	T_EQ_STR(spf_result_name(99), "?", "unknown result");
}

int
main(void)
{
	t_plan(117);
	test_parse();
	test_count();
	test_check();
	return t_done();
}
