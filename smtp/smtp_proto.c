/*
 * smtp_proto.c - one delivery: next hop -> hosts -> SMTP transaction.
 *
 * Hosts come from relayhost ("[host]:port" without an MX lookup,
 * "host:port" with one) or from the recipient domain's MX records.  Each
 * address of each host is tried in turn until one session gets as far as a
 * transaction; connection failures, 4xx greetings and a required TLS that
 * cannot be had move on to the next address.  Results per recipient:
 * 2xx delivered, 4xx temporary, 5xx permanent, in Postfix's words:
 * "host[addr] said: 550 5.1.1 ... (in reply to RCPT TO command)".
 *
 * A message declared 8BITMIME is not sent to a server that lacks 8BITMIME:
 * it fails permanently with 5.6.3 (RFC 6152 3 leaves bounce or
 * conversion; youju does not convert).  A message larger than the server's
 * SIZE fails with 5.3.4.  Credentials (smtp_sasl_password_maps) are only
 * ever sent over TLS, with AUTH PLAIN when the server offers it, else
 * AUTH LOGIN; a failed or odd exchange defers (4.7.0 or the server's
 * code made 4xx: a login problem is ours to fix, not the sender's).
 * The body is dot-stuffed on the way out.
 *
 * DSN (RFC 3461): to a server that offers DSN, MAIL FROM carries RET=
 * and ENVID= and each RCPT TO its NOTIFY= and ORCPT= when the queue file
 * has them; to one that does not, none of them.  Values from the queue
 * file are checked again before they go on the wire (xtext, lengths), so
 * a damaged file cannot inject anything into a command; a bad one is
 * left out with a warning.  Command lines are bounded: MAIL FROM at
 * SMTP_MAIL_MAX and RCPT TO at SMTP_RCPT_MAX bytes with CRLF (RFC 5321's
 * 512 plus what SIZE, BODY and DSN add); a recipient whose RCPT TO would
 * be longer fails permanently (5.5.0), as do all when MAIL FROM would.
 *
 * Longer than 800 lines on purpose: the SMTP client conversation (greeting,
 * EHLO, STARTTLS, AUTH, the transaction and its replies) is one state
 * that every step reads; the connection and TLS are in smtp_conn.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "cfg.h"
#include "dsn.h"
#include "ipc.h"
#include "log.h"
#include "maps.h"
#include "sasl.h"
#include "util.h"
#include "smtp.h"

#define SMTP_DONE	0	/* recipients have their results */
#define SMTP_NEXT	1	/* try the next address */
#define SMTP_NOTLS	2	/* try the same address without STARTTLS */

/*
 * command lines with CRLF: RFC 5321 4.5.3.1.4's 512, plus 26 for SIZE
 * (RFC 1870), 16 for BODY (RFC 6152) and 100 for RET/ENVID on MAIL FROM,
 * 500 for NOTIFY/ORCPT on RCPT TO (RFC 3461)
 */
#define SMTP_LINE_MAX	512
#define SMTP_MAIL_MAX	(SMTP_LINE_MAX + 26 + 16 + 100)
#define SMTP_RCPT_MAX	(SMTP_LINE_MAX + 500)

struct smtp_body {
	struct smtp_conn *c;
	char		 out[65536 + 8192];
	size_t		 olen;
	int		 bol;		/* at the start of a line */
	int		 lastcr;	/* the last byte was CR (for the end) */
	int		 err;
	int		 timeout;
};

static void smtp_keep(struct smtp_conn *);

/* smtp_set_all - every recipient still open gets this result */
static void
smtp_set_all(struct smtp_job *j, int st, const char *text)
{
	size_t	 i;

	for (i = 0; i < j->nrcpt; i++)
		if (!j->rcpt[i].done) {
			j->rcpt[i].status = st;
			util_strlcpy(j->rcpt[i].text, text,
			    sizeof(j->rcpt[i].text));
			j->rcpt[i].done = st != IPC_DLV_TEMPFAIL;
		}
}

/* smtp_flat - a reply's text on one line */
static void
smtp_flat(const struct smtpreply *r, char *text, size_t len)
{
	size_t	 i;

	util_strlcpy(text, r->text, len);
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] == '\n')
			text[i] = ' ';
}

/* smtp_said - "X.Y.Z host[addr] said: CODE text (in reply to WHAT)" */
static void
smtp_said(const struct smtp_conn *c, const struct smtpreply *r,
    const char *what, char *out, size_t len)
{
	const char *dsn = r->dsn[0] != '\0' ? r->dsn :
	    r->code >= 500 ? "5.0.0" : r->code >= 400 ? "4.0.0" : "2.0.0";
	char	 text[SMTPREPLY_TEXT_MAX + 1];

	smtp_flat(r, text, sizeof(text));
	/* a long reply is cut short: the log and the bounce stay bounded */
	(void)util_fmt(out, len, "%s host %s[%s] said: %d %s (in reply to %s)",
	    dsn, c->host, c->addr, r->code, text, what);
}

