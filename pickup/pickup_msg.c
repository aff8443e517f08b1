/*
 * pickup_msg.c - local submission: the envelope, the content, the queue
 * file.
 *
 * Envelope.  Recipients are addr-specs (sendmail parsed the command
 * line); one without a domain gets @$myorigin (append_at_myorigin).  The
 * sender is the user's own address, login@$myorigin, unless the user is
 * root or mail_owner, whose -f is taken as it is; anyone else's -f for
 * another address is replaced by their own (logged, and sendmail warns),
 * so a local user cannot pose as another one.
 *
 * Content.  Lines end in LF, CR LF or a CR alone (each stored as CR LF, so
 * no bare CR or LF reaches the queue or a next hop); a NUL, a line over
 * smtpd_line_length_limit, 8-bit bytes the envelope did not announce, or
 * more than message_size_limit refuse the message at once.  The header
 * block goes through lib/mail/header: sendmail -t takes the recipients from
 * To, Cc and Bcc (Resent-* when present), Bcc fields are dropped, and a
 * block without From, Date or Message-ID gets them (as Postfix's cleanup
 * adds them).  The queue file is written as smtpd writes it: the
 * envelope, our Received header ("by HOST (youju, from userid N)"), the
 * content; the DKIM signatures (lib/server/dkim_client, like mail from
 * mynetworks) as P records; then qfile_commit - the same commit point as
 * smtpd's - and only then QMGR_NEW and the 250.
 *
 * Errors: every refusal is a PICKUP_REPLY with an SMTP-like code and
 * enhanced status (4xx: try again later; 5xx: never) and -1: the caller
 * closes the connection, and an unfinished queue file is removed.
 */
#include <sys/time.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "addr.h"
#include "buf.h"
#include "dkim.h"
#include "dkim_client.h"
#include "ipc.h"
#include "ipc_client.h"
#include "log.h"
#include "header.h"
#include "qfile.h"
#include "util.h"
#include "pickup.h"

#define PICKUP_EW_RAW	45	/* bytes of the name per encoded word */

/* pickup_addr - an address as sendmail sent it, canonical (addr_local) */
static int
pickup_addr(const char *text, int flags, char *out, const char **why)
{
	return addr_local(text, flags, pk.append_myorigin ? pk.myorigin :
	    NULL, out, why);
}

/* pickup_refuse_addr - a refusal from an addr_parse reply text */
static int
pickup_refuse_addr(struct pickup_sess *s, const char *why, const char *text)
{
	unsigned code = (unsigned)atoi(why);

	log_info("%s%suid=%ld: refused <%s>: %s", s->qid[0] ? s->qid : "",
	    s->qid[0] ? ": " : "", (long)s->uid, log_str(text), why + 4);
	pickup_reply(s, code >= 500 && code <= 599 ? code : 553, NULL, "%s",
	    why + 4);
	return -1;
}

/* pickup_rcpt_add - one recipient; duplicates are dropped */
int
pickup_rcpt_add(struct pickup_sess *s, const char *text)
{
	char	 a[ADDR_BUFSZ];
	const char *why = NULL;
	size_t	 i;

	if (pickup_addr(text, 0, a, &why) == -1)
		return pickup_refuse_addr(s, why, text);
	for (i = 0; i < s->nrcpt && i < pk.dup_limit; i++)
		if (addr_same(s->rcpt[i], a, 0))
			return 0;
	if (s->nrcpt >= PICKUP_RCPT_MAX) {
		pickup_reply(s, 452, NULL, "4.5.3 too many recipients (at "
		    "most %d)", PICKUP_RCPT_MAX);
		return -1;
	}
	s->rcpt = xreallocarray(s->rcpt, s->nrcpt + 1, sizeof(*s->rcpt));
	s->rcpt[s->nrcpt++] = xstrdup(a);
	return 0;
}

