/*
 * test_smtpreply.c - table-driven tests for lib/mail/smtpreply.c (malformed
 * replies first, then partial input, then good replies, EHLO keywords
 * and enhanced status codes; then garbled multi-line replies).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpreply.h"
#include "t.h"
#include "util.h"

struct reply_case {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	long		 ret;		/* -1, 0, or bytes used (-2: all) */
	int		 code;
	const char	*dsn;
	const char	*text;
};

#define ALL	(-2)

static const struct reply_case cases[] = {
	/* malformed */
	{ "garbage\r\n", 0, -1, 0, NULL, NULL },
	{ "\r\n", 0, -1, 0, NULL, NULL },
	{ "\n", 0, -1, 0, NULL, NULL },
	{ "25\r\n", 0, -1, 0, NULL, NULL },
	{ " 250 ok\r\n", 0, -1, 0, NULL, NULL },
	{ "250x ok\r\n", 0, -1, 0, NULL, NULL },
	{ "2501 ok\r\n", 0, -1, 0, NULL, NULL },
	{ "250\tok\r\n", 0, -1, 0, NULL, NULL },
	{ "250\rok\r\n", 0, -1, 0, NULL, NULL },
	{ "25a ok\r\n", 0, -1, 0, NULL, NULL },
	{ "abc ok\r\n", 0, -1, 0, NULL, NULL },
	{ "150 ok\r\n", 0, -1, 0, NULL, NULL },
	{ "650 ok\r\n", 0, -1, 0, NULL, NULL },
	{ "050 ok\r\n", 0, -1, 0, NULL, NULL },
	{ "250-one\r\n251 two\r\n", 0, -1, 0, NULL, NULL },
	{ "250-one\r\n550 two\r\n", 0, -1, 0, NULL, NULL },
	/* garbage first: no code to go by */
	{ "xyz\r\n554 5.7.1 no\r\n", 0, -1, 0, NULL, NULL },
	{ "554\rx\r\n554 no\r\n", 0, -1, 0, NULL, NULL },
	/* another code after garbled lines: maybe the next reply */
	{ "554-a\r\nxyz\r\n250 b\r\n", 0, -1, 0, NULL, NULL },
	{ "554-a\r\n250ok\r\n554 b\r\n", 0, -1, 0, NULL, NULL },
	{ "554-a\nb\n250 ok\r\n", 0, -1, 0, NULL, NULL },
	{ "554-a\r\nxyz\r\n555", 0, -1, 0, NULL, NULL },
	{ "\0" "50 ok\r\n", 8, -1, 0, NULL, NULL },
	{ "2\0" "0 ok\r\n", 8, -1, 0, NULL, NULL },
	/* partial input: more bytes needed, or refused early */
	{ "", 0, 0, 0, NULL, NULL },
	{ "2", 0, 0, 0, NULL, NULL },
	{ "25", 0, 0, 0, NULL, NULL },
	{ "250", 0, 0, 0, NULL, NULL },
	{ "250 ", 0, 0, 0, NULL, NULL },
	{ "250 ok", 0, 0, 0, NULL, NULL },
	{ "250 ok\r", 0, 0, 0, NULL, NULL },
	{ "250\r", 0, 0, 0, NULL, NULL },
	{ "250-one\r\n", 0, 0, 0, NULL, NULL },
	{ "250-one\r\n25", 0, 0, 0, NULL, NULL },
	{ "250-one\r\n250", 0, 0, 0, NULL, NULL },
	{ "250-one\r\nxyz\r\n", 0, 0, 0, NULL, NULL },
	{ "250-one\r\n\r\n", 0, 0, 0, NULL, NULL },
	{ "250-one\r\nq", 0, 0, 0, NULL, NULL },
	{ "554-a\r\nxyz\r\n554", 0, 0, 0, NULL, NULL },
	{ "554-a\nb\r\n554-c\r\n", 0, 0, 0, NULL, NULL },
	{ "x", 0, -1, 0, NULL, NULL },
	{ "2x", 0, -1, 0, NULL, NULL },
	{ "250x", 0, -1, 0, NULL, NULL },
	{ "250\rx", 0, -1, 0, NULL, NULL },
	{ "250-one\r\n251", 0, -1, 0, NULL, NULL },
	/* good */
	{ "250 ok\r\n", 0, ALL, 250, "", "ok" },
	{ "250\r\n", 0, ALL, 250, "", "" },
	{ "250 \r\n", 0, ALL, 250, "", "" },
	{ "250 ok\n", 0, ALL, 250, "", "ok" },
	{ "354 go ahead\r\n", 0, ALL, 354, "", "go ahead" },
	{ "220-a\r\n220-\r\n220 c\r\n", 0, ALL, 220, "", "a\n\nc" },
	{ "250 ok\r\n250 next\r\n", 0, 8, 250, "", "ok" },
	{ "250 a\rb\r\n", 0, ALL, 250, "", "a?b" },
	{ "250 a\0b\tc\x7f\xff\r\n", 13, ALL, 250, "", "a?b?c??" },
	/* enhanced status codes */
	{ "550 5.1.1 <x@y>: unknown\r\n", 0, ALL, 550, "5.1.1",
	    "5.1.1 <x@y>: unknown" },
	{ "451 4.7.1\r\n", 0, ALL, 451, "4.7.1", "4.7.1" },
	{ "250 2.0.0 Ok: queued as X\r\n", 0, ALL, 250, "2.0.0",
	    "2.0.0 Ok: queued as X" },
	{ "550-5.7.1 first\r\n550 5.7.1 second\r\n", 0, ALL, 550, "5.7.1",
	    "5.7.1 first\n5.7.1 second" },
	{ "552 5.123.456 big\r\n", 0, ALL, 552, "5.123.456",
	    "5.123.456 big" },
	{ "550 4.1.1 class differs\r\n", 0, ALL, 550, "",
	    "4.1.1 class differs" },
	{ "550 5.1234.1 too long\r\n", 0, ALL, 550, "", NULL },
	{ "550 5.1.1234 too long\r\n", 0, ALL, 550, "", NULL },
	{ "550 5.1.1x no\r\n", 0, ALL, 550, "", NULL },
	{ "550 5..1 no\r\n", 0, ALL, 550, "", NULL },
	{ "550 5.1 no\r\n", 0, ALL, 550, "", NULL },
	{ "354 3.0.0 no class 3\r\n", 0, ALL, 354, "", NULL },
};

