/*
 * dsn.c - delivery status notifications (RFC 3464) and the DSN SMTP
 * extension's parameters (RFC 3461).
 *
 * Interface: dsn.h.  dsn_build() writes the three parts of the report
 * into buffers of their own, then draws a random boundary that occurs in
 * none of them (drawing again in the astronomically unlikely case it
 * does), then joins headers, parts and boundary lines into out.  So the
 * boundary can never be forged from inside, whatever the inserted text.
 *
 * Outside text (addresses, ENVID, ORCPT, replies) goes through
 * dsn_clean(): CR, LF and TAB become a space, runs of spaces one space,
 * every other byte outside printable ASCII '?', at most DSN_FIELD_MAX
 * bytes; then dsn_wrap() folds it at spaces near 78 columns and, for a
 * run without spaces, breaks it before DSN_LINE_MAX.  The returned
 * message is copied with its line ends made CRLF, NUL bytes made '?' and
 * lines longer than DSN_LINE_MAX broken; 8-bit bytes are kept and
 * declared with Content-Transfer-Encoding: 8bit.  Every line of the
 * result therefore ends in CRLF and is at most 998 bytes long.
 *
 * The RFC 3461 parameter helpers (dsn_parse_notify, dsn_format_notify,
 * dsn_parse_ret, dsn_envid_valid, dsn_orcpt_valid) check syntax and
 * length only; smtpd stores ENVID and ORCPT exactly as received.
 *
 * Errors: -1 with errno: ENOSPC when out (or a part) would pass its
 * limit, EINVAL for malformed xtext / NOTIFY, the body reader's errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "dsn.h"
#include "qfile.h"
#include "util.h"

#define DSN_FIELD_MAX	900	/* one address or id */
#define DSN_DIAG_MAX	4096	/* one reply (QFILE_TEXT_MAX) */
#define DSN_SOFT_COLS	78
#define DSN_LINE_MAX	990	/* below RFC 5322's 998 */

/* reading the original message into part 3 */
struct dsn_ret {
	struct buf	*b;
	int		 headers_only;
	int		 in_headers;
	int		 prev_cr;
	int		 eightbit;
	int		 stopped;	/* we asked the reader to stop */
	int		 err;		/* errno of a failed append */
	size_t		 col;
};

/* dsn_clean - sanitised copy of outside text into b, at most max bytes */
static int
dsn_clean(struct buf *b, const char *s, size_t max)
{
	size_t	 n = 0;
	int	 c, sp = 0;

	for (; s != NULL && *s != '\0' && n < max; s++) {
		c = (unsigned char)*s;
		if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
			sp = n > 0;
			continue;
		}
		if (sp && n + 1 < max) {
			if (buf_putc(b, ' ') == -1)
				return -1;
			n++;
		}
		sp = 0;
		if (buf_putc(b, c >= 33 && c <= 126 ? c : '?') == -1)
			return -1;
		n++;
	}
	return 0;
}

/*
 * dsn_wrap - append clean text s[0..n) starting at column col: folded
 * before a space when a line would pass DSN_SOFT_COLS, a long run
 * without spaces broken (CRLF, space) before DSN_LINE_MAX; then CRLF.
 */
static int
dsn_wrap(struct buf *b, const char *s, size_t n, size_t col)
{
	size_t	 i = 0, j, k, lim;

	while (n - i > 0 && col + (n - i) > DSN_SOFT_COLS) {
		j = 0;
		lim = col < DSN_SOFT_COLS ? i + (DSN_SOFT_COLS - col) : i;
		for (k = lim; k > i && j == 0; k--)
			if (s[k] == ' ')
				j = k;
		for (k = i + 1; j == 0 && k < n && col + (k - i) < DSN_LINE_MAX;
		    k++)
			if (s[k] == ' ')
				j = k;
		if (j == 0 && col + (n - i) <= DSN_LINE_MAX)
			break;
		if (j == 0)
			j = i + (DSN_LINE_MAX - col);
		if (buf_append(b, s + i, j - i) == -1 ||
		    buf_puts(b, s[j] == ' ' ? "\r\n" : "\r\n ") == -1)
			return -1;
		col = s[j] == ' ' ? 0 : 1;
		i = j;
	}
	if (buf_append(b, s + i, n - i) == -1)
		return -1;
	return buf_puts(b, "\r\n");
}

