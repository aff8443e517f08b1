/*
 * ipc.h - typed frames between youju processes.
 *
 * Transport: SOCK_SEQPACKET UNIX sockets; one frame per packet:
 *
 *	u32 type | u32 length | payload (length bytes)	(big endian)
 *
 * with at most one descriptor passed alongside (SCM_RIGHTS).  A frame larger
 * than IPC_MAX_PAYLOAD is never sent or accepted.
 *
 * ipc_defs[] is the one table of message types: for each, the roles allowed
 * to send it, its minimum and maximum payload length, and whether it carries
 * a descriptor.  ipc_recv() rejects (EPROTO) unknown types, a sender whose
 * role may not send the type, lengths out of range, truncated packets, a
 * missing or unexpected descriptor - before any handler sees the frame.
 * Payload getters are bounds-checked and sticky on error; ipc_get_end()
 * rejects trailing bytes.
 *
 * Every connection starts with IPC_HELLO from the connecting side:
 *	u32 IPC_VERSION | u32 role of the sender
 * The accepting side checks the version, that the role is one it serves,
 * and the peer's credentials (SO_PEERCRED: root or the expected uid), then
 * answers IPC_HELLO with its own role.  A malformed frame drops that peer,
 * never the process.
 */
#ifndef YOUJU_IPC_H
#define YOUJU_IPC_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IPC_VERSION	1
#define IPC_HDR		8
#define IPC_MAX_PAYLOAD	65536

/* roles: who is on the other end of a connection */
#define IPC_R_MASTER	0x01
#define IPC_R_SMTPD	0x02
#define IPC_R_QMGR	0x04
#define IPC_R_LOCAL	0x08
#define IPC_R_AUTH	0x10
#define IPC_R_SMTP	0x20
#define IPC_R_MAILCTL	0x40
#define IPC_R_ANVIL	0x80
#define IPC_R_PICKUP	0x100	/* local submission daemon */
#define IPC_R_SENDMAIL	0x200	/* sendmail(1): any local user */

/* message types; payloads are described in ipc.c next to ipc_defs[] */
enum ipc_type {
	IPC_HELLO = 1,		/* u32 version, u32 role */
	IPC_QMGR_NEW,		/* smtpd->qmgr: str qid */
	IPC_AUTH_RCPT,		/* smtpd->auth: u32 id, str local, str domain */
	IPC_AUTH_RCPT_REPLY,	/* auth->smtpd: u32 id, u32 IPC_LOOKUP_* */
	IPC_LOCAL_DELIVER,	/* qmgr->local (+fd of the queue file):
				 * str qid, str sender, u32 n,
				 * n x (u32 idx, u32 IPC_RF_*, str addr) */
	IPC_LOCAL_RESULT,	/* local->qmgr: str qid, u32 n,
				 * n x (u32 idx, u32 IPC_DLV_*, str text),
				 * u32 m, m x (u32 parent, str addr) */
	IPC_CTL_REQUEST,	/* mailctl->master/qmgr: u32 n, n x str argv */
	IPC_CTL_REPLY,		/* master/qmgr->mailctl: u32 status, str text */
	IPC_AUTH_LOGIN,		/* smtpd->auth: u32 id, str client address,
				 * str mechanism, str user, str password */
	IPC_AUTH_LOGIN_REPLY,	/* auth->smtpd: u32 id, u32 IPC_LOGIN_*,
				 * str canonical user name */
	IPC_AUTH_SENDER,	/* smtpd->auth: u32 id, str sender address */
	IPC_AUTH_SENDER_REPLY,	/* auth->smtpd: u32 id, u32 IPC_LOOKUP_OK or
				 * _TEMPFAIL, u32 n, n x str owner login */
	IPC_SMTP_DELIVER,	/* qmgr->smtp (+fd of the queue file):
				 * str qid, str sender, str nexthop, u32 n,
				 * n x (u32 idx, str addr) */
	IPC_SMTP_RESULT,	/* smtp->qmgr: str qid, u32 n, n x (u32 idx,
				 * u32 IPC_DLV_*, str text), str relay */
	IPC_ANVIL_CONNECT,	/* smtpd->anvil: u32 id, str service,
				 * str client address */
	IPC_ANVIL_DISCONNECT,	/* smtpd->anvil: str service, str client */
	IPC_ANVIL_MESSAGE,	/* smtpd->anvil: u32 id, str service,
				 * str client */
	IPC_ANVIL_REPLY,	/* anvil->smtpd: u32 id, u32 a, u32 b */
	IPC_DKIM_KEYS,		/* smtpd/qmgr/pickup->auth: u32 id */
	IPC_DKIM_KEYS_REPLY,	/* auth->smtpd/qmgr/pickup: u32 id, u32 n,
				 * n x (str domain, str selector, u32 alg) */
	IPC_DKIM_SIGN,		/* smtpd/qmgr/pickup->auth: u32 id, str domain,
				 * str selector, u32 alg, bytes digest */
	IPC_DKIM_SIGN_REPLY,	/* auth->smtpd/qmgr/pickup: u32 id, u32 status,
				 * bytes signature */
	IPC_PICKUP_MAIL,	/* sendmail->pickup: u32 IPC_PF_*,
				 * str sender, str full name */
	IPC_PICKUP_RCPT,	/* sendmail->pickup: u32 n, n x str addr */
	IPC_PICKUP_BEGIN,	/* sendmail->pickup: (empty) envelope done */
	IPC_PICKUP_DATA,	/* sendmail->pickup: content bytes */
	IPC_PICKUP_END,		/* sendmail->pickup: (empty) content done */
	IPC_PICKUP_REPLY,	/* pickup->sendmail: u32 code, str text,
				 * str sender */
	IPC_METRICS,		/* smtpd/qmgr/master->anvil: u32 n, n x
				 * (u32 metric, str label, str label,
				 * u64 value); no answer
				 * (lib/server/metrics.h) */
	IPC_TYPE_MAX
};

