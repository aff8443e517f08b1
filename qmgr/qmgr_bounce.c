/*
 * qmgr_bounce.c - non-delivery notifications and queue lifetime.
 *
 * When recipients of a message have failed for good (a 5xx, or their
 * time in the queue ran out), qmgr queues one RFC 3464 report for them to
 * the envelope sender (lib/mail/dsn), as a new message from the null sender
 * <>, then marks them "bounce sent" (a done record unless the message is
 * about to be removed).  A message from <> is itself a report: its
 * failures go once to the postmaster ("double bounce"); a failed double
 * bounce is logged and dropped - never a bounce of a bounce of a bounce.
 *
 * NOTIFY (RFC 3461) decides per recipient: without it, failures are
 * reported and delays too (when delay_warning_time is set); NEVER
 * suppresses both; otherwise only the kinds it lists, SUCCESS included
 * (a "delivered" or "relayed" report, qmgr_success).
 *
 * Lifetime: a message older than maximal_queue_lifetime (from <>:
 * bounce_queue_lifetime) with recipients still pending has them failed
 * with 4.4.7 and the last temporary error they got.
 */
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "dsn.h"
#include "log.h"
#include "metrics_client.h"
#include "qfile.h"
#include "qid.h"
#include "util.h"
#include "qmgr.h"

struct qmgr_body {
	int		 fd;
	const struct qfile_msg *q;
};

/* qmgr_body_each - dsn_build reads the original content through this */
static int
qmgr_body_each(void *arg, int (*cb)(void *, const void *, size_t),
    void *cbarg)
{
	struct qmgr_body *b = arg;

	(void)qfile_body_each(b->fd, b->q, cb, cbarg);
	return 0;
}

/* qmgr_dsn_code - split "X.Y.Z text" into the code and the text */
static const char *
qmgr_dsn_code(const char *t, char *code, size_t len)
{
	size_t	 n = strspn(t, "0123456789.");

	if (n >= 5 && n < len && (t[n] == ' ' || t[n] == '\0') &&
	    (t[0] == '2' || t[0] == '4' || t[0] == '5')) {
		memcpy(code, t, n);
		code[n] = '\0';
		return t[n] == ' ' ? t + n + 1 : t + n;
	}
	util_strlcpy(code, "5.0.0", len);
	return t;
}

/*
 * qmgr_remote - from smtp's "X.Y.Z host H[addr] said: REPLY (in reply to
 * C)", the remote host H and the bare REPLY (for Remote-MTA and an "smtp;"
 * Diagnostic-Code); 0 when the text is not a remote reply.
 */
static int
qmgr_remote(const char *diag, char *host, size_t hlen, char *reply,
    size_t rlen)
{
	const char *h, *b, *said, *in;

	if ((h = strstr(diag, "host ")) == NULL ||
	    (said = strstr(h, " said: ")) == NULL)
		return 0;
	h += 5;
	if ((b = strchr(h, '[')) == NULL || b > said ||
	    (size_t)(b - h) >= hlen || b == h)
		return 0;
	memcpy(host, h, (size_t)(b - h));
	host[b - h] = '\0';
	said += 7;
	in = strstr(said, " (in reply to ");
	if (in == NULL)
		in = said + strlen(said);
	if ((size_t)(in - said) >= rlen)
		in = said + rlen - 1;
	memcpy(reply, said, (size_t)(in - said));
	reply[in - said] = '\0';
	return 1;
}

/* qmgr_unsent - recipients failed for good whose report is not queued */
int
qmgr_unsent(const struct qmgr_msg *m)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < m->q.nrcpt; i++)
		n += m->q.rcpt[i].status == QFILE_ST_BOUNCED;
	return n;
}

/* qmgr_bounce_write - queue the report as a new message; its qid */
static int
qmgr_bounce_write(struct qmgr_msg *m, const char *rcpt, int dbl,
    const struct buf *text, char *nqid)
{
	struct qfile_writer w;
	struct timeval tv;

	qid_new(nqid);
	gettimeofday(&tv, NULL);
	if (qfile_create(&w, nqid, qmgr.hash_depth) == -1)
		return -1;
	if (qfile_put_header(&w, (int64_t)tv.tv_sec, (int32_t)tv.tv_usec,
	    "") == -1 ||
	    qfile_put_attr(&w, "bounce_of", m->qid, strlen(m->qid)) == -1 ||
	    (dbl && qfile_put_attr(&w, "double_bounce", "1", 1) == -1) ||
	    qfile_put_rcpt(&w, rcpt, "", 0) == -1 ||
	    qfile_write_body(&w, text->data, text->len) == -1 ||
	    qmgr_dkim_sign(nqid, text, &w) == -1 ||
	    qfile_commit(&w) == -1) {
		qfile_abort(&w);
		return -1;
	}
	return 0;
}

/* qmgr_wants - does a recipient's NOTIFY ask for this kind of report */
static int
qmgr_wants(unsigned notify, unsigned bit)
{
	return notify == 0 ? bit == QFILE_NOTIFY_FAILURE ||
	    bit == QFILE_NOTIFY_DELAY : (notify & bit) != 0;
}

