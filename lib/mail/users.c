/*
 * users.c - the users file (Dovecot passwd-file format).
 *
 * Interface: users.h.  The file is read whole (at most USERS_FILE_MAX
 * bytes), split into lines, and every well-formed line becomes one
 * struct users_ent.  Malformed lines are skipped with a warning
 * "path:line: message" (at most USERS_WARN_MAX of them, then one summary).
 * The index is a ktab (ktab.h) from the names, ignoring ASCII case, to
 * entry numbers; it also finds duplicates while loading (the first line
 * wins).
 *
 * Errors: users_load() returns NULL with a message in err when the file
 * cannot be opened or read, is not a regular file, or is too big.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "ktab.h"
#include "log.h"
#include "passwd.h"
#include "users.h"
#include "util.h"

#define USERS_NFIELDS	8

/* users_warn - record "path:line: message", bounded in number */
static void
users_warn(struct users *u, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
users_warn(struct users *u, const char *path, int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	util_warn_add(&u->warn, &u->nwarn, USERS_WARN_MAX, path, line, fmt, ap);
	va_end(ap);
}

/* users_ent_free - release the strings of one entry */
static void
users_ent_free(struct users_ent *e)
{
	free(e->name);
	free(e->local);
	free(e->domain);
	free(e->pass);
	free(e->gecos);
	free(e->home);
	free(e->shell);
	free(e->extra);
}

/* users_parse_id - uid/gid field: "" -> -1, else 1..4294967294 */
static int
users_parse_id(const char *s, long *out)
{
	long long v;

	if (*s == '\0') {
		*out = -1;
		return 0;
	}
	if (util_parse_ll(s, 1, 4294967294LL, &v) == -1)
		return -1;
	*out = (long)v;
	return 0;
}

/*
 * users_split - cut line at ':' into f[0..7]; f[7] is the rest of the line
 * (extra fields may contain ':').  Missing fields are "".  Returns the
 * number of fields present.
 */
static int
users_split(char *line, char *f[USERS_NFIELDS])
{
	int	 n = 1, i;
	char	*c;

	f[0] = line;
	while (n < USERS_NFIELDS && (c = strchr(f[n - 1], ':')) != NULL) {
		*c = '\0';
		f[n++] = c + 1;
	}
	for (i = n; i < USERS_NFIELDS; i++)
		f[i] = f[n - 1] + strlen(f[n - 1]);	/* "" */
	return n;
}

/* users_check_name - NULL when the name field is acceptable, else why */
static const char *
users_check_name(const char *name)
{
	const char *at, *s;

	if (*name == '\0')
		return "empty user name";
	if (strlen(name) > USERS_NAME_MAX)
		return "user name too long";
	for (s = name; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t')
			return "white space in user name";
		if (*s == '/')
			return "'/' in user name (it becomes part of a path)";
	}
	if (name[0] == '.')
		return "user name starts with '.' (it becomes part of a path)";
	if ((at = strrchr(name, '@')) != NULL) {
		if (at == name)
			return "empty local part in user name";
		if (!addr_valid_domain(at + 1))
			return "bad domain in user name";
	}
	return NULL;
}

/* users_add - make an entry from split fields (checked), index it */
static void
users_add(struct users *u, char *f[USERS_NFIELDS], long uid, long gid,
    int line)
{
	struct users_ent *e;
	char	*at;

	u->ent = xreallocarray(u->ent, u->n + 1, sizeof(*u->ent));
	e = &u->ent[u->n];
	memset(e, 0, sizeof(*e));
	if ((at = strrchr(f[0], '@')) != NULL) {
		util_lowercase(at + 1);
		e->local = xstrndup(f[0], (size_t)(at - f[0]));
		e->domain = xstrdup(at + 1);
	} else {
		e->local = xstrdup(f[0]);
		e->domain = xstrdup("");
	}
	e->name = xstrdup(f[0]);
	e->pass = xstrdup(f[1]);
	e->uid = uid;
	e->gid = gid;
	e->gecos = xstrdup(f[4]);
	e->home = xstrdup(f[5]);
	e->shell = xstrdup(f[6]);
	e->extra = xstrdup(f[7]);
	e->line = line;
	ktab_put(u->index, e->name, u->n);
	u->n++;
}

/* users_parse_line - one line (NUL-terminated copy of len bytes) */
static void
users_parse_line(struct users *u, char *line, size_t len, const char *path,
    int lineno)
{
	char	*f[USERS_NFIELDS];
	char	 esc[USERS_NAME_MAX * 4 + 1];
	const char *why;
	long	 uid, gid, dup;
	size_t	 i;

	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i == len || line[i] == '#')
		return;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			users_warn(u, path, lineno, "control character in "
			    "line, skipped");
			return;
		}
	}
	if (users_split(line, f) < 2) {
		users_warn(u, path, lineno, "no ':' after the user name, "
		    "skipped");
		return;
	}
	if ((why = users_check_name(f[0])) != NULL) {
		users_warn(u, path, lineno, "%s, skipped", why);
		return;
	}
	log_escape(esc, sizeof(esc), f[0], strlen(f[0]));
	if (users_parse_id(f[2], &uid) == -1) {
		users_warn(u, path, lineno, "%s: bad uid \"%s\", skipped",
		    esc, log_str(f[2]));
		return;
	}
	if (users_parse_id(f[3], &gid) == -1) {
		users_warn(u, path, lineno, "%s: bad gid \"%s\", skipped",
		    esc, log_str(f[3]));
		return;
	}
	if (f[5][0] != '\0' && !util_path_clean(f[5])) {
		users_warn(u, path, lineno, "%s: home is not an absolute "
		    "path without . and .. components, skipped", esc);
		return;
	}
	if ((dup = ktab_find(u->index, f[0], NULL)) != -1) {
		users_warn(u, path, lineno, "duplicate user %s (first on "
		    "line %d), skipped", esc, u->ent[dup].line);
		return;
	}
	users_add(u, f, uid, gid, lineno);
}

