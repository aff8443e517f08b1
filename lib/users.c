/*
 * users.c - the users file (Dovecot passwd-file format).
 *
 * Interface: users.h.  The file is read whole (at most USERS_FILE_MAX
 * bytes), split into lines, and every well-formed line becomes one
 * struct users_ent.  Malformed lines are skipped with a warning
 * "path:line: message" (at most USERS_WARN_MAX of them, then one summary).
 * The index is an open-addressing hash table over the names, folded to
 * lowercase, holding entry numbers; it also finds duplicates while loading
 * (the first line wins).
 *
 * Errors: users_load() returns NULL with a message in err when the file
 * cannot be opened or read, is not a regular file, or is too big.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "users.h"
#include "util.h"

#define USERS_NFIELDS	8

struct users_index {
	size_t	*slot;		/* entry number + 1; 0 = empty */
	size_t	 cap;		/* a power of two */
};

/* users_fold - ASCII lowercase of one byte */
static unsigned char
users_fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 'a' - 'A') : c;
}

/* users_hash - FNV-1a over local ["@" domain], case-folded */
static uint64_t
users_hash(const char *local, const char *domain)
{
	uint64_t h = UINT64_C(14695981039346656037);
	const char *s;

	for (s = local; *s != '\0'; s++)
		h = (h ^ users_fold((unsigned char)*s)) *
		    UINT64_C(1099511628211);
	if (domain != NULL) {
		h = (h ^ '@') * UINT64_C(1099511628211);
		for (s = domain; *s != '\0'; s++)
			h = (h ^ users_fold((unsigned char)*s)) *
			    UINT64_C(1099511628211);
	}
	return h;
}

/* users_ncaseeq - first n bytes equal ignoring ASCII case (no locale) */
static int
users_ncaseeq(const char *a, const char *b, size_t n)
{
	size_t	 i;
	int	 ca, cb;

	for (i = 0; i < n; i++) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[i];
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return 0;
		if (ca == '\0')
			break;
	}
	return 1;
}

/* users_key_eq - name equals local ["@" domain], ignoring ASCII case */
static int
users_key_eq(const char *name, const char *local, const char *domain)
{
	size_t	 ll = strlen(local);

	if (!users_ncaseeq(name, local, ll))
		return 0;
	if (domain == NULL)
		return name[ll] == '\0';
	return name[ll] == '@' &&
	    util_strcasecmp_ascii(name + ll + 1, domain) == 0;
}

/* users_index_find - entry number of local["@"domain], or -1 */
static long
users_index_find(const struct users *u, const char *local,
    const char *domain)
{
	const struct users_index *ix = u->index;
	size_t	 i, e;

	if (ix == NULL || ix->cap == 0)
		return -1;
	i = (size_t)users_hash(local, domain) & (ix->cap - 1);
	while ((e = ix->slot[i]) != 0) {
		if (users_key_eq(u->ent[e - 1].name, local, domain))
			return (long)(e - 1);
		i = (i + 1) & (ix->cap - 1);
	}
	return -1;
}

/* users_index_put - add entry number e (not yet present), growing at 1/2 */
static void
users_index_put(struct users *u, size_t e)
{
	struct users_index *ix = u->index;
	size_t	 i, j, ncap;
	size_t	*nslot;

	if ((e + 1) * 2 > ix->cap) {
		ncap = ix->cap == 0 ? 64 : ix->cap * 2;
		nslot = xcalloc(ncap, sizeof(*nslot));
		for (j = 0; j < ix->cap; j++) {
			if (ix->slot[j] == 0)
				continue;
			i = (size_t)users_hash(u->ent[ix->slot[j] - 1].name,
			    NULL) & (ncap - 1);
			while (nslot[i] != 0)
				i = (i + 1) & (ncap - 1);
			nslot[i] = ix->slot[j];
		}
		free(ix->slot);
		ix->slot = nslot;
		ix->cap = ncap;
	}
	i = (size_t)users_hash(u->ent[e].name, NULL) & (ix->cap - 1);
	while (ix->slot[i] != 0)
		i = (i + 1) & (ix->cap - 1);
	ix->slot[i] = e + 1;
}