/* pickup_own - the user's own address: login@$myorigin */
static void
pickup_own(const char *login, char *out)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	util_strlcpy(a.local, login, sizeof(a.local));
	util_strlcpy(a.domain, pk.myorigin, sizeof(a.domain));
	util_lowercase(a.domain);
	addr_format(&a, out, ADDR_BUFSZ);
}

/*
 * pickup_sender - the envelope sender (see the top of this file); 0, or
 * -1 after a refusal
 */
int
pickup_sender(struct pickup_sess *s)
{
	const char *login = pickup_login(s->uid), *why = NULL;
	char	 own[ADDR_BUFSZ], want[ADDR_BUFSZ];

	if (login == NULL) {
		log_warn("uid=%ld: refused: the uid has no name in the passwd "
		    "database as pickup read it at start (\"mailctl reload\" "
		    "reads it again)", (long)s->uid);
		pickup_reply(s, 451, NULL, "4.7.0 user id %ld is not known to "
		    "the mail system yet; the administrator can run "
		    "\"mailctl reload\"", (long)s->uid);
		return -1;
	}
	pickup_own(login, own);
	util_strlcpy(s->sender, own, sizeof(s->sender));
	if (s->want == NULL)
		return 0;
	if (pickup_addr(s->want, ADDR_F_SENDER | ADDR_F_NULL_OK, want,
	    &why) == -1)
		return pickup_refuse_addr(s, why, s->want);
	if (s->uid == 0 || s->uid == pk.owner_uid || addr_same(want, own, 0))
		util_strlcpy(s->sender, want, sizeof(s->sender));
	else
		log_warn("uid=%ld: sender <%s> replaced by <%s>: only root "
		    "and mail_owner may choose another sender", (long)s->uid,
		    log_str(want), own);
	return 0;
}

/* pickup_refuse - a 4xx/5xx reply and -1 */
static int
pickup_refuse(struct pickup_sess *s, unsigned code, const char *text)
{
	log_info("%s: uid=%ld: refused: %s", s->qid, (long)s->uid, text);
	pickup_reply(s, code, NULL, "%s", text);
	return -1;
}

/* pickup_write - content bytes into the queue file, within the size limit */
static int
pickup_write(struct pickup_sess *s, const void *p, size_t len)
{
	s->size += len;
	if (pk.size_limit > 0 && s->size > pk.size_limit)
		return pickup_refuse(s, 552, "5.3.4 message size exceeds "
		    "fixed limit");
	if (qfile_write_body(&s->qw, p, len) == -1) {
		log_err("%s: queue file write error: %s", s->qid,
		    strerror(s->qw.err));
		return pickup_refuse(s, 451, "4.3.0 queue file write error");
	}
	return 0;
}

/* pickup_put - one line of the message (without its end) */
static int
pickup_put(struct pickup_sess *s, const char *p, size_t len)
{
	if (pickup_write(s, p, len) == -1 || pickup_write(s, "\r\n", 2) == -1)
		return -1;
	if (s->dkim != NULL)
		dkim_msg_line(s->dkim, p, len);
	return 0;
}

/* pickup_put_field - a field, its lines apart (for DKIM's collector) */
static int
pickup_put_field(struct pickup_sess *s, const char *f)
{
	const char *e;

	for (; (e = strstr(f, "\r\n")) != NULL; f = e + 2)
		if (pickup_put(s, f, (size_t)(e - f)) == -1)
			return -1;
	return pickup_put(s, f, strlen(f));
}

/* pickup_date - RFC 5322 date-time of now, local time */
static void
pickup_date(char *out, size_t len)
{
	time_t	 now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
}

/*
 * pickup_name - the full name as a From display name: control bytes
 * dropped; 8-bit text as RFC 2047 encoded words (UTF-8, base64, split
 * between characters), else a quoted string when it has specials
 */