/* smtp_set_one - a recipient's result from a reply code */
static void
smtp_set_one(struct smtp_rcpt *r, int code, const char *text)
{
	r->status = code / 100 == 2 ? IPC_DLV_OK : code / 100 == 5 ?
	    IPC_DLV_PERMFAIL : IPC_DLV_TEMPFAIL;
	r->done = r->status != IPC_DLV_TEMPFAIL;
	util_strlcpy(r->text, text, sizeof(r->text));
	if (r->status == IPC_DLV_OK)	/* "2.0.0 host said ..." */
		r->text[0] = '2';
}

/* smtp_conn_text - a connection-level failure text */
static void
smtp_conn_text(const struct smtp_conn *c, const char *stage, char *out,
    size_t len)
{
	snprintf(out, len, "4.4.2 %s[%s]:%d: %s %s", c->host, c->addr,
	    c->port, c->err, stage);
}

/* smtp_cmd - send "VERB arg" and read its reply; -1 on I/O failure */
static int
smtp_cmd(struct smtp_conn *c, struct smtpreply *r, int timeout,
    const char *verb, const char *arg)
{
	if (smtp_conn_printf(c, timeout, "%s %s", verb, arg) == -1)
		return -1;
	return smtp_conn_reply(c, r, timeout);
}

/* smtp_ehlo - EHLO, falling back to HELO; 0 ok, -1 I/O, 1 refused */
static int
smtp_ehlo(struct smtp_conn *c)
{
	struct smtpreply r;

	if (smtp_cmd(c, &c->ehlo, smtp.t_helo, "EHLO", smtp.helo_name) ==
	    -1)
		return -1;
	if (c->ehlo.code / 100 == 2) {
		c->esmtp = 1;
		return 0;
	}
	if (smtp_cmd(c, &r, smtp.t_helo, "HELO", smtp.helo_name) == -1)
		return -1;
	c->esmtp = 0;
	memset(&c->ehlo, 0, sizeof(c->ehlo));
	return r.code / 100 == 2 ? 0 : 1;
}

/*
 * smtp_password - "user:password" for this relay, or NULL: each table in
 * turn is asked for the next hop, "[host]:port", "[host]" and the host
 * name (Postfix's order); the first key found answers.  A table that
 * cannot answer is logged and skipped.
 */
static const char *
smtp_password(const struct smtp_conn *c)
{
	static struct buf val;
	static int init;
	char	 keys[4][DNS_NAME_MAX + 16];
	size_t	 i, k;
	int	 r;

	if (!init) {
		buf_init(&val, MAPS_VALUE_MAX + 1);
		init = 1;
	}
	util_strlcpy(keys[0], c->nexthop, sizeof(keys[0]));
	snprintf(keys[1], sizeof(keys[1]), "[%s]:%d", c->host, c->port);
	snprintf(keys[2], sizeof(keys[2]), "[%s]", c->host);
	util_strlcpy(keys[3], c->host, sizeof(keys[3]));
	for (i = 0; i < smtp.npw; i++)
		for (k = 0; k < NELEM(keys); k++) {
			buf_reset(&val);
			r = maps_lookup(smtp.pw_maps[i], keys[k], &val);
			if (r == MAPS_FOUND)
				return buf_cstr(&val);
			if (r == MAPS_TEMPFAIL) {
				log_warn("smtp_sasl_password_maps: %s: %s",
				    maps_spec(smtp.pw_maps[i]),
				    maps_error(smtp.pw_maps[i]));
				break;
			}
		}
	return NULL;
}

/*
 * smtp_auth_said - why an AUTH exchange failed: a 4xx/5xx is quoted as
 * the server said it (the caller makes 5 a 4), any other code is
 * "unexpected"
 */
static void
smtp_auth_said(const struct smtp_conn *c, const struct smtpreply *r,
    const char *what, char *why, size_t whylen)
{
	char	 text[SMTPREPLY_TEXT_MAX + 1];

	if (r->code / 100 == 4 || r->code / 100 == 5) {
		smtp_said(c, r, what, why, whylen);
		return;
	}
	smtp_flat(r, text, sizeof(text));
	(void)util_fmt(why, whylen, "4.7.0 %s[%s] gave an unexpected reply "
	    "to %s: %d %s", c->host, c->addr, what, r->code, text);
}