/*
 * garbled multi-line replies (a bare LF splitting a line, a bare CR after
 * the code, text without a code): the well-formed lines decide the code
 */
struct garbled_case {
	const char	*in;
	long		 ret;		/* bytes used (-2: all) */
	int		 code;
	const char	*dsn;
	const char	*text;
	int		 garbled;	/* lines without a code */
};

static const struct garbled_case garbled_cases[] = {
	{ "554-5.7.1 Rejected\rfor policy\r\n554-see\nhttp://x\r\n"
	    "554 5.7.1 refused\r\n", ALL, 554, "5.7.1",
	    "5.7.1 Rejected?for policy\nsee\nhttp://x\n5.7.1 refused", 1 },
	{ "250-one\r\nxyz\r\n250 two\r\n", ALL, 250, "", "one\nxyz\ntwo",
	    1 },
	{ "554-a\r\n\r\n554 b\r\n", ALL, 554, "", "a\n\nb", 1 },
	{ "554-a\r\n554\rx\r\n554 b\r\n", ALL, 554, "", "a\n554?x\nb",
	    1 },
	{ "554-a\r\n5541\r\n554 b\r\n", ALL, 554, "", "a\n5541\nb", 1 },
	{ "554-a\n\x1b[31m\n\x1b[2J\n554 b\n", ALL, 554, "",
	    "a\n?[31m\n?[2J\nb", 2 },
	{ "554-a\r\n 554 b\r\n554 c\r\n", ALL, 554, "", "a\n 554 b\nc",
	    1 },
	{ "554-a\r\nxyz\r\n554\r\n250 next\r\n", 17, 554, "",
	    "a\nxyz\n", 1 },
	/* well-formed ones have none */
	{ "554-a\r\n554 b\r\n", ALL, 554, "", "a\nb", 0 },
};

/* test_garbled - every garbled case, and its prefixes need more */
static void
test_garbled(void)
{
	struct smtpreply *r = malloc(sizeof(*r));
	const struct garbled_case *c;
	size_t	 i, k, len, more;
	long	 want;
	char	*copy;

	for (i = 0; i < NELEM(garbled_cases); i++) {
		c = &garbled_cases[i];
		len = strlen(c->in);
		want = c->ret == ALL ? (long)len : c->ret;
		copy = malloc(len);
		memcpy(copy, c->in, len);
		T_EQ_INT(smtpreply_parse(copy, len, r), want, c->in);
		T_EQ_INT(r->code, c->code, "code");
		T_EQ_STR(r->dsn, c->dsn, "enhanced code");
		T_EQ_STR(r->text, c->text, "text");
		T_EQ_INT(r->garbled, c->garbled, "garbled lines");
		for (k = 0, more = 0; k < (size_t)want; k++)
			more += smtpreply_parse(copy, k, r) == 0;
		T_EQ_INT(more, want, "every prefix needs more");
		free(copy);
	}
	free(r);
}

