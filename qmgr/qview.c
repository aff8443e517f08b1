/*
 * qview.c - the admin's view of a queued message (see qview.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "log.h"
#include "qfile.h"
#include "util.h"
#include "qview.h"

#define QVIEW_HDR_MAX	(64 * 1024)	/* header bytes "show" prints */
#define QVIEW_TRAIL_MAX	2000		/* H records "explain" keeps */

static const char *qview_st[] = { "pending", "delivered", "bounced",
    "expanded", "bounced (report sent)" };

/* qview_time - "YYYY-MM-DD HH:MM:SS" in UTC, or "-" for 0 */
static const char *
qview_time(int64_t t, char *b, size_t len)
{
	struct tm tm;
	time_t	 tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(b, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		util_strlcpy(b, "-", len);
	return b;
}

/* qview_utf8_len - length of a valid UTF-8 sequence at p, or 0 */
static size_t
qview_utf8_len(const unsigned char *p)
{
	size_t	 n, i;
	unsigned cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* qview_json_str - see qview.h */
void
qview_json_str(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	 n;

	buf_putc(b, '"');
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_printf(b, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			buf_putc(b, *p++);
		} else if ((n = qview_utf8_len(p)) > 0) {
			buf_append(b, p, n);
			p += n;
		} else {
			buf_puts(b, "\\ufffd");
			p++;
		}
	}
	buf_putc(b, '"');
}

/* qview_text - untrusted text for a terminal line */
static const char *
qview_text(const char *s)
{
	return log_str(s);
}

/* qview_list_header - see qview.h */
void
qview_list_header(struct buf *b)
{
	buf_printf(b, "%-16s %10s  %-19s  %-8s  %-19s  %s\n", "QUEUE ID",
	    "SIZE", "ARRIVAL (UTC)", "STATE", "NEXT ATTEMPT", "SENDER");
}

/* qview_list - see qview.h */
void
qview_list(struct buf *b, const struct qview *v, int json)
{
	const struct qfile_msg *q = v->q;
	char	 t1[32], t2[32];
	size_t	 i, n = 0;

	if (json) {
		buf_puts(b, "{\"queue_id\":");
		qview_json_str(b, q->qid);
		buf_printf(b, ",\"queue_name\":\"%s\",\"arrival_time\":%lld,"
		    "\"message_size\":%llu,\"attempts\":%u,"
		    "\"next_attempt\":%lld,\"sender\":", v->state,
		    (long long)q->arrival_sec,
		    (unsigned long long)qfile_size(q), v->attempts,
		    (long long)v->next_try);
		qview_json_str(b, q->sender);
		buf_puts(b, ",\"recipients\":[");
		for (i = 0; i < q->nrcpt; i++) {
			const struct qfile_rcpt *r = &q->rcpt[i];

			if (r->status == QFILE_ST_EXPANDED)
				continue;
			buf_puts(b, n++ > 0 ? ",{\"address\":" :
			    "{\"address\":");
			qview_json_str(b, r->addr);
			buf_printf(b, ",\"status\":\"%s\"", r->status ==
			    QFILE_ST_PENDING ? "pending" : r->status ==
			    QFILE_ST_DELIVERED ? "delivered" : "bounced");
			if (r->text != NULL && *r->text != '\0') {
				buf_puts(b, r->status == QFILE_ST_PENDING ?
				    ",\"delay_reason\":" : ",\"reason\":");
				qview_json_str(b, r->text);
			}
			buf_putc(b, '}');
		}
		buf_puts(b, "]}\n");
		return;
	}
	buf_printf(b, "%-16s %10llu  %-19s  %-8s  %-19s  <%s>\n", q->qid,
	    (unsigned long long)qfile_size(q),
	    qview_time(q->arrival_sec, t1, sizeof(t1)), v->state,
	    qview_time(v->next_try, t2, sizeof(t2)), qview_text(q->sender));
	for (i = 0; i < q->nrcpt; i++) {
		const struct qfile_rcpt *r = &q->rcpt[i];

		if (r->status != QFILE_ST_PENDING)
			continue;
		buf_printf(b, "    <%s>", qview_text(r->addr));
		if (r->text != NULL && *r->text != '\0')
			buf_printf(b, "  (%s)", qview_text(r->text));
		buf_putc(b, '\n');
	}
}

/* qview_list_footer - see qview.h */
void
qview_list_footer(struct buf *b, size_t n, uint64_t bytes)
{
	if (n == 0)
		buf_puts(b, "-- the queue is empty\n");
	else
		buf_printf(b, "-- %zu message%s, %llu KB in the queue\n", n,
		    n == 1 ? "" : "s",
		    (unsigned long long)((bytes + 1023) / 1024));
}

/* qview_deleted - see qview.h */
void
qview_deleted(struct buf *b, const char *queue, size_t n, size_t later)
{
	const char *what = "";

	if (queue != NULL && strcmp(queue, "hold") == 0)
		what = "held ";
	else if (queue != NULL && strcmp(queue, "deferred") == 0)
		what = "deferred ";
	else if (queue != NULL && strcmp(queue, "active") == 0)
		what = "active ";
	buf_printf(b, "deleted %zu %smessage%s", n, what, n == 1 ? "" : "s");
	if (later > 0)
		buf_printf(b, "; %zu more when %s delivery attempt%s in "
		    "progress end%s", later, later == 1 ? "its" : "their",
		    later == 1 ? "" : "s", later == 1 ? "s" : "");
	buf_puts(b, "\n");
}

/* qview_queue_name - see qview.h */
int
qview_queue_name(const char *s)
{
	return s != NULL && (strcmp(s, "active") == 0 ||
	    strcmp(s, "deferred") == 0 || strcmp(s, "hold") == 0);
}

struct qview_hist {
	struct buf		*b;
	const struct qfile_msg	*q;
};

/* qview_hist_cb - one record after E, as a history line */
static void
qview_hist_cb(void *arg, int type, uint32_t idx, int st, int64_t when,
    const char *text)
{
	struct qview_hist *h = arg;
	char	 t[32];
	const char *who;

	if (type == 'X') {
		buf_printf(h->b, "  added <%s>, from alias <%s>\n",
		    qview_text(text), (size_t)st < h->q->nrcpt ?
		    qview_text(h->q->rcpt[st].addr) : "?");
		return;
	}
	who = idx < h->q->nrcpt ? h->q->rcpt[idx].addr : "?";
	if (type == 'H')
		buf_printf(h->b, "  %s  <%s> deferred: %s\n",
		    qview_time(when, t, sizeof(t)), qview_text(who),
		    qview_text(text));
	else
		buf_printf(h->b, "  <%s> %s: %s\n", qview_text(who),
		    st >= 0 && st <= QFILE_ST_BOUNCE_SENT ? qview_st[st] : "?",
		    qview_text(text));
}

struct qview_hdr {
	struct buf	*b;
	struct buf	 line;
	size_t		 seen;
	int		 done;
};

/* qview_hdr_line - print one header line (CRLF stripped, escaped) */
static void
qview_hdr_line(struct qview_hdr *h)
{
	char	 esc[1024];
	size_t	 i;

	if (h->line.len > 0 && h->line.data[h->line.len - 1] == '\r')
		h->line.len--;
	for (i = 0; i < h->line.len; i++)
		if (h->line.data[i] == '\t')	/* folding, not an attack */
			h->line.data[i] = ' ';
	if (h->line.len == 0) {
		h->done = 1;
		return;
	}
	buf_printf(h->b, "  %s\n", log_escape(esc, sizeof(esc),
	    h->line.data, h->line.len));
	buf_reset(&h->line);
}

/* qview_hdr_cb - body chunks until the empty line ending the header */
static int
qview_hdr_cb(void *arg, const void *p, size_t len)
{
	struct qview_hdr *h = arg;
	const unsigned char *c = p;
	size_t	 i;

	for (i = 0; i < len && !h->done; i++) {
		if (h->seen++ >= QVIEW_HDR_MAX) {
			buf_puts(h->b, "  ...\n");
			h->done = 1;
			break;
		}
		if (c[i] == '\n')
			qview_hdr_line(h);
		else if (h->line.len < 900)
			buf_putc(&h->line, c[i]);
	}
	return h->done ? -1 : 0;
}

/* qview_show - see qview.h */
int
qview_show(struct buf *b, int fd, const struct qview *v)
{
	const struct qfile_msg *q = v->q;
	struct qview_hist hist = { b, q };
	struct qview_hdr hdr;
	char	 t[32];
	size_t	 i;
	int	 r = 0;

	buf_printf(b, "queue id:  %s\nstate:     %s", q->qid, v->state);
	if (v->attempts > 0)
		buf_printf(b, ", %u delivery attempt%s", v->attempts,
		    v->attempts == 1 ? "" : "s");
	if (v->next_try > 0)
		buf_printf(b, ", next %s UTC", qview_time(v->next_try, t,
		    sizeof(t)));
	buf_printf(b, "\narrival:   %s UTC\nsize:      %llu bytes\n"
	    "sender:    <%s>\n", qview_time(q->arrival_sec, t, sizeof(t)),
	    (unsigned long long)qfile_size(q), qview_text(q->sender));
	for (i = 0; i < q->nattr; i++)
		buf_printf(b, "attribute: %s=%s\n", q->attr[i].name,
		    qview_text(q->attr[i].value));
	buf_puts(b, "recipients:\n");
	for (i = 0; i < q->nrcpt; i++) {
		const struct qfile_rcpt *rc = &q->rcpt[i];

		buf_printf(b, "  <%s> %s", qview_text(rc->addr),
		    qview_st[rc->status >= 0 && rc->status <=
		    QFILE_ST_BOUNCE_SENT ? rc->status : 0]);
		if (rc->text != NULL && *rc->text != '\0')
			buf_printf(b, ": %s", qview_text(rc->text));
		if (rc->orcpt != NULL && *rc->orcpt != '\0')
			buf_printf(b, " [ORCPT=%s]", qview_text(rc->orcpt));
		buf_putc(b, '\n');
	}
	buf_puts(b, "history:\n");
	if (qfile_trail_each(fd, q, qview_hist_cb, &hist) == -1)
		r = -1;
	buf_puts(b, "headers:\n");
	memset(&hdr, 0, sizeof(hdr));
	hdr.b = b;
	buf_init(&hdr.line, 1024);
	if (qfile_body_each(fd, q, qview_hdr_cb, &hdr) == -1 && !hdr.done)
		r = -1;
	if (!hdr.done && hdr.line.len > 0)
		qview_hdr_line(&hdr);
	buf_free(&hdr.line);
	return r;
}

struct qview_trail {
	uint32_t	*idx;		/* H records: recipient, time, text */
	int64_t		*when;
	char		**text;
	size_t		 n, cap;
};

/* qview_trail_cb - keep each H record (at most QVIEW_TRAIL_MAX) */
static void
qview_trail_cb(void *arg, int type, uint32_t idx, int st, int64_t when,
    const char *text)
{
	struct qview_trail *t = arg;

	(void)st;
	if (type != 'H' || t->n >= QVIEW_TRAIL_MAX)
		return;
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 16 : t->cap * 2;
		t->idx = xreallocarray(t->idx, t->cap, sizeof(*t->idx));
		t->when = xreallocarray(t->when, t->cap, sizeof(*t->when));
		t->text = xreallocarray(t->text, t->cap, sizeof(*t->text));
	}
	t->idx[t->n] = idx;
	t->when[t->n] = when;
	t->text[t->n++] = xstrdup(text);
}

