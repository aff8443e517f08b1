/*
 * mailctl_queue.c - "mailctl queue": the admin's view of and control over
 * the mail queue.
 *
 *	mailctl queue list [--json]
 *	mailctl queue show ID
 *	mailctl queue flush [ID | DOMAIN]
 *	mailctl queue hold ID
 *	mailctl queue release ID
 *	mailctl queue delete ID | ALL [active | deferred | hold] |
 *	    --all-deferred
 *	mailctl queue requeue ID
 *	mailctl queue reindex
 *
 * While the mail system runs every request goes to qmgr on its control
 * socket (qmgr_ctl.c): qmgr owns the queue's state, and nothing else
 * changes files it is working on.  When the mail system is stopped,
 * mailctl does the same on the files itself, chrooted to the queue
 * directory as mail_owner (lib/privdrop), so what it creates (hold/ moves,
 * a rebuilt index) belongs to the mail system; "flush" and "requeue" then
 * mark messages to be tried as soon as it starts.  Both ways print through
 * lib/qview, so the output is the same, and both print errors on stderr.
 * Only root may run these commands (qmgr answers root only).
 * Exit status: 0 done, 1 failed, 2 usage error.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "ipc.h"
#include "log.h"
#include "mailctl.h"
#include "privdrop.h"
#include "qfile.h"
#include "qid.h"
#include "qindex.h"
#include "qview.h"
#include "util.h"

#define MQ_PROGRESS	1000		/* reindex: a progress line per files */
#define MQ_ANSWER_MAX	((size_t)256 * 1024 * 1024) /* qmgr's, but list */

struct mq {
	const struct cfg *cfg;
	int		 depth;		/* hash_queue_depth */
	struct db	*db;		/* the index, when it could be opened */
	int		 json;
	const char	*domain;	/* flush DOMAIN */
	const char	*queue;		/* delete ALL QUEUE, NULL: all */
	size_t		 n;
	uint64_t	 bytes;
	int		 rc;
};

/* mq_usage - the queue commands */
static int
mq_usage(void)
{
	fprintf(stderr, "usage: mailctl queue list [--json]\n"
	    "       mailctl queue show ID\n"
	    "       mailctl queue flush [ID | DOMAIN]\n"
	    "       mailctl queue hold ID | release ID | requeue ID\n"
	    "       mailctl queue delete ID | ALL [active | deferred | hold]"
	    " | --all-deferred\n"
	    "       mailctl queue reindex\n");
	return 2;
}

/* mq_args - the command line as qmgr's request; -1 on a usage error */
static int
mq_args(int argc, char **argv, char **req, int *nreq)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	*nreq = 0;
	if (strcmp(cmd, "list") == 0 && argc <= 3) {
		req[(*nreq)++] = "list";
		if (argc == 3) {
			if (strcmp(argv[2], "--json") != 0)
				return -1;
			req[(*nreq)++] = "json";
		}
		return 0;
	}
	if (strcmp(cmd, "delete") == 0 && argc == 3 &&
	    strcmp(argv[2], "--all-deferred") == 0) {
		req[(*nreq)++] = "delete-all";
		req[(*nreq)++] = "deferred";
		return 0;
	}
	/* postsuper -d ALL [queue] */
	if (strcmp(cmd, "delete") == 0 && (argc == 3 || argc == 4) &&
	    strcmp(argv[2], "ALL") == 0) {
		if (argc == 4 && !qview_queue_name(argv[3])) {
			fprintf(stderr, "mailctl: queue delete ALL: no queue "
			    "\"%s\" (active, deferred or hold)\n",
			    log_str(argv[3]));
			return -1;
		}
		req[(*nreq)++] = "delete-all";
		if (argc == 4)
			req[(*nreq)++] = argv[3];
		return 0;
	}
	if ((strcmp(cmd, "flush") == 0 && argc <= 3) ||
	    (strcmp(cmd, "reindex") == 0 && argc == 2) ||
	    ((strcmp(cmd, "show") == 0 || strcmp(cmd, "hold") == 0 ||
	    strcmp(cmd, "release") == 0 || strcmp(cmd, "delete") == 0 ||
	    strcmp(cmd, "requeue") == 0) && argc == 3)) {
		req[(*nreq)++] = argv[1];
		if (argc == 3) {
			if (argv[2][0] == '-' || strlen(argv[2]) > 255)
				return -1;
			req[(*nreq)++] = argv[2];
		}
		return 0;
	}
	return -1;
}

