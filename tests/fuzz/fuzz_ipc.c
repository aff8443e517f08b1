/*
 * fuzz_ipc.c - libFuzzer target for lib/server/ipc: one frame from a hostile
 * peer through a real SOCK_SEQPACKET socketpair into ipc_recv(), as every peer
 * role, then the bounds-checked payload getters.
 *
 * Input:
 *	byte 0		descriptors sent with the packet (SCM_RIGHTS): low two
 *			bits 0, 1, 2 or 9 (more than ipc_recv has room for)
 *	byte 1		n: how many getter operations follow (at most 64)
 *	n bytes		operations: low 3 bits the getter (u32, u64, str,
 *			bytes, end, hello_check, the DKIM key table), next 3
 *			bits its max length
 *	the rest	the packet, sent as it is (header and payload)
 *
 * Properties checked (abort when broken):
 *  - ipc_recv() accepts only what ipc_defs[] allows for that role (type,
 *    sender, min/max length, descriptor), with the payload unchanged and
 *    NUL-terminated and a close-on-exec descriptor; it rejects with EPROTO
 *    and a reason; it never leaks a received descriptor, accepted or not
 *    (the lowest free descriptor number is the same after every input);
 *  - the getters never read outside the payload (an exact-size copy, so
 *    ASan sees it), are sticky after an error, return at most max bytes,
 *    and ipc_get_end() is 0 exactly when all bytes were used without an
 *    error;
 *  - round trip: when no getter failed, encoding the values they returned
 *    with ipc_put_* gives back the payload bytes they consumed;
 *  - ipc_hello_check() returns a role only for a well-formed HELLO.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "dkim.h"
#include "ipc.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_IPC_MAXOPS	64
#define FUZZ_IPC_MAXFDS	9

static int	 fuzz_ipc_sv[2] = { -1, -1 };
static int	 fuzz_ipc_null = -1;

static const unsigned fuzz_ipc_roles[] = {
	0, IPC_R_MASTER, IPC_R_SMTPD, IPC_R_QMGR, IPC_R_LOCAL, IPC_R_AUTH,
	IPC_R_SMTP, IPC_R_MAILCTL, IPC_R_ANVIL, IPC_R_PICKUP, IPC_R_SENDMAIL
};

static const size_t fuzz_ipc_max[] = {
	0, 1, 4, 16, 255, 1024, IPC_MAX_PAYLOAD, SIZE_MAX
};

/* fuzz_ipc_setup - the socketpair and a descriptor to pass */
static void
fuzz_ipc_setup(void)
{
	if (fuzz_ipc_null != -1)
		return;
	FZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    fuzz_ipc_sv) == 0);
	fuzz_ipc_null = open("/dev/null", O_RDWR | O_CLOEXEC);
	FZ_CHECK(fuzz_ipc_null != -1);
}

/*
 * fuzz_ipc_lowfree - the lowest free descriptor number.  Taken before and
 * after each input (libFuzzer itself may open descriptors in between, e.g.
 * for the symbolizer): a leaked descriptor takes that number.
 */
static int
fuzz_ipc_lowfree(void)
{
	int	 fd;

	fd = dup(fuzz_ipc_null);
	FZ_CHECK(fd != -1);
	close(fd);
	return fd;
}