/* qview_arrival - the lines about where the message came from */
static void
qview_arrival(struct buf *b, const struct qfile_msg *q)
{
	const char *addr = qfile_attr_get(q, "client_address");
	const char *port = qfile_attr_get(q, "client_port");
	const char *helo = qfile_attr_get(q, "helo_name");
	const char *proto = qfile_attr_get(q, "protocol");
	const char *tls = qfile_attr_get(q, "tls");
	const char *user = qfile_attr_get(q, "sasl_username");
	const char *mech = qfile_attr_get(q, "sasl_method");
	char	 t[32];

	buf_printf(b, "arrival:   %s UTC", qview_time(q->arrival_sec, t,
	    sizeof(t)));
	if (addr != NULL)
		buf_printf(b, " from [%s]%s%s", qview_text(addr),
		    port != NULL ? ":" : "", port != NULL ? qview_text(port) :
		    "");
	if (helo != NULL && *helo != '\0')
		buf_printf(b, ", HELO %s", qview_text(helo));
	if (proto != NULL)
		buf_printf(b, ", %s", qview_text(proto));
	buf_printf(b, "\ntls:       %s\nsasl:      ", tls != NULL ?
	    qview_text(tls) : "none (plain text)");
	if (user != NULL)
		buf_printf(b, "%s (%s)\n", qview_text(user), mech != NULL ?
		    qview_text(mech) : "?");
	else
		buf_puts(b, "none (not authenticated)\n");
}