/* mq_rec - the index record of a message; 0 found */
static int
mq_rec(struct mq *q, const char *qid, struct qindex_rec *r)
{
	struct buf v;
	int	 rc = -1;

	if (q->db == NULL)
		return -1;
	buf_init(&v, 256);
	if (db_get(q->db, qid, strlen(qid), &v) == 0 &&
	    qindex_decode(v.data, v.len, r) == 0)
		rc = 0;
	buf_free(&v);
	return rc;
}

/* mq_put - write an index record; 0 or -1 (message printed) */
static int
mq_put(struct mq *q, const char *qid, const struct qindex_rec *r)
{
	unsigned char v[QINDEX_LEN];

	qindex_encode(r, v);
	if (q->db == NULL || db_put(q->db, qid, strlen(qid), v,
	    sizeof(v)) == -1) {
		fprintf(stderr, "mailctl: %s: cannot update the queue index%s%s\n",
		    qid, q->db != NULL ? ": " : " (it could not be opened; "
		    "try \"mailctl queue reindex\")", q->db != NULL ?
		    db_error(q->db) : "");
		return -1;
	}
	return 0;
}

/* mq_view - a message file's view: state from the index */
static void
mq_view(struct mq *q, const struct qfile_msg *m, int held, struct qview *v)
{
	struct qindex_rec r;

	memset(v, 0, sizeof(*v));
	v->q = m;
	v->state = held ? "hold" : "active";
	if (!held && mq_rec(q, m->qid, &r) == 0) {
		v->state = qindex_state_name(r.state);
		v->attempts = r.attempts;
		if (r.state == QINDEX_DEFERRED)
			v->next_try = r.next_try;
	}
}

/* mq_read - open and decode a queue file; fd >= 0 on success */
static int
mq_read(const char *path, const char *qid, struct qfile_msg *m)
{
	char	 err[256];
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (qfile_read(fd, m, err, sizeof(err)) != QFILE_OK) {
		fprintf(stderr, "mailctl: %s: damaged queue file: %s\n", qid,
		    err);
		close(fd);
		return -1;
	}
	if (strcmp(m->qid, qid) != 0) {
		fprintf(stderr, "mailctl: %s: queue id mismatch in %s\n", qid,
		    path);
		qfile_msg_free(m);
		close(fd);
		return -1;
	}
	return fd;
}

/* mq_walk - fn(q, path, qid) for every file in queue/ (hashed) */
static void
mq_walk(struct mq *q, const char *dir, int depth,
    void (*fn)(struct mq *, const char *, const char *, int))
{
	DIR	*d;
	struct dirent *de;
	char	 path[256];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || util_fmt(path, sizeof(path),
		    "%s/%s", dir, de->d_name) == -1)
			continue;
		if (depth < q->depth && strcmp(dir, QFILE_HOLD_DIR) != 0)
			mq_walk(q, path, depth + 1, fn);
		else if (qid_valid(de->d_name))
			fn(q, path, de->d_name, strcmp(dir, QFILE_HOLD_DIR) ==
			    0);
	}
	closedir(d);
}

/* mq_list_one - one file of the list */
static void
mq_list_one(struct mq *q, const char *path, const char *qid, int held)
{
	struct qfile_msg m;
	struct qview v;
	struct buf out;
	int	 fd;

	if ((fd = mq_read(path, qid, &m)) == -1)
		return;
	close(fd);
	mq_view(q, &m, held, &v);
	buf_init(&out, 16 * 1024 * 1024);
	qview_list(&out, &v, q->json);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	q->n++;
	q->bytes += qfile_size(&m);
	qfile_msg_free(&m);
}