/* smtp_auth_plain - AUTH PLAIN with an initial response; 0 ok, -1 why */
static int
smtp_auth_plain(struct smtp_conn *c, const char *cred, const char *colon,
    char *why, size_t whylen)
{
	struct smtpreply r;
	struct buf plain, b64;
	int	 rc = -1;

	buf_init(&plain, 4096);
	buf_init(&b64, 8192);
	buf_putc(&plain, 0);
	buf_append(&plain, cred, (size_t)(colon - cred));
	buf_putc(&plain, 0);
	buf_puts(&plain, colon + 1);
	if (sasl_b64_encode(plain.data, plain.len, &b64) == 0 &&
	    smtp_cmd(c, &r, smtp.t_helo, "AUTH PLAIN", buf_cstr(&b64)) ==
	    0) {
		if (r.code == 235)
			rc = 0;
		else
			smtp_auth_said(c, &r, "AUTH PLAIN", why, whylen);
	} else
		smtp_conn_text(c, "during AUTH", why, whylen);
	OPENSSL_cleanse(plain.data, plain.len);
	if (b64.data != NULL)
		OPENSSL_cleanse(b64.data, b64.len);
	buf_free(&plain);
	buf_free(&b64);
	return rc;
}

/* smtp_auth_b64ok - a 334 challenge is base64 (its content is not used) */
static int
smtp_auth_b64ok(const struct smtpreply *r)
{
	struct buf	 d;
	int		 ok;

	buf_init(&d, SMTPREPLY_TEXT_MAX);
	ok = sasl_b64_decode(r->text, strlen(r->text), &d,
	    SMTPREPLY_TEXT_MAX) == 0;
	buf_free(&d);
	return ok;
}

/*
 * smtp_auth_login - AUTH LOGIN: "334 VXNlcm5hbWU6" (Username:) gets the
 * user name, "334 UGFzc3dvcmQ6" (Password:) the password, each base64,
 * then 235; 0 ok, -1 with why.  A challenge that is not base64 ends the
 * exchange with "*" (RFC 4954 4).  The secrets are written straight from
 * one buffer, reserved up front (no copies left by a realloc) and wiped.
 */
static int
smtp_auth_login(struct smtp_conn *c, const char *cred, const char *colon,
    char *why, size_t whylen)
{
	static const char *const step[] = { "AUTH LOGIN",
	    "AUTH LOGIN user name", "AUTH LOGIN password" };
	struct smtpreply r;
	struct buf b64;
	size_t	 k;
	int	 e, rc = -1;

	buf_init(&b64, 8192);
	if (buf_reserve(&b64, 4096) == -1 ||
	    smtp_conn_printf(c, smtp.t_helo, "AUTH LOGIN") == -1 ||
	    smtp_conn_reply(c, &r, smtp.t_helo) == -1)
		goto io;
	for (k = 0; k < 2; k++) {
		if (r.code != 334) {
			smtp_auth_said(c, &r, step[k], why, whylen);
			goto done;
		}
		if (!smtp_auth_b64ok(&r)) {
			(void)util_fmt(why, whylen, "4.7.0 %s[%s] sent a "
			    "malformed AUTH LOGIN challenge (not base64) in "
			    "reply to %s", c->host, c->addr, step[k]);
			if (smtp_conn_printf(c, smtp.t_helo, "*") == 0)
				(void)smtp_conn_reply(c, &r, smtp.t_helo);
			goto done;
		}
		e = k == 0 ? sasl_b64_encode(cred, (size_t)(colon - cred),
		    &b64) : sasl_b64_encode(colon + 1, strlen(colon + 1), &b64);
		if (e == 0)
			e = buf_puts(&b64, "\r\n");
		if (e == 0)
			e = smtp_conn_write(c, b64.data, b64.len, smtp.t_helo);
		OPENSSL_cleanse(b64.data, b64.cap);
		if (e == -1 || smtp_conn_reply(c, &r, smtp.t_helo) == -1)
			goto io;
	}
	if (r.code == 235)
		rc = 0;
	else
		smtp_auth_said(c, &r, step[2], why, whylen);
	goto done;
io:
	smtp_conn_text(c, "during AUTH LOGIN", why, whylen);
done:
	buf_free(&b64);
	return rc;
}

/* smtp_auth_mech - PLAIN when the server offers it, else LOGIN, or NULL */
static const char *
smtp_auth_mech(const char *offer)
{
	const char *p = offer, *e;
	size_t	 n;
	int	 login = 0;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		n = (size_t)(e - p);
		if (n == 5 && util_strncasecmp_ascii(p, "PLAIN", 5) == 0)
			return "PLAIN";
		if (n == 5 && util_strncasecmp_ascii(p, "LOGIN", 5) == 0)
			login = 1;
		p = e;
	}
	return login ? "LOGIN" : NULL;
}