static void
pickup_name(const char *name, struct buf *b)
{
	char	 clean[IPC_PICKUP_NAME_MAX + 1], enc[128];
	size_t	 n = 0, i, k;
	int	 eight = 0, special = 0;

	for (i = 0; name[i] != '\0' && n < sizeof(clean) - 1; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			continue;
		eight |= (unsigned char)name[i] >= 0x80;
		special |= strchr("()<>[]:;@\\,.\"", name[i]) != NULL;
		clean[n++] = name[i];
	}
	clean[n] = '\0';
	if (eight) {
		for (i = 0; i < n; i = k) {
			/* a word ends before a UTF-8 continuation byte */
			for (k = i + (n - i < PICKUP_EW_RAW ? n - i :
			    PICKUP_EW_RAW); k < n && k > i + 1 &&
			    ((unsigned char)clean[k] & 0xc0) == 0x80; k--)
				;
			sodium_bin2base64(enc, sizeof(enc),
			    (const unsigned char *)clean + i, k - i,
			    sodium_base64_VARIANT_ORIGINAL);
			buf_printf(b, "%s=?UTF-8?B?%s?=", i > 0 ? "\r\n " : "",
			    enc);
		}
		return;
	}
	if (!special) {
		buf_puts(b, clean);
		return;
	}
	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		if (clean[i] == '"' || clean[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, clean[i]);
	}
	buf_putc(b, '"');
}

/* pickup_added - the From, Date and Message-Id the block lacks */
static int
pickup_added(struct pickup_sess *s)
{
	struct buf f;
	char	 date[64], stamp[32];
	time_t	 now = time(NULL);
	struct tm tm;
	int	 r = 0;

	buf_init(&f, 4096);
	if (!(s->hdr.have & HEADER_HAVE_FROM)) {
		buf_puts(&f, "From: ");
		if (s->fullname != NULL && *s->fullname != '\0') {
			pickup_name(s->fullname, &f);
			buf_puts(&f, " ");
		}
		if (s->sender[0] == '\0')
			buf_printf(&f, "<MAILER-DAEMON@%s>", pk.hostname);
		else
			buf_printf(&f, "<%s>", s->sender);
		r |= pickup_put_field(s, buf_cstr(&f));
	}
	if (!(s->hdr.have & HEADER_HAVE_DATE)) {
		pickup_date(date, sizeof(date));
		buf_reset(&f);
		buf_printf(&f, "Date: %s", date);
		r |= pickup_put_field(s, buf_cstr(&f));
	}
	if (!(s->hdr.have & HEADER_HAVE_MSGID)) {
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		buf_reset(&f);
		snprintf(s->mid, sizeof(s->mid), "<%s.%s@%s>", stamp, s->qid,
		    pk.hostname);
		buf_printf(&f, "Message-Id: %s", s->mid);
		r |= pickup_put_field(s, buf_cstr(&f));
	}
	buf_free(&f);
	return r == 0 ? 0 : -1;
}

/* pickup_received - our Received header, first line of the content */
static int
pickup_received(struct pickup_sess *s)
{
	struct buf h;
	char	 date[64];
	int	 r;

	pickup_date(date, sizeof(date));
	buf_init(&h, 4096);
	buf_printf(&h, "Received: by %s (%s, from userid %ld)\r\n\tid %s; "
	    "%s\r\n", pk.hostname, pk.mail_name, (long)s->uid, s->qid, date);
	r = pickup_write(s, h.data, h.len);	/* not signed, as in smtpd */
	buf_free(&h);
	return r;
}

