/*
 * maps.c - lookup tables: the table of types, open and close, lookups,
 * noticing a changed file, the access(5) lookup orders and the check
 * (see maps.h).  The types live in maps_text.c (texthash, inline),
 * maps_db.c (hash, and the builder), maps_cidr.c and maps_re.c (regexp,
 * pcre).
 *
 * Interface: maps_open, maps_close, maps_lookup, maps_error, maps_spec,
 * maps_is_pattern, maps_changed, maps_stale, maps_find_addr,
 * maps_find_domain, maps_find_net, maps_find_client, maps_check,
 * maps_split_ext; for the types: maps_report_add, maps_check_value.
 *
 * Errors: maps_open returns NULL with the first error in err (every
 * finding also goes to the caller's report); a lookup returns
 * MAPS_TEMPFAIL with the reason in maps_error().
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "buf.h"
#include "log.h"
#include "maps.h"
#include "maps_priv.h"
#include "util.h"

#define MAPS_RETRY_MS	1000	/* a stale table is tried again after */
#define MAPS_WHERE_MAX	64	/* "type:{...}" shown in findings */

static const struct maps_type maps_types[] = {
	{ "hash", MAPS_T_FILE | MAPS_T_FOLD | MAPS_T_DB, maps_db_load,
	  maps_db_lookup, maps_db_free },
	{ "texthash", MAPS_T_FILE | MAPS_T_FOLD, maps_text_load,
	  maps_text_lookup, maps_text_free },
	{ "inline", MAPS_T_FOLD | MAPS_T_BRACES, maps_inline_load,
	  maps_text_lookup, maps_text_free },
	{ "cidr", MAPS_T_FILE | MAPS_T_PATTERN | MAPS_T_BRACES,
	  maps_cidr_load, maps_cidr_lookup, maps_cidr_free },
	{ "regexp", MAPS_T_FILE | MAPS_T_PATTERN | MAPS_T_BRACES,
	  maps_regexp_load, maps_re_lookup, maps_re_free },
	{ "pcre", MAPS_T_FILE | MAPS_T_PATTERN | MAPS_T_BRACES,
	  maps_pcre_load, maps_re_lookup, maps_re_free },
};

struct map {
	const struct maps_type *type;
	char		*spec;
	char		*path;		/* the file read; NULL: inline */
	void		*st;		/* the type's state */
	int		 fd;		/* on path, to notice a change */
	struct stat	 sb;		/* of fd when it was read */
	int		 stale;		/* changed, not read again */
	uint64_t	 retry_ms;	/* when to try that again */
	char		 err[512];
};

/* what maps_open passes to the types: the first error, then the caller */
struct maps_fw {
	struct maps_report *up;
	char		*err;
	size_t		 errlen;
};

/* maps_report_add - see maps_priv.h */
void
maps_report_add(struct maps_report *r, int error, const char *where,
    int line, const char *fmt, ...)
{
	char	 text[1024], msg[1200];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (line > 0)
		(void)snprintf(msg, sizeof(msg), "%s:%d: %s", where, line, text);
	else
		(void)snprintf(msg, sizeof(msg), "%s: %s", where, text);
	if (r == NULL) {
		if (!error)
			log_warn("%s", msg);
		return;
	}
	n = r->nerr + r->nwarn;
	if (error)
		r->nerr++;
	else
		r->nwarn++;
	if (r->fn == NULL || n > MAPS_REPORT_MAX)
		return;
	if (n == MAPS_REPORT_MAX) {
		(void)snprintf(msg, sizeof(msg), "%s: more than %d findings; "
		    "the rest are not shown", where, MAPS_REPORT_MAX);
		r->fn(r->arg, 1, msg);
		return;
	}
	r->fn(r->arg, error, msg);
}

/* maps_fw_fn - keep the first error, pass everything on */
static void
maps_fw_fn(void *arg, int error, const char *text)
{
	struct maps_fw *fw = arg;

	if (error && fw->err != NULL && fw->err[0] == '\0')
		util_strlcpy(fw->err, text, fw->errlen);
	if (fw->up == NULL) {
		if (!error)
			log_warn("%s", text);
		return;
	}
	if (error)
		fw->up->nerr++;
	else
		fw->up->nwarn++;
	if (fw->up->fn != NULL)
		fw->up->fn(fw->up->arg, error, text);
}

/* maps_find_type - the row of a type name, or NULL */
static const struct maps_type *
maps_find_type(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < NELEM(maps_types); i++)
		if (strlen(maps_types[i].name) == len &&
		    memcmp(maps_types[i].name, name, len) == 0)
			return &maps_types[i];
	return NULL;
}

