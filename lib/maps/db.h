/*
 * db.h - the table interface.  The only place that knows Berkeley DB.
 *
 * A table is a B-tree of opaque keys and values in one file.  Opened with
 * DB_T_CREATE it is created when missing; with DB_T_RDONLY it is opened for
 * reading only (mailctl while qmgr runs).  Iteration is in key order.
 * With DB_T_HASH the file is a Berkeley DB hash instead (the format of
 * Postfix's hash: tables, lib/maps); iteration is then in no set order.
 * Results: 0 ok, 1 not found (db_get/db_del), -1 error with errno (EIO
 * for a Berkeley DB failure; the message is in db_error()).
 */
#ifndef YOUJU_DB_H
#define YOUJU_DB_H

#include <stddef.h>

#include "buf.h"

#define DB_T_CREATE	0x01
#define DB_T_RDONLY	0x02
#define DB_T_TRUNCATE	0x04	/* start empty (index rebuild) */
#define DB_T_HASH	0x08	/* a hash, not a B-tree */

struct db;

struct db *db_open(const char *, int, char *, size_t);
int	 db_put(struct db *, const void *, size_t, const void *, size_t);
int	 db_get(struct db *, const void *, size_t, struct buf *);
int	 db_del(struct db *, const void *, size_t);
/* db_iter - cb(arg, key, klen, val, vlen) for every entry; cb != 0 stops */
int	 db_iter(struct db *, int (*)(void *, const void *, size_t,
	    const void *, size_t), void *);
int	 db_sync(struct db *);
int	 db_close(struct db *);
const char *db_error(const struct db *);

#endif