/* test_table - every case */
static void
test_table(void)
{
	struct smtpreply *r = malloc(sizeof(*r));
	const struct reply_case *c;
	size_t	 i, len;
	long	 got, want;
	char	*copy;

	for (i = 0; i < NELEM(cases); i++) {
		c = &cases[i];
		len = c->len != 0 ? c->len : strlen(c->in);
		/* an exact-size copy: ASan sees a read past the end */
		copy = malloc(len + 1);
		memcpy(copy, c->in, len);
		got = smtpreply_parse(copy, len, r);
		want = c->ret == ALL ? (long)len : c->ret;
		T_OK(got == want, "case %zu: ret %ld, want %ld", i, got, want);
		if (got > 0 && want > 0) {
			T_EQ_INT(r->code, c->code, "code");
			T_EQ_STR(r->dsn, c->dsn, "enhanced code");
			if (c->text != NULL)
				T_EQ_STR(r->text, c->text, "text");
		}
		free(copy);
	}
	free(r);
}

/* test_limits - over-long lines, too many lines, long text */
static void
test_limits(void)
{
	struct smtpreply *r = malloc(sizeof(*r));
	size_t	 cap = (SMTPREPLY_LINES_MAX + 2) * 16 + 2 * SMTPREPLY_LINE_MAX;
	char	*b = malloc(cap);
	size_t	 n, i;

	/* a line of exactly SMTPREPLY_LINE_MAX bytes is fine, one more not */
	memcpy(b, "250 ", 4);
	memset(b + 4, 'a', SMTPREPLY_LINE_MAX - 4);
	memcpy(b + SMTPREPLY_LINE_MAX, "\r\n", 2);
	T_EQ_INT(smtpreply_parse(b, SMTPREPLY_LINE_MAX + 2, r),
	    SMTPREPLY_LINE_MAX + 2, "line of LINE_MAX bytes");
	T_EQ_INT(strlen(r->text), SMTPREPLY_TEXT_MAX, "text cut at TEXT_MAX");
	memset(b + 4, 'a', SMTPREPLY_LINE_MAX - 3);
	memcpy(b + SMTPREPLY_LINE_MAX + 1, "\r\n", 2);
	T_EQ_INT(smtpreply_parse(b, SMTPREPLY_LINE_MAX + 3, r), -1,
	    "line of LINE_MAX + 1 bytes");
	/* and without a line end: refused once past the limit */
	T_EQ_INT(smtpreply_parse(b, SMTPREPLY_LINE_MAX + 1, r), 0,
	    "unterminated line within the limit: need more");
	memset(b + 4, 'a', SMTPREPLY_LINE_MAX);
	T_EQ_INT(smtpreply_parse(b, SMTPREPLY_LINE_MAX + 4, r), -1,
	    "unterminated line past the limit");
	/* SMTPREPLY_LINES_MAX lines are fine, one more not */
	for (n = 0, i = 0; i < SMTPREPLY_LINES_MAX - 1; i++) {
		memcpy(b + n, "250-x\r\n", 7);
		n += 7;
	}
	memcpy(b + n, "250 x\r\n", 7);
	T_EQ_INT(smtpreply_parse(b, n + 7, r), (long)(n + 7),
	    "LINES_MAX lines");
	T_EQ_INT(r->nlines, SMTPREPLY_LINES_MAX, "nlines");
	T_OK(strlen(r->text) == 2 * SMTPREPLY_LINES_MAX - 1, "text of x\\n");
	memcpy(b + n, "250-x\r\n250 x\r\n", 14);
	T_EQ_INT(smtpreply_parse(b, n + 14, r), -1, "LINES_MAX + 1 lines");
	T_EQ_INT(smtpreply_parse(b, n + 8, r), -1,
	    "LINES_MAX + 1 lines, refused early");
	/* garbled lines count: no endless reply of garbage */
	memcpy(b, "554-x\r\n", 7);
	for (n = 7, i = 0; i < SMTPREPLY_LINES_MAX - 2; i++) {
		memcpy(b + n, "junk\r\n", 6);
		n += 6;
	}
	memcpy(b + n, "554 x\r\n", 7);
	T_EQ_INT(smtpreply_parse(b, n + 7, r), (long)(n + 7),
	    "LINES_MAX lines, garbled ones included");
	T_EQ_INT(r->garbled, SMTPREPLY_LINES_MAX - 2, "garbled count");
	memcpy(b + n, "junk\r\n554 x\r\n", 13);
	T_EQ_INT(smtpreply_parse(b, n + 13, r), -1,
	    "LINES_MAX + 1 lines, the extra one garbled");
	T_EQ_INT(smtpreply_parse(b, n + 8, r), -1,
	    "LINES_MAX lines, the last one garbage: refused early");
	free(b);
	free(r);
}

