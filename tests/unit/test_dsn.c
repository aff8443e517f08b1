/*
 * test_dsn.c - tests for lib/mail/dsn.c: xtext, NOTIFY (both ways), RET, ENVID
 * and ORCPT tables (malformed first), the xtext encoder's round trip, and
 * RFC 3464 reports built from hostile text, checked for their MIME
 * structure in C: one boundary that
 * occurs nowhere else, exactly three parts with the right Content-Type,
 * CRLF everywhere, no line over 998 bytes, headers-only vs RET=FULL and
 * the DSN_RETURN_MAX cut.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "dsn.h"
#include "qfile.h"
#include "t.h"
#include "util.h"

/* test_xtext - decode / valid tables and the encoder's round trip */
static void
test_xtext(void)
{
	static const char *const bad[] = { "+", "+4", "+4G", "+G4", "a=b",
	    "a b", "\x01", "\x7f", "\xff", "ab+", "+2", "x+ 1" };
	static const struct {
		const char	*in;
		const char	*out;
		size_t		 len;
	} good[] = {
		{ "", "", 0 }, { "abc", "abc", 3 }, { "a+2Bb", "a+b", 3 },
		{ "+2b", "+", 1 }, { "+3D+20", "= ", 2 }, { "+00z", "\0z", 2 },
		{ "rfc822;a+2Bb@example.com", "rfc822;a+b@example.com", 22 },
	};
	struct buf	 b, e;
	unsigned char	 all[256];
	size_t		 i;

	buf_init(&b, 4096);
	buf_init(&e, 4096);
	for (i = 0; i < NELEM(bad); i++) {
		errno = 0;
		T_OK(dsn_xtext_decode(bad[i], &b, 100) == -1 && errno == EINVAL,
		    "bad xtext %zu refused", i);
		T_EQ_INT(dsn_xtext_valid(bad[i]), 0, "bad xtext not valid");
	}
	for (i = 0; i < NELEM(good); i++) {
		T_EQ_INT(dsn_xtext_decode(good[i].in, &b, 100), 0, good[i].in);
		T_OK(b.len == good[i].len &&
		    memcmp(buf_cstr(&b), good[i].out, b.len) == 0,
		    "decoded %s", good[i].in);
		T_EQ_INT(dsn_xtext_valid(good[i].in), 1, "valid");
	}
	errno = 0;
	T_OK(dsn_xtext_decode("abcd", &b, 3) == -1 && errno == ENOSPC,
	    "decoded length over max");
	T_EQ_INT(dsn_xtext_decode("abc", &b, 3), 0, "decoded length = max");
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	T_EQ_INT(dsn_xtext_encode(all, sizeof(all), &e), 0, "encode");
	T_EQ_INT(dsn_xtext_valid(buf_cstr(&e)), 1, "encoded is valid");
	T_OK(strstr(buf_cstr(&e), "+2B") != NULL &&
	    strstr(buf_cstr(&e), "+3D") != NULL &&
	    strstr(buf_cstr(&e), "+20") != NULL, "+ = SP encoded");
	T_EQ_INT(dsn_xtext_decode(buf_cstr(&e), &b, 256), 0, "decode back");
	T_OK(b.len == 256 && memcmp(b.data, all, 256) == 0, "round trip");
	buf_free(&b);
	buf_free(&e);
}

