/*
 * aliases.c - the aliases file: parser, index, recursive expansion.
 *
 * Interface: aliases.h.  Physical lines are joined into logical lines
 * (a line that starts with white space continues the previous one; blank
 * and comment lines are ignored and do not end a logical line), each
 * logical line is "name: target, target ...".  Targets are separated by
 * commas and/or white space outside double quotes.  Every target is
 * checked: an address goes through addr_parse_mailbox() and is stored in
 * canonical form (addr_format), a bare local name must be a Dot-string,
 * "\name" is kept as is (deliver to name without further expansion, as in
 * Postfix).  Commands, files and includes are refused with a warning.
 *
 * The index is a ktab (ktab.h) from the lowercased names to entry numbers.
 *
 * Errors: aliases_load() returns NULL with a message in err when the file
 * exists but cannot be read, is not a regular file or is over
 * ALIASES_FILE_MAX bytes; a missing file is an empty table.
 * aliases_expand() returns -1 with errno ELOOP, E2BIG or EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "ktab.h"
#include "log.h"
#include "util.h"

/* how many alias entries one expansion may visit */
#define ALIASES_MAX_VISITS	(4 * ALIASES_MAX_RESULTS)

/* aliases_warn - record "path:line: message", bounded in number */
static void
aliases_warn(struct aliases *al, const char *path, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
aliases_warn(struct aliases *al, const char *path, int line,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	util_warn_add(&al->warn, &al->nwarn, ALIASES_WARN_MAX, path, line,
	    fmt, ap);
	va_end(ap);
}

/* aliases_refusal - why a target is refused, or NULL */
static const char *
aliases_refusal(const char *t)
{
	const char *s = t;

	if (*s == '\\')		/* \|cmd is no way around the rule */
		s++;
	if (*s == '"')
		s++;

	if (*s == '|')
		return "command target refused (youju never runs programs "
		    "from aliases)";
	if (*s == '/')
		return "file target refused (youju never writes files "
		    "from aliases)";
	if (util_strncasecmp_ascii(s, ":include:", 9) == 0)
		return ":include: target refused (youju reads no other files "
		    "from aliases)";
	return NULL;
}

/* aliases_refusal_bare - aliases_refusal of t without quotes or escapes */
static const char *
aliases_refusal_bare(const char *t)
{
	char	 bare[ADDR_BUFSZ + 2];
	size_t	 o = 0;

	for (; *t != '\0' && o + 1 < sizeof(bare); t++)
		if (*t != '"' && *t != '\\')
			bare[o++] = *t;
	bare[o] = '\0';
	return aliases_refusal(bare);
}

/* aliases_canon - canonical form of a target (malloc'ed), or NULL */
static char *
aliases_canon(const char *t)
{
	struct addr a;
	char	 text[ADDR_BUFSZ];
	const char *at;

	if (t[0] == '\\')
		return addr_valid_local(t + 1) ? xstrdup(t) : NULL;
	at = strrchr(t, '@');
	if (at == NULL || (strrchr(t, '"') != NULL && strrchr(t, '"') > at))
		return addr_valid_local(t) ? xstrdup(t) : NULL;
	if (addr_parse_mailbox(t, &a, NULL) == -1)
		return NULL;
	addr_format(&a, text, sizeof(text));
	return xstrdup(text);
}

/*
 * aliases_next_token - the next target in *sp, cut out in place; NULL at
 * the end.  *bad is set for an unbalanced quote.
 */
static char *
aliases_next_token(char **sp, int *bad)
{
	char	*s = *sp, *t;
	int	 inq = 0;

	while (*s == ',' || *s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return NULL;
	for (t = s; *s != '\0'; s++) {
		if (inq && *s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			inq = !inq;
		else if (!inq && (*s == ',' || *s == ' ' || *s == '\t'))
			break;
	}
	*bad = inq;
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return t;
}

/* aliases_check_name - lowercased copy of a valid alias name, or NULL */
static char *
aliases_check_name(char *name)
{
	struct addr a;
	char	*copy;

	name = util_trim(name);
	if (strchr(name, '@') != NULL) {
		if (addr_parse_mailbox(name, &a, NULL) == -1 || a.quoted)
			return NULL;
	} else if (!addr_valid_local(name))
		return NULL;
	copy = xstrdup(name);
	util_lowercase(copy);
	return copy;
}

/* aliases_add_targets - parse the target list into e; warnings for al */
static void
aliases_add_targets(struct aliases *al, struct aliases_ent *e, char *list,
    const char *path)
{
	char	 esc[256];
	const char *why;
	char	*t, *c;
	int	 bad = 0;

	while ((t = aliases_next_token(&list, &bad)) != NULL) {
		log_escape(esc, sizeof(esc), t, strlen(t));
		if (bad) {
			aliases_warn(al, path, e->line, "alias %s: unbalanced "
			    "quote in \"%s\", target ignored", e->name, esc);
			break;
		}
		if ((why = aliases_refusal(t)) != NULL) {
			aliases_warn(al, path, e->line, "alias %s: \"%s\": %s",
			    e->name, esc, why);
			continue;
		}
		if ((c = aliases_canon(t)) == NULL) {
			aliases_warn(al, path, e->line, "alias %s: bad target "
			    "\"%s\", ignored", e->name, esc);
			continue;
		}
		/* quoting may hide the rule ("\|cmd"@d): look at it bare */
		if ((why = aliases_refusal_bare(c)) != NULL) {
			aliases_warn(al, path, e->line, "alias %s: \"%s\": %s",
			    e->name, esc, why);
			free(c);
			continue;
		}
		e->targets = xreallocarray(e->targets, e->ntargets + 1,
		    sizeof(*e->targets));
		e->targets[e->ntargets++] = c;
	}
}

/* aliases_ent_free - release one entry */
static void
aliases_ent_free(struct aliases_ent *e)
{
	aliases_list_free(e->targets, e->ntargets);
	free(e->name);
}

/* aliases_parse_logical - one logical line (NUL-terminated, len bytes) */
static void
aliases_parse_logical(struct aliases *al, char *line, size_t len,
    const char *path, int lineno)
{
	struct aliases_ent e;
	char	 esc[256];
	char	*colon;
	long	 dup;
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			aliases_warn(al, path, lineno, "control character "
			    "in line, skipped");
			return;
		}
	}
	if ((colon = strchr(line, ':')) == NULL) {
		aliases_warn(al, path, lineno, "no ':' after the alias name, "
		    "skipped");
		return;
	}
	*colon = '\0';
	memset(&e, 0, sizeof(e));
	e.line = lineno;
	if ((e.name = aliases_check_name(line)) == NULL) {
		log_escape(esc, sizeof(esc), line, strlen(line));
		aliases_warn(al, path, lineno, "bad alias name \"%s\", "
		    "skipped", esc);
		return;
	}
	if ((dup = ktab_find(al->index, e.name, NULL)) != -1) {
		aliases_warn(al, path, lineno, "duplicate alias %s (first on "
		    "line %d), skipped", e.name, al->ent[dup].line);
		free(e.name);
		return;
	}
	aliases_add_targets(al, &e, colon + 1, path);
	if (e.ntargets == 0) {
		aliases_warn(al, path, lineno, "alias %s has no usable "
		    "target, skipped", e.name);
		aliases_ent_free(&e);
		return;
	}
	al->ent = xreallocarray(al->ent, al->n + 1, sizeof(*al->ent));
	al->ent[al->n] = e;
	ktab_put(al->index, al->ent[al->n].name, al->n);
	al->n++;
}

/* aliases_flush - parse the pending logical line, if any */
static void
aliases_flush(struct aliases *al, struct buf *lb, int *over, int *start,
    const char *path)
{
	if (*start != 0) {
		if (*over)
			aliases_warn(al, path, *start, "logical line longer "
			    "than %d bytes, skipped", ALIASES_LINE_MAX);
		else if (buf_putc(lb, '\0') == 0)
			aliases_parse_logical(al, (char *)lb->data,
			    lb->len - 1, path, *start);
		else
			aliases_warn(al, path, *start, "logical line longer "
			    "than %d bytes, skipped", ALIASES_LINE_MAX);
	}
	buf_reset(lb);
	*over = 0;
	*start = 0;
}

/* aliases_parse_buf - see aliases.h; path (may be NULL) names the source */
struct aliases *
aliases_parse_buf(const char *data, size_t len, const char *path)
{
	struct aliases *al;
	struct buf lb;
	const char *p = data, *end = data + len, *l;
	size_t	 ll, i;
	int	 lineno = 0, start = 0, over = 0;

	if (path == NULL)
		path = "aliases";
	al = xcalloc(1, sizeof(*al));
	al->index = ktab_new(0);
	buf_init(&lb, ALIASES_LINE_MAX + 1);
	while ((l = util_line(&p, end, &ll)) != NULL) {
		lineno++;
		for (i = 0; i < ll && (l[i] == ' ' || l[i] == '\t'); i++)
			;
		if (i == ll || l[i] == '#')
			continue;		/* blank or comment */
		if (i == 0)
			aliases_flush(al, &lb, &over, &start, path);
		else if (start == 0) {
			aliases_warn(al, path, lineno, "continuation line "
			    "without a preceding alias, skipped");
			continue;
		}
		if (start == 0)
			start = lineno;
		if (!over && buf_append(&lb, l, ll) == -1)
			over = 1;
	}
	aliases_flush(al, &lb, &over, &start, path);
	buf_free(&lb);
	return al;
}

/* aliases_load - see aliases.h */
struct aliases *
aliases_load(const char *path, char *err, size_t errlen)
{
	struct aliases *al;
	char	*data;
	size_t	 len;
	int	 opened, saved;

	if ((data = util_read_path(path, ALIASES_FILE_MAX, &len, &opened)) ==
	    NULL) {
		saved = errno;
		if (!opened && saved == ENOENT)
			return aliases_parse_buf("", 0, path);
		if (err != NULL && errlen > 0) {
			if (!opened)
				snprintf(err, errlen, "cannot open aliases "
				    "file %s: %s", path, strerror(saved));
			else if (saved == EINVAL || saved == EFBIG)
				snprintf(err, errlen, "aliases file %s: %s",
				    path, saved == EFBIG ? "file too large" :
				    "not a regular file");
			else
				snprintf(err, errlen, "cannot read aliases "
				    "file %s: %s", path, strerror(saved));
		}
		errno = saved;
		return NULL;
	}
	al = aliases_parse_buf(data, len, path);
	free(data);
	return al;
}

/* aliases_find - entry number for local/domain (see aliases_lookup) */
static long
aliases_find(const struct aliases *al, const char *local, const char *domain)
{
	long	 e;

	if (domain != NULL && *domain != '\0' &&
	    (e = ktab_find(al->index, local, domain)) != -1)
		return e;
	e = ktab_find(al->index, local, NULL);
	if (e != -1 && strchr(al->ent[e].name, '@') != NULL)
		return -1;	/* a quoted "a@b" local part is not a@b */
	return e;
}

/*
 * aliases_lookup - see aliases.h.  The second step only matches entries
 * whose name has no '@'; with domain NULL or "" only that step is made.
 */
const struct aliases_ent *
aliases_lookup(const struct aliases *al, const char *local,
    const char *domain)
{
	long	 e;

	if (al == NULL || local == NULL)
		return NULL;
	e = aliases_find(al, local, domain);
	return e == -1 ? NULL : &al->ent[e];
}

/* state of one expansion */
struct aliases_x {
	const struct aliases *al;
	int	(*is_local)(void *, const char *);
	void	*arg;
	char	**out;
	size_t	  nout;
	size_t	  stack[ALIASES_MAX_DEPTH + 1];	/* entries being expanded */
	int	  depth;
	size_t	 *seen;				/* entries visited */
	size_t	  nseen;
};

/* aliases_x_emit - add a final address unless already there */
static int
aliases_x_emit(struct aliases_x *x, const char *s)
{
	size_t	 i;

	for (i = 0; i < x->nout; i++)
		if (util_strcasecmp_ascii(x->out[i], s) == 0)
			return 0;
	if (x->nout >= ALIASES_MAX_RESULTS) {
		errno = E2BIG;
		return -1;
	}
	x->out = xreallocarray(x->out, x->nout + 1, sizeof(*x->out));
	x->out[x->nout++] = xstrdup(s);
	return 0;
}

/* aliases_x_seen - 2 when e is being expanded, 1 when done, else 0 */
static int
aliases_x_seen(const struct aliases_x *x, size_t e)
{
	size_t	 i;
	int	 d;

	for (d = 0; d < x->depth; d++)
		if (x->stack[d] == e)
			return 2;
	for (i = 0; i < x->nseen; i++)
		if (x->seen[i] == e)
			return 1;
	return 0;
}

/* aliases_x_addr - expand one address (depth = aliases above it) */
static int
aliases_x_addr(struct aliases_x *x, const char *addr)
{
	const struct aliases_ent *ent;
	char	*local;
	const char *at, *domain = NULL;
	long	 e;
	size_t	 i;
	int	 r = 0;

	if (addr[0] == '\\')
		return aliases_x_emit(x, addr + 1);
	if ((at = strrchr(addr, '@')) != NULL) {
		domain = at + 1;
		if (x->is_local == NULL || !x->is_local(x->arg, domain))
			return aliases_x_emit(x, addr);
	}
	local = xstrndup(addr, at == NULL ? strlen(addr) :
	    (size_t)(at - addr));
	e = aliases_find(x->al, local, domain);
	free(local);
	if (e == -1)
		return aliases_x_emit(x, addr);
	switch (aliases_x_seen(x, (size_t)e)) {
	case 2:
		return aliases_x_emit(x, addr);	/* "a: a, b" */
	case 1:
		return 0;			/* already expanded */
	}
	if (x->depth >= ALIASES_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if (x->nseen >= ALIASES_MAX_VISITS) {
		errno = E2BIG;
		return -1;
	}
	x->seen = xreallocarray(x->seen, x->nseen + 1, sizeof(*x->seen));
	x->seen[x->nseen++] = (size_t)e;
	x->stack[x->depth++] = (size_t)e;
	ent = &x->al->ent[e];
	for (i = 0; i < ent->ntargets && r == 0; i++)
		r = aliases_x_addr(x, ent->targets[i]);
	x->depth--;
	return r;
}

/* aliases_expand - see aliases.h */
int
aliases_expand(const struct aliases *al, const char *addr,
    int (*is_local)(void *, const char *), void *arg, char ***out,
    size_t *nout)
{
	struct aliases_x x;
	int	 r, saved;

	*out = NULL;
	*nout = 0;
	if (al == NULL || addr == NULL || *addr == '\0') {
		errno = EINVAL;
		return -1;
	}
	memset(&x, 0, sizeof(x));
	x.al = al;
	x.is_local = is_local;
	x.arg = arg;
	r = aliases_x_addr(&x, addr);
	saved = errno;
	free(x.seen);
	if (r == -1) {
		aliases_list_free(x.out, x.nout);
		errno = saved;
		return -1;
	}
	*out = x.out;
	*nout = x.nout;
	return 0;
}

/* aliases_load_maps - see aliases.h */
struct aliases **
aliases_load_maps(char **v, size_t nv, size_t *n, char *err, size_t errlen)
{
	struct aliases **tabs;
	const char *p;
	size_t	 i;

	tabs = xcalloc(nv + 1, sizeof(*tabs));
	for (i = 0; i < nv; i++) {
		p = strchr(v[i], ':');
		p = (p != NULL && p[1] == '/') ? p + 1 : v[i];
		if ((tabs[i] = aliases_load(p, err, errlen)) == NULL) {
			while (i-- > 0)
				aliases_free(tabs[i]);
			free(tabs);
			return NULL;
		}
	}
	*n = nv;
	return tabs;
}

/* aliases_resolve - see aliases.h */
int
aliases_resolve(const struct aliases_query *q, const char *lp,
    const char *domain, char ***out, size_t *nout)
{
	const struct aliases *t = NULL;
	char	 base[ADDR_LOCAL_MAX + 1], addr[ADDR_BUFSZ + 1], *full;
	const char *name = lp, *origin;
	size_t	 i, k, n;

	*out = NULL;
	*nout = 0;
	for (k = 0; k < q->ntabs && t == NULL; k++)
		if (aliases_lookup(q->tabs[k], lp, domain) != NULL)
			t = q->tabs[k];
	if (t == NULL && addr_base_local(lp, q->delims, base,
	    sizeof(base)) == 0) {
		/* user+ext@domain: the alias of user */
		for (k = 0; k < q->ntabs && t == NULL; k++)
			if (aliases_lookup(q->tabs[k], base, domain) != NULL)
				t = q->tabs[k];
		name = base;
	}
	if (t == NULL || util_fmt(addr, sizeof(addr), "%s@%s", name,
	    domain) == -1)
		return 0;
	if (aliases_expand(t, addr, q->is_local, q->arg, out, nout) == -1)
		return -1;
	if (*nout == 1 && util_strcasecmp_ascii((*out)[0], addr) == 0) {
		aliases_list_free(*out, *nout);	/* "a: a" */
		*out = NULL;
		*nout = 0;
		return 0;
	}
	origin = q->origin != NULL ? q->origin : domain;
	for (i = 0; i < *nout; i++) {
		if (strchr((*out)[i], '@') != NULL)
			continue;
		n = strlen((*out)[i]) + strlen(origin) + 2;
		full = xmalloc(n);
		(void)snprintf(full, n, "%s@%s", (*out)[i], origin);
		free((*out)[i]);
		(*out)[i] = full;
	}
	return 1;
}

/* aliases_list_free - free an expansion result */
void
aliases_list_free(char **list, size_t n)
{
	util_strv_free(list, n);
}

/* aliases_free - release everything */
void
aliases_free(struct aliases *al)
{
	size_t	 i;

	if (al == NULL)
		return;
	ktab_free(al->index);
	for (i = 0; i < al->n; i++)
		aliases_ent_free(&al->ent[i]);
	free(al->ent);
	util_strv_free(al->warn, al->nwarn);
	free(al);
}
