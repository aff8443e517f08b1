/*
 * ipc.c - typed frames between youju processes (see ipc.h).
 *
 * Interface: ipc_defs[] (the one table of message types), the bounded
 * encoder (ipc_out, ipc_put_*), the bounds-checked sticky decoder (ipc_in,
 * ipc_get_*), ipc_send/ipc_recv (one packet per frame, at most one
 * descriptor), the HELLO handshake and socket helpers.
 *
 * Errors: -1 with errno.  ipc_recv() rejects every frame that breaks the
 * table with EPROTO, closes any descriptor that came with it, and leaves
 * the reason in ipc_reject_reason() for the caller's log line.  Nothing in
 * here exits because of what a peer sent.
 *
 * Encoding of payload fields (all big endian):
 *	u32	4 bytes
 *	u64	8 bytes
 *	str	u32 length | bytes (no NUL inside, no terminator)
 *
 * Longer than 800 lines on purpose: the frame table, the codec and the
 * socket calls belong together - every check of a frame uses the table,
 * and the table documents the payloads the codec reads.  The event-driven
 * client side is lib/server/ipc_client.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* struct ucred, MSG_CMSG_CLOEXEC */
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dkim.h"
#include "ipc.h"
#include "log.h"
#include "qid.h"
#include "util.h"

#define IPC_R_ALL	(IPC_R_MASTER | IPC_R_SMTPD | IPC_R_QMGR | \
			    IPC_R_LOCAL | IPC_R_AUTH | IPC_R_SMTP | \
			    IPC_R_MAILCTL | IPC_R_ANVIL | IPC_R_PICKUP | \
			    IPC_R_SENDMAIL)
#define IPC_STR(n)	(4 + (n))	/* encoded size of a str of n bytes */
#define IPC_QIDSTR	IPC_STR(QID_LEN)
#define IPC_HELLO_TIMEOUT_MS	10000
#define IPC_RX_FDS	8	/* room to see (and close) extra descriptors */