/* test_notify - NOTIFY= values */
static void
test_notify(void)
{
	static const char *const bad[] = { "", ",", "SUCCESS,", ",DELAY",
	    "NEVER,SUCCESS", "SUCCESS,NEVER", "DELAY,never", "FOO",
	    "SUCCESS ,DELAY", " SUCCESS", "SUCCESSX", "SUCC", "NEVER,NEVERX",
	    "SUCCESS,,DELAY" };
	static const struct {
		const char	*in;
		unsigned	 bits;
	} good[] = {
		{ "NEVER", QFILE_NOTIFY_NEVER },
		{ "never", QFILE_NOTIFY_NEVER },
		{ "NEVER,NEVER", QFILE_NOTIFY_NEVER },
		{ "SUCCESS", QFILE_NOTIFY_SUCCESS },
		{ "failure", QFILE_NOTIFY_FAILURE },
		{ "Delay", QFILE_NOTIFY_DELAY },
		{ "SUCCESS,FAILURE", QFILE_NOTIFY_SUCCESS |
		    QFILE_NOTIFY_FAILURE },
		{ "DELAY,FAILURE,SUCCESS", QFILE_NOTIFY_SUCCESS |
		    QFILE_NOTIFY_FAILURE | QFILE_NOTIFY_DELAY },
		{ "FAILURE,FAILURE", QFILE_NOTIFY_FAILURE },
	};
	unsigned	 bits;
	size_t		 i;

	for (i = 0; i < NELEM(bad); i++) {
		bits = 99;
		T_OK(dsn_parse_notify(bad[i], &bits) == -1 && bits == 99,
		    "bad NOTIFY \"%s\" refused", bad[i]);
	}
	for (i = 0; i < NELEM(good); i++) {
		bits = 0;
		T_EQ_INT(dsn_parse_notify(good[i].in, &bits), 0, good[i].in);
		T_EQ_INT(bits, good[i].bits, "bits");
	}
}

/* test_notify_format - bits back to a NOTIFY= value */
static void
test_notify_format(void)
{
	static const unsigned bad[] = { 0, 0x10, 0x80 | QFILE_NOTIFY_SUCCESS,
	    QFILE_NOTIFY_NEVER | QFILE_NOTIFY_SUCCESS,
	    QFILE_NOTIFY_NEVER | QFILE_NOTIFY_DELAY };
	static const struct {
		unsigned	 bits;
		const char	*out;
	} good[] = {
		{ QFILE_NOTIFY_NEVER, "NEVER" },
		{ QFILE_NOTIFY_SUCCESS, "SUCCESS" },
		{ QFILE_NOTIFY_DELAY, "DELAY" },
		{ QFILE_NOTIFY_DELAY | QFILE_NOTIFY_SUCCESS, "SUCCESS,DELAY" },
		{ QFILE_NOTIFY_FAILURE | QFILE_NOTIFY_DELAY, "FAILURE,DELAY" },
		{ QFILE_NOTIFY_DELAY | QFILE_NOTIFY_FAILURE |
		    QFILE_NOTIFY_SUCCESS, "SUCCESS,FAILURE,DELAY" },
	};
	char		 out[DSN_NOTIFY_BUFSZ], small[8];
	unsigned	 bits;
	size_t		 i;

	for (i = 0; i < NELEM(bad); i++) {
		errno = 0;
		T_OK(dsn_format_notify(bad[i], out, sizeof(out)) == -1 &&
		    errno == EINVAL, "bad bits 0x%x refused", bad[i]);
	}
	errno = 0;
	T_OK(dsn_format_notify(QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE,
	    small, sizeof(small)) == -1 && errno == ENAMETOOLONG &&
	    small[0] == '\0', "small out: ENAMETOOLONG, empty");
	T_OK(dsn_format_notify(QFILE_NOTIFY_SUCCESS, small, 0) == -1,
	    "zero-length out");
	for (i = 0; i < NELEM(good); i++) {
		T_EQ_INT(dsn_format_notify(good[i].bits, out, sizeof(out)), 0,
		    good[i].out);
		T_EQ_STR(out, good[i].out, "formatted");
		bits = 0;
		T_OK(dsn_parse_notify(out, &bits) == 0 && bits == good[i].bits,
		    "parses back: %s", out);
	}
}

