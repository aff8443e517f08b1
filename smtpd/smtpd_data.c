/*
 * smtpd_data.c - message content: DATA to the queue file.
 *
 * The content is read line by line.  Only <CR><LF>.<CR><LF> ends it
 * (DESIGN rule 5): a "." line ended by a bare LF, "\r.\r" and the other
 * smuggling variants are content.  A bare LF, and a bare CR inside a line,
 * is either taken as a line end and stored as CRLF
 * (smtpd_forbid_bare_newline = normalize, the default) or makes the
 * message fail with 550 (reject), so no bare CR or LF is ever stored or
 * passed on to a next hop.  Dots are
 * unstuffed.  NUL bytes, lines over smtpd_line_length_limit and content
 * over message_size_limit make the message fail after the final dot; the
 * rest of the content is read and thrown away so the session stays in step.
 * The queue file is committed (fsync, rename, directory fsync) before the
 * 250 reply; any failure there answers 451/452 and leaves no file behind.
 * The envelope carries the DSN options (RFC 3461) as they were received:
 * attributes "envid" and "ret" when given, and each recipient's ORCPT
 * and NOTIFY bits.
 */
#include <sys/time.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>

#include "addr.h"
#include "cfg.h"
#include "buf.h"
#include "log.h"
#include "metrics_client.h"
#include "qfile.h"
#include "qid.h"
#include "skel.h"
#include "util.h"
#include "smtpd.h"

/* smtpd_data_write - content bytes to the queue file, with size accounting */
static void
smtpd_data_write(struct smtpd_sess *s, const void *p, size_t len)
{
	if (s->data_flags != 0)
		return;
	s->data_size += len;
	if (s->sd->size_limit > 0 && s->data_size > s->sd->size_limit) {
		s->data_flags |= SMTPD_DF_TOOBIG;
		return;
	}
	if (qfile_write_body(&s->qw, p, len) == -1)
		s->data_flags |= SMTPD_DF_WRITEERR;
}

/* smtpd_protocol - RFC 3848 "with" keyword: SMTP, ESMTP[S][A] */
static const char *
smtpd_protocol(const struct smtpd_sess *s)
{
	static const char *kw[] = { "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA" };

	if (!s->esmtp)
		return "SMTP";
	return kw[(s->tls == 2 ? 1 : 0) + (s->sasl_user != NULL ? 2 : 0)];
}

/* smtpd_received - our Received: header, first line of the content */
static void
smtpd_received(struct smtpd_sess *s)
{
	struct buf h;
	char	 date[64];
	struct tm tm;
	time_t	 now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000 (UTC)",
	    &tm);
	buf_init(&h, 4096);
	buf_printf(&h, "Received: from %s (%s [%s])\r\n",
	    s->helo != NULL ? s->helo : "unknown", s->client_name,
	    s->client_addr);
	if (s->tls == 2 && s->tls_info != NULL)
		buf_printf(&h, "\t(using %s)\r\n", s->tls_info);
	buf_printf(&h, "\tby %s (%s) with %s id %s", s->sd->hostname,
	    cfg_str(s->sd->cfg, "mail_name"), smtpd_protocol(s), s->qw.qid);
	if (s->nrcpt == 1)
		buf_printf(&h, "\r\n\tfor <%s>", s->rcpt[0].addr);
	buf_printf(&h, "; %s\r\n", date);
	smtpd_data_write(s, h.data, h.len);
	buf_free(&h);
}

/* smtpd_data_attr - one A record from a C string */
static int
smtpd_data_attr(struct smtpd_sess *s, const char *name, const char *value)
{
	return qfile_put_attr(&s->qw, name, value, strlen(value));
}

/* smtpd_data_begin - open the queue file and write the envelope */
/*
 * smtpd_data_rcpts - the R records: the recipients, or the one address of
 * a REDIRECT action (its original recipients in the log), and the copy
 * of a BCC action (without DSN: the sender does not learn of it), once
 */
