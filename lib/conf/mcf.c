/*
 * mcf.c - master.cf parser: one struct mcf_service per service line.
 *
 * Interface: mcf_load(), mcf_parse_buf(), mcf_add_defaults(), mcf_find(),
 * mcf_free() (mcf.h).  Errors: -1 and a message naming file:line and the
 * column; the struct mcf is left empty.
 *
 * The default master.cf that youju installs (etc/master.cf), for reference:
 *
 *	# service     type  private unpriv  chroot  wakeup  maxproc command
 *	smtp          inet  n       -       y       -       -       smtpd
 *	submission    inet  n       -       y       -       -       smtpd
 *	  -o smtpd_tls_security_level=encrypt
 *	  -o smtpd_sasl_auth_enable=yes
 *	smtps         inet  n       -       y       -       -       smtpd
 *	  -o smtpd_tls_wrappermode=yes
 *	  -o smtpd_sasl_auth_enable=yes
 *	qmgr          unix  n       -       y       300     1       qmgr
 *	smtp          unix  -       -       y       -       -       smtp
 *	local         unix  -       n       n       -       -       local
 *	auth          unix  -       -       y       -       1       auth
 *	anvil         unix  -       -       y       -       1       anvil
 *	pickup        unix  n       -       y       -       1       pickup
 *
 * The last six, the internal services, are in mcf_defaults[]: a master.cf
 * that lacks one of them gets it from mcf_add_defaults().
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mcf.h"
#include "util.h"

#define MCF_COLUMNS	8		/* service .. command */
#define MCF_MAXPROC_MAX	1000000
#define MCF_NAME_MAX	255		/* longest service name */

const char *const mcf_defaults[] = {
	"qmgr unix n - y 300 1 qmgr",
	"smtp unix - - y - - smtp",
	"local unix - n n - - local",
	"auth unix - - y - 1 auth",
	"anvil unix - - y - 1 anvil",
	"pickup unix n - y - 1 pickup",
	NULL
};

/* where a line came from, for messages */
struct mcf_pos {
	const char	*file;
	int		 line;
	char		*err;
	size_t		 errlen;
};

/* mcf_err - "file:line: message" into the caller's buffer */
static int __attribute__((format(printf, 2, 3)))
mcf_err(const struct mcf_pos *pos, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pos->err != NULL && pos->errlen > 0)
		snprintf(pos->err, pos->errlen, "%s:%d: %s", pos->file,
		    pos->line, msg);
	return -1;
}

/* mcf_svc_free - release one service's strings */
static void
mcf_svc_free(struct mcf_service *s)
{
	size_t	 i;

	free(s->name);
	free(s->command);
	for (i = 0; i < s->nargs; i++)
		free(s->args[i]);
	free(s->args);
	for (i = 0; i < s->nopts; i++) {
		free(s->opts[i].name);
		free(s->opts[i].value);
	}
	free(s->opts);
	free(s->host);
	free(s->port);
	memset(s, 0, sizeof(*s));
}

/* mcf_free - release all services, leave an empty table */
void
mcf_free(struct mcf *m)
{
	size_t	 i;

	for (i = 0; i < m->nsvc; i++)
		mcf_svc_free(&m->svc[i]);
	free(m->svc);
	m->svc = NULL;
	m->nsvc = 0;
}

/* mcf_find_type - service with this name and type, or NULL */
static const struct mcf_service *
mcf_find_type(const struct mcf *m, const char *name, int type)
{
	size_t	 i;

	for (i = 0; i < m->nsvc; i++)
		if (m->svc[i].type == type && strcmp(m->svc[i].name, name) == 0)
			return &m->svc[i];
	return NULL;
}

/* mcf_find - the first service with this name, or NULL */
const struct mcf_service *
mcf_find(const struct mcf *m, const char *name)
{
	size_t	 i;

	for (i = 0; i < m->nsvc; i++)
		if (strcmp(m->svc[i].name, name) == 0)
			return &m->svc[i];
	return NULL;
}

