/*
 * test_addr.c - table-driven tests for lib/mail/addr.c (malformed input first).
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "t.h"
#include "util.h"

#define RCPT_SYNTAX	"501 5.1.3 Bad recipient address syntax"
#define MAIL_SYNTAX	"501 5.1.7 Bad sender address syntax"
#define RCPT_8BIT	\
	"553 5.6.7 Non-ASCII addresses not permitted for that recipient"
#define MAIL_8BIT	\
	"553 5.6.7 Non-ASCII addresses not permitted for that sender"

#define NUL	ADDR_F_NULL_OK
#define PM	ADDR_F_POSTMASTER_OK
#define LEN	ADDR_F_LENIENT
#define SND	ADDR_F_SENDER
#define LOC	ADDR_F_LOCAL_OK

struct bad_case {
	const char	*in;
	int		 flags;
	const char	*why;
};

static const struct bad_case bad_cases[] = {
	/* missing or unbalanced brackets */
	{ "a@b.example", 0, "501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "a@b.example", SND, "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "a@b.example", NUL, "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "", 0, "501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "<a@b.example", 0, RCPT_SYNTAX },
	{ "<<a@b.example>", 0, RCPT_SYNTAX },
	{ "<a@b.example>>", 0, NULL },	/* ok: rest is ">" */
	{ "<\"abc@b.example>", 0, RCPT_SYNTAX },
	{ "<a@[192.0.2.1>", 0, RCPT_SYNTAX },
	{ "<a@192.0.2.1]>", 0, RCPT_SYNTAX },
	{ "< a@b.example>", 0, RCPT_SYNTAX },
	{ "<a@b.example >", 0, RCPT_SYNTAX },
	/* null path and missing domain */
	{ "<>", 0, RCPT_SYNTAX },
	{ "<>", SND, MAIL_SYNTAX },
	{ "<a>", 0, RCPT_SYNTAX },
	{ "<postmaster>", 0, RCPT_SYNTAX },
	{ "<\"postmaster\">", PM, RCPT_SYNTAX },
	{ "<a>", PM, RCPT_SYNTAX },
	{ "<>", LOC, RCPT_SYNTAX },
	{ "<a@>", LOC, RCPT_SYNTAX },
	{ "<.a>", LOC, RCPT_SYNTAX },
	{ "<a b>", LOC, RCPT_SYNTAX },
	{ "<@r.example:a>", LOC, RCPT_SYNTAX },
	{ "<a@>", 0, RCPT_SYNTAX },
	{ "<@b.example>", 0, RCPT_SYNTAX },
	/* local part */
	{ "<a..b@c.example>", 0, RCPT_SYNTAX },
	{ "<.a@c.example>", 0, RCPT_SYNTAX },
	{ "<a.@c.example>", 0, RCPT_SYNTAX },
	{ "<a b@c.example>", 0, RCPT_SYNTAX },
	{ "<a(b)@c.example>", 0, RCPT_SYNTAX },
	{ "<\"\"@c.example>", 0, RCPT_SYNTAX },
	{ "<\"a\tb\"@c.example>", 0, RCPT_SYNTAX },
	{ "<\"a\\\x01\"@c.example>", 0, RCPT_SYNTAX },
	{ "<\"a\\", 0, RCPT_SYNTAX },
	{ "<a\x01@c.example>", 0, RCPT_SYNTAX },
	{ "<a\x7f@c.example>", 0, RCPT_SYNTAX },
	{ "<a\x1b[0m@c.example>", SND, MAIL_SYNTAX },
	/* domain */
	{ "<a@b..example>", 0, RCPT_SYNTAX },
	{ "<a@.b.example>", 0, RCPT_SYNTAX },
	{ "<a@b.example.>", 0, RCPT_SYNTAX },
	{ "<a@-b.example>", 0, RCPT_SYNTAX },
	{ "<a@b-.example>", 0, RCPT_SYNTAX },
	{ "<a@b_c.example>", 0, RCPT_SYNTAX },
	{ "<a@b c.example>", 0, RCPT_SYNTAX },
	{ "<a@b.example\x01>", 0, RCPT_SYNTAX },
	/* 8-bit bytes (no SMTPUTF8) */
	{ "<j\xc3\xb6rg@b.example>", 0, RCPT_8BIT },
	{ "<jorg@b\xc3\xa4.example>", 0, RCPT_8BIT },
	{ "<\"j\xc3\xb6rg\"@b.example>", SND, MAIL_8BIT },
	/* address literals */
	{ "<a@[192.0.2.256]>", 0, RCPT_SYNTAX },
	{ "<a@[192.0.2]>", 0, RCPT_SYNTAX },
	{ "<a@[192.0.2.1.5]>", 0, RCPT_SYNTAX },
	{ "<a@[]>", 0, RCPT_SYNTAX },
	{ "<a@[IPv6:2001:db8::g]>", 0, RCPT_SYNTAX },
	{ "<a@[IPv6:1:2:3:4:5:6:7:8:9]>", 0, RCPT_SYNTAX },
	{ "<a@[IPv6:192.0.2.1]>", 0, RCPT_SYNTAX },
	{ "<a@[x-tag:foo]>", 0, "553 5.1.2 Unsupported address literal" },
	{ "<a@[x-tag:foo]>", NUL, "553 5.1.8 Unsupported address literal" },
	{ "<a@[-tag:foo]>", 0, "553 5.1.2 Unsupported address literal" },
	{ "<a@[ta_g:foo]>", 0, RCPT_SYNTAX },
	{ "<a@[tag:]>", 0, RCPT_SYNTAX },
	{ "<a@[a[b]>", 0, RCPT_SYNTAX },
	/* source routes */
	{ "<@r.example>", 0, RCPT_SYNTAX },
	{ "<@r.example,r2.example:a@b.example>", 0, RCPT_SYNTAX },
	{ "<@r.example;a@b.example>", 0, RCPT_SYNTAX },
	{ "<@:a@b.example>", 0, RCPT_SYNTAX },
	{ "<@[192.0.2.1]:a@b.example>", 0, RCPT_SYNTAX },
	/* lenient mode still wants a well-formed mailbox */
	{ "a@b.example>", LEN, RCPT_SYNTAX },
	{ "", LEN, RCPT_SYNTAX },
	{ "postmaster", LEN, RCPT_SYNTAX },
	{ "a@b..example", LEN, RCPT_SYNTAX },
};

