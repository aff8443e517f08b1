/*
 * cfg_edit.c - one parameter changed in main.cf text (see cfg_edit.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cfg_edit.h"
#include "util.h"

/* cfg_edit_name_ok - see cfg_edit.h */
int
cfg_edit_name_ok(const char *name)
{
	size_t	 i;

	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return 0;
	return i > 0 && i < 64;
}

/* cfg_edit_line - one physical line: [p, *next), its length without EOL */
static size_t
cfg_edit_line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*next = nl != NULL ? nl + 1 : end;
	return (size_t)((nl != NULL ? nl : end) - p);
}

/* cfg_edit_skip - blank or comment line */
static int
cfg_edit_skip(const char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r');
	    i++)
		;
	return i == len || p[i] == '#';
}

/* cfg_edit_is - does an entry line (column 0) set name */
static int
cfg_edit_is(const char *p, size_t len, const char *name)
{
	size_t	 n = strlen(name), i;

	if (len < n || memcmp(p, name, n) != 0)
		return 0;
	for (i = n; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i < len && p[i] == '=';
}

/* cfg_edit_args - the edit's name, value and text are usable: 0, or -1 */
static int
cfg_edit_args(const char *text, size_t len, const char *name,
    const char *value, char *err, size_t errlen)
{
	if (!cfg_edit_name_ok(name)) {
		snprintf(err, errlen, "\"%s\" is not a parameter name", name);
		return -1;
	}
	if (value != NULL && strpbrk(value, "\r\n") != NULL) {
		snprintf(err, errlen, "%s: a value is one line", name);
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "the file has a NUL byte");
		return -1;
	}
	return 0;
}

/* cfg_edit - see cfg_edit.h */
int
cfg_edit(const char *text, size_t len, const char *name, const char *value,
    struct buf *out, int *changed, char *err, size_t errlen)
{
	const char *p, *end, *next, *q, *qnext;
	const char *eol = "\n";
	size_t	 ll, ql;
	int	 done = 0, r = 0;

	*changed = 0;
	if (text == NULL)	/* an empty buffer's data */
		text = "";
	p = text;
	end = text + len;
	if (cfg_edit_args(text, len, name, value, err, errlen) == -1)
		return -1;
	if ((q = memchr(text, '\n', len)) != NULL && q > text && q[-1] == '\r')
		eol = "\r\n";	/* new lines end like the file's first */
	while (p < end) {
		ll = cfg_edit_line(p, end, &next);
		if (cfg_edit_skip(p, ll) || p[0] == ' ' || p[0] == '\t' ||
		    !cfg_edit_is(p, ll, name)) {
			r |= buf_append(out, p, (size_t)(next - p));
			p = next;
			continue;
		}
		/*
		 * an entry of name: its continuation lines go with it, and
		 * the comments between them (the parser skips those too)
		 */
		for (q = next; q < end; q = qnext) {
			ql = cfg_edit_line(q, end, &qnext);
			if (cfg_edit_skip(q, ql))
				continue;
			if (q[0] != ' ' && q[0] != '\t')
				break;
			next = qnext;
		}
		(*changed)++;
		if (value != NULL && !done)	/* with that line's own end */
			r |= buf_printf(out, "%s = %s%s", name, value,
			    p + ll == end ? eol : ll > 0 && p[ll - 1] == '\r' ?
			    "\r\n" : "\n");
		done = 1;
		p = next;
	}
	if (value != NULL && !done) {
		if (out->len > 0 && out->data[out->len - 1] != '\n')
			r |= buf_puts(out, eol);
		r |= buf_printf(out, "%s = %s%s", name, value, eol);
	}
	if (r != 0) {
		snprintf(err, errlen, "the file would be too large");
		return -1;
	}
	return 0;
}