/* smtp_auth - AUTH with the relay's password, over TLS; 0 ok, -1 why */
static int
smtp_auth(struct smtp_conn *c, char *why, size_t whylen)
{
	const char *cred, *colon, *offer, *mech;
	int	 rc;

	if (!smtp.sasl || (cred = smtp_password(c)) == NULL)
		return 0;
	if (!c->tls) {
		snprintf(why, whylen, "4.7.0 %s[%s]: not sending credentials "
		    "without TLS", c->host, c->addr);
		return -1;
	}
	if ((offer = smtpreply_has(&c->ehlo, "AUTH")) == NULL ||
	    (colon = strchr(cred, ':')) == NULL) {
		snprintf(why, whylen, "4.7.0 %s[%s]: the server offers no "
		    "AUTH", c->host, c->addr);
		return -1;
	}
	if ((mech = smtp_auth_mech(offer)) == NULL) {
		snprintf(why, whylen, "4.7.0 %s[%s]: no AUTH mechanism in "
		    "common (the server offers \"%.200s\", youju PLAIN and "
		    "LOGIN)", c->host, c->addr, offer);
		return -1;
	}
	if (strcmp(mech, "PLAIN") == 0)
		rc = smtp_auth_plain(c, cred, colon, why, whylen);
	else
		rc = smtp_auth_login(c, cred, colon, why, whylen);
	if (rc == -1 && why[0] == '5')
		why[0] = '4';	/* a login problem is ours: retry later */
	return rc;
}

/* smtp_body_flush - write what is buffered */
static int
smtp_body_flush(struct smtp_body *b)
{
	if (b->olen > 0 && smtp_conn_write(b->c, b->out, b->olen,
	    b->timeout) == -1)
		return -1;
	b->olen = 0;
	return 0;
}

/* smtp_body_cb - dot-stuff one chunk of the content */
static int
smtp_body_cb(void *arg, const void *p, size_t len)
{
	struct smtp_body *b = arg;
	const unsigned char *s = p;
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (b->bol && s[i] == '.')
			b->out[b->olen++] = '.';
		b->out[b->olen++] = (char)s[i];
		b->bol = s[i] == '\n';
		b->lastcr = s[i] == '\r';
		if (b->olen >= 65536 && smtp_body_flush(b) == -1) {
			b->err = 1;
			return -1;
		}
	}
	return 0;
}

/* smtp_data - DATA, the content, the final dot; applies the result */
static int
smtp_data(struct smtp_job *j, struct smtp_conn *c, int *accepted)
{
	struct smtp_body *b;
	struct smtpreply r;
	char	 text[SMTPREPLY_TEXT_MAX + 128];
	size_t	 i;
	int	 rc;

	if (smtp_conn_reply(c, &r, smtp.t_data_init) == -1)
		return -1;
	if (r.code != 354) {
		smtp_said(c, &r, "DATA command", text, sizeof(text));
		for (i = 0; i < j->nrcpt; i++)
			if (accepted[i])
				smtp_set_one(&j->rcpt[i], r.code, text);
		return 0;
	}
	b = xcalloc(1, sizeof(*b));
	b->c = c;
	b->bol = 1;
	b->timeout = smtp.t_data_xfer;
	rc = qfile_body_each(j->qfd, &j->q, smtp_body_cb, b);
	if (rc == 0 && !b->err) {
		if (!b->bol)
			memcpy(b->out + b->olen, "\r\n", 2), b->olen += 2;
		memcpy(b->out + b->olen, ".\r\n", 3);
		b->olen += 3;
		rc = smtp_body_flush(b);
	} else if (!b->err)
		snprintf(c->err, sizeof(c->err), "cannot read the queue file");
	free(b);
	if (rc != 0 || smtp_conn_reply(c, &r, smtp.t_data_done) == -1)
		return -1;
	smtp_said(c, &r, "end of DATA command", text, sizeof(text));
	for (i = 0; i < j->nrcpt; i++)
		if (accepted[i])
			smtp_set_one(&j->rcpt[i], r.code, text);
	return 0;
}

