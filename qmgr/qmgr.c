/*
 * qmgr.c - the queue manager process: main(), message table, queue scans,
 * and the private/qmgr socket on which smtpd and pickup announce new
 * messages.
 *
 * Runs as mail_owner, chrooted to queue_directory.  At start it reconciles
 * the index with the files (qmgr_index.c) and takes in every message;
 * afterwards it takes in each message smtpd or pickup announces, and
 * rescans queue/ whenever one of them (re)connects (announcements may have
 * been lost while qmgr or that process was down) and every
 * queue_run_delay.
 * A queue file that cannot be decoded is moved to corrupt/ and logged.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "mcf.h"
#include "metrics_client.h"
#include "qfile.h"
#include "qid.h"
#include "skel.h"
#include "util.h"
#include "qmgr.h"

struct qmgr qmgr;

struct qmgr_conn {
	int		 fd;
	unsigned	 role;
	struct event	*ev;
};

/* qmgr_hash - bucket of a queue id */
static unsigned
qmgr_hash(const char *qid)
{
	return util_hash(qid) % QMGR_HASH;
}

/* qmgr_find - a message in memory, or NULL */
struct qmgr_msg *
qmgr_find(const char *qid)
{
	struct qmgr_msg *m;

	for (m = qmgr.hash[qmgr_hash(qid)]; m != NULL; m = m->hnext)
		if (strcmp(m->qid, qid) == 0)
			return m;
	return NULL;
}

/*
 * qmgr_done - stopping, and nothing left to finish: no delivery out and
 * no mailctl connection it accepted but has not answered yet
 */
int
qmgr_done(void)
{
	return qmgr.stopping && qmgr.local_busy == 0 && qmgr.smtp_busy == 0 &&
	    qmgr.ctl_open == 0;
}

/* qmgr_is_local - is a recipient's domain one of mydestination */
int
qmgr_is_local(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t	 i;

	if (at == NULL)
		return 1;
	for (i = 0; i < qmgr.nmydest; i++)
		if (util_strcasecmp_ascii(qmgr.mydest[i], at + 1) == 0)
			return 1;
	return 0;
}

/* qmgr_corrupt - move a damaged file aside */
static void
qmgr_corrupt(const char *path, const char *qid, const char *why)
{
	char	 dst[128];

	qmgr.nbad++;
	if (qmgr.readonly) {
		qmgr_ctl_warn("%s: damaged queue file: %s", qid, why);
		return;
	}
	snprintf(dst, sizeof(dst), "corrupt/%s", qid);
	if (rename(path, dst) == -1) {
		log_err("%s: cannot move damaged file to corrupt/: %s", qid,
		    strerror(errno));
		qmgr_ctl_warn("%s: damaged, and cannot be moved to corrupt/: "
		    "%s", qid, strerror(errno));
	} else {
		log_warn("%s: damaged queue file moved to corrupt/: %s", qid,
		    why);
		qmgr_ctl_warn("%s: moved to corrupt/", qid);
	}
}

