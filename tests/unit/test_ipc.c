/*
 * test_ipc.c - unit tests for lib/server/ipc: the frame table, the codec, fd
 * passing and every reject path (malformed frames first), over
 * socketpair(AF_UNIX, SOCK_SEQPACKET) and a listening socket.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkim.h"
#include "ipc.h"
#include "t.h"
#include "util.h"

#define TI_MAXRAW	(IPC_HDR + IPC_MAX_PAYLOAD + 64)

/* ti_count_fds - open descriptors of this process */
static int
ti_count_fds(void)
{
	DIR	*d;
	struct dirent *e;
	int	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;		/* the DIR's own descriptor */
}

/* ti_pair - a connected SEQPACKET pair */
static void
ti_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
}

/* ti_put32 - big-endian u32 into p */
static void
ti_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* ti_send_raw - one packet of raw bytes, nfd copies of fd alongside */
static int
ti_send_raw(int s, const void *p, size_t len, int fd, int nfd)
{
	struct iovec iov;
	struct msghdr mh;
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr *c;
	int	 i;

	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfd > 0) {
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
		for (i = 0; i < nfd; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd,
			    sizeof(int));
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* ti_frame - header (type, hdrlen) followed by plen payload bytes of 'x' */
static size_t
ti_frame(unsigned char *out, uint32_t type, uint32_t hdrlen, size_t plen)
{
	ti_put32(out, type);
	ti_put32(out + 4, hdrlen);
	memset(out + IPC_HDR, 'x', plen);
	return IPC_HDR + plen;
}

struct ti_bad {
	const char	*what;
	uint32_t	 type;
	uint32_t	 hdrlen;	/* length claimed in the header */
	size_t		 plen;		/* payload bytes actually sent */
	size_t		 rawlen;	/* nonzero: send only these bytes */
	unsigned	 role;		/* peer role given to ipc_recv */
	int		 nfd;		/* descriptors passed along */
	const char	*reason;	/* expected ipc_reject_reason() */
};

static const struct ti_bad ti_bads[] = {
	{ "empty-ish: 3 byte packet", IPC_HELLO, 8, 8, 3, 0, 0,
	    "short header" },
	{ "header only, 7 bytes", IPC_HELLO, 8, 8, 7, 0, 0, "short header" },
	{ "unknown type 0", 0, 8, 8, 0, IPC_R_SMTPD, 0,
	    "unknown message type" },
	{ "unknown type 99", 99, 8, 8, 0, IPC_R_SMTPD, 0,
	    "unknown message type" },
	{ "unknown type IPC_TYPE_MAX", IPC_TYPE_MAX, 4, 4, 0, IPC_R_SMTPD, 0,
	    "unknown message type" },
	{ "header length > packet", IPC_CTL_REQUEST, 10, 8, 0, IPC_R_MAILCTL,
	    0, "header length does not match the packet" },
	{ "header length < packet", IPC_CTL_REQUEST, 4, 8, 0, IPC_R_MAILCTL,
	    0, "header length does not match the packet" },
	{ "header length huge", IPC_CTL_REQUEST, 0xffffffffu, 8, 0,
	    IPC_R_MAILCTL, 0, "header length does not match the packet" },
	{ "oversize packet", IPC_CTL_REQUEST, IPC_MAX_PAYLOAD + 1,
	    IPC_MAX_PAYLOAD + 1, 0, IPC_R_MAILCTL, 0, "frame too large" },
	{ "oversize packet, huge", IPC_CTL_REQUEST, IPC_MAX_PAYLOAD + 32,
	    IPC_MAX_PAYLOAD + 32, 0, IPC_R_MAILCTL, 0, "frame too large" },
	{ "non-HELLO before handshake", IPC_QMGR_NEW, 20, 20, 0, 0, 0,
	    "first frame is not HELLO" },
	{ "QMGR_NEW from local", IPC_QMGR_NEW, 20, 20, 0, IPC_R_LOCAL, 0,
	    "message type not allowed from this peer" },
	{ "LOCAL_DELIVER from smtpd", IPC_LOCAL_DELIVER, 40, 40, 0,
	    IPC_R_SMTPD, 1, "message type not allowed from this peer" },
	{ "CTL_REQUEST from smtpd", IPC_CTL_REQUEST, 8, 8, 0, IPC_R_SMTPD, 0,
	    "message type not allowed from this peer" },
	{ "CTL_REPLY from mailctl", IPC_CTL_REPLY, 8, 8, 0, IPC_R_MAILCTL, 0,
	    "message type not allowed from this peer" },
	{ "AUTH_RCPT_REPLY from smtpd", IPC_AUTH_RCPT_REPLY, 8, 8, 0,
	    IPC_R_SMTPD, 0, "message type not allowed from this peer" },
	{ "HELLO too short", IPC_HELLO, 7, 7, 0, 0, 0,
	    "payload too short for its type" },
	{ "HELLO too long", IPC_HELLO, 9, 9, 0, 0, 0,
	    "payload too long for its type" },
	{ "QMGR_NEW too short", IPC_QMGR_NEW, 19, 19, 0, IPC_R_SMTPD, 0,
	    "payload too short for its type" },
	{ "QMGR_NEW too long", IPC_QMGR_NEW, 21, 21, 0, IPC_R_SMTPD, 0,
	    "payload too long for its type" },
	{ "AUTH_RCPT_REPLY too long", IPC_AUTH_RCPT_REPLY, 12, 12, 0,
	    IPC_R_AUTH, 0, "payload too long for its type" },
	{ "CTL_REQUEST empty", IPC_CTL_REQUEST, 0, 0, 0, IPC_R_MAILCTL, 0,
	    "payload too short for its type" },
	{ "LOCAL_DELIVER without fd", IPC_LOCAL_DELIVER, 40, 40, 0,
	    IPC_R_QMGR, 0, "descriptor missing" },
	{ "QMGR_NEW with unexpected fd", IPC_QMGR_NEW, 20, 20, 0,
	    IPC_R_SMTPD, 1, "unexpected descriptor" },
	{ "HELLO with unexpected fd", IPC_HELLO, 8, 8, 0, 0, 1,
	    "unexpected descriptor" },
	{ "LOCAL_DELIVER with two fds", IPC_LOCAL_DELIVER, 40, 40, 0,
	    IPC_R_QMGR, 2, "more than one descriptor" },
	{ "CTL_REPLY with three fds", IPC_CTL_REPLY, 8, 8, 0, IPC_R_QMGR, 3,
	    "more than one descriptor" },
	{ "bad frame with fd and bad length", IPC_LOCAL_DELIVER, 99, 40, 0,
	    IPC_R_QMGR, 1, "header length does not match the packet" },
	{ "unknown type with fd", 77, 8, 8, 0, IPC_R_QMGR, 1,
	    "unknown message type" },
	/* local submission: any local user is at the other end */
	{ "PICKUP_MAIL from smtpd", IPC_PICKUP_MAIL, 12, 12, 0, IPC_R_SMTPD,
	    0, "message type not allowed from this peer" },
	{ "PICKUP_REPLY from sendmail", IPC_PICKUP_REPLY, 12, 12, 0,
	    IPC_R_SENDMAIL, 0, "message type not allowed from this peer" },
	{ "QMGR_NEW from sendmail", IPC_QMGR_NEW, 20, 20, 0, IPC_R_SENDMAIL,
	    0, "message type not allowed from this peer" },
	{ "DKIM_SIGN from sendmail", IPC_DKIM_SIGN, 60, 60, 0,
	    IPC_R_SENDMAIL, 0, "message type not allowed from this peer" },
	{ "PICKUP_DATA empty", IPC_PICKUP_DATA, 0, 0, 0, IPC_R_SENDMAIL, 0,
	    "payload too short for its type" },
	{ "PICKUP_BEGIN with a payload", IPC_PICKUP_BEGIN, 1, 1, 0,
	    IPC_R_SENDMAIL, 0, "payload too long for its type" },
	{ "PICKUP_MAIL too long", IPC_PICKUP_MAIL, 4 + 4 + 1024 + 4 +
	    IPC_PICKUP_NAME_MAX + 1, 4 + 4 + 1024 + 4 + IPC_PICKUP_NAME_MAX +
	    1, 0, IPC_R_SENDMAIL, 0, "payload too long for its type" },
	{ "PICKUP_DATA with a descriptor", IPC_PICKUP_DATA, 8, 8, 0,
	    IPC_R_SENDMAIL, 1, "unexpected descriptor" },
};

/* ti_rejects - every malformed frame is refused and leaks no descriptor */
static void
ti_rejects(void)
{
	const struct ti_bad *b;
	struct ipc_msg m;
	unsigned char *raw;
	size_t	 i, n;
	int	 sv[2], pfd[2], before, after, r, e;

	raw = xmalloc(TI_MAXRAW);
	for (i = 0; i < NELEM(ti_bads); i++) {
		b = &ti_bads[i];
		ti_pair(sv);
		if (pipe(pfd) == -1)
			exit(1);
		n = ti_frame(raw, b->type, b->hdrlen, b->plen);
		if (b->rawlen != 0)
			n = b->rawlen;
		if (ti_send_raw(sv[0], raw, n, pfd[0], b->nfd) == -1) {
			T_OK(0, "%s: send: %s", b->what, strerror(errno));
			continue;
		}
		close(pfd[0]);
		before = ti_count_fds();
		r = ipc_recv(sv[1], b->role, &m);
		e = errno;
		after = ti_count_fds();
		T_OK(r == -1 && e == EPROTO, "%s: rejected with EPROTO (r=%d)",
		    b->what, r);
		T_EQ_STR(ipc_reject_reason(), b->reason, b->what);
		T_OK(m.payload == NULL && m.fd == -1, "%s: msg left empty",
		    b->what);
		T_EQ_INT(after, before, "no descriptor leaked");
		/* the pipe's write end now has no reader: the fd was closed */
		T_OK(write(pfd[1], "x", 1) == -1 && errno == EPIPE,
		    "%s: passed descriptor closed", b->what);
		close(pfd[1]);
		close(sv[0]);
		close(sv[1]);
	}
	free(raw);
}

/* ti_getters - bounds, stickiness, trailing bytes, NUL in str */
static void
ti_getters(void)
{
	struct ipc_msg m;
	struct ipc_in in;
	unsigned char p[64];
	const unsigned char *v;
	size_t	 n;
	char	*s;

	memset(&m, 0, sizeof(m));
	m.payload = p;
	m.fd = -1;

	/* u32 from 3 bytes */
	m.len = 3;
	ipc_in_init(&in, &m);
	T_EQ_INT(ipc_get_u32(&in), 0, "u32 past the end reads 0");
	T_OK(in.err == EPROTO, "u32 past the end sets err");
	T_EQ_INT(ipc_get_u32(&in), 0, "error is sticky");
	T_EQ_INT(ipc_get_end(&in), -1, "end fails after error");

	/* u64 from 7 bytes */
	m.len = 7;
	ipc_in_init(&in, &m);
	(void)ipc_get_u64(&in);
	T_OK(in.err != 0 && in.off == 0, "u64 past the end fails, no advance");

	/* str length beyond payload */
	ti_put32(p, 10);
	memcpy(p + 4, "abc", 3);
	m.len = 7;
	ipc_in_init(&in, &m);
	T_OK(ipc_get_str(&in, 100) == NULL && in.err != 0,
	    "str longer than the payload");

	/* str length over max */
	ti_put32(p, 3);
	m.len = 7;
	ipc_in_init(&in, &m);
	T_OK(ipc_get_str(&in, 2) == NULL && in.err != 0, "str over max");
	ipc_in_init(&in, &m);
	s = ipc_get_str(&in, 3);
	T_EQ_STR(s, "abc", "str at exactly max");
	free(s);
	T_EQ_INT(ipc_get_end(&in), 0, "all consumed");

	/* embedded NUL */
	memcpy(p + 4, "a\0c", 3);
	ipc_in_init(&in, &m);
	T_OK(ipc_get_str(&in, 100) == NULL && in.err != 0, "NUL inside str");
	ipc_in_init(&in, &m);
	v = ipc_get_bytes(&in, 100, &n);
	T_OK(v != NULL && n == 3 && v[1] == '\0', "bytes may hold NUL");

	/* huge length must not wrap the bounds check */
	ti_put32(p, 0xffffffffu);
	m.len = 7;
	ipc_in_init(&in, &m);
	T_OK(ipc_get_bytes(&in, SIZE_MAX, &n) == NULL && n == 0,
	    "length 2^32-1 rejected");

	/* trailing bytes */
	ti_put32(p, 5);
	p[4] = 1;
	m.len = 5;
	ipc_in_init(&in, &m);
	T_EQ_INT(ipc_get_u32(&in), 5, "u32 value");
	T_EQ_INT(ipc_get_end(&in), -1, "trailing byte rejected");
	T_EQ_INT(errno, EPROTO, "trailing byte errno");

	/* empty payload */
	m.len = 0;
	m.payload = NULL;
	ipc_in_init(&in, &m);
	T_EQ_INT(ipc_get_end(&in), 0, "empty payload ends fine");
	(void)ipc_get_u32(&in);
	T_EQ_INT(ipc_get_end(&in), -1, "empty payload, getter fails");
}

/* ti_encoder - the encoder's bound and stickiness */
static void
ti_encoder(void)
{
	struct ipc_out o;
	char	*big;
	int	 sv[2];

	big = xmalloc(IPC_MAX_PAYLOAD + 1);
	memset(big, 'a', IPC_MAX_PAYLOAD);
	big[IPC_MAX_PAYLOAD] = '\0';
	ipc_out_init(&o);
	T_EQ_INT(ipc_put_u32(&o, 1), 0, "put u32");
	T_EQ_INT(ipc_put_str(&o, big), -1, "str over the frame limit");
	T_EQ_INT(o.b.len, 4, "failed put leaves nothing behind");
	T_EQ_INT(ipc_put_u32(&o, 2), -1, "encoder error is sticky");
	ti_pair(sv);
	T_EQ_INT(ipc_send_out(sv[0], IPC_CTL_REQUEST, &o, -1), -1,
	    "failed encoder is not sent");
	ipc_out_free(&o);

	ipc_out_init(&o);
	T_EQ_INT(ipc_put_str(&o, NULL), -1, "NULL str refused");
	ipc_out_free(&o);

	/* exactly the maximum is fine */
	ipc_out_init(&o);
	big[IPC_MAX_PAYLOAD - 8] = '\0';
	T_EQ_INT(ipc_put_u32(&o, 1), 0, "put u32");
	T_EQ_INT(ipc_put_str(&o, big), 0, "str filling the frame");
	T_EQ_INT(o.b.len, IPC_MAX_PAYLOAD, "frame at the maximum");
	T_EQ_INT(ipc_send_out(sv[0], IPC_CTL_REQUEST, &o, -1), 0,
	    "maximum frame sent");
	ipc_out_free(&o);
	{
		struct ipc_msg m;

		T_EQ_INT(ipc_recv(sv[1], IPC_R_MAILCTL, &m), 1,
		    "maximum frame received");
		T_EQ_INT(m.len, IPC_MAX_PAYLOAD, "maximum frame length");
		ipc_msg_free(&m);
	}

	/* the sender checks the table too */
	T_OK(ipc_send(sv[0], 99, "x", 1, -1) == -1 && errno == EINVAL,
	    "send unknown type refused");
	T_OK(ipc_send(sv[0], IPC_HELLO, "1234567", 7, -1) == -1 &&
	    errno == EINVAL, "send short HELLO refused");
	T_OK(ipc_send(sv[0], IPC_LOCAL_DELIVER, big, 40, -1) == -1 &&
	    errno == EINVAL, "send LOCAL_DELIVER without fd refused");
	T_OK(ipc_send(sv[0], IPC_QMGR_NEW, big, 20, 0) == -1 &&
	    errno == EINVAL, "send QMGR_NEW with fd refused");
	close(sv[0]);
	close(sv[1]);
	free(big);
}

/* ti_hello - handshake checks */
static void
ti_hello(void)
{
	struct ipc_msg m;
	unsigned char p[8];
	int	 sv[2], r;
	static const struct {
		const char	*what;
		uint32_t	 version, role;
		unsigned	 allowed;
		int		 want;
	} cases[] = {
		{ "bad version 0", 0, IPC_R_SMTPD, IPC_R_SMTPD, -1 },
		{ "bad version 2", 2, IPC_R_SMTPD, IPC_R_SMTPD, -1 },
		{ "role 0", IPC_VERSION, 0, 0xff, -1 },
		{ "two roles", IPC_VERSION, IPC_R_SMTPD | IPC_R_QMGR, 0xff,
		    -1 },
		{ "unknown role bit", IPC_VERSION, 0x400, 0xfff, -1 },
		{ "sendmail where it is not served", IPC_VERSION,
		    IPC_R_SENDMAIL, IPC_R_SMTPD | IPC_R_QMGR, -1 },
		{ "role not served", IPC_VERSION, IPC_R_LOCAL, IPC_R_SMTPD,
		    -1 },
		{ "good", IPC_VERSION, IPC_R_SMTPD, IPC_R_SMTPD | IPC_R_LOCAL,
		    IPC_R_SMTPD },
	};
	size_t	 i;

	for (i = 0; i < NELEM(cases); i++) {
		ti_pair(sv);
		ti_put32(p, cases[i].version);
		ti_put32(p + 4, cases[i].role);
		T_EQ_INT(ipc_send(sv[0], IPC_HELLO, p, 8, -1), 0, "send HELLO");
		r = ipc_recv(sv[1], 0, &m);
		T_EQ_INT(r, 1, "HELLO frame passes the table");
		r = ipc_hello_check(&m, cases[i].allowed);
		T_EQ_INT(r, cases[i].want, cases[i].what);
		ipc_msg_free(&m);
		close(sv[0]);
		close(sv[1]);
	}

	/* client side: the server answers with the wrong role */
	ti_pair(sv);
	T_EQ_INT(ipc_hello_reply(sv[1], IPC_R_AUTH), 0, "server HELLO queued");
	T_OK(ipc_hello_client(sv[0], IPC_R_SMTPD, IPC_R_QMGR) == -1 &&
	    errno == EPROTO, "client rejects unexpected server role");
	T_EQ_INT(ipc_recv(sv[1], 0, &m), 1, "server got the client HELLO");
	T_EQ_INT(ipc_hello_check(&m, IPC_R_SMTPD), IPC_R_SMTPD,
	    "client HELLO names its role");
	ipc_msg_free(&m);
	close(sv[0]);
	close(sv[1]);

	/* a HELLO read with the expected role already given is still passed */
	ti_pair(sv);
	T_EQ_INT(ipc_hello_reply(sv[1], IPC_R_AUTH), 0, "auth HELLO queued");
	T_EQ_INT(ipc_recv(sv[0], IPC_R_AUTH, &m), 1,
	    "HELLO with the peer role preset is accepted");
	T_EQ_INT(ipc_hello_check(&m, IPC_R_AUTH), IPC_R_AUTH, "auth role");
	ipc_msg_free(&m);
	close(sv[0]);
	close(sv[1]);

	/* client side: the peer closes instead of answering */
	ti_pair(sv);
	close(sv[1]);
	T_OK(ipc_hello_client(sv[0], IPC_R_SMTPD, IPC_R_QMGR) == -1,
	    "client fails when the server is gone");
	close(sv[0]);

	/* client side: good answer */
	ti_pair(sv);
	T_EQ_INT(ipc_hello_reply(sv[1], IPC_R_QMGR), 0, "server HELLO queued");
	T_EQ_INT(ipc_hello_client(sv[0], IPC_R_SMTPD, IPC_R_QMGR), 0,
	    "client handshake ok");
	close(sv[0]);
	close(sv[1]);
}

/* ti_roundtrip_one - send o as type from role, receive, return msg */
static int
ti_roundtrip_one(uint32_t type, unsigned role, struct ipc_out *o, int fd,
    struct ipc_msg *m)
{
	int	 sv[2], r;

	ti_pair(sv);
	if (ipc_send_out(sv[0], type, o, fd) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	r = ipc_recv(sv[1], role, m);
	close(sv[0]);
	close(sv[1]);
	return r;
}

/* ti_roundtrips - every type encoded, sent, received and decoded */
static void
ti_roundtrips(void)
{
	struct ipc_out o;
	struct ipc_msg m;
	struct ipc_in in;
	char	*s, *s2, buf[16];
	int	 pfd[2];
	uint32_t n;

	/* HELLO */
	ipc_out_init(&o);
	ipc_put_u32(&o, IPC_VERSION);
	ipc_put_u32(&o, IPC_R_SMTP);
	T_EQ_INT(ti_roundtrip_one(IPC_HELLO, 0, &o, -1, &m), 1, "HELLO");
	T_EQ_INT(ipc_hello_check(&m, IPC_R_SMTP), IPC_R_SMTP, "HELLO role");
	ipc_msg_free(&m);
	ipc_out_free(&o);

	/* QMGR_NEW */
	ipc_out_init(&o);
	ipc_put_str(&o, "0123456789ABCDEF");
	T_EQ_INT(ti_roundtrip_one(IPC_QMGR_NEW, IPC_R_SMTPD, &o, -1, &m), 1,
	    "QMGR_NEW");
	ipc_in_init(&in, &m);
	s = ipc_get_str(&in, 16);
	T_EQ_STR(s, "0123456789ABCDEF", "QMGR_NEW qid");
	T_EQ_INT(ipc_get_end(&in), 0, "QMGR_NEW end");
	T_OK(m.payload[m.len] == '\0', "payload NUL-terminated");
	free(s);
	ipc_msg_free(&m);
	ipc_out_free(&o);

	/* AUTH_RCPT, from smtpd and from local */
	ipc_out_init(&o);
	ipc_put_u32(&o, 7);
	ipc_put_str(&o, "user");
	ipc_put_str(&o, "example.org");
	T_EQ_INT(ti_roundtrip_one(IPC_AUTH_RCPT, IPC_R_SMTPD, &o, -1, &m), 1,
	    "AUTH_RCPT from smtpd");
	ipc_in_init(&in, &m);
	T_EQ_INT(ipc_get_u32(&in), 7, "AUTH_RCPT id");
	s = ipc_get_str(&in, 1024);
	s2 = ipc_get_str(&in, 1024);
	T_EQ_STR(s, "user", "AUTH_RCPT local");
	T_EQ_STR(s2, "example.org", "AUTH_RCPT domain");
	T_EQ_INT(ipc_get_end(&in), 0, "AUTH_RCPT end");
	free(s);
	free(s2);
	ipc_msg_free(&m);
	T_EQ_INT(ti_roundtrip_one(IPC_AUTH_RCPT, IPC_R_LOCAL, &o, -1, &m), 1,
	    "AUTH_RCPT from local");
	ipc_msg_free(&m);
	ipc_out_free(&o);

	/* AUTH_RCPT_REPLY */
	ipc_out_init(&o);
	ipc_put_u32(&o, 7);
	ipc_put_u32(&o, IPC_LOOKUP_NOUSER);
	T_EQ_INT(ti_roundtrip_one(IPC_AUTH_RCPT_REPLY, IPC_R_AUTH, &o, -1,
	    &m), 1, "AUTH_RCPT_REPLY");
	ipc_in_init(&in, &m);
	T_EQ_INT(ipc_get_u32(&in), 7, "reply id");
	T_EQ_INT(ipc_get_u32(&in), IPC_LOOKUP_NOUSER, "reply status");
	T_EQ_INT(ipc_get_end(&in), 0, "reply end");
	ipc_msg_free(&m);
	ipc_out_free(&o);

	/* LOCAL_DELIVER with a pipe end: write through the received fd */
	if (pipe(pfd) == -1)
		exit(1);
	ipc_out_init(&o);
	ipc_put_str(&o, "0123456789ABCDEF");
	ipc_put_str(&o, "");
	ipc_put_u32(&o, 2);
	ipc_put_u32(&o, 0);
	ipc_put_str(&o, "a@example.org");
	ipc_put_u32(&o, 3);
	ipc_put_str(&o, "b@example.org");
	T_EQ_INT(ti_roundtrip_one(IPC_LOCAL_DELIVER, IPC_R_QMGR, &o, pfd[1],
	    &m), 1, "LOCAL_DELIVER");
	close(pfd[1]);
	T_OK(m.fd >= 0, "LOCAL_DELIVER carries an fd");
	T_OK((fcntl(m.fd, F_GETFD) & FD_CLOEXEC) != 0, "received fd CLOEXEC");
	T_EQ_INT(write(m.fd, "hello", 5), 5, "write through passed fd");
	memset(buf, 0, sizeof(buf));
	T_EQ_INT(read(pfd[0], buf, sizeof(buf) - 1), 5, "read other end");
	T_EQ_STR(buf, "hello", "bytes came through");
	ipc_in_init(&in, &m);
	s = ipc_get_str(&in, 16);
	s2 = ipc_get_str(&in, 1024);
	T_EQ_STR(s, "0123456789ABCDEF", "deliver qid");
	T_EQ_STR(s2, "", "deliver null sender");
	free(s);
	free(s2);
	n = ipc_get_u32(&in);
	T_EQ_INT(n, 2, "deliver n");
	T_EQ_INT(ipc_get_u32(&in), 0, "deliver idx 0");
	s = ipc_get_str(&in, 1024);
	T_EQ_STR(s, "a@example.org", "deliver addr 0");
	free(s);
	T_EQ_INT(ipc_get_u32(&in), 3, "deliver idx 1");
	s = ipc_get_str(&in, 1024);
	T_EQ_STR(s, "b@example.org", "deliver addr 1");
	free(s);
	T_EQ_INT(ipc_get_end(&in), 0, "deliver end");
	ipc_msg_free(&m);
	T_OK(m.fd == -1, "msg_free closes the fd");
	T_EQ_INT(read(pfd[0], buf, 1), 0, "pipe sees EOF: passed fd closed");
	close(pfd[0]);
	ipc_out_free(&o);

	/* LOCAL_RESULT */
	ipc_out_init(&o);
	ipc_put_str(&o, "0123456789ABCDEF");
	ipc_put_u32(&o, 1);
	ipc_put_u32(&o, 0);
	ipc_put_u32(&o, IPC_DLV_EXPANDED);
	ipc_put_str(&o, "alias");
	ipc_put_u32(&o, 1);
	ipc_put_u32(&o, 0);
	ipc_put_str(&o, "c@example.org");
	T_EQ_INT(ti_roundtrip_one(IPC_LOCAL_RESULT, IPC_R_LOCAL, &o, -1, &m),
	    1, "LOCAL_RESULT");
	ipc_in_init(&in, &m);
	free(ipc_get_str(&in, 16));
	T_EQ_INT(ipc_get_u32(&in), 1, "result n");
	T_EQ_INT(ipc_get_u32(&in), 0, "result idx");
	T_EQ_INT(ipc_get_u32(&in), IPC_DLV_EXPANDED, "result status");
	s = ipc_get_str(&in, 4096);
	T_EQ_STR(s, "alias", "result text");
	free(s);
	T_EQ_INT(ipc_get_u32(&in), 1, "result m");
	T_EQ_INT(ipc_get_u32(&in), 0, "result parent");
	s = ipc_get_str(&in, 1024);
	T_EQ_STR(s, "c@example.org", "result new addr");
	free(s);
	T_EQ_INT(ipc_get_end(&in), 0, "result end");
	ipc_msg_free(&m);
	ipc_out_free(&o);

	/* CTL_REQUEST */
	ipc_out_init(&o);
	ipc_put_u32(&o, 2);
	ipc_put_str(&o, "queue");
	ipc_put_str(&o, "list");
	T_EQ_INT(ti_roundtrip_one(IPC_CTL_REQUEST, IPC_R_MAILCTL, &o, -1, &m),
	    1, "CTL_REQUEST");
	ipc_in_init(&in, &m);
	T_EQ_INT(ipc_get_u32(&in), 2, "ctl argc");
	s = ipc_get_str(&in, 256);
	s2 = ipc_get_str(&in, 256);
	T_OK(s != NULL && s2 != NULL && strcmp(s, "queue") == 0 &&
	    strcmp(s2, "list") == 0, "ctl argv");
	free(s);
	free(s2);
	T_EQ_INT(ipc_get_end(&in), 0, "ctl end");
	ipc_msg_free(&m);
	ipc_out_free(&o);

	/* CTL_REPLY from master and from qmgr, with a u64 too */
	ipc_out_init(&o);
	ipc_put_u32(&o, 0);
	ipc_put_str(&o, "ok");
	T_EQ_INT(ti_roundtrip_one(IPC_CTL_REPLY, IPC_R_MASTER, &o, -1, &m), 1,
	    "CTL_REPLY from master");
	ipc_msg_free(&m);
	T_EQ_INT(ti_roundtrip_one(IPC_CTL_REPLY, IPC_R_QMGR, &o, -1, &m), 1,
	    "CTL_REPLY from qmgr");
	ipc_msg_free(&m);
	ipc_out_free(&o);
	ipc_out_init(&o);
	ipc_put_u32(&o, 1);
	ipc_put_u64(&o, UINT64_C(0x0102030405060708));
	T_EQ_INT(ti_roundtrip_one(IPC_CTL_REPLY, IPC_R_QMGR, &o, -1, &m), 1,
	    "CTL_REPLY u64");
	ipc_in_init(&in, &m);
	T_EQ_INT(ipc_get_u32(&in), 1, "u32 before u64");
	T_OK(ipc_get_u64(&in) == UINT64_C(0x0102030405060708), "u64 value");
	T_EQ_INT(ipc_get_end(&in), 0, "u64 end");
	ipc_msg_free(&m);
	ipc_out_free(&o);
}

/* ti_table - the table is complete and consistent */
static void
ti_table(void)
{
	uint32_t t;
	const struct ipc_def *d;

	for (t = IPC_HELLO; t < IPC_TYPE_MAX; t++) {
		d = ipc_def_find(t);
		T_OK(d != NULL && d->senders != 0 && d->minlen <= d->maxlen &&
		    d->maxlen <= IPC_MAX_PAYLOAD, "table row for type %u (%s)",
		    (unsigned)t, d != NULL ? d->name : "missing");
	}
	T_OK(ipc_def_find(0) == NULL && ipc_def_find(IPC_TYPE_MAX) == NULL,
	    "no rows outside the enum");
	d = ipc_def_find(IPC_LOCAL_DELIVER);
	T_OK(d->fd == IPC_FD_REQUIRED && d->senders == IPC_R_QMGR,
	    "LOCAL_DELIVER: qmgr only, fd required");
	d = ipc_def_find(IPC_HELLO);
	T_OK(d->minlen == 8 && d->maxlen == 8, "HELLO exactly 8 bytes");
	d = ipc_def_find(IPC_METRICS);
	T_OK(d->fd == IPC_FD_NONE && d->senders == (IPC_R_SMTPD | IPC_R_QMGR |
	    IPC_R_MASTER), "METRICS: from smtpd, qmgr and master, no fd");
	d = ipc_def_find(IPC_CTL_REQUEST);
	T_OK(d->senders == IPC_R_MAILCTL, "CTL_REQUEST from mailctl only");
	d = ipc_def_find(IPC_CTL_REPLY);
	T_OK(d->senders == (IPC_R_MASTER | IPC_R_QMGR),
	    "CTL_REPLY from master or qmgr");
	for (t = IPC_PICKUP_MAIL; t <= IPC_PICKUP_END; t++)
		T_OK(ipc_def_find(t)->senders == IPC_R_SENDMAIL,
		    "%s from sendmail only", ipc_def_find(t)->name);
	T_OK(ipc_def_find(IPC_PICKUP_REPLY)->senders == IPC_R_PICKUP,
	    "PICKUP_REPLY from pickup only");
	T_OK(ipc_def_find(IPC_QMGR_NEW)->senders == (IPC_R_SMTPD |
	    IPC_R_PICKUP), "QMGR_NEW from smtpd or pickup");
	T_OK(ipc_def_find(IPC_PICKUP_BEGIN)->maxlen == 0 &&
	    ipc_def_find(IPC_PICKUP_END)->maxlen == 0,
	    "BEGIN and END carry nothing");
}

/* ti_sockets - listen, connect, peer credentials, EOF, stale socket */
static void
ti_sockets(void)
{
	char	 dir[] = "/tmp/test_ipc.XXXXXX", path[128], file[128];
	struct stat st;
	struct ipc_msg m;
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;
	int	 ls, cs, as, fd;

	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	ls = ipc_listen(path, 0600, 16);
	T_OK(ls >= 0, "listen");
	T_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "socket mode 0600");
	cs = ipc_connect(path);
	T_OK(cs >= 0, "connect");
	as = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	T_OK(as >= 0, "accept");
	T_EQ_INT(ipc_peer_cred(as, &uid, &gid, &pid), 0, "peer cred");
	T_OK(uid == getuid() && gid == getgid() && pid == getpid(),
	    "peer is us");
	T_EQ_INT(ipc_hello_reply(as, IPC_R_QMGR), 0, "server hello");
	T_EQ_INT(ipc_hello_client(cs, IPC_R_SMTPD, IPC_R_QMGR), 0,
	    "client hello over a real socket");
	T_EQ_INT(ipc_recv(as, 0, &m), 1, "server got hello");
	T_EQ_INT(ipc_hello_check(&m, IPC_R_SMTPD), IPC_R_SMTPD, "role smtpd");
	ipc_msg_free(&m);
	close(cs);
	T_EQ_INT(ipc_recv(as, IPC_R_SMTPD, &m), 0, "EOF is 0");
	close(as);
	close(ls);

	/* stale socket is replaced; a regular file is not touched */
	ls = ipc_listen(path, 0660, 16);
	T_OK(ls >= 0, "listen over a stale socket");
	T_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0660,
	    "socket mode 0660");
	close(ls);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	T_OK(ipc_listen(file, 0600, 1) == -1 && errno == EEXIST,
	    "regular file at the path is refused");
	T_OK(access(file, F_OK) == 0, "regular file left alone");
	T_OK(ipc_connect(file) == -1, "connect to a non-socket fails");
	unlink(path);
	T_OK(ipc_connect(path) == -1 && errno == ENOENT,
	    "connect to a missing socket");
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	T_OK(ipc_listen(path, 0600, 1) == -1 && errno == ENAMETOOLONG,
	    "path too long");
	unlink(file);
	rmdir(dir);

	/* non-blocking receive with nothing there */
	{
		int	 sv[2];

		ti_pair(sv);
		util_set_nonblock(sv[1], 1);
		T_OK(ipc_recv(sv[1], 0, &m) == -1 && errno == EAGAIN,
		    "EAGAIN on an empty non-blocking socket");
		close(sv[0]);
		close(sv[1]);
	}
}