/* test_params - RET, ENVID, ORCPT values (RFC 3461 4.2 - 4.4) */
static void
test_params(void)
{
	static const char *const bad_ret[] = { "", "FUL", "FULLL", "HDR",
	    "FULL ", " HDRS", "FULL,HDRS", "HEADERS", "F\xc3\x9cLL" };
	static const char *const bad_envid[] = { "", "a b", "a=b", "+",
	    "+4", "+4G", "ab+", "\x01", "\x7f", "\xff", "abc\r\n" };
	static const char *const bad_orcpt[] = { "", ";", "rfc822",
	    "rfc822;", ";a@example.com", "rfc 822;a@example.com",
	    "rfc822:a@example.com", "rfc822;a b@example.com",
	    "rfc822;a=b@example.com", "rfc822;a+2@example.com",
	    "rfc822;a+@example.com", "rfc822;\xc3\xa9@example.com",
	    "rf(c822;a@example.com", "rfc\"822;a@example.com",
	    "rfc822;a@example.com\r\n", "rfc822;a;b\x01" };
	static const char *const good_orcpt[] = { "rfc822;a@example.com",
	    "RFC822;A@EXAMPLE.COM", "x-foo;+0D+0A", "utf-8;a+2Bb+3Dc",
	    "rfc822;a;b", "a!#$%&'*+-/=?^_`{|}~;x",
	    "rfc822;!\"#$%&'()*,-./:;<>?@[\\]^_`{|}~" };
	char		 big[DSN_ORCPT_MAX + 8];
	size_t		 i;

	for (i = 0; i < NELEM(bad_ret); i++)
		T_OK(dsn_parse_ret(bad_ret[i]) == NULL, "bad RET %zu", i);
	T_OK(dsn_parse_ret(NULL) == NULL, "RET NULL");
	T_EQ_STR(dsn_parse_ret("FULL"), "FULL", "RET=FULL");
	T_EQ_STR(dsn_parse_ret("full"), "FULL", "RET=full");
	T_EQ_STR(dsn_parse_ret("HdRs"), "HDRS", "RET=HdRs");

	for (i = 0; i < NELEM(bad_envid); i++)
		T_OK(dsn_envid_valid(bad_envid[i]) == 0, "bad ENVID %zu", i);
	T_EQ_INT(dsn_envid_valid(NULL), 0, "ENVID NULL");
	memset(big, 'e', sizeof(big));
	big[DSN_ENVID_MAX + 1] = '\0';
	T_EQ_INT(dsn_envid_valid(big), 0, "ENVID of 101 bytes");
	big[DSN_ENVID_MAX] = '\0';
	T_EQ_INT(dsn_envid_valid(big), 1, "ENVID of 100 bytes");
	T_EQ_INT(dsn_envid_valid("QQ314159+0D+0AX-Evil:+20y+3D"), 1,
	    "ENVID with encoded CR LF and =");
	T_EQ_INT(dsn_envid_valid("!\"#$%&'()*,-./:;<>?@[\\]^_`{|}~"), 1,
	    "ENVID of every xchar punctuation");

	for (i = 0; i < NELEM(bad_orcpt); i++)
		T_OK(dsn_orcpt_valid(bad_orcpt[i]) == 0, "bad ORCPT %zu", i);
	T_EQ_INT(dsn_orcpt_valid(NULL), 0, "ORCPT NULL");
	memcpy(big, "rfc822;", 7);
	memset(big + 7, 'o', sizeof(big) - 7);
	big[DSN_ORCPT_MAX + 1] = '\0';
	T_EQ_INT(dsn_orcpt_valid(big), 0, "ORCPT of 501 bytes");
	big[DSN_ORCPT_MAX] = '\0';
	T_EQ_INT(dsn_orcpt_valid(big), 1, "ORCPT of 500 bytes");
	for (i = 0; i < NELEM(good_orcpt); i++)
		T_EQ_INT(dsn_orcpt_valid(good_orcpt[i]), 1, good_orcpt[i]);
}

/* the original message, fed in small chunks */
struct orig {
	const char	*data;
	size_t		 len;
	size_t		 fed;
	size_t		 step;
	int		 fail;
};

/* orig_each - a dsn_body_each over struct orig */
static int
orig_each(void *arg, int (*chunk)(void *, const void *, size_t), void *carg)
{
	struct orig	*o = arg;
	size_t		 n;

	if (o->fail) {
		errno = EIO;
		return -1;
	}
	for (o->fed = 0; o->fed < o->len; o->fed += n) {
		n = o->len - o->fed < o->step ? o->len - o->fed : o->step;
		if (chunk(carg, o->data + o->fed, n) == -1)
			return -1;
	}
	return 0;
}