/*
 * maps_read_file - see maps_priv.h: the size and time of the open file
 * must be the same before and after the read, else it is read again,
 * three times at most
 */
int
maps_read_file(const char *path, struct buf *text, int *fdp, struct stat *sb,
    char *err, size_t errlen)
{
	struct stat after;
	char	 b[65536];
	ssize_t	 n;
	int	 fd, try;

	for (try = 0; try < 3; try++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK)) == -1 || fstat(fd, sb) == -1) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		if (!S_ISREG(sb->st_mode)) {
			snprintf(err, errlen, "not a regular file");
			goto fail;
		}
		buf_reset(text);
		while ((n = read(fd, b, sizeof(b))) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 || buf_append(text, b, (size_t)n) == -1) {
				snprintf(err, errlen, "%s", n == -1 ?
				    strerror(errno) : "larger than 256 MiB");
				goto fail;
			}
		}
		if (fstat(fd, &after) == 0 && after.st_size == sb->st_size &&
		    after.st_mtim.tv_sec == sb->st_mtim.tv_sec &&
		    after.st_mtim.tv_nsec == sb->st_mtim.tv_nsec &&
		    (off_t)text->len == sb->st_size) {
			*fdp = fd;
			return 0;
		}
		close(fd);
	}
	snprintf(err, errlen, "changes while it is read");
	return -1;
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

/*
 * maps_load_db - hash: the .db opened by lib/maps/db, and a descriptor of our
 * own on the same file (the same inode: checked after the open)
 */
static void *
maps_load_db(struct map *m, struct maps_src *src, struct maps_report *r,
    int *fdp, struct stat *sb)
{
	struct stat now;
	void	*st;
	int	 fd, try;

	for (try = 0; try < 3; try++) {
		if ((fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) ==
		    -1 || fstat(fd, sb) == -1) {
			maps_report_add(r, 1, m->path, 0, "%s%s",
			    strerror(errno), errno == ENOENT ? " (make it with"
			    " \"mailctl map\" from its source)" : "");
			if (fd != -1)
				close(fd);
			return NULL;
		}
		src->path = m->path;
		if ((st = maps_db_load(src, r)) == NULL) {
			close(fd);
			return NULL;
		}
		if (stat(m->path, &now) == 0 && now.st_ino == sb->st_ino &&
		    now.st_dev == sb->st_dev) {
			*fdp = fd;
			return st;
		}
		maps_db_free(st);
		close(fd);
	}
	maps_report_add(r, 1, m->path, 0, "replaced while it is opened");
	return NULL;
}

/*
 * maps_load - read the table's source and hand it to its type: the new
 * state in *stp, its descriptor and stat; -1 after reporting why
 */
static int
maps_load(struct map *m, int check, struct maps_report *r, int *fdp,
    struct stat *sb, void **stp)
{
	struct maps_src src;
	struct buf text;
	const char *name = strchr(m->spec, ':') + 1;
	char	 err[512], where[MAPS_WHERE_MAX + 8];

	memset(&src, 0, sizeof(src));
	src.check = check;
	*fdp = -1;
	*stp = NULL;
	buf_init(&text, MAPS_FILE_MAX);
	if (m->type->flags & MAPS_T_DB) {
		src.where = m->path;
		*stp = maps_load_db(m, &src, r, fdp, sb);
	} else if (m->path != NULL) {
		src.where = m->path;
		if (maps_read_file(m->path, &text, fdp, sb, err, sizeof(err)) == -1)
			maps_report_add(r, 1, m->path, 0, "%s", err);
		else {
			src.text = buf_cstr(&text);
			src.len = text.len;
			*stp = m->type->load(&src, r);
		}
	} else {
		snprintf(where, sizeof(where), "%.*s%s", MAPS_WHERE_MAX,
		    m->spec, strlen(m->spec) > MAPS_WHERE_MAX ? "..." : "");
		src.where = where;
		if (maps_braces(name, &text, err, sizeof(err)) == -1)
			maps_report_add(r, 1, where, 0, "%s; need \"%s:{ ... "
			    "}\"", err, m->type->name);
		else {
			src.text = buf_cstr(&text);
			src.len = text.len;
			*stp = m->type->load(&src, r);
		}
	}
	buf_free(&text);
	if (*stp == NULL && *fdp != -1) {
		close(*fdp);
		*fdp = -1;
	}
	return *stp == NULL ? -1 : 0;
}