/*
 * The table.  Payload layouts:
 *
 * IPC_HELLO		u32 IPC_VERSION | u32 sender role (one IPC_R_* bit).
 *			Exactly 8 bytes; the first frame each way.  (A caller
 *			that passes the expected role before the answer came
 *			still gets it: the handler decides.)
 * IPC_QMGR_NEW		str qid.  A file was committed under queue/ (by
 *			smtpd or pickup).
 * IPC_AUTH_RCPT	u32 request id | str local part | str domain.
 *			smtpd (RCPT TO) and local (alias targets) ask auth.
 * IPC_AUTH_RCPT_REPLY	u32 request id | u32 IPC_LOOKUP_*.
 * IPC_LOCAL_DELIVER	+ fd of the queue file opened O_RDONLY.
 *			str qid | str sender | u32 n |
 *			n x (u32 recipient index | u32 IPC_RF_* flags |
 *			str address).
 * IPC_LOCAL_RESULT	str qid | u32 n | n x (u32 index | u32 IPC_DLV_* |
 *			str text) | u32 m | m x (u32 parent index | str addr).
 * IPC_CTL_REQUEST	u32 n | n x str argument ("queue", "list", ...).
 * IPC_CTL_REPLY	u32 status (0 ok, else an exit status; IPC_CTL_MORE:
 *			more text follows; IPC_CTL_WARN: this text is a
 *			warning, more follows) | str text.
 * IPC_AUTH_LOGIN	u32 request id | str client address | str mechanism |
 *			str authentication id | str password (at most 1024).
 * IPC_AUTH_LOGIN_REPLY	u32 request id | u32 IPC_LOGIN_* | str the user name
 *			as the users file spells it (empty unless OK).
 * IPC_AUTH_SENDER	u32 request id | str envelope sender address.
 * IPC_SMTP_DELIVER	+ fd of the queue file opened O_RDONLY.
 *			str qid | str sender | str next hop (a domain, or
 *			relayhost as written) | u32 n | n x (u32 recipient
 *			index | str address).
 * IPC_SMTP_RESULT	str qid | u32 n | n x (u32 index | u32 IPC_DLV_* |
 *			str "X.Y.Z text") | str relay ("host[addr]:port").
 * IPC_ANVIL_CONNECT	u32 request id | str service | str client address
 *			(each at most 64 bytes).
 * IPC_ANVIL_DISCONNECT	str service | str client address.
 * IPC_ANVIL_MESSAGE	u32 request id | str service | str client address.
 * IPC_ANVIL_REPLY	u32 request id | u32 count | u32 count (see anvil.c).
 * IPC_AUTH_SENDER_REPLY u32 request id | u32 IPC_LOOKUP_OK or _TEMPFAIL |
 *			u32 n | n x str login that owns the address (at most
 *			64 owners).
 * IPC_DKIM_KEYS	u32 request id: which DKIM keys the broker holds.
 * IPC_DKIM_KEYS_REPLY	u32 request id | u32 n (at most IPC_DKIM_KEYS_MAX) |
 *			n x (str domain | str selector | u32 DKIM_* alg).
 * IPC_DKIM_SIGN	u32 request id | str domain | str selector | u32 alg |
 *			bytes SHA-256 digest (32).  smtpd and qmgr never see
 *			a key: they send what a signature covers, hashed.
 * IPC_DKIM_SIGN_REPLY	u32 request id | u32 IPC_DKIM_* | bytes signature
 *			(empty unless OK; at most 1024).
 * IPC_METRICS		u32 n | n x (u32 metric id | str label | str label |
 *			u64 value): a process's report for metrics_listen;
 *			lib/server/metrics.c checks each series (id,
 *			sender, labels).
 *
 * Local submission (sendmail -> public/pickup; any local user may connect,
 * pickup knows who it is from SO_PEERCRED, never from these frames):
 * IPC_PICKUP_MAIL	u32 IPC_PF_* | str sender (-f; at most 1024) |
 *			str full name (-F; at most IPC_PICKUP_NAME_MAX).
 * IPC_PICKUP_RCPT	u32 n (at least 1) | n x str recipient (each at most
 *			1024).  Any number of frames, after MAIL.
 * IPC_PICKUP_BEGIN	empty: the envelope is complete; pickup answers 354
 *			(go on) or refuses (and closes).
 * IPC_PICKUP_DATA	the content's next bytes, as they are (at least 1).
 * IPC_PICKUP_END	empty: the content is complete; pickup answers once
 *			the message is committed, or refuses.
 * IPC_PICKUP_REPLY	u32 SMTP-like code (250, 354, 4xx, 5xx) | str text
 *			("X.Y.Z text"; at most 1024) | str the envelope
 *			sender pickup uses (with 354; else empty).  pickup
 *			may send a 4xx/5xx at any time and close.
 *
 * Lengths are checked again field by field by the getters; the table gives
 * the cheap outer bound before any handler runs.
 */