/* the report's structure, as found by report_check */
struct shape {
	char		 bnd[128];
	int		 parts;		/* "--B" lines */
	int		 ends;		/* "--B--" lines */
	int		 bnd_count;	/* occurrences of B anywhere */
	int		 long_lines;
	int		 bare;		/* bare CR or LF */
	int		 dashes;	/* other lines starting "--" */
	int		 eightbit_early;/* 8-bit bytes before part 3 */
	int		 end_last;
	char		 ctype[3][64];
};

/* the top Content-Type: outside text never starts a header line */
#define CTYPE	"\r\nContent-Type: multipart/report; " \
	"report-type=delivery-status;\r\n\tboundary=\""

/* report_check - split the report into lines and describe it */
static void
report_check(const struct buf *b, struct shape *s)
{
	const char	*p = (const char *)b->data, *end, *q, *nl;
	size_t		 blen, ll;
	int		 part = 0;

	memset(s, 0, sizeof(*s));
	if (p == NULL)
		return;
	end = p + b->len;
	if ((q = memmem(p, b->len, CTYPE, sizeof(CTYPE) - 1)) != NULL &&
	    (nl = memchr(q + sizeof(CTYPE) - 1, '"', (size_t)(end - q) -
	    sizeof(CTYPE) + 1)) != NULL &&
	    (size_t)(nl - q) - sizeof(CTYPE) + 1 < sizeof(s->bnd))
		memcpy(s->bnd, q + sizeof(CTYPE) - 1,
		    (size_t)(nl - q) - sizeof(CTYPE) + 1);
	blen = strlen(s->bnd);
	for (q = p; blen > 0 && (q = memmem(q, (size_t)(end - q), s->bnd,
	    blen)) != NULL; q += blen)
		s->bnd_count++;
	for (q = p; q < end; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL) {
			s->bare++;	/* no final line end */
			break;
		}
		if (nl == q || nl[-1] != '\r')
			s->bare++;
		ll = (size_t)(nl - q) - (nl > q && nl[-1] == '\r');
		if (memchr(q, '\r', ll) != NULL)
			s->bare++;
		if (ll > 998)
			s->long_lines++;
		s->end_last = 0;
		if (ll == blen + 2 && q[0] == '-' && q[1] == '-' &&
		    memcmp(q + 2, s->bnd, blen) == 0) {
			s->parts++;
			part++;
		} else if (ll == blen + 4 && q[0] == '-' && q[1] == '-' &&
		    memcmp(q + 2, s->bnd, blen) == 0 && q[ll - 1] == '-') {
			s->ends++;
			s->end_last = 1;
		} else if (ll >= 2 && q[0] == '-' && q[1] == '-')
			s->dashes++;
		if (part >= 1 && part <= 3 && s->ctype[part - 1][0] == '\0' &&
		    ll > 14 && ll < 14 + 63 &&
		    memcmp(q, "Content-Type: ", 14) == 0)
			memcpy(s->ctype[part - 1], q + 14, ll - 14);
		if (part < 3) {
			for (; q < nl; q++)
				s->eightbit_early += (unsigned char)*q >= 0x80;
		}
	}
}

/* has_line - the report has a line exactly like this (without CRLF) */
static int
has_line(const struct buf *b, const char *line)
{
	const char	*p = (const char *)b->data, *q;
	size_t		 n = strlen(line);

	for (q = p; q != NULL && (size_t)(q - p) + n <= b->len;
	    q = memmem(q, b->len - (size_t)(q - p), "\r\n", 2),
	    q = q == NULL ? NULL : q + 2)
		if (memcmp(q, line, n) == 0 && (size_t)(q - p) + n + 2 <=
		    b->len && memcmp(q + n, "\r\n", 2) == 0)
			return 1;
	return 0;
}

/* has_prefix_line - some line starts with this */
static int
has_prefix_line(const struct buf *b, const char *pre)
{
	const char	*p = (const char *)b->data, *q;
	size_t		 n = strlen(pre);

	for (q = p; q != NULL && (size_t)(q - p) + n <= b->len;
	    q = memmem(q, b->len - (size_t)(q - p), "\r\n", 2),
	    q = q == NULL ? NULL : q + 2)
		if (memcmp(q, pre, n) == 0)
			return 1;
	return 0;
}

