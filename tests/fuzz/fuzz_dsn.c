/*
 * fuzz_dsn.c - libFuzzer target for lib/mail/dsn: xtext decode / validate /
 * encode, NOTIFY parsing, and dsn_build() with texts chosen by the input.
 *
 * Input: byte 0 flags (bit 0 RET=FULL, bit 1 no body reader, bits 2-3
 * and 4-5 the recipients' actions: failed, delayed, delivered, relayed),
 * byte 1 the body chunk size (0 = 1), then
 * u8-length strings: reporting MTA, sender, ENVID, qid, NOTIFY; then two
 * recipients of addr, ORCPT, status, remote MTA (u8 length) and diag
 * (u16 length); the rest is the original message.
 *
 * Properties checked (abort when broken):
 *  - xtext: dsn_xtext_valid() agrees with dsn_xtext_decode(); what
 *    decodes re-encodes to valid xtext that decodes to the same bytes;
 *    any bytes encode to valid xtext and decode back;
 *  - NOTIFY: a parsed value is non-zero, within the four bits, and
 *    NEVER comes alone; formatted back it parses to the same bits;
 *    the same string as RET (FULL/HDRS or refused), ENVID (valid xtext
 *    of 1..100 bytes) and ORCPT (type ";" valid xtext, <= 500 bytes);
 *  - the report: a boundary in the top Content-Type that occurs only in
 *    that parameter, in exactly 3 (2 without a body reader) "--B" lines
 *    and one closing "--B--" line, the last; every line ends in CRLF
 *    with no other CR or LF, is at most 998 bytes; no 8-bit byte before
 *    the third part; the parts' Content-Type lines are the documented ones.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "dsn.h"
#include "fuzz.h"
#include "qfile.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_DSN_CTYPE	"\r\nContent-Type: multipart/report; " \
	"report-type=delivery-status;\r\n\tboundary=\""

struct fuzz_dsn_body {
	const uint8_t	*p;
	size_t		 n;
	size_t		 step;
};

/* fuzz_dsn_each - the original message in chunks of step bytes */
static int
fuzz_dsn_each(void *arg, int (*chunk)(void *, const void *, size_t),
    void *carg)
{
	struct fuzz_dsn_body *b = arg;
	size_t		 off, n;

	for (off = 0; off < b->n; off += n) {
		n = b->n - off < b->step ? b->n - off : b->step;
		if (chunk(carg, b->p + off, n) == -1)
			return -1;
	}
	return 0;
}

/* fuzz_dsn_xtext - the xtext properties on one string */
static void
fuzz_dsn_xtext(const char *s)
{
	struct buf	 d, e, d2;
	int		 ok;

	buf_init(&d, 4096);
	buf_init(&e, 3 * 4096 + 1);
	buf_init(&d2, 4096);
	ok = dsn_xtext_decode(s, &d, 4096) == 0;
	FZ_CHECK(ok == dsn_xtext_valid(s));
	/* what decodes, or else the raw bytes: encode, then decode back */
	if (ok)
		FZ_CHECK(dsn_xtext_encode(d.data, d.len, &e) == 0);
	else
		FZ_CHECK(dsn_xtext_encode(s, strlen(s), &e) == 0);
	FZ_CHECK(dsn_xtext_valid(buf_cstr(&e)) == 1);
	FZ_CHECK(dsn_xtext_decode(buf_cstr(&e), &d2, 4096) == 0);
	if (ok)
		FZ_CHECK(d2.len == d.len && (d.len == 0 ||
		    memcmp(d2.data, d.data, d.len) == 0));
	else
		FZ_CHECK(d2.len == strlen(s) && (d2.len == 0 ||
		    memcmp(d2.data, s, d2.len) == 0));
	buf_free(&d);
	buf_free(&e);
	buf_free(&d2);
}

/* fuzz_dsn_notify - NOTIFY properties */
static void
fuzz_dsn_notify(const char *s)
{
	unsigned	 bits = 0;

	char		 text[DSN_NOTIFY_BUFSZ];
	unsigned	 again = 0;
	const char	*ret;
	size_t		 len = strlen(s);

	/* RET, ENVID, ORCPT on the same string */
	ret = dsn_parse_ret(s);
	FZ_CHECK(ret == NULL || strcmp(ret, "FULL") == 0 ||
	    strcmp(ret, "HDRS") == 0);
	if (dsn_envid_valid(s))
		FZ_CHECK(len >= 1 && len <= DSN_ENVID_MAX &&
		    dsn_xtext_valid(s));
	if (dsn_orcpt_valid(s))
		FZ_CHECK(len <= DSN_ORCPT_MAX && strchr(s, ';') != NULL &&
		    strchr(s, ';') != s && dsn_xtext_valid(strchr(s, ';') + 1));
	if (dsn_parse_notify(s, &bits) == -1)
		return;
	FZ_CHECK(bits != 0 && (bits & ~0x0fu) == 0);
	FZ_CHECK((bits & QFILE_NOTIFY_NEVER) == 0 ||
	    bits == QFILE_NOTIFY_NEVER);
	/* the bits format back to a value that parses to the same bits */
	FZ_CHECK(dsn_format_notify(bits, text, sizeof(text)) == 0);
	FZ_CHECK(dsn_parse_notify(text, &again) == 0 && again == bits);
}

