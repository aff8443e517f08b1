/*
 * access.c - the access(5) action parser (see access.h).
 *
 * Interface: access_parse, access_free, access_kind_name.
 * Errors: access_parse returns -1 with a message that names the value's
 * problem; nothing is allocated then.
 *
 * The action words are one table (access_words[]), tried in Postfix's
 * order; a value whose first word is none of them is a list of
 * restriction names, checked against lib/maps/restr.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "addr.h"
#include "restr.h"
#include "util.h"

#define ACCESS_F_TEXT	0x01	/* optional text kept */
#define ACCESS_F_IGNORE	0x02	/* trailing text ignored (Postfix) */
#define ACCESS_F_REPLY	0x04	/* a reply: a status code may lead */
#define ACCESS_F_HEADER	0x08	/* text is "name: value", required */
#define ACCESS_F_ADDR	0x10	/* text is one address, required */
#define ACCESS_F_REFUSE	0x20	/* no counterpart in youju: refused */

struct access_word {
	const char	*word;
	enum access_kind kind;
	int		 flags;
	const char	*dsn;		/* default status code of a reply */
};

static const struct access_word access_words[] = {
	{ "DUNNO", ACCESS_DUNNO, ACCESS_F_IGNORE, NULL },
	{ "REJECT", ACCESS_REJECT, ACCESS_F_TEXT | ACCESS_F_REPLY, "5.7.1" },
	{ "DEFER", ACCESS_DEFER, ACCESS_F_TEXT | ACCESS_F_REPLY, "4.7.1" },
	{ "WARN", ACCESS_WARN, ACCESS_F_TEXT, NULL },
	{ "INFO", ACCESS_INFO, ACCESS_F_TEXT, NULL },
	{ "FILTER", ACCESS_OK, ACCESS_F_REFUSE, NULL },
	{ "HOLD", ACCESS_HOLD, ACCESS_F_TEXT, NULL },
	{ "DISCARD", ACCESS_DISCARD, ACCESS_F_TEXT, NULL },
	{ "REDIRECT", ACCESS_REDIRECT, ACCESS_F_ADDR, NULL },
	{ "BCC", ACCESS_BCC, ACCESS_F_ADDR, NULL },
	{ "DEFER_IF_PERMIT", ACCESS_DEFER_IF_PERMIT,
	  ACCESS_F_TEXT | ACCESS_F_REPLY, "4.7.1" },
	{ "DEFER_IF_REJECT", ACCESS_DEFER_IF_REJECT,
	  ACCESS_F_TEXT | ACCESS_F_REPLY, "4.7.1" },
	{ "PREPEND", ACCESS_PREPEND, ACCESS_F_TEXT | ACCESS_F_HEADER, NULL },
	{ "OK", ACCESS_OK, ACCESS_F_IGNORE, NULL },
	{ "RELAY", ACCESS_OK, ACCESS_F_IGNORE, NULL },
};

static const char *const access_names[] = {
	"OK", "DUNNO", "REJECT", "DEFER", "DEFER_IF_REJECT",
	"DEFER_IF_PERMIT", "reply", "DISCARD", "HOLD", "WARN", "INFO",
	"PREPEND", "restrictions", "REDIRECT", "BCC"
};

/* access_kind_name - see access.h */
const char *
access_kind_name(enum access_kind k)
{
	if ((size_t)k >= NELEM(access_names))
		return "?";
	return access_names[k];
}

/* access_space - white space between words */
static int
access_space(int c)
{
	return c == ' ' || c == '\t';
}

/* access_free - see access.h */
void
access_free(struct access_action *a)
{
	size_t	 i;

	free(a->text);
	for (i = 0; i < a->nwords; i++)
		free(a->words[i]);
	free(a->words);
	memset(a, 0, sizeof(*a));
}

/* access_dsn_len - see access.h */
size_t
access_dsn_len(const char *t)
{
	size_t	 i = 2, n;
	int	 part;

	if ((t[0] != '2' && t[0] != '4' && t[0] != '5') || t[1] != '.')
		return 0;
	for (part = 0; part < 2; part++) {
		for (n = 0; isdigit((unsigned char)t[i]) && n < 4; n++)
			i++;
		if (n == 0 || n > 3)
			return 0;
		if (part == 0 && t[i++] != '.')
			return 0;
	}
	return t[i] == '\0' || access_space((unsigned char)t[i]) ? i : 0;
}

