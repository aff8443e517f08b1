/*
 * qfile.h - the queue file: codec and durable commit.
 *
 * A queue file is a sequence of records, each
 *
 *	u8 type | u32 length (big endian) | length bytes of payload
 *
 * in this order:
 *
 *	V "1"			version, always first
 *	Q qid			the queue id (must match the file name)
 *	T "<sec>.<usec>"	arrival time (decimal, wall clock)
 *	S sender		envelope sender, empty for the null sender <>
 *	A "name=value"		0..n attributes (client_address, client_name,
 *				helo_name, protocol, sasl_username, envid, ret,
 *				body, ...); value bytes are opaque
 *	R rcpt			1..n recipients, payload below
 *	B bytes			0..n body chunks of at most QFILE_CHUNK bytes;
 *				the message content exactly as it will be
 *				delivered (CRLF line ends, dots unstuffed)
 *	P bytes			0..n header lines (each ending in CR LF) that
 *				go in front of the content when it is read:
 *				made at the end of DATA (DKIM-Signature),
 *				after the body was written; at most
 *				QFILE_P_MAX each, QFILE_P_TOTAL in all
 *	E ""			end: the file is complete.  Nothing before E
 *				ever changes after the commit.
 *	after E, appended by qmgr only:
 *	D done			final result of one recipient, payload below
 *	X rcpt			a recipient added later (alias expansion):
 *				an R payload followed by u32 parent index
 *	H history		a temporary failure of one recipient:
 *				u32 index | i64 time | u16 len, text
 *	W warned		i64 time: the delay notice (delay_warning_time)
 *				was queued; at most one is sent
 *
 * R payload: u16 len, address | u16 len, ORCPT (as received, xtext) |
 *	      u8 NOTIFY flags (QFILE_NOTIFY_*).
 * D payload: u32 recipient index (R and X records numbered from 0 in file
 *	      order) | u8 status (QFILE_ST_*) | u16 len, text (the reply or
 *	      reason, for logs and bounces).
 *
 * The decoder is strict: unknown types, records out of order, lengths over
 * the per-type maximum, a missing E, or a D naming a recipient that does not
 * exist are "corrupt".  A truncated record *after* E (a crash during an
 * append) is ignored, so the recipient is retried: delivery is at least once.
 *
 * Commit (smtpd, the only writer of new files), a state table:
 *
 *	state		file				on crash
 *	writing		incoming/QID, no E		removed at next start
 *	synced		incoming/QID, E, fsync		removed at next start
 *	renamed		queue/H/H/QID			kept iff dir fsync done..
 *	committed	queue/H/H/QID, dir fsynced	kept: the commit point
 *
 * Only after qfile_commit() returns 0 may smtpd answer 250.
 */
#ifndef YOUJU_QFILE_H
#define YOUJU_QFILE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "qid.h"

#define QFILE_CHUNK		65536
#define QFILE_HDR		5
#define QFILE_ADDR_MAX		1024	/* bytes of an address field */
#define QFILE_ORCPT_MAX		1024
#define QFILE_ATTR_MAX		4096	/* a whole A record */
#define QFILE_TEXT_MAX		4096	/* a D record's text */
#define QFILE_MAX_RCPT		100000	/* R and X records together */
#define QFILE_MAX_ATTR		1000	/* A records */
#define QFILE_ATTR_NAME_MAX	64	/* [a-z0-9_]{1,64} */
#define QFILE_HBUF		16384	/* writer: envelope records staged */
#define QFILE_P_MAX		16384	/* a P record */
#define QFILE_P_TOTAL		65536	/* all P records of a file */

#define QFILE_NOTIFY_NEVER	0x01
#define QFILE_NOTIFY_SUCCESS	0x02
#define QFILE_NOTIFY_FAILURE	0x04
#define QFILE_NOTIFY_DELAY	0x08

#define QFILE_ST_PENDING	0	/* not final (never written) */
#define QFILE_ST_DELIVERED	1
#define QFILE_ST_BOUNCED	2	/* permanent failure, bounce due */
#define QFILE_ST_EXPANDED	3	/* replaced by X records */
#define QFILE_ST_BOUNCE_SENT	4	/* bounced and the bounce is queued */

/* decoder results */
#define QFILE_OK		0
#define QFILE_EIO		-1	/* read error, errno set */
#define QFILE_CORRUPT		-2	/* malformed: move to corrupt/ */

struct qfile_writer {
	int		 fd;
	int		 hash_depth;
	char		 qid[QID_BUFSZ];
	char		 tmppath[64];		/* incoming/QID */
	char		 path[64];		/* queue/H/H/QID */
	unsigned char	*chunk;			/* body chunk being filled */
	size_t		 chunklen;
	uint64_t	 size;			/* body bytes so far */
	int		 failed;		/* sticky: a write failed */
	int		 err;			/* errno of the first failure */
	unsigned char	*hbuf;			/* records not yet written */
	size_t		 hbuflen;
	int		 state;			/* which record may come next */
	uint32_t	 nrcpt;
	uint32_t	 nattr;
	size_t		 prepend;		/* P bytes written */
};

struct qfile_attr {
	char	*name;
	char	*value;				/* NUL-terminated copy */
	size_t	 vlen;
};

