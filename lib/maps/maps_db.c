/*
 * maps_db.c - hash: tables (a Berkeley DB hash file through lib/maps/db) and
 * their builder, "mailctl map FILE" (see maps.h, maps_priv.h).
 *
 * Interface: maps_db_load, maps_db_lookup, maps_db_free, maps_build.
 * Errors: maps_db_load reports why the file cannot be opened; a lookup
 * that Berkeley DB fails is MAPS_TEMPFAIL; maps_build returns -1 and
 * leaves the old FILE.db as it was.
 *
 * The file is what postmap(1) makes on Linux: DB_HASH, keys folded to
 * lower case, each key and value stored with its terminating NUL.  So a
 * table built by Postfix's postmap is read here, and "postmap -q" reads
 * ours.  Lookups try the key with the NUL first, then without (files
 * made with "postmap -n"), and keep to the form that was found first, as
 * Postfix does.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "maps.h"
#include "maps_priv.h"
#include "util.h"

struct maps_db {
	struct db	*db;
	struct buf	 v;
	int		 nul;		/* keys end in NUL: -1 not known yet */
};

/* maps_db_load - open the .db (src->path) read-only */
void *
maps_db_load(const struct maps_src *src, struct maps_report *r)
{
	struct maps_db *d;
	char	 err[512];

	d = xcalloc(1, sizeof(*d));
	if ((d->db = db_open(src->path, DB_T_RDONLY | DB_T_HASH, err,
	    sizeof(err))) == NULL) {
		maps_report_add(r, 1, src->path, 0, "not a table made by "
		    "\"mailctl map\" or postmap: %s", err);
		free(d);
		return NULL;
	}
	buf_init(&d->v, MAPS_VALUE_MAX + 1);
	d->nul = -1;
	return d;
}

/* maps_db_get - one form of the key: 0 found, 1 not, -1 error */
static int
maps_db_get(struct maps_db *d, const char *key, size_t klen, char *err,
    size_t errlen)
{
	int	 r;

	if ((r = db_get(d->db, key, klen, &d->v)) == -1)
		snprintf(err, errlen, "%s", db_error(d->db));
	return r;
}

/* maps_db_lookup - the key with its NUL, then without */
int
maps_db_lookup(void *st, const char *key, struct buf *val, char *err,
    size_t errlen)
{
	struct maps_db *d = st;
	size_t	 klen = strlen(key);
	int	 r = 1;

	if (d->nul != 0 && (r = maps_db_get(d, key, klen + 1, err, errlen)) ==
	    0)
		d->nul = 1;
	else if (r == 1 && d->nul != 1 &&
	    (r = maps_db_get(d, key, klen, err, errlen)) == 0)
		d->nul = 0;
	if (r == -1)
		return MAPS_TEMPFAIL;
	if (r == 1)
		return MAPS_NOTFOUND;
	/* the value up to its NUL */
	if (buf_append(val, d->v.data, strnlen((char *)d->v.data,
	    d->v.len)) == -1) {
		snprintf(err, errlen, "value longer than the caller takes");
		return MAPS_TEMPFAIL;
	}
	return MAPS_FOUND;
}

/* maps_db_free - close the .db */
void
maps_db_free(void *st)
{
	struct maps_db *d = st;

	if (d == NULL)
		return;
	(void)db_close(d->db);
	buf_free(&d->v);
	free(d);
}

/* maps_build_put - one entry of the source into the new table */
static int
maps_build_put(void *arg, const char *key, const char *val)
{
	return db_put(arg, key, strlen(key) + 1, val, strlen(val) + 1);
}

/* the build: the directory of the .db and the private one beside it */
struct maps_build {
	int		 pfd;		/* the .db's directory */
	const char	*base;		/* the .db's name in it */
	char		 tmpname[4096];	/* the private directory's name */
	int		 dfd;		/* the private directory */
	char		 tmp[64];	/* the new table, by /proc/self/fd */
};

/*
 * maps_build_dir - make the private directory beside the .db and hold it
 * by a descriptor: a user who may write the .db's directory can rename it
 * or put a link in its place, but the table is made through the
 * descriptor, never through its name again
 */