/* fuzz_ipc_send - the packet as it is, with nfds copies of /dev/null */
static int
fuzz_ipc_send(const uint8_t *p, size_t len, int nfds)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int) * FUZZ_IPC_MAXFDS)];
	} cm;
	struct cmsghdr *c;
	int	 fds[FUZZ_IPC_MAXFDS], i;
	ssize_t	 r;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		for (i = 0; i < nfds; i++)
			fds[i] = fuzz_ipc_null;
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do {
		r = sendmsg(fuzz_ipc_sv[0], &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (r == -1 && errno == EINTR);
	if (r == -1) {
		/* a packet the kernel will not take never reaches ipc_recv */
		FZ_CHECK(errno == EMSGSIZE || errno == ENOBUFS);
		return -1;
	}
	FZ_CHECK((size_t)r == len);
	return 0;
}

/* fuzz_ipc_accepted - what ipc_recv() says yes to obeys the table */
static void
fuzz_ipc_accepted(const struct ipc_msg *m, unsigned role, const uint8_t *p,
    size_t len)
{
	const struct ipc_def *d;
	int	 fl;

	FZ_CHECK((d = ipc_def_find(m->type)) != NULL);
	if (role == 0)
		FZ_CHECK(m->type == IPC_HELLO);
	else
		FZ_CHECK((d->senders & role) == role);
	FZ_CHECK(m->len >= d->minlen && m->len <= d->maxlen);
	FZ_CHECK(m->len <= IPC_MAX_PAYLOAD && len == IPC_HDR + m->len);
	FZ_CHECK(m->payload != NULL && m->payload[m->len] == '\0');
	FZ_CHECK(memcmp(m->payload, p + IPC_HDR, m->len) == 0);
	if (d->fd == IPC_FD_REQUIRED)
		FZ_CHECK(m->fd != -1);
	if (d->fd == IPC_FD_NONE)
		FZ_CHECK(m->fd == -1);
	if (m->fd != -1) {
		FZ_CHECK((fl = fcntl(m->fd, F_GETFD)) != -1);
		FZ_CHECK(fl & FD_CLOEXEC);
	}
}

/* fuzz_ipc_hello - ipc_hello_check() returns a role for a real HELLO only */
static void
fuzz_ipc_hello(const struct ipc_msg *m, unsigned allowed)
{
	int	 role;

	role = ipc_hello_check(m, allowed);
	if (role == -1) {
		FZ_CHECK(errno == EPROTO);
		FZ_CHECK(ipc_reject_reason()[0] != '\0');
		return;
	}
	FZ_CHECK(m->type == IPC_HELLO && m->len == 8);
	FZ_CHECK(memcmp(m->payload, "\0\0\0\1", 4) == 0);
	FZ_CHECK(role > 0 && (role & (role - 1)) == 0);
	FZ_CHECK(((unsigned)role & allowed) != 0);
	FZ_CHECK((uint32_t)role == ((uint32_t)m->payload[4] << 24 |
	    (uint32_t)m->payload[5] << 16 | (uint32_t)m->payload[6] << 8 |
	    m->payload[7]));
}

/* fuzz_ipc_op - one getter; its result re-encoded into out */
static void
fuzz_ipc_op(struct ipc_in *in, struct ipc_out *out, const unsigned char *base,
    const struct ipc_msg *m, unsigned op)
{
	const unsigned char *p;
	size_t	 max = fuzz_ipc_max[(op >> 3) & 7], n, off = in->off, i;
	struct dkim_keyref *keys;
	int	 err = in->err, r;
	uint64_t v;
	char	*s;

	switch (op & 7) {
	case 6:
		keys = ipc_get_dkim_keys(in, &n);
		FZ_CHECK((keys != NULL) == (in->err == 0));
		if (keys == NULL) {
			FZ_CHECK(n == 0);
			break;
		}
		FZ_CHECK(n <= IPC_DKIM_KEYS_MAX);
		(void)ipc_put_u32(out, (uint32_t)n);
		for (i = 0; i < n; i++) {
			FZ_CHECK(keys[i].alg == DKIM_RSA_SHA256 ||
			    keys[i].alg == DKIM_ED25519_SHA256);
			(void)ipc_put_str(out, keys[i].domain);
			(void)ipc_put_str(out, keys[i].selector);
			(void)ipc_put_u32(out, (uint32_t)keys[i].alg);
		}
		free(keys);
		break;
	case 0:
		v = ipc_get_u32(in);
		if (in->err == 0)
			(void)ipc_put_u32(out, (uint32_t)v);
		else
			FZ_CHECK(v == 0);
		break;
	case 1:
		v = ipc_get_u64(in);
		if (in->err == 0)
			(void)ipc_put_u64(out, v);
		else
			FZ_CHECK(v == 0);
		break;
	case 2:
		s = ipc_get_str(in, max);
		FZ_CHECK((s != NULL) == (in->err == 0));
		if (s != NULL) {
			FZ_CHECK(strlen(s) <= max);
			FZ_CHECK(strlen(s) == in->off - off - 4);
			(void)ipc_put_str(out, s);
			free(s);
		}
		break;
	case 3:
		p = ipc_get_bytes(in, max, &n);
		FZ_CHECK((p != NULL) == (in->err == 0));
		if (p != NULL) {
			FZ_CHECK(n <= max && p >= base && p + n <= base + m->len);
			FZ_CHECK(p + n == base + in->off);
			(void)ipc_put_bytes(out, p, n);
		} else
			FZ_CHECK(n == 0);
		break;
	case 4:
		r = ipc_get_end(in);
		FZ_CHECK((r == 0) == (err == 0 && off == m->len));
		if (r == -1)
			FZ_CHECK(errno == EPROTO);
		break;
	case 5:
	case 7:
		fuzz_ipc_hello(m, (op >> 3) == 0 ? 0xff : (op >> 3));
		break;
	}
	FZ_CHECK(in->off <= in->len);
	if (err != 0)		/* sticky: nothing moves after an error */
		FZ_CHECK(in->err == err && in->off == off);
}

/* fuzz_ipc_decode - the getter sequence chosen by the input */
static void
fuzz_ipc_decode(const struct ipc_msg *m, const uint8_t *ops, size_t nops)
{
	struct ipc_in in;
	struct ipc_out out;
	unsigned char *copy;
	size_t	 i;

	copy = fz_memdup(m->payload, m->len);
	ipc_in_init(&in, m);
	FZ_CHECK(in.len == m->len && in.off == 0 && in.err == 0);
	in.p = copy;		/* exact size: ASan sees a read past it */
	ipc_out_init(&out);
	for (i = 0; i < nops; i++)
		fuzz_ipc_op(&in, &out, copy, m, ops[i]);
	if (in.err == 0) {
		FZ_CHECK(out.err == 0 && out.b.len == in.off);
		FZ_CHECK(in.off == 0 || memcmp(out.b.data, copy, in.off) == 0);
	}
	ipc_out_free(&out);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int nfds_of[] = { 0, 1, 2, FUZZ_IPC_MAXFDS };
	struct ipc_msg m;
	const uint8_t *ops, *pkt;
	size_t	 nops, len, i;
	int	 nfds, r, lowfree;

	fuzz_ipc_setup();
	if (size < 2)
		return 0;
	lowfree = fuzz_ipc_lowfree();
	nfds = nfds_of[data[0] & 3];
	nops = data[1] % (FUZZ_IPC_MAXOPS + 1);
	if (nops > size - 2)
		nops = size - 2;
	ops = data + 2;
	pkt = ops + nops;
	len = size - 2 - nops;

	for (i = 0; i < sizeof(fuzz_ipc_roles) / sizeof(fuzz_ipc_roles[0]);
	    i++) {
		if (fuzz_ipc_send(pkt, len, nfds) == -1)
			break;
		errno = 0;
		r = ipc_recv(fuzz_ipc_sv[1], fuzz_ipc_roles[i], &m);
		fz_trace("ipc role 0x%02x: %d %s", fuzz_ipc_roles[i], r,
		    r == -1 ? ipc_reject_reason() : "");
		if (r == 0) {
			FZ_CHECK(len == 0);
			continue;
		}
		if (r == -1) {
			FZ_CHECK(errno == EPROTO);
			FZ_CHECK(ipc_reject_reason()[0] != '\0');
			FZ_CHECK(m.payload == NULL && m.fd == -1);
			continue;
		}
		FZ_CHECK(r == 1);
		fuzz_ipc_accepted(&m, fuzz_ipc_roles[i], pkt, len);
		fuzz_ipc_decode(&m, ops, nops);
		ipc_msg_free(&m);
		FZ_CHECK(m.payload == NULL && m.fd == -1);
	}
	/* every received descriptor was closed */
	FZ_CHECK(fuzz_ipc_lowfree() == lowfree);
	return 0;
}