const struct ipc_def ipc_defs[] = {
	{ IPC_HELLO, "HELLO", IPC_R_ALL, 8, 8, IPC_FD_NONE },
	{ IPC_QMGR_NEW, "QMGR_NEW", IPC_R_SMTPD | IPC_R_PICKUP,
	    IPC_QIDSTR, IPC_QIDSTR, IPC_FD_NONE },
	{ IPC_AUTH_RCPT, "AUTH_RCPT", IPC_R_SMTPD | IPC_R_LOCAL,
	    4 + IPC_STR(0) + IPC_STR(0), 4 + IPC_STR(1024) + IPC_STR(1024),
	    IPC_FD_NONE },
	{ IPC_AUTH_RCPT_REPLY, "AUTH_RCPT_REPLY", IPC_R_AUTH, 8, 8,
	    IPC_FD_NONE },
	{ IPC_LOCAL_DELIVER, "LOCAL_DELIVER", IPC_R_QMGR,
	    IPC_QIDSTR + IPC_STR(0) + 4, IPC_MAX_PAYLOAD, IPC_FD_REQUIRED },
	{ IPC_LOCAL_RESULT, "LOCAL_RESULT", IPC_R_LOCAL,
	    IPC_QIDSTR + 4 + 4, IPC_MAX_PAYLOAD, IPC_FD_NONE },
	{ IPC_CTL_REQUEST, "CTL_REQUEST", IPC_R_MAILCTL, 4, IPC_MAX_PAYLOAD,
	    IPC_FD_NONE },
	{ IPC_CTL_REPLY, "CTL_REPLY", IPC_R_MASTER | IPC_R_QMGR,
	    4 + IPC_STR(0), IPC_MAX_PAYLOAD, IPC_FD_NONE },
	{ IPC_AUTH_LOGIN, "AUTH_LOGIN", IPC_R_SMTPD,
	    4 + 4 * IPC_STR(0), 4 + IPC_STR(64) + IPC_STR(32) +
	    IPC_STR(1024) + IPC_STR(1024), IPC_FD_NONE },
	{ IPC_AUTH_LOGIN_REPLY, "AUTH_LOGIN_REPLY", IPC_R_AUTH,
	    8 + IPC_STR(0), 8 + IPC_STR(1024), IPC_FD_NONE },
	{ IPC_AUTH_SENDER, "AUTH_SENDER", IPC_R_SMTPD,
	    4 + IPC_STR(0), 4 + IPC_STR(1024), IPC_FD_NONE },
	{ IPC_AUTH_SENDER_REPLY, "AUTH_SENDER_REPLY", IPC_R_AUTH,
	    12, IPC_MAX_PAYLOAD, IPC_FD_NONE },
	{ IPC_SMTP_DELIVER, "SMTP_DELIVER", IPC_R_QMGR,
	    IPC_QIDSTR + IPC_STR(0) + IPC_STR(1) + 4, IPC_MAX_PAYLOAD,
	    IPC_FD_REQUIRED },
	{ IPC_SMTP_RESULT, "SMTP_RESULT", IPC_R_SMTP,
	    IPC_QIDSTR + 4 + IPC_STR(0), IPC_MAX_PAYLOAD, IPC_FD_NONE },
	{ IPC_ANVIL_CONNECT, "ANVIL_CONNECT", IPC_R_SMTPD,
	    4 + 2 * IPC_STR(0), 4 + 2 * IPC_STR(64), IPC_FD_NONE },
	{ IPC_ANVIL_DISCONNECT, "ANVIL_DISCONNECT", IPC_R_SMTPD,
	    2 * IPC_STR(0), 2 * IPC_STR(64), IPC_FD_NONE },
	{ IPC_ANVIL_MESSAGE, "ANVIL_MESSAGE", IPC_R_SMTPD,
	    4 + 2 * IPC_STR(0), 4 + 2 * IPC_STR(64), IPC_FD_NONE },
	{ IPC_ANVIL_REPLY, "ANVIL_REPLY", IPC_R_ANVIL, 12, 12, IPC_FD_NONE },
	{ IPC_DKIM_KEYS, "DKIM_KEYS", IPC_R_SMTPD | IPC_R_QMGR | IPC_R_PICKUP,
	    4, 4,
	    IPC_FD_NONE },
	{ IPC_DKIM_KEYS_REPLY, "DKIM_KEYS_REPLY", IPC_R_AUTH, 8,
	    IPC_MAX_PAYLOAD, IPC_FD_NONE },
	{ IPC_DKIM_SIGN, "DKIM_SIGN", IPC_R_SMTPD | IPC_R_QMGR | IPC_R_PICKUP,
	    4 + IPC_STR(1) + IPC_STR(1) + 4 + IPC_STR(32),
	    4 + IPC_STR(255) + IPC_STR(63) + 4 + IPC_STR(32), IPC_FD_NONE },
	{ IPC_DKIM_SIGN_REPLY, "DKIM_SIGN_REPLY", IPC_R_AUTH, 8 + IPC_STR(0),
	    8 + IPC_STR(1024), IPC_FD_NONE },
	{ IPC_PICKUP_MAIL, "PICKUP_MAIL", IPC_R_SENDMAIL,
	    4 + 2 * IPC_STR(0), 4 + IPC_STR(1024) +
	    IPC_STR(IPC_PICKUP_NAME_MAX), IPC_FD_NONE },
	{ IPC_PICKUP_RCPT, "PICKUP_RCPT", IPC_R_SENDMAIL,
	    4 + IPC_STR(1), IPC_MAX_PAYLOAD, IPC_FD_NONE },
	{ IPC_PICKUP_BEGIN, "PICKUP_BEGIN", IPC_R_SENDMAIL, 0, 0,
	    IPC_FD_NONE },
	{ IPC_PICKUP_DATA, "PICKUP_DATA", IPC_R_SENDMAIL, 1, IPC_MAX_PAYLOAD,
	    IPC_FD_NONE },
	{ IPC_PICKUP_END, "PICKUP_END", IPC_R_SENDMAIL, 0, 0, IPC_FD_NONE },
	{ IPC_PICKUP_REPLY, "PICKUP_REPLY", IPC_R_PICKUP,
	    4 + 2 * IPC_STR(0), 4 + 2 * IPC_STR(1024), IPC_FD_NONE },
	{ IPC_METRICS, "METRICS", IPC_R_SMTPD | IPC_R_QMGR | IPC_R_MASTER,
	    4, IPC_MAX_PAYLOAD, IPC_FD_NONE },
	{ 0, NULL, 0, 0, 0, 0 }
};