struct qfile_rcpt {
	char		*addr;
	char		*orcpt;
	unsigned	 notify;
	uint32_t	 parent;		/* X records: parent index; else UINT32_MAX */
	int		 status;		/* QFILE_ST_* (last D record wins) */
	char		*text;			/* text of that D record, or of the
						 * last H record while pending */
	int64_t		 last_try;		/* time of the last H record */
};

struct qfile_msg {
	char		 qid[QID_BUFSZ];
	int64_t		 arrival_sec;
	int32_t		 arrival_usec;
	char		*sender;		/* "" = null sender */
	struct qfile_attr *attr;
	size_t		 nattr;
	struct qfile_rcpt *rcpt;
	size_t		 nrcpt;
	off_t		 body_off;		/* offset of the first B record (or E) */
	uint64_t	 body_size;		/* B bytes */
	char		*prepend;		/* P records' bytes, NUL-terminated */
	size_t		 prepend_len;
	off_t		 end_off;		/* offset just after E */
	off_t		 file_size;
	off_t		 valid_size;		/* after the last whole record;
						 * < file_size: torn append */
	size_t		 nhist;			/* H records */
	int64_t		 warned;		/* W record: when, or 0 */
};

/*
 * the directories of queue_directory, made at start by master and checked
 * by "mailctl doctor": owned by mail_owner (else root), with this mode
 */
struct qfile_dir {
	const char	*name;
	int		 owned;
	unsigned	 mode;
};
extern const struct qfile_dir qfile_dirs[];
extern const size_t qfile_ndirs;

/* paths relative to queue_directory */
int	 qfile_path(const char *, int, char *, size_t);	/* queue/H/H/QID */
#define QFILE_HOLD_DIR	"hold"		/* held messages: hold/QID */
/*
 * qfile_move - rename a committed file (queue/ <-> hold/), creating the
 * target's directories; durable when it returns 0 (both directories
 * fsynced).  Relative paths under 64 bytes.
 */
int	 qfile_move(const char *, const char *);

/* writer (smtpd).  Every call returns 0 or -1 (errno); failures are sticky */
int	 qfile_create(struct qfile_writer *, const char *, int);
int	 qfile_put_header(struct qfile_writer *, int64_t, int32_t, const char *);
int	 qfile_put_attr(struct qfile_writer *, const char *, const void *, size_t);
int	 qfile_put_rcpt(struct qfile_writer *, const char *, const char *, unsigned);
int	 qfile_write_body(struct qfile_writer *, const void *, size_t);
int	 qfile_put_prepend(struct qfile_writer *, const void *, size_t);
int	 qfile_commit(struct qfile_writer *);
/* qfile_to_hold - the commit renames into hold/QID (an access table's
   HOLD action), not into the queue */
int	 qfile_to_hold(struct qfile_writer *);
void	 qfile_abort(struct qfile_writer *);

/*
 * reader.  qfile_read parses everything but the body contents; it returns
 * QFILE_OK, QFILE_EIO (errno) or QFILE_CORRUPT (reason in err).  On failure
 * the msg is left empty.  The caller compares msg->qid with the file name.
 * qfile_body_each returns 0, or -1 when cb returned -1 (errno as cb left
 * it), a read failed (errno), or the body records do not match what
 * qfile_read saw (EBADMSG).
 */
int	 qfile_read(int, struct qfile_msg *, char *, size_t);
void	 qfile_msg_free(struct qfile_msg *);
const char *qfile_attr_get(const struct qfile_msg *, const char *);
/* qfile_body_each - call cb with the P bytes, then each body chunk in
 * order; cb returns -1 to stop.  The content's size is
 * prepend_len + body_size. */
/* qfile_size - the content's bytes as delivered: P records and body */
static inline uint64_t
qfile_size(const struct qfile_msg *m)
{
	return m->body_size + m->prepend_len;
}
int	 qfile_body_each(int, const struct qfile_msg *,
	    int (*)(void *, const void *, size_t), void *);

/*
 * appenders (qmgr).  The fd is opened O_RDWR|O_APPEND; each call writes one
 * whole record with one write(), undoes a short write with ftruncate, and
 * fdatasyncs.  A D text longer than QFILE_TEXT_MAX is cut to that length.
 * Before the first append to a file whose qfile_read() found a torn tail
 * (valid_size < file_size), call qfile_repair_tail() so the new record does
 * not land behind the torn one.
 */
int	 qfile_append_done(int, uint32_t, int, const char *);
int	 qfile_append_rcpt(int, const char *, const char *, unsigned, uint32_t);
int	 qfile_repair_tail(int, const struct qfile_msg *);
int	 qfile_append_history(int, uint32_t, int64_t, const char *);
int	 qfile_append_warned(int, int64_t);
/* qfile_trail_each - cb(arg, type 'D'/'H'/'X', idx, status, time, text);
 * W records are not reported */
int	 qfile_trail_each(int, const struct qfile_msg *,
	    void (*)(void *, int, uint32_t, int, int64_t, const char *),
	    void *);

/* record-level helpers shared by the codec and its tests */
int	 qfile_encode_record(unsigned char *, size_t, int, const void *, size_t);

#endif