/* users_warn - record "path:line: message", bounded in number */
static void
users_warn(struct users *u, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
users_warn(struct users *u, const char *path, int line, const char *fmt, ...)
{
	char	 msg[512], full[1024];
	va_list	 ap;

	if (u->nwarn > USERS_WARN_MAX)
		return;
	if (u->nwarn == USERS_WARN_MAX)
		snprintf(full, sizeof(full), "%s: too many warnings, "
		    "the rest are not shown", path);
	else {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(full, sizeof(full), "%s:%d: %s", path, line, msg);
	}
	u->warn = xreallocarray(u->warn, u->nwarn + 1, sizeof(*u->warn));
	u->warn[u->nwarn++] = xstrdup(full);
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
	for (s = name; *s != '\0'; s++)
		if (*s == ' ' || *s == '\t')
			return "white space in user name";
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
	users_index_put(u, u->n);
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
	if (f[5][0] != '\0' && f[5][0] != '/') {
		users_warn(u, path, lineno, "%s: home is not an absolute "
		    "path, skipped", esc);
		return;
	}
	if ((dup = users_index_find(u, f[0], NULL)) != -1) {
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
	const char *p = buf, *end = buf + len, *nl;
	size_t	 ll;
	int	 lineno = 0;

	if (path == NULL)
		path = "users";
	u = xcalloc(1, sizeof(*u));
	u->index = xcalloc(1, sizeof(struct users_index));
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ll = (size_t)(nl - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll > USERS_LINE_MAX)
			users_warn(u, path, lineno, "line longer than %d "
			    "bytes, skipped", USERS_LINE_MAX);
		else {
			memcpy(line, p, ll);
			line[ll] = '\0';
			users_parse_line(u, line, ll, path, lineno);
		}
		p = nl + (nl < end);
	}
	return u;
}

/* users_load - see users.h */
struct users *
users_load(const char *path, char *err, size_t errlen)
{
	struct users *u = NULL;
	struct stat st;
	char	*data = NULL;
	ssize_t	 got;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "cannot open users file %s: %s",
			    path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1)
		goto syserr;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "users file %s: not a regular "
			    "file", path);
		goto out;
	}
	if (st.st_size > USERS_FILE_MAX) {
		errno = EFBIG;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "users file %s: larger than %d "
			    "bytes", path, USERS_FILE_MAX);
		goto out;
	}
	data = xmalloc((size_t)st.st_size + 1);
	if ((got = util_read_full(fd, data, (size_t)st.st_size)) == -1)
		goto syserr;
	u = users_parse_buf(data, (size_t)got, path);
	goto out;
syserr:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "cannot read users file %s: %s", path,
		    strerror(errno));
out:
	saved = errno;
	free(data);
	close(fd);
	errno = saved;
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
		e = users_index_find(u, local, NULL);
	else {
		e = users_index_find(u, local, domain);
		if (e == -1 && (e = users_index_find(u, local, NULL)) != -1 &&
		    u->ent[e].domain[0] != '\0')
			e = -1;
	}
	return e == -1 ? NULL : &u->ent[e];
}

/* users_free - release everything */
void
users_free(struct users *u)
{
	struct users_index *ix;
	size_t	 i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++)
		users_ent_free(&u->ent[i]);
	free(u->ent);
	for (i = 0; i < u->nwarn; i++)
		free(u->warn[i]);
	free(u->warn);
	if ((ix = u->index) != NULL)
		free(ix->slot);
	free(ix);
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

/* users_password_hash - the password without its "{SCHEME}" prefix */
const char *
users_password_hash(const char *pass)
{
	return pass + users_scheme_len(pass);
}