static const char *ipc_reason = "";

/* ipc_reject_reason - why the last frame was rejected (static text) */
const char *
ipc_reject_reason(void)
{
	return ipc_reason;
}

/* ipc_def_find - the table row of a type, or NULL */
const struct ipc_def *
ipc_def_find(uint32_t type)
{
	const struct ipc_def *d;

	for (d = ipc_defs; d->name != NULL; d++)
		if (d->type == type)
			return d;
	return NULL;
}

/* ipc_out_init - empty encoder bounded by IPC_MAX_PAYLOAD */
void
ipc_out_init(struct ipc_out *o)
{
	buf_init(&o->b, IPC_MAX_PAYLOAD);
	o->err = 0;
}

/* ipc_out_free - release the encoder's memory */
void
ipc_out_free(struct ipc_out *o)
{
	buf_free(&o->b);
	o->err = 0;
}

/* ipc_out_add - append raw bytes; the first failure sticks */
static int
ipc_out_add(struct ipc_out *o, const void *p, size_t len)
{
	if (o->err != 0) {
		errno = o->err;
		return -1;
	}
	if (buf_append(&o->b, p, len) == -1) {
		o->err = errno;
		return -1;
	}
	return 0;
}

/* ipc_put_u32 - append a u32 */
int
ipc_put_u32(struct ipc_out *o, uint32_t v)
{
	unsigned char p[4];

	util_put_be(p, v, 4);
	return ipc_out_add(o, p, sizeof(p));
}

/* ipc_put_u64 - append a u64 */
int
ipc_put_u64(struct ipc_out *o, uint64_t v)
{
	unsigned char p[8];

	util_put_be(p, v, 8);
	return ipc_out_add(o, p, sizeof(p));
}

/* ipc_put_bytes - append u32 length and the bytes (checked as one unit) */
int
ipc_put_bytes(struct ipc_out *o, const void *p, size_t len)
{
	if (o->err == 0 && (len > IPC_MAX_PAYLOAD ||
	    o->b.len + 4 + len > IPC_MAX_PAYLOAD)) {
		o->err = ENOSPC;
	}
	if (ipc_put_u32(o, (uint32_t)len) == -1)
		return -1;
	return ipc_out_add(o, p, len);
}

/* ipc_put_str - append a string as str (its NUL is not sent) */
int
ipc_put_str(struct ipc_out *o, const char *s)
{
	if (s == NULL && o->err == 0)
		o->err = EINVAL;
	if (o->err != 0) {
		errno = o->err;
		return -1;
	}
	return ipc_put_bytes(o, s, strlen(s));
}

/* ipc_in_init - start decoding a received frame's payload */
void
ipc_in_init(struct ipc_in *in, const struct ipc_msg *m)
{
	in->p = m->payload;
	in->len = m->payload == NULL ? 0 : m->len;
	in->off = 0;
	in->err = 0;
}

/* ipc_in_take - n more bytes from the payload, or NULL (sticky) */
static const unsigned char *
ipc_in_take(struct ipc_in *in, size_t n)
{
	const unsigned char *p;

	if (in->err != 0)
		return NULL;
	if (in->off > in->len || n > in->len - in->off) {
		in->err = EPROTO;
		return NULL;
	}
	p = in->p + in->off;
	in->off += n;
	return p;
}

/* ipc_get_u32 - next u32; 0 after an error */
uint32_t
ipc_get_u32(struct ipc_in *in)
{
	const unsigned char *p;

	if ((p = ipc_in_take(in, 4)) == NULL)
		return 0;
	return (uint32_t)util_get_be(p, 4);
}

/* ipc_get_u64 - next u64; 0 after an error */
uint64_t
ipc_get_u64(struct ipc_in *in)
{
	const unsigned char *p;

	if ((p = ipc_in_take(in, 8)) == NULL)
		return 0;
	return util_get_be(p, 8);
}