/*
 * mcf_split - split a logical line in place into words at white space;
 * "{ ... }" (nested) is one word.  Returns the number of words or -1.
 */
static int
mcf_split(char *s, char ***wordsp, size_t *np, const struct mcf_pos *pos)
{
	char	**w = NULL;
	size_t	 n = 0;
	int	 depth;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		w = xreallocarray(w, n + 1, sizeof(*w));
		w[n++] = s;
		for (depth = 0; *s != '\0' &&
		    (depth > 0 || (*s != ' ' && *s != '\t')); s++) {
			if (*s == '{')
				depth++;
			else if (*s == '}' && depth > 0)
				depth--;
		}
		if (depth > 0) {
			mcf_err(pos, "missing '}' in \"%s\"",
			    log_str(w[n - 1]));
			free(w);
			return -1;
		}
		if (*s != '\0')
			*s++ = '\0';
	}
	*wordsp = w;
	*np = n;
	return 0;
}

/* mcf_flag - y, n or - (the default) */
static int
mcf_flag(const char *w, int def, const char *col, int *out,
    const struct mcf_pos *pos)
{
	if (strcmp(w, "-") == 0)
		*out = def;
	else if (strcmp(w, "y") == 0)
		*out = 1;
	else if (strcmp(w, "n") == 0)
		*out = 0;
	else
		return mcf_err(pos, "%s column: bad flag \"%s\" (expected y, n "
		    "or -)", col, log_str(w));
	return 0;
}

/* mcf_wakeup - seconds, optionally followed by '?', or - */
static int
mcf_wakeup(const char *w, struct mcf_service *s, const struct mcf_pos *pos)
{
	char	 num[32];
	size_t	 len = strlen(w);
	long long v;

	if (strcmp(w, "-") == 0)
		return 0;
	if (len > 0 && w[len - 1] == '?') {
		s->wakeup_if_used = 1;
		len--;
	}
	if (len == 0 || len >= sizeof(num) || w[0] < '0' || w[0] > '9')
		goto bad;
	memcpy(num, w, len);
	num[len] = '\0';
	if (util_parse_ll(num, 0, INT_MAX, &v) == -1)
		goto bad;
	s->wakeup = (int)v;
	return 0;
bad:
	return mcf_err(pos, "wakeup column: bad value \"%s\" (expected "
	    "seconds, optionally followed by '?', or -)", log_str(w));
}

/* mcf_maxproc - a number (0 = unlimited) or - (default_process_limit) */
static int
mcf_maxproc(const char *w, int defproc, struct mcf_service *s,
    const struct mcf_pos *pos)
{
	long long v;

	if (strcmp(w, "-") == 0) {
		s->maxproc = defproc;
		return 0;
	}
	if (w[0] < '0' || w[0] > '9' ||
	    util_parse_ll(w, 0, MCF_MAXPROC_MAX, &v) == -1)
		return mcf_err(pos, "maxproc column: bad value \"%s\" "
		    "(expected 0 (no limit) to %d, or -)", log_str(w),
		    MCF_MAXPROC_MAX);
	s->maxproc = (int)v;
	return 0;
}

