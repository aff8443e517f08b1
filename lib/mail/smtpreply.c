/*
 * smtpreply.c - reading SMTP replies from a remote server, safely.
 *
 * Interface: smtpreply.h.  The parser walks the received bytes one line at
 * a time and never looks further than SMTPREPLY_LINE_MAX + 2 bytes ahead
 * for a line end, so a server that sends an endless line is refused as
 * soon as the limit is passed, not when memory runs out.  An incomplete
 * line is checked as far as it goes (code digits, separator, same code as
 * the lines before) so garbage is refused without waiting for more.
 *
 *	Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *		     Reply-code [ SP textstring ] CRLF		(RFC 5321 4.2)
 *
 * Reply codes are 2xx..5xx.  LF ends a line (a CR before it is dropped);
 * any other byte outside printable ASCII (CR, NUL, TAB, 8-bit) is kept as
 * '?' in the text, which is therefore safe to log and to put in a bounce.
 *
 * Garbled multi-line replies (a bare LF splits a line, a bare CR follows
 * the code): the first line must be a reply line, and it fixes the code;
 * a later line with any other valid code makes the reply malformed (it
 * could be the next reply); a later line that is not a reply line at all
 * is text, counted in garbled; the reply ends at the first well-formed
 * last line ("CODE" or "CODE text").  So a reply whose code cannot be
 * determined is malformed, and one whose every well-formed line agrees
 * has that code; what it is worth is the caller's decision.  Nothing of
 * a garbled line leaves the parser unsanitised.
 * EHLO keywords (RFC 5321 4.1.1.1: ALPHA/DIGIT then ALPHA/DIGIT/"-") are
 * taken from lines 2..n, upper-cased, with their parameters.
 *
 * Errors: -1 for a malformed reply (see the header), 0 for "need more".
 */
#include <string.h>
#include <strings.h>

#include "smtpreply.h"

/* smtpreply_digit - ASCII digit in [lo, '9'] */
static int
smtpreply_digit(int c, int lo)
{
	return c >= lo && c <= '9';
}

/* what a line (or the start of one) is, for smtpreply_prefix */
#define SMTPREPLY_BAD	(-1)	/* malformed: the whole reply is refused */
#define SMTPREPLY_OK	0	/* a reply line (as far as it goes) */
#define SMTPREPLY_JUNK	1	/* not a reply line: garbled */

/*
 * smtpreply_prefix - look at the first n bytes of a line (complete says
 * whether the line ends there) of a reply whose code is code (0: this is
 * the first line).  SMTPREPLY_OK: three digits, a code 200..599, the same
 * as the reply's, then ' ', '-' or the line end; SMTPREPLY_BAD: a valid
 * code other than the reply's; SMTPREPLY_JUNK: anything else.
 */
static int
smtpreply_prefix(const char *p, size_t n, int complete, int code)
{
	size_t	 i;
	int	 c = 0;

	if (complete && n < 3)
		return SMTPREPLY_JUNK;
	for (i = 0; i < n && i < 3; i++) {
		if (!smtpreply_digit((unsigned char)p[i], i == 0 ? '2' : '0') ||
		    (i == 0 && p[i] > '5'))
			return SMTPREPLY_JUNK;
		c = c * 10 + (p[i] - '0');
	}
	if (i == 3 && code != 0 && c != code)
		return SMTPREPLY_BAD;	/* another reply's code, never text */
	if (n > 3 && p[3] != ' ' && p[3] != '-' &&
	    (complete || p[3] != '\r' || n > 4))
		return SMTPREPLY_JUNK;	/* "250\r" may still become "250\r\n" */
	return SMTPREPLY_OK;
}

/* smtpreply_put - append sanitised bytes to the text, bounded */
static void
smtpreply_put(struct smtpreply *r, size_t *tl, const char *p, size_t n)
{
	size_t	 i;
	int	 c;

	for (i = 0; i < n && *tl < SMTPREPLY_TEXT_MAX; i++) {
		c = (unsigned char)p[i];
		r->text[(*tl)++] = c >= 32 && c <= 126 ? (char)c : '?';
	}
	r->text[*tl] = '\0';
}

/* smtpreply_enhanced - "class.subject.detail" at the start of the text */
static void
smtpreply_enhanced(struct smtpreply *r, const char *p, size_t n)
{
	size_t	 i = 0, part, len;

	if (n < 5 || p[0] - '0' != r->code / 100 || p[0] == '3' ||
	    p[1] != '.')
		return;
	for (i = 2, part = 0; part < 2; part++) {
		for (len = 0; i < n && len < 4 &&
		    smtpreply_digit((unsigned char)p[i], '0'); i++)
			len++;
		if (len == 0 || len > 3)
			return;
		if (part == 0 && (i >= n || p[i++] != '.'))
			return;
	}
	if (i < n && p[i] != ' ')
		return;
	memcpy(r->dsn, p, i);
	r->dsn[i] = '\0';
}