/* maps_open_check - maps_open, with the MAPS_CHK_* checks of values */
static struct map *
maps_open_check(const char *spec, int check, struct maps_report *report,
    char *err, size_t errlen)
{
	struct maps_fw fw = { report, err, errlen };
	struct maps_report r = { maps_fw_fn, &fw, 0, 0,
	    report != NULL ? report->classes : NULL };
	const struct maps_type *t;
	const char *colon, *name;
	struct map *m;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((colon = strchr(spec, ':')) == NULL || colon[1] == '\0') {
		maps_report_add(&r, 1, spec, 0, "need a table as type:name "
		    "(%s)", colon == NULL ? "no type" : "no name");
		return NULL;
	}
	name = colon + 1;
	if ((t = maps_find_type(spec, (size_t)(colon - spec))) == NULL) {
		maps_report_add(&r, 1, spec, 0, "table type \"%.*s\" is not "
		    "supported by youju%s (hash, texthash, cidr, regexp, pcre "
		    "and inline are)", (int)(colon - spec), spec,
		    strncmp(spec, "proxy:", 6) == 0 ? "; give the table "
		    "without \"proxy:\"" : "");
		return NULL;
	}
	if (*name == '{' ? !(t->flags & MAPS_T_BRACES) :
	    !(t->flags & MAPS_T_FILE)) {
		maps_report_add(&r, 1, spec, 0, "%s", *name == '{' ?
		    "this type takes a file, not {...}" :
		    "need inline:{ key=value, ... }");
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->type = t;
	m->spec = xstrdup(spec);
	m->fd = -1;
	if (*name != '{') {
		m->path = xmalloc(strlen(name) + 4);
		memcpy(m->path, name, strlen(name) + 1);
		if (t->flags & MAPS_T_DB)
			memcpy(m->path + strlen(name), ".db", 4);
	}
	if (maps_load(m, check, &r, &m->fd, &m->sb, &m->st) == -1 ||
	    r.nerr > 0) {
		if (m->st != NULL)
			t->free(m->st);
		m->st = NULL;
		maps_close(m);
		return NULL;
	}
	return m;
}

/* maps_open - see maps.h */
struct map *
maps_open(const char *spec, struct maps_report *report, char *err,
    size_t errlen)
{
	return maps_open_check(spec, 0, report, err, errlen);
}

/* maps_close - see maps.h */
void
maps_close(struct map *m)
{
	if (m == NULL)
		return;
	if (m->st != NULL)
		m->type->free(m->st);
	if (m->fd != -1)
		close(m->fd);
	free(m->spec);
	free(m->path);
	free(m);
}

/* maps_error - see maps.h */
const char *
maps_error(const struct map *m)
{
	return m->err;
}

/* maps_spec - see maps.h */
const char *
maps_spec(const struct map *m)
{
	return m->spec;
}

/* maps_is_pattern - see maps.h */
int
maps_is_pattern(const struct map *m)
{
	return (m->type->flags & MAPS_T_PATTERN) != 0;
}

/* maps_stale - see maps.h */
int
maps_stale(const struct map *m)
{
	return m->stale;
}

/* maps_changed - see maps.h */
int
maps_changed(struct map *m)
{
	struct stat st;

	if (m->fd == -1)
		return 0;
	if (fstat(m->fd, &st) == -1 ||
	    (st.st_nlink == 0 && m->sb.st_nlink > 0) ||
	    st.st_size != m->sb.st_size ||
	    st.st_mtim.tv_sec != m->sb.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != m->sb.st_mtim.tv_nsec)
		return 1;
	/* renamed over while the old file has another name */
	if (stat(m->path, &st) == 0 && (st.st_ino != m->sb.st_ino ||
	    st.st_dev != m->sb.st_dev))
		return 1;
	return 0;
}

/*
 * maps_refresh - before a lookup: a changed file is read again; when
 * that fails the old contents stay (stale, logged once per change, tried
 * again after MAPS_RETRY_MS)
 */
static void
maps_refresh(struct map *m)
{
	struct maps_fw fw;
	struct maps_report r = { maps_fw_fn, &fw, 0, 0, NULL };
	struct stat sb;
	char	 err[512];
	void	*st;
	int	 fd;

	if (m->fd == -1 || (m->stale && util_mono_ms() < m->retry_ms) ||
	    !maps_changed(m))
		return;
	err[0] = '\0';
	fw.up = NULL;
	fw.err = err;
	fw.errlen = sizeof(err);
	(void)maps_load(m, 0, &r, &fd, &sb, &st);
	if (st != NULL && r.nerr == 0) {
		m->type->free(m->st);
		close(m->fd);
		m->st = st;
		m->fd = fd;
		m->sb = sb;
		m->stale = 0;
		log_info("%s: table changed: read again", m->spec);
		return;
	}
	if (st != NULL) {
		m->type->free(st);
		close(fd);
	}
	if (!m->stale)
		log_warn("%s: table changed but cannot be read again (%s): "
		    "the old contents stay in use", m->spec, err);
	m->stale = 1;
	m->retry_ms = util_mono_ms() + MAPS_RETRY_MS;
}

/* maps_update - see maps.h */
int
maps_update(struct map *m)
{
	maps_refresh(m);
	return maps_stale(m);
}

/* maps_lookup - see maps.h */
int
maps_lookup(struct map *m, const char *key, struct buf *val)
{
	char	 k[MAPS_KEY_MAX + 1];
	size_t	 len = strlen(key);

	m->err[0] = '\0';
	buf_reset(val);
	maps_refresh(m);
	if (m->type->flags & MAPS_T_FOLD) {
		/* no such key can be in the table */
		if (len == 0 || len > MAPS_KEY_MAX)
			return MAPS_NOTFOUND;
		memcpy(k, key, len + 1);
		util_lowercase(k);
		key = k;
	} else if (len > MAPS_LINE_MAX)
		return MAPS_NOTFOUND;
	return m->type->lookup(m->st, key, val, m->err, sizeof(m->err));
}

/* maps_find_one - one key of a lookup order; a key found is noted */
static int
maps_find_one(struct map *m, const char *key, struct buf *val,
    struct buf *keyout)
{
	int	 r;

	if ((r = maps_lookup(m, key, val)) != MAPS_NOTFOUND &&
	    keyout != NULL) {
		buf_reset(keyout);
		if (buf_puts(keyout, key) == -1)
			buf_reset(keyout);
	}
	return r;
}

/* maps_hostaddr - is the text an IPv4 or IPv6 address */
static int
maps_hostaddr(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/*
 * maps_parents - the domain's parents (Postfix's check_domain_access
 * after its first lookup): "example.com", "com", or ".example.com",
 * ".com" without parent matching; none for an address
 */
static int
maps_parents(struct map *m, const struct maps_order *o, const char *name,
    struct buf *val, struct buf *keyout)
{
	const char *next;
	int	 r = MAPS_NOTFOUND;

	if (maps_hostaddr(name))
		return r;
	for (; *name != '\0'; name = next) {
		if ((next = strchr(name + 1, '.')) == NULL)
			break;
		if (o->parent)
			next++;
		if (*next != '\0' &&
		    (r = maps_find_one(m, next, val, keyout)) != MAPS_NOTFOUND)
			break;
	}
	return r;
}

/* maps_find_domain - see maps.h */
int
maps_find_domain(struct map *m, const struct maps_order *o,
    const char *name, struct buf *val, struct buf *keyout)
{
	int	 r;

	if (*name == '\0')
		return MAPS_NOTFOUND;
	if ((r = maps_find_one(m, name, val, keyout)) != MAPS_NOTFOUND ||
	    maps_is_pattern(m))
		return r;
	return maps_parents(m, o, name, val, keyout);
}

/* maps_split_ext - see maps.h */
size_t
maps_split_ext(const char *lp, size_t len, const char *delims)
{
	static const char *const whole[] = { "postmaster", "mailer-daemon",
	    "double-bounce" };
	size_t	 i, n;

	if (delims == NULL || *delims == '\0')
		return 0;
	for (i = 0; i < NELEM(whole); i++)
		if (len == strlen(whole[i]) &&
		    util_strncasecmp_ascii(lp, whole[i], len) == 0)
			return 0;
	if (strchr(delims, '-') != NULL && ((len >= 6 &&
	    util_strncasecmp_ascii(lp, "owner-", 6) == 0) || (len > 8 &&
	    util_strncasecmp_ascii(lp + len - 8, "-request", 8) == 0)))
		return 0;
	for (n = 0; n < len && strchr(delims, lp[n]) == NULL; n++)
		;
	return n == len ? 0 : n;
}

/* maps_find_addr - see maps.h */
int
maps_find_addr(struct map *m, const struct maps_order *o, const char *addr,
    struct buf *val, struct buf *keyout)
{
	const char *at;
	char	 k[MAPS_KEY_MAX + 2];
	size_t	 lplen, base;
	int	 r;

	if (*addr == '\0')
		return maps_find_one(m, o->null_key != NULL ? o->null_key :
		    "<>", val, keyout);
	if ((r = maps_find_one(m, addr, val, keyout)) != MAPS_NOTFOUND ||
	    maps_is_pattern(m) || (at = strrchr(addr, '@')) == NULL ||
	    strlen(addr) > MAPS_KEY_MAX)
		return r;
	lplen = (size_t)(at - addr);
	base = maps_split_ext(addr, lplen, o->delims);
	if (base > 0) {
		snprintf(k, sizeof(k), "%.*s%s", (int)base, addr, at);
		if ((r = maps_find_one(m, k, val, keyout)) != MAPS_NOTFOUND)
			return r;
	}
	if (at[1] != '\0' && ((r = maps_find_one(m, at + 1, val, keyout)) !=
	    MAPS_NOTFOUND || (r = maps_parents(m, o, at + 1, val, keyout)) !=
	    MAPS_NOTFOUND))
		return r;
	snprintf(k, sizeof(k), "%.*s@", (int)lplen, addr);
	if ((r = maps_find_one(m, k, val, keyout)) != MAPS_NOTFOUND ||
	    base == 0)
		return r;
	snprintf(k, sizeof(k), "%.*s@", (int)base, addr);
	return maps_find_one(m, k, val, keyout);
}

/* maps_find_net - see maps.h */
int
maps_find_net(struct map *m, const char *addr, struct buf *val,
    struct buf *keyout)
{
	char	 a[MAPS_KEY_MAX + 1], *cut;
	int	 delim, r;

	if (*addr == '\0' || strlen(addr) > MAPS_KEY_MAX)
		return MAPS_NOTFOUND;
	util_strlcpy(a, addr, sizeof(a));
	delim = strchr(a, ':') != NULL ? ':' : '.';
	for (;;) {
		if (*a != '\0' && (r = maps_find_one(m, a, val, keyout)) !=
		    MAPS_NOTFOUND)
			return r;
		if (maps_is_pattern(m) || (cut = strrchr(a, delim)) == NULL)
			return MAPS_NOTFOUND;
		*cut = '\0';
	}
}

/* maps_find_client - see maps.h */
int
maps_find_client(struct map *m, const struct maps_order *o,
    const char *name, const char *addr, struct buf *val, struct buf *keyout)
{
	int	 r;

	if (name != NULL && (r = maps_find_domain(m, o, name, val, keyout)) !=
	    MAPS_NOTFOUND)
		return r;
	return maps_find_net(m, addr, val, keyout);
}

/* maps_check_value - see maps_priv.h */
void
maps_check_value(const struct maps_src *src, struct maps_report *r,
    int line, const char *value, int subst)
{
	struct access_action a;
	char	 err[256];

	if (!(src->check & MAPS_CHK_ACCESS))
		return;
	/* the action word itself must not come from the key */
	if (subst && value[0] == '$')
		return;
	if (access_parse(value, r->classes, &a, err, sizeof(err)) == -1) {
		if (subst && strstr(err, "unknown action or restriction") !=
		    NULL)
			return;		/* a word may come from $n */
		maps_report_add(r, 1, src->where, line, "%s", err);
		return;
	}
	access_free(&a);
}

/*
 * maps_check_hash - a hash: table's source: free of errors (values
 * checked as asked), and not newer than the .db
 */
static void
maps_check_hash(const char *path, int check, struct maps_report *r)
{
	struct stat src, db;
	char	 spec[4096 + 16], dbpath[4096 + 4];
	struct map *m;

	if (util_fmt(dbpath, sizeof(dbpath), "%s.db", path) == -1 ||
	    util_fmt(spec, sizeof(spec), "texthash:%s", path) == -1)
		return;
	if (stat(path, &src) == -1 || stat(dbpath, &db) == -1)
		return;
	if ((m = maps_open_check(spec, check, r, NULL, 0)) != NULL)
		maps_close(m);
	if (db.st_mtim.tv_sec < src.st_mtim.tv_sec ||
	    (db.st_mtim.tv_sec == src.st_mtim.tv_sec &&
	    db.st_mtim.tv_nsec < src.st_mtim.tv_nsec))
		maps_report_add(r, 1, dbpath, 0, "older than its source %s: "
		    "run \"mailctl map %s\"", path, path);
}

/* maps_check - see maps.h */
int
maps_check(const char *spec, int check, struct maps_report *report)
{
	struct maps_report local = { NULL, NULL, 0, 0, NULL };
	struct maps_report *r = report != NULL ? report : &local;
	struct map *m;
	int	 before = r->nerr;

	if ((m = maps_open_check(spec, check, r, NULL, 0)) == NULL)
		return r->nerr - before > 0 ? r->nerr - before : 1;
	if ((m->type->flags & MAPS_T_DB) && m->path != NULL) {
		m->path[strlen(m->path) - 3] = '\0';
		maps_check_hash(m->path, check, r);
	}
	maps_close(m);
	return r->nerr - before;
}