/* mcf_port_ok - a service name or a port number 1..65535 */
static int
mcf_port_ok(const char *p)
{
	long long v;
	size_t	 i;

	if (p[0] >= '0' && p[0] <= '9')
		return util_parse_ll(p, 1, 65535, &v) == 0;
	for (i = 0; p[i] != '\0'; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'))
			return 0;
	return i > 0;
}

/* mcf_inet_name - split "port", "host:port", "[v6]:port" */
static int
mcf_inet_name(struct mcf_service *s, const struct mcf_pos *pos)
{
	const char *n = s->name, *colon, *rb;

	if (n[0] == '[') {
		if ((rb = strchr(n, ']')) == NULL || rb[1] != ':' ||
		    rb == n + 1)
			goto bad;
		s->host = xstrndup(n + 1, (size_t)(rb - n - 1));
		s->port = xstrdup(rb + 2);
	} else if ((colon = strrchr(n, ':')) == NULL) {
		s->host = xstrdup("");
		s->port = xstrdup(n);
	} else if (colon != strchr(n, ':')) {
		return mcf_err(pos, "service \"%s\": write an IPv6 address in "
		    "brackets: [address]:port", log_str(n));
	} else {
		s->host = xstrndup(n, (size_t)(colon - n));
		s->port = xstrdup(colon + 1);
	}
	if (strcmp(s->host, "*") == 0)
		s->host[0] = '\0';
	if (!mcf_port_ok(s->port))
		goto bad;
	return 0;
bad:
	return mcf_err(pos, "service \"%s\": expected port, host:port or "
	    "[address]:port (port: a number 1-65535 or a service name)",
	    log_str(n));
}

/* mcf_name_ok - parameter name in -o: letters, digits, '_' */
static int
mcf_name_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i > 0;
}

/* mcf_opt - "name=value" or "{ name = value }" of an -o */
static int
mcf_opt(struct mcf_service *s, char *text, const struct mcf_pos *pos)
{
	char	*eq, *name, *value, *t = text;
	size_t	 len = strlen(text);
	int	 braced = text[0] == '{';

	if (braced) {
		if (len < 2 || t[len - 1] != '}')
			goto bad;
		t = xstrndup(text + 1, len - 2);
	}
	if ((eq = strchr(t, '=')) == NULL)
		goto bad;
	*eq = '\0';
	name = braced ? util_trim(t) : t;
	value = braced ? util_trim(eq + 1) : eq + 1;
	if (!mcf_name_ok(name)) {
		*eq = '=';
		goto bad;
	}
	s->opts = xreallocarray(s->opts, s->nopts + 1, sizeof(*s->opts));
	s->opts[s->nopts].name = xstrdup(name);
	s->opts[s->nopts].value = xstrdup(value);
	s->nopts++;
	if (braced)
		free(t);
	return 0;
bad:
	mcf_err(pos, "-o \"%s\": expected name=value", log_str(text));
	if (braced && t != text)
		free(t);
	return -1;
}

/* mcf_args - the words after the command: -o overrides and arguments */
static int
mcf_args(struct mcf_service *s, char **w, size_t n, const struct mcf_pos *pos)
{
	size_t	 i;

	s->args = xcalloc(1, sizeof(*s->args));
	for (i = MCF_COLUMNS; i < n; i++) {
		if (strcmp(w[i], "-o") == 0) {
			if (++i >= n)
				return mcf_err(pos, "-o at the end of the "
				    "line: expected -o name=value");
			if (mcf_opt(s, w[i], pos) == -1)
				return -1;
		} else if (strncmp(w[i], "-o", 2) == 0) {
			if (mcf_opt(s, w[i] + 2, pos) == -1)
				return -1;
		} else {
			s->args = xreallocarray(s->args, s->nargs + 2,
			    sizeof(*s->args));
			s->args[s->nargs++] = xstrdup(w[i]);
			s->args[s->nargs] = NULL;
		}
	}
	return 0;
}

/* mcf_type - inet or unix; the other Postfix types are refused */
static int
mcf_type(const char *w, int *type, const struct mcf_pos *pos)
{
	if (strcmp(w, "inet") == 0)
		*type = MCF_INET;
	else if (strcmp(w, "unix") == 0)
		*type = MCF_UNIX;
	else if (strcmp(w, "unix-dgram") == 0 || strcmp(w, "pass") == 0 ||
	    strcmp(w, "fifo") == 0)
		return mcf_err(pos, "service type \"%s\" is not supported by "
		    "youju (use inet or unix)", w);
	else
		return mcf_err(pos, "unknown service type \"%s\" (expected "
		    "inet or unix)", log_str(w));
	return 0;
}