/* ti_next - the server side: HELLO answered, frames handed over, drops */
static void
ti_next(void)
{
	struct ipc_msg m;
	struct ipc_out o;
	unsigned char p[8], hdr[8];
	unsigned role = 0;
	int	 sv[2];

	ti_pair(sv);
	util_set_nonblock(sv[1], 1);
	T_EQ_INT(ipc_next(sv[1], &role, IPC_R_SMTPD, IPC_R_AUTH, &m), 0,
	    "nothing yet: 0");
	ti_put32(p, IPC_VERSION);
	ti_put32(p + 4, IPC_R_SMTPD);
	T_EQ_INT(ipc_send(sv[0], IPC_HELLO, p, 8, -1), 0, "client HELLO");
	T_EQ_INT(ipc_next(sv[1], &role, IPC_R_SMTPD, IPC_R_AUTH, &m), 0,
	    "HELLO taken, nothing more: 0");
	T_EQ_INT(role, IPC_R_SMTPD, "role learnt");
	T_EQ_INT(ipc_recv(sv[0], 0, &m), 1, "our HELLO came back");
	T_EQ_INT(ipc_hello_check(&m, IPC_R_AUTH), IPC_R_AUTH, "as auth");
	ipc_msg_free(&m);
	ipc_out_init(&o);
	ipc_put_str(&o, "0123456789ABCDEF");
	T_EQ_INT(ipc_send_out(sv[0], IPC_QMGR_NEW, &o, -1), 0, "a frame");
	ipc_out_free(&o);
	T_EQ_INT(ipc_next(sv[1], &role, IPC_R_SMTPD, IPC_R_AUTH, &m), 1,
	    "handed over");
	T_EQ_INT(m.type, IPC_QMGR_NEW, "its type");
	ipc_msg_free(&m);
	/* a frame of a type nobody knows, written raw */
	ti_put32(hdr, 9999);
	ti_put32(hdr + 4, 0);
	T_EQ_INT(write(sv[0], hdr, sizeof(hdr)), (int)sizeof(hdr), "raw frame");
	T_EQ_INT(ipc_next(sv[1], &role, IPC_R_SMTPD, IPC_R_AUTH, &m), -1,
	    "a frame the table refuses: drop");
	close(sv[0]);
	close(sv[1]);

	ti_pair(sv);
	util_set_nonblock(sv[1], 1);
	role = 0;
	ti_put32(p, IPC_VERSION);
	ti_put32(p + 4, IPC_R_LOCAL);
	T_EQ_INT(ipc_send(sv[0], IPC_HELLO, p, 8, -1), 0, "HELLO as local");
	T_EQ_INT(ipc_next(sv[1], &role, IPC_R_SMTPD, IPC_R_AUTH, &m), -1,
	    "a role not served: drop");
	T_EQ_INT(role, 0, "no role");
	close(sv[0]);
	T_EQ_INT(ipc_next(sv[1], &role, IPC_R_SMTPD, IPC_R_AUTH, &m), -1,
	    "peer gone: drop");
	close(sv[1]);
}