/* smtp_dsn_mail - " RET=... ENVID=..." from the queue file, checked */
static void
smtp_dsn_mail(const struct smtp_job *j, char *out, size_t len)
{
	const char *ret = qfile_attr_get(&j->q, "ret");
	const char *envid = qfile_attr_get(&j->q, "envid");

	out[0] = '\0';
	if (ret != NULL && (ret = dsn_parse_ret(ret)) == NULL)
		log_warn("%s: malformed RET in the queue file, not sent",
		    j->qid);
	if (envid != NULL && !dsn_envid_valid(envid)) {
		log_warn("%s: malformed ENVID in the queue file, not sent",
		    j->qid);
		envid = NULL;
	}
	/* at most 9 + 7 + DSN_ENVID_MAX bytes: fits the caller's buffer */
	(void)util_fmt(out, len, "%s%s%s%s", ret != NULL ? " RET=" : "",
	    ret != NULL ? ret : "", envid != NULL ? " ENVID=" : "",
	    envid != NULL ? envid : "");
}

/*
 * smtp_mail_line - the MAIL FROM command (without CRLF) with SIZE, BODY
 * and, to a server that offers DSN, RET and ENVID; -1: the message
 * cannot be sent to this server at all (why has a 5xx text)
 */
static int
smtp_mail_line(struct smtp_job *j, struct smtp_conn *c, char *line,
    size_t len, char *why, size_t whylen)
{
	const char *body = qfile_attr_get(&j->q, "body");
	const char *sz = smtpreply_has(&c->ehlo, "SIZE");
	int	 eight = body != NULL && strcasecmp(body, "8BITMIME") == 0;
	unsigned long long limit;
	char	 args[64], dsn[16 + DSN_ENVID_MAX + 16];

	args[0] = '\0';
	dsn[0] = '\0';
	if (eight && smtpreply_has(&c->ehlo, "8BITMIME") == NULL) {
		snprintf(why, whylen, "5.6.3 %s[%s] does not accept 8-bit "
		    "mail (no 8BITMIME) and youju does not convert it",
		    c->host, c->addr);
		return -1;
	}
	if (sz != NULL && (limit = strtoull(sz, NULL, 10)) > 0 &&
	    qfile_size(&j->q) > limit) {
		snprintf(why, whylen, "5.3.4 message size %llu exceeds the "
		    "limit %llu of %s[%s]",
		    (unsigned long long)qfile_size(&j->q), limit, c->host,
		    c->addr);
		return -1;
	}
	if (sz != NULL)
		snprintf(args, sizeof(args), " SIZE=%llu",
		    (unsigned long long)qfile_size(&j->q));
	if (eight)
		util_strlcat(args, " BODY=8BITMIME", sizeof(args));
	if (smtpreply_has(&c->ehlo, "DSN") != NULL)
		smtp_dsn_mail(j, dsn, sizeof(dsn));
	if (util_fmt(line, len, "MAIL FROM:<%s>%s%s", j->sender, args, dsn) ==
	    -1) {
		snprintf(why, whylen, "5.5.0 the MAIL FROM command would be "
		    "longer than %d bytes (RFC 5321 4.5.3.1.4)", SMTP_MAIL_MAX);
		return -1;
	}
	return 0;
}

/*
 * smtp_rcpt_line - the RCPT TO command (without CRLF) of recipient i,
 * with NOTIFY and ORCPT from the queue file when dsn; -1 too long
 */
static int
smtp_rcpt_line(const struct smtp_job *j, size_t i, int dsn, char *line,
    size_t len)
{
	const struct smtp_rcpt *rc = &j->rcpt[i];
	const struct qfile_rcpt *qr = NULL;
	const char *orcpt = NULL;
	char	 notify[DSN_NOTIFY_BUFSZ] = "";

	if (dsn && rc->idx < j->q.nrcpt)
		qr = &j->q.rcpt[rc->idx];
	if (qr != NULL && qr->notify != 0 &&
	    dsn_format_notify(qr->notify, notify, sizeof(notify)) == -1)
		log_warn("%s: to=<%s>: malformed NOTIFY in the queue file, "
		    "not sent", j->qid, log_str(rc->addr));
	if (qr != NULL && qr->orcpt != NULL && qr->orcpt[0] != '\0') {
		if (dsn_orcpt_valid(qr->orcpt))
			orcpt = qr->orcpt;
		else
			log_warn("%s: to=<%s>: malformed ORCPT in the queue "
			    "file, not sent", j->qid, log_str(rc->addr));
	}
	return util_fmt(line, len, "RCPT TO:<%s>%s%s%s%s", rc->addr,
	    notify[0] != '\0' ? " NOTIFY=" : "", notify,
	    orcpt != NULL ? " ORCPT=" : "", orcpt != NULL ? orcpt : "");
}

