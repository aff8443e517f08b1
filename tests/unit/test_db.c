/*
 * test_db.c - unit tests for lib/maps/db: bad opens first, then put, get, del,
 * iteration (order, early stop, delete while iterating), not-found,
 * persistence across reopen, read-only refusal, truncate, binary keys,
 * and the hash format (DB_T_HASH).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "t.h"
#include "util.h"

struct td_iter {
	struct buf	 keys;		/* "k1,k2,..." */
	int		 n;
	int		 stop_at;
	struct db	*del_from;	/* delete each entry while iterating */
};

/* td_iter_cb - record keys in order; stop or delete on request */
static int
td_iter_cb(void *arg, const void *k, size_t klen, const void *v, size_t vlen)
{
	struct td_iter *it = arg;

	(void)v;
	(void)vlen;
	buf_append(&it->keys, k, klen);
	buf_putc(&it->keys, ',');
	it->n++;
	if (it->del_from != NULL && db_del(it->del_from, k, klen) != 0)
		return -1;
	if (it->stop_at != 0 && it->n == it->stop_at)
		return 7;
	return 0;
}

/* td_bad_opens - malformed requests and missing files */
static void
td_bad_opens(const char *dir)
{
	char	 path[256], err[256];
	struct db *t;

	snprintf(path, sizeof(path), "%s/missing.db", dir);
	t = db_open(path, 0, err, sizeof(err));
	T_OK(t == NULL && errno == ENOENT && err[0] != '\0',
	    "open missing without CREATE: ENOENT (%s)", err);
	t = db_open(path, DB_T_RDONLY, err, sizeof(err));
	T_OK(t == NULL && errno == ENOENT, "read-only open of a missing file");
	t = db_open(path, DB_T_RDONLY | DB_T_CREATE, err, sizeof(err));
	T_OK(t == NULL && errno == EINVAL, "RDONLY|CREATE refused");
	t = db_open(path, DB_T_RDONLY | DB_T_TRUNCATE, err, sizeof(err));
	T_OK(t == NULL && errno == EINVAL, "RDONLY|TRUNCATE refused");

	/* a file that is not a Berkeley DB table */
	snprintf(path, sizeof(path), "%s/garbage.db", dir);
	{
		int	 fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

		(void)!write(fd, "this is not a btree, not at all, no\n", 36);
		close(fd);
	}
	t = db_open(path, DB_T_CREATE, err, sizeof(err));
	T_OK(t == NULL && err[0] != '\0', "garbage file refused (%s)", err);
	t = db_open(path, DB_T_TRUNCATE, err, sizeof(err));
	T_OK(t != NULL, "TRUNCATE recreates over garbage");
	T_EQ_INT(db_close(t), 0, "close");

	snprintf(path, sizeof(path), "%s/nodir/x.db", dir);
	t = db_open(path, DB_T_CREATE, err, sizeof(err));
	T_OK(t == NULL && errno == ENOENT, "missing directory");
	T_EQ_INT(db_close(NULL), 0, "close NULL");
}

/* td_basic - put, get, del, not found, binary keys and values */
static void
td_basic(const char *path)
{
	static const unsigned char bkey[] = { 0, 1, 2, 0, 255 };
	static const unsigned char bval[] = { 'a', 0, '\r', '\n', 0 };
	char	 err[256];
	struct db *t;
	struct buf v;

	t = db_open(path, DB_T_CREATE, err, sizeof(err));
	T_OK(t != NULL, "create (%s)", err);
	if (t == NULL)
		exit(1);
	T_EQ_STR(db_error(t), "", "no error yet");
	buf_init(&v, 1 << 20);
	T_EQ_INT(db_get(t, "nope", 4, &v), 1, "get missing -> 1");
	T_EQ_INT(v.len, 0, "out reset");
	T_EQ_INT(db_del(t, "nope", 4), 1, "del missing -> 1");
	T_EQ_INT(db_put(t, "b", 1, "two", 3), 0, "put b");
	T_EQ_INT(db_put(t, "a", 1, "one", 3), 0, "put a");
	T_EQ_INT(db_put(t, "c", 1, "three", 5), 0, "put c");
	T_EQ_INT(db_put(t, bkey, sizeof(bkey), bval, sizeof(bval)), 0,
	    "put binary");
	T_EQ_INT(db_put(t, "e", 1, "", 0), 0, "put empty value");
	buf_puts(&v, "junk");
	T_EQ_INT(db_get(t, "a", 1, &v), 0, "get a");
	T_EQ_STR(buf_cstr(&v), "one", "value a (buffer was reset)");
	T_EQ_INT(db_put(t, "a", 1, "uno", 3), 0, "replace a");
	T_EQ_INT(db_get(t, "a", 1, &v), 0, "get a again");
	T_EQ_STR(buf_cstr(&v), "uno", "replaced");
	T_EQ_INT(db_get(t, bkey, sizeof(bkey), &v), 0, "get binary");
	T_OK(v.len == sizeof(bval) && memcmp(v.data, bval, v.len) == 0,
	    "binary value intact");
	T_EQ_INT(db_get(t, "e", 1, &v), 0, "get empty value");
	T_EQ_INT(v.len, 0, "empty value");
	T_EQ_INT(db_del(t, "b", 1), 0, "del b");
	T_EQ_INT(db_get(t, "b", 1, &v), 1, "b gone");
	T_EQ_INT(db_del(t, "b", 1), 1, "del b again -> 1");
	{
		struct buf small;

		buf_init(&small, 2);
		T_OK(db_get(t, "c", 1, &small) == -1 && errno == ENOSPC,
		    "value over the caller's buffer limit");
		buf_free(&small);
	}
	T_EQ_INT(db_sync(t), 0, "sync");
	T_EQ_INT(db_close(t), 0, "close");
	buf_free(&v);
}