struct good_case {
	const char	*in;
	int		 flags;
	const char	*local;
	const char	*domain;
	const char	*text;		/* addr_format */
	const char	*rest;
	int		 null, quoted, literal, routed, routing;
};

static const struct good_case good_cases[] = {
	{ "<a@b.example>", 0, "a", "b.example", "a@b.example", "",
	    0, 0, 0, 0, 0 },
	{ "<a@b.example>>", 0, "a", "b.example", "a@b.example", ">",
	    0, 0, 0, 0, 0 },
	{ "  <User.Name+tag@Example.COM> SIZE=100", 0, "User.Name+tag",
	    "example.com", "User.Name+tag@example.com", " SIZE=100",
	    0, 0, 0, 0, 0 },
	{ "\t<a@b.example>garbage", 0, "a", "b.example", "a@b.example",
	    "garbage", 0, 0, 0, 0, 0 },
	{ "<a@b>", 0, "a", "b", "a@b", "", 0, 0, 0, 0, 0 },
	{ "<x@123.example>", 0, "x", "123.example", "x@123.example", "",
	    0, 0, 0, 0, 0 },
	{ "<a-b@x-1.y--z.example>", 0, "a-b", "x-1.y--z.example",
	    "a-b@x-1.y--z.example", "", 0, 0, 0, 0, 0 },
	{ "<!#$&'*+-/=?^_`{|}~@x.example>", 0, "!#$&'*+-/=?^_`{|}~",
	    "x.example", "!#$&'*+-/=?^_`{|}~@x.example", "", 0, 0, 0, 0, 1 },
	{ "<#$&'*+-/=?^_`{|}~@x.example>", 0, "#$&'*+-/=?^_`{|}~",
	    "x.example", "#$&'*+-/=?^_`{|}~@x.example", "", 0, 0, 0, 0, 0 },
	{ "<\"john smith\"@example.com>", 0, "john smith", "example.com",
	    "\"john smith\"@example.com", "", 0, 1, 0, 0, 0 },
	{ "<\"a\\\"b\\\\c\"@x.example>", 0, "a\"b\\c", "x.example",
	    "\"a\\\"b\\\\c\"@x.example", "", 0, 1, 0, 0, 0 },
	{ "<\"\\a\\b\"@x.example>", 0, "ab", "x.example", "ab@x.example", "",
	    0, 1, 0, 0, 0 },
	{ "<\"abc\"@x.example>", 0, "abc", "x.example", "abc@x.example", "",
	    0, 1, 0, 0, 0 },
	{ "<\"a.\"@x.example>", 0, "a.", "x.example", "\"a.\"@x.example", "",
	    0, 1, 0, 0, 0 },
	{ "<\"a@b\"@x.example>", 0, "a@b", "x.example",
	    "\"a@b\"@x.example", "", 0, 1, 0, 0, 1 },
	{ "<a%b@x.example>", 0, "a%b", "x.example", "a%b@x.example", "",
	    0, 0, 0, 0, 1 },
	{ "<b!a@x.example>", 0, "b!a", "x.example", "b!a@x.example", "",
	    0, 0, 0, 0, 1 },
	{ "<a@[192.0.2.1]>", 0, "a", "[192.0.2.1]", "a@[192.0.2.1]", "",
	    0, 0, 1, 0, 0 },
	{ "<a@[IPv6:2001:DB8::1]>", 0, "a", "[IPv6:2001:db8::1]",
	    "a@[IPv6:2001:db8::1]", "", 0, 0, 1, 0, 0 },
	{ "<a@[ipv6:::1]> X=1", 0, "a", "[IPv6:::1]", "a@[IPv6:::1]", " X=1",
	    0, 0, 1, 0, 0 },
	{ "<a@[IPv6:::ffff:192.0.2.1]>", 0, "a", "[IPv6:::ffff:192.0.2.1]",
	    "a@[IPv6:::ffff:192.0.2.1]", "", 0, 0, 1, 0, 0 },
	{ "<@r1.example,@r2.example:u@d.example>", 0, "u", "d.example",
	    "u@d.example", "", 0, 0, 0, 1, 0 },
	{ "<@R1.example:u@D.example>", 0, "u", "d.example", "u@d.example", "",
	    0, 0, 0, 1, 0 },
	{ "<>", NUL, "", "", "", "", 1, 0, 0, 0, 0 },
	{ " <> SIZE=1 BODY=8BITMIME", NUL, "", "", "", " SIZE=1 BODY=8BITMIME",
	    1, 0, 0, 0, 0 },
	{ "<Postmaster>", PM, "Postmaster", "", "Postmaster", "",
	    0, 0, 0, 0, 0 },
	{ "<postmaster@Example.org>", 0, "postmaster", "example.org",
	    "postmaster@example.org", "", 0, 0, 0, 0, 0 },
	{ "a@b.example SIZE=1", LEN, "a", "b.example", "a@b.example",
	    " SIZE=1", 0, 0, 0, 0, 0 },
	{ "<a@b.example> SIZE=1", LEN, "a", "b.example", "a@b.example",
	    " SIZE=1", 0, 0, 0, 0, 0 },
	{ "postmaster", LEN | PM, "postmaster", "", "postmaster", "",
	    0, 0, 0, 0, 0 },
	{ "<alice>", LOC, "alice", "", "alice", "", 0, 0, 0, 0, 0 },
	{ "<Alice.B> NOTIFY=NEVER", LOC, "Alice.B", "", "Alice.B",
	    " NOTIFY=NEVER", 0, 0, 0, 0, 0 },
	{ "<\"a b\">", LOC, "a b", "", "\"a b\"", "", 0, 1, 0, 0, 0 },
	{ "<postmaster>", LOC, "postmaster", "", "postmaster", "",
	    0, 0, 0, 0, 0 },
};