/* mcf_columns - service name, type, flags, wakeup, maxproc, command */
static int
mcf_columns(struct mcf_service *s, char **w, int defproc,
    const struct mcf_pos *pos)
{
	if (strlen(w[0]) > MCF_NAME_MAX)
		return mcf_err(pos, "service name longer than %d bytes",
		    MCF_NAME_MAX);
	s->name = xstrdup(w[0]);
	if (mcf_type(w[1], &s->type, pos) == -1 ||
	    mcf_flag(w[2], 1, "private", &s->private_, pos) == -1 ||
	    mcf_flag(w[3], 1, "unpriv", &s->unpriv, pos) == -1 ||
	    mcf_flag(w[4], 1, "chroot", &s->chroot, pos) == -1 ||
	    mcf_wakeup(w[5], s, pos) == -1 ||
	    mcf_maxproc(w[6], defproc, s, pos) == -1)
		return -1;
	if (s->type == MCF_INET && mcf_inet_name(s, pos) == -1)
		return -1;
	if (s->type == MCF_UNIX && (strchr(s->name, '/') != NULL ||
	    strcmp(s->name, ".") == 0 || strcmp(s->name, "..") == 0))
		return mcf_err(pos, "unix service name \"%s\" must not "
		    "contain '/' or be . or ..", log_str(s->name));
	if (strchr(w[7], '/') != NULL || w[7][0] == '.' || w[7][0] == '-')
		return mcf_err(pos, "command \"%s\": expected a program name "
		    "in daemon_directory", log_str(w[7]));
	s->command = xstrdup(w[7]);
	return 0;
}

/* mcf_parse_line - one logical service line, appended to m */
static int
mcf_parse_line(struct mcf *m, char *text, int defproc,
    const struct mcf_pos *pos)
{
	struct mcf_service s;
	const struct mcf_service *dup;
	char	**w;
	size_t	 n;

	if (mcf_split(text, &w, &n, pos) == -1)
		return -1;
	memset(&s, 0, sizeof(s));
	s.line = pos->line;
	if (n < MCF_COLUMNS) {
		mcf_err(pos, "missing columns: a service line needs service "
		    "type private unpriv chroot wakeup maxproc command; found "
		    "%zu", n);
		goto fail;
	}
	if (mcf_columns(&s, w, defproc, pos) == -1 ||
	    mcf_args(&s, w, n, pos) == -1)
		goto fail;
	if ((dup = mcf_find_type(m, s.name, s.type)) != NULL) {
		mcf_err(pos, "duplicate service \"%s\" type %s (first at line "
		    "%d)", log_str(s.name), w[1], dup->line);
		goto fail;
	}
	m->svc = xreallocarray(m->svc, m->nsvc + 1, sizeof(*m->svc));
	m->svc[m->nsvc++] = s;
	free(w);
	return 0;
fail:
	mcf_svc_free(&s);
	free(w);
	return -1;
}

/* mcf_flush - parse the logical line collected so far, if any */
static int
mcf_flush(struct mcf *m, struct buf *lg, int start, int defproc,
    const struct mcf_pos *pos)
{
	struct mcf_pos at = *pos;
	int	 r = 0;

	at.line = start;
	if (start != 0)
		r = mcf_parse_line(m, (char *)lg->data, defproc, &at);
	buf_reset(lg);
	return r;
}

/*
 * mcf_parse_buf - parse master.cf text into *m (overwritten).  Comment and
 * blank lines are skipped and do not end a continued line.
 */