/* users_parse_buf - see users.h; path (may be NULL) names the source */
struct users *
users_parse_buf(const char *buf, size_t len, const char *path)
{
	struct users *u;
	char	 line[USERS_LINE_MAX + 2];
	const char *p = buf, *end = buf + len, *l;
	size_t	 ll;
	int	 lineno = 0;

	if (path == NULL)
		path = "users";
	u = xcalloc(1, sizeof(*u));
	u->index = ktab_new(0);
	while ((l = util_line(&p, end, &ll)) != NULL) {
		lineno++;
		if (ll > USERS_LINE_MAX)
			users_warn(u, path, lineno, "line longer than %d "
			    "bytes, skipped", USERS_LINE_MAX);
		else {
			memcpy(line, l, ll);
			line[ll] = '\0';
			users_parse_line(u, line, ll, path, lineno);
		}
	}
	return u;
}

/* users_load - see users.h */
struct users *
users_load(const char *path, char *err, size_t errlen)
{
	struct users *u;
	char	*data;
	size_t	 len;
	int	 opened, saved;

	if ((data = util_read_path(path, USERS_FILE_MAX, &len, &opened)) ==
	    NULL) {
		saved = errno;
		if (err != NULL && errlen > 0) {
			if (!opened)
				snprintf(err, errlen, "cannot open users file "
				    "%s: %s", path, strerror(saved));
			else if (saved == EINVAL)
				snprintf(err, errlen, "users file %s: not a "
				    "regular file", path);
			else if (saved == EFBIG)
				snprintf(err, errlen, "users file %s: larger "
				    "than %d bytes", path, USERS_FILE_MAX);
			else
				snprintf(err, errlen, "cannot read users file "
				    "%s: %s", path, strerror(saved));
		}
		errno = saved;
		return NULL;
	}
	u = users_parse_buf(data, len, path);
	free(data);
	return u;
}

/*
 * users_find - see users.h.  With a non-empty domain: "local@domain", then
 * an entry without a domain named local.  With domain NULL or "": local is
 * a whole name (e.g. a SASL login, "alice" or "alice@example.com").
 */
const struct users_ent *
users_find(const struct users *u, const char *local, const char *domain)
{
	long	 e;

	if (u == NULL || local == NULL)
		return NULL;
	if (domain == NULL || *domain == '\0')
		e = ktab_find(u->index, local, NULL);
	else {
		e = ktab_find(u->index, local, domain);
		if (e == -1 && (e = ktab_find(u->index, local, NULL)) != -1 &&
		    u->ent[e].domain[0] != '\0')
			e = -1;
	}
	return e == -1 ? NULL : &u->ent[e];
}

/* users_free - release everything */
void
users_free(struct users *u)
{
	size_t	 i;

	if (u == NULL)
		return;
	ktab_free(u->index);
	for (i = 0; i < u->n; i++)
		users_ent_free(&u->ent[i]);
	free(u->ent);
	util_strv_free(u->warn, u->nwarn);
	free(u);
}

/* users_scheme_len - length of a well-formed "{SCHEME}" prefix, or 0 */
static size_t
users_scheme_len(const char *pass)
{
	size_t	 i;
	int	 c;

	if (pass == NULL || pass[0] != '{')
		return 0;
	for (i = 1; pass[i] != '}'; i++) {
		c = (unsigned char)pass[i];
		if (i > USERS_SCHEME_MAX || c == '\0' ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return i == 1 ? 0 : i + 1;
}

/* users_scheme - see users.h; "" for an empty or malformed {SCHEME} */
size_t
users_scheme(const char *pass, char *out, size_t size)
{
	char	 tmp[USERS_SCHEME_MAX + 1];
	size_t	 n;

	if (pass == NULL || *pass == '\0')
		return util_strlcpy(out, "", size);
	if (*pass != '{')
		return util_strlcpy(out, "CRYPT", size);
	if ((n = users_scheme_len(pass)) == 0)
		return util_strlcpy(out, "", size);
	memcpy(tmp, pass + 1, n - 2);
	tmp[n - 2] = '\0';
	for (n = 0; tmp[n] != '\0'; n++)
		if (tmp[n] >= 'a' && tmp[n] <= 'z')
			tmp[n] -= 'a' - 'A';
	return util_strlcpy(out, tmp, size);
}

/* users_login_problem - see users.h */
const char *
users_login_problem(const struct users_ent *e, char *buf, size_t size)
{
	return passwd_problem(e != NULL ? e->pass : NULL, buf, size);
}

/* users_password_hash - the password without its "{SCHEME}" prefix */
const char *
users_password_hash(const char *pass)
{
	return pass + users_scheme_len(pass);
}
