/*
 * db.c - the table interface over Berkeley DB 5.3 (see db.h).
 *
 * The only file that includes <db.h>.  A table is one B-tree database in
 * one file, opened without an environment: no locking, no transactions,
 * one writer (qmgr); DB->sync makes it durable, and the queue files stay
 * the truth, so a damaged table is rebuilt (DB_T_TRUNCATE), never trusted.
 *
 * Errors: -1 (NULL for db_open) with errno: a system error as Berkeley DB
 * reported it, EIO for a Berkeley DB error of its own; the text of the last
 * error is kept in the handle (db_error) or the caller's err buffer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* u_int and friends in Berkeley DB's db.h */
#endif

#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Berkeley DB's own header.  lib/ is on the quote-include path only
 * (-iquote), so <db.h> is never our "db.h".
 */
#include <db.h>
#ifndef DB_VERSION_MAJOR
#error "Berkeley DB's db.h was not found"
#endif

#include "buf.h"
#include "db.h"
#include "util.h"

struct db {
	DB	*dbp;
	int	 rdonly;
	char	 err[256];
};

/* db_errcall - Berkeley DB's own message: keep it with the handle */
static void
db_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct db *t;

	(void)pfx;
	if (env == NULL || (t = env->app_private) == NULL)
		return;
	util_strlcpy(t->err, msg, sizeof(t->err));
}

/* db_fail - note a Berkeley DB result; -1 with errno */
static int
db_fail(struct db *t, const char *what, int ret)
{
	(void)snprintf(t->err, sizeof(t->err), "%s: %s", what,
	    db_strerror(ret));
	errno = ret > 0 ? ret : EIO;
	return -1;
}

