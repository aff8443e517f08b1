/*
 * qmgr_ctl.c - "mailctl queue": qmgr answers for the queue it owns.
 *
 * qmgr accepts on private/control (mode 0600, root may connect: mailctl),
 * a socket master makes and passes as qmgr's second listening descriptor:
 * it outlives qmgr, so a mailctl that connects while qmgr restarts (a
 * reload) waits in its backlog, up to its 10-second HELLO limit, for the
 * new qmgr to answer.
 * One request per connection: IPC_CTL_REQUEST with the arguments after
 * "queue"; the answer is one or more IPC_CTL_REPLY frames - status
 * IPC_CTL_MORE with a piece of the text, then the exit status with the
 * last piece.  Requests:
 *
 *	list [json]	every message: memory (active, deferred) and hold/
 *	show ID		qview.c's report
 *	flush [ID|DOMAIN]  deferred messages (all, one, or those with a
 *			pending recipient at DOMAIN) are tried now
 *	hold ID		moved to hold/ (after the delivery in flight)
 *	release ID	back from hold/, tried now
 *	delete ID	removed (after the delivery in flight); also from hold/
 *	delete-all [Q]	every message (postsuper -d ALL), or those in
 *			queue Q: active, deferred or hold; a message in
 *			delivery goes when the attempt ends
 *	delete-deferred	the same as delete-all deferred
 *	delete-from PAT	every message whose sender matches PAT, and
 *	delete-to PAT	every message with a pending recipient matching
 *			PAT (addr_pattern_match: user@domain, @domain,
 *			domain, user@, <>), held ones too
 *	explain ID	the scheduler's view of one message (qmgr_explain)
 *	requeue ID	attempts reset and tried now (held: released)
 *	reindex		the index rewritten from the messages in memory
 *
 * The answer is built whole, then sent as the socket takes it (EV_WRITE),
 * so a slow mailctl never blocks deliveries.
 *
 * While the mail system is stopped, mailctl runs "qmgr -x" with a socket
 * pair as descriptor 3 (qmgr_ctl_oneshot): the same request and answer on
 * it, blocking, then exit.  That qmgr reads the queue as a starting qmgr
 * does - list, show and explain change nothing (the index opened read-only, no
 * file moved or repaired) - runs the request on what it read without
 * delivering anything, and says "will be tried as soon as the mail system
 * starts" where a running qmgr schedules.  Damaged files it meets are
 * reported to mailctl as warnings (IPC_CTL_WARN) besides the log.
 *
 * Longer than 800 lines on purpose: thirteen requests, each a short function
 * over qmgr's message table, and the two ways of answering them; they are
 * the one place that admin requests change the queue.
 */
#include <sys/socket.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "qfile.h"
#include "qid.h"
#include "qindex.h"
#include "qview.h"
#include "skel.h"
#include "util.h"
#include "qmgr.h"

#define QMGR_CTL_CHUNK	(IPC_MAX_PAYLOAD - 64)
#define QMGR_CTL_OUTMAX	((size_t)512 * 1024 * 1024)
#define QMGR_CTL_ARGS	8
#define QMGR_CTL_TIMEOUT 30		/* seconds per step of a connection */

struct qmgr_ctl {
	int		 fd;
	unsigned	 role;
	struct event	*ev;
	struct buf	 out;
	size_t		 sent;
	int		 status;
	int		 replying;
};

/*
 * qmgr_ctl_drop - close a control connection; a stopping qmgr waits for
 * the ones it accepted (qmgr_done), so an answer is never cut off
 */
static void
qmgr_ctl_drop(struct qmgr_ctl *c)
{
	event_free(c->ev);
	close(c->fd);
	buf_free(&c->out);
	free(c);
	qmgr.ctl_open--;
	if (qmgr_done())
		event_base_loopbreak(qmgr.base);
}

/* qmgr_ctl_state - the state an admin sees */
static const char *
qmgr_ctl_state(const struct qmgr_msg *m)
{
	if (m->inflight || m->queued || m->rec.state != QINDEX_DEFERRED)
		return "active";
	return "deferred";
}

/* qmgr_ctl_view - a message in memory as a qview */
static void
qmgr_ctl_view(const struct qmgr_msg *m, struct qview *v)
{
	v->q = &m->q;
	v->state = qmgr_ctl_state(m);
	v->attempts = m->rec.attempts;
	v->next_try = m->rec.state == QINDEX_DEFERRED ? m->rec.next_try : 0;
}