int
mcf_parse_buf(const char *text, size_t len, const char *fn, int defproc,
    struct mcf *m, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl;
	struct mcf_pos pos = { fn != NULL ? fn : "master.cf", 0, err, errlen };
	struct buf lg;
	size_t	 ll, i;
	int	 start = 0, r = -1;

	m->svc = NULL;
	m->nsvc = 0;
	buf_init(&lg, MCF_LINE_MAX);
	for (; p < end; p = nl == NULL ? end : nl + 1) {
		pos.line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl == NULL ? (size_t)(end - p) : (size_t)(nl - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll > MCF_LINE_MAX) {
			mcf_err(&pos, "line longer than %d bytes",
			    MCF_LINE_MAX);
			goto out;
		}
		if (memchr(p, '\0', ll) != NULL) {
			mcf_err(&pos, "NUL byte");
			goto out;
		}
		for (i = 0; i < ll && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		if (i == ll || p[i] == '#')
			continue;
		if (i == 0) {
			if (mcf_flush(m, &lg, start, defproc, &pos) == -1)
				goto out;
			start = pos.line;
		} else if (start == 0) {
			mcf_err(&pos, "line starts with white space but "
			    "continues no service");
			goto out;
		} else if (buf_putc(&lg, ' ') == -1)
			goto toolong;
		if (buf_append(&lg, p + i, ll - i) == -1)
			goto toolong;
	}
	if (mcf_flush(m, &lg, start, defproc, &pos) == 0)
		r = 0;
	goto out;
toolong:
	pos.line = start;
	mcf_err(&pos, "logical line (with its continuation lines) longer "
	    "than %d bytes", MCF_LINE_MAX);
out:
	buf_free(&lg);
	if (r == -1)
		mcf_free(m);
	return r;
}

/* mcf_load - read and parse a master.cf file */
int
mcf_load(const char *path, int defproc, struct mcf *m, char *err,
    size_t errlen)
{
	struct stat st;
	struct buf b;
	char	 chunk[8192];
	ssize_t	 r = 0;
	int	 fd, saved, ret = -1;

	m->svc = NULL;
	m->nsvc = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(saved));
		errno = saved;
		return -1;
	}
	buf_init(&b, MCF_FILE_MAX);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		errno = EINVAL;
		goto out;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "read %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (buf_append(&b, chunk, (size_t)r) == -1) {
			snprintf(err, errlen, "%s: larger than %d bytes", path,
			    MCF_FILE_MAX);
			errno = EFBIG;
			goto out;
		}
	}
	ret = mcf_parse_buf(buf_cstr(&b), b.len, path, defproc, m, err,
	    errlen);
	if (ret == -1)
		errno = EINVAL;
out:
	saved = errno;
	close(fd);
	buf_free(&b);
	errno = saved;
	return ret;
}

/* mcf_add_defaults - append the internal services the table lacks */
void
mcf_add_defaults(struct mcf *m, int defproc)
{
	struct mcf one;
	char	 err[256];
	size_t	 i;

	for (i = 0; mcf_defaults[i] != NULL; i++) {
		if (mcf_parse_buf(mcf_defaults[i], strlen(mcf_defaults[i]),
		    "mcf_defaults", defproc, &one, err, sizeof(err)) == -1 ||
		    one.nsvc != 1)
			log_fatal("mcf_add_defaults: %s", err);
		if (mcf_find_type(m, one.svc[0].name, one.svc[0].type) !=
		    NULL) {
			mcf_free(&one);
			continue;
		}
		one.svc[0].line = 0;
		m->svc = xreallocarray(m->svc, m->nsvc + 1, sizeof(*m->svc));
		m->svc[m->nsvc++] = one.svc[0];
		free(one.svc);
	}
}

/* mcf_process_count - see mcf.h */
int
mcf_process_count(const struct mcf_service *d, int ncpu)
{
	int	 want, cap = d->maxproc > 0 ? d->maxproc : 1 << 20;

	if (ncpu < 1)
		ncpu = 1;
	if (strcmp(d->command, "qmgr") == 0 ||
	    strcmp(d->command, "auth") == 0 ||
	    strcmp(d->command, "anvil") == 0 ||
	    strcmp(d->command, "pickup") == 0 ||
	    strcmp(d->command, "spawn") == 0)	/* its children: maxproc */
		return 1;
	if (d->type == MCF_INET)
		want = ncpu;
	else
		want = ncpu * 2 < 2 ? 2 : ncpu * 2;
	return want < cap ? want : cap;
}