/* db_dbt - a DBT over caller memory (Berkeley DB does not write to it) */
static int
db_dbt(DBT *d, const void *p, size_t len)
{
	memset(d, 0, sizeof(*d));
	if (len > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	d->data = (void *)(uintptr_t)p;
	d->size = (u_int32_t)len;
	return 0;
}

/* db_open - open (or create, or recreate empty) a table file */
struct db *
db_open(const char *path, int flags, char *err, size_t errlen)
{
	struct db *t;
	u_int32_t oflags;
	int	 ret, saved;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((flags & DB_T_RDONLY) && (flags & (DB_T_CREATE | DB_T_TRUNCATE))) {
		if (err != NULL)
			(void)snprintf(err, errlen, "%s: read-only table "
			    "cannot be created or truncated", path);
		errno = EINVAL;
		return NULL;
	}
	if ((flags & DB_T_TRUNCATE) && unlink(path) == -1 && errno != ENOENT) {
		saved = errno;
		if (err != NULL)
			(void)snprintf(err, errlen, "%s: unlink: %s", path,
			    strerror(saved));
		errno = saved;
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->rdonly = (flags & DB_T_RDONLY) != 0;
	if ((ret = db_create(&t->dbp, NULL, 0)) != 0) {
		t->dbp = NULL;
		(void)db_fail(t, "db_create", ret);
		goto fail;
	}
	t->dbp->dbenv->app_private = t;
	t->dbp->set_errcall(t->dbp, db_errcall);
	oflags = t->rdonly ? DB_RDONLY : 0;
	if (flags & (DB_T_CREATE | DB_T_TRUNCATE))
		oflags |= DB_CREATE;
	t->err[0] = '\0';
	if ((ret = t->dbp->open(t->dbp, NULL, path, NULL, (flags & DB_T_HASH) ?
	    DB_HASH : DB_BTREE, oflags, 0600)) != 0) {
		saved = ret;
		if (t->err[0] == '\0')
			(void)db_fail(t, "open", saved);
		errno = saved > 0 ? saved : EIO;
		goto fail;
	}
	return t;
fail:
	saved = errno;
	if (err != NULL)
		(void)snprintf(err, errlen, "%s: %s", path, t->err);
	if (t->dbp != NULL)
		(void)t->dbp->close(t->dbp, 0);
	free(t);
	errno = saved;
	return NULL;
}

/* db_put - store a value under a key, replacing an old one */
int
db_put(struct db *t, const void *k, size_t klen, const void *v, size_t vlen)
{
	DBT	 key, val;
	int	 ret;

	if (t->rdonly) {
		util_strlcpy(t->err, "put: table is read-only", sizeof(t->err));
		errno = EPERM;
		return -1;
	}
	if (db_dbt(&key, k, klen) == -1 || db_dbt(&val, v, vlen) == -1)
		return -1;
	if ((ret = t->dbp->put(t->dbp, NULL, &key, &val, 0)) != 0)
		return db_fail(t, "put", ret);
	return 0;
}

/* db_get - copy the value of a key into out; 1 when there is none */
int
db_get(struct db *t, const void *k, size_t klen, struct buf *out)
{
	DBT	 key, val;
	int	 ret;

	buf_reset(out);
	if (db_dbt(&key, k, klen) == -1)
		return -1;
	memset(&val, 0, sizeof(val));
	ret = t->dbp->get(t->dbp, NULL, &key, &val, 0);
	if (ret == DB_NOTFOUND || ret == DB_KEYEMPTY)
		return 1;
	if (ret != 0)
		return db_fail(t, "get", ret);
	/* val points into Berkeley DB's memory until the next call */
	return buf_append(out, val.data, val.size);
}

/* db_del - remove a key; 1 when it was not there */
int
db_del(struct db *t, const void *k, size_t klen)
{
	DBT	 key;
	int	 ret;

	if (t->rdonly) {
		util_strlcpy(t->err, "del: table is read-only", sizeof(t->err));
		errno = EPERM;
		return -1;
	}
	if (db_dbt(&key, k, klen) == -1)
		return -1;
	ret = t->dbp->del(t->dbp, NULL, &key, 0);
	if (ret == DB_NOTFOUND || ret == DB_KEYEMPTY)
		return 1;
	if (ret != 0)
		return db_fail(t, "del", ret);
	return 0;
}

/*
 * db_iter - call cb for every entry in key order.  Returns 0 after the last
 * entry, the callback's value when it returned nonzero, -1 on a table
 * error.  The callback may db_del() the entry it was given (B-tree cursors
 * stay valid), but must not insert.
 */
int
db_iter(struct db *t, int (*cb)(void *, const void *, size_t, const void *,
    size_t), void *arg)
{
	DBC	*c;
	DBT	 key, val;
	int	 ret, r = 0;

	if ((ret = t->dbp->cursor(t->dbp, NULL, &c, 0)) != 0)
		return db_fail(t, "cursor", ret);
	for (;;) {
		memset(&key, 0, sizeof(key));
		memset(&val, 0, sizeof(val));
		ret = c->get(c, &key, &val, DB_NEXT);
		if (ret == DB_NOTFOUND)
			break;
		if (ret != 0) {
			r = db_fail(t, "cursor get", ret);
			break;
		}
		if ((r = cb(arg, key.data, key.size, val.data, val.size)) != 0)
			break;
	}
	if ((ret = c->close(c)) != 0 && r == 0)
		r = db_fail(t, "cursor close", ret);
	return r;
}

/* db_sync - flush the table to its file */
int
db_sync(struct db *t)
{
	int	 ret;

	if (t->rdonly)
		return 0;
	if ((ret = t->dbp->sync(t->dbp, 0)) != 0)
		return db_fail(t, "sync", ret);
	return 0;
}

/* db_close - sync (when writable) and close; the handle is gone either way */
int
db_close(struct db *t)
{
	int	 ret;

	if (t == NULL)
		return 0;
	ret = t->dbp->close(t->dbp, 0);
	free(t);
	if (ret != 0) {
		errno = ret > 0 ? ret : EIO;
		return -1;
	}
	return 0;
}

/* db_error - text of the last error on this handle ("" when none) */
const char *
db_error(const struct db *t)
{
	return t == NULL ? "" : t->err;
}