/* qmgr_ctl_by_arrival - qsort: oldest first */
static int
qmgr_ctl_by_arrival(const void *a, const void *b)
{
	const struct qmgr_msg *x = *(struct qmgr_msg * const *)a;
	const struct qmgr_msg *y = *(struct qmgr_msg * const *)b;

	if (x->q.arrival_sec != y->q.arrival_sec)
		return x->q.arrival_sec < y->q.arrival_sec ? -1 : 1;
	if (x->q.arrival_usec != y->q.arrival_usec)
		return x->q.arrival_usec < y->q.arrival_usec ? -1 : 1;
	return strcmp(x->qid, y->qid);
}

/* qmgr_ctl_held - see qmgr.h */
int
qmgr_ctl_held(const char *qid, struct qfile_msg *q, int *fdp)
{
	char	 path[64], err[256];
	int	 fd;

	if (!qid_valid(qid) || util_fmt(path, sizeof(path), "%s/%s",
	    QFILE_HOLD_DIR, qid) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (qfile_read(fd, q, err, sizeof(err)) != QFILE_OK) {
		close(fd);
		return -1;
	}
	if (fdp != NULL)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

/* qmgr_ctl_is_held - is there a hold/QID */
static int
qmgr_ctl_is_held(const char *qid)
{
	char	 path[64];

	return qid != NULL && qid_valid(qid) && util_fmt(path, sizeof(path),
	    "%s/%s", QFILE_HOLD_DIR, qid) == 0 && access(path, F_OK) == 0;
}

/* qmgr_ctl_list - every message, oldest first, then the held ones */
static int
qmgr_ctl_list(struct buf *out, int json)
{
	struct qmgr_msg **v, *m;
	struct qfile_msg q;
	struct qview view;
	struct dirent *de;
	DIR	*d;
	uint64_t bytes = 0;
	size_t	 i, n = 0;

	v = xcalloc(qmgr.nmsg + 1, sizeof(*v));
	for (m = qmgr.all; m != NULL && n < qmgr.nmsg; m = m->all_next)
		v[n++] = m;
	qsort(v, n, sizeof(*v), qmgr_ctl_by_arrival);
	if (!json)
		qview_list_header(out);
	for (i = 0; i < n; i++) {
		qmgr_ctl_view(v[i], &view);
		qview_list(out, &view, json);
		bytes += qfile_size(&v[i]->q);
	}
	free(v);
	if ((d = opendir(QFILE_HOLD_DIR)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (qmgr_ctl_held(de->d_name, &q, NULL) == -1)
				continue;
			memset(&view, 0, sizeof(view));
			view.q = &q;
			view.state = "hold";
			qview_list(out, &view, json);
			bytes += qfile_size(&q);
			qfile_msg_free(&q);
			n++;
		}
		closedir(d);
	}
	if (!json)
		qview_list_footer(out, n, bytes);
	return 0;
}

/* qmgr_ctl_find - a message in memory by id, or NULL */
static struct qmgr_msg *
qmgr_ctl_find(const char *qid)
{
	if (qid == NULL || !qid_valid(qid))
		return NULL;
	return qmgr_find(qid);
}

/*
 * qmgr_ctl_open - the queue file of a message in memory or on hold, read
 * as it is now (with the records appended since): 0 with q, its fd and
 * view (*mp: the message, NULL when held), 1 when it cannot be read (said
 * in out), -1 when there is no such message
 */
static int
qmgr_ctl_open(struct buf *out, const char *qid, struct qmgr_msg **mp,
    struct qfile_msg *q, int *fd, struct qview *view)
{
	char	 err[256];

	memset(view, 0, sizeof(*view));
	if ((*mp = qmgr_ctl_find(qid)) != NULL) {
		if ((*fd = open((*mp)->path, O_RDONLY | O_CLOEXEC)) == -1 ||
		    qfile_read(*fd, q, err, sizeof(err)) != QFILE_OK) {
			buf_printf(out, "%s: cannot read the queue file: %s\n",
			    qid, *fd == -1 ? strerror(errno) : err);
			if (*fd != -1)
				close(*fd);
			return 1;
		}
		qmgr_ctl_view(*mp, view);
	} else if (qid == NULL || qmgr_ctl_held(qid, q, fd) == -1)
		return -1;
	else
		view->state = "hold";
	view->q = q;
	return 0;
}

/*
 * qmgr_ctl_report - one message's report: "show" (qview_show), or with
 * explain its envelope, arrival and recipients with their attempts
 * (qview_explain) and what its next attempt waits for (qmgr_sched_why);
 * 1 when it is not in the queue
 */
static int
qmgr_ctl_report(struct buf *out, const char *qid, int explain)
{
	struct qmgr_msg *m;
	struct qfile_msg q;
	struct qview view;
	int	 fd, r;

	if ((r = qmgr_ctl_open(out, qid, &m, &q, &fd, &view)) == -1) {
		buf_printf(out, "%s: %s\n", qid != NULL ? log_str(qid) : "",
		    explain ? "not in the queue" :
		    "no such message in the queue");
		return 1;
	}
	if (r == 1)
		return 1;
	if (!explain)
		r = qview_show(out, fd, &view);
	else {
		r = qview_explain(out, fd, &view);
		if (m != NULL)
			qmgr_sched_why(m, out);
		else
			buf_printf(out, "next:      none: on hold, no delivery "
			    "attempt until \"mailctl queue release %s\"\n",
			    qid);
	}
	close(fd);
	qfile_msg_free(&q);
	return r == 0 ? 0 : 1;
}

/* qmgr_ctl_show - "show ID" */
static int
qmgr_ctl_show(struct buf *out, const char *qid)
{
	return qmgr_ctl_report(out, qid, 0);
}

/*
 * qmgr_ctl_now - try a deferred message now; 1 if it was deferred.
 * qmgr -x: its next try becomes now (the start), 1 if it was deferred.
 */
static int
qmgr_ctl_now(struct qmgr_msg *m, int reset)
{
	int	 deferred = m->rec.state == QINDEX_DEFERRED;

	if (reset)
		m->rec.attempts = 0;
	if (qmgr.oneshot) {
		m->rec.next_try = (int64_t)time(NULL);
		qmgr_index_put(m->qid, &m->rec);
		return deferred;
	}
	if (m->inflight || m->queued) {
		if (reset)
			qmgr_index_put(m->qid, &m->rec);
		return 0;
	}
	m->rec.next_try = (int64_t)time(NULL);
	qmgr_index_put(m->qid, &m->rec);
	qmgr_ready(m);
	return 1;
}

/* qmgr_ctl_flush - deferred messages are tried now */
static int
qmgr_ctl_flush(struct buf *out, const char *what)
{
	struct qmgr_msg *m;
	size_t	 n = 0;

	if (what != NULL && qid_valid(what)) {
		if ((m = qmgr_find(what)) == NULL) {
			buf_printf(out, qmgr_ctl_is_held(what) ? "%s: is on "
			    "hold (\"mailctl queue release\" lets it go)\n" :
			    "%s: no such message in the queue\n", what);
			return 1;
		}
		if (qmgr_ctl_now(m, 0) && !qmgr.oneshot)
			buf_printf(out, "%s: scheduled for delivery now\n",
			    what);
		else
			buf_printf(out, qmgr.oneshot ? "%s: will be tried as "
			    "soon as the mail system starts\n" :
			    "%s: already being delivered\n", what);
		qmgr_dispatch();
		return 0;
	}
	for (m = qmgr.all; m != NULL; m = m->all_next)
		if (m->rec.state == QINDEX_DEFERRED &&
		    (what == NULL || qview_has_domain(&m->q, what)))
			n += qmgr_ctl_now(m, 0);
	qmgr.scan_wanted = 1;
	qmgr_dispatch();
	if (qmgr.oneshot)
		buf_printf(out, "%zu deferred message%s will be tried as soon "
		    "as the mail system starts\n", n, n == 1 ? "" : "s");
	else if (what != NULL)
		buf_printf(out, "flushed %zu deferred message%s with "
		    "recipients at %s\n", n, n == 1 ? "" : "s", log_str(what));
	else
		buf_printf(out, "flushed %zu deferred message%s\n", n,
		    n == 1 ? "" : "s");
	return 0;
}

/* qmgr_ctl_hold - to hold/ now, or when the delivery in flight ends */
static int
qmgr_ctl_hold(struct buf *out, const char *qid)
{
	struct qmgr_msg *m;

	if ((m = qmgr_ctl_find(qid)) == NULL && qmgr_ctl_is_held(qid)) {
		buf_printf(out, "%s: already on hold\n", qid);
		return 0;
	}
	if (m == NULL) {
		buf_printf(out, "%s: no such message in the queue\n",
		    log_str(qid));
		return 1;
	}
	if (m->inflight) {
		m->hold_wanted = 1;
		buf_printf(out, "%s: will be held when the delivery attempt "
		    "in progress ends\n", qid);
		return 0;
	}
	if (qmgr_hold(m) == -1) {
		buf_printf(out, "%s: cannot move the message to hold/: %s\n",
		    qid, strerror(errno));
		return 1;
	}
	buf_printf(out, "%s: held\n", qid);
	return 0;
}

/* qmgr_ctl_release - from hold/ back to the queue, tried now */
static int
qmgr_ctl_release(struct buf *out, const char *qid, int reset)
{
	struct qmgr_msg *m;
	char	 from[64], to[64];

	if (qid == NULL || !qid_valid(qid) || util_fmt(from, sizeof(from),
	    "%s/%s", QFILE_HOLD_DIR, qid) == -1 || access(from, F_OK) == -1) {
		/* requeue comes here for what is not in memory */
		buf_printf(out, qmgr_ctl_find(qid) != NULL ? "%s: not on "
		    "hold\n" : reset ? "%s: no such message in the queue\n" :
		    "%s: no such message on hold\n", qid != NULL ?
		    log_str(qid) : "");
		return 1;
	}
	if (qfile_path(qid, qmgr.hash_depth, to, sizeof(to)) == -1 ||
	    qfile_move(from, to) == -1) {
		buf_printf(out, "%s: cannot move the message back to the "
		    "queue: %s\n", qid, strerror(errno));
		return 1;
	}
	log_info("%s: released from hold by the administrator", qid);
	qmgr_index_del(qid);		/* taken in as new: active, now */
	qmgr_take(qid, 0);
	if ((m = qmgr_find(qid)) != NULL && reset)
		(void)qmgr_ctl_now(m, 1);
	qmgr_dispatch();
	buf_printf(out, "%s: released\n", qid);
	return 0;
}

/* qmgr_ctl_delete - remove one message (now or after its delivery) */
static int
qmgr_ctl_delete(struct buf *out, const char *qid)
{
	struct qmgr_msg *m;
	char	 path[64];

	if ((m = qmgr_ctl_find(qid)) != NULL) {
		if (m->inflight) {
			m->delete_wanted = 1;
			buf_printf(out, "%s: will be deleted when the delivery "
			    "attempt in progress ends\n", qid);
			return 0;
		}
		qmgr_delete(m);
		buf_printf(out, "%s: deleted\n", qid);
		return 0;
	}
	if (qid != NULL && qid_valid(qid) && util_fmt(path, sizeof(path),
	    "%s/%s", QFILE_HOLD_DIR, qid) == 0 && unlink(path) == 0) {
		(void)util_fsync_dir(QFILE_HOLD_DIR);
		log_info("%s: removed", qid);	/* postsuper's words */
		buf_printf(out, "%s: deleted\n", qid);
		return 0;
	}
	buf_printf(out, "%s: no such message in the queue\n",
	    qid != NULL ? log_str(qid) : "");
	return 1;
}

/*
 * qmgr_ctl_sel - which messages a bulk delete takes: queue NULL or
 * "active", "deferred", "hold" (as "list" shows them); from and to NULL or
 * an addr_pattern_match pattern for the sender / a pending recipient
 */
struct qmgr_ctl_sel {
	const char	*queue;
	const char	*from;
	const char	*to;
};

/* qmgr_ctl_selected - does the message match sel (its queue aside) */
static int
qmgr_ctl_selected(const struct qmgr_ctl_sel *sel, const struct qfile_msg *q)
{
	return (sel->from == NULL || addr_pattern_match(sel->from, q->sender)) &&
	    (sel->to == NULL || qview_rcpt_match(q, sel->to));
}

/* qmgr_ctl_delete_held - the selected messages in hold/; how many */
static size_t
qmgr_ctl_delete_held(const struct qmgr_ctl_sel *sel)
{
	struct qfile_msg q;
	struct dirent *de;
	DIR	*d;
	char	 path[64];
	size_t	 n = 0;
	int	 take;

	if ((d = opendir(QFILE_HOLD_DIR)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;
		if (sel->from != NULL || sel->to != NULL) {
			if (qmgr_ctl_held(de->d_name, &q, NULL) == -1)
				continue;
			take = qmgr_ctl_selected(sel, &q);
			qfile_msg_free(&q);
			if (!take)
				continue;
		}
		if (util_fmt(path, sizeof(path), "%s/%s", QFILE_HOLD_DIR,
		    de->d_name) == 0 && unlink(path) == 0) {
			/* postsuper's words */
			log_info("%s: removed", de->d_name);
			n++;
		}
	}
	closedir(d);
	if (n > 0)
		(void)util_fsync_dir(QFILE_HOLD_DIR);
	return n;
}

/*
 * qmgr_ctl_delete_some - "delete ALL [queue]" (postsuper -d ALL [queue]),
 * "delete-from PATTERN", "delete-to PATTERN": every message sel takes.
 * A message in delivery goes when the attempt ends.
 */
static int
qmgr_ctl_delete_some(struct buf *out, const struct qmgr_ctl_sel *sel)
{
	struct qmgr_msg *m, *next;
	size_t	 n = 0, later = 0;

	for (m = qmgr.all; m != NULL; m = next) {
		next = m->all_next;
		if ((sel->queue != NULL && strcmp(sel->queue,
		    qmgr_ctl_state(m)) != 0) || !qmgr_ctl_selected(sel, &m->q))
			continue;
		if (m->inflight) {
			m->delete_wanted = 1;
			later++;
		} else {
			qmgr_delete(m);
			n++;
		}
	}
	if (sel->queue == NULL || strcmp(sel->queue, "hold") == 0)
		n += qmgr_ctl_delete_held(sel);
	if (n > 0)
		log_info("Deleted: %zu message%s", n, n == 1 ? "" : "s");
	qview_deleted(out, sel->queue, n, later);
	return 0;
}

/* qmgr_ctl_delete_all - "delete-all [queue]" */
static int
qmgr_ctl_delete_all(struct buf *out, const char *queue)
{
	struct qmgr_ctl_sel sel = { queue, NULL, NULL };

	if (queue != NULL && !qview_queue_name(queue)) {
		buf_printf(out, "%s: no such queue (active, deferred or "
		    "hold)\n", log_str(queue));
		return 2;
	}
	return qmgr_ctl_delete_some(out, &sel);
}

/* qmgr_ctl_delete_addr - "delete-from PATTERN" or "delete-to PATTERN" */
static int
qmgr_ctl_delete_addr(struct buf *out, const char *pat, int to)
{
	struct qmgr_ctl_sel sel = { NULL, to ? NULL : pat, to ? pat : NULL };

	if (!addr_pattern_ok(pat)) {
		buf_printf(out, "\"%s\": not an address pattern (user@domain, "
		    "@domain, domain, user@ or <>)\n", log_str(pat));
		return 2;
	}
	return qmgr_ctl_delete_some(out, &sel);
}

static int
qmgr_ctl_from_req(struct buf *out, const char *pat)
{
	return qmgr_ctl_delete_addr(out, pat, 0);
}

static int
qmgr_ctl_to_req(struct buf *out, const char *pat)
{
	return qmgr_ctl_delete_addr(out, pat, 1);
}

/* qmgr_ctl_requeue - attempts from zero, tried now */
static int
qmgr_ctl_requeue(struct buf *out, const char *qid)
{
	struct qmgr_msg *m;

	if ((m = qmgr_ctl_find(qid)) == NULL)
		return qmgr_ctl_release(out, qid, 1);
	(void)qmgr_ctl_now(m, 1);
	m->hold_wanted = 0;
	qmgr_dispatch();
	buf_printf(out, qmgr.oneshot ? "%s: requeued: will be tried as soon "
	    "as the mail system starts\n" : "%s: requeued\n", qid);
	return 0;
}

/* qmgr_ctl_reindex - write the index anew from memory */
static int
qmgr_ctl_reindex(struct buf *out)
{
	struct qmgr_msg *m;
	size_t	 n = 0;

	if (qmgr_index_reset() == -1) {
		buf_puts(out, "cannot recreate the queue index (see the mail "
		    "log)\n");
		return 1;
	}
	for (m = qmgr.all; m != NULL; m = m->all_next) {
		if (qmgr_index_put(m->qid, &m->rec) == -1) {
			buf_printf(out, "%s: cannot write its index entry\n",
			    m->qid);
			return 1;
		}
		n++;
	}
	qmgr_index_sync();
	log_info("queue index rebuilt by the administrator: %zu entries", n);
	if (qmgr.oneshot)
		buf_printf(out, "reindexed %zu message%s (%zu schedules kept, "
		    "%zu new entries, %zu damaged files moved to corrupt/)\n",
		    n, n == 1 ? "" : "s", qmgr.nkept, qmgr.nfresh, qmgr.nbad);
	else
		buf_printf(out, "reindexed %zu message%s (held messages need "
		    "no index entry)\n", n, n == 1 ? "" : "s");
	return 0;
}

/* qmgr_explain - "mailctl explain ID" (qmgr_ctl_report) */
static int
qmgr_explain(struct buf *out, const char *qid)
{
	return qmgr_ctl_report(out, qid, 1);
}

/* the requests' handlers take the one argument (NULL when none) */
static int
qmgr_ctl_list_req(struct buf *out, const char *a)
{
	return qmgr_ctl_list(out, a != NULL && strcmp(a, "json") == 0);
}

static int
qmgr_ctl_release_req(struct buf *out, const char *qid)
{
	return qmgr_ctl_release(out, qid, 0);
}

static int
qmgr_ctl_deferred_req(struct buf *out, const char *a)
{
	(void)a;
	return qmgr_ctl_delete_all(out, "deferred");
}

static int
qmgr_ctl_reindex_req(struct buf *out, const char *a)
{
	(void)a;
	return qmgr_ctl_reindex(out);
}

/*
 * the requests: name, arguments after it (at least, at most), handler,
 * and what a one-shot run (qmgr -x) does before it: open the index
 * read-only (list, show, explain: they change nothing), and say first
 * that a long walk of the queue files is coming (reindex)
 */
#define QMGR_CTL_RO	1	/* the index is opened read-only */
#define QMGR_CTL_SLOW	2	/* a first "reading the queue files" line */
static const struct qmgr_ctl_req {
	const char	*name;
	int		 min, max;
	int		(*run)(struct buf *, const char *);
	int		 flags;
} qmgr_ctl_reqs[] = {
	{ "list",		0, 1, qmgr_ctl_list_req, QMGR_CTL_RO },
	{ "show",		1, 1, qmgr_ctl_show, QMGR_CTL_RO },
	{ "flush",		0, 1, qmgr_ctl_flush, 0 },
	{ "hold",		1, 1, qmgr_ctl_hold, 0 },
	{ "release",		1, 1, qmgr_ctl_release_req, 0 },
	{ "delete",		1, 1, qmgr_ctl_delete, 0 },
	{ "delete-all",		0, 1, qmgr_ctl_delete_all, 0 },
	{ "delete-deferred",	0, 0, qmgr_ctl_deferred_req, 0 },
	{ "delete-from",	1, 1, qmgr_ctl_from_req, 0 },
	{ "delete-to",		1, 1, qmgr_ctl_to_req, 0 },
	{ "explain",		1, 1, qmgr_explain, QMGR_CTL_RO },
	{ "requeue",		1, 1, qmgr_ctl_requeue, 0 },
	{ "reindex",		0, 0, qmgr_ctl_reindex_req, QMGR_CTL_SLOW },
};

/* qmgr_ctl_req_find - the request named argv[0], NULL when unknown */
static const struct qmgr_ctl_req *
qmgr_ctl_req_find(int argc, char **argv)
{
	size_t	 i;

	for (i = 0; argc >= 1 && i < NELEM(qmgr_ctl_reqs); i++)
		if (strcmp(argv[0], qmgr_ctl_reqs[i].name) == 0)
			return &qmgr_ctl_reqs[i];
	return NULL;
}

/* qmgr_ctl_run - execute argv; the exit status */
static int
qmgr_ctl_run(struct buf *out, int argc, char **argv)
{
	const struct qmgr_ctl_req *q;

	if ((q = qmgr_ctl_req_find(argc, argv)) != NULL &&
	    argc - 1 >= q->min && argc - 1 <= q->max)
		return q->run(out, argc > 1 ? argv[1] : NULL);
	buf_puts(out, "unknown queue request\n");
	return 2;
}

/* qmgr_ctl_decode - an IPC_CTL_REQUEST's arguments; -1 when malformed */
static int
qmgr_ctl_decode(const struct ipc_msg *msg, char **argv, int *argc)
{
	struct ipc_in in;
	uint32_t n, i;

	*argc = 0;
	ipc_in_init(&in, msg);
	n = ipc_get_u32(&in);
	for (i = 0; i < n && i < QMGR_CTL_ARGS && in.err == 0; i++)
		if ((argv[*argc] = ipc_get_str(&in, 1024)) != NULL)
			(*argc)++;
	return n > QMGR_CTL_ARGS || ipc_get_end(&in) == -1 ? -1 : 0;
}

/* qmgr_ctl_request - decode and run an IPC_CTL_REQUEST */
static void
qmgr_ctl_request(struct qmgr_ctl *c, const struct ipc_msg *msg)
{
	char	*argv[QMGR_CTL_ARGS];
	int	 argc;

	if (qmgr_ctl_decode(msg, argv, &argc) == -1) {
		buf_puts(&c->out, "malformed request\n");
		c->status = 2;
	} else
		c->status = qmgr_ctl_run(&c->out, argc, argv);
	while (argc > 0)
		free(argv[--argc]);
	c->replying = 1;
}

/* qmgr_ctl_send - as much of the answer as the socket takes; 1 = done */
static int
qmgr_ctl_send(struct qmgr_ctl *c)
{
	struct ipc_out o;
	size_t	 left, n;
	int	 r;

	for (;;) {
		left = c->out.len - c->sent;
		n = left > QMGR_CTL_CHUNK ? QMGR_CTL_CHUNK : left;
		ipc_out_init(&o);
		ipc_put_u32(&o, left > n ? IPC_CTL_MORE : (uint32_t)c->status);
		ipc_put_bytes(&o, c->out.data + c->sent, n);
		r = ipc_send_out(c->fd, IPC_CTL_REPLY, &o, -1);
		ipc_out_free(&o);
		if (r == -1)
			return errno == EAGAIN ? 0 : -1;
		c->sent += n;
		if (c->sent >= c->out.len)
			return 1;
	}
}

/* qmgr_ctl_event - HELLO, the request, then the answer */
static void
qmgr_ctl_event(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr_ctl *c = arg;
	struct ipc_msg msg;
	struct timeval tv = { QMGR_CTL_TIMEOUT, 0 };
	int	 r, role;

	if (what & EV_TIMEOUT) {
		log_warn("control connection timed out");
		qmgr_ctl_drop(c);
		return;
	}
	if (c->replying) {
		if ((r = qmgr_ctl_send(c)) != 0)
			qmgr_ctl_drop(c);
		return;
	}
	r = ipc_recv(c->fd, c->role, &msg);
	if (r == -1 && errno == EAGAIN)
		return;
	if (r <= 0) {
		qmgr_ctl_drop(c);
		return;
	}
	if (c->role == 0) {
		role = ipc_hello_check(&msg, IPC_R_MAILCTL);
		ipc_msg_free(&msg);
		if (role == -1 || ipc_hello_reply(c->fd, IPC_R_QMGR) == -1) {
			qmgr_ctl_drop(c);
			return;
		}
		c->role = (unsigned)role;
		return;
	}
	if (msg.type != IPC_CTL_REQUEST) {
		ipc_msg_free(&msg);
		qmgr_ctl_drop(c);
		return;
	}
	qmgr_ctl_request(c, &msg);
	ipc_msg_free(&msg);
	event_del(c->ev);
	event_assign(c->ev, qmgr.base, c->fd, EV_WRITE | EV_PERSIST,
	    qmgr_ctl_event, c);
	event_add(c->ev, &tv);
}

/* qmgr_ctl_accept - a new mailctl connection (root only) */
static void
qmgr_ctl_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct qmgr_ctl *c;
	struct timeval tv = { QMGR_CTL_TIMEOUT, 0 };
	int	 fd;

	while ((fd = ipc_accept(lfd, 0, "control connection")) != -1) {
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		qmgr.ctl_open++;
		buf_init(&c->out, QMGR_CTL_OUTMAX);
		c->ev = event_new(qmgr.base, fd, EV_READ | EV_PERSIST,
		    qmgr_ctl_event, c);
		event_add(c->ev, &tv);
	}
}

/* qmgr_ctl_init - accept on private/control (fd from master) */
void
qmgr_ctl_init(int fd)
{
	struct event *ev;

	util_set_nonblock(fd, 1);
	ev = event_new(qmgr.base, fd, EV_READ | EV_PERSIST, qmgr_ctl_accept,
	    NULL);
	if (ev == NULL || event_add(ev, NULL) == -1)
		log_fatal("cannot watch %s", QMGR_CTL_SOCKET);
}

/* qmgr_ctl_frame - qmgr -x: one frame of text to mailctl now */
static void
qmgr_ctl_frame(uint32_t status, const char *text, size_t len)
{
	struct ipc_out o;

	if (qmgr.ctl_fd == -1)
		return;
	ipc_out_init(&o);
	ipc_put_u32(&o, status);
	ipc_put_bytes(&o, text, len);
	if (ipc_send_out(qmgr.ctl_fd, IPC_CTL_REPLY, &o, -1) == -1)
		log_warn("mailctl went away: %s", strerror(errno));
	ipc_out_free(&o);
}

/* qmgr_ctl_warn - see qmgr.h */
void
qmgr_ctl_warn(const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;
	int	 n;

	if (!qmgr.oneshot)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	qmgr_ctl_frame(IPC_CTL_WARN, line, (size_t)n);
}

/* qmgr_ctl_progress - see qmgr.h */
void
qmgr_ctl_progress(size_t nfiles)
{
	char	 line[64];
	int	 n;

	n = snprintf(line, sizeof(line), "reindex: %zu files read\n", nfiles);
	if (n > 0 && (size_t)n < sizeof(line))
		qmgr_ctl_frame(IPC_CTL_MORE, line, (size_t)n);
}

/*
 * qmgr_ctl_oneshot_run - qmgr -x: the index opened as the request needs
 * it, the queue read as at start, then the request; its exit status
 */
static int
qmgr_ctl_oneshot_run(struct buf *out, int argc, char **argv)
{
	const struct qmgr_ctl_req *q;
	int	 noindex;

	q = qmgr_ctl_req_find(argc, argv);
	qmgr.readonly = q != NULL && (q->flags & QMGR_CTL_RO);
	if ((noindex = qmgr_index_open(QINDEX_PATH, qmgr.readonly)) == -1) {
		buf_puts(out, "cannot open the queue index (see the mail "
		    "log)\n");
		return 1;
	}
	if (q != NULL && (q->flags & QMGR_CTL_SLOW)) {
		buf_printf(out, "reindex: reading the queue files%s\n",
		    noindex ? " (no readable index: every message starts as "
		    "active)" : "");
		qmgr_ctl_frame(IPC_CTL_MORE, (const char *)out->data,
		    out->len);
		buf_reset(out);
		qmgr.progress = 1;
	}
	qmgr_index_reconcile();
	qmgr_scan(0);
	qmgr.progress = 0;
	return qmgr_ctl_run(out, argc, argv);
}

/*
 * qmgr_ctl_oneshot - qmgr -x: mailctl's one request on descriptor 3 while
 * the mail system is stopped; the exit status (0 unless the exchange
 * itself failed: the request's own status goes to mailctl)
 */
int
qmgr_ctl_oneshot(struct skel *sk)
{
	struct qmgr_ctl c;
	struct ipc_msg msg;
	char	*argv[QMGR_CTL_ARGS];
	int	 argc = 0, r;

	if (sk->nlisten != 1)
		log_fatal("qmgr -x: expected mailctl's connection as "
		    "descriptor 3");
	memset(&c, 0, sizeof(c));
	c.fd = sk->listen_fd[0];
	if (ipc_hello_wait(c.fd, IPC_R_MAILCTL, util_mono_ms() + 10000) == -1 ||
	    ipc_hello_reply(c.fd, IPC_R_QMGR) == -1 ||
	    ipc_recv(c.fd, IPC_R_MAILCTL, &msg) != 1) {
		log_err("qmgr -x: no request from mailctl: %s",
		    strerror(errno));
		return 1;
	}
	r = msg.type == IPC_CTL_REQUEST ? qmgr_ctl_decode(&msg, argv, &argc) :
	    -1;
	ipc_msg_free(&msg);
	buf_init(&c.out, QMGR_CTL_OUTMAX);
	qmgr.oneshot = 1;
	qmgr.ctl_fd = c.fd;
	if (r == -1) {
		buf_puts(&c.out, "malformed request\n");
		c.status = 2;
	} else
		c.status = qmgr_ctl_oneshot_run(&c.out, argc, argv);
	while (argc > 0)
		free(argv[--argc]);
	r = qmgr_ctl_send(&c) == 1 ? 0 : 1;
	qmgr_index_sync();
	qmgr_index_close();
	buf_free(&c.out);
	close(c.fd);
	qmgr.ctl_fd = -1;
	return r;
}