/* pickup_open - the queue file: envelope and Received header */
static int
pickup_open(struct pickup_sess *s)
{
	struct timeval tv;
	char	 uid[32];
	size_t	 i;
	int	 r = 0;

	if (qfile_create(&s->qw, s->qid, pk.hash_depth) == -1) {
		log_err("create queue file %s: %s", s->qid, strerror(errno));
		return pickup_refuse(s, 451, "4.3.0 queue file write error");
	}
	s->qw_open = 1;
	gettimeofday(&tv, NULL);
	snprintf(uid, sizeof(uid), "%ld", (long)s->uid);
	r |= qfile_put_header(&s->qw, (int64_t)tv.tv_sec, (int32_t)tv.tv_usec,
	    s->sender);
	r |= qfile_put_attr(&s->qw, "uid", uid, strlen(uid));
	if (s->flags & IPC_PF_8BIT)
		r |= qfile_put_attr(&s->qw, "body", "8BITMIME", 8);
	for (i = 0; i < s->nrcpt; i++)
		r |= qfile_put_rcpt(&s->qw, s->rcpt[i], "", 0);
	if (r != 0) {
		log_err("%s: queue file write error: %s", s->qid,
		    strerror(s->qw.err));
		return pickup_refuse(s, 451, "4.3.0 queue file write error");
	}
	if (pk.dkim_on && !(pk.dkim.known && pk.dkim.nkeys == 0)) {
		s->dkim = xcalloc(1, sizeof(*s->dkim));
		dkim_msg_init(s->dkim);
	}
	return pickup_received(s);
}

/*
 * pickup_head - the header block is complete: the -t recipients, the
 * queue file, the fields, the ones added, and (sep) the empty line
 */
static int
pickup_head(struct pickup_sess *s, int sep)
{
	char	**v;
	size_t	 n, i;

	s->in_hdr = 0;
	if (header_finish(&s->hdr) == -1)
		return pickup_refuse(s, 554, s->hdr.err);
	v = header_rcpt(&s->hdr, &n);
	for (i = 0; (s->flags & IPC_PF_EXTRACT) && i < n; i++)
		if (pickup_rcpt_add(s, v[i]) == -1)
			return -1;
	if (s->nrcpt == 0)
		return pickup_refuse(s, 554, "5.5.1 no recipients");
	if (pickup_open(s) == -1)
		return -1;
	for (i = 0; i < s->hdr.nf; i++)
		if (pickup_put_field(s, s->hdr.f[i]) == -1)
			return -1;
	if (pickup_added(s) == -1 || (sep && pickup_put(s, "", 0) == -1))
		return -1;
	return 0;
}

/* pickup_line - one complete line of the content */
static int
pickup_line(struct pickup_sess *s, const char *p, size_t len)
{
	char	 why[256];
	int	 r;

	if (!s->in_hdr)
		return pickup_put(s, p, len);
	switch ((r = header_line(&s->hdr, p, len))) {
	case HEADER_MORE:
		return 0;
	case HEADER_END:
		return pickup_head(s, 1);
	case HEADER_BODY:
		if (pickup_head(s, 1) == -1)
			return -1;
		return pickup_put(s, p, len);
	}
	snprintf(why, sizeof(why), "5.6.0 malformed header: %s", s->hdr.err);
	return pickup_refuse(s, 554, why);
}

/* pickup_bytes - a run without line ends: into the line being read */
static int
pickup_bytes(struct pickup_sess *s, const unsigned char *p, size_t n)
{
	size_t	 i;

	if (memchr(p, '\0', n) != NULL)
		return pickup_refuse(s, 550, "5.6.0 message content contains "
		    "NUL characters");
	if (!(s->flags & IPC_PF_8BIT))
		for (i = 0; i < n; i++)
			if (p[i] >= 0x80)
				return pickup_refuse(s, 554, "5.6.0 8-bit "
				    "content the envelope did not announce");
	if (buf_append(&s->line, p, n) == -1)
		return pickup_refuse(s, 552, "5.3.4 message line too long");
	return 0;
}

/*
 * pickup_content - PICKUP_DATA bytes: LF, CR LF and a CR alone end a
 * line (a CR LF may be split between two frames)
 */
