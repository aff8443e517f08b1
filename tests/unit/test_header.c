/*
 * test_header.c - lib/mail/header: the address-list parser (malformed lists
 * first), then the header block of a submitted message: where it ends,
 * what is kept, the -t recipients, the bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "util.h"
#include "t.h"

/* th_list - parse s; the addresses joined by '|' into out, or NULL */
static const char *
th_list(const char *s, size_t max, char *out, size_t len, const char **why)
{
	char	**v = NULL;
	size_t	 n = 0, i;
	int	 r;

	*why = NULL;
	r = header_addr_list(s, strlen(s), &v, &n, max, why);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			util_strlcat(out, "|", len);
		util_strlcat(out, v[i], len);
		free(v[i]);
	}
	free(v);
	return r == 0 ? out : NULL;
}

/* th_lists - address lists, malformed first */
static void
th_lists(void)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: refused */
	} tab[] = {
		{ "\"unbalanced@example.com", NULL },
		{ "(comment a@example.com", NULL },
		{ "a@example.com)", NULL },
		{ "<a@example.com", NULL },
		{ "a@example.com>", NULL },
		{ "<a@example.com> trailing", NULL },
		{ "<a@example.com>.x", NULL },
		{ "John Smith", NULL },
		{ "<<a@example.com>>", NULL },
		{ "a@[1.2.3.4", NULL },
		{ "g1: g2: a@example.com;;", NULL },
		{ "a@example.com;", NULL },
		{ "<a:b@example.com>", NULL },
		{ "a\001b@example.com", NULL },
		{ "ok: a@example.com, <b@example.com> x;", NULL },
		/* good ones */
		{ "", "" },
		{ "  ,, ", "" },
		{ "a@example.com", "a@example.com" },
		{ "a@example.com, b@example.com", "a@example.com|b@example.com" },
		{ "John Smith <john @ example . com>", "john@example.com" },
		{ "\"Smith, John\" <john@example.com>, jane", "john@example.com|jane" },
		{ "john@example.com (John Smith)", "john@example.com" },
		{ "(c (nested) \\) x) a@example.com", "a@example.com" },
		{ "undisclosed-recipients:;", "" },
		{ "team: a@example.com, b@example.com; c@example.com",
		    "a@example.com|b@example.com|c@example.com" },
		{ "team: a@example.com", "a@example.com" },
		{ "<@r1.example,@r2.example:a@example.com>", "a@example.com" },
		{ "\"a b\"@example.com", "\"a b\"@example.com" },
		{ "a@[192.0.2.1]", "a@[192.0.2.1]" },
		{ "alice", "alice" },
		{ "a@example.com,\r\n\tb@example.com",
		    "a@example.com|b@example.com" },
	};
	char	 out[2048];
	const char *why, *got;
	size_t	 i;

	for (i = 0; i < NELEM(tab); i++) {
		got = th_list(tab[i].in, 100, out, sizeof(out), &why);
		if (tab[i].want == NULL)
			T_OK(got == NULL && why != NULL, "refused: '%s' (%s)",
			    tab[i].in, why != NULL ? why : "accepted");
		else
			T_OK(got != NULL && strcmp(got, tab[i].want) == 0,
			    "list %zu -> '%s' (got '%s', %s)", i,
			    tab[i].want, out, why != NULL ? why : "ok");
	}
	/* bounds: the count and the length of one address */
	T_OK(th_list("a, b, c", 2, out, sizeof(out), &why) == NULL &&
	    strcmp(why, "too many addresses") == 0 &&
	    strcmp(out, "a|b") == 0, "the count is bounded; what fit stays");
	{
		char	 big[HEADER_ADDR_MAX + 40];

		memset(big, 'a', sizeof(big));
		big[0] = '<';
		util_strlcpy(big + HEADER_ADDR_MAX + 1, "@e.x>",
		    sizeof(big) - HEADER_ADDR_MAX - 1);
		T_OK(th_list(big, 10, out, sizeof(out), &why) == NULL &&
		    strcmp(why, "address too long") == 0,
		    "an address over HEADER_ADDR_MAX in < >");
		T_OK(th_list(big + 1, 10, out, sizeof(out), &why) == NULL &&
		    why != NULL, "a bare address over HEADER_ADDR_MAX");
		/* a long display name before <...> is fine */
		memset(big, 'n', sizeof(big));
		util_strlcpy(big + HEADER_ADDR_MAX + 10, " <a@e.x>",
		    sizeof(big) - HEADER_ADDR_MAX - 10);
		T_OK(th_list(big, 10, out, sizeof(out), &why) != NULL &&
		    strcmp(out, "a@e.x") == 0, "a long display name");
	}
	T_EQ_INT((int)header_name_len("Subject: x", 10), 7, "name length");
	T_EQ_INT((int)header_name_len("Subject  : x", 12), 7,
	    "white space before the colon");
	T_EQ_INT((int)header_name_len(": x", 3), 0, "no name");
	T_EQ_INT((int)header_name_len("Sub ject: x", 11), 0, "space in name");
	T_EQ_INT((int)header_name_len("Subject", 7), 0, "no colon");
	T_EQ_INT((int)header_name_len("S\xc3\xa9: x", 6), 0, "8-bit name");
}