/* access_text_ok - no control characters, not too long */
static int
access_text_ok(const char *t, char *err, size_t errlen)
{
	const unsigned char *p;

	if (strlen(t) > ACCESS_TEXT_MAX) {
		snprintf(err, errlen, "text longer than %d bytes",
		    ACCESS_TEXT_MAX);
		return -1;
	}
	for (p = (const unsigned char *)t; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(err, errlen, "control character 0x%02x in "
			    "the text", *p);
			return -1;
		}
	return 0;
}

/*
 * access_reply_text - a reply's text: an optional leading status code
 * (class must be cls) into a->dsn, else the default; the rest is the text
 */
static int
access_reply_text(struct access_action *a, const char *t, int cls,
    const char *def, char *err, size_t errlen)
{
	size_t	 n;

	if ((n = access_dsn_len(t)) > 0) {
		if (t[0] != cls) {
			snprintf(err, errlen, "status code %.*s does not "
			    "match a %cxx reply", (int)n, t, cls);
			return -1;
		}
		memcpy(a->dsn, t, n);
		a->dsn[n] = '\0';
		t += n;
		while (access_space((unsigned char)*t))
			t++;
	} else
		util_strlcpy(a->dsn, def, sizeof(a->dsn));
	a->text = xstrdup(t);
	return 0;
}

/* access_header - "name: value" with a valid field name */
static int
access_header(const char *t, char *err, size_t errlen)
{
	const char *p = t;

	while (*p > 32 && *p < 127 && *p != ':')
		p++;
	if (p > t)
		while (access_space((unsigned char)*p))
			p++;
	if (p == t || *p != ':') {
		snprintf(err, errlen, "PREPEND needs a header \"name: value\"");
		return -1;
	}
	return 0;
}

/* access_address - REDIRECT and BCC: exactly one address "user@domain" */
static int
access_address(const char *word, const char *text, struct access_action *a,
    char *err, size_t errlen)
{
	struct addr ad;
	const char *why;
	char	 out[ADDR_BUFSZ];

	if (*text == '\0' || strpbrk(text, " \t,") != NULL ||
	    addr_parse_mailbox(text, &ad, &why) == -1 || ad.domain[0] == '\0') {
		snprintf(err, errlen, "%s needs one address user@domain, not "
		    "\"%.200s\"", word, text);
		return -1;
	}
	addr_format(&ad, out, sizeof(out));
	a->text = xstrdup(out);
	return 0;
}

/* access_word_action - an action word of the table with its text */
static int
access_word_action(const struct access_word *w, const char *text,
    struct access_action *a, char *err, size_t errlen)
{
	a->kind = w->kind;
	if (w->flags & ACCESS_F_REFUSE) {
		/* FILTER names a content filter transport: youju has none */
		snprintf(err, errlen, "%s needs a content filter transport "
		    "(master.cf), which youju does not have", w->word);
		return -1;
	}
	if (w->flags & ACCESS_F_ADDR)
		return access_address(w->word, text, a, err, errlen);
	if (w->flags & ACCESS_F_IGNORE) {
		a->text = xstrdup("");
		return 0;
	}
	if (access_text_ok(text, err, errlen) == -1)
		return -1;
	if ((w->flags & ACCESS_F_HEADER) &&
	    access_header(text, err, errlen) == -1)
		return -1;
	if (w->flags & ACCESS_F_REPLY)
		return access_reply_text(a, text, w->dsn[0], w->dsn, err,
		    errlen);
	a->text = xstrdup(text);
	return 0;
}

/* access_code - "4NN text" / "5NN text" (the first word is 3 digits) */
static int
access_code(const char *v, const char *text, struct access_action *a,
    char *err, size_t errlen)
{
	char	 def[6];

	if (v[0] != '4' && v[0] != '5') {
		snprintf(err, errlen, "reply code %.3s is not 4NN or 5NN", v);
		return -1;
	}
	if (*text == '\0') {
		snprintf(err, errlen, "reply code %.3s needs a text", v);
		return -1;
	}
	if (access_text_ok(text, err, errlen) == -1)
		return -1;
	a->kind = ACCESS_CODE;
	a->code = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
	snprintf(def, sizeof(def), "%c.7.1", v[0]);
	return access_reply_text(a, text, v[0], def, err, errlen);
}