static int
maps_build_dir(struct maps_build *b, const char *dbpath, char *err,
    size_t errlen)
{
	struct stat st;
	char	 dir[4096];
	const char *slash = strrchr(dbpath, '/');

	b->base = slash != NULL ? slash + 1 : dbpath;
	if (slash == dbpath)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash != NULL ?
		    (int)(slash - dbpath) : 1, slash != NULL ? dbpath : ".");
	if ((b->pfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (util_fmt(b->tmpname, sizeof(b->tmpname), "%s.XXXXXX", dbpath) ==
	    -1 || mkdtemp(b->tmpname) == NULL) {
		snprintf(err, errlen, "%s: cannot make a directory for the new "
		    "table: %s", dbpath, strerror(errno));
		return -1;
	}
	if ((b->dfd = open(b->tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(b->dfd, &st) == -1 ||
	    st.st_uid != geteuid() || (st.st_mode & 0777) != 0700) {
		snprintf(err, errlen, "%s: the directory for the new table was "
		    "replaced", b->tmpname);
		return -1;
	}
	snprintf(b->tmp, sizeof(b->tmp), "/proc/self/fd/%d/table.db", b->dfd);
	return 0;
}

/*
 * maps_build_finish - the new file gets the owner and mode it is to have,
 * reaches the disk, and replaces the old one
 */
static int
maps_build_finish(struct maps_build *b, const char *dbpath,
    const struct stat *src, char *err, size_t errlen)
{
	struct stat old;
	uid_t	 uid = src->st_uid;
	gid_t	 gid = src->st_gid;
	mode_t	 mode = src->st_mode & 0666;
	int	 fd, r = -1;

	if (fstatat(b->pfd, b->base, &old, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(old.st_mode)) {
		uid = old.st_uid;
		gid = old.st_gid;
		mode = old.st_mode & 07777;
	}
	if ((fd = openat(b->dfd, "table.db", O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", dbpath, strerror(errno));
		return -1;
	}
	if (fchown(fd, uid, gid) == -1 && (geteuid() == 0 || errno != EPERM))
		snprintf(err, errlen, "%s: chown: %s", dbpath, strerror(errno));
	else if (fchmod(fd, mode) == -1)
		snprintf(err, errlen, "%s: chmod: %s", dbpath, strerror(errno));
	else if (fsync(fd) == -1)
		snprintf(err, errlen, "%s: fsync: %s", dbpath, strerror(errno));
	else if (renameat(b->dfd, "table.db", b->pfd, b->base) == -1)
		snprintf(err, errlen, "%s: rename: %s", dbpath, strerror(errno));
	else if (fsync(b->pfd) == -1)
		snprintf(err, errlen, "%s: fsync of its directory: %s", dbpath,
		    strerror(errno));
	else
		r = 0;
	close(fd);
	return r;
}

/* maps_build_write - the entries into the new table, then over dbpath */
static int
maps_build_write(void *tab, const char *dbpath, const struct stat *src,
    char *err, size_t errlen)
{
	struct maps_build b;
	struct db *db;
	int	 r = -1;

	memset(&b, 0, sizeof(b));
	b.pfd = b.dfd = -1;
	if (maps_build_dir(&b, dbpath, err, errlen) == -1)
		goto out;
	if ((db = db_open(b.tmp, DB_T_CREATE | DB_T_HASH, err, errlen)) ==
	    NULL)
		goto out;
	if (maps_text_each(tab, maps_build_put, db) != 0) {
		snprintf(err, errlen, "%s: %s", dbpath, db_error(db));
		(void)db_close(db);
		goto out;
	}
	if (db_close(db) == -1) {
		snprintf(err, errlen, "%s: close: %s", dbpath, strerror(errno));
		goto out;
	}
	r = maps_build_finish(&b, dbpath, src, err, errlen);
out:
	if (b.dfd != -1) {
		(void)unlinkat(b.dfd, "table.db", 0);
		close(b.dfd);
	}
	if (b.tmpname[0] != '\0' && b.pfd != -1 &&
	    strrchr(b.tmpname, '/') != NULL)
		(void)unlinkat(b.pfd, strrchr(b.tmpname, '/') + 1,
		    AT_REMOVEDIR);
	else if (b.tmpname[0] != '\0')
		(void)rmdir(b.tmpname);
	if (b.pfd != -1)
		close(b.pfd);
	return r;
}

/* maps_build - see maps.h */
int
maps_build(const char *path, struct maps_report *report, char *err,
    size_t errlen)
{
	struct maps_report local = { NULL, NULL, 0, 0, NULL };
	struct maps_report *r = report != NULL ? report : &local;
	struct maps_src src;
	struct buf text;
	struct stat sb;
	char	 dbpath[4096], *why;
	void	*tab = NULL;
	int	 fd = -1, nerr = r->nerr, rc = -1;

	err[0] = '\0';
	buf_init(&text, MAPS_FILE_MAX);
	if (util_fmt(dbpath, sizeof(dbpath), "%s.db", path) == -1) {
		snprintf(err, errlen, "%s: name too long", path);
		goto out;
	}
	if (maps_read_file(path, &text, &fd, &sb, err, errlen) == -1) {
		why = xstrdup(err);
		snprintf(err, errlen, "%s: %s", path, why);
		free(why);
		goto out;
	}
	memset(&src, 0, sizeof(src));
	src.where = path;
	src.text = buf_cstr(&text);
	src.len = text.len;
	if ((tab = maps_text_load(&src, r)) == NULL || r->nerr > nerr) {
		snprintf(err, errlen, "%s: %d error%s: %s.db not changed", path,
		    r->nerr - nerr, r->nerr - nerr == 1 ? "" : "s", path);
		goto out;
	}
	if (maps_build_write(tab, dbpath, &sb, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	maps_text_free(tab);
	if (fd != -1)
		close(fd);
	buf_free(&text);
	return rc;
}