/* test_bad - every malformed path is refused with the right reply */
static void
test_bad(void)
{
	struct addr a;
	const char *why, *rest;
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		why = NULL;
		r = addr_parse_path(c->in, c->flags, &a, &rest, &why);
		if (c->why == NULL) {
			T_EQ_INT(r, 0, "bad-table sanity case parses");
			continue;
		}
		T_EQ_INT(r, -1, "refused");
		T_EQ_STR(why, c->why, "reply text");
		T_OK(a.local[0] == '\0' && a.domain[0] == '\0',
		    "result cleared on error");
	}
}

/* test_good - valid paths, their fields, rest, and format round trip */
static void
test_good(void)
{
	struct addr a, b;
	const char *why, *rest;
	char	 text[ADDR_BUFSZ], path[ADDR_BUFSZ + 2];
	size_t	 i;

	for (i = 0; i < NELEM(good_cases); i++) {
		const struct good_case *c = &good_cases[i];

		why = rest = NULL;
		T_EQ_INT(addr_parse_path(c->in, c->flags, &a, &rest, &why), 0,
		    c->in);
		T_EQ_STR(a.local, c->local, "local");
		T_EQ_STR(a.domain, c->domain, "domain");
		T_EQ_STR(rest, c->rest, "rest");
		T_OK(a.null == c->null && a.quoted == c->quoted &&
		    a.literal == c->literal && a.routed == c->routed,
		    "flags null=%d quoted=%d literal=%d routed=%d", a.null,
		    a.quoted, a.literal, a.routed);
		T_EQ_INT(addr_has_routing(&a), c->routing, "has_routing");
		T_EQ_INT(addr_format(&a, text, sizeof(text)), strlen(c->text),
		    "format length");
		T_EQ_STR(text, c->text, "format");
		/* round trip: the canonical text parses to the same address */
		snprintf(path, sizeof(path), "<%s>", text);
		T_EQ_INT(addr_parse_path(path, c->flags, &b, NULL, &why), 0,
		    "round trip parses");
		T_OK(strcmp(a.local, b.local) == 0 &&
		    strcmp(a.domain, b.domain) == 0 && a.null == b.null,
		    "round trip equal: %s", path);
	}
}