static int
smtpd_data_rcpts(struct smtpd_sess *s)
{
	const char *redirect = s->acts_txn.redirect != NULL ?
	    s->acts_txn.redirect : s->acts_sess.redirect;
	const char *bcc = s->acts_txn.bcc != NULL ? s->acts_txn.bcc :
	    s->acts_sess.bcc;
	size_t	 i;
	int	 r = 0;

	if (redirect != NULL)
		r |= qfile_put_rcpt(&s->qw, redirect, "", 0);
	for (i = 0; redirect == NULL && i < s->nrcpt; i++)
		r |= qfile_put_rcpt(&s->qw, s->rcpt[i].addr,
		    s->rcpt[i].orcpt ? s->rcpt[i].orcpt : "",
		    s->rcpt[i].notify);
	for (i = 0; bcc != NULL && redirect == NULL && i < s->nrcpt; i++)
		if (addr_same(s->rcpt[i].addr, bcc, 1))
			bcc = NULL;	/* already a recipient */
	if (bcc != NULL && (redirect == NULL || !addr_same(redirect, bcc, 1)))
		r |= qfile_put_rcpt(&s->qw, bcc, "", QFILE_NOTIFY_NEVER);
	return r;
}

int
smtpd_data_begin(struct smtpd_sess *s)
{
	struct timeval tv;
	char	 qid[QID_BUFSZ], port[16];
	int	 r = 0;

	qid_new(qid);
	if (qfile_create(&s->qw, qid, s->sd->hash_depth) == -1) {
		log_err("create queue file %s: %s", qid, strerror(errno));
		return -1;
	}
	s->qw_open = 1;
	gettimeofday(&tv, NULL);
	snprintf(port, sizeof(port), "%d", s->client_port);
	r |= qfile_put_header(&s->qw, (int64_t)tv.tv_sec,
	    (int32_t)tv.tv_usec, s->sender);
	r |= smtpd_data_attr(s, "client_address", s->client_addr);
	r |= smtpd_data_attr(s, "client_port", port);
	r |= smtpd_data_attr(s, "client_name", s->client_name);
	r |= smtpd_data_attr(s, "reverse_client_name", s->reverse_name);
	r |= smtpd_data_attr(s, "helo_name", s->helo ? s->helo : "");
	r |= smtpd_data_attr(s, "protocol", smtpd_protocol(s));
	if (s->sasl_user != NULL) {
		r |= smtpd_data_attr(s, "sasl_method", s->sasl_mech);
		r |= smtpd_data_attr(s, "sasl_username", s->sasl_user);
	}
	if (s->tls == 2 && s->tls_info != NULL)
		r |= smtpd_data_attr(s, "tls", s->tls_info);
	if (s->body_8bit)
		r |= smtpd_data_attr(s, "body", "8BITMIME");
	/* DSN (RFC 3461): only when given; ENVID as received (xtext) */
	if (s->envid != NULL)
		r |= smtpd_data_attr(s, "envid", s->envid);
	if (s->ret != NULL)
		r |= smtpd_data_attr(s, "ret", s->ret);
	r |= smtpd_data_rcpts(s);
	if (r != 0) {
		log_err("%s: queue file write error: %s", qid,
		    strerror(s->qw.err));
		smtpd_data_abort(s);
		return -1;
	}
	s->data_size = 0;
	s->data_flags = 0;
	/* a dot right after DATA ends the message only after DATA<CR><LF> */
	s->data_crlf = s->cmd_crlf;
	buf_reset(&s->line);
	s->phase = SMTPD_PH_DATA;
	smtpd_received(s);
	smtpd_dkim_start(s);
	return 0;
}

/* smtpd_data_abort - drop an unfinished queue file */
void
smtpd_data_abort(struct smtpd_sess *s)
{
	smtpd_dkim_forget(s);
	if (s->qw_open) {
		qfile_abort(&s->qw);
		s->qw_open = 0;
	}
	buf_free(&s->line);
}

/* smtpd_data_fail_text - the reply for a message that cannot be taken */
static const char *
smtpd_data_fail_text(int flags)
{
	if (flags & SMTPD_DF_WRITEERR)
		return "451 4.3.0 Error: queue file write error";
	if (flags & SMTPD_DF_TOOBIG)
		return "552 5.3.4 Message size exceeds fixed limit";
	if (flags & SMTPD_DF_BARELF)
		return "550 5.5.2 Error: bare <LF> received";
	if (flags & SMTPD_DF_BARECR)
		return "550 5.6.2 Error: bare <CR> received";
	if (flags & SMTPD_DF_NUL)
		return "550 5.6.0 Error: message content contains NUL "
		    "characters";
	return "552 5.3.4 Error: message line too long";
}

/* smtpd_data_fail - the message cannot be taken: reply, drop the file */
void
smtpd_data_fail(struct smtpd_sess *s, const char *reply)
{
	smtpd_reject(s, "END-OF-MESSAGE", NULL, s->nrcpt > 0 ?
	    s->rcpt[0].addr : NULL, "%s", reply);
	smtpd_data_abort(s);
	smtpd_txn_reset(s);
}