/* ipc_get_bytes - next length-prefixed field, at most max bytes */
const unsigned char *
ipc_get_bytes(struct ipc_in *in, size_t max, size_t *lenp)
{
	const unsigned char *p;
	uint32_t n;

	*lenp = 0;
	n = ipc_get_u32(in);
	if (in->err != 0)
		return NULL;
	if (n > max) {
		in->err = EPROTO;
		return NULL;
	}
	if ((p = ipc_in_take(in, n)) == NULL)
		return NULL;
	*lenp = n;
	return p;
}

/* ipc_get_str - next str as a malloc'ed C string; NUL inside is an error */
char *
ipc_get_str(struct ipc_in *in, size_t max)
{
	const unsigned char *p;
	char	*s;
	size_t	 n;

	if ((p = ipc_get_bytes(in, max, &n)) == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL) {
		in->err = EPROTO;
		return NULL;
	}
	s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* ipc_get_dkim_keys - see ipc.h */
struct dkim_keyref *
ipc_get_dkim_keys(struct ipc_in *in, size_t *np)
{
	struct dkim_keyref *keys;
	char	*d, *sel;
	uint32_t n, i;
	int	 bad;

	*np = 0;
	n = ipc_get_u32(in);
	if (in->err == 0 && n > IPC_DKIM_KEYS_MAX)
		in->err = EPROTO;
	if (in->err)
		return NULL;
	keys = xcalloc(n + 1, sizeof(*keys));
	for (i = 0; i < n; i++) {
		d = ipc_get_str(in, sizeof(keys[i].domain) - 1);
		sel = ipc_get_str(in, sizeof(keys[i].selector) - 1);
		keys[i].alg = (int)ipc_get_u32(in);
		bad = d == NULL || sel == NULL || in->err ||
		    (keys[i].alg != DKIM_RSA_SHA256 &&
		    keys[i].alg != DKIM_ED25519_SHA256);
		if (!bad) {
			util_strlcpy(keys[i].domain, d, sizeof(keys[i].domain));
			util_strlcpy(keys[i].selector, sel,
			    sizeof(keys[i].selector));
		}
		free(d);
		free(sel);
		if (bad) {
			if (in->err == 0)
				in->err = EPROTO;
			free(keys);
			return NULL;
		}
	}
	*np = n;
	return keys;
}

/* ipc_put_dkim_sign - see ipc.h */
void
ipc_put_dkim_sign(struct ipc_out *o, const struct dkim_keyref *k,
    const unsigned char *digest)
{
	ipc_put_str(o, k->domain);
	ipc_put_str(o, k->selector);
	ipc_put_u32(o, (uint32_t)k->alg);
	ipc_put_bytes(o, digest, DKIM_DIGEST);
}

/* ipc_get_end - 0 when all bytes were consumed without error, else -1 */
int
ipc_get_end(struct ipc_in *in)
{
	if (in->err == 0 && in->off != in->len)
		in->err = EPROTO;
	if (in->err != 0) {
		errno = in->err;
		return -1;
	}
	return 0;
}

/* ipc_send - one packet: header, payload and optionally a descriptor */
int
ipc_send(int sock, uint32_t type, const void *payload, size_t len, int fd)
{
	const struct ipc_def *d;
	unsigned char hdr[IPC_HDR];
	struct iovec iov[2];
	struct msghdr mh;
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *c;
	ssize_t	 r;

	/* our own frames obey the table too: a bug here is caught locally */
	if ((d = ipc_def_find(type)) == NULL || len < d->minlen ||
	    len > d->maxlen || (len > 0 && payload == NULL) ||
	    (d->fd == IPC_FD_REQUIRED && fd == -1) ||
	    (d->fd == IPC_FD_NONE && fd != -1)) {
		errno = EINVAL;
		return -1;
	}
	util_put_be(hdr, type, 4);
	util_put_be(hdr + 4, (uint32_t)len, 4);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len > 0 ? 2 : 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if ((size_t)r != IPC_HDR + len) {
		/* cannot happen on SEQPACKET; never miss a half frame */
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* ipc_send_out - send an encoder's payload; a failed encoder is not sent */
int
ipc_send_out(int sock, uint32_t type, const struct ipc_out *o, int fd)
{
	if (o->err != 0) {
		errno = o->err;
		return -1;
	}
	return ipc_send(sock, type, o->b.data, o->b.len, fd);
}

/* ipc_cmsg_fds - collect SCM_RIGHTS descriptors; returns how many */
static int
ipc_cmsg_fds(struct msghdr *mh, int *fds, int max)
{
	struct cmsghdr *c;
	size_t	 i, n;
	int	 got = 0, fd;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
			if (got < max)
				fds[got++] = fd;
			else
				close(fd);	/* cannot happen */
		}
	}
	return got;
}

/* ipc_check - the table checks on a received header; NULL when fine */
static const char *
ipc_check(uint32_t type, uint32_t len, unsigned peer_role, int nfds)
{
	const struct ipc_def *d;

	if ((d = ipc_def_find(type)) == NULL)
		return "unknown message type";
	if (peer_role == 0 && type != IPC_HELLO)
		return "first frame is not HELLO";
	if (peer_role != 0 && (d->senders & peer_role) != peer_role)
		return "message type not allowed from this peer";
	if (len < d->minlen)
		return "payload too short for its type";
	if (len > d->maxlen)
		return "payload too long for its type";
	if (d->fd == IPC_FD_REQUIRED && nfds == 0)
		return "descriptor missing";
	if (d->fd == IPC_FD_NONE && nfds != 0)
		return "unexpected descriptor";
	return NULL;
}

/* ipc_packet_check - the packet as a whole; NULL when fine */
static const char *
ipc_packet_check(int flags, size_t n, int nfds)
{
	if (flags & MSG_CTRUNC)
		return "control data truncated";
	if (nfds > 1)
		return "more than one descriptor";
	if ((flags & MSG_TRUNC) || n > IPC_HDR + IPC_MAX_PAYLOAD)
		return "frame too large";
	if (n < IPC_HDR)
		return "short header";
	return NULL;
}

/* the receive buffer: youju processes are single-threaded, one frame at once */
static unsigned char ipc_rx[IPC_MAX_PAYLOAD + 1];

/* ipc_close_fds - close received descriptors nobody will own */
static void
ipc_close_fds(int *fds, int nfds)
{
	while (nfds > 0)
		close(fds[--nfds]);
}

/*
 * ipc_recv - receive and validate one frame.  The payload buffer is sized
 * one byte over the maximum so an oversize packet shows up as such even
 * when the kernel does not report MSG_TRUNC.  On success m->payload is
 * malloc'ed (len bytes + NUL) and m->fd is the passed descriptor (CLOEXEC)
 * or -1; ipc_msg_free() releases both, so a handler that keeps the
 * descriptor sets m->fd = -1 first.
 */
int
ipc_recv(int sock, unsigned peer_role, struct ipc_msg *m)
{
	unsigned char hdr[IPC_HDR];
	struct iovec iov[2];
	struct msghdr mh;
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int) * IPC_RX_FDS)];
	} cm;
	const char *why;
	uint32_t type = 0, len = 0;
	ssize_t	 r;
	int	 fds[IPC_RX_FDS * 2], nfds;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = ipc_rx;
	iov[1].iov_len = sizeof(ipc_rx);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do {
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	nfds = ipc_cmsg_fds(&mh, fds, (int)NELEM(fds));
	if (r == 0) {
		/* EOF (or an empty packet, which no encoder produces) */
		ipc_close_fds(fds, nfds);
		return 0;
	}
	if ((why = ipc_packet_check(mh.msg_flags, (size_t)r, nfds)) == NULL) {
		type = (uint32_t)util_get_be(hdr, 4);
		len = (uint32_t)util_get_be(hdr + 4, 4);
		if ((size_t)len != (size_t)r - IPC_HDR)
			why = "header length does not match the packet";
		else
			why = ipc_check(type, len, peer_role, nfds);
	}
	if (why != NULL) {
		ipc_close_fds(fds, nfds);
		ipc_reason = why;
		errno = EPROTO;
		return -1;
	}
	m->payload = xmalloc((size_t)len + 1);
	memcpy(m->payload, ipc_rx, len);
	m->payload[len] = '\0';
	m->type = type;
	m->len = len;
	m->fd = nfds == 1 ? fds[0] : -1;
	return 1;
}