/* mq_path - where a message's file is: queue/ or hold/; 1 held, -1 none */
static int
mq_path(struct mq *q, const char *qid, char *path, size_t len)
{
	if (qid_valid(qid) && qfile_path(qid, q->depth, path, len) == 0 &&
	    access(path, F_OK) == 0)
		return 0;
	if (qid_valid(qid) && util_fmt(path, len, "%s/%s", QFILE_HOLD_DIR,
	    qid) == 0 && access(path, F_OK) == 0)
		return 1;
	fprintf(stderr, "mailctl: %s: no such message in the queue\n",
	    log_str(qid));
	return -1;
}

/* mq_show - one message's report */
static int
mq_show(struct mq *q, const char *qid)
{
	struct qfile_msg m;
	struct qview v;
	struct buf out;
	char	 path[64];
	int	 held, fd, r;

	if ((held = mq_path(q, qid, path, sizeof(path))) == -1 ||
	    (fd = mq_read(path, qid, &m)) == -1)
		return 1;
	mq_view(q, &m, held, &v);
	buf_init(&out, 16 * 1024 * 1024);
	r = qview_show(&out, fd, &v);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	close(fd);
	qfile_msg_free(&m);
	return r == 0 ? 0 : 1;
}

/* mq_now - mark a message to be tried at start; 1 when changed */
static int
mq_now(struct mq *q, const char *qid, int reset)
{
	struct qindex_rec r;

	if (mq_rec(q, qid, &r) == -1)
		return 0;	/* no entry: taken in as new at start */
	if (r.state != QINDEX_DEFERRED && !reset)
		return 0;
	r.state = QINDEX_ACTIVE;
	r.next_try = (int64_t)time(NULL);
	if (reset)
		r.attempts = 0;
	return mq_put(q, qid, &r) == 0;
}

/* mq_flush_one - flush DOMAIN: a file with a pending recipient there */
static void
mq_flush_one(struct mq *q, const char *path, const char *qid, int held)
{
	struct qfile_msg m;
	int	 fd;

	if (held || (fd = mq_read(path, qid, &m)) == -1)
		return;
	close(fd);
	if (qview_has_domain(&m, q->domain) && mq_now(q, qid, 0))
		q->n++;
	qfile_msg_free(&m);
}

/* mq_flush_all - flush: every deferred message */
static void
mq_flush_all(struct mq *q, const char *path, const char *qid, int held)
{
	(void)path;
	if (!held && mq_now(q, qid, 0))
		q->n++;
}

/* mq_flush - stopped: mark deferred mail to be tried at start */
static int
mq_flush(struct mq *q, const char *what)
{
	char	 path[64];
	int	 r;

	if (what != NULL && qid_valid(what)) {
		if ((r = mq_path(q, what, path, sizeof(path))) == 1)
			fprintf(stderr, "mailctl: %s: is on hold (\"mailctl "
			    "queue release\" lets it go)\n", what);
		if (r != 0)
			return 1;
		mq_now(q, what, 0);
		printf("%s: will be tried as soon as the mail system starts\n",
		    what);
		return 0;
	}
	q->domain = what;
	mq_walk(q, "queue", 0, what != NULL ? mq_flush_one : mq_flush_all);
	printf("%zu deferred message%s will be tried as soon as the mail "
	    "system starts\n", q->n, q->n == 1 ? "" : "s");
	return 0;
}

/* mq_del - drop an index entry (missing is fine) */
static void
mq_del(struct mq *q, const char *qid)
{
	if (q->db != NULL)
		(void)db_del(q->db, qid, strlen(qid));
}

/* mq_hold - queue/ -> hold/ */
static int
mq_hold(struct mq *q, const char *qid)
{
	char	 path[64], to[64];
	int	 r;

	if ((r = mq_path(q, qid, path, sizeof(path))) == -1)
		return 1;
	if (r == 1) {
		printf("%s: already on hold\n", qid);
		return 0;
	}
	if (util_fmt(to, sizeof(to), "%s/%s", QFILE_HOLD_DIR, qid) == -1 ||
	    qfile_move(path, to) == -1) {
		fprintf(stderr, "mailctl: %s: cannot move it to hold/: %s\n",
		    qid, strerror(errno));
		return 1;
	}
	mq_del(q, qid);
	printf("%s: held\n", qid);
	return 0;
}