/* test_make - s = n copies of c plus a NUL (n < size) */
static char *
test_make(char *s, int c, size_t n)
{
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* test_domain - a domain of exactly n octets made of 50-octet labels */
static char *
test_domain(char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		s[i] = (i % 51 == 50 && i + 1 < n) ? '.' : 'd';
	s[n] = '\0';
	return s;
}

/* test_limits - local 64, label 63, domain 255, path 256 */
static void
test_limits(void)
{
	struct addr a;
	const char *why;
	char	 local[128], label[128], dom[512], in[1024];

	test_make(local, 'l', 64);
	snprintf(in, sizeof(in), "<%s@b.example>", local);
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), 0, "64-octet local");
	test_make(local, 'l', 65);
	snprintf(in, sizeof(in), "<%s@b.example>", local);
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), -1, "65-octet local");
	T_EQ_STR(why, "501 5.1.3 Local part too long", "65-octet local why");
	snprintf(in, sizeof(in), "<\"%s\"@b.example>", test_make(local, 'q',
	    63));
	T_EQ_INT(addr_parse_path(in, SND, &a, NULL, &why), -1,
	    "quoted local 65 octets with quotes");
	T_EQ_STR(why, "501 5.1.7 Local part too long", "sender flavour");

	test_make(label, 'x', 63);
	snprintf(in, sizeof(in), "<a@%s.example>", label);
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), 0, "63-octet label");
	test_make(label, 'x', 64);
	snprintf(in, sizeof(in), "<a@%s.example>", label);
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), -1, "64-octet label");
	T_EQ_STR(why, RCPT_SYNTAX, "64-octet label why");

	T_EQ_INT(addr_valid_domain(test_domain(dom, 255)), 1,
	    "255-octet domain valid");
	T_EQ_INT(addr_valid_domain(test_domain(dom, 256)), 0,
	    "256-octet domain invalid");
	snprintf(in, sizeof(in), "<a@%s>", test_domain(dom, 256));
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), -1, "256 domain");
	T_EQ_STR(why, "501 5.1.3 Domain name too long", "256 domain why");

	/* path: everything between < and > counts */
	snprintf(in, sizeof(in), "<a@%s>", test_domain(dom, 254));
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), 0, "256-octet path");
	snprintf(in, sizeof(in), "<ab@%s>", test_domain(dom, 254));
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), -1, "257-octet path");
	T_EQ_STR(why, "501 5.1.3 Path too long", "257 path why");
	snprintf(in, sizeof(in), "<%s@%s>", test_make(local, 'l', 64),
	    test_domain(dom, 192));
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), -1, "64 + 1 + 192");
	snprintf(in, sizeof(in), "<@%s:a@b.example>", test_domain(dom, 250));
	T_EQ_INT(addr_parse_path(in, 0, &a, NULL, &why), -1, "route counts");
	T_EQ_STR(why, "501 5.1.3 Path too long", "route why");
	snprintf(in, sizeof(in), "a@%s", test_domain(dom, 255));
	T_EQ_INT(addr_parse_mailbox(in, &a, &why), -1, "mailbox 257");
	T_EQ_STR(why, "501 5.1.3 Path too long", "mailbox 257 why");
	snprintf(in, sizeof(in), "a@%s SIZE=1", test_domain(dom, 255));
	T_EQ_INT(addr_parse_path(in, LEN, &a, NULL, &why), -1, "lenient 257");
}