/* ipc_msg_free - release a frame's payload and descriptor */
void
ipc_msg_free(struct ipc_msg *m)
{
	free(m->payload);
	m->payload = NULL;
	m->len = 0;
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
}

/* ipc_role_valid - exactly one known role bit */
static int
ipc_role_valid(uint32_t role)
{
	return role != 0 && (role & (role - 1)) == 0 &&
	    (role & ~(uint32_t)IPC_R_ALL) == 0;
}

/* ipc_hello_check - validate a HELLO; the peer's role or -1 (EPROTO) */
int
ipc_hello_check(const struct ipc_msg *m, unsigned allowed)
{
	struct ipc_in in;
	uint32_t version, role;

	ipc_in_init(&in, m);
	version = ipc_get_u32(&in);
	role = ipc_get_u32(&in);
	if (m->type != IPC_HELLO || ipc_get_end(&in) == -1)
		ipc_reason = "malformed HELLO";
	else if (version != IPC_VERSION)
		ipc_reason = "HELLO with an unsupported protocol version";
	else if (!ipc_role_valid(role))
		ipc_reason = "HELLO with an invalid role";
	else if ((role & allowed) == 0)
		ipc_reason = "HELLO from a role this service does not serve";
	else
		return (int)role;
	errno = EPROTO;
	return -1;
}

