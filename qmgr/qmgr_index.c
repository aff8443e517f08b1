/*
 * qmgr_index.c - the queue index: queue id -> state, attempts, next try.
 *
 * The index is a cache of scheduling state; the queue files are the truth.
 * At start entries whose file is gone are dropped (and files without an
 * entry are added by the scan).  An index that cannot be opened is removed
 * and rebuilt from the files - nothing finished is redone, since final
 * results live in the files' done records.
 *
 * The record layout is qindex.h's.  qmgr -x answering "list" or
 * "show" opens it read-only (it may be missing) and writes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "qid.h"
#include "qfile.h"
#include "qindex.h"
#include "util.h"
#include "qmgr.h"

static struct db *qmgr_db;
static int qmgr_db_dirty;

/* qmgr_index_reset - close the index and start it again empty */
int
qmgr_index_reset(void)
{
	char	 err[512];

	if (qmgr_db != NULL)
		db_close(qmgr_db);
	if ((qmgr_db = db_open(QINDEX_PATH, DB_T_CREATE | DB_T_TRUNCATE, err,
	    sizeof(err))) == NULL) {
		log_err("cannot recreate queue index %s: %s", QINDEX_PATH,
		    err);
		return -1;
	}
	qmgr_db_dirty = 1;
	return 0;
}

/* qmgr_index_open - open (or rebuild) the index; read-only: never made */
int
qmgr_index_open(const char *path, int ro)
{
	char	 err[512];
	int	 fresh = access(path, F_OK) == -1;

	if (ro) {
		qmgr_db = db_open(path, DB_T_RDONLY, err, sizeof(err));
		if (qmgr_db == NULL && !fresh)
			qmgr_ctl_warn("the queue index cannot be read (%s); "
			    "\"mailctl queue reindex\" rebuilds it", err);
		return qmgr_db == NULL ? 1 : 0;
	}
	if ((qmgr_db = db_open(path, DB_T_CREATE, err, sizeof(err))) != NULL)
		return fresh;
	log_warn("queue index %s unusable (%s): rebuilding it from the "
	    "queue files", path, err);
	if ((qmgr_db = db_open(path, DB_T_CREATE | DB_T_TRUNCATE, err,
	    sizeof(err))) != NULL)
		return 1;
	log_err("cannot create queue index %s: %s", path, err);
	return -1;
}

/* qmgr_index_get - 0 found, -1 not found or bad */
int
qmgr_index_get(const char *qid, struct qindex_rec *r)
{
	struct buf v;
	int	 rc = -1;

	if (qmgr_db == NULL)
		return -1;
	buf_init(&v, 256);
	if (db_get(qmgr_db, qid, strlen(qid), &v) == 0 &&
	    qindex_decode(v.data, v.len, r) == 0)
		rc = 0;
	buf_free(&v);
	return rc;
}

/* qmgr_index_put - store a record */
int
qmgr_index_put(const char *qid, const struct qindex_rec *r)
{
	unsigned char v[QINDEX_LEN];

	if (qmgr.readonly)
		return 0;
	qindex_encode(r, v);
	qmgr_db_dirty = 1;
	if (db_put(qmgr_db, qid, strlen(qid), v, sizeof(v)) == -1) {
		log_err("%s: queue index update failed: %s", qid,
		    db_error(qmgr_db));
		return -1;
	}
	return 0;
}

/* qmgr_index_del - forget a message */
int
qmgr_index_del(const char *qid)
{
	if (qmgr.readonly)
		return 0;
	qmgr_db_dirty = 1;
	if (db_del(qmgr_db, qid, strlen(qid)) == -1) {
		log_err("%s: queue index delete failed: %s", qid,
		    db_error(qmgr_db));
		return -1;
	}
	return 0;
}

struct qmgr_keys {
	char	**v;
	size_t	  n, cap;
};

/* qmgr_collect - iteration callback: remember each key */
static int
qmgr_collect(void *arg, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	struct qmgr_keys *ks = arg;

	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 256;
		ks->v = xreallocarray(ks->v, ks->cap, sizeof(char *));
	}
	ks->v[ks->n++] = xstrndup(k, klen);
	return 0;
}

/* qmgr_index_reconcile - drop entries whose file is gone */
void
qmgr_index_reconcile(void)
{
	struct qmgr_keys ks = { NULL, 0, 0 };
	char	 path[64];
	size_t	 i, dropped = 0;

	if (qmgr.readonly)
		return;
	if (db_iter(qmgr_db, qmgr_collect, &ks) == -1)
		log_err("queue index scan failed: %s", db_error(qmgr_db));
	for (i = 0; i < ks.n; i++) {
		if (!qid_valid(ks.v[i]) ||
		    qfile_path(ks.v[i], qmgr.hash_depth, path,
		    sizeof(path)) == -1 || access(path, F_OK) == -1) {
			db_del(qmgr_db, ks.v[i], strlen(ks.v[i]));
			dropped++;
		}
		free(ks.v[i]);
	}
	free(ks.v);
	if (dropped > 0)
		log_info("queue index: dropped %zu entries without a queue "
		    "file", dropped);
	db_sync(qmgr_db);
}

/* qmgr_index_sync - flush changes (called once a second) */
void
qmgr_index_sync(void)
{
	if (qmgr_db_dirty && qmgr_db != NULL && !qmgr.readonly) {
		db_sync(qmgr_db);
		qmgr_db_dirty = 0;
	}
}

/* qmgr_index_close - close at exit */
void
qmgr_index_close(void)
{
	if (qmgr_db != NULL)
		db_close(qmgr_db);
	qmgr_db = NULL;
}