/* smtp_rcpt_reply - read one RCPT reply and record it */
static int
smtp_rcpt_reply(struct smtp_job *j, struct smtp_conn *c, size_t i,
    int *accepted, int *naccepted)
{
	struct smtpreply r;
	char	 text[SMTPREPLY_TEXT_MAX + 128];

	if (smtp_conn_reply(c, &r, smtp.t_rcpt) == -1)
		return -1;
	if (r.code / 100 == 2) {
		accepted[i] = 1;
		(*naccepted)++;
		return 0;
	}
	smtp_said(c, &r, "RCPT TO command", text, sizeof(text));
	smtp_set_one(&j->rcpt[i], r.code, text);
	return 0;
}

/*
 * smtp_rcpt_send - RCPT TO for recipient i, built in a buffer of the
 * bound (without CRLF); 0 sent, 1 not sent (too long: the recipient has
 * failed for good, there is no reply to read), -1 I/O
 */
static int
smtp_rcpt_send(struct smtp_job *j, struct smtp_conn *c, size_t i, int dsn)
{
	char	 line[SMTP_RCPT_MAX - 1], text[160];

	if (smtp_rcpt_line(j, i, dsn, line, sizeof(line)) == -1) {
		snprintf(text, sizeof(text), "5.5.0 the RCPT TO command for "
		    "this recipient would be longer than %d bytes (RFC 5321 "
		    "4.5.3.1.4, RFC 3461)", SMTP_RCPT_MAX);
		smtp_set_one(&j->rcpt[i], 550, text);
		return 1;
	}
	return smtp_conn_printf(c, smtp.t_rcpt, "%s", line);
}

/*
 * smtp_transaction - MAIL, RCPT..., DATA (pipelined when offered).
 * (Long: the commands and the reading of their replies interleave
 * differently with and without PIPELINING; kept as one sequence so the
 * order on the wire can be read top to bottom.)
 */
static int
smtp_transaction(struct smtp_job *j, struct smtp_conn *c)
{
	struct smtpreply r;
	char	 mail[SMTP_MAIL_MAX - 1];	/* without CRLF */
	char	 text[SMTPREPLY_TEXT_MAX + 128];
	int	*accepted, naccepted = 0, pipe, dsn, sent, rc = SMTP_DONE;
	int	 spent = 0;
	size_t	 i;

	if (smtp_mail_line(j, c, mail, sizeof(mail), text, sizeof(text)) ==
	    -1) {
		smtp_set_all(j, IPC_DLV_PERMFAIL, text);
		return SMTP_DONE;
	}
	pipe = c->esmtp && smtpreply_has(&c->ehlo, "PIPELINING") != NULL;
	dsn = c->esmtp && smtpreply_has(&c->ehlo, "DSN") != NULL;
	accepted = xcalloc(j->nrcpt + 1, sizeof(int));
	if (smtp_conn_printf(c, smtp.t_mail, "%s", mail) == -1)
		goto lost;
	if (!pipe) {
		if (smtp_conn_reply(c, &r, smtp.t_mail) == -1)
			goto lost;
		if (r.code / 100 != 2)
			goto mail_refused;
	}
	for (i = 0; i < j->nrcpt; i++) {
		if (j->rcpt[i].done)
			continue;
		if ((sent = smtp_rcpt_send(j, c, i, dsn)) == -1)
			goto lost;
		if (sent == 0 && !pipe && smtp_rcpt_reply(j, c, i, accepted,
		    &naccepted) == -1)
			goto lost;
	}
	if (pipe) {
		if (smtp_conn_printf(c, smtp.t_data_init, "DATA") == -1 ||
		    smtp_conn_reply(c, &r, smtp.t_mail) == -1)
			goto lost;
		if (r.code / 100 != 2)
			goto mail_refused_pipe;
		for (i = 0; i < j->nrcpt; i++)
			if (!j->rcpt[i].done && smtp_rcpt_reply(j, c, i,
			    accepted, &naccepted) == -1)
				goto lost;
	}
	if (naccepted == 0) {
		if (pipe)	/* our DATA: 503/554 expected, read it */
			(void)smtp_conn_reply(c, &r, smtp.t_data_init);
		if (smtp_conn_printf(c, smtp.t_quit, "RSET") == -1 ||
		    smtp_conn_reply(c, &r, smtp.t_quit) == -1)
			smtp_conn_close(c);
		free(accepted);
		return SMTP_DONE;
	}
	if (!pipe && smtp_conn_printf(c, smtp.t_data_init, "DATA") == -1)
		goto lost;
	if (smtp_data(j, c, accepted) == -1)
		goto lost;
	/* a server that offers DSN reports success itself (RFC 3461 4) */
	for (i = 0; dsn && i < j->nrcpt; i++)
		if (accepted[i] && j->rcpt[i].status == IPC_DLV_OK)
			j->rcpt[i].status = IPC_DLV_OK_DSN;
	free(accepted);
	return rc;
mail_refused_pipe:
	/* the RCPT replies and the DATA reply follow; the session is spent */
	spent = 1;
mail_refused:
	smtp_said(c, &r, "MAIL FROM command", text, sizeof(text));
	smtp_set_all(j, r.code / 100 == 5 ? IPC_DLV_PERMFAIL :
	    IPC_DLV_TEMPFAIL, text);
	free(accepted);
	if (spent)
		smtp_conn_close(c);
	return SMTP_DONE;
lost:
	smtp_conn_text(c, "during the mail transaction", text, sizeof(text));
	smtp_set_all(j, IPC_DLV_TEMPFAIL, text);
	free(accepted);
	smtp_conn_close(c);
	return SMTP_DONE;
}

