/*
 * maps_text.c - the source format every table file shares (logical lines,
 * "key whitespace value"), the "{ ... }" syntax of inline tables, and the
 * in-memory types texthash: and inline: (see maps.h, maps_priv.h).
 *
 * Interface: maps_lines, maps_split_kv, maps_braces, maps_is_space,
 * maps_if_open, maps_if_close, maps_if_end (the if ... endif blocks of the
 * pattern tables), maps_text_load, maps_inline_load, maps_text_lookup,
 * maps_text_each, maps_text_free.
 * Errors: the loaders report each bad line ("FILE:LINE: ...") and return
 * NULL when there was one; the table is then refused whole.
 *
 * An in-memory table is an array sorted by key (binary search).  Its keys
 * are folded to lower case.  A key given twice: the first one counts in
 * texthash: (as postmap(1) and Postfix's texthash: keep the first, with a
 * warning), the last one in inline: (as Postfix's inline: does).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "maps.h"
#include "maps_priv.h"
#include "util.h"

struct maps_ent {
	char		*key;
	char		*val;
	int		 line;
	size_t		 seq;		/* order in the source */
};

struct maps_text {
	struct maps_ent	*ent;
	size_t		 n;
	size_t		 cap;
	int		 last_wins;	/* inline: */
	const struct maps_src *src;
	struct maps_report *r;
};

/* maps_is_space - see maps_priv.h */
int
maps_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* maps_line_end - a logical line is complete: trim it and hand it on */
static int
maps_line_end(const struct maps_src *src, struct maps_report *r,
    struct buf *line, int first, int bad, int (*cb)(void *, char *, int),
    void *arg)
{
	if (first == 0 || bad || line->len == 0)
		return 0;
	while (line->len > 0 && maps_is_space(line->data[line->len - 1]))
		line->len--;
	line->data[line->len] = '\0';
	return cb(arg, (char *)line->data, first);
}

/* maps_lines - see maps_priv.h */
int
maps_lines(const struct maps_src *src, struct maps_report *r,
    int (*cb)(void *, char *, int), void *arg)
{
	const char *p = src->text, *end = p + src->len, *nl, *q;
	struct buf line;
	size_t	 n;
	int	 lineno = 0, first = 0, bad = 0, rc = 0;

	buf_init(&line, MAPS_LINE_MAX);
	for (; p < end && rc == 0; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (q = p; q < p + n && maps_is_space((unsigned char)*q); q++)
			;
		if (q == p + n || *q == '#')
			continue;
		if (q == p) {
			rc = maps_line_end(src, r, &line, first, bad, cb, arg);
			buf_reset(&line);
			first = lineno;
			bad = 0;
		} else if (first == 0) {
			maps_report_add(r, 1, src->where, lineno, "a line that "
			    "starts with white space continues the line before "
			    "it, and there is none");
			continue;
		}
		if (memchr(p, '\0', n) != NULL) {
			maps_report_add(r, 1, src->where, lineno, "NUL byte");
			bad = 1;
		} else if (!bad && buf_append(&line, p, n) == -1) {
			maps_report_add(r, 1, src->where, first, "line longer "
			    "than %d bytes", MAPS_LINE_MAX);
			bad = 1;
		}
	}
	if (rc == 0)
		rc = maps_line_end(src, r, &line, first, bad, cb, arg);
	buf_free(&line);
	return rc;
}

/* maps_split_kv - see maps_priv.h */
int
maps_split_kv(char *line, char **key, char **value, char *err,
    size_t errlen)
{
	char	*p = line;
	int	 quoted = 0;

	for (; *p != '\0' && (quoted || !maps_is_space((unsigned char)*p));
	    p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
	}
	if (quoted) {
		snprintf(err, errlen, "unbalanced '\"' in the key");
		return -1;
	}
	*key = line;
	if (*p != '\0')
		*p++ = '\0';
	while (maps_is_space((unsigned char)*p))
		p++;
	*value = p;
	if (**key == '\0' || **value == '\0') {
		snprintf(err, errlen, "expected \"key whitespace value\"");
		return -1;
	}
	return 0;
}

/* maps_balpar - length of "{...}" up to its matching '}', or 0 */
static size_t
maps_balpar(const char *s, size_t len)
{
	size_t	 i;
	int	 depth = 0;

	if (len == 0 || s[0] != '{')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && --depth == 0)
			return i + 1;
	}
	return 0;
}