/* dsn_field - "head<clean value>tail" folded, CRLF */
static int
dsn_field(struct buf *b, const char *head, const char *value, size_t max,
    const char *tail)
{
	struct buf	 t;
	int		 r;

	buf_init(&t, DSN_LINE_MAX + DSN_DIAG_MAX + 64);
	r = buf_puts(&t, head);
	if (r == 0)
		r = dsn_clean(&t, value, max);
	if (r == 0)
		r = buf_puts(&t, tail);
	if (r == 0)
		r = dsn_wrap(b, buf_cstr(&t), t.len, 0);
	buf_free(&t);
	return r;
}

/* dsn_date - RFC 5322 date-time in UTC (no locale, no time zone file) */
static void
dsn_date(int64_t sec, char *out, size_t len)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	time_t		 t = (time_t)sec;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year > 9999 - 1900 ||
	    tm.tm_year < 0) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	util_fmt(out, len, "%s, %d %s %d %02d:%02d:%02d +0000",
	    day[tm.tm_wday % 7], tm.tm_mday, mon[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* dsn_status_ok - "class.subject.detail" (RFC 3463) */
static int
dsn_status_ok(const char *s)
{
	int	 part, n;

	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	s += 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; *s >= '0' && *s <= '9'; s++)
			n++;
		if (n < 1 || n > 3 || *s != (part == 0 ? '.' : '\0'))
			return 0;
		s += part == 0;
	}
	return 1;
}

/* dsn_xtext_value - xtext decoded for display (raw when malformed) */
static const char *
dsn_xtext_value(const char *x, struct buf *tmp)
{
	if (x == NULL)
		return "";
	if (dsn_xtext_decode(x, tmp, DSN_FIELD_MAX * 3) == -1)
		return x;
	return buf_cstr(tmp);
}

/* dsn_kind - what the report is about: failed if any recipient failed */
static int
dsn_kind(const struct dsn_report *rp)
{
	size_t	 i;

	for (i = 0; i < rp->nrcpt; i++)
		if (rp->rcpt[i].action == DSN_ACTION_FAILED)
			return DSN_ACTION_FAILED;
	return rp->nrcpt > 0 ? rp->rcpt[0].action : DSN_ACTION_FAILED;
}

/* dsn_success - a delivered or relayed notice */
static int
dsn_success(int action)
{
	return action == DSN_ACTION_DELIVERED || action == DSN_ACTION_RELAYED;
}