#define IPC_LOOKUP_OK		0	/* local domain, address exists */
#define IPC_LOOKUP_NOUSER	1	/* local domain, no such address */
#define IPC_LOOKUP_NOTLOCAL	2	/* not one of our domains */
#define IPC_LOOKUP_TEMPFAIL	3	/* cannot tell now */

#define IPC_DKIM_OK		0	/* signed */
#define IPC_DKIM_FAIL		1	/* no such key, or it cannot sign */
#define IPC_DKIM_KEYS_MAX	256	/* keys in a DKIM_KEYS_REPLY */

#define IPC_LOGIN_OK		0	/* credentials verified */
#define IPC_LOGIN_FAIL		1	/* wrong user or password */
#define IPC_LOGIN_TEMPFAIL	2	/* cannot verify now */

/* IPC_CTL_REPLY status: more text follows in another frame */
#define IPC_CTL_MORE		100
/* IPC_CTL_REPLY status: a warning (lines for stderr); more frames follow */
#define IPC_CTL_WARN		101
/* qmgr's control socket, below queue_directory (mailctl queue) */
#define IPC_QMGR_CONTROL	"private/control"

#define IPC_DLV_OK		0
#define IPC_DLV_TEMPFAIL	1
#define IPC_DLV_PERMFAIL	2
#define IPC_DLV_EXPANDED	3	/* alias: see the m new addresses */
#define IPC_DLV_OK_DSN		4	/* smtp: delivered to a server that
					 * offers DSN: success notices are
					 * its duty from here (RFC 3461 4) */

/* IPC_PICKUP_MAIL flags */
#define IPC_PF_SENDER		0x01	/* -f: the sender field is wanted */
#define IPC_PF_EXTRACT		0x02	/* -t: recipients from the headers */
#define IPC_PF_8BIT		0x04	/* the content has 8-bit bytes */
#define IPC_PF_ALL		0x07
/* the local submission socket, below queue_directory */
#define IPC_PICKUP_SOCKET	"public/pickup"
#define IPC_PICKUP_NAME_MAX	256	/* bytes of a full name (-F) */

/* IPC_LOCAL_DELIVER per-recipient flags */
#define IPC_RF_NOALIAS		0x01	/* already an alias result: no lookup */

#define IPC_FD_NONE	0
#define IPC_FD_REQUIRED	1
#define IPC_FD_OPTIONAL	2

struct ipc_def {
	uint32_t	 type;
	const char	*name;
	unsigned	 senders;	/* IPC_R_* mask */
	uint32_t	 minlen;
	uint32_t	 maxlen;
	int		 fd;		/* IPC_FD_* */
};

extern const struct ipc_def ipc_defs[];	/* ends with a NULL name */
const struct ipc_def *ipc_def_find(uint32_t);
/* ipc_reject_reason - static text: why ipc_recv/ipc_hello_check said EPROTO */
const char *ipc_reject_reason(void);

struct ipc_msg {
	uint32_t	 type;
	uint32_t	 len;
	unsigned char	*payload;	/* malloc'ed, len bytes (+NUL) */
	int		 fd;		/* -1 when none */
};

/* encoding */
struct ipc_out {
	struct buf	 b;
	int		 err;		/* sticky: first failed put (errno) */
};
void	 ipc_out_init(struct ipc_out *);
void	 ipc_out_free(struct ipc_out *);
int	 ipc_put_u32(struct ipc_out *, uint32_t);
int	 ipc_put_u64(struct ipc_out *, uint64_t);
int	 ipc_put_bytes(struct ipc_out *, const void *, size_t);	/* u32 len + bytes */
int	 ipc_put_str(struct ipc_out *, const char *);