/* ti_dkim - the key table decoder, the sign encoder, ipc_call */
static void
ti_dkim(void)
{
	static const struct dkim_keyref k = { "example.com", "sel",
	    DKIM_ED25519_SHA256 };
	struct dkim_keyref *keys;
	struct ipc_out o;
	struct ipc_msg m;
	struct ipc_in in;
	const unsigned char *v;
	unsigned char d[DKIM_DIGEST];
	char	*str;
	char	 longdom[300];
	size_t	 n;
	int	 sv[2];
	static const struct {
		const char *what;
		uint32_t n, alg;
		const char *dom, *sel;
		int	 ok;
	} c[] = {
		{ "one key", 1, DKIM_RSA_SHA256, "example.com", "s1", 1 },
		{ "no keys", 0, 0, NULL, NULL, 1 },
		{ "unknown algorithm", 1, 3, "example.com", "s1", 0 },
		{ "algorithm 0", 1, 0, "example.com", "s1", 0 },
		{ "count over the limit", IPC_DKIM_KEYS_MAX + 1, 1, NULL,
		    NULL, 0 },
		{ "count beyond the payload", 2, DKIM_RSA_SHA256, "example.com",
		    "s1", 0 },
		{ "domain too long", 1, DKIM_RSA_SHA256, NULL, "s1", 0 },
		{ "selector too long", 1, DKIM_RSA_SHA256, "example.com",
		    "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssss"
		    "ssssssssss", 0 },
	};
	size_t	 i;

	memset(longdom, 'a', sizeof(longdom) - 1);
	longdom[sizeof(longdom) - 1] = '\0';
	for (i = 0; i < NELEM(c); i++) {
		ipc_out_init(&o);
		ipc_put_u32(&o, c[i].n);
		if (c[i].sel != NULL) {
			ipc_put_str(&o, c[i].dom != NULL ? c[i].dom : longdom);
			ipc_put_str(&o, c[i].sel);
			ipc_put_u32(&o, c[i].alg);
		}
		memset(&m, 0, sizeof(m));
		m.payload = o.b.data;
		m.len = (uint32_t)o.b.len;
		m.fd = -1;
		ipc_in_init(&in, &m);
		keys = ipc_get_dkim_keys(&in, &n);
		T_OK((keys != NULL) == c[i].ok, "%s", c[i].what);
		if (keys != NULL && c[i].n == 1)
			T_OK(n == 1 && strcmp(keys[0].domain, c[i].dom) == 0 &&
			    strcmp(keys[0].selector, c[i].sel) == 0 &&
			    keys[0].alg == (int)c[i].alg, "decoded: %s",
			    c[i].what);
		if (keys == NULL)
			T_OK(n == 0, "no count on failure: %s", c[i].what);
		free(keys);
		ipc_out_free(&o);
	}

	/* ipc_call: the answer; another frame type; no answer; a close */
	memset(d, 7, sizeof(d));
	ti_pair(sv);
	ipc_out_init(&o);
	ipc_put_u32(&o, 9);
	ipc_put_u32(&o, IPC_DKIM_OK);
	ipc_put_bytes(&o, "sig", 3);
	T_EQ_INT(ipc_send_out(sv[1], IPC_DKIM_SIGN_REPLY, &o, -1), 0,
	    "answer queued first");
	ipc_out_free(&o);
	ipc_out_init(&o);
	ipc_put_u32(&o, 9);
	ipc_put_dkim_sign(&o, &k, d);
	T_EQ_INT(ipc_call(sv[0], IPC_DKIM_SIGN, &o, IPC_DKIM_SIGN_REPLY,
	    IPC_R_AUTH, util_mono_ms() + 2000, &m), 0, "ipc_call answered");
	T_OK(m.type == IPC_DKIM_SIGN_REPLY, "the reply type");
	ipc_msg_free(&m);
	ipc_out_free(&o);
	T_EQ_INT(ipc_recv(sv[1], IPC_R_QMGR, &m), 1, "the request arrived");
	ipc_in_init(&in, &m);
	T_EQ_INT((int)ipc_get_u32(&in), 9, "request id");
	str = ipc_get_str(&in, 255);
	T_OK(str != NULL && strcmp(str, "example.com") == 0, "domain");
	free(str);
	str = ipc_get_str(&in, 63);
	T_OK(str != NULL && strcmp(str, "sel") == 0, "selector");
	free(str);
	T_EQ_INT((int)ipc_get_u32(&in), DKIM_ED25519_SHA256, "algorithm");
	v = ipc_get_bytes(&in, DKIM_DIGEST, &n);
	T_OK(v != NULL && n == DKIM_DIGEST && memcmp(v, d, n) == 0,
	    "digest");
	T_EQ_INT(ipc_get_end(&in), 0, "nothing more in the request");
	ipc_msg_free(&m);
	ipc_out_init(&o);
	ipc_put_u32(&o, 9);
	ipc_put_u32(&o, 0);
	T_EQ_INT(ipc_send_out(sv[1], IPC_DKIM_KEYS_REPLY, &o, -1), 0,
	    "wrong answer queued");
	ipc_out_free(&o);
	ipc_out_init(&o);
	ipc_put_u32(&o, 10);
	ipc_put_dkim_sign(&o, &k, d);
	errno = 0;
	T_EQ_INT(ipc_call(sv[0], IPC_DKIM_SIGN, &o, IPC_DKIM_SIGN_REPLY,
	    IPC_R_AUTH, util_mono_ms() + 2000, &m), -1, "another type");
	T_OK(errno == EPROTO, "another type: EPROTO");
	errno = 0;
	T_EQ_INT(ipc_call(sv[0], IPC_DKIM_SIGN, &o, IPC_DKIM_SIGN_REPLY,
	    IPC_R_AUTH, util_mono_ms() + 100, &m), -1, "no answer");
	T_OK(errno == ETIMEDOUT, "no answer: ETIMEDOUT");
	close(sv[1]);
	errno = 0;
	T_EQ_INT(ipc_call(sv[0], IPC_DKIM_SIGN, &o, IPC_DKIM_SIGN_REPLY,
	    IPC_R_AUTH, util_mono_ms() + 2000, &m), -1, "peer gone");
	ipc_out_free(&o);
	close(sv[0]);
}

int
main(void)
{
	int	 start;

	t_plan(410 + 2);
	signal(SIGPIPE, SIG_IGN);	/* the fd-closed checks expect EPIPE */
	start = ti_count_fds();
	ti_rejects();
	ti_getters();
	ti_encoder();
	ti_hello();
	ti_table();
	ti_roundtrips();
	ti_sockets();
	ti_next();
	ti_dkim();
	T_EQ_INT(ti_count_fds(), start, "no descriptors leaked overall");
	return t_done();
}