/* test_mailbox - addr_parse_mailbox and the small predicates */
static void
test_mailbox(void)
{
	static const struct {
		const char	*in;
		int		 ok;
	} mb[] = {
		{ "<a@b.example>", 0 }, { "a@b.example ", 0 },
		{ " a@b.example", 0 }, { "a", 0 }, { "a@", 0 }, { "", 0 },
		{ "a@b.example\r\n", 0 }, { "a@b@c.example", 0 },
		{ "a@b.example", 1 }, { "\"x y\"@b.example", 1 },
		{ "a@[192.0.2.9]", 1 },
	};
	static const struct {
		const char	*in;
		int		 dom, local;
	} pred[] = {
		{ "", 0, 0 }, { "a..b", 0, 0 }, { ".a", 0, 0 }, { "a.", 0, 0 },
		{ "-a.b", 0, 1 }, { "a.b-", 0, 1 }, { "\"a\"", 0, 0 },
		{ "a b", 0, 0 }, { "a_b", 0, 1 }, { "a.b", 1, 1 },
		{ "EXAMPLE.com", 1, 1 }, { "[1.2.3.4]", 0, 0 },
	};
	struct addr a;
	const char *why;
	char	 buf[8], big[80], what[64];
	size_t	 i;

	for (i = 0; i < NELEM(mb); i++) {
		why = NULL;
		snprintf(what, sizeof(what), "mailbox case %zu", i);
		T_EQ_INT(addr_parse_mailbox(mb[i].in, &a, &why),
		    mb[i].ok ? 0 : -1, what);
		if (!mb[i].ok)
			T_EQ_STR(why, RCPT_SYNTAX, "mailbox why");
	}
	for (i = 0; i < NELEM(pred); i++) {
		T_EQ_INT(addr_valid_domain(pred[i].in), pred[i].dom,
		    pred[i].in);
		T_EQ_INT(addr_valid_local(pred[i].in), pred[i].local,
		    pred[i].in);
	}
	T_EQ_INT(addr_valid_local(test_make(big, 'l', 64)), 1, "local 64");
	T_EQ_INT(addr_valid_local(test_make(big, 'l', 65)), 0, "local 65");

	/* format: truncation reports the full length, always terminates */
	T_EQ_INT(addr_parse_mailbox("abcdef@x.example", &a, &why), 0, "parse");
	T_EQ_INT(addr_format(&a, buf, sizeof(buf)), 16, "truncated length");
	T_EQ_STR(buf, "abcdef@", "truncated text");
	T_EQ_INT(addr_format(&a, buf, 0), 16, "size 0");
	/* a hand-made struct: empty local part must be quoted */
	memset(&a, 0, sizeof(a));
	util_strlcpy(a.domain, "x.example", sizeof(a.domain));
	addr_format(&a, big, sizeof(big));
	T_EQ_STR(big, "\"\"@x.example", "empty local quoted");
}