/* qmgr_report_head - the report's fields from m's envelope, for "to" */
static void
qmgr_report_head(struct dsn_report *rep, const struct qmgr_msg *m,
    const char *to)
{
	memset(rep, 0, sizeof(*rep));
	rep->reporting_mta = qmgr.hostname;
	rep->sender = to;
	rep->envid = qfile_attr_get(&m->q, "envid") != NULL ?
	    qfile_attr_get(&m->q, "envid") : "";
	rep->qid = m->qid;
	rep->arrival = m->q.arrival_sec;
	rep->ret_full = qfile_attr_get(&m->q, "ret") != NULL &&
	    strcmp(qfile_attr_get(&m->q, "ret"), "FULL") == 0;
}

/*
 * qmgr_report - queue one report (action DSN_ACTION_*) to "to" about the
 * recipients with sel[i] set; 0 with its queue id in nqid, or -1
 */
static int
qmgr_report(struct qmgr_msg *m, const unsigned char *sel, int action,
    const char *to, int dbl, char *nqid)
{
	struct dsn_rcpt *dr;
	struct dsn_report rep;
	struct qmgr_body body;
	struct buf text;
	char	(*codes)[16], (*hosts)[256], (*replies)[QFILE_TEXT_MAX];
	int	 r = -1;
	size_t	 i, n = 0;

	dr = xcalloc(m->q.nrcpt, sizeof(*dr));
	codes = xcalloc(m->q.nrcpt, sizeof(*codes));
	hosts = xcalloc(m->q.nrcpt, sizeof(*hosts));
	replies = xcalloc(m->q.nrcpt, sizeof(*replies));
	for (i = 0; i < m->q.nrcpt; i++) {
		const struct qfile_rcpt *qr = &m->q.rcpt[i];
		const char *t = qr->text != NULL && *qr->text != '\0' ?
		    qr->text : action == DSN_ACTION_DELAYED ?
		    "4.0.0 not delivered yet" : "5.0.0 failed";

		if (!sel[i])
			continue;
		dr[n].addr = qr->addr;
		dr[n].orcpt = qr->orcpt != NULL ? qr->orcpt : "";
		dr[n].action = action;
		dr[n].diag = qmgr_dsn_code(t, codes[n], sizeof(codes[n]));
		if (action == DSN_ACTION_DELAYED && codes[n][0] != '4')
			util_strlcpy(codes[n], "4.0.0", sizeof(codes[n]));
		dr[n].status = codes[n];
		dr[n].remote_mta = "";
		if (qmgr_remote(t, hosts[n], sizeof(hosts[n]), replies[n],
		    sizeof(replies[n]))) {
			dr[n].remote_mta = hosts[n];
			dr[n].diag = replies[n];
		}
		n++;
	}
	qmgr_report_head(&rep, m, to);
	rep.rcpt = dr;
	rep.nrcpt = n;
	buf_init(&text, 4 * 1024 * 1024);
	body.q = &m->q;
	if ((body.fd = open(m->path, O_RDONLY | O_CLOEXEC)) != -1) {
		if (dsn_build(&rep, qmgr_body_each, &body, &text) == 0 &&
		    qmgr_bounce_write(m, to, dbl, &text, nqid) == 0)
			r = 0;
		close(body.fd);
	}
	buf_free(&text);
	free(dr);
	free(codes);
	free(hosts);
	free(replies);
	return r;
}

/*
 * qmgr_bounce - queue the report for m's failed recipients and mark them;
 * 0 done (or nothing to do), -1 try again later.  keep_file: append done
 * records (the message stays in the queue).  Recipients whose NOTIFY
 * leaves out FAILURE (NEVER, or SUCCESS/DELAY only) are marked without a
 * report.
 */