int
pickup_content(struct pickup_sess *s, const unsigned char *p, size_t len)
{
	size_t	 i = 0, start;

	while (i < len) {
		if (s->cr && p[i] == '\n') {
			s->cr = 0;
			i++;
			continue;
		}
		s->cr = 0;
		for (start = i; i < len && p[i] != '\r' && p[i] != '\n'; i++)
			;
		if (i > start && pickup_bytes(s, p + start, i - start) == -1)
			return -1;
		if (i == len)
			break;
		s->cr = p[i++] == '\r';
		if (pickup_line(s, s->line.data != NULL ?
		    (const char *)s->line.data : "", s->line.len) == -1)
			return -1;
		buf_reset(&s->line);
	}
	return 0;
}

/* pickup_sign - DKIM signatures into the queue file; 0 or -1 (refused) */
static int
pickup_sign(struct pickup_sess *s)
{
	unsigned char bh[DKIM_DIGEST];
	int	 r;

	if (s->dkim == NULL)
		return 0;
	dkim_body_final(&s->dkim->b, bh);
	r = dkim_client_sign(&pk.dkim, s->qid, s->dkim, bh, &s->qw);
	if (r == DKIM_CLIENT_BROKER)
		return pickup_refuse(s, 451, "4.3.0 cannot DKIM-sign the "
		    "message now, try again later");
	if (r == -1) {
		log_err("%s: cannot add the DKIM-Signature: %s", s->qid,
		    strerror(errno));
		return pickup_refuse(s, 451, "4.3.0 queue file write error");
	}
	return 0;
}

/* pickup_notify - tell qmgr (a hint: it finds the file by a scan too) */
static void
pickup_notify(const char *qid)
{
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	ipc_put_str(&o, qid);
	r = ipc_client_send(pk.qmgr, IPC_QMGR_NEW, &o, NULL, 0, 0, NULL);
	ipc_out_free(&o);
	if (r == -1 && errno != ENOENT && errno != ECONNREFUSED)
		log_warn("%s: qmgr notification failed (%s); qmgr will find "
		    "the message when it rescans", qid, strerror(errno));
}

/* pickup_finish - PICKUP_END: the last line, sign, commit, answer */
int
pickup_finish(struct pickup_sess *s)
{
	const char *mid;
	int	 err;

	if (s->line.len > 0 && pickup_line(s, (const char *)s->line.data,
	    s->line.len) == -1)
		return -1;
	buf_reset(&s->line);
	if (s->in_hdr && pickup_head(s, 0) == -1)
		return -1;
	if (pickup_sign(s) == -1)
		return -1;
	s->qw_open = 0;
	if (qfile_commit(&s->qw) == -1) {
		err = errno;
		log_err("%s: cannot commit queue file: %s", s->qid,
		    strerror(err));
		return pickup_refuse(s, err == ENOSPC || err == EDQUOT ? 452 :
		    451, err == ENOSPC || err == EDQUOT ? "4.3.1 insufficient "
		    "system storage" : "4.3.0 queue file write error");
	}
	log_info("%s: uid=%ld from=<%s>", s->qid, (long)s->uid, s->sender);
	if ((mid = header_value(&s->hdr, "message-id")) == NULL)
		mid = s->mid;
	log_info("%s: message-id=%s", s->qid, log_str(mid));
	pickup_notify(s->qid);
	return pickup_reply(s, 250, NULL, "2.0.0 Ok: queued as %s", s->qid);
}

/* pickup_msg_free - drop the envelope, and a queue file not committed */
void
pickup_msg_free(struct pickup_sess *s)
{
	size_t	 i;

	if (s->qw_open)
		qfile_abort(&s->qw);
	s->qw_open = 0;
	if (s->dkim != NULL) {
		dkim_msg_free(s->dkim);
		free(s->dkim);
		s->dkim = NULL;
	}
	for (i = 0; i < s->nrcpt; i++)
		free(s->rcpt[i]);
	free(s->rcpt);
	s->rcpt = NULL;
	s->nrcpt = 0;
	free(s->want);
	free(s->fullname);
	s->want = s->fullname = NULL;
	header_free(&s->hdr);
	buf_free(&s->line);
}