/* decoding: getters never read past the payload; errors are sticky */
struct ipc_in {
	const unsigned char *p;
	size_t		 len;
	size_t		 off;
	int		 err;
};
void	 ipc_in_init(struct ipc_in *, const struct ipc_msg *);
uint32_t ipc_get_u32(struct ipc_in *);
uint64_t ipc_get_u64(struct ipc_in *);
/* ipc_get_bytes - view into the payload, at most max bytes; NULL on error */
const unsigned char *ipc_get_bytes(struct ipc_in *, size_t, size_t *);
/* ipc_get_str - malloc'ed copy, at most max bytes, no NUL inside */
char	*ipc_get_str(struct ipc_in *, size_t);
/* ipc_get_end - 0 when everything was consumed and no getter failed */
int	 ipc_get_end(struct ipc_in *);

/*
 * DKIM payload pieces shared by smtpd and qmgr (the broker's clients):
 * ipc_get_dkim_keys decodes DKIM_KEYS_REPLY after its id (a calloc'ed
 * table, *n entries; NULL when malformed, an error of in like every
 * getter's), ipc_put_dkim_sign encodes
 * DKIM_SIGN after its id.
 */
struct dkim_keyref;
struct dkim_keyref *ipc_get_dkim_keys(struct ipc_in *, size_t *);
void	 ipc_put_dkim_sign(struct ipc_out *, const struct dkim_keyref *,
	    const unsigned char *);

/*
 * I/O.  ipc_send: one sendmsg; -1 with errno (EAGAIN on a full non-blocking
 * socket: nothing was sent; EINVAL for a frame that breaks the table - an
 * unknown type, a length out of range, a missing or unexpected fd).
 * ipc_recv: 1 = a valid frame in *m, 0 = peer closed, -1 = error (EAGAIN,
 * or EPROTO for a frame that breaks the table; the caller drops the peer on
 * anything but EAGAIN).  peer_role is the role the HELLO established
 * (IPC_R_* single bit), or 0 before HELLO, in which case only IPC_HELLO is
 * accepted.
 * ipc_send_out refuses an encoder on which a put failed (its errno).
 */
int	 ipc_send(int, uint32_t, const void *, size_t, int);
int	 ipc_send_out(int, uint32_t, const struct ipc_out *, int);
int	 ipc_recv(int, unsigned, struct ipc_msg *);
/* ipc_msg_free - frees the payload and closes m->fd unless it is -1 */
void	 ipc_msg_free(struct ipc_msg *);

/* handshake, blocking: client sends HELLO and waits for the answer */
int	 ipc_hello_client(int, unsigned, unsigned);	/* my role, expected peer role */
/* ipc_hello_wait - the peer's HELLO (expected role) by the deadline (ms) */
int	 ipc_hello_wait(int, unsigned, uint64_t);
/* server side: validate a received HELLO frame; returns the peer role or -1 */
int	 ipc_hello_check(const struct ipc_msg *, unsigned);	/* allowed roles mask */
int	 ipc_hello_reply(int, unsigned);			/* my role */

int	 ipc_peer_cred(int, uid_t *, gid_t *, pid_t *);
/*
 * ipc_next - the server side of a connection: the next frame.  The peer's
 * HELLO (a role in allowed) is checked and answered with mine, *role set;
 * then frames are handed over.  1: a frame in *m (free it); 0: nothing
 * more for now; -1: drop the peer (it closed, a read failed, a frame
 * broke the table - "dropping peer: REASON" is logged - or a bad HELLO).
 */
int	 ipc_next(int, unsigned *, unsigned, unsigned, struct ipc_msg *);
/*
 * ipc_accept - the next connection on a non-blocking listener whose peer
 * (SO_PEERCRED) is root or uid; others are closed with a warning "WHAT
 * from uid N refused".  The new descriptor (non-blocking, close-on-exec),
 * or -1 when no connection is pending.
 */
int	 ipc_accept(int, uid_t, const char *);
/* ipc_listen - bind a SEQPACKET socket at path (unlinking a stale one) */
int	 ipc_listen(const char *, mode_t, int);
/* ipc_listen_stream - the same with a SOCK_STREAM socket (spawn's
   commands speak plain streams, as Postfix's unix services) */
int	 ipc_listen_stream(const char *, mode_t, int);
/* ipc_connect - connect a SEQPACKET socket (blocking) */
int	 ipc_connect(const char *);
/*
 * ipc_call - a blocking request on a connected socket: send type with o's
 * payload, then wait until deadline (ms, monotonic) for a frame of reply
 * type from peer_role into *m.  0, or -1 with errno (ETIMEDOUT, EPROTO for
 * another frame, ECONNRESET when the peer closed).
 */
int	 ipc_call(int, uint32_t, const struct ipc_out *, uint32_t, unsigned,
	    uint64_t, struct ipc_msg *);
/*
 * ipc_open - non-blocking connect and send our HELLO without waiting for
 * the answer (the caller's event loop reads it); -1 when the peer is away
 */
int	 ipc_open(const char *, unsigned);
/*
 * ipc_serve_request - a delivery agent's side of one blocking request:
 * check the peer (root or the given uid), answer qmgr's HELLO with our
 * role, and read the request (30 s bound per frame); 0 with the frame in
 * *m, -1 (logged when the peer was refused) otherwise.
 */
int	 ipc_serve_request(int, uid_t, unsigned, struct ipc_msg *);

#endif