int
qmgr_bounce(struct qmgr_msg *m, int keep_file)
{
	unsigned char *sel;
	char	 nqid[QID_BUFSZ], pm[512];
	const char *to = m->q.sender;
	int	 dbl = 0, wfd = -1, r = 0;
	size_t	 i, n = 0;

	if (qmgr_unsent(m) == 0)
		return 0;
	if (*to == '\0') {
		if (qfile_attr_get(&m->q, "double_bounce") != NULL) {
			log_warn("%s: undeliverable postmaster notification "
			    "discarded", m->qid);
			goto mark;
		}
		snprintf(pm, sizeof(pm), "postmaster@%s", qmgr.mydest[0] ?
		    qmgr.mydest[0] : "localhost");
		to = pm;
		dbl = 1;
	}
	sel = xcalloc(m->q.nrcpt, 1);
	for (i = 0; i < m->q.nrcpt; i++)
		if (m->q.rcpt[i].status == QFILE_ST_BOUNCED && (dbl ||
		    qmgr_wants(m->q.rcpt[i].notify, QFILE_NOTIFY_FAILURE))) {
			sel[i] = 1;
			n++;
		}
	if (n > 0)
		r = qmgr_report(m, sel, DSN_ACTION_FAILED, to, dbl, nqid);
	free(sel);
	if (r == -1) {
		log_err("%s: cannot queue the non-delivery notification: %s",
		    m->qid, strerror(errno));
		return -1;
	}
	if (n > 0) {
		log_info("%s: sender non-delivery notification: %s", m->qid,
		    nqid);
		qmgr_take(nqid, 1);
	} else
		log_info("%s: no non-delivery notification: the sender asked "
		    "for none (NOTIFY)", m->qid);
mark:
	if (keep_file)
		wfd = open(m->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	for (i = 0; i < m->q.nrcpt; i++)
		if (m->q.rcpt[i].status == QFILE_ST_BOUNCED) {
			m->q.rcpt[i].status = QFILE_ST_BOUNCE_SENT;
			if (wfd != -1)
				(void)qfile_append_done(wfd, (uint32_t)i,
				    QFILE_ST_BOUNCE_SENT, "bounce sent");
		}
	if (wfd != -1)
		close(wfd);
	return 0;
}

/*
 * qmgr_success - NOTIFY=SUCCESS: tell the sender that the recipients with
 * sel[i] set were delivered (local) or relayed (to a server without DSN;
 * one with DSN reports itself, and smtp says so with IPC_DLV_OK_DSN)
 */
void
qmgr_success(struct qmgr_msg *m, const unsigned char *sel, int relayed)
{
	char	 nqid[QID_BUFSZ];

	if (*m->q.sender == '\0')
		return;
	if (qmgr_report(m, sel, relayed ? DSN_ACTION_RELAYED :
	    DSN_ACTION_DELIVERED, m->q.sender, 0, nqid) == -1) {
		log_err("%s: cannot queue the delivery notification: %s",
		    m->qid, strerror(errno));
		return;
	}
	log_info("%s: sender delivery status notification: %s", m->qid,
	    nqid);
	qmgr_take(nqid, 1);
}

/*
 * qmgr_warn - delay_warning_time: once per message, tell the sender which
 * recipients are still waiting (action "delayed"), unless their NOTIFY
 * leaves out DELAY.  Marked with a W record so a restart sends no second
 * notice.
 */
void
qmgr_warn(struct qmgr_msg *m, time_t now)
{
	unsigned char *sel;
	char	 nqid[QID_BUFSZ];
	size_t	 i, n = 0;
	int	 fd;

	if (qmgr.delay_warn <= 0 || m->q.warned != 0 || m->inflight ||
	    now - m->q.arrival_sec < qmgr.delay_warn)
		return;
	m->q.warned = (int64_t)now;	/* once, even if it fails below */
	if (*m->q.sender == '\0')
		return;			/* reports get no reports */
	sel = xcalloc(m->q.nrcpt, 1);
	for (i = 0; i < m->q.nrcpt; i++)
		if (m->q.rcpt[i].status == QFILE_ST_PENDING &&
		    qmgr_wants(m->q.rcpt[i].notify, QFILE_NOTIFY_DELAY)) {
			sel[i] = 1;
			n++;
		}
	if (n == 0 || qmgr_report(m, sel, DSN_ACTION_DELAYED, m->q.sender, 0,
	    nqid) == -1) {
		if (n > 0)
			log_err("%s: cannot queue the delay notification: %s",
			    m->qid, strerror(errno));
		free(sel);
		return;
	}
	free(sel);
	if ((fd = open(m->path, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1 ||
	    qfile_append_warned(fd, (int64_t)now) == -1)
		log_warn("%s: cannot record the delay notification in the "
		    "queue file: a restart may send it again", m->qid);
	if (fd != -1)
		close(fd);
	log_info("%s: sender delay notification: %s", m->qid, nqid);
	qmgr_take(nqid, 1);
}

/* qmgr_expire - fail what is still pending in a message that is too old */
int
qmgr_expire(struct qmgr_msg *m, time_t now)
{
	int64_t	 life = *m->q.sender == '\0' ? qmgr.bounce_life :
	    qmgr.max_life;
	char	 text[QFILE_TEXT_MAX];
	size_t	 i;
	int	 n = 0;

	if (now - m->q.arrival_sec < life)
		return 0;
	for (i = 0; i < m->q.nrcpt; i++) {
		struct qfile_rcpt *r = &m->q.rcpt[i];

		if (r->status != QFILE_ST_PENDING)
			continue;
		snprintf(text, sizeof(text), "4.4.7 message expired after "
		    "%lld %s in the queue: %s", (long long)(life >= 86400 ?
		    life / 86400 : life), life >= 86400 ? "days" : "seconds",
		    r->text != NULL ? r->text : "no attempt succeeded");
		free(r->text);
		r->text = xstrdup(text);
		r->status = QFILE_ST_BOUNCED;
		log_info("%s: to=<%s>, relay=none, delay=%lld, dsn=4.4.7, "
		    "status=expired (%s)", m->qid, log_str(r->addr),
		    (long long)(now - m->q.arrival_sec), log_str(text));
		metrics_client_count(METRIC_DELIVERY, "none", "expired", 1);
		n++;
	}
	return n;
}