/* access_class - is name one of the restriction class names */
static int
access_class(const char *name, const char *const *classes)
{
	for (; classes != NULL && *classes != NULL; classes++)
		if (util_strcasecmp_ascii(*classes, name) == 0)
			return 1;
	return 0;
}

/*
 * access_restrictions - a list of restriction names (with their
 * arguments), separated by white space or commas
 */
static int
access_restrictions(const char *v, const char *const *classes,
    struct access_action *a, char *err, size_t errlen)
{
	const struct restr_def *r = NULL;
	const char *p;
	size_t	 n, args = 0;
	char	*w;

	a->kind = ACCESS_RESTRICT;
	a->text = xstrdup("");
	/* opened before the jail only: Postfix refuses these too */
	if ((p = strchr(v, ':')) != NULL) {
		while (p > v && strchr(", \t", p[-1]) == NULL)
			p--;
		snprintf(err, errlen, "\"%.*s\": a lookup table in an access "
		    "table result; define a restriction class and give its "
		    "name instead", (int)strcspn(p, ", \t"), p);
		return -1;
	}
	p = v;
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t");
		w = xstrndup(p, n);
		p += n;
		a->words = xreallocarray(a->words, a->nwords + 1,
		    sizeof(*a->words));
		a->words[a->nwords++] = w;
		if (args > 0) {
			args--;
			continue;
		}
		util_lowercase(w);
		if ((r = restr_find(w)) != NULL)
			args = (size_t)r->nargs;
		else if (!access_class(w, classes)) {
			snprintf(err, errlen, "unknown action or restriction "
			    "\"%.100s\" (see youju-tables(5))", w);
			return -1;
		}
	}
	if (a->nwords == 0) {
		snprintf(err, errlen, "no action or restriction in \"%.100s\"",
		    v);
		return -1;
	}
	if (args > 0) {
		snprintf(err, errlen, "%s needs %d argument%s after it",
		    a->words[a->nwords - 1], r->nargs, r->nargs == 1 ? "" :
		    "s");
		return -1;
	}
	return 0;
}

/* access_alldig - the value is all digits */
static int
access_alldig(const char *v)
{
	if (*v == '\0')
		return 0;
	for (; *v != '\0'; v++)
		if (!isdigit((unsigned char)*v))
			return 0;
	return 1;
}

/* access_parse - see access.h */
int
access_parse(const char *value, const char *const *classes,
    struct access_action *a, char *err, size_t errlen)
{
	const char *v = value, *text;
	size_t	 len, i;
	int	 r;

	memset(a, 0, sizeof(*a));
	while (access_space((unsigned char)*v))
		v++;
	if (*v == '\0') {
		snprintf(err, errlen, "empty value");
		return -1;
	}
	len = strcspn(v, " \t");
	for (text = v + len; access_space((unsigned char)*text); text++)
		;
	r = 1;
	for (i = 0; i < NELEM(access_words) && r == 1; i++)
		if (strlen(access_words[i].word) == len &&
		    util_strncasecmp_ascii(v, access_words[i].word, len) == 0)
			r = access_word_action(&access_words[i], text, a, err,
			    errlen);
	if (r == 1 && access_alldig(v)) {
		if (len == 3 && (v[0] == '4' || v[0] == '5')) {
			snprintf(err, errlen, "reply code %s needs a text", v);
			r = -1;
		} else {
			a->kind = ACCESS_OK;
			a->text = xstrdup("");
			r = 0;
		}
	}
	if (r == 1 && len == 3 && isdigit((unsigned char)v[0]) &&
	    isdigit((unsigned char)v[1]) && isdigit((unsigned char)v[2]))
		r = access_code(v, text, a, err, errlen);
	if (r == 1)
		r = access_restrictions(v, classes, a, err, errlen);
	if (r == -1)
		access_free(a);
	return r;
}
