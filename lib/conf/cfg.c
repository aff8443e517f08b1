/*
 * cfg.c - main.cf: parser, $name expansion, type checks and getters.
 *
 * A struct cfg holds one value slot per cfg_params[] entry (same index)
 * and a list of user-defined names.  Raw values are kept as written.  After
 * every change (cfg_parse_buf, cfg_set) cfg_refresh() expands all of them
 * once -- memoised, so the work is linear however values refer to each
 * other -- checks type, bounds and choices of the known ones and caches
 * the numbers, so the getters only read.  A change is made on a copy that
 * replaces the original only when the whole result checks out: a failed
 * cfg_parse_buf() or cfg_set() leaves the cfg as it was.
 *
 * Expansion: $name, ${name}, $(name); ${name?text} (text when name is not
 * empty) and ${name:text} (text when it is empty); $$ is a literal $.  A
 * reference loop or nesting deeper than CFG_DEPTH_MAX is an error; a name
 * nobody defined expands to "" and is reported by cfg_check().
 *
 * Errors: -1 or NULL with a message that names file:line, the parameter,
 * the bad value and what is allowed.  A getter of a name that is not in the
 * table is our own bug: log_fatal().
 *
 * The file is longer than 800 lines because parser, expander, checks and
 * getters share the private struct cfg; splitting it would expose that.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "buf.h"
#include "log.h"
#include "util.h"

#define CFG_NAME_MAX	128		/* longest parameter name + 1 */
#define CFG_ERR_MAX	1024		/* scratch for messages */
#define CFG_SHOW_MAX	80		/* bytes of a bad value shown */

enum cfg_src { CFG_SRC_DEFAULT, CFG_SRC_FILE, CFG_SRC_SET };
enum cfg_state { CFG_ST_NONE, CFG_ST_BUSY, CFG_ST_DONE };

struct cfg_val {
	char		*name;		/* user-defined entries only */
	char		*raw;		/* as written; NULL = the default */
	char		*exp;		/* expanded (by cfg_refresh()) */
	long long	 num;		/* INT, SIZE, TIME (seconds), BOOL */
	int		 src;		/* enum cfg_src */
	int		 file;		/* CFG_SRC_FILE: index in cfg->files */
	int		 line;		/* CFG_SRC_FILE: line number */
	int		 state;		/* enum cfg_state (cfg_refresh()) */
	int		 used;		/* user-defined: a value refers to it */
	int		 used_ext;	/* ... or through cfg_mark_used() */
	int		 undef;		/* refers to an undefined name, itself
					   or through other values */
	int		 undef_note;	/* ... and has a note of its own */
};

struct cfg_strv {
	char		**v;
	size_t		 n;
};

struct cfg {
	struct cfg_val	*known;		/* cfg_nparams slots */
	struct cfg_val	*user;		/* user-defined names, in file order */
	size_t		 nuser;
	const char	**user_names;	/* NULL-terminated, for cfg_unknown() */
	char		*dir;		/* config directory or NULL */
	char		*host;		/* gethostname() */
	char		*host_def;	/* computed default of myhostname */
	char		*dom_def;	/* computed default of mydomain (raw) */
	struct cfg_strv	 files;		/* names of the files parsed */
	struct cfg_strv	 notes;		/* parse-time warnings */
	struct cfg_strv	 refs;		/* undefined $names, per refresh */
	struct cfg_strv	 refs_err;	/* ... inside restriction lists */
};

/* one expansion in progress: the chain of names, for loop messages */
struct cfg_exp {
	struct cfg	*c;
	const char	*stack[CFG_DEPTH_MAX + 1];
	struct cfg_val	*vstack[CFG_DEPTH_MAX + 1];
	const struct cfg_param *pstack[CFG_DEPTH_MAX + 1];
	int		 depth;
	int		 nest;		/* ${name?...} inside ${name?...} */
	char		 err[CFG_ERR_MAX];
};

static int	 cfg_refresh(struct cfg *, char *, size_t);
static int	 cfg_expand_text(struct cfg_exp *, const char *, size_t,
		    struct buf *);

/* cfg_err - format a message into the caller's buffer, if there is one */
static void __attribute__((format(printf, 3, 4)))
cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* cfg_show - printable, shortened copy of a value for a message */
static const char *
cfg_show(char *dst, size_t dstlen, const char *s)
{
	size_t	 len = strlen(s), shown;

	log_escape(dst, dstlen, s, len);
	shown = strlen(dst);
	if (shown < len && dstlen > 4)
		util_strlcpy(dst + (shown < dstlen - 4 ? shown : dstlen - 4),
		    "...", 4);
	return dst;
}

/* cfg_strv_add - append a copy of s; returns its index */
static size_t
cfg_strv_add(struct cfg_strv *sv, const char *s)
{
	sv->v = xreallocarray(sv->v, sv->n + 1, sizeof(*sv->v));
	sv->v[sv->n] = xstrdup(s);
	return sv->n++;
}

