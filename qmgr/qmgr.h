/*
 * qmgr.h - the queue manager's state.
 *
 * qmgr is the single writer of the Berkeley DB index (index/queue.db) and
 * the only process that appends to committed queue files (done records).
 * It learns of new messages from smtpd (IPC_QMGR_NEW) and from scans of
 * queue/, hands local recipients to local(8) over private/local, records
 * each recipient's final result in the queue file, retries temporary
 * failures with back-off, and removes a message when every recipient is
 * final.
 */
#ifndef YOUJU_QMGR_H
#define YOUJU_QMGR_H

#include <stdint.h>
#include <time.h>

#include "qfile.h"
#include "qindex.h"
#include "qid.h"

struct event_base;
struct event;
struct cfg;
struct db;

#define QMGR_HASH	65536
#define QMGR_CTL_SOCKET	IPC_QMGR_CONTROL


struct qmgr_msg {
	char		 qid[QID_BUFSZ];
	char		 path[64];
	struct qfile_msg q;
	struct qindex_rec	 rec;
	int		 inflight;	/* a delivery request is out */
	int		 queued;	/* on the ready list */
	int		 remote_noted;	/* logged that remote mail waits */
	int		 hold_wanted;	/* mailctl: hold after the delivery */
	int		 delete_wanted;	/* mailctl: delete after the delivery */
	unsigned char	*skip;		/* this round: recipients that failed
					 * temporarily (other next hops go on) */
	size_t		 nskip;
	int		 round_temp;	/* this round had a temporary failure */
	struct qmgr_msg	*hnext;		/* hash chain */
	struct qmgr_msg	*rnext;		/* ready list */
	struct qmgr_msg	*all_next;	/* every message (ticks) */
	struct qmgr_msg	*all_prev;
};

struct qmgr_dlv;

/* a next hop with requests out to smtp (per-destination concurrency) */
struct qmgr_dest {
	char		*name;
	int		 busy;
	struct qmgr_dest *next;
};

struct qmgr {
	struct cfg	*cfg;
	struct event_base *base;
	struct db	*db;
	struct qmgr_msg	*hash[QMGR_HASH];
	struct qmgr_msg	*all;
	size_t		 nmsg;
	struct qmgr_msg	*ready_head, *ready_tail;
	int		 local_limit;	/* concurrent local deliveries */
	int		 local_busy;
	int		 smtp_ok;	/* master.cf has the smtp service */
	int		 smtp_limit;	/* its processes */
	int		 smtp_busy;
	int		 dest_limit;	/* default_destination_concurrency_limit */
	int		 smtp_batch;	/* default_destination_recipient_limit */
	const char	*relayhost;
	struct qmgr_dest *dests;
	int		 dest_cap;	/* smtp processes one destination may
					 * use: all but a quarter (fairness) */
	const char	*hostname;	/* myhostname, for reports */
	int64_t		 max_life;	/* maximal_queue_lifetime */
	int64_t		 bounce_life;	/* bounce_queue_lifetime */
	int64_t		 delay_warn;	/* delay_warning_time, 0 = off */
	int		 hash_depth;
	char		**mydest;
	size_t		 nmydest;
	size_t		 dup_limit;	/* duplicate_filter_limit */
	int		 dkim_on;	/* dkim_signing */
	int64_t		 min_backoff;
	int64_t		 max_backoff;
	int64_t		 run_delay;
	int		 stopping;
	int		 ctl_open;	/* mailctl connections not yet done */
	/* qmgr -x: mailctl's one request while the mail system is stopped */
	int		 oneshot;
	int		 readonly;	/* list, show: change nothing */
	int		 ctl_fd;	/* mailctl's connection (-1 otherwise) */
	int		 progress;	/* reindex: "N files read" lines */
	size_t		 nfiles, nkept, nfresh, nbad;	/* the scan's counts */
	int		 scan_wanted;
	struct event	*tick;
	struct event	*listen_ev;
	int		 listen_fd;
};

extern struct qmgr qmgr;

/* qmgr.c */
struct qmgr_msg *qmgr_find(const char *);
int	 qmgr_done(void);
void	 qmgr_take(const char *, int);
void	 qmgr_remove(struct qmgr_msg *);
int	 qmgr_hold(struct qmgr_msg *);
void	 qmgr_delete(struct qmgr_msg *);
void	 qmgr_scan(int);
int	 qmgr_is_local(const char *);

/* qmgr_index.c */
/* qmgr_index_open - 0 opened, 1 made anew (none or unreadable), -1 */
int	 qmgr_index_open(const char *, int);
int	 qmgr_index_get(const char *, struct qindex_rec *);
int	 qmgr_index_put(const char *, const struct qindex_rec *);
int	 qmgr_index_del(const char *);
void	 qmgr_index_reconcile(void);
void	 qmgr_index_sync(void);
void	 qmgr_index_close(void);
int	 qmgr_index_reset(void);

/* qmgr_ctl.c */
struct skel;
void	 qmgr_ctl_init(int);
int	 qmgr_ctl_oneshot(struct skel *);
/* qmgr_ctl_warn - qmgr -x: a line for mailctl's stderr (else nothing) */
void	 qmgr_ctl_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* qmgr_ctl_held - read hold/QID: 0 with the message (and fd), or -1 */
int	 qmgr_ctl_held(const char *, struct qfile_msg *, int *);
/* qmgr_ctl_progress - qmgr -x reindex: "reindex: N files read" */
void	 qmgr_ctl_progress(size_t);

/* qmgr_bounce.c */
int	 qmgr_unsent(const struct qmgr_msg *);
int	 qmgr_bounce(struct qmgr_msg *, int);
int	 qmgr_expire(struct qmgr_msg *, time_t);
void	 qmgr_warn(struct qmgr_msg *, time_t);
void	 qmgr_success(struct qmgr_msg *, const unsigned char *, int);

/* qmgr_dkim.c: sign a report (P records into w); -1 only on a write error */
struct buf;
int	 qmgr_dkim_sign(const char *, const struct buf *,
	    struct qfile_writer *);

/* qmgr_sched.c */
void	 qmgr_ready(struct qmgr_msg *);
void	 qmgr_unready(struct qmgr_msg *);
void	 qmgr_dispatch(void);
void	 qmgr_defer(struct qmgr_msg *, const char *);
void	 qmgr_tick_due(time_t);
#define QMGR_P_ALL	0
#define QMGR_P_LOCAL	1
#define QMGR_P_REMOTE	2
int	 qmgr_pending(const struct qmgr_msg *, int);
int	 qmgr_deliverable(const struct qmgr_msg *);
/* qmgr_sched_nexthop - "local", relayhost, or the recipient's domain */
const char *qmgr_sched_nexthop(const char *);
/*
 * qmgr_sched_why - "mailctl explain": when the next delivery attempt of
 * a message in memory comes and what it waits for (back-off, a busy
 * transport, a destination at its concurrency limit), as lines
 * "next: ..." and "waiting: ..."
 */
void	 qmgr_sched_why(const struct qmgr_msg *, struct buf *);

#endif