/* maps_brace_sep - what separates elements outside braces */
static int
maps_brace_sep(int c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* maps_brace_elem - one element into out: "{ x }" loses braces and blanks */
static int
maps_brace_elem(const char *t, size_t len, struct buf *out, char *err,
    size_t errlen)
{
	size_t	 i;

	if (t[0] == '{') {
		if (maps_balpar(t, len) != len) {
			snprintf(err, errlen, "syntax error after '}' in "
			    "\"%.*s\"", (int)(len > 100 ? 100 : len), t);
			return -1;
		}
		t++;
		len -= 2;
		while (len > 0 && maps_brace_sep(*t) && *t != ',') {
			t++;
			len--;
		}
		while (len > 0 && maps_brace_sep(t[len - 1]) &&
		    t[len - 1] != ',')
			len--;
	}
	for (i = 0; i < len; i++)
		if (buf_putc(out, t[i] == '\n' || t[i] == '\r' ? ' ' : t[i]) ==
		    -1)
			goto big;
	if (buf_putc(out, '\n') == -1)
		goto big;
	return 0;
big:
	snprintf(err, errlen, "too long");
	return -1;
}

/* maps_braces - see maps_priv.h */
int
maps_braces(const char *s, struct buf *out, char *err, size_t errlen)
{
	size_t	 len = strlen(s), i, start, n = 0;
	int	 depth;

	if ((i = maps_balpar(s, len)) != len) {
		snprintf(err, errlen, "%s", i == 0 ? "unbalanced braces" :
		    "text after the closing '}'");
		return -1;
	}
	for (i = 1; i < len - 1;) {
		while (i < len - 1 && maps_brace_sep((unsigned char)s[i]))
			i++;
		if (i >= len - 1)
			break;
		start = i;
		for (depth = 0; i < len - 1; i++) {
			if (s[i] == '{')
				depth++;
			else if (s[i] == '}')
				depth--;
			else if (depth == 0 && maps_brace_sep((unsigned char)s[i]))
				break;
		}
		if (maps_brace_elem(s + start, i - start, out, err, errlen) ==
		    -1)
			return -1;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty table");
		return -1;
	}
	return 0;
}

/* maps_if_open - see maps_priv.h */
int
maps_if_open(struct maps_ifs *ifs, size_t i, char *err, size_t errlen)
{
	if (ifs->nopen == MAPS_IF_MAX) {
		snprintf(err, errlen, "if nested more than %d deep",
		    MAPS_IF_MAX);
		return -1;
	}
	ifs->open[ifs->nopen++] = i;
	return 0;
}

/* maps_if_close - see maps_priv.h */
long
maps_if_close(struct maps_ifs *ifs, const char *rest, char *err,
    size_t errlen)
{
	while (maps_is_space((unsigned char)*rest))
		rest++;
	if (*rest != '\0' || ifs->nopen == 0) {
		snprintf(err, errlen, "%s", *rest != '\0' ? "text after endif" :
		    "endif without if");
		return -1;
	}
	return (long)ifs->open[--ifs->nopen];
}

/* maps_if_end - see maps_priv.h */
void
maps_if_end(const struct maps_ifs *ifs, const struct maps_src *src,
    struct maps_report *r)
{
	if (ifs->nopen > 0)
		maps_report_add(r, 1, src->where, 0, "%zu if without endif",
		    ifs->nopen);
}

/* maps_text_add - one entry (key folded); -1 when the key is too long */
static int
maps_text_add(struct maps_text *t, char *key, const char *val, int line)
{
	struct maps_ent *e;

	if (strlen(key) > MAPS_KEY_MAX) {
		maps_report_add(t->r, 1, t->src->where, line, "key longer than "
		    "%d bytes", MAPS_KEY_MAX);
		return -1;
	}
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 64 : t->cap * 2;
		t->ent = xreallocarray(t->ent, t->cap, sizeof(*t->ent));
	}
	e = &t->ent[t->n];
	e->key = xstrdup(key);
	util_lowercase(e->key);
	e->val = xstrdup(val);
	e->line = line;
	e->seq = t->n++;
	maps_check_value(t->src, t->r, line, val, 0);
	return 0;
}