/* shape_ok - the common structure checks */
static void
shape_ok(const struct buf *out, struct shape *s, int nparts, const char *what)
{
	report_check(out, s);
	T_OK(strlen(s->bnd) >= 16, "%s: boundary found", what);
	T_EQ_INT(s->parts, nparts, "parts");
	T_EQ_INT(s->ends, 1, "one closing boundary");
	T_OK(s->end_last, "closing boundary is the last line");
	T_EQ_INT(s->bnd_count, nparts + 2, "boundary nowhere else");
	T_EQ_INT(s->long_lines, 0, "no line over 998 bytes");
	T_EQ_INT(s->bare, 0, "no bare CR or LF");
	T_EQ_INT(s->eightbit_early, 0, "no 8-bit outside part 3");
	T_EQ_STR(s->ctype[0], "text/plain; charset=us-ascii", "part 1 type");
	T_EQ_STR(s->ctype[1], "message/delivery-status", "part 2 type");
}

static char	*hostile_diag;

/* make_hostile - a 10 KB reply full of structure-breaking bytes */
static void
make_hostile(void)
{
	static const char piece[] = "550 5.1.1 \r\n--boundary\r\n"
	    "Content-Type: text/html\r\n\r\n--youju-\n\r\xff\xfe\x01\0";
	size_t	 n = 10 * 1024, i;

	hostile_diag = malloc(n + 1);
	for (i = 0; i < n; i++)
		hostile_diag[i] = piece[i % (sizeof(piece) - 2)] == '\0' ?
		    'x' : piece[i % (sizeof(piece) - 2)];
	memset(hostile_diag + 1000, 'A', 2000);	/* a 2000-byte word */
	hostile_diag[n] = '\0';
}

static const char original[] =
    "Received: from client.example (client.example [192.0.2.1])\r\n"
    "\tby mx.example.org\r\n"
    "Subject: original \xe4\xbd\xa0\xe5\xa5\xbd\r\n"
    "From: <sender@example.com>\n"
    "\r\n"
    "BODYLINE one\r\n"
    "--youju-0000\r\n"
    "bare\rCR and bare\nLF\r\n";

static void test_report_more(struct dsn_report *, struct orig *,
	    struct buf *);