/* cfg_strv_has - is s in the vector */
static int
cfg_strv_has(const struct cfg_strv *sv, const char *s)
{
	size_t	 i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

/* cfg_strv_free - release all strings */
static void
cfg_strv_free(struct cfg_strv *sv)
{
	size_t	 i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* cfg_strv_dup - deep copy */
static void
cfg_strv_dup(struct cfg_strv *dst, const struct cfg_strv *src)
{
	size_t	 i;

	dst->v = NULL;
	dst->n = 0;
	for (i = 0; i < src->n; i++)
		cfg_strv_add(dst, src->v[i]);
}

/* cfg_xstrdup0 - xstrdup that passes NULL through */
static char *
cfg_xstrdup0(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

/*
 * cfg_buf_take - the NUL-terminated contents of b; b is left empty.
 * (buf_detach() of a buffer never written to returns memory without a NUL.)
 */
static char *
cfg_buf_take(struct buf *b)
{
	char	*p;

	if (b->len == 0) {
		buf_free(b);
		return xstrdup("");
	}
	if ((p = buf_detach(b)) == NULL)
		log_fatal("cfg_buf_take: out of memory");
	return p;
}

/* cfg_escape - copy with every '$' doubled, so it expands to itself */
static char *
cfg_escape(const char *s)
{
	size_t	 i, o = 0, len = strlen(s);
	char	*d;

	if (len > (SIZE_MAX - 1) / 2)
		log_fatal("cfg_escape: string too long");
	d = xmalloc(2 * len + 1);
	for (i = 0; i < len; i++) {
		d[o++] = s[i];
		if (s[i] == '$')
			d[o++] = '$';
	}
	d[o] = '\0';
	return d;
}

/* cfg_is_name_char - may c appear in a parameter name */
static int
cfg_is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/*
 * cfg_valid_name - 1..CFG_NAME_MAX-1 letters, digits, underscores and
 * dashes: a master.cf service name with a dash makes per-service names
 * such as Postfix's "policyd-spf_time_limit" (a $name reference still
 * stops at the dash, as in Postfix)
 */
static int
cfg_valid_name(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if ((!cfg_is_name_char((unsigned char)s[i]) && s[i] != '-') ||
		    i + 1 >= CFG_NAME_MAX)
			return 0;
	return i > 0;
}

/* cfg_param_cmp - bsearch comparison of a name with a table entry */
static int
cfg_param_cmp(const void *key, const void *ent)
{
	return strcmp(key, ((const struct cfg_param *)ent)->name);
}

/* cfg_param_find - table entry of a name, or NULL */
const struct cfg_param *
cfg_param_find(const char *name)
{
	return bsearch(name, cfg_params, cfg_nparams, sizeof(cfg_params[0]),
	    cfg_param_cmp);
}

/* cfg_user_find - slot of a user-defined name, or NULL */
static struct cfg_val *
cfg_user_find(const struct cfg *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->nuser; i++)
		if (strcmp(c->user[i].name, name) == 0)
			return &c->user[i];
	return NULL;
}

/* cfg_slot - the slot of any name, created for a new user-defined one */
static struct cfg_val *
cfg_slot(struct cfg *c, const char *name)
{
	const struct cfg_param *p;
	struct cfg_val *v;

	if ((p = cfg_param_find(name)) != NULL)
		return &c->known[p - cfg_params];
	if ((v = cfg_user_find(c, name)) != NULL)
		return v;
	c->user = xreallocarray(c->user, c->nuser + 1, sizeof(*c->user));
	v = &c->user[c->nuser++];
	memset(v, 0, sizeof(*v));
	v->name = xstrdup(name);
	return v;
}

/* cfg_hostname - this host's name from gethostname(), or "localhost" */
static char *
cfg_hostname(void)
{
	char	 h[256];
	size_t	 len;

	if (gethostname(h, sizeof(h)) == -1)
		h[0] = '\0';
	h[sizeof(h) - 1] = '\0';
	len = strlen(h);
	while (len > 0 && h[len - 1] == '.')
		h[--len] = '\0';
	return xstrdup(len == 0 ? "localhost" : h);
}

/* cfg_new - a cfg with the defaults only */
struct cfg *
cfg_new(void)
{
	struct cfg *c;
	char	 err[CFG_ERR_MAX];

	c = xcalloc(1, sizeof(*c));
	c->known = xcalloc(cfg_nparams, sizeof(*c->known));
	c->host = cfg_hostname();
	if (cfg_refresh(c, err, sizeof(err)) == -1)
		log_fatal("built-in defaults: %s", err);
	return c;
}

/* cfg_val_copy - deep copy of one slot */
static void
cfg_val_copy(struct cfg_val *dst, const struct cfg_val *src)
{
	*dst = *src;
	dst->name = cfg_xstrdup0(src->name);
	dst->raw = cfg_xstrdup0(src->raw);
	dst->exp = cfg_xstrdup0(src->exp);
}

/* cfg_val_free - release one slot's strings */
static void
cfg_val_free(struct cfg_val *v)
{
	free(v->name);
	free(v->raw);
	free(v->exp);
}

/* cfg_user_names - rebuild the NULL-terminated list for cfg_unknown() */
static void
cfg_user_names(struct cfg *c)
{
	size_t	 i;

	free(c->user_names);
	c->user_names = xcalloc(c->nuser + 1, sizeof(*c->user_names));
	for (i = 0; i < c->nuser; i++)
		c->user_names[i] = c->user[i].name;
	c->user_names[c->nuser] = NULL;
}

/* cfg_dup - independent deep copy */
struct cfg *
cfg_dup(const struct cfg *src)
{
	struct cfg *c;
	size_t	 i;

	c = xcalloc(1, sizeof(*c));
	c->known = xcalloc(cfg_nparams, sizeof(*c->known));
	for (i = 0; i < cfg_nparams; i++)
		cfg_val_copy(&c->known[i], &src->known[i]);
	if (src->nuser > 0) {
		c->user = xcalloc(src->nuser, sizeof(*c->user));
		for (i = 0; i < src->nuser; i++)
			cfg_val_copy(&c->user[i], &src->user[i]);
	}
	c->nuser = src->nuser;
	cfg_user_names(c);
	c->dir = cfg_xstrdup0(src->dir);
	c->host = cfg_xstrdup0(src->host);
	c->host_def = cfg_xstrdup0(src->host_def);
	c->dom_def = cfg_xstrdup0(src->dom_def);
	cfg_strv_dup(&c->files, &src->files);
	cfg_strv_dup(&c->notes, &src->notes);
	cfg_strv_dup(&c->refs, &src->refs);
	cfg_strv_dup(&c->refs_err, &src->refs_err);
	return c;
}

/* cfg_free - release everything */
void
cfg_free(struct cfg *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < cfg_nparams; i++)
		cfg_val_free(&c->known[i]);
	free(c->known);
	for (i = 0; i < c->nuser; i++)
		cfg_val_free(&c->user[i]);
	free(c->user);
	free(c->user_names);
	free(c->dir);
	free(c->host);
	free(c->host_def);
	free(c->dom_def);
	cfg_strv_free(&c->files);
	cfg_strv_free(&c->notes);
	cfg_strv_free(&c->refs);
	cfg_strv_free(&c->refs_err);
	free(c);
}

/* cfg_swap - exchange the contents of two cfgs (commit of a copy) */
static void
cfg_swap(struct cfg *a, struct cfg *b)
{
	struct cfg t;

	t = *a;
	*a = *b;
	*b = t;
}

/* cfg_where - "file:line: name" or "name" for messages about a slot */
static void
cfg_where(const struct cfg *c, const struct cfg_val *v, const char *name,
    char *dst, size_t len)
{
	if (v->src == CFG_SRC_FILE && v->file >= 0 &&
	    (size_t)v->file < c->files.n)
		snprintf(dst, len, "%s:%d: %s", c->files.v[v->file], v->line,
		    name);
	else if (v->src == CFG_SRC_DEFAULT)
		snprintf(dst, len, "%s (default)", name);
	else
		snprintf(dst, len, "%s", name);
}

/* cfg_origin - see cfg.h */
void
cfg_origin(const struct cfg *c, const char *name, char *dst, size_t len)
{
	const struct cfg_param *p = cfg_param_find(name);
	const struct cfg_val *v = NULL;

	if (p != NULL)
		v = &c->known[p - cfg_params];
	else
		v = cfg_user_find(c, name);
	if (v == NULL)
		snprintf(dst, len, "%s", name);
	else
		cfg_where(c, v, name, dst, len);
}

/* cfg_raw_of - raw text of a slot: as set, or the (computed) default */
static const char *
cfg_raw_of(const struct cfg *c, const struct cfg_val *v,
    const struct cfg_param *p)
{
	if (v->raw != NULL)
		return v->raw;
	if (p == NULL)
		return "";
	if ((p->flags & CFG_F_COMPUTED) && strcmp(p->name, "myhostname") == 0)
		return c->host_def != NULL ? c->host_def : "";
	if ((p->flags & CFG_F_COMPUTED) && strcmp(p->name, "mydomain") == 0)
		return c->dom_def != NULL ? c->dom_def : "";
	return p->def;
}

/* cfg_host_default - myhostname default: the FQDN, else host.$mydomain */
static void
cfg_host_default(struct cfg *c)
{
	const struct cfg_param *dp = cfg_param_find("mydomain");
	char	*esc;
	struct buf b;

	esc = cfg_escape(c->host);
	buf_init(&b, CFG_LINE_MAX);
	if (buf_puts(&b, esc) == -1)
		(void)buf_puts(&b, "localhost");
	if (strchr(c->host, '.') == NULL) {
		if (dp != NULL && c->known[dp - cfg_params].raw != NULL)
			(void)buf_puts(&b, ".$mydomain");
		else
			(void)buf_puts(&b, ".localdomain");
	}
	free(esc);
	free(c->host_def);
	c->host_def = cfg_buf_take(&b);
}

/* cfg_fail_loop - message for a name that is already being expanded */
static int
cfg_fail_loop(struct cfg_exp *x, const char *name)
{
	struct cfg_val *v;
	struct buf b;
	int	 i, first = 0;

	for (i = 0; i < x->depth; i++)
		if (strcmp(x->stack[i], name) == 0) {
			first = i;
			break;
		}
	buf_init(&b, sizeof(x->err) - 1);
	(void)buf_puts(&b, "parameter expansion loop: ");
	for (i = first; i < x->depth; i++)
		(void)buf_printf(&b, "$%s -> ", x->stack[i]);
	(void)buf_printf(&b, "$%s", name);
	for (i = first; i < x->depth; i++) {
		v = x->vstack[i];
		if (v->src == CFG_SRC_FILE && (size_t)v->file < x->c->files.n) {
			(void)buf_printf(&b, " (%s:%d: %s)",
			    x->c->files.v[v->file], v->line, x->stack[i]);
			break;
		}
	}
	util_strlcpy(x->err, buf_cstr(&b), sizeof(x->err));
	buf_free(&b);
	return -1;
}

static int	 cfg_resolve(struct cfg_exp *, const char *, size_t, int,
		    const char **);

/* cfg_dom_default - mydomain default: $myhostname minus its first label */
static int
cfg_dom_default(struct cfg_exp *x)
{
	const char *h, *dot;

	if (cfg_resolve(x, "myhostname", strlen("myhostname"), 0, &h) == -1)
		return -1;
	dot = strchr(h, '.');
	free(x->c->dom_def);
	x->c->dom_def = cfg_escape(dot != NULL && dot[1] != '\0' ?
	    dot + 1 : "localdomain");
	return 0;
}

/* cfg_expand_val - expand one slot once (memoised); -1 on error */
static int
cfg_expand_val(struct cfg_exp *x, struct cfg_val *v,
    const struct cfg_param *p, const char *name)
{
	struct buf out;
	const char *raw;

	if (v->state == CFG_ST_DONE)
		return 0;
	if (v->state == CFG_ST_BUSY)
		return cfg_fail_loop(x, name);
	if (x->depth >= CFG_DEPTH_MAX) {
		snprintf(x->err, sizeof(x->err), "expansion of $%s nests "
		    "deeper than %d levels", name, CFG_DEPTH_MAX);
		return -1;
	}
	v->state = CFG_ST_BUSY;
	x->vstack[x->depth] = v;
	x->pstack[x->depth] = p;
	x->stack[x->depth++] = name;
	buf_init(&out, CFG_LINE_MAX);
	if (p != NULL && v->raw == NULL && (p->flags & CFG_F_COMPUTED) &&
	    strcmp(p->name, "mydomain") == 0 && cfg_dom_default(x) == -1)
		goto fail;
	raw = cfg_raw_of(x->c, v, p);
	if (p != NULL && (p->flags & CFG_F_RAW)) {
		if (buf_puts(&out, raw) == -1)
			goto fail;
	} else if (cfg_expand_text(x, raw, strlen(raw), &out) == -1)
		goto fail;
	free(v->exp);
	v->exp = cfg_buf_take(&out);
	v->state = CFG_ST_DONE;
	x->depth--;
	return 0;
fail:
	buf_free(&out);
	v->state = CFG_ST_NONE;
	x->depth--;
	return -1;
}

/* cfg_mark_undef - every value being expanded refers to an undefined name */
static void
cfg_mark_undef(struct cfg_exp *x)
{
	int	 i;

	for (i = 0; i < x->depth; i++)
		x->vstack[i]->undef = 1;
}

/*
 * cfg_note_undef - $name (len bytes) is defined nowhere: a note naming
 * where the value that refers to it is set; an error note when that value
 * is a restriction list (its restrictions would silently be missing)
 */
static void
cfg_note_undef(struct cfg_exp *x, const char *name, size_t len)
{
	struct cfg_strv *sv = &x->c->refs;
	char	 where[CFG_ERR_MAX], note[2 * CFG_ERR_MAX];

	cfg_mark_undef(x);
	if (x->depth == 0)
		return;		/* not reached: values are expanded in a slot */
	cfg_where(x->c, x->vstack[x->depth - 1], x->stack[x->depth - 1],
	    where, sizeof(where));
	snprintf(note, sizeof(note), "%s: undefined parameter $%.*s", where,
	    (int)len, name);
	if (x->pstack[x->depth - 1] != NULL &&
	    (x->pstack[x->depth - 1]->flags & CFG_F_RESTR)) {
		sv = &x->c->refs_err;
		x->vstack[x->depth - 1]->undef_note = 1;
	}
	if (!cfg_strv_has(sv, note))
		cfg_strv_add(sv, note);
}

/* cfg_resolve - expanded value of $name; "" for a name nobody defined */
static int
cfg_resolve(struct cfg_exp *x, const char *name, size_t len, int quiet,
    const char **val)
{
	const struct cfg_param *p = NULL;
	struct cfg_val *v = NULL;
	char	 nm[CFG_NAME_MAX];

	*val = "";
	if (len < sizeof(nm)) {
		memcpy(nm, name, len);
		nm[len] = '\0';
		if ((p = cfg_param_find(nm)) != NULL)
			v = &x->c->known[p - cfg_params];
		else if ((v = cfg_user_find(x->c, nm)) != NULL)
			v->used = 1;
	}
	if (v == NULL) {
		if (!quiet)
			cfg_note_undef(x, name, len);
		return 0;
	}
	if (cfg_expand_val(x, v, p, p != NULL ? p->name : v->name) == -1)
		return -1;
	if (v->undef)
		cfg_mark_undef(x);
	*val = v->exp;
	return 0;
}

/* cfg_expand_brace - the inside of ${...} or $(...) */
static int
cfg_expand_brace(struct cfg_exp *x, const char *s, size_t len,
    struct buf *out)
{
	const char *val;
	size_t	 n = 0;
	int	 op, r;

	while (n < len && cfg_is_name_char((unsigned char)s[n]))
		n++;
	if (n == 0) {
		snprintf(x->err, sizeof(x->err), "missing parameter name "
		    "after ${ or $(");
		return -1;
	}
	op = n < len ? s[n] : '\0';
	if (op != '\0' && op != '?' && op != ':') {
		snprintf(x->err, sizeof(x->err), "bad character '%c' after "
		    "${%.*s", op, (int)n, s);
		return -1;
	}
	if (op != '\0' && n + 1 < len && s[n + 1] == '{') {
		snprintf(x->err, sizeof(x->err), "the form ${%.*s%c{...}} is "
		    "not supported: write ${%.*s%ctext}", (int)n, s, op, (int)n,
		    s, op);
		return -1;
	}
	if (cfg_resolve(x, s, n, op != '\0', &val) == -1)
		return -1;
	if (op == '\0')
		goto append;
	if ((op == '?') == (*val != '\0')) {
		/* bounded nesting keeps the bracket scans linear */
		if (x->nest >= CFG_DEPTH_MAX) {
			snprintf(x->err, sizeof(x->err), "${name?...} nested "
			    "more than %d deep", CFG_DEPTH_MAX);
			return -1;
		}
		x->nest++;
		r = cfg_expand_text(x, s + n + 1, len - n - 1, out);
		x->nest--;
		return r;
	}
	return 0;
append:
	if (buf_puts(out, val) == -1) {
		snprintf(x->err, sizeof(x->err), "expanded value longer than "
		    "%d bytes", CFG_LINE_MAX);
		return -1;
	}
	return 0;
}

/* cfg_close_of - index of the bracket closing the one at s[0], or 0 */
static size_t
cfg_close_of(const char *s, size_t len)
{
	size_t	 i;
	int	 depth = 0, op = s[0], cl = s[0] == '{' ? '}' : ')';

	for (i = 0; i < len; i++) {
		if (s[i] == op)
			depth++;
		else if (s[i] == cl && --depth == 0)
			return i;
	}
	return 0;
}

/* cfg_expand_text - expand every $ reference of s[0..len) into out */
static int
cfg_expand_text(struct cfg_exp *x, const char *s, size_t len,
    struct buf *out)
{
	const char *dollar, *val;
	size_t	 i = 0, n, cl;
	int	 r = 0;

	while (i < len && r == 0) {
		if ((dollar = memchr(s + i, '$', len - i)) == NULL)
			dollar = s + len;
		if (buf_append(out, s + i, (size_t)(dollar - s) - i) == -1)
			goto toolong;
		if ((i = (size_t)(dollar - s)) >= len)
			break;
		if (i + 1 < len && s[i + 1] == '$') {
			if (buf_putc(out, '$') == -1)
				goto toolong;
			i += 2;
		} else if (i + 1 < len &&
		    (s[i + 1] == '{' || s[i + 1] == '(')) {
			if ((cl = cfg_close_of(s + i + 1, len - i - 1)) == 0) {
				snprintf(x->err, sizeof(x->err), "missing '%c' "
				    "after $%c", s[i + 1] == '{' ? '}' : ')',
				    s[i + 1]);
				return -1;
			}
			r = cfg_expand_brace(x, s + i + 2, cl - 1, out);
			i += cl + 2;
		} else {
			for (n = 0; i + 1 + n < len &&
			    cfg_is_name_char((unsigned char)s[i + 1 + n]); n++)
				;
			if (n == 0) {
				snprintf(x->err, sizeof(x->err), "'$' not "
				    "followed by a parameter name (write $$ "
				    "for a literal $)");
				return -1;
			}
			if ((r = cfg_resolve(x, s + i + 1, n, 0, &val)) == 0 &&
			    buf_puts(out, val) == -1)
				goto toolong;
			i += 1 + n;
		}
	}
	return r;
toolong:
	snprintf(x->err, sizeof(x->err), "expanded value longer than %d bytes",
	    CFG_LINE_MAX);
	return -1;
}

/* cfg_fmt_time - seconds as the largest exact unit, e.g. "5d" */
static const char *
cfg_fmt_time(long long t, char *dst, size_t len)
{
	if (t != 0 && t % 86400 == 0)
		snprintf(dst, len, "%lldd", t / 86400);
	else if (t != 0 && t % 3600 == 0)
		snprintf(dst, len, "%lldh", t / 3600);
	else if (t != 0 && t % 60 == 0)
		snprintf(dst, len, "%lldm", t / 60);
	else
		snprintf(dst, len, "%llds", t);
	return dst;
}

/* cfg_check_int - INT and SIZE: a decimal integer within the bounds */
static int
cfg_check_int(const struct cfg_param *p, const char *s, long long *num,
    char *why, size_t len)
{
	if (util_parse_ll(s, p->min, p->max, num) == 0)
		return 0;
	snprintf(why, len, "expected an integer from %lld to %lld", p->min,
	    p->max);
	return -1;
}

/* cfg_check_bool - yes, no, true or false */
static int
cfg_check_bool(const struct cfg_param *p, const char *s, long long *num,
    char *why, size_t len)
{
	int	 b;

	(void)p;
	if (cfg_parse_bool(s, &b) == 0) {
		*num = b;
		return 0;
	}
	snprintf(why, len, "expected yes or no");
	return -1;
}

/* cfg_check_time - number with optional unit, within the bounds */
static int
cfg_check_time(const struct cfg_param *p, const char *s, long long *num,
    char *why, size_t len)
{
	char	 lo[32], hi[32];

	if (cfg_parse_time(s, p->unit, num) == 0 && *num >= p->min &&
	    *num <= p->max)
		return 0;
	snprintf(why, len, "expected a time from %s to %s (a number with an "
	    "optional unit s, m, h, d or w; no unit means %c)",
	    cfg_fmt_time(p->min, lo, sizeof(lo)),
	    cfg_fmt_time(p->max, hi, sizeof(hi)), p->unit ? p->unit : 's');
	return -1;
}

/* cfg_choice_ok - is s one of the '|'-separated choices */
static int
cfg_choice_ok(const char *choices, const char *s)
{
	const char *c = choices, *bar;
	size_t	 len = strlen(s);

	for (;;) {
		if ((bar = strchr(c, '|')) == NULL)
			bar = c + strlen(c);
		if ((size_t)(bar - c) == len && strncmp(c, s, len) == 0)
			return 1;
		if (*bar == '\0')
			return 0;
		c = bar + 1;
	}
}

/* cfg_choices_why - "expected one of: a, b, c" */
static void
cfg_choices_why(const char *choices, char *why, size_t len)
{
	struct buf b;
	const char *c;

	buf_init(&b, len > 0 ? len - 1 : 0);
	(void)buf_puts(&b, "expected one of: ");
	for (c = choices; *c != '\0'; c++) {
		if (*c != '|')
			(void)buf_putc(&b, *c);
		else if (c != choices)
			(void)buf_puts(&b, ", ");
	}
	if (choices[0] == '|')
		(void)buf_puts(&b, " or empty");
	util_strlcpy(why, buf_cstr(&b), len);
	buf_free(&b);
}

/* cfg_check_str - STR and LIST: choices (per element) and path rules */
static int
cfg_check_str(const struct cfg_param *p, const char *s, long long *num,
    char *why, size_t len)
{
	char	**v;
	size_t	 i, n;
	int	 bad = 0;

	*num = 0;
	if (p->choices != NULL && p->type == CFG_LIST) {
		v = cfg_split_list(s, &n);
		for (i = 0; i < n && !bad; i++)
			bad = !cfg_choice_ok(p->choices, v[i]);
		cfg_list_free(v, n);
	} else if (p->choices != NULL)
		bad = !cfg_choice_ok(p->choices, s);
	if (bad) {
		cfg_choices_why(p->choices, why, len);
		return -1;
	}
	if ((p->flags & CFG_F_NONEMPTY) && s[0] == '\0') {
		snprintf(why, len, "expected a non-empty value");
		return -1;
	}
	if ((p->flags & CFG_F_ABSPATH) && s[0] != '\0' && s[0] != '/') {
		snprintf(why, len, "expected an absolute path");
		return -1;
	}
	n = strlen(s);
	if ((p->flags & CFG_F_MAILDIR) &&
	    (n == 0 || s[0] == '/' || s[n - 1] != '/')) {
		snprintf(why, len, "expected a Maildir path relative to the "
		    "home directory, ending in '/' (youju delivers only to "
		    "Maildir)");
		return -1;
	}
	return 0;
}

/* type checks, indexed by enum cfg_type */
static int (*const cfg_checkers[])(const struct cfg_param *, const char *,
    long long *, char *, size_t) = {
	[CFG_STR] = cfg_check_str,
	[CFG_INT] = cfg_check_int,
	[CFG_BOOL] = cfg_check_bool,
	[CFG_TIME] = cfg_check_time,
	[CFG_SIZE] = cfg_check_int,
	[CFG_LIST] = cfg_check_str,
};

/* cfg_refresh_known - expand and check every table parameter */
static int
cfg_refresh_known(struct cfg *c, struct cfg_exp *x, char *err, size_t errlen)
{
	const struct cfg_param *p;
	struct cfg_val *v;
	char	 where[CFG_ERR_MAX], why[CFG_ERR_MAX];
	char	 raw[CFG_SHOW_MAX], val[CFG_SHOW_MAX];
	size_t	 i;

	for (i = 0; i < cfg_nparams; i++) {
		p = &cfg_params[i];
		v = &c->known[i];
		if (cfg_expand_val(x, v, p, p->name) == -1) {
			cfg_where(c, v, p->name, where, sizeof(where));
			cfg_err(err, errlen, "%s: %s", where, x->err);
			return -1;
		}
		if (cfg_checkers[p->type](p, v->exp, &v->num, why,
		    sizeof(why)) == 0)
			continue;
		cfg_where(c, v, p->name, where, sizeof(where));
		cfg_show(val, sizeof(val), v->exp);
		cfg_show(raw, sizeof(raw), cfg_raw_of(c, v, p));
		if (strcmp(raw, val) == 0)
			cfg_err(err, errlen, "%s: bad value \"%s\": %s", where,
			    val, why);
		else
			cfg_err(err, errlen, "%s: bad value \"%s\" (from "
			    "\"%s\"): %s", where, val, raw, why);
		return -1;
	}
	return 0;
}

/* cfg_refresh - expand all values, check the known ones, cache numbers */
static int
cfg_refresh(struct cfg *c, char *err, size_t errlen)
{
	struct cfg_exp x;
	char	 where[CFG_ERR_MAX], note[2 * CFG_ERR_MAX + 4];
	size_t	 i;

	memset(&x, 0, sizeof(x));
	x.c = c;
	cfg_strv_free(&c->refs);
	cfg_strv_free(&c->refs_err);
	for (i = 0; i < cfg_nparams; i++) {
		c->known[i].state = CFG_ST_NONE;
		c->known[i].undef = c->known[i].undef_note = 0;
	}
	for (i = 0; i < c->nuser; i++) {
		c->user[i].state = CFG_ST_NONE;
		c->user[i].used = 0;
		c->user[i].undef = c->user[i].undef_note = 0;
	}
	cfg_host_default(c);
	free(c->dom_def);
	c->dom_def = NULL;
	if (cfg_refresh_known(c, &x, err, errlen) == -1)
		return -1;
	/* user-defined values only matter when referenced: errors warn */
	for (i = 0; i < c->nuser; i++) {
		if (cfg_expand_val(&x, &c->user[i], NULL, c->user[i].name) == 0)
			continue;
		cfg_where(c, &c->user[i], c->user[i].name, where,
		    sizeof(where));
		snprintf(note, sizeof(note), "%s: %s", where, x.err);
		if (!cfg_strv_has(&c->refs, note))
			cfg_strv_add(&c->refs, note);
		free(c->user[i].exp);
		c->user[i].exp = xstrdup("");
	}
	cfg_user_names(c);
	return 0;
}

/* cfg_store - remember a name = value line of a file */
static void
cfg_store(struct cfg *c, const char *name, const char *value, int file,
    int line)
{
	struct cfg_val *v;
	char	 note[CFG_ERR_MAX];
	const char *fname = c->files.v[file];

	if (strcmp(name, "config_directory") == 0) {
		snprintf(note, sizeof(note), "%s:%d: config_directory is "
		    "ignored in main.cf: give the directory with -c", fname,
		    line);
		cfg_strv_add(&c->notes, note);
		return;
	}
	v = cfg_slot(c, name);
	if (v->src == CFG_SRC_FILE) {
		snprintf(note, sizeof(note), "%s:%d: %s overrides the setting "
		    "at %s:%d", fname, line, name, c->files.v[v->file],
		    v->line);
		cfg_strv_add(&c->notes, note);
	}
	free(v->raw);
	v->raw = xstrdup(value);
	v->src = CFG_SRC_FILE;
	v->file = file;
	v->line = line;
}

/* cfg_parse_line - one logical line: "name = value" */
static int
cfg_parse_line(struct cfg *c, char *text, int file, int line, char *err,
    size_t errlen)
{
	char	*eq, *name, show[CFG_SHOW_MAX];

	if ((eq = strchr(text, '=')) == NULL) {
		cfg_err(err, errlen, "%s:%d: missing '=' in \"%s\"",
		    c->files.v[file], line, cfg_show(show, sizeof(show), text));
		return -1;
	}
	*eq = '\0';
	name = util_trim(text);
	if (!cfg_valid_name(name)) {
		cfg_err(err, errlen, "%s:%d: bad parameter name \"%s\" "
		    "(letters, digits and '_', at most %d)", c->files.v[file],
		    line, cfg_show(show, sizeof(show), name), CFG_NAME_MAX - 1);
		return -1;
	}
	cfg_store(c, name, util_trim(eq + 1), file, line);
	return 0;
}

/* cfg_flush - parse the logical line collected so far, if any */
static int
cfg_flush(struct cfg *c, struct buf *lg, int file, int line, char *err,
    size_t errlen)
{
	int	 r = 0;

	if (line != 0)
		r = cfg_parse_line(c, (char *)lg->data, file, line, err,
		    errlen);
	buf_reset(lg);
	return r;
}

/*
 * cfg_parse_into - split text into logical lines and store them.  Comment
 * and blank lines are skipped and do not end a continued line.
 */
static int
cfg_parse_into(struct cfg *c, const char *text, size_t len, const char *fn,
    char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl;
	struct buf lg;
	size_t	 ll, i;
	int	 file, lineno = 0, start = 0;

	file = (int)cfg_strv_add(&c->files, fn);
	buf_init(&lg, CFG_LINE_MAX);
	for (; p < end; p = nl == NULL ? end : nl + 1) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl == NULL ? (size_t)(end - p) : (size_t)(nl - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll > CFG_LINE_MAX) {
			cfg_err(err, errlen, "%s:%d: line longer than %d bytes",
			    fn, lineno, CFG_LINE_MAX);
			goto fail;
		}
		if (memchr(p, '\0', ll) != NULL) {
			cfg_err(err, errlen, "%s:%d: NUL byte", fn, lineno);
			goto fail;
		}
		for (i = 0; i < ll && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		if (i == ll || p[i] == '#')
			continue;
		if (i == 0) {
			if (cfg_flush(c, &lg, file, start, err, errlen) == -1)
				goto fail;
			start = lineno;
		} else if (start == 0) {
			cfg_err(err, errlen, "%s:%d: line starts with white "
			    "space but continues no parameter", fn, lineno);
			goto fail;
		} else if (buf_putc(&lg, ' ') == -1)
			goto toolong;
		if (buf_append(&lg, p + i, ll - i) == -1)
			goto toolong;
	}
	if (cfg_flush(c, &lg, file, start, err, errlen) == -1)
		goto fail;
	buf_free(&lg);
	return 0;
toolong:
	cfg_err(err, errlen, "%s:%d: logical line (with its continuation "
	    "lines) longer than %d bytes", fn, start, CFG_LINE_MAX);
fail:
	buf_free(&lg);
	return -1;
}

/* cfg_parse_buf - parse main.cf text into c; all or nothing */
int
cfg_parse_buf(struct cfg *c, const char *text, size_t len, const char *fn,
    char *err, size_t errlen)
{
	struct cfg *t;

	t = cfg_dup(c);
	if (cfg_parse_into(t, text, len, fn != NULL ? fn : "main.cf", err,
	    errlen) == -1 || cfg_refresh(t, err, errlen) == -1) {
		cfg_free(t);
		return -1;
	}
	cfg_swap(c, t);
	cfg_free(t);
	return 0;
}

/* cfg_read_file - a whole regular file, at most CFG_FILE_MAX bytes */
static char *
cfg_read_file(const char *path, size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	struct buf b;
	char	 chunk[8192];
	ssize_t	 r;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		cfg_err(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cfg_err(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	buf_init(&b, CFG_FILE_MAX);
	for (;;) {
		if ((r = read(fd, chunk, sizeof(chunk))) == -1 &&
		    errno == EINTR)
			continue;
		if (r == -1 ||
		    (r > 0 && buf_append(&b, chunk, (size_t)r) == -1))
			break;
		if (r == 0) {
			close(fd);
			*lenp = b.len;
			return cfg_buf_take(&b);
		}
	}
	if (r == -1)
		cfg_err(err, errlen, "read %s: %s", path, strerror(errno));
	else
		cfg_err(err, errlen, "%s: larger than %d bytes", path,
		    CFG_FILE_MAX);
	close(fd);
	buf_free(&b);
	return NULL;
}

/* cfg_load_path - defaults, then config_directory, then the file */
static struct cfg *
cfg_load_path(const char *path, const char *dir, char *err, size_t errlen)
{
	struct cfg *c;
	char	*data;
	size_t	 len;

	if ((data = cfg_read_file(path, &len, err, errlen)) == NULL)
		return NULL;
	c = cfg_new();
	cfg_set_dir(c, dir);
	if (cfg_parse_buf(c, data, len, path, err, errlen) == -1) {
		cfg_free(c);
		c = NULL;
	}
	free(data);
	return c;
}

/* cfg_load - read a main.cf; config_directory is its directory */
struct cfg *
cfg_load(const char *path, char *err, size_t errlen)
{
	struct cfg *c;
	const char *slash;
	char	*dir;

	if ((slash = strrchr(path, '/')) == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	c = cfg_load_path(path, dir, err, errlen);
	free(dir);
	return c;
}

/* cfg_load_dir - read DIR/main.cf; config_directory is DIR */
struct cfg *
cfg_load_dir(const char *dir, char *err, size_t errlen)
{
	struct cfg *c;
	struct stat st;
	struct buf b;

	buf_init(&b, PATH_MAX);
	if (buf_printf(&b, "%s/main.cf", dir) == -1) {
		cfg_err(err, errlen, "config directory name too long");
		return NULL;
	}
	if (stat(buf_cstr(&b), &st) == -1 && errno == ENOENT) {
		cfg_err(err, errlen, "no main.cf in %s (%s: %s): give the "
		    "config directory with -c DIR", dir, buf_cstr(&b),
		    strerror(ENOENT));
		buf_free(&b);
		return NULL;
	}
	c = cfg_load_path(buf_cstr(&b), dir, err, errlen);
	buf_free(&b);
	return c;
}

/* cfg_set - set one parameter (an -o override); all or nothing */
int
cfg_set(struct cfg *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	struct cfg *t;
	struct cfg_val *v;
	char	 show[CFG_SHOW_MAX];

	if (!cfg_valid_name(name)) {
		cfg_err(err, errlen, "bad parameter name \"%s\"",
		    cfg_show(show, sizeof(show), name));
		return -1;
	}
	if (strlen(value) > CFG_LINE_MAX || strpbrk(value, "\r\n") != NULL) {
		cfg_err(err, errlen, "%s: value longer than %d bytes or with "
		    "a line break", name, CFG_LINE_MAX);
		return -1;
	}
	t = cfg_dup(c);
	v = cfg_slot(t, name);
	free(v->raw);
	v->raw = xstrdup(value);
	v->src = CFG_SRC_SET;
	v->line = 0;
	if (cfg_refresh(t, err, errlen) == -1) {
		cfg_free(t);
		return -1;
	}
	cfg_swap(c, t);
	cfg_free(t);
	return 0;
}

/* cfg_set_dir - remember the config directory; sets config_directory */
void
cfg_set_dir(struct cfg *c, const char *dir)
{
	struct cfg_val *v = &c->known[cfg_param_find("config_directory") -
	    cfg_params];
	char	 cwd[PATH_MAX], err[CFG_ERR_MAX];
	char	*old = v->raw;
	int	 oldsrc = v->src;
	struct buf b;

	buf_init(&b, PATH_MAX);
	if (dir[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		(void)buf_printf(&b, "%s/", cwd);
	if (buf_puts(&b, dir) == -1)
		(void)buf_puts(&b, dir[0] == '/' ? "/" : ".");
	free(c->dir);
	c->dir = xstrdup(buf_cstr(&b));
	buf_free(&b);
	v->raw = cfg_escape(c->dir);
	v->src = CFG_SRC_SET;
	if (cfg_refresh(c, err, sizeof(err)) == 0) {
		free(old);
		return;
	}
	log_warn("config directory %s: %s", c->dir, err);
	free(v->raw);
	v->raw = old;
	v->src = oldsrc;
	if (cfg_refresh(c, err, sizeof(err)) == -1)
		log_fatal("cfg_set_dir: %s", err);
}

/* cfg_dir - the config directory, or "" */
const char *
cfg_dir(const struct cfg *c)
{
	return c->dir != NULL ? c->dir : "";
}

/* cfg_get - slot of a table parameter; an unknown name is our bug */
static const struct cfg_val *
cfg_get(const struct cfg *c, const char *name, const char *who,
    const struct cfg_param **pp)
{
	const struct cfg_param *p;

	if ((p = cfg_param_find(name)) == NULL)
		log_fatal("%s: %s is not in the parameter table", who, name);
	if (pp != NULL)
		*pp = p;
	return &c->known[p - cfg_params];
}

/* cfg_str - expanded value */
const char *
cfg_str(const struct cfg *c, const char *name)
{
	return cfg_get(c, name, "cfg_str", NULL)->exp;
}

/* cfg_raw - value as written (or the default), before expansion */
const char *
cfg_raw(const struct cfg *c, const char *name)
{
	const struct cfg_param *p;
	const struct cfg_val *v = cfg_get(c, name, "cfg_raw", &p);

	return cfg_raw_of(c, v, p);
}

/* cfg_int - INT, SIZE or TIME (seconds) value */
long long
cfg_int(const struct cfg *c, const char *name)
{
	const struct cfg_param *p;
	const struct cfg_val *v = cfg_get(c, name, "cfg_int", &p);

	if (p->type != CFG_INT && p->type != CFG_SIZE && p->type != CFG_TIME)
		log_fatal("cfg_int: %s is not a number", name);
	return v->num;
}

/* cfg_bool - BOOL value, 1 or 0 */
int
cfg_bool(const struct cfg *c, const char *name)
{
	const struct cfg_param *p;
	const struct cfg_val *v = cfg_get(c, name, "cfg_bool", &p);

	if (p->type != CFG_BOOL)
		log_fatal("cfg_bool: %s is not a boolean", name);
	return (int)v->num;
}

/* cfg_time - TIME value in seconds */
long long
cfg_time(const struct cfg *c, const char *name)
{
	const struct cfg_param *p;
	const struct cfg_val *v = cfg_get(c, name, "cfg_time", &p);

	if (p->type != CFG_TIME)
		log_fatal("cfg_time: %s is not a time", name);
	return v->num;
}

/* cfg_list - expanded value split into elements; cfg_list_free() it */
char **
cfg_list(const struct cfg *c, const char *name, size_t *n)
{
	return cfg_split_list(cfg_get(c, name, "cfg_list", NULL)->exp, n);
}

/* cfg_lookup - expanded value of a table or user-defined name, or NULL */
const char *
cfg_lookup(const struct cfg *c, const char *name)
{
	const struct cfg_param *p;
	const struct cfg_val *v;

	if ((p = cfg_param_find(name)) != NULL)
		return c->known[p - cfg_params].exp;
	if ((v = cfg_user_find(c, name)) != NULL)
		return v->exp != NULL ? v->exp : "";
	return NULL;
}

/* cfg_value - see cfg.h */
int
cfg_value(const struct cfg *c, const char *name, int expand,
    const char **val, int *set)
{
	const struct cfg_param *p;
	const struct cfg_val *v;

	if ((p = cfg_param_find(name)) != NULL)
		v = &c->known[p - cfg_params];
	else if ((v = cfg_user_find(c, name)) == NULL)
		return -1;
	*set = v->src == CFG_SRC_FILE;
	if (expand)
		*val = v->exp != NULL ? v->exp : "";
	else
		*val = cfg_raw_of(c, v, p);
	return 0;
}

/* cfg_list_free - free what cfg_list() or cfg_split_list() returned */
void
cfg_list_free(char **v, size_t n)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < n && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* cfg_parse_time - "30", "30s", "5m", "2h", "5d", "1w" to seconds */
int
cfg_parse_time(const char *s, char unit, long long *out)
{
	long long n = 0, mul;
	size_t	 i;
	int	 u;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (n > (LLONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (i == 0 || (s[i] != '\0' && s[i + 1] != '\0'))
		return -1;
	u = s[i] != '\0' ? s[i] : (unit != 0 ? unit : 's');
	if (u >= 'A' && u <= 'Z')
		u += 'a' - 'A';
	switch (u) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	case 'w': mul = 604800; break;
	default: return -1;
	}
	if (n > LLONG_MAX / mul)
		return -1;
	*out = n * mul;
	return 0;
}

/* cfg_parse_bool - yes/true = 1, no/false = 0, any case */
int
cfg_parse_bool(const char *s, int *out)
{
	if (util_strcasecmp_ascii(s, "yes") == 0 ||
	    util_strcasecmp_ascii(s, "true") == 0)
		*out = 1;
	else if (util_strcasecmp_ascii(s, "no") == 0 ||
	    util_strcasecmp_ascii(s, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* cfg_is_sep - list separator: comma or white space */
static int
cfg_is_sep(int c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * cfg_split_list - elements separated by commas and white space; a
 * "{ ... }" group stays one element (Postfix syntax).  NULL-terminated.
 */
char **
cfg_split_list(const char *s, size_t *np)
{
	char	**v;
	size_t	 n = 0, i = 0, start;
	int	 depth;

	v = xcalloc(1, sizeof(*v));
	for (;;) {
		while (s[i] != '\0' && cfg_is_sep((unsigned char)s[i]))
			i++;
		if (s[i] == '\0')
			break;
		start = i;
		for (depth = 0; s[i] != '\0' &&
		    (depth > 0 || !cfg_is_sep((unsigned char)s[i])); i++) {
			if (s[i] == '{')
				depth++;
			else if (s[i] == '}' && depth > 0)
				depth--;
		}
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrndup(s + start, i - start);
		v[n] = NULL;
	}
	if (np != NULL)
		*np = n;
	return v;
}

/* cfg_unknown - names set that the table does not know, NULL-terminated */
const char *const *
cfg_unknown(const struct cfg *c, size_t *n)
{
	if (n != NULL)
		*n = c->nuser;
	return c->user_names;
}

/* cfg_mark_name - see cfg.h */
void
cfg_mark_name(struct cfg *c, const char *name)
{
	struct cfg_val *v;

	if ((v = cfg_user_find(c, name)) != NULL)
		v->used_ext = 1;
}

/* cfg_mark_used - user-defined $names in text count as used */
void
cfg_mark_used(struct cfg *c, const char *text)
{
	struct cfg_val *v;
	char	 nm[CFG_NAME_MAX];
	size_t	 i, n;

	for (i = 0; text[i] != '\0'; i++) {
		if (text[i] != '$')
			continue;
		if (text[i + 1] == '$') {
			i++;
			continue;
		}
		if (text[i + 1] == '{' || text[i + 1] == '(')
			i++;
		for (n = 0; cfg_is_name_char((unsigned char)text[i + 1 + n]);
		    n++)
			;
		if (n > 0 && n < sizeof(nm)) {
			memcpy(nm, text + i + 1, n);
			nm[n] = '\0';
			if ((v = cfg_user_find(c, nm)) != NULL)
				v->used_ext = 1;
		}
		i += n;
	}
}

/* cfg_finding - one "error: ..." or "warning: ..." line */
static void __attribute__((format(printf, 4, 5)))
cfg_finding(struct buf *out, int err, int *count, const char *fmt, ...)
{
	va_list	 ap;

	(void)buf_puts(out, err ? "error: " : "warning: ");
	va_start(ap, fmt);
	(void)buf_vprintf(out, fmt, ap);
	va_end(ap);
	(void)buf_putc(out, '\n');
	count[err ? 1 : 0]++;
}

/* cfg_tls_wanted - see cfg.h */
int
cfg_tls_wanted(const struct cfg *c)
{
	const char *level = cfg_str(c, "smtpd_tls_security_level");

	if (*level == '\0')
		level = cfg_bool(c, "smtpd_use_tls") ? "may" : "none";
	return cfg_bool(c, "smtpd_tls_wrappermode") ||
	    strcmp(level, "none") != 0;
}

/* cfg_check_cross - findings about combinations of values */
static void
cfg_check_cross(const struct cfg *c, struct buf *out, int *count)
{
	long long mbox = cfg_int(c, "mailbox_size_limit");
	long long msg = cfg_int(c, "message_size_limit");

	/* Postfix's local(8) refuses to start with this */
	if (mbox != 0 && msg != 0 && mbox < msg)
		cfg_finding(out, 1, count, "mailbox_size_limit (%lld) is "
		    "smaller than message_size_limit (%lld): a message that "
		    "was accepted could not be delivered", mbox, msg);
	else if (mbox != 0 && msg == 0)
		cfg_finding(out, 0, count, "mailbox_size_limit (%lld) is set "
		    "but message_size_limit is 0 (no limit): larger messages "
		    "are accepted and then bounced", mbox);
	if (cfg_time(c, "minimal_backoff_time") >
	    cfg_time(c, "maximal_backoff_time"))
		cfg_finding(out, 0, count, "minimal_backoff_time is larger "
		    "than maximal_backoff_time");
	if (cfg_tls_wanted(c) && (cfg_str(c, "smtpd_tls_cert_file")[0] ==
	    '\0' || cfg_str(c, "smtpd_tls_key_file")[0] == '\0'))
		cfg_finding(out, 1, count, "TLS is enabled (smtpd_use_tls, "
		    "smtpd_tls_security_level or smtpd_tls_wrappermode) but "
		    "smtpd_tls_cert_file or smtpd_tls_key_file is empty");
}

/* cfg_check - see cfg.h */
int
cfg_check(const struct cfg *c, char *dst, size_t len, int *nerr)
{
	const struct cfg_param *p;
	const struct cfg_val *v;
	struct buf out;
	char	 where[CFG_ERR_MAX];
	size_t	 i;
	int	 count[2] = { 0, 0 };

	buf_init(&out, len > 0 ? len - 1 : 0);
	for (i = 0; i < c->notes.n; i++)
		cfg_finding(&out, 0, count, "%s", c->notes.v[i]);
	for (i = 0; i < c->nuser; i++) {
		if (c->user[i].used || c->user[i].used_ext)
			continue;
		cfg_where(c, &c->user[i], c->user[i].name, where,
		    sizeof(where));
		cfg_finding(&out, 0, count, "%s: unknown parameter, ignored",
		    where);
	}
	for (i = 0; i < c->refs_err.n; i++)
		cfg_finding(&out, 1, count, "%s (in a restriction list: the "
		    "restrictions it stands for would be missing)",
		    c->refs_err.v[i]);
	for (i = 0; i < cfg_nparams; i++) {
		p = &cfg_params[i];
		v = &c->known[i];
		if (!(p->flags & CFG_F_RESTR) || !v->undef || v->undef_note)
			continue;
		cfg_where(c, v, p->name, where, sizeof(where));
		cfg_finding(&out, 1, count, "%s: refers through other "
		    "parameters to an undefined one (in a restriction list: "
		    "the restrictions it stands for would be missing)", where);
	}
	for (i = 0; i < c->refs.n; i++)
		cfg_finding(&out, 0, count, "%s", c->refs.v[i]);
	cfg_check_cross(c, &out, count);
	if (len > 0)
		util_strlcpy(dst, buf_cstr(&out), len);
	buf_free(&out);
	if (nerr != NULL)
		*nerr = count[1];
	return count[0] + count[1];
}