/* ipc_hello_reply - send our HELLO */
int
ipc_hello_reply(int sock, unsigned my_role)
{
	unsigned char p[8];

	util_put_be(p, IPC_VERSION, 4);
	util_put_be(p + 4, my_role, 4);
	return ipc_send(sock, IPC_HELLO, p, sizeof(p), -1);
}

/* ipc_wait_readable - poll for input within the deadline (ms, monotonic) */
static int
ipc_wait_readable(int sock, uint64_t deadline)
{
	struct pollfd pfd;
	uint64_t now;
	int	 r;

	for (;;) {
		now = util_mono_ms();
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = sock;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r > 0)
			return 0;
	}
}

/* ipc_hello_wait - see ipc.h */
int
ipc_hello_wait(int sock, unsigned expect_role, uint64_t deadline)
{
	struct ipc_msg m;
	int	 r, role;

	for (;;) {
		if (ipc_wait_readable(sock, deadline) == -1)
			return -1;
		r = ipc_recv(sock, 0, &m);
		if (r == 1)
			break;
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
	role = ipc_hello_check(&m, expect_role);
	ipc_msg_free(&m);
	return role == -1 ? -1 : 0;
}

/* ipc_hello_client - send HELLO, wait up to 10 s for the peer's HELLO */
int
ipc_hello_client(int sock, unsigned my_role, unsigned expect_role)
{
	if (ipc_hello_reply(sock, my_role) == -1)
		return -1;
	return ipc_hello_wait(sock, expect_role, util_mono_ms() +
	    IPC_HELLO_TIMEOUT_MS);
}

/* ipc_call - see ipc.h */
int
ipc_call(int sock, uint32_t type, const struct ipc_out *o, uint32_t reply,
    unsigned peer_role, uint64_t deadline, struct ipc_msg *m)
{
	int	 r;

	if (ipc_send_out(sock, type, o, -1) == -1)
		return -1;
	for (;;) {
		if (ipc_wait_readable(sock, deadline) == -1)
			return -1;
		r = ipc_recv(sock, peer_role, m);
		if (r == 1 && m->type == reply)
			return 0;
		if (r == 1) {
			ipc_msg_free(m);
			errno = EPROTO;
			return -1;
		}
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
}

/* ipc_peer_cred - the peer's uid, gid and pid (any pointer may be NULL) */
int
ipc_peer_cred(int sock, uid_t *uid, gid_t *gid, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return -1;
	if (len != sizeof(cr)) {
		errno = EPROTO;
		return -1;
	}
	if (uid != NULL)
		*uid = cr.uid;
	if (gid != NULL)
		*gid = cr.gid;
	if (pid != NULL)
		*pid = cr.pid;
	return 0;
}

/* ipc_sockaddr - fill a sockaddr_un; ENAMETOOLONG when the path is long */
static int
ipc_sockaddr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (util_strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* ipc_next - see ipc.h */
int
ipc_next(int fd, unsigned *role, unsigned allowed, unsigned mine,
    struct ipc_msg *m)
{
	int	 r;

	for (;;) {
		r = ipc_recv(fd, *role, m);
		if (r == -1 && errno == EAGAIN)
			return 0;
		if (r <= 0) {
			if (r == -1)
				log_warn("dropping peer: %s", errno == EPROTO ?
				    ipc_reject_reason() : strerror(errno));
			return -1;
		}
		if (*role != 0)
			return 1;
		r = ipc_hello_check(m, allowed);
		ipc_msg_free(m);
		if (r == -1 || ipc_hello_reply(fd, mine) == -1)
			return -1;
		*role = (unsigned)r;
	}
}

/* ipc_accept - see ipc.h */
int
ipc_accept(int lfd, uid_t want, const char *what)
{
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;
	int	 fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		uid = (uid_t)-1;
		if (ipc_peer_cred(fd, &uid, &gid, &pid) == 0 &&
		    (uid == 0 || uid == want))
			return fd;
		log_warn("%s from uid %ld refused", what, uid == (uid_t)-1 ?
		    -1L : (long)uid);
		close(fd);
	}
	return -1;
}

/*
 * ipc_listen_type - bind a SEQPACKET (stream: a SOCK_STREAM) socket at
 * path.  A stale socket is removed; anything else at that path is left alone (EEXIST).  The socket directory
 * (private/, 0700) keeps others out during the moment between bind and chmod.
 */
static int
ipc_listen_type(const char *path, mode_t mode, int backlog, int stream)
{
	struct sockaddr_un sun;
	struct stat st;
	int	 s, saved;

	if (ipc_sockaddr(&sun, path) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		if (unlink(path) == -1)
			return -1;
	} else if (errno != ENOENT)
		return -1;
	if ((s = socket(AF_UNIX, (stream ? SOCK_STREAM : SOCK_SEQPACKET) |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
	if (chmod(path, mode) == -1 || listen(s, backlog) == -1) {
		saved = errno;
		unlink(path);
		errno = saved;
		goto fail;
	}
	return s;
fail:
	saved = errno;
	close(s);
	errno = saved;
	return -1;
}

/* ipc_listen - see ipc.h */
int
ipc_listen(const char *path, mode_t mode, int backlog)
{
	return ipc_listen_type(path, mode, backlog, 0);
}

/* ipc_listen_stream - see ipc.h */
int
ipc_listen_stream(const char *path, mode_t mode, int backlog)
{
	return ipc_listen_type(path, mode, backlog, 1);
}

/* ipc_serve_request - see ipc.h */
int
ipc_serve_request(int fd, uid_t peer, unsigned role, struct ipc_msg *m)
{
	struct timeval tv = { 30, 0 };
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;

	if (ipc_peer_cred(fd, &uid, &gid, &pid) == -1 ||
	    (uid != 0 && uid != peer)) {
		log_warn("connection from uid %ld refused", (long)uid);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (ipc_recv(fd, 0, m) != 1)
		return -1;
	if (ipc_hello_check(m, IPC_R_QMGR) == -1 ||
	    ipc_hello_reply(fd, role) == -1) {
		ipc_msg_free(m);
		return -1;
	}
	ipc_msg_free(m);
	return ipc_recv(fd, IPC_R_QMGR, m) == 1 ? 0 : -1;
}

/* ipc_open - see ipc.h */
int
ipc_open(const char *path, unsigned role)
{
	struct sockaddr_un sun;
	struct ipc_out o;
	int	 fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		r = errno;
		close(fd);
		errno = r;
		return -1;
	}
	ipc_out_init(&o);
	ipc_put_u32(&o, IPC_VERSION);
	ipc_put_u32(&o, role);
	r = ipc_send_out(fd, IPC_HELLO, &o, -1);
	ipc_out_free(&o);
	if (r == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ipc_connect - connect to a SEQPACKET socket; blocking */
int
ipc_connect(const char *path)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	socklen_t len;
	int	 s, r, soerr, saved;

	if (ipc_sockaddr(&sun, path) == -1)
		return -1;
	if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return s;
	if (errno != EINTR)
		goto fail;
	/* interrupted: the connect goes on; wait for its outcome */
	pfd.fd = s;
	pfd.events = POLLOUT;
	do {
		r = poll(&pfd, 1, -1);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		goto fail;
	len = sizeof(soerr);
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		goto fail;
	if (soerr == 0)
		return s;
	errno = soerr;
fail:
	saved = errno;
	close(s);
	errno = saved;
	return -1;
}