/* test_same - the duplicate filter's comparison, and extensions */
static void
test_same(void)
{
	static const struct {
		const char	*a, *b;
		int		 fold, same;
	} tab[] = {
		{ "alice@example.com", "alice@example.com", 0, 1 },
		{ "alice@example.com", "alice@EXAMPLE.com", 0, 1 },
		{ "alice@example.com", "Alice@example.com", 0, 0 },
		{ "alice@example.com", "Alice@example.com", 1, 1 },
		{ "alice@example.com", "alice@example.org", 1, 0 },
		{ "alice@example.com", "alic@example.com", 1, 0 },
		{ "alice@example.com", "alice", 1, 0 },
		{ "alice", "ALICE", 1, 1 },
		{ "\"a@b\"@example.com", "\"a@b\"@example.com", 0, 1 },
		{ "\"a@b\"@example.com", "\"a@c\"@example.com", 1, 0 },
		{ "a@b@example.com", "a@c@example.com", 1, 0 },
		{ "", "", 0, 1 },
		{ "@example.com", "@example.com", 0, 1 },
	};
	char	 base[16];
	size_t	 i;

	for (i = 0; i < NELEM(tab); i++)
		T_EQ_INT(addr_same(tab[i].a, tab[i].b, tab[i].fold),
		    tab[i].same, tab[i].a);
	T_EQ_INT(addr_base_local("alice+news", "+", base, sizeof(base)), 0,
	    "extension stripped");
	T_EQ_STR(base, "alice", "base");
	T_EQ_INT(addr_base_local("alice-x+y", "+-", base, sizeof(base)), 0,
	    "the first delimiter of several");
	T_EQ_STR(base, "alice", "base of several");
	T_EQ_INT(addr_base_local("alice", "+", base, sizeof(base)), -1,
	    "no extension");
	T_EQ_INT(addr_base_local("+news", "+", base, sizeof(base)), -1,
	    "nothing before the delimiter");
	T_EQ_INT(addr_base_local("alice+x", "", base, sizeof(base)), -1,
	    "no delimiter set");
	T_EQ_INT(addr_base_local("alice+x", NULL, base, sizeof(base)), -1,
	    "NULL delimiter");
	T_EQ_INT(addr_base_local("a-very-long-name+x", "+", base, 8), -1,
	    "base longer than the buffer refused");
}

