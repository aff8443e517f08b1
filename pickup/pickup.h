/*
 * pickup.h - local submission: shared state of the pickup process.
 *
 * One process (maxproc 1) serves every local user's sendmail(1) on the
 * socket public/pickup with libevent; a submission is one connection:
 * HELLO, PICKUP_MAIL, PICKUP_RCPT..., PICKUP_BEGIN (answered 354 or a
 * refusal), PICKUP_DATA..., PICKUP_END (answered after the commit).  The
 * user is the socket's peer (SO_PEERCRED), never what the frames say.
 */
#ifndef YOUJU_PICKUP_H
#define YOUJU_PICKUP_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "dkim.h"
#include "dkim_client.h"
#include "header.h"
#include "qfile.h"
#include "qid.h"

struct event_base;
struct event;
struct cfg;
struct ipc_client;
struct ipc_in;

#define PICKUP_SESSIONS		256	/* connections at once */
#define PICKUP_UID_SESSIONS	10	/* connections of one uid (not root) */
#define PICKUP_IDLE_MS		60000	/* between two frames */
#define PICKUP_LINGER_MS	5000	/* after a refusal: for sendmail's
					   last frames to arrive and go */
#define PICKUP_FRAMES_PER_RUN	32	/* then other connections get a turn */
#define PICKUP_RCPT_MAX		HEADER_RCPT_MAX
#define PICKUP_DKIM_PAUSE	10	/* seconds: broker left alone */

/* where a submission is: the frame each state takes */
enum pickup_state {
	PICKUP_S_MAIL = 0,	/* after HELLO: MAIL */
	PICKUP_S_RCPT,		/* RCPT..., BEGIN */
	PICKUP_S_DATA,		/* DATA..., END */
	PICKUP_S_DONE		/* answered: nothing more */
};

/* content problems: the message is refused at once */
#define PICKUP_E_TOOBIG		0x01
#define PICKUP_E_LONGLINE	0x02
#define PICKUP_E_NUL		0x04
#define PICKUP_E_8BIT		0x08

/* one local user's connections and messages (the per-uid limits) */
struct pickup_user {
	uid_t		 uid;
	unsigned	 conns;
	unsigned	 msgs;		/* in the window */
	time_t		 window;
	struct pickup_user *next;
};

struct pickup_sess {
	int		 fd;
	unsigned	 role;		/* IPC_R_SENDMAIL after HELLO */
	struct event	*ev;
	struct event	*timer;
	uid_t		 uid;		/* SO_PEERCRED */
	pid_t		 pid;
	struct pickup_user *user;
	enum pickup_state state;
	int		 linger;	/* answered: drained until EOF */
	unsigned	 flags;		/* IPC_PF_* */
	char		*want;		/* the sender asked for (-f), or NULL */
	char		*fullname;	/* -F */
	char		 sender[ADDR_BUFSZ];
	char		**rcpt;		/* canonical local@domain */
	size_t		 nrcpt;
	char		 qid[QID_BUFSZ];
	char		 mid[320];	/* the Message-Id pickup added */
	struct qfile_writer qw;
	int		 qw_open;
	struct header_block	 hdr;
	int		 in_hdr;	/* still in the header block */
	struct buf	 line;		/* a line not yet complete */
	int		 cr;		/* the last byte was a CR */
	uint64_t	 size;		/* content bytes written */
	int		 errs;		/* PICKUP_E_* */
	struct dkim_msg	*dkim;		/* signing state, or NULL */
	struct pickup_sess *prev, *next;
};

struct pickup_login {
	uid_t		 uid;
	size_t		 order;		/* in the database: first name wins */
	char		*name;
};

struct pickup {
	struct cfg	*cfg;
	struct event_base *base;
	struct event	*listen_ev;
	int		 listen_fd;
	int		 stopping;
	uid_t		 owner_uid;	/* mail_owner: may choose the sender */
	struct pickup_sess *sessions;
	size_t		 nsess;
	struct pickup_user *users;
	struct pickup_login *logins;	/* the passwd database, by uid */
	size_t		 nlogins;
	/* settings */
	const char	*hostname;
	const char	*myorigin;
	const char	*mail_name;
	int		 append_myorigin;
	uint64_t	 size_limit;
	size_t		 header_limit;
	size_t		 line_limit;
	unsigned	 rate;		/* pickup_uid_message_rate_limit */
	time_t		 rate_unit;
	int		 hash_depth;
	size_t		 dup_limit;
	int		 dkim_on;
	struct dkim_client dkim;
	struct ipc_client *qmgr;
};

extern struct pickup pk;

/* pickup.c */
int	 pickup_reply(struct pickup_sess *, unsigned, const char *,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
const char *pickup_login(uid_t);

/* pickup_msg.c: envelope and content */
int	 pickup_rcpt_add(struct pickup_sess *, const char *);
int	 pickup_sender(struct pickup_sess *);
int	 pickup_content(struct pickup_sess *, const unsigned char *, size_t);
int	 pickup_finish(struct pickup_sess *);
void	 pickup_msg_free(struct pickup_sess *);

#endif