/* mq_release - hold/ -> queue/, as a new message (tried first at start) */
static int
mq_release(struct mq *q, const char *qid)
{
	char	 path[64], to[64];
	int	 r;

	if ((r = mq_path(q, qid, path, sizeof(path))) == -1)
		return 1;
	if (r == 0) {
		fprintf(stderr, "mailctl: %s: not on hold\n", qid);
		return 1;
	}
	if (qfile_path(qid, q->depth, to, sizeof(to)) == -1 ||
	    qfile_move(path, to) == -1) {
		fprintf(stderr, "mailctl: %s: cannot move it back to the "
		    "queue: %s\n", qid, strerror(errno));
		return 1;
	}
	mq_del(q, qid);
	printf("%s: released\n", qid);
	return 0;
}

/* mq_delete - remove one message */
static int
mq_delete(struct mq *q, const char *qid)
{
	char	 path[64], dir[64];

	if (mq_path(q, qid, path, sizeof(path)) == -1)
		return 1;
	if (unlink(path) == -1) {
		fprintf(stderr, "mailctl: %s: cannot remove %s: %s\n", qid,
		    path, strerror(errno));
		return 1;
	}
	util_strlcpy(dir, path, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	(void)util_fsync_dir(dir);
	mq_del(q, qid);
	printf("%s: deleted\n", qid);
	return 0;
}

/* mq_delete_one - remove a file of a "delete ALL" (in q->queue) */
static void
mq_delete_one(struct mq *q, const char *path, const char *qid, int held)
{
	struct qindex_rec r;
	const char *st;
	char	 dir[256];

	st = held ? "hold" : mq_rec(q, qid, &r) == 0 &&
	    r.state == QINDEX_DEFERRED ? "deferred" : "active";
	if (q->queue != NULL && strcmp(q->queue, st) != 0)
		return;
	if (unlink(path) == -1) {
		fprintf(stderr, "mailctl: %s: cannot remove %s: %s\n", qid,
		    path, strerror(errno));
		q->rc = 1;
		return;
	}
	util_strlcpy(dir, path, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	(void)util_fsync_dir(dir);
	if (!held)
		mq_del(q, qid);
	q->n++;
}

/* mq_delete_all - delete ALL [queue] while stopped */
static int
mq_delete_all(struct mq *q, const char *queue)
{
	struct buf out;

	q->queue = queue;
	if (queue == NULL || strcmp(queue, "hold") != 0)
		mq_walk(q, "queue", 0, mq_delete_one);
	if (queue == NULL || strcmp(queue, "hold") == 0)
		mq_walk(q, QFILE_HOLD_DIR, 0, mq_delete_one);
	buf_init(&out, 4096);
	qview_deleted(&out, queue, q->n, 0);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	return q->rc;
}

/* mq_requeue - attempts from zero, tried at start (held: released) */
static int
mq_requeue(struct mq *q, const char *qid)
{
	char	 path[64];
	int	 r;

	if ((r = mq_path(q, qid, path, sizeof(path))) == -1)
		return 1;
	if (r == 1)
		return mq_release(q, qid);
	mq_now(q, qid, 1);
	printf("%s: requeued: will be tried as soon as the mail system "
	    "starts\n", qid);
	return 0;
}

struct mq_old {
	struct db	*db;		/* the new index */
	struct mq	*q;
	size_t		 files, kept, fresh, bad;
};

static struct mq_old mq_rebuild;

/* mq_reindex_one - one queue file into the new index */
static void
mq_reindex_one(struct mq *q, const char *path, const char *qid, int held)
{
	struct qfile_msg m;
	struct qindex_rec r;
	unsigned char v[QINDEX_LEN];
	char	 dst[64];
	int	 fd;

	if (held)
		return;
	if (++mq_rebuild.files % MQ_PROGRESS == 0) {
		printf("reindex: %zu files read\n", mq_rebuild.files);
		fflush(stdout);
	}
	if ((fd = mq_read(path, qid, &m)) == -1) {
		if (util_fmt(dst, sizeof(dst), "corrupt/%s", qid) == 0 &&
		    rename(path, dst) == 0)
			fprintf(stderr, "mailctl: %s: moved to corrupt/\n", qid);
		mq_rebuild.bad++;
		return;
	}
	close(fd);
	if (mq_rec(q, qid, &r) == 0)
		mq_rebuild.kept++;
	else {
		r.state = QINDEX_ACTIVE;
		r.attempts = 0;
		r.next_try = (int64_t)time(NULL);
		r.arrival = m.arrival_sec;
		mq_rebuild.fresh++;
	}
	qfile_msg_free(&m);
	qindex_encode(&r, v);
	if (db_put(mq_rebuild.db, qid, strlen(qid), v, sizeof(v)) == -1) {
		fprintf(stderr, "mailctl: %s: cannot write the index entry: "
		    "%s\n", qid, db_error(mq_rebuild.db));
		q->rc = 1;
	}
}

/* mq_reindex - build the index anew from the files, keeping schedules */
static int
mq_reindex(struct mq *q)
{
	char	 err[512], tmp[64];

	util_fmt(tmp, sizeof(tmp), "%s.new", QINDEX_PATH);
	(void)unlink(tmp);
	if ((mq_rebuild.db = db_open(tmp, DB_T_CREATE | DB_T_TRUNCATE, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "mailctl: cannot create %s: %s\n", tmp, err);
		return 1;
	}
	printf("reindex: reading the queue files%s\n", q->db != NULL ? "" :
	    " (no readable index: every message starts as active)");
	mq_walk(q, "queue", 0, mq_reindex_one);
	if (db_sync(mq_rebuild.db) == -1 || db_close(mq_rebuild.db) == -1 ||
	    q->rc != 0 || rename(tmp, QINDEX_PATH) == -1 ||
	    util_fsync_dir("index") == -1) {
		fprintf(stderr, "mailctl: the new index could not be "
		    "installed: %s\n", strerror(errno));
		(void)unlink(tmp);
		return 1;
	}
	printf("reindexed %zu message%s (%zu schedules kept, %zu new "
	    "entries, %zu damaged files moved to corrupt/)\n",
	    mq_rebuild.kept + mq_rebuild.fresh, mq_rebuild.kept +
	    mq_rebuild.fresh == 1 ? "" : "s", mq_rebuild.kept,
	    mq_rebuild.fresh, mq_rebuild.bad);
	return 0;
}

/* mq_offline - the mail system is stopped: work on the files */
static int
mq_offline(const struct cfg *cfg, int nreq, char **req)
{
	struct mq q;
	char	 err[512];
	uid_t	 uid;
	gid_t	 gid;
	int	 ro, rc;
	const char *owner = cfg_str(cfg, "mail_owner");

	memset(&q, 0, sizeof(q));
	q.cfg = cfg;
	q.depth = (int)cfg_int(cfg, "hash_queue_depth");
	if (privdrop_lookup(owner, &uid, &gid) == -1) {
		fprintf(stderr, "mailctl: mail_owner %s does not exist\n",
		    owner);
		return 1;
	}
	if (access(cfg_str(cfg, "queue_directory"), F_OK) == -1) {
		fprintf(stderr, "mailctl: %s: %s\n", cfg_str(cfg,
		    "queue_directory"), strerror(errno));
		return 1;
	}
	privdrop(cfg_str(cfg, "queue_directory"), uid, gid);
	ro = strcmp(req[0], "list") == 0 || strcmp(req[0], "show") == 0;
	if (strcmp(req[0], "reindex") != 0 || access(QINDEX_PATH, F_OK) == 0)
		q.db = db_open(QINDEX_PATH, ro ? DB_T_RDONLY : DB_T_CREATE,
		    err, sizeof(err));
	if (q.db == NULL && strcmp(req[0], "reindex") != 0 &&
	    access(QINDEX_PATH, F_OK) == 0)
		fprintf(stderr, "mailctl: the queue index cannot be read (%s);"
		    " \"mailctl queue reindex\" rebuilds it\n", err);
	if (strcmp(req[0], "list") == 0) {
		q.json = nreq > 1;
		if (!q.json) {
			struct buf h;

			buf_init(&h, 4096);
			qview_list_header(&h);
			fwrite(h.data, 1, h.len, stdout);
			buf_free(&h);
		}
		mq_walk(&q, "queue", 0, mq_list_one);
		mq_walk(&q, QFILE_HOLD_DIR, 0, mq_list_one);
		if (!q.json) {
			struct buf f;

			buf_init(&f, 4096);
			qview_list_footer(&f, q.n, q.bytes);
			fwrite(f.data, 1, f.len, stdout);
			buf_free(&f);
		}
		rc = 0;
	} else if (strcmp(req[0], "show") == 0)
		rc = mq_show(&q, req[1]);
	else if (strcmp(req[0], "flush") == 0)
		rc = mq_flush(&q, nreq > 1 ? req[1] : NULL);
	else if (strcmp(req[0], "hold") == 0)
		rc = mq_hold(&q, req[1]);
	else if (strcmp(req[0], "release") == 0)
		rc = mq_release(&q, req[1]);
	else if (strcmp(req[0], "delete") == 0)
		rc = mq_delete(&q, req[1]);
	else if (strcmp(req[0], "delete-all") == 0)
		rc = mq_delete_all(&q, nreq > 1 ? req[1] : NULL);
	else if (strcmp(req[0], "requeue") == 0)
		rc = mq_requeue(&q, req[1]);
	else {
		if (q.db != NULL)
			db_close(q.db);
		q.db = NULL;
		if (access(QINDEX_PATH, F_OK) == 0)
			q.db = db_open(QINDEX_PATH, DB_T_RDONLY, err,
			    sizeof(err));
		rc = mq_reindex(&q);
	}
	if (q.db != NULL && db_close(q.db) == -1 && !ro) {
		fprintf(stderr, "mailctl: cannot close the queue index\n");
		rc = 1;
	}
	return rc;
}

/* mq_relay - qmgr's answer: stdout, or stderr as errors on failure */
static void
mq_relay(const struct buf *out, int status)
{
	const char *p = (const char *)out->data, *end = p + out->len, *nl;
	size_t	 n;

	if (status == 0) {
		fwrite(out->data, 1, out->len, stdout);
		return;
	}
	for (; p < end; p += n) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		fprintf(stderr, "mailctl: %.*s%s", (int)n, p, nl != NULL ? "" :
		    "\n");
	}
}

/*
 * mailctl_queue_main - see mailctl.h.  A list is written as it comes; any
 * other answer is short, and kept until its status says whether it is an
 * error (stderr, like the messages of the stopped case) or not.
 */
int
mailctl_queue_main(const struct cfg *cfg, const char *sock, int argc,
    char **argv)
{
	struct buf out;
	char	*req[3], path[4096];
	int	 nreq, r, list;

	if (mq_args(argc, argv, req, &nreq) == -1)
		return mq_usage();
	if (geteuid() != 0) {
		/* qmgr answers root only; the stopped case needs the chroot */
		fprintf(stderr, "mailctl: the queue commands must be run as "
		    "root\n");
		return 1;
	}
	buf_init(&out, 4096);
	r = mailctl_request(sock, "ping", &out);
	buf_free(&out);
	if (r != 0)
		return mq_offline(cfg, nreq, req);
	if (util_fmt(path, sizeof(path), "%s/%s", cfg_str(cfg,
	    "queue_directory"), IPC_QMGR_CONTROL) == -1)
		return 1;
	fflush(stdout);
	list = strcmp(req[0], "list") == 0;
	buf_init(&out, MQ_ANSWER_MAX);
	if ((r = mailctl_call(path, IPC_R_QMGR, nreq, req, list ? stdout :
	    NULL, &out)) == -1) {
		fflush(stdout);
		fprintf(stderr, "mailctl: the mail system runs but its queue "
		    "manager does not answer on %s; try again in a moment\n",
		    path);
		buf_free(&out);
		return 1;
	}
	if (!list)
		mq_relay(&out, r);
	buf_free(&out);
	fflush(stdout);
	return r;
}