/* test_local - addresses as a local program gives them (sendmail) */
static void
test_local(void)
{
	static const struct {
		const char	*in;
		int		 flags;
		const char	*origin, *want;	/* want NULL: refused */
	} tab[] = {
		/* malformed first */
		{ "", 0, "example.com", NULL },
		{ "a b", 0, "example.com", NULL },
		{ "<a@b.example", 0, NULL, NULL },
		{ "a@b.example>", 0, NULL, NULL },
		{ "<a@b.example> x", 0, NULL, NULL },
		{ "a@b.example x", 0, NULL, NULL },
		{ "<>", 0, "example.com", NULL },
		{ "a@", 0, "example.com", NULL },
		{ "J\xc3\xa9@example.com", 0, NULL, NULL },
		/* the null sender only where it may be */
		{ "<>", SND | NUL, "example.com", "" },
		{ "", SND | NUL, "example.com", "" },	/* -f "" */
		/* brackets or not, completion with the origin */
		{ "alice", 0, "Example.COM", "alice@example.com" },
		{ "<alice>", 0, "example.com", "alice@example.com" },
		{ "alice", 0, NULL, "alice" },
		{ "alice", 0, "", "alice" },
		{ "Alice@B.Example", 0, "example.com", "Alice@b.example" },
		{ "<@r.example:a@b.example>", 0, NULL, "a@b.example" },
		{ "\"a b\"@example.com", 0, NULL, "\"a b\"@example.com" },
		{ "postmaster", 0, "example.com", "postmaster@example.com" },
	};
	char	 out[ADDR_BUFSZ], big[ADDR_LOCAL_TEXT_MAX + 16];
	const char *why;
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(tab); i++) {
		why = "unset";
		r = addr_local(tab[i].in, tab[i].flags, tab[i].origin, out,
		    &why);
		if (tab[i].want == NULL)
			T_OK(r == -1 && why != NULL && strncmp(why, "5", 1) ==
			    0, "refused: \"%s\" (%s)", tab[i].in, why);
		else
			T_OK(r == 0 && strcmp(out, tab[i].want) == 0,
			    "\"%s\" -> \"%s\" (got \"%s\")", tab[i].in,
			    tab[i].want, r == 0 ? out : why);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_OK(addr_local(big, 0, NULL, out, &why) == -1 && why != NULL,
	    "over ADDR_LOCAL_TEXT_MAX refused");
	T_OK(addr_local("a", SND, NULL, out, &why) == 0, "sender flag");
	T_OK(addr_local("a b", SND, NULL, out, &why) == -1 &&
	    strstr(why, "5.1.7") != NULL, "sender text for a bad sender");
}

/* test_pattern - mailctl queue delete --from / --to patterns */
static void
test_pattern(void)
{
	static const char *const bad[] = { "", "@", "a b", "a\tb", "<a@b>",
	    "a>", "<", "x\x1b[2J", "a\x7f", "<<>>" };
	static const struct {
		const char	*pat, *addr;
		int		 match;
	} tab[] = {
		{ "alice@example.com", "alice@example.com", 1 },
		{ "alice@example.com", "ALICE@Example.COM", 1 },
		{ "alice@example.com", "alice@example.co", 0 },
		{ "alice@example.com", "xalice@example.com", 0 },
		{ "alice@example.com", "", 0 },
		{ "@example.com", "bob@EXAMPLE.com", 1 },
		{ "@example.com", "bob@sub.example.com", 0 },
		{ "@example.com", "bob", 0 },
		{ "example.com", "bob@example.com", 1 },
		{ "example.com", "example.com", 0 },
		{ "example.com", "bob@xexample.com", 0 },
		{ "alice@", "Alice@anywhere.test", 1 },
		{ "alice@", "alice", 1 },
		{ "alice@", "alicex@a.test", 0 },
		{ "alice@", "ali@a.test", 0 },
		{ "alice@", "", 0 },
		{ "<>", "", 1 },
		{ "<>", "a@b", 0 },
		{ "\"a@b\"@c.test", "\"a@b\"@c.test", 1 },
		{ "c.test", "\"a@b\"@c.test", 1 },
	};
	char	 big[ADDR_TEXT_MAX + 2];
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++)
		T_EQ_INT(addr_pattern_ok(bad[i]), 0, bad[i]);
	for (i = 0; i < NELEM(tab); i++) {
		T_EQ_INT(addr_pattern_ok(tab[i].pat), 1, tab[i].pat);
		T_EQ_INT(addr_pattern_match(tab[i].pat, tab[i].addr),
		    tab[i].match, tab[i].addr);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_EQ_INT(addr_pattern_ok(big), 0, "longer than an address");
	big[sizeof(big) - 2] = '\0';
	T_EQ_INT(addr_pattern_ok(big), 1, "as long as an address");
}

int
main(void)
{
	t_plan(663 + 10 + 40 + 2);
	test_bad();
	test_good();
	test_limits();
	test_mailbox();
	test_same();
	test_local();
	test_pattern();
	return t_done();
}