/* test_ehlo - multi-line EHLO reply, keyword extraction */
static void
test_ehlo(void)
{
	static const char ehlo[] =
	    "250-mx.example.com Hello [192.0.2.1]\r\n"
	    "250-PIPELINING\r\n"
	    "250-size 10240000\r\n"
	    "250-AUTH PLAIN LOGIN\r\n"
	    "250-AUTH=PLAIN\r\n"
	    "250-8BITMIME\r\n"
	    "250-X-\x01\x02\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250-Xabcdefghijklmnopqrstuvwxyz0123456789\r\n"
	    "250-DSN  \tNOTIFY\r\n"
	    "250 STARTTLS\r\n";
	struct smtpreply *r = malloc(sizeof(*r));
	size_t	 i, n;
	char	*b;

	T_EQ_INT(smtpreply_parse(ehlo, sizeof(ehlo) - 1, r),
	    sizeof(ehlo) - 1, "EHLO reply");
	T_EQ_INT(r->code, 250, "code");
	T_EQ_INT(r->nlines, 11, "lines");
	T_OK(smtpreply_has(r, "PIPELINING") != NULL, "PIPELINING");
	T_EQ_STR(smtpreply_has(r, "pipelining"), "", "no parameters");
	T_EQ_STR(smtpreply_has(r, "SIZE"), "10240000", "SIZE value");
	T_EQ_STR(smtpreply_has(r, "AUTH"), "PLAIN LOGIN", "AUTH mechanisms");
	T_OK(smtpreply_has(r, "AUTH=PLAIN") == NULL, "AUTH=PLAIN no keyword");
	T_OK(smtpreply_has(r, "STARTTLS") != NULL, "STARTTLS (last line)");
	T_OK(smtpreply_has(r, "8BITMIME") != NULL, "8BITMIME");
	T_OK(smtpreply_has(r, "X-") == NULL, "X- with controls: no keyword");
	T_OK(smtpreply_has(r, "ENHANCEDSTATUSCODES") != NULL, "ESC");
	T_OK(smtpreply_has(r,
	    "Xabcdefghijklmnopqrstuvwxyz0123456789") == NULL,
	    "keyword over 31 bytes dropped");
	T_EQ_STR(smtpreply_has(r, "DSN"), "?NOTIFY", "params sanitised");
	T_OK(smtpreply_has(r, "mx.example.com") == NULL,
	    "first line is not a keyword");
	T_OK(smtpreply_has(r, "CHUNKING") == NULL, "CHUNKING absent");
	/* more keywords than SMTPREPLY_EXT_MAX: the first ones are kept */
	b = malloc(64 * 32);
	n = 0;
	memcpy(b, "250-host\r\n", 10);
	n = 10;
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(b + n, 32, "250%cK%zu\r\n",
		    i == 39 ? ' ' : '-', i);
	T_EQ_INT(smtpreply_parse(b, n, r), (long)n, "41-line EHLO");
	T_EQ_INT(r->next, SMTPREPLY_EXT_MAX, "keywords capped");
	T_OK(smtpreply_has(r, "K0") != NULL, "K0 kept");
	T_OK(smtpreply_has(r, "K15") != NULL, "K15 kept");
	T_OK(smtpreply_has(r, "K16") == NULL, "K16 dropped");
	/* a garbled line is never a keyword */
	n = (size_t)snprintf(b, 64 * 32, "250-host\r\nSTARTTLS\r\n"
	    "250-PIPELINING\r\n250 SIZE 10\r\n");
	T_EQ_INT(smtpreply_parse(b, n, r), (long)n, "garbled EHLO reply");
	T_EQ_INT(r->garbled, 1, "one garbled line");
	T_OK(smtpreply_has(r, "STARTTLS") == NULL, "no keyword from garbage");
	T_OK(smtpreply_has(r, "PIPELINING") != NULL, "PIPELINING kept");
	T_EQ_STR(smtpreply_has(r, "SIZE"), "10", "SIZE kept");
	free(b);
	free(r);
}

/* test_stream - a reply fed one byte at a time needs more until done */
static void
test_stream(void)
{
	static const char in[] = "250-one\r\n250-two\r\n250 three\r\n";
	struct smtpreply *r = malloc(sizeof(*r));
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < sizeof(in) - 1; i++)
		bad += smtpreply_parse(in, i, r) != 0;
	T_EQ_INT(bad, 0, "every prefix needs more");
	T_EQ_INT(smtpreply_parse(in, sizeof(in) - 1, r), sizeof(in) - 1,
	    "whole reply");
	T_EQ_STR(r->text, "one\ntwo\nthree", "joined text");
	free(r);
}

int
main(void)
{
	t_plan(220);
	test_table();
	test_limits();
	test_ehlo();
	test_stream();
	test_garbled();
	return t_done();
}