/* maps_ent_cmp - by key, then by order in the source */
static int
maps_ent_cmp(const void *a, const void *b)
{
	const struct maps_ent *x = a, *y = b;
	int	 c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* maps_text_sort - sort, and keep one entry per key */
static void
maps_text_sort(struct maps_text *t)
{
	struct maps_ent *e = t->ent, *keep;
	size_t	 i, j, k = 0;

	if (t->n == 0)
		return;
	qsort(e, t->n, sizeof(*e), maps_ent_cmp);
	for (i = 0; i < t->n; i = j) {
		for (j = i + 1; j < t->n && strcmp(e[j].key, e[i].key) == 0;
		    j++)
			maps_report_add(t->r, 0, t->src->where, e[j].line,
			    "duplicate key \"%.100s\" (also at line %d): %s",
			    e[j].key, e[i].line, t->last_wins ?
			    "the last one counts" : "this one is ignored");
		keep = &e[t->last_wins ? j - 1 : i];
		for (; i < j; i++)
			if (&e[i] != keep) {
				free(e[i].key);
				free(e[i].val);
			}
		e[k++] = *keep;
	}
	t->n = k;
}

/* maps_text_line - one line of a texthash: source */
static int
maps_text_line(void *arg, char *line, int lineno)
{
	struct maps_text *t = arg;
	char	*key, *val, err[128];

	if (maps_split_kv(line, &key, &val, err, sizeof(err)) == -1) {
		maps_report_add(t->r, 1, t->src->where, lineno, "%s", err);
		return 0;
	}
	if (key[strlen(key) - 1] == ':')
		maps_report_add(t->r, 0, t->src->where, lineno, "the key ends "
		    "in ':' (\"key: value\" is the format of aliases(5), not "
		    "of this table)");
	(void)maps_text_add(t, key, val, lineno);
	return 0;
}

/* maps_text_new - an empty table */
static struct maps_text *
maps_text_new(const struct maps_src *src, struct maps_report *r)
{
	struct maps_text *t = xcalloc(1, sizeof(*t));

	t->src = src;
	t->r = r;
	return t;
}

/* maps_text_done - sorted, or NULL (freed) when errors were reported */
static void *
maps_text_done(struct maps_text *t, int nerr)
{
	if (t->r != NULL && t->r->nerr > nerr) {
		maps_text_free(t);
		return NULL;
	}
	maps_text_sort(t);
	t->src = NULL;
	t->r = NULL;
	return t;
}

/* maps_text_load - texthash: (and the source of a hash: table) */
void *
maps_text_load(const struct maps_src *src, struct maps_report *r)
{
	struct maps_text *t = maps_text_new(src, r);
	int	 nerr = r != NULL ? r->nerr : 0;

	(void)maps_lines(src, r, maps_text_line, t);
	return maps_text_done(t, nerr);
}

/* maps_inline_elem - "key=value" of inline:, white space around both */
static void
maps_inline_elem(struct maps_text *t, char *e, int n)
{
	char	*key, *val, *p;

	for (key = e; maps_is_space((unsigned char)*key); key++)
		;
	for (p = key; *p != '\0' && *p != '=' &&
	    !maps_is_space((unsigned char)*p); p++)
		;
	for (val = p; maps_is_space((unsigned char)*val); val++)
		;
	if (p == key || *val != '=') {
		maps_report_add(t->r, 1, t->src->where, n, "%s in \"%.100s\"",
		    p == key ? "no key" : "missing '=' after the key", e);
		return;
	}
	*p = '\0';
	for (val++; maps_is_space((unsigned char)*val); val++)
		;
	for (p = val + strlen(val); p > val &&
	    maps_is_space((unsigned char)p[-1]); p--)
		;
	*p = '\0';
	if (*val == '\0') {
		maps_report_add(t->r, 1, t->src->where, n, "empty value for "
		    "\"%.100s\"", key);
		return;
	}
	(void)maps_text_add(t, key, val, n);
}

/* maps_inline_load - inline:{ ... }: one element per line of src */
void *
maps_inline_load(const struct maps_src *src, struct maps_report *r)
{
	struct maps_text *t = maps_text_new(src, r);
	char	*text = xstrndup(src->text, src->len), *p, *nl;
	int	 n = 0, nerr = r != NULL ? r->nerr : 0;

	t->last_wins = 1;
	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		maps_inline_elem(t, p, ++n);
	}
	free(text);
	return maps_text_done(t, nerr);
}

/* maps_text_key_cmp - bsearch: a key against an entry */
static int
maps_text_key_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct maps_ent *)e)->key);
}

/* maps_text_lookup - binary search of the folded key */
int
maps_text_lookup(void *st, const char *key, struct buf *val, char *err,
    size_t errlen)
{
	struct maps_text *t = st;
	const struct maps_ent *e;

	if (t->n == 0 || (e = bsearch(key, t->ent, t->n, sizeof(*t->ent),
	    maps_text_key_cmp)) == NULL)
		return MAPS_NOTFOUND;
	if (buf_puts(val, e->val) == -1) {
		snprintf(err, errlen, "value longer than the caller takes");
		return MAPS_TEMPFAIL;
	}
	return MAPS_FOUND;
}

/* maps_text_each - see maps_priv.h */
int
maps_text_each(void *st, int (*cb)(void *, const char *, const char *),
    void *arg)
{
	struct maps_text *t = st;
	size_t	 i;
	int	 r;

	for (i = 0; i < t->n; i++)
		if ((r = cb(arg, t->ent[i].key, t->ent[i].val)) != 0)
			return r;
	return 0;
}

/* maps_text_free - release an in-memory table */
void
maps_text_free(void *st)
{
	struct maps_text *t = st;
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->ent[i].key);
		free(t->ent[i].val);
	}
	free(t->ent);
	free(t);
}