/* what fuzz_dsn_shape has seen so far */
struct fuzz_dsn_state {
	const char	*bnd;
	size_t		 blen;
	int		 full;
	int		 part;		/* "--B" lines so far */
	int		 ends;		/* "--B--" lines so far */
	int		 last;		/* the line just seen was "--B--" */
	int		 typed;		/* this part's Content-Type seen */
};

/* fuzz_dsn_line - one line [q, q+ll) of the report (without CRLF) */
static void
fuzz_dsn_line(struct fuzz_dsn_state *st, const char *q, size_t ll)
{
	static const char *const want[2][3] = {
	    { "text/plain; charset=us-ascii", "message/delivery-status",
	      "text/rfc822-headers" },
	    { "text/plain; charset=us-ascii", "message/delivery-status",
	      "message/rfc822" } };
	const char	*w;
	size_t		 i;

	FZ_CHECK(ll <= 998);
	FZ_CHECK(memchr(q, '\r', ll) == NULL);
	st->last = 0;
	if (ll >= st->blen + 2 && q[0] == '-' && q[1] == '-' &&
	    memcmp(q + 2, st->bnd, st->blen) == 0) {
		FZ_CHECK(st->ends == 0);
		if (ll == st->blen + 2) {
			st->part++;
			st->typed = 0;
		} else {
			FZ_CHECK(ll == st->blen + 4 && q[ll - 2] == '-' &&
			    q[ll - 1] == '-');
			st->ends++;
			st->last = 1;
		}
		return;
	}
	if (st->part >= 1 && st->part <= 3 && !st->typed && ll > 14 &&
	    memcmp(q, "Content-Type: ", 14) == 0) {
		st->typed = 1;
		w = want[st->full][st->part - 1];
		FZ_CHECK(ll - 14 == strlen(w) &&
		    memcmp(q + 14, w, ll - 14) == 0);
	}
	if (st->part < 3)
		for (i = 0; i < ll; i++)
			FZ_CHECK((unsigned char)q[i] < 0x80);
}

/* fuzz_dsn_shape - the report's structure */
static void
fuzz_dsn_shape(const struct buf *out, int nparts, int full)
{
	struct fuzz_dsn_state st;
	const char	*p = (const char *)out->data, *end, *q, *nl, *b;
	size_t		 count = 0;

	FZ_CHECK(p != NULL && out->len > 0);
	memset(&st, 0, sizeof(st));
	st.full = full;
	end = p + out->len;
	/* the header's own line: outside text never starts a line there */
	q = memmem(p, out->len, FUZZ_DSN_CTYPE, sizeof(FUZZ_DSN_CTYPE) - 1);
	FZ_CHECK(q != NULL);
	q += sizeof(FUZZ_DSN_CTYPE) - 1;
	nl = memchr(q, '"', (size_t)(end - q));
	FZ_CHECK(nl != NULL && nl > q && nl - q < 100);
	st.bnd = q;
	st.blen = (size_t)(nl - q);
	for (b = p; (b = memmem(b, (size_t)(end - b), st.bnd, st.blen)) !=
	    NULL; b += st.blen)
		count++;
	FZ_CHECK(count == (size_t)nparts + 2);
	for (q = p; q < end; q = nl + 1) {
		nl = memchr(q, '\n', (size_t)(end - q));
		FZ_CHECK(nl != NULL && nl > q && nl[-1] == '\r');
		fuzz_dsn_line(&st, q, (size_t)(nl - q - 1));
	}
	FZ_CHECK(st.part == nparts && st.ends == 1 && st.last);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	struct fz	 f;
	struct dsn_rcpt	 rc[2];
	struct dsn_report rp;
	struct fuzz_dsn_body body;
	struct buf	 out;
	char		*str[5], *rs[2][5];
	unsigned	 flags, step;
	size_t		 i, j;
	int		 r;

	if (!init && sodium_init() != -1)
		init = 1;
	fz_init(&f, data, size);
	flags = fz_u8(&f);
	step = fz_u8(&f);
	for (i = 0; i < 5; i++)
		str[i] = fz_str(&f, 0);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 5; j++)
			rs[i][j] = fz_str(&f, j == 4);
	for (i = 0; i < 2; i++)
		fuzz_dsn_xtext(rs[i][1]);
	fuzz_dsn_xtext(str[2]);
	fuzz_dsn_notify(str[4]);
	for (i = 0; i < 2; i++)
		rc[i] = (struct dsn_rcpt){ rs[i][0], rs[i][1],
		    DSN_ACTION_FAILED + (int)((flags >> (2 + 2 * i)) & 3),
		    rs[i][2], rs[i][3], rs[i][4] };
	rp = (struct dsn_report){ str[0], str[1], str[2], str[3],
	    (int64_t)size * 86400 * 365, (int)(flags & 1), rc, 2 };
	body = (struct fuzz_dsn_body){ f.p, f.n, step == 0 ? 1 : step * 64 };
	buf_init(&out, 1024 * 1024);
	r = dsn_build(&rp, (flags & 2) ? NULL : fuzz_dsn_each, &body, &out);
	fz_trace("dsn_build: %d, %zu bytes, %zu body bytes", r, out.len, f.n);
	FZ_CHECK(r == 0);
	fuzz_dsn_shape(&out, (flags & 2) ? 2 : 3, (int)(flags & 1));
	buf_free(&out);
	for (i = 0; i < 5; i++)
		free(str[i]);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 5; j++)
			free(rs[i][j]);
	return 0;
}