/*
 * smtpd_data_end - the final dot: the content checks, then DKIM signing
 * (which may wait for the broker and calls smtpd_data_commit itself)
 */
static void
smtpd_data_end(struct smtpd_sess *s)
{
	s->phase = SMTPD_PH_CMD;
	buf_free(&s->line);
	if (s->data_flags != 0) {
		if (s->data_flags & SMTPD_DF_WRITEERR)
			log_err("%s: queue file write error: %s", s->qw.qid,
			    strerror(s->qw.err));
		smtpd_data_fail(s, smtpd_data_fail_text(s->data_flags));
		return;
	}
	smtpd_data_eod(s);
}

/*
 * smtpd_data_eod - smtpd_end_of_data_restrictions (a sleep there runs
 * this again), then DKIM signing (which may wait for the broker and
 * calls smtpd_data_commit itself)
 */
void
smtpd_data_eod(struct smtpd_sess *s)
{
	char	 msg[1024];

	switch (smtpd_check_eod(s, msg, sizeof(msg))) {
	case SMTPD_SLEEP:
		if (smtpd_check_sleep(s, SMTPD_SW_EOD, NULL))
			return;
		/* FALLTHROUGH */
	case SMTPD_WAIT:
		smtpd_data_fail(s, "451 4.3.0 Temporary lookup failure");
		return;
	case SMTPD_TEMPFAIL:
	case SMTPD_PERMFAIL:
		smtpd_data_fail(s, msg);
		s->errors++;
		return;
	default:
		break;
	}
	switch (smtpd_dkim_end(s)) {
	case 1:
		return;		/* signing: the broker's answer goes on */
	case -1:
		smtpd_dkim_forget(s);
		smtpd_data_fail(s, SMTPD_DKIM_FAIL);
		return;
	default:
		smtpd_dkim_forget(s);
		smtpd_data_commit(s);
	}
}

/*
 * smtpd_data_actions - what the access tables asked for: the PREPEND
 * headers (P records: above our Received: at delivery, as Postfix puts
 * them), DISCARD (1: the file is dropped and the client hears 250), HOLD
 * (the file goes to hold/, qmgr is not told); -1 on a write error
 */
static int
smtpd_data_actions(struct smtpd_sess *s, int *hold)
{
	const struct smtpd_acts *a[2] = { &s->acts_sess, &s->acts_txn };
	const char *p, *nl;
	size_t	 i;

	*hold = a[0]->hold || a[1]->hold;
	if (a[0]->discard || a[1]->discard)
		return 1;
	for (i = 0; i < 2; i++)
		for (p = a[i]->prepend; p != NULL && *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			if (qfile_put_prepend(&s->qw, p, (size_t)(nl - p + 1)) ==
			    -1)
				return -1;
		}
	if (*hold && qfile_to_hold(&s->qw) == -1)
		return -1;
	return 0;
}

/* smtpd_data_discard - DISCARD: drop the file, answer as if queued */
static void
smtpd_data_discard(struct smtpd_sess *s)
{
	char	 qid[QID_BUFSZ];

	util_strlcpy(qid, s->qw.qid, sizeof(qid));
	smtpd_data_abort(s);
	log_info("%s: discard: END-OF-MESSAGE from %s[%s]: message "
	    "discarded by a DISCARD action; from=<%s>", qid, s->client_name,
	    s->client_addr,
	    log_str(s->sender != NULL ? s->sender : ""));
	smtpd_reply(s, "250 2.0.0 Ok: queued as %s", qid);
	s->errors = 0;
	s->junk = 0;
	smtpd_txn_reset(s);
}