/* td_iterate - order, early stop, delete while iterating */
static void
td_iterate(const char *path)
{
	char	 err[256];
	struct db *t;
	struct td_iter it;
	struct buf v;
	int	 i;
	char	 k[16];

	t = db_open(path, DB_T_CREATE, err, sizeof(err));
	memset(&it, 0, sizeof(it));
	buf_init(&it.keys, 1 << 20);
	T_EQ_INT(db_iter(t, td_iter_cb, &it), 0, "iterate");
	/* the binary key sorts first (byte 0) */
	T_OK(it.n == 4 && it.keys.len > 6 && memcmp(it.keys.data + 6, "a,c,e,",
	    6) == 0, "key order (%d entries)", it.n);
	buf_reset(&it.keys);
	it.n = 0;
	it.stop_at = 2;
	T_EQ_INT(db_iter(t, td_iter_cb, &it), 7, "callback value stops it");
	T_EQ_INT(it.n, 2, "stopped after two");

	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "q%04d", i);
		db_put(t, k, strlen(k), "x", 1);
	}
	buf_reset(&it.keys);
	it.n = 0;
	it.stop_at = 0;
	it.del_from = t;
	T_EQ_INT(db_iter(t, td_iter_cb, &it), 0, "delete while iterating");
	T_EQ_INT(it.n, 1004, "every entry seen once");
	it.n = 0;
	it.del_from = NULL;
	T_EQ_INT(db_iter(t, td_iter_cb, &it), 0, "iterate empty");
	T_EQ_INT(it.n, 0, "table empty");
	buf_init(&v, 64);
	T_EQ_INT(db_get(t, "q0500", 5, &v), 1, "deleted");
	buf_free(&v);
	db_put(t, "keep", 4, "me", 2);
	T_EQ_INT(db_close(t), 0, "close");
	buf_free(&it.keys);
}

/* td_persist - reopen, read-only, truncate */
static void
td_persist(const char *path)
{
	char	 err[256];
	struct db *t, *r;
	struct buf v;
	struct stat st;

	buf_init(&v, 1024);
	t = db_open(path, 0, err, sizeof(err));
	T_OK(t != NULL, "reopen without CREATE");
	T_EQ_INT(db_get(t, "keep", 4, &v), 0, "value persisted");
	T_EQ_STR(buf_cstr(&v), "me", "persisted value");
	T_EQ_INT(db_close(t), 0, "close");
	T_OK(stat(path, &st) == 0 && (st.st_mode & 0077) == 0,
	    "table file not readable by others");

	r = db_open(path, DB_T_RDONLY, err, sizeof(err));
	T_OK(r != NULL, "open read-only");
	T_EQ_INT(db_get(r, "keep", 4, &v), 0, "read-only get");
	T_OK(db_put(r, "x", 1, "y", 1) == -1 && db_error(r)[0] != '\0',
	    "read-only put fails (%s)", db_error(r));
	T_OK(db_del(r, "keep", 4) == -1, "read-only del fails");
	T_EQ_INT(db_sync(r), 0, "read-only sync is a no-op");
	T_EQ_INT(db_close(r), 0, "close read-only");

	t = db_open(path, DB_T_CREATE | DB_T_TRUNCATE, err, sizeof(err));
	T_OK(t != NULL, "truncate");
	T_EQ_INT(db_get(t, "keep", 4, &v), 1, "empty after truncate");
	db_put(t, "new", 3, "1", 1);
	T_EQ_INT(db_close(t), 0, "close");
	t = db_open(path, DB_T_RDONLY, err, sizeof(err));
	T_EQ_INT(db_get(t, "new", 3, &v), 0, "new content persisted");
	T_EQ_INT(db_get(t, "keep", 4, &v), 1, "old content gone");
	db_close(t);
	buf_free(&v);
}

/* td_hash - DB_T_HASH: Postfix's hash: format; a B-tree is not one */
static void
td_hash(const char *dir)
{
	char	 path[256], err[256];
	struct db *t;
	struct buf v;

	snprintf(path, sizeof(path), "%s/h.db", dir);
	buf_init(&v, 1024);
	t = db_open(path, DB_T_CREATE | DB_T_HASH, err, sizeof(err));
	T_OK(t != NULL && db_put(t, "k", 2, "v", 2) == 0 && db_close(t) == 0,
	    "a hash table made and written");
	t = db_open(path, DB_T_RDONLY | DB_T_HASH, err, sizeof(err));
	T_OK(t != NULL && db_get(t, "k", 2, &v) == 0 && v.len == 2 &&
	    memcmp(v.data, "v", 2) == 0, "read back read-only");
	T_EQ_INT(t != NULL ? db_get(t, "k", 1, &v) : -1, 1, "another key");
	db_close(t);
	t = db_open(path, DB_T_RDONLY, err, sizeof(err));
	T_OK(t == NULL && err[0] != '\0', "a hash is no B-tree: %s", err);
	unlink(path);
	buf_free(&v);
}

int
main(void)
{
	char	 dir[] = "/tmp/test_db.XXXXXX", path[256], junk[256];

	t_plan(64);
	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	td_bad_opens(dir);
	td_basic(path);
	td_iterate(path);
	td_persist(path);
	td_hash(dir);
	unlink(path);
	snprintf(junk, sizeof(junk), "%s/garbage.db", dir);
	unlink(junk);
	rmdir(dir);
	return t_done();
}