/*
 * smtp_session - greeting, EHLO, STARTTLS, EHLO, AUTH on a fresh
 * connection; SMTP_DONE when the transaction ran, else where to go next.
 * why gets the reason when it did not.
 */
static int
smtp_session(struct smtp_job *j, struct smtp_conn *c, int notls,
    char *why, size_t whylen)
{
	struct smtpreply r;
	int	 need = strcmp(smtp.level, "encrypt") == 0 ||
	    strcmp(smtp.level, "verify") == 0 ||
	    strcmp(smtp.level, "secure") == 0;
	int	 verify = need && strcmp(smtp.level, "encrypt") != 0;
	int	 e;

	util_strlcpy(c->qid, j->qid, sizeof(c->qid));
	if (smtp_conn_reply(c, &r, smtp.t_helo) == -1) {
		smtp_conn_text(c, "while receiving the initial greeting", why,
		    whylen);
		return SMTP_NEXT;
	}
	if (r.code != 220) {
		smtp_said(c, &r, "initial greeting", why, whylen);
		return SMTP_NEXT;
	}
	if ((e = smtp_ehlo(c)) != 0) {
		smtp_conn_text(c, e == -1 ? "during EHLO" :
		    "(EHLO and HELO refused)", why, whylen);
		return SMTP_NEXT;
	}
	if (!notls && strcmp(smtp.level, "none") != 0 && smtp.level[0] != '\0'
	    && smtpreply_has(&c->ehlo, "STARTTLS") != NULL) {
		if (smtp_conn_printf(c, smtp.t_helo, "STARTTLS") == -1 ||
		    smtp_conn_reply(c, &r, smtp.t_helo) == -1 ||
		    r.code != 220 || smtp_conn_starttls(c, verify,
		    smtp.t_helo) == -1) {
			smtp_conn_text(c, "during STARTTLS", why, whylen);
			return need ? SMTP_NEXT : SMTP_NOTLS;
		}
		if (smtp_ehlo(c) != 0) {
			smtp_conn_text(c, "during EHLO after STARTTLS", why,
			    whylen);
			return SMTP_NEXT;
		}
	} else if (need) {
		snprintf(why, whylen, "4.7.4 %s[%s]: TLS is required "
		    "(smtp_tls_security_level = %s) but was not offered",
		    c->host, c->addr, smtp.level);
		return SMTP_NEXT;
	}
	if (smtp_auth(c, why, whylen) == -1)
		return SMTP_NEXT;
	snprintf(j->relay, sizeof(j->relay), "%s[%s]:%d", c->host, c->addr,
	    c->port);
	return smtp_transaction(j, c);
}

/* smtp_quit - polite end of a session */
static void
smtp_quit(struct smtp_conn *c)
{
	struct smtpreply r;

	if (c->fd != -1 && smtp_conn_printf(c, 2, "QUIT") == 0)
		(void)smtp_conn_reply(c, &r, 2);
	smtp_conn_close(c);
}

/* smtp_cache_drop - end the cached session (timer, or another next hop) */
void
smtp_cache_drop(int polite)
{
	if (smtp.cache == NULL)
		return;
	if (polite)
		smtp_quit(smtp.cache);
	else
		smtp_conn_close(smtp.cache);
	free(smtp.cache);
	smtp.cache = NULL;
}

/* smtp_cached - reuse the idle session to the same next hop */
static int
smtp_cached(struct smtp_job *j)
{
	struct smtp_conn *c = smtp.cache;
	struct smtpreply r;

	if (c == NULL || strcasecmp(c->nexthop, j->nexthop) != 0) {
		smtp_cache_drop(1);
		return 0;
	}
	smtp.cache = NULL;
	util_strlcpy(c->qid, j->qid, sizeof(c->qid));
	if (smtp_conn_printf(c, smtp.t_helo, "RSET") == -1 ||
	    smtp_conn_reply(c, &r, smtp.t_helo) == -1 || r.code != 250) {
		smtp_conn_close(c);
		free(c);
		return 0;
	}
	snprintf(j->relay, sizeof(j->relay), "%s[%s]:%d", c->host, c->addr,
	    c->port);
	smtp_transaction(j, c);
	smtp_keep(c);
	return 1;
}