/* smtpd_data_commit - commit, tell qmgr, answer */
void
smtpd_data_commit(struct smtpd_sess *s)
{
	char	 qid[QID_BUFSZ];
	int	 err, hold, act;

	if ((act = smtpd_data_actions(s, &hold)) == 1) {
		smtpd_data_discard(s);
		return;
	}
	util_strlcpy(qid, s->qw.qid, sizeof(qid));
	s->qw_open = 0;
	if (act == -1 || qfile_commit(&s->qw) == -1) {
		err = act == -1 ? s->qw.err : errno;
		if (act == -1)
			qfile_abort(&s->qw);
		log_err("%s: cannot commit queue file: %s", qid,
		    strerror(err));
		if (err == ENOSPC || err == EDQUOT)
			smtpd_reply(s, "452 4.3.1 Insufficient system storage");
		else
			smtpd_reply(s, "451 4.3.0 Error: queue file write "
			    "error");
		smtpd_txn_reset(s);
		return;
	}
	if (s->sasl_user != NULL)
		log_info("%s: client=%s[%s], sasl_method=%s, "
		    "sasl_username=%s", qid, s->client_name, s->client_addr,
		    s->sasl_mech,
		    log_str(s->sasl_user));
	else
		log_info("%s: client=%s[%s]", qid, s->client_name,
		    s->client_addr);
	if (hold)
		log_info("%s: hold: message put on hold by a HOLD action "
		    "(\"mailctl queue release %s\" lets it go)", qid, qid);
	else
		smtpd_qmgr_notify(s->sd, qid);
	metrics_client_count(METRIC_RECEIVED, s->sd->sk->service, NULL, 1);
	smtpd_reply(s, "250 2.0.0 Ok: queued as %s", qid);
	/* Postfix: the error and junk limits count "without delivering
	 * mail", so both start again after a message is taken */
	s->errors = 0;
	s->junk = 0;
	smtpd_txn_reset(s);
}

/*
 * smtpd_data_content - the text of a line: a CR inside it (not part of
 * the CR LF that ended it) is a line end of its own, stored as CR LF
 * (normalize), or makes the message fail (reject), so no bare CR is ever
 * passed on ("\r.\r" would end the message at a next hop that takes CR
 * alone as a line end: RFC 5321 2.3.8 allows CR only in CR LF)
 */
static void
smtpd_data_content(struct smtpd_sess *s, const unsigned char *p, size_t len)
{
	const unsigned char *cr;

	while ((cr = memchr(p, '\r', len)) != NULL) {
		if (s->sd->bare_lf == SMTPD_BARELF_REJECT)
			s->data_flags |= SMTPD_DF_BARECR;
		smtpd_data_write(s, p, (size_t)(cr - p));
		smtpd_data_write(s, "\r\n", 2);
		smtpd_dkim_line(s, p, (size_t)(cr - p));
		len -= (size_t)(cr - p) + 1;
		p = cr + 1;
	}
	smtpd_data_write(s, p, len);
	smtpd_dkim_line(s, p, len);
}

/* smtpd_data_line - one complete content line (without its LF) */
static int
smtpd_data_line(struct smtpd_sess *s, const unsigned char *p, size_t len)
{
	int	 crlf = len > 0 && p[len - 1] == '\r';
	int	 after_crlf = s->data_crlf;

	if (crlf)
		len--;
	s->data_crlf = crlf;
	/* <CR><LF>.<CR><LF>: the dot line must follow a CRLF line end */
	if (crlf && after_crlf && len == 1 && p[0] == '.') {
		smtpd_data_end(s);
		return 1;
	}
	if (!crlf && s->sd->bare_lf == SMTPD_BARELF_REJECT)
		s->data_flags |= SMTPD_DF_BARELF;
	if (len > 0 && p[0] == '.' && !(len == 1 && !crlf)) {
		p++;
		len--;
	}
	if (memchr(p, '\0', len) != NULL)
		s->data_flags |= SMTPD_DF_NUL;
	smtpd_data_content(s, p, len);
	smtpd_data_write(s, "\r\n", 2);
	return 0;
}

/*
 * smtpd_data_input - consume content bytes; *used says how many.  Stops
 * right after the final dot so that pipelined commands stay in the input.
 */
int
smtpd_data_input(struct smtpd_sess *s, const unsigned char *p, size_t len,
    size_t *used)
{
	const unsigned char *nl;
	size_t	 n, max = s->sd->line_limit + 1;
	int	 done;

	*used = 0;
	while (*used < len) {
		nl = memchr(p + *used, '\n', len - *used);
		n = (nl != NULL ? (size_t)(nl - (p + *used)) : len - *used);
		if (s->line.len + n > max) {
			s->data_flags |= SMTPD_DF_LONGLINE;
			n = s->line.len < max ? max - s->line.len : 0;
			if (n > 0)
				buf_append(&s->line, p + *used, n);
			n = nl != NULL ? (size_t)(nl - (p + *used)) :
			    len - *used;
		} else if (buf_append(&s->line, p + *used, n) == -1)
			s->data_flags |= SMTPD_DF_WRITEERR;
		*used += n;
		if (nl == NULL)
			return 0;
		(*used)++;
		smtpd_reset_timer(s);
		done = smtpd_data_line(s, s->line.data != NULL ?
		    s->line.data : (const unsigned char *)"", s->line.len);
		buf_reset(&s->line);
		if (done)
			return 1;
	}
	return 0;
}