/* th_feed - lines (split at '\n') into a block; the last result */
static int
th_feed(struct header_block *h, const char *text)
{
	const char *p = text, *nl;
	int	 r = HEADER_MORE;

	while (*p != '\0' && r == HEADER_MORE) {
		nl = strchr(p, '\n');
		r = header_line(h, p, nl != NULL ? (size_t)(nl - p) :
		    strlen(p));
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	return r;
}

/* th_rcpts - the -t recipients joined by '|' */
static const char *
th_rcpts(const struct header_block *h, char *out, size_t len)
{
	char	**v;
	size_t	 n, i;

	v = header_rcpt(h, &n);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			util_strlcat(out, "|", len);
		util_strlcat(out, v[i], len);
	}
	return out;
}

/* th_blocks - whole header blocks */
static void
th_blocks(void)
{
	static const struct {
		const char	*in;
		int		 flags;
		int		 end;		/* the last header_line result */
		const char	*rcpt;		/* NULL: -1 expected */
		size_t		 nf;
		unsigned	 have;
	} tab[] = {
		/* malformed first */
		{ "To: \"a@example.com\n", HEADER_F_EXTRACT, -1, NULL, 0, 0 },
		{ "To: a@example.com\nCc: <b@example.com\n\n",
		    HEADER_F_EXTRACT, -1, NULL, 0, 0 },
		/* ends: an empty line, a line that is no field */
		{ "Subject: x\n\nbody\n", 0, HEADER_END, "", 1, 0 },
		{ "Subject: x\nthis is the body\n", 0, HEADER_BODY, "", 1,
		    0 },
		{ " continued first\n", 0, HEADER_BODY, "", 0, 0 },
		{ "From me Tue Dec  8 01:00:00 2026\nFrom: a@b\n\n", 0,
		    HEADER_END, "", 1, HEADER_HAVE_FROM },
		/* -t: To, Cc and Bcc; Bcc is not kept */
		{ "From: me\nTo: a@example.com,\n b@example.com\n"
		    "Cc: C <c@example.com>\nBcc: d@example.com\n"
		    "Date: x\nMessage-ID: <1@x>\n\n", HEADER_F_EXTRACT,
		    HEADER_END,
		    "a@example.com|b@example.com|c@example.com|d@example.com",
		    5, HEADER_HAVE_FROM | HEADER_HAVE_DATE |
		    HEADER_HAVE_MSGID },
		/* Resent-* win when present */
		{ "To: a@example.com\nResent-To: r@example.com\n"
		    "Resent-Bcc: s@example.com\n\n", HEADER_F_EXTRACT,
		    HEADER_END, "r@example.com|s@example.com", 2, 0 },
		/* without -t the fields are not parsed */
		{ "To: \"broken\n\n", 0, HEADER_END, "", 1, 0 },
		{ "to : lower@example.com\nCC: up@example.com\n\n",
		    HEADER_F_EXTRACT, HEADER_END,
		    "lower@example.com|up@example.com", 2, 0 },
	};
	struct header_block h;
	char	 out[1024];
	size_t	 i, k, len;
	int	 r;

	for (i = 0; i < NELEM(tab); i++) {
		header_init(&h, tab[i].flags, 8192);
		r = th_feed(&h, tab[i].in);
		if (tab[i].rcpt == NULL) {
			if (r != -1)
				r = header_finish(&h);
			T_OK(r == -1 && h.err != NULL, "block %zu refused "
			    "(%s)", i, h.err != NULL ? h.err : "accepted");
			header_free(&h);
			continue;
		}
		T_EQ_INT(r, tab[i].end, "block end");
		T_EQ_INT(header_finish(&h), 0, "finish");
		T_EQ_INT((int)h.nf, (int)tab[i].nf, "fields kept");
		T_EQ_INT((int)h.have, (int)tab[i].have, "have");
		T_EQ_STR(th_rcpts(&h, out, sizeof(out)), tab[i].rcpt,
		    "recipients");
		for (k = 0; k < h.nf; k++) {
			len = header_name_len(h.f[k], strlen(h.f[k]));
			T_OK(len != 4 || util_strncasecmp_ascii(h.f[k],
			    "resent-bcc", 3) != 0, "no Bcc field kept");
		}
		header_free(&h);
	}
	header_init(&h, 0, 8192);
	r = header_line(&h, "Subject: a\0b", 12);
	T_OK(r == -1 && strstr(h.err, "NUL") != NULL,
	    "a NUL in the header is refused");
	header_free(&h);
	/* a folded field keeps its line break as CR LF */
	header_init(&h, 0, 8192);
	th_feed(&h, "Subject: one\n\ttwo\nMessage-Id: <a@b>\n\n");
	T_OK(h.nf == 2 && strcmp(h.f[0], "Subject: one\r\n\ttwo") == 0,
	    "folded field joined by CR LF");
	T_EQ_STR(header_value(&h, "message-id"), "<a@b>", "header_value");
	T_OK(header_value(&h, "date") == NULL, "header_value of none");
	T_EQ_INT(header_line(&h, "X: y", 4), -1, "no line after the end");
	header_free(&h);
}