/* dsn_part1 - the human-readable explanation */
static int
dsn_part1(const struct dsn_report *rp, int kind, struct buf *b)
{
	struct buf	 t;
	const struct dsn_rcpt *r;
	size_t		 i;
	int		 e = 0;

	e |= buf_puts(b, "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
	e |= dsn_field(b, "This is the mail system at host ",
	    rp->reporting_mta, 255, ".");
	if (kind == DSN_ACTION_FAILED)
		e |= buf_puts(b, "\r\nI'm sorry to have to inform you that "
		    "your message could not\r\nbe delivered to one or more "
		    "recipients. It's attached below.\r\n");
	else if (dsn_success(kind))
		e |= buf_puts(b, "\r\nYour message was delivered to the "
		    "recipients below, as you asked\r\nto be told (DSN "
		    "NOTIFY=SUCCESS).  \"Relayed\" means it went on to a\r\n"
		    "server that does not report delivery; errors may still "
		    "come from there.\r\n");
	else
		e |= buf_puts(b, "\r\n####### THIS IS A WARNING ONLY.  YOU DO "
		    "NOT NEED TO RESEND YOUR MESSAGE. #######\r\n\r\n"
		    "Your message could not be delivered yet to the "
		    "recipients below.\r\nThe mail system will keep "
		    "trying.\r\n");
	e |= buf_puts(b, "\r\nFor further assistance, please send mail to "
	    "postmaster.\r\n\r\nIf you do so, please include this problem "
	    "report. You can\r\ndelete your own text from the attached "
	    "returned message.\r\n\r\n                   The mail system\r\n");
	buf_init(&t, DSN_FIELD_MAX * 2 + DSN_DIAG_MAX + 512);
	for (i = 0; i < rp->nrcpt && e == 0; i++) {
		r = &rp->rcpt[i];
		buf_reset(&t);
		e |= buf_puts(&t, "<");
		e |= dsn_clean(&t, r->addr, DSN_FIELD_MAX);
		e |= buf_puts(&t, r->action == DSN_ACTION_DELAYED ?
		    ">: (delayed) " : r->action == DSN_ACTION_DELIVERED ?
		    ">: (delivered) " : r->action == DSN_ACTION_RELAYED ?
		    ">: (relayed) " : ">: ");
		if (r->remote_mta != NULL && r->remote_mta[0] != '\0') {
			e |= buf_puts(&t, "host ");
			e |= dsn_clean(&t, r->remote_mta, 255);
			e |= buf_puts(&t, " said: ");
		}
		if (r->diag != NULL && r->diag[0] != '\0')
			e |= dsn_clean(&t, r->diag, DSN_DIAG_MAX);
		else
			e |= buf_puts(&t, dsn_success(r->action) ? "delivered" :
			    "delivery failed");
		e |= buf_puts(b, "\r\n");
		e |= dsn_wrap(b, buf_cstr(&t), t.len, 0);
	}
	buf_free(&t);
	return e == 0 ? 0 : -1;
}

/* dsn_part2_rcpt - the per-recipient fields of one recipient */
static int
dsn_part2_rcpt(const struct dsn_rcpt *r, const char *now, struct buf *b)
{
	struct buf	 x;
	const char	*v, *st = r->status;
	static const char *names[] = { "failed", "failed", "delayed",
	    "delivered", "relayed" };
	const char	*def[] = { "5.0.0", "5.0.0", "4.0.0", "2.0.0", "2.0.0" };
	int		 a = r->action >= DSN_ACTION_FAILED &&
	    r->action <= DSN_ACTION_RELAYED ? r->action : DSN_ACTION_FAILED;
	int		 e = 0;

	/*
	 * a status must fit the action: 2 for success, 4 for delayed, 4 or
	 * 5 for failed (an expired message fails with its last 4.x.x)
	 */
	if (!dsn_status_ok(st) || (a == DSN_ACTION_FAILED ? st[0] == '2' :
	    st[0] != def[a][0]))
		st = def[a];
	buf_init(&x, DSN_FIELD_MAX * 3 + 1);
	e |= buf_puts(b, "\r\n");
	e |= dsn_field(b, "Final-Recipient: rfc822; ", r->addr,
	    DSN_FIELD_MAX, "");
	if (r->orcpt != NULL && r->orcpt[0] != '\0') {
		v = dsn_xtext_value(r->orcpt, &x);
		e |= dsn_field(b, strchr(v, ';') != NULL ?
		    "Original-Recipient: " : "Original-Recipient: rfc822; ",
		    v, DSN_FIELD_MAX, "");
	}
	e |= buf_printf(b, "Action: %s\r\nStatus: %s\r\n", names[a], st);
	if (r->remote_mta != NULL && r->remote_mta[0] != '\0') {
		e |= dsn_field(b, "Remote-MTA: dns; ", r->remote_mta, 255, "");
		if (r->diag != NULL && r->diag[0] != '\0')
			e |= dsn_field(b, "Diagnostic-Code: smtp; ", r->diag,
			    DSN_DIAG_MAX, "");
	} else if (r->diag != NULL && r->diag[0] != '\0')
		e |= dsn_field(b, "Diagnostic-Code: X-Youju; ", r->diag,
		    DSN_DIAG_MAX, "");
	e |= buf_printf(b, "Last-Attempt-Date: %s\r\n", now);
	buf_free(&x);
	return e == 0 ? 0 : -1;
}

/* dsn_part2 - message/delivery-status */
static int
dsn_part2(const struct dsn_report *rp, const char *now, struct buf *b)
{
	struct buf	 x;
	char		 date[64];
	size_t		 i;
	int		 e = 0;

	buf_init(&x, DSN_FIELD_MAX * 3 + 1);
	e |= buf_puts(b, "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\n");
	e |= dsn_field(b, "Reporting-MTA: dns; ", rp->reporting_mta, 255, "");
	if (rp->qid != NULL && rp->qid[0] != '\0')
		e |= dsn_field(b, "X-Youju-Queue-ID: ", rp->qid, 64, "");
	if (rp->envid != NULL && rp->envid[0] != '\0')
		e |= dsn_field(b, "Original-Envelope-Id: ",
		    dsn_xtext_value(rp->envid, &x), DSN_FIELD_MAX, "");
	if (rp->arrival > 0) {
		dsn_date(rp->arrival, date, sizeof(date));
		e |= buf_printf(b, "Arrival-Date: %s\r\n", date);
	}
	for (i = 0; i < rp->nrcpt && e == 0; i++)
		e |= dsn_part2_rcpt(&rp->rcpt[i], now, b);
	buf_free(&x);
	return e == 0 ? 0 : -1;
}

/* dsn_ret_put - one byte of the original into part 3 (normalised) */
static int
dsn_ret_put(struct dsn_ret *st, int c)
{
	if (c == '\n' && st->prev_cr) {
		st->prev_cr = 0;
		return 0;
	}
	st->prev_cr = c == '\r';
	if (c == '\r' || c == '\n') {
		if (st->in_headers && st->col == 0) {
			st->in_headers = 0;	/* the empty line */
			if (st->headers_only)
				return 1;
		}
		st->col = 0;
		return buf_puts(st->b, "\r\n");
	}
	if (st->col >= DSN_LINE_MAX) {
		if (buf_puts(st->b, st->in_headers ? "\r\n " : "\r\n") == -1)
			return -1;
		st->col = st->in_headers;
	}
	if (c == '\0')
		c = '?';
	st->eightbit |= c >= 0x80;
	st->col++;
	return buf_putc(st->b, c);
}

/* dsn_ret_chunk - the body reader's callback: -1 stops it */
static int
dsn_ret_chunk(void *arg, const void *data, size_t len)
{
	struct dsn_ret	*st = arg;
	const unsigned char *p = data;
	size_t		 i;
	int		 r;

	for (i = 0; i < len; i++) {
		if (st->b->len >= DSN_RETURN_MAX) {
			st->stopped = 1;
			return -1;
		}
		if ((r = dsn_ret_put(st, p[i])) == 1) {
			st->stopped = 1;
			return -1;
		} else if (r == -1) {
			st->err = errno;
			return -1;
		}
	}
	return 0;
}

/* dsn_part3 - the original headers, or the message with RET=FULL */
static int
dsn_part3(const struct dsn_report *rp, dsn_body_each each, void *arg,
    struct buf *b, int *eightbit)
{
	struct dsn_ret	 st;
	struct buf	 c;

	memset(&st, 0, sizeof(st));
	buf_init(&c, DSN_RETURN_MAX + DSN_RETURN_MAX / 256 + 16);
	st.b = &c;
	st.headers_only = !rp->ret_full;
	st.in_headers = 1;
	if (each(arg, dsn_ret_chunk, &st) == -1 && !st.stopped) {
		if (st.err != 0)
			errno = st.err;
		buf_free(&c);
		return -1;
	}
	if (st.col > 0 && buf_puts(&c, "\r\n") == -1) {
		buf_free(&c);
		return -1;
	}
	*eightbit = st.eightbit;
	if (buf_printf(b, "Content-Description: %s\r\nContent-Type: %s\r\n%s"
	    "\r\n", dsn_success(dsn_kind(rp)) ? (rp->ret_full ?
	    "Delivered Message" : "Delivered Message Headers") :
	    rp->ret_full ? "Undelivered Message" :
	    "Undelivered Message Headers", rp->ret_full ? "message/rfc822" :
	    "text/rfc822-headers", st.eightbit ?
	    "Content-Transfer-Encoding: 8bit\r\n" : "") == -1 ||
	    buf_append(b, buf_cstr(&c), c.len) == -1) {
		buf_free(&c);
		return -1;
	}
	buf_free(&c);
	return 0;
}

/* dsn_boundary - random boundary found in none of the parts */
static int
dsn_boundary(char *out, size_t len, struct buf *const *part, size_t n)
{
	unsigned char	 rnd[16];
	char		 hex[sizeof(rnd) * 2 + 1];
	size_t		 i, tries;

	for (tries = 0; tries < 16; tries++) {
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
		if (util_fmt(out, len, "youju-%s", hex) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (part[i]->len > 0 && memmem(part[i]->data,
			    part[i]->len, out, strlen(out)) != NULL)
				break;
		if (i == n)
			return 0;
	}
	errno = EAGAIN;
	return -1;
}

/* dsn_headers - the report's own message header */
static int
dsn_headers(const struct dsn_report *rp, int kind, const char *now,
    const char *bnd, int eightbit, struct buf *out)
{
	unsigned char	 rnd[8];
	char		 hex[sizeof(rnd) * 2 + 1];
	int		 e = 0;

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	e |= dsn_field(out, "From: MAILER-DAEMON@", rp->reporting_mta, 255,
	    " (Mail Delivery System)");
	e |= dsn_field(out, "To: <", rp->sender, DSN_FIELD_MAX, ">");
	e |= buf_printf(out, "Subject: %s\r\nDate: %s\r\n",
	    kind == DSN_ACTION_FAILED ? "Undelivered Mail Returned to Sender" :
	    kind == DSN_ACTION_DELAYED ? "Delayed Mail (still being retried)" :
	    "Successful Mail Delivery Report", now);
	e |= buf_puts(out, "Message-ID: <");
	e |= dsn_clean(out, rp->qid, 64);
	e |= buf_printf(out, ".%s@", hex);
	e |= dsn_clean(out, rp->reporting_mta, 255);
	e |= buf_printf(out, ">\r\nAuto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n"
	    "This is a MIME-encapsulated message.\r\n\r\n", bnd,
	    eightbit ? "8bit" : "7bit");
	return e == 0 ? 0 : -1;
}

/* dsn_build - the whole report into out (reset first); 0 or -1 (ENOSPC) */
int
dsn_build(const struct dsn_report *rp, dsn_body_each each, void *arg,
    struct buf *out)
{
	struct buf	 p[3];
	struct buf	*pp[3] = { &p[0], &p[1], &p[2] };
	char		 now[64], bnd[64];
	size_t		 i, np = each != NULL ? 3 : 2;
	int		 kind = dsn_kind(rp), eightbit = 0, r = -1, e = 0;

	buf_reset(out);
	for (i = 0; i < 3; i++)
		buf_init(&p[i], out->max);
	dsn_date(time(NULL), now, sizeof(now));
	if (dsn_part1(rp, kind, &p[0]) == -1 ||
	    dsn_part2(rp, now, &p[1]) == -1 ||
	    (each != NULL && dsn_part3(rp, each, arg, &p[2], &eightbit) == -1))
		goto done;
	if (dsn_boundary(bnd, sizeof(bnd), pp, np) == -1 ||
	    dsn_headers(rp, kind, now, bnd, eightbit, out) == -1)
		goto done;
	for (i = 0; i < np; i++) {
		e |= buf_printf(out, "--%s\r\n", bnd);
		e |= buf_append(out, buf_cstr(&p[i]), p[i].len);
		e |= buf_puts(out, "\r\n");
	}
	e |= buf_printf(out, "--%s--\r\n", bnd);
	r = e == 0 ? 0 : -1;
done:
	for (i = 0; i < 3; i++)
		buf_free(&p[i]);
	return r;
}

/* dsn_hexval - value of an xtext hex digit, -1 */
static int
dsn_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;	/* lenient: RFC 3461 says upper */
	return -1;
}

/* dsn_xtext_decode - xtext into out (reset first), at most max bytes */
int
dsn_xtext_decode(const char *in, struct buf *out, size_t max)
{
	const unsigned char *s = (const unsigned char *)in;
	int	 c, hi, lo;

	buf_reset(out);
	for (; *s != '\0'; s++) {
		c = *s;
		if (c == '+') {
			if ((hi = dsn_hexval(s[1])) == -1 ||
			    (lo = dsn_hexval(s[2])) == -1)
				goto bad;
			c = hi * 16 + lo;
			s += 2;
		} else if (c < 33 || c > 126 || c == '=')
			goto bad;
		if (out->len >= max) {
			errno = ENOSPC;
			return -1;
		}
		if (buf_putc(out, c) == -1)
			return -1;
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* dsn_xtext_valid - 1 when s is well-formed xtext, else 0 */
int
dsn_xtext_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p == '+') {
			if (dsn_hexval(p[1]) == -1 || dsn_hexval(p[2]) == -1)
				return 0;
			p += 2;
		} else if (*p < 33 || *p > 126 || *p == '=')
			return 0;
	}
	return 1;
}