/* qmgr_repair - cut a half-written record left by a crash during append */
static int
qmgr_repair(struct qmgr_msg *m)
{
	int	 fd, r;

	if ((fd = open(m->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	r = qfile_repair_tail(fd, &m->q);
	close(fd);
	if (r == -1)
		log_err("%s: cannot repair the end of the queue file: %s",
		    m->qid, strerror(errno));
	else
		log_warn("%s: removed a partial record at the end of the "
		    "queue file (crash during an update)", m->qid);
	return r;
}

/* qmgr_load - read a queue file into a new message; NULL on failure */
static struct qmgr_msg *
qmgr_load(const char *qid)
{
	struct qmgr_msg *m;
	char	 err[256];
	int	 fd, r;

	m = xcalloc(1, sizeof(*m));
	util_strlcpy(m->qid, qid, sizeof(m->qid));
	if (qfile_path(qid, qmgr.hash_depth, m->path, sizeof(m->path)) == -1 ||
	    (fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		free(m);
		return NULL;
	}
	r = qfile_read(fd, &m->q, err, sizeof(err));
	close(fd);
	if (r == QFILE_OK && m->q.valid_size < m->q.file_size &&
	    !qmgr.readonly && qmgr_repair(m) == -1) {
		qfile_msg_free(&m->q);
		free(m);
		return NULL;
	}
	if (r == QFILE_CORRUPT) {
		qmgr_corrupt(m->path, qid, err);
		free(m);
		return NULL;
	}
	if (r != QFILE_OK || strcmp(m->q.qid, qid) != 0) {
		if (r == QFILE_OK)
			qfile_msg_free(&m->q);
		log_err("%s: cannot read queue file: %s", qid,
		    r == QFILE_OK ? "queue id mismatch" : strerror(errno));
		qmgr_ctl_warn("%s: cannot read the queue file: %s", qid,
		    r == QFILE_OK ? "queue id mismatch" : strerror(errno));
		free(m);
		return NULL;
	}
	return m;
}

/* qmgr_take - take a message in (new, found by a scan, or at start) */
void
qmgr_take(const char *qid, int announce)
{
	struct qmgr_msg *m;
	unsigned h;
	time_t	 now = time(NULL);
	int	 known;

	if (!qid_valid(qid) || qmgr_find(qid) != NULL)
		return;
	if (++qmgr.nfiles % 1000 == 0 && qmgr.progress)
		qmgr_ctl_progress(qmgr.nfiles);
	if ((m = qmgr_load(qid)) == NULL)
		return;
	known = qmgr_index_get(qid, &m->rec) == 0;
	if (known)
		qmgr.nkept++;
	else {
		qmgr.nfresh++;
		m->rec.state = QINDEX_ACTIVE;
		m->rec.attempts = 0;
		m->rec.next_try = now;
		m->rec.arrival = m->q.arrival_sec;
		qmgr_index_put(qid, &m->rec);
		if (!qmgr.readonly)
			log_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queue "
			    "active)", qid, log_str(m->q.sender),
			    (unsigned long long)qfile_size(&m->q),
			    m->q.nrcpt);
	}
	h = qmgr_hash(qid);
	m->hnext = qmgr.hash[h];
	qmgr.hash[h] = m;
	m->all_next = qmgr.all;
	if (qmgr.all != NULL)
		qmgr.all->all_prev = m;
	qmgr.all = m;
	qmgr.nmsg++;
	if (!qmgr_pending(m, 0) && qmgr_unsent(m) == 0 && !qmgr.readonly) {
		qmgr_remove(m);
		return;
	}
	if (m->rec.state == QINDEX_HOLD)
		return;
	if (m->rec.state == QINDEX_ACTIVE || m->rec.next_try <= now)
		qmgr_ready(m);
	(void)announce;
}

/* qmgr_forget - drop a message from memory */
static void
qmgr_forget(struct qmgr_msg *m)
{
	struct qmgr_msg **pp;

	for (pp = &qmgr.hash[qmgr_hash(m->qid)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == m) {
			*pp = m->hnext;
			break;
		}
	if (m->all_prev != NULL)
		m->all_prev->all_next = m->all_next;
	else
		qmgr.all = m->all_next;
	if (m->all_next != NULL)
		m->all_next->all_prev = m->all_prev;
	qmgr.nmsg--;
	qfile_msg_free(&m->q);
	free(m->skip);
	free(m);
}

/* qmgr_remove - every recipient is final: delete file and index entry */
void
qmgr_remove(struct qmgr_msg *m)
{
	if (unlink(m->path) == -1 && errno != ENOENT) {
		log_err("%s: cannot remove %s: %s", m->qid, m->path,
		    strerror(errno));
		return;
	}
	qmgr_index_del(m->qid);
	log_info("%s: removed", m->qid);
	qmgr_forget(m);
}

/* qmgr_hold - mailctl: move the file to hold/ and forget the message */
int
qmgr_hold(struct qmgr_msg *m)
{
	char	 to[64];

	if (util_fmt(to, sizeof(to), "%s/%s", QFILE_HOLD_DIR, m->qid) == -1 ||
	    qfile_move(m->path, to) == -1) {
		log_err("%s: cannot move the queue file to hold/: %s", m->qid,
		    strerror(errno));
		return -1;
	}
	qmgr_unready(m);
	qmgr_index_del(m->qid);
	log_info("%s: held by the administrator", m->qid);
	qmgr_forget(m);
	return 0;
}

/* qmgr_delete - mailctl: remove the message, whatever its recipients */
void
qmgr_delete(struct qmgr_msg *m)
{
	qmgr_unready(m);
	if (unlink(m->path) == -1 && errno != ENOENT) {
		log_err("%s: cannot remove %s: %s", m->qid, m->path,
		    strerror(errno));
		return;
	}
	qmgr_index_del(m->qid);
	log_info("%s: removed", m->qid);	/* postsuper's words */
	qmgr_forget(m);
}

/* qmgr_scan_dir - take in every message file below dir */
static void
qmgr_scan_dir(const char *dir, int depth)
{
	DIR	*d;
	struct dirent *de;
	char	 path[256];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (depth < qmgr.hash_depth) {
			if (util_fmt(path, sizeof(path), "%s/%s", dir,
			    de->d_name) == 0)
				qmgr_scan_dir(path, depth + 1);
		} else if (qmgr_find(de->d_name) == NULL)
			qmgr_take(de->d_name, 0);
	}
	closedir(d);
}

/* qmgr_scan - find messages nobody told us about */
void
qmgr_scan(int why)
{
	qmgr_scan_dir("queue", 0);
	qmgr.scan_wanted = 0;
	qmgr_dispatch();
	(void)why;
}

/* qmgr_conn_drop - close a client connection */
static void
qmgr_conn_drop(struct qmgr_conn *c)
{
	event_free(c->ev);
	close(c->fd);
	free(c);
}

/* qmgr_new_qid - the queue id of an IPC_QMGR_NEW frame, or NULL */
static char *
qmgr_new_qid(const struct ipc_msg *msg)
{
	struct ipc_in in;
	char	*qid;

	ipc_in_init(&in, msg);
	if ((qid = ipc_get_str(&in, QID_LEN)) == NULL)
		return NULL;
	if (ipc_get_end(&in) == -1) {
		free(qid);
		return NULL;
	}
	return qid;
}

/* qmgr_conn_read - frames from smtpd or pickup */
static void
qmgr_conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr_conn *c = arg;
	struct ipc_msg msg;
	char	*qid;
	int	 r, role;

	for (;;) {
		r = ipc_recv(c->fd, c->role, &msg);
		if (r == -1 && errno == EAGAIN)
			return;
		if (r <= 0) {
			qmgr_conn_drop(c);
			return;
		}
		if (c->role == 0) {
			role = ipc_hello_check(&msg, IPC_R_SMTPD |
			    IPC_R_PICKUP);
			if (role == -1 || ipc_hello_reply(c->fd, IPC_R_QMGR) ==
			    -1) {
				ipc_msg_free(&msg);
				qmgr_conn_drop(c);
				return;
			}
			c->role = (unsigned)role;
			/* a writer (re)started: notices may have been lost */
			qmgr.scan_wanted = 1;
		} else if (msg.type == IPC_QMGR_NEW &&
		    (qid = qmgr_new_qid(&msg)) != NULL) {
			qmgr_take(qid, 1);
			free(qid);
			qmgr_dispatch();
		} else {
			log_warn("unexpected frame type %u from %s",
			    msg.type, c->role == IPC_R_PICKUP ? "pickup" :
			    "smtpd");
			ipc_msg_free(&msg);
			qmgr_conn_drop(c);
			return;
		}
		ipc_msg_free(&msg);
	}
}

/* qmgr_accept - a new smtpd or pickup connection */
static void
qmgr_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct qmgr_conn *c;
	int	 fd;

	while ((fd = ipc_accept(lfd, geteuid(), "connection")) != -1) {
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->ev = event_new(qmgr.base, fd, EV_READ | EV_PERSIST,
		    qmgr_conn_read, c);
		event_add(c->ev, NULL);
	}
}

/* qmgr_tick_cb - once a second: due retries, rescans, index sync */
static void
qmgr_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	static time_t last_scan;
	time_t	 now = time(NULL);

	if (qmgr.stopping) {
		if (qmgr_done())
			event_base_loopbreak(qmgr.base);
		return;
	}
	if (qmgr.scan_wanted || now - last_scan >= qmgr.run_delay) {
		last_scan = now;
		qmgr_scan(0);
	}
	qmgr_tick_due(now);
	qmgr_dispatch();
	qmgr_index_sync();
}