/* qview_explain - see qview.h */
int
qview_explain(struct buf *b, int fd, const struct qview *v)
{
	const struct qfile_msg *q = v->q;
	struct qview_trail tr;
	char	 t[32];
	size_t	 i, k;
	int	 r;

	memset(&tr, 0, sizeof(tr));
	r = qfile_trail_each(fd, q, qview_trail_cb, &tr);
	buf_printf(b, "queue id:  %s\nstate:     %s", q->qid, v->state);
	if (v->attempts > 0)
		buf_printf(b, ", %u delivery attempt%s so far", v->attempts,
		    v->attempts == 1 ? "" : "s");
	buf_putc(b, '\n');
	qview_arrival(b, q);
	buf_printf(b, "sender:    <%s>\nsize:      %llu bytes\n",
	    qview_text(q->sender), (unsigned long long)qfile_size(q));
	for (i = 0; i < q->nrcpt; i++) {
		const struct qfile_rcpt *rc = &q->rcpt[i];

		buf_printf(b, "recipient <%s>", qview_text(rc->addr));
		if (rc->parent != UINT32_MAX && rc->parent < q->nrcpt)
			buf_printf(b, " (from alias <%s>)",
			    qview_text(q->rcpt[rc->parent].addr));
		buf_printf(b, ": %s", qview_st[rc->status >= 0 && rc->status <=
		    QFILE_ST_BOUNCE_SENT ? rc->status : 0]);
		if (rc->status != QFILE_ST_PENDING && rc->text != NULL &&
		    *rc->text != '\0')
			buf_printf(b, ": %s", qview_text(rc->text));
		buf_putc(b, '\n');
		for (k = 0; k < tr.n; k++)
			if (tr.idx[k] == i)
				buf_printf(b, "  %s UTC  deferred: %s\n",
				    qview_time(tr.when[k], t, sizeof(t)),
				    qview_text(tr.text[k]));
	}
	for (k = 0; k < tr.n; k++)
		free(tr.text[k]);
	free(tr.idx);
	free(tr.when);
	free(tr.text);
	return r == -1 ? -1 : 0;
}

/* qview_has_domain - see qview.h */
int
qview_has_domain(const struct qfile_msg *q, const char *domain)
{
	const char *at;
	size_t	 i;

	for (i = 0; i < q->nrcpt; i++) {
		if (q->rcpt[i].status != QFILE_ST_PENDING)
			continue;
		if ((at = strrchr(q->rcpt[i].addr, '@')) != NULL &&
		    util_strcasecmp_ascii(at + 1, domain) == 0)
			return 1;
	}
	return 0;
}

/* qview_rcpt_match - see qview.h */
int
qview_rcpt_match(const struct qfile_msg *q, const char *pat)
{
	size_t	 i;

	for (i = 0; i < q->nrcpt; i++)
		if (q->rcpt[i].status == QFILE_ST_PENDING &&
		    addr_pattern_match(pat, q->rcpt[i].addr))
			return 1;
	return 0;
}