/* dsn_xtext_encode - bytes as xtext into out (reset first) */
int
dsn_xtext_encode(const void *in, size_t len, struct buf *out)
{
	const unsigned char *p = in;
	size_t	 i;
	int	 e = 0;

	buf_reset(out);
	for (i = 0; i < len && e == 0; i++) {
		if (p[i] >= 33 && p[i] <= 126 && p[i] != '+' && p[i] != '=')
			e = buf_putc(out, p[i]);
		else
			e = buf_printf(out, "+%02X", p[i]);
	}
	return e;
}

/* dsn_parse_notify - NEVER | SUCCESS,FAILURE,DELAY -> QFILE_NOTIFY_* */
int
dsn_parse_notify(const char *s, unsigned *bits)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} kw[] = {
		{ "NEVER", QFILE_NOTIFY_NEVER },
		{ "SUCCESS", QFILE_NOTIFY_SUCCESS },
		{ "FAILURE", QFILE_NOTIFY_FAILURE },
		{ "DELAY", QFILE_NOTIFY_DELAY },
	};
	const char	*e;
	size_t		 len, i;
	unsigned	 b = 0;

	for (;;) {
		e = strchr(s, ',');
		len = e != NULL ? (size_t)(e - s) : strlen(s);
		for (i = 0; i < NELEM(kw); i++)
			if (strlen(kw[i].name) == len &&
			    strncasecmp(s, kw[i].name, len) == 0)
				break;
		if (i == NELEM(kw)) {
			errno = EINVAL;
			return -1;
		}
		b |= kw[i].bit;
		if (e == NULL)
			break;
		s = e + 1;
	}
	/* NEVER excludes the others */
	if ((b & QFILE_NOTIFY_NEVER) != 0 && b != QFILE_NOTIFY_NEVER) {
		errno = EINVAL;
		return -1;
	}
	*bits = b;
	return 0;
}