/* test_report - two recipients, hostile text, headers-only and full */
static void
test_report(void)
{
	struct dsn_rcpt	 rc[2] = {
		{ "a@example.net", "rfc822;a+2Bx@example.net",
		    DSN_ACTION_FAILED, "5.1.1", "mx.example.net", NULL },
		{ "b\r\nX-Evil: 1@example.net", "rfc822;b+0D+0AX-Inject:+20y",
		    DSN_ACTION_FAILED, "5.x.1\r\n", "", "our own reason\r\n" },
	};
	struct dsn_report rp = { "mx.example.org", "sender@example.com",
	    "id+0D+0AX-Envid:+20evil+0D+0A--youju-", "4QZtest", 1700000000,
	    0, rc, 2 };
	struct orig	 o = { original, sizeof(original) - 1, 0, 7, 0 };
	struct shape	 s;
	struct buf	 out;

	rc[0].diag = hostile_diag;
	buf_init(&out, 1024 * 1024);
	T_EQ_INT(dsn_build(&rp, orig_each, &o, &out), 0, "build headers-only");
	shape_ok(&out, &s, 3, "headers-only");
	T_EQ_STR(s.ctype[2], "text/rfc822-headers", "part 3 type");
	T_OK(has_line(&out, "From: MAILER-DAEMON@mx.example.org "
	    "(Mail Delivery System)"), "From");
	T_OK(has_line(&out, "To: <sender@example.com>"), "To");
	T_OK(has_line(&out, "Subject: Undelivered Mail Returned to Sender"),
	    "Subject");
	T_OK(has_line(&out, "Auto-Submitted: auto-replied"), "Auto-Submitted");
	T_OK(has_line(&out, "MIME-Version: 1.0"), "MIME-Version");
	T_OK(has_prefix_line(&out, "Message-ID: <4QZtest."), "Message-ID");
	T_OK(has_prefix_line(&out, "Date: "), "Date");
	T_OK(has_line(&out, "Reporting-MTA: dns; mx.example.org"), "R-MTA");
	T_OK(has_line(&out, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000"),
	    "Arrival-Date");
	T_OK(has_line(&out, "Original-Envelope-Id: id X-Envid: evil "
	    "--youju-"), "ENVID decoded and flattened");
	T_OK(has_line(&out, "Final-Recipient: rfc822; a@example.net"), "FR a");
	T_OK(has_line(&out, "Original-Recipient: rfc822;a+x@example.net"),
	    "ORCPT decoded");
	T_OK(has_line(&out, "Final-Recipient: rfc822; b X-Evil: "
	    "1@example.net"), "FR b flattened");
	T_OK(has_line(&out, "Status: 5.1.1"), "status a");
	T_OK(has_line(&out, "Status: 5.0.0"), "bad status replaced");
	T_OK(has_line(&out, "Remote-MTA: dns; mx.example.net"), "Remote-MTA");
	T_OK(has_line(&out, "Diagnostic-Code: smtp; 550 5.1.1 --boundary "
	    "Content-Type: text/html --youju-"), "diag a folded");
	T_OK(has_line(&out, " ???550 5.1.1 --boundary Content-Type: text/html "
	    "--youju- ???550 5.1.1"), "diag a continued");
	T_OK(has_line(&out, "Diagnostic-Code: X-Youju; our own reason"),
	    "diag b");
	T_EQ_INT(has_line(&out, "Action: failed"), 1, "Action");
	T_OK(!has_prefix_line(&out, "X-Evil") &&
	    !has_prefix_line(&out, "X-Envid") &&
	    !has_prefix_line(&out, "X-Inject") &&
	    !has_prefix_line(&out, "Content-Type: text/html"),
	    "no injected line");
	T_EQ_INT(s.dashes, 0, "no other line starts with --");
	T_OK(memmem(out.data, out.len, "Subject: original \xe4\xbd\xa0", 21)
	    != NULL, "original headers, 8-bit kept");
	T_OK(has_line(&out, "Content-Transfer-Encoding: 8bit"), "8bit said");
	T_OK(memmem(out.data, out.len, "BODYLINE", 8) == NULL,
	    "no body without RET=FULL");
	T_OK(o.fed < o.len, "reader stopped after the headers");
	test_report_more(&rp, &o, &out);
	buf_free(&out);
}

/* test_report_more - the same report with RET=FULL, then delayed only */
static void
test_report_more(struct dsn_report *rp, struct orig *o, struct buf *out)
{
	struct dsn_rcpt	*rc = (struct dsn_rcpt *)rp->rcpt;
	struct shape	 s;

	/* RET=FULL: the whole message, line ends made CRLF */
	rp->ret_full = 1;
	o->step = 3;
	T_EQ_INT(dsn_build(rp, orig_each, o, out), 0, "build RET=FULL");
	shape_ok(out, &s, 3, "RET=FULL");
	T_EQ_STR(s.ctype[2], "message/rfc822", "part 3 type");
	T_OK(has_line(out, "BODYLINE one"), "body returned");
	T_OK(has_line(out, "bare") && has_line(out, "CR and bare") &&
	    has_line(out, "LF"), "bare CR / LF made CRLF");
	T_EQ_INT(s.dashes, 1, "the original's own -- line only");

	/* no part 3 without a reader; delayed only */
	rc[0].action = rc[1].action = DSN_ACTION_DELAYED;
	T_EQ_INT(dsn_build(rp, NULL, NULL, out), 0, "build without body");
	shape_ok(out, &s, 2, "two parts");
	T_OK(has_line(out, "Subject: Delayed Mail (still being retried)"),
	    "delayed subject");
	T_OK(has_line(out, "Status: 4.0.0"), "delayed default status");
	T_OK(has_line(out, "Action: delayed"), "delayed action");
	T_OK(has_line(out, "Content-Transfer-Encoding: 7bit"), "7bit");
	T_EQ_INT(has_line(out, "Status: 5.1.1"), 0,
	    "a 5.x.x status is not shown as delayed");

	/* success: delivered and relayed, class 2 enforced */
	rc[0].action = DSN_ACTION_DELIVERED;
	rc[0].status = "2.0.0";
	rc[1].action = DSN_ACTION_RELAYED;
	rc[1].status = "5.1.1";
	T_EQ_INT(dsn_build(rp, orig_each, o, out), 0, "build success");
	shape_ok(out, &s, 3, "success");
	T_OK(has_line(out, "Subject: Successful Mail Delivery Report"),
	    "success subject");
	T_OK(has_line(out, "Action: delivered"), "delivered action");
	T_OK(has_line(out, "Action: relayed"), "relayed action");
	T_EQ_INT(has_line(out, "Status: 2.0.0"), 1, "success status");
	T_EQ_INT(has_line(out, "Status: 5.1.1"), 0,
	    "a failure status is not shown on a success");
	T_OK(has_line(out, "Content-Description: Delivered Message"),
	    "part 3 described as delivered");

	/* a failed one among them makes it a failure report */
	rc[1].action = DSN_ACTION_FAILED;
	rc[1].status = "4.4.7";
	T_EQ_INT(dsn_build(rp, NULL, NULL, out), 0, "build mixed");
	T_OK(has_line(out, "Subject: Undelivered Mail Returned to Sender"),
	    "failure subject wins");
	T_OK(has_line(out, "Status: 4.4.7"), "failed may carry a 4.x.x "
	    "(expiry)");
}

/* test_return_max - RET=FULL is cut at DSN_RETURN_MAX; errors */
static void
test_return_max(void)
{
	struct dsn_rcpt	 rc = { "a@example.net", "", DSN_ACTION_FAILED,
	    "5.2.2", "mx.example.net", "552 full" };
	struct dsn_report rp = { "mx.example.org", "s@example.com", "", "Q",
	    0, 1, &rc, 1 };
	struct orig	 o;
	struct shape	 s;
	struct buf	 out;
	size_t		 n = 4 * DSN_RETURN_MAX, i;
	char		*big = malloc(n);

	memcpy(big, "Subject: big\r\n\r\n", 16);
	for (i = 16; i < n; i++)	/* 2000-byte lines: broken at 998 */
		big[i] = i % 2000 == 0 ? '\n' : (char)('a' + i % 26);
	o = (struct orig){ big, n, 0, 4096, 0 };
	buf_init(&out, 1024 * 1024);
	T_EQ_INT(dsn_build(&rp, orig_each, &o, &out), 0, "build big");
	shape_ok(&out, &s, 3, "big");
	T_OK(o.fed < n, "reader stopped");
	T_OK(out.len < DSN_RETURN_MAX + 8192 && out.len > DSN_RETURN_MAX,
	    "cut at DSN_RETURN_MAX (%zu bytes)", out.len);
	T_OK(!has_line(&out, "Arrival-Date: "), "no arrival date");

	/* headers-only never returns more than DSN_RETURN_MAX either */
	memset(big, 'h', n);
	memcpy(big, "X: ", 3);
	rp.ret_full = 0;
	o = (struct orig){ big, n, 0, 65536, 0 };
	T_EQ_INT(dsn_build(&rp, orig_each, &o, &out), 0, "endless header");
	shape_ok(&out, &s, 3, "endless header");
	T_OK(out.len < DSN_RETURN_MAX + 8192, "header cut");

	/* out too small: ENOSPC; reader failure: its errno */
	buf_free(&out);
	buf_init(&out, 1000);
	errno = 0;
	T_OK(dsn_build(&rp, orig_each, &o, &out) == -1 && errno == ENOSPC,
	    "small out: ENOSPC");
	buf_free(&out);
	buf_init(&out, 1024 * 1024);
	o.fail = 1;
	errno = 0;
	T_OK(dsn_build(&rp, orig_each, &o, &out) == -1 && errno == EIO,
	    "reader error passed on");
	buf_free(&out);
	free(big);
}

int
main(void)
{
	t_plan(281);
	if (sodium_init() == -1)
		return 1;
	make_hostile();
	test_xtext();
	test_notify();
	test_notify_format();
	test_params();
	test_report();
	test_return_max();
	free(hostile_diag);
	return t_done();
}