/* th_bounds - header_size_limit and the recipient count */
static void
th_bounds(void)
{
	struct header_block h;
	char	 line[200];
	int	 i, r = HEADER_MORE;

	header_init(&h, 0, 100);
	T_EQ_INT(header_line(&h, "Subject: 0123456789", 19), HEADER_MORE,
	    "within the limit");
	memset(line, 'x', sizeof(line));
	memcpy(line, "X-Long: ", 8);
	T_EQ_INT(header_line(&h, line, 90), -1, "over header_size_limit");
	T_OK(h.err != NULL && strstr(h.err, "header_size_limit") != NULL,
	    "its reason");
	header_free(&h);
	/* many continuation lines add up */
	header_init(&h, 0, 100);
	header_line(&h, "Subject: a", 10);
	for (i = 0; i < 50 && r == HEADER_MORE; i++)
		r = header_line(&h, " b", 2);
	T_EQ_INT(r, -1, "continuations count toward the limit");
	header_free(&h);
	/* HEADER_RCPT_MAX over several fields */
	header_init(&h, HEADER_F_EXTRACT, 10 * 1024 * 1024);
	r = HEADER_MORE;
	for (i = 0; i < HEADER_RCPT_MAX / 1000 + 1 && r == HEADER_MORE;
	    i++) {
		static char f[8192];
		size_t	 n = 4;
		int	 k;

		memcpy(f, "To: ", 4);
		for (k = 0; k < 1000; k++) {
			memcpy(f + n, "a@b.c,", 6);
			n += 6;
		}
		r = header_line(&h, f, n);
	}
	if (r != -1)
		r = header_finish(&h);
	T_OK(r == -1 && strcmp(h.err, "too many addresses") == 0,
	    "at most HEADER_RCPT_MAX recipients");
	header_free(&h);
}

int
main(void)
{
	t_plan(106);
	th_lists();
	th_blocks();
	th_bounds();
	return t_done();
}