/* qmgr_count_dir - files in a queue directory (hold/, incoming/) */
static uint64_t
qmgr_count_dir(const char *dir)
{
	struct dirent *de;
	uint64_t n = 0;
	DIR	*d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* qmgr_metrics_tick - metrics: the queue's sizes and its oldest message */
static void
qmgr_metrics_tick(void)
{
	const struct qmgr_msg *m;
	uint64_t active = 0, deferred = 0;
	time_t	 now = time(NULL), oldest = now;

	for (m = qmgr.all; m != NULL; m = m->all_next) {
		if (m->rec.state == QINDEX_DEFERRED)
			deferred++;
		else
			active++;
		if (m->q.arrival_sec < oldest)
			oldest = m->q.arrival_sec;
	}
	metrics_client_gauge(METRIC_QUEUE_MESSAGES, "active", NULL, active);
	metrics_client_gauge(METRIC_QUEUE_MESSAGES, "deferred", NULL,
	    deferred);
	metrics_client_gauge(METRIC_QUEUE_MESSAGES, "hold", NULL,
	    qmgr_count_dir("hold"));
	metrics_client_gauge(METRIC_QUEUE_MESSAGES, "incoming", NULL,
	    qmgr_count_dir("incoming"));
	metrics_client_gauge(METRIC_QUEUE_OLDEST, NULL, NULL,
	    (uint64_t)(now - oldest));
}

/* qmgr_pre_jail - settings, and from master.cf the delivery services */
static void
qmgr_pre_jail(struct skel *sk)
{
	const struct mcf_service *svc;
	struct mcf mcf;
	size_t	 i;
	char	 path[4096], err[512];
	int	 ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	qmgr.cfg = sk->cfg;
	qmgr.hash_depth = (int)cfg_int(sk->cfg, "hash_queue_depth");
	qmgr.relayhost = cfg_str(sk->cfg, "relayhost");
	qmgr.hostname = cfg_str(sk->cfg, "myhostname");
	qmgr.max_life = cfg_time(sk->cfg, "maximal_queue_lifetime");
	qmgr.bounce_life = cfg_time(sk->cfg, "bounce_queue_lifetime");
	qmgr.delay_warn = cfg_time(sk->cfg, "delay_warning_time");
	qmgr.dest_limit = (int)cfg_int(sk->cfg,
	    "default_destination_concurrency_limit");
	/* as many requests out as master runs processes for the service */
	memset(&mcf, 0, sizeof(mcf));
	if (util_fmt(path, sizeof(path), "%s/master.cf", sk->config_dir) ==
	    -1 || mcf_load(path, (int)cfg_int(sk->cfg,
	    "default_process_limit"), &mcf, err, sizeof(err)) == -1)
		log_fatal("master.cf: %s", err);
	mcf_add_defaults(&mcf, (int)cfg_int(sk->cfg, "default_process_limit"));
	/* by name and type: "smtp inet" is the listener, not the client */
	for (i = 0; i < mcf.nsvc; i++) {
		svc = &mcf.svc[i];
		if (svc->type != MCF_UNIX)
			continue;
		if (strcmp(svc->name, "local") == 0)
			qmgr.local_limit = mcf_process_count(svc, ncpu);
		else if (strcmp(svc->name, "smtp") == 0) {
			qmgr.smtp_ok = 1;
			qmgr.smtp_limit = mcf_process_count(svc, ncpu);
		}
	}
	mcf_free(&mcf);
	qmgr.smtp_batch = (int)cfg_int(sk->cfg,
	    "default_destination_recipient_limit");
	qmgr.dest_cap = qmgr.smtp_limit;
	if (qmgr.smtp_limit >= 2)
		qmgr.dest_cap -= qmgr.smtp_limit / 4 > 1 ?
		    qmgr.smtp_limit / 4 : 1;
}

/* qmgr_post_jail - index, reconcile, first scan, events */
static void
qmgr_post_jail(struct skel *sk)
{
	struct timeval tv = { 1, 0 };
	size_t	 i;

	qmgr.base = sk->base;
	qmgr.dup_limit = (size_t)cfg_int(sk->cfg, "duplicate_filter_limit");
	qmgr.dkim_on = cfg_bool(sk->cfg, "dkim_signing");
	qmgr.mydest = cfg_list(sk->cfg, "mydestination", &qmgr.nmydest);
	for (i = 0; i < qmgr.nmydest; i++)
		util_lowercase(qmgr.mydest[i]);
	qmgr.min_backoff = cfg_time(sk->cfg, "minimal_backoff_time");
	qmgr.max_backoff = cfg_time(sk->cfg, "maximal_backoff_time");
	qmgr.run_delay = cfg_time(sk->cfg, "queue_run_delay");
	if (qmgr.run_delay < 1)
		qmgr.run_delay = 1;
	if (qmgr.local_limit < 1)
		qmgr.local_limit = 1;
	if (sk->nlisten != 2)
		log_fatal("expected two listening sockets from master "
		    "(private/%s and %s)", sk->service, QMGR_CTL_SOCKET);
	if (qmgr_index_open(QINDEX_PATH, 0) == -1)
		log_fatal("cannot open the queue index");
	qmgr_ctl_init(sk->listen_fd[1]);
	qmgr_index_reconcile();
	qmgr_scan(1);
	qmgr.listen_fd = sk->listen_fd[0];
	util_set_nonblock(qmgr.listen_fd, 1);
	qmgr.listen_ev = event_new(qmgr.base, qmgr.listen_fd,
	    EV_READ | EV_PERSIST, qmgr_accept, NULL);
	event_add(qmgr.listen_ev, NULL);
	qmgr.tick = event_new(qmgr.base, -1, EV_PERSIST, qmgr_tick_cb, NULL);
	event_add(qmgr.tick, &tv);
	metrics_client_start(qmgr.base, sk->cfg, "private/anvil", IPC_R_QMGR,
	    qmgr_metrics_tick);
	log_info("started: %zu messages in the queue", qmgr.nmsg);
}

/* qmgr_stop - finish deliveries in flight, then exit */
static void
qmgr_stop(struct skel *sk)
{
	qmgr.stopping = 1;
	if (qmgr_done())
		skel_break(sk);
}

static const struct skel_ops qmgr_ops = {
	.name = "qmgr",
	.pre_jail = qmgr_pre_jail,
	.post_jail = qmgr_post_jail,
	.stop = qmgr_stop,
	.oneshot = qmgr_ctl_oneshot,
};

/* main - run the queue manager */
int
main(int argc, char **argv)
{
	int	 r;

	qmgr.ctl_fd = -1;
	r = skel_main(argc, argv, &qmgr_ops);
	qmgr_index_close();
	return r;
}