/* dsn_format_notify - QFILE_NOTIFY_* bits -> "NEVER" / "SUCCESS,..." */
int
dsn_format_notify(unsigned bits, char *out, size_t len)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} kw[] = {	/* the order of RFC 3461 4.1 */
		{ "SUCCESS", QFILE_NOTIFY_SUCCESS },
		{ "FAILURE", QFILE_NOTIFY_FAILURE },
		{ "DELAY", QFILE_NOTIFY_DELAY },
	};
	const unsigned	 all = QFILE_NOTIFY_NEVER | QFILE_NOTIFY_SUCCESS |
	    QFILE_NOTIFY_FAILURE | QFILE_NOTIFY_DELAY;
	char		 tmp[DSN_NOTIFY_BUFSZ] = "";
	size_t		 i;

	if (bits == 0 || (bits & ~all) != 0 ||
	    ((bits & QFILE_NOTIFY_NEVER) != 0 && bits != QFILE_NOTIFY_NEVER)) {
		errno = EINVAL;
		return -1;
	}
	if (bits == QFILE_NOTIFY_NEVER)
		util_strlcpy(tmp, "NEVER", sizeof(tmp));
	for (i = 0; i < NELEM(kw); i++) {
		if ((bits & kw[i].bit) == 0)
			continue;
		if (tmp[0] != '\0')
			util_strlcat(tmp, ",", sizeof(tmp));
		util_strlcat(tmp, kw[i].name, sizeof(tmp));	/* fits */
	}
	if (util_strlcpy(out, tmp, len) >= len) {
		if (len > 0)
			out[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* dsn_parse_ret - RET=FULL | HDRS, any case -> "FULL" / "HDRS"; NULL */
const char *
dsn_parse_ret(const char *s)
{
	if (s != NULL && util_strcasecmp_ascii(s, "FULL") == 0)
		return "FULL";
	if (s != NULL && util_strcasecmp_ascii(s, "HDRS") == 0)
		return "HDRS";
	errno = EINVAL;
	return NULL;
}

/* dsn_envid_valid - 1 for an ENVID= value we keep, else 0 */
int
dsn_envid_valid(const char *s)
{
	size_t	 n;

	if (s == NULL)
		return 0;
	n = strnlen(s, DSN_ENVID_MAX + 1);
	return n > 0 && n <= DSN_ENVID_MAX && dsn_xtext_valid(s);
}

/* dsn_atext - an RFC 5322 atext byte */
static int
dsn_atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* dsn_orcpt_valid - 1 for an ORCPT= value "addr-type;xtext", else 0 */
int
dsn_orcpt_valid(const char *s)
{
	const char	*p;

	if (s == NULL || strnlen(s, DSN_ORCPT_MAX + 1) > DSN_ORCPT_MAX)
		return 0;
	for (p = s; dsn_atext((unsigned char)*p); p++)
		;
	if (p == s || *p != ';' || p[1] == '\0')
		return 0;
	return dsn_xtext_valid(p + 1);
}