/* smtpreply_is_alnum - ASCII letter or digit */
static int
smtpreply_is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    smtpreply_digit(c, '0');
}

/* smtpreply_ext - an EHLO keyword and its parameters from a line's text */
static void
smtpreply_ext(struct smtpreply *r, const char *p, size_t n)
{
	size_t	 kl, i, o;
	int	 c;

	if (r->next >= SMTPREPLY_EXT_MAX)
		return;
	for (kl = 0; kl < n && p[kl] != ' '; kl++)
		if (!smtpreply_is_alnum((unsigned char)p[kl]) &&
		    (kl == 0 || p[kl] != '-'))
			return;
	if (kl == 0 || kl >= sizeof(r->ext[0]))
		return;
	for (i = 0; i < kl; i++) {
		c = (unsigned char)p[i];
		r->ext[r->next][i] = c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
	}
	r->ext[r->next][kl] = '\0';
	for (i = kl; i < n && p[i] == ' '; i++)
		;
	for (o = 0; i < n && o < SMTPREPLY_EXTARG_MAX - 1; i++, o++) {
		c = (unsigned char)p[i];
		r->extarg[r->next][o] = c >= 32 && c <= 126 ? (char)c : '?';
	}
	r->extarg[r->next][o] = '\0';
	r->next++;
}

/*
 * smtpreply_line - one complete line p[0..n) (no line end): fold it into
 * the reply.  Returns 1 for the last line, 0 for more to come, -1 bad.
 * A later line that is not a reply line is kept (sanitised) as text and
 * counted in r->garbled; only a well-formed line ends the reply.
 */
static int
smtpreply_line(struct smtpreply *r, const char *p, size_t n, size_t *tl)
{
	int	 kind;

	if ((kind = smtpreply_prefix(p, n, 1, r->code)) == SMTPREPLY_BAD ||
	    (kind == SMTPREPLY_JUNK && r->nlines == 0))
		return -1;
	if (++r->nlines > SMTPREPLY_LINES_MAX)
		return -1;
	if (r->nlines == 1)
		r->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	else if (*tl < SMTPREPLY_TEXT_MAX) {
		r->text[(*tl)++] = '\n';
		r->text[*tl] = '\0';
	}
	if (kind == SMTPREPLY_JUNK) {
		r->garbled++;
		smtpreply_put(r, tl, p, n);
		return 0;
	}
	if (n > 4) {
		smtpreply_put(r, tl, p + 4, n - 4);
		if (r->nlines == 1)
			smtpreply_enhanced(r, p + 4, n - 4);
		else
			smtpreply_ext(r, p + 4, n - 4);
	}
	return n == 3 || p[3] == ' ';
}

/* smtpreply_parse - bytes used by one complete reply, 0 need more, -1 bad */
long
smtpreply_parse(const char *buf, size_t len, struct smtpreply *r)
{
	const char	*nl;
	size_t		 pos = 0, look, n, tl = 0;
	int		 last;

	memset(r, 0, sizeof(*r));
	while (pos < len) {
		look = len - pos;
		if (look > SMTPREPLY_LINE_MAX + 2)
			look = SMTPREPLY_LINE_MAX + 2;
		if ((nl = memchr(buf + pos, '\n', look)) == NULL) {
			if (look == SMTPREPLY_LINE_MAX + 2 ||
			    r->nlines >= SMTPREPLY_LINES_MAX)
				return -1;
			/* refuse early what can never become a reply */
			last = smtpreply_prefix(buf + pos, look, 0, r->code);
			return last == SMTPREPLY_BAD || (last ==
			    SMTPREPLY_JUNK && r->nlines == 0) ? -1 : 0;
		}
		n = (size_t)(nl - (buf + pos));
		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		if (n > SMTPREPLY_LINE_MAX)
			return -1;
		if ((last = smtpreply_line(r, buf + pos, n, &tl)) == -1)
			return -1;
		pos = (size_t)(nl - buf) + 1;
		if (last)
			return (long)pos;
	}
	return 0;
}

/* smtpreply_has - EHLO reply offers keyword: its parameters, or NULL */
const char *
smtpreply_has(const struct smtpreply *r, const char *kw)
{
	int	 i;

	for (i = 0; i < r->next && i < SMTPREPLY_EXT_MAX; i++)
		if (strcasecmp(r->ext[i], kw) == 0)
			return r->extarg[i];
	return NULL;
}