/* smtp_keep - keep a healthy session for the next request */
static void
smtp_keep(struct smtp_conn *c)
{
	c->qid[0] = '\0';
	if (c->fd == -1 || c->garbled) {
		smtp_quit(c);
		free(c);
		return;
	}
	smtp_cache_drop(1);
	smtp.cache = c;
}

/* smtp_hosts - the hosts to try, from relayhost or DNS; -1 with why */
static int
smtp_hosts(struct smtp_job *j, struct dns_target *t, size_t *n, int *port,
    char *why, size_t whylen)
{
	char	 host[DNS_NAME_MAX + 16], *colon;
	const char *h = j->nexthop;
	int	 mx = 1, r;
	long long p;

	*port = smtp.port;
	if (*smtp.relayhost != '\0' &&
	    strcasecmp(j->nexthop, smtp.relayhost) == 0) {
		util_strlcpy(host, smtp.relayhost, sizeof(host));
		h = host;
		if ((colon = strrchr(host, ':')) != NULL &&
		    strchr(host, ']') < colon) {
			*colon = '\0';
			if (util_parse_ll(colon + 1, 1, 65535, &p) == -1) {
				snprintf(why, whylen, "4.3.5 bad relayhost "
				    "port \"%s\"", colon + 1);
				return -1;
			}
			*port = (int)p;
		}
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			host[strlen(host) - 1] = '\0';
			h = host + 1;
			mx = 0;
		}
	}
	if (mx)
		r = dns_targets(smtp.dns, h, smtp.t_connect, t, n, why, whylen);
	else {
		r = dns_host(smtp.dns, h, smtp.t_connect, &t[0], why, whylen);
		*n = 1;
	}
	if (r == DNS_OK)
		return 0;
	{
		char	 tmp[512];

		snprintf(tmp, sizeof(tmp), "%s Host or domain name not found. "
		    "Name service error for name=%s: %s", r == DNS_TEMPFAIL ?
		    "4.4.3" : r == DNS_NULLMX ? "5.1.10" : "5.1.2", h,
		    r == DNS_NULLMX ? "the domain accepts no mail (null MX)" :
		    why);
		util_strlcpy(why, tmp, whylen);
	}
	return r == DNS_TEMPFAIL ? -1 : -2;
}

/* smtp_host_name - a host for logs: "[192.0.2.1]" is shown bare */
static void
smtp_host_name(const char *h, char *out, size_t len)
{
	size_t	 n = strlen(h);

	if (n > 2 && h[0] == '[' && h[n - 1] == ']' && n - 2 < len) {
		memcpy(out, h + 1, n - 2);
		out[n - 2] = '\0';
	} else
		util_strlcpy(out, h, len);
}

/* smtp_deliver - deliver a job's recipients; results in j->rcpt */
void
smtp_deliver(struct smtp_job *j)
{
	struct dns_target *t;
	struct smtp_conn *c;
	char	 why[1024] = "4.4.1 no host to try";
	size_t	 n = 0, h, a;
	int	 port, r;

	if (smtp_cached(j))
		return;
	t = xcalloc(DNS_MAX_TARGETS, sizeof(*t));
	if ((r = smtp_hosts(j, t, &n, &port, why, sizeof(why))) != 0) {
		smtp_set_all(j, r == -1 ? IPC_DLV_TEMPFAIL : IPC_DLV_PERMFAIL,
		    why);
		free(t);
		return;
	}
	for (h = 0; h < n; h++)
		for (a = 0; a < t[h].naddr; a++) {
			int	 notls = 0;
again:
			c = xcalloc(1, sizeof(*c));
			smtp_host_name(t[h].host, c->host, sizeof(c->host));
			util_strlcpy(c->nexthop, j->nexthop,
			    sizeof(c->nexthop));
			if (smtp_conn_open(c, &t[h].addr[a], port,
			    smtp.t_connect) == -1) {
				snprintf(why, sizeof(why), "4.4.1 %s", c->err);
				free(c);
				continue;
			}
			r = smtp_session(j, c, notls, why, sizeof(why));
			if (r == SMTP_DONE) {
				smtp_keep(c);
				free(t);
				return;
			}
			smtp_quit(c);
			free(c);
			if (r == SMTP_NOTLS && !notls) {
				notls = 1;
				goto again;
			}
		}
	free(t);
	smtp_set_all(j, IPC_DLV_TEMPFAIL, why);
}
