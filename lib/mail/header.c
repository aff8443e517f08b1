/*
 * header.c - the header block of a locally submitted message, and the
 * RFC 5322 address-list parser (see header.h).
 *
 * Interface: header_init, header_line, header_finish, header_rcpt,
 * header_value, header_free; header_name_len, header_addr_list.
 * Errors: -1 with a reason (static text) in h->err or *why; nothing here
 * exits because of what a message holds.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "header.h"
#include "util.h"

/* the address-list parser's state */
struct header_ap {
	const char	*s;
	size_t		 len;
	size_t		 i;
	struct buf	 addr;		/* the addr-spec being read */
	int		 toolong;	/* addr overflowed outside < > */
	int		 angle;		/* inside < > */
	int		 had_angle;	/* this mailbox has an angle-addr */
	int		 closed;	/* after its '>' */
	int		 phrase;	/* words apart: a display name */
	int		 group;		/* after "name:" */
	int		 word;		/* the last token was a word */
	int		 space;		/* white space or comment since */
	char		***v;
	size_t		*n;
	size_t		 max;
	const char	*why;
};

#define HEADER_SPECIALS	"()<>[]:;@\\,.\""

/* header_ap_fail - record why, return -1 */
static int
header_ap_fail(struct header_ap *ap, const char *why)
{
	ap->why = why;
	return -1;
}

/* header_ap_reset - forget the mailbox being read */
static void
header_ap_reset(struct header_ap *ap)
{
	buf_reset(&ap->addr);
	ap->toolong = ap->angle = ap->had_angle = ap->closed = 0;
	ap->phrase = ap->word = ap->space = 0;
}

/* header_ap_put - bytes of the addr-spec; too many is an error in < > */
static int
header_ap_put(struct header_ap *ap, const char *p, size_t n)
{
	if (buf_append(&ap->addr, p, n) == 0)
		return 0;
	if (ap->angle)
		return header_ap_fail(ap, "address too long");
	ap->toolong = 1;	/* a long display name is fine before < */
	return 0;
}

/* header_ap_flush - the mailbox is complete: keep its address */
static int
header_ap_flush(struct header_ap *ap)
{
	if (ap->angle)
		return header_ap_fail(ap, "unbalanced angle bracket");
	if (!ap->had_angle && ap->phrase)
		return header_ap_fail(ap, "a display name without an address");
	if (!ap->had_angle && ap->toolong)
		return header_ap_fail(ap, "address too long");
	if (ap->addr.len > 0) {
		if (*ap->n >= ap->max)
			return header_ap_fail(ap, "too many addresses");
		*ap->v = xreallocarray(*ap->v, *ap->n + 1, sizeof(**ap->v));
		(*ap->v)[(*ap->n)++] = xstrndup((const char *)ap->addr.data,
		    ap->addr.len);
	}
	header_ap_reset(ap);
	return 0;
}

/* header_ap_comment - skip a (nested) comment; counts as white space */
static int
header_ap_comment(struct header_ap *ap)
{
	int	 depth = 0;

	for (; ap->i < ap->len; ap->i++) {
		if (ap->s[ap->i] == '\\') {
			ap->i++;
			continue;
		}
		if (ap->s[ap->i] == '(')
			depth++;
		else if (ap->s[ap->i] == ')' && --depth == 0) {
			ap->i++;
			ap->space = 1;
			return 0;
		}
	}
	return header_ap_fail(ap, "unbalanced comment");
}

/*
 * header_ap_word - a word (atom, quoted string or domain literal) of n
 * bytes at p: two words apart are a display name
 */
static int
header_ap_word(struct header_ap *ap, const char *p, size_t n)
{
	if (ap->closed)
		return header_ap_fail(ap, "text after an angle address");
	if (ap->word && ap->space)
		ap->phrase = 1;
	ap->word = 1;
	ap->space = 0;
	return header_ap_put(ap, p, n);
}

/* header_ap_quoted - a quoted string or domain literal up to close */
static int
header_ap_quoted(struct header_ap *ap, char close)
{
	size_t	 start = ap->i;

	for (ap->i++; ap->i < ap->len; ap->i++) {
		if (ap->s[ap->i] == '\\') {
			ap->i++;
			continue;
		}
		if (ap->s[ap->i] == close) {
			ap->i++;
			return header_ap_word(ap, ap->s + start,
			    ap->i - start);
		}
	}
	return header_ap_fail(ap, close == '"' ? "unbalanced quote" :
	    "unbalanced bracket");
}

/* header_ap_colon - a group's start, or the end of a source route */
static int
header_ap_colon(struct header_ap *ap)
{
	if (ap->angle) {
		/* <@relay,@relay:user@domain>: the route goes */
		if (ap->addr.len == 0 || ap->addr.data[0] != '@')
			return header_ap_fail(ap, "':' in an address");
		buf_reset(&ap->addr);
		ap->word = ap->space = 0;
		return 0;
	}
	if (ap->group || ap->had_angle)
		return header_ap_fail(ap, "misplaced ':'");
	ap->group = 1;
	header_ap_reset(ap);	/* the group's name */
	return 0;
}

/* header_ap_special - one of < > : ; , . @ */
static int
header_ap_special(struct header_ap *ap, char c)
{
	switch (c) {
	case '<':
		if (ap->angle || ap->had_angle)
			return header_ap_fail(ap, "unbalanced angle bracket");
		buf_reset(&ap->addr);	/* the display name goes */
		ap->toolong = ap->word = ap->space = 0;
		ap->angle = ap->had_angle = 1;
		return 0;
	case '>':
		if (!ap->angle)
			return header_ap_fail(ap, "unbalanced angle bracket");
		ap->angle = 0;
		ap->closed = 1;
		return 0;
	case ':':
		return header_ap_colon(ap);
	case ';':
		if (ap->angle || !ap->group)
			return header_ap_fail(ap, "';' outside a group");
		ap->group = 0;
		return header_ap_flush(ap);
	case ',':
		if (ap->angle)	/* between the hops of a route */
			return header_ap_put(ap, ",", 1);
		return header_ap_flush(ap);
	default:		/* '.' and '@': white space around is CFWS */
		if (ap->closed)
			return header_ap_fail(ap,
			    "text after an angle address");
		ap->word = ap->space = 0;
		return header_ap_put(ap, &c, 1);
	}
}

/* header_ap_token - the token at ap->i */
static int
header_ap_token(struct header_ap *ap)
{
	unsigned char c = (unsigned char)ap->s[ap->i];
	size_t	 start;

	if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
		ap->i++;
		ap->space = 1;
		return 0;
	}
	if (c < 0x20 || c == 0x7f)
		return header_ap_fail(ap, "a control character in an address");
	if (c == '(')
		return header_ap_comment(ap);
	if (c == '"')
		return header_ap_quoted(ap, '"');
	if (c == '[')
		return header_ap_quoted(ap, ']');
	if (c == ')' || c == ']')
		return header_ap_fail(ap, "unbalanced comment or bracket");
	if (c != '\\' && strchr(HEADER_SPECIALS, c) != NULL) {
		ap->i++;
		return header_ap_special(ap, (char)c);
	}
	/* an atom (a stray backslash is left to the address parser) */
	for (start = ap->i; ap->i < ap->len; ap->i++) {
		c = (unsigned char)ap->s[ap->i];
		if (c <= ' ' || c == 0x7f || (c != '\\' &&
		    strchr(HEADER_SPECIALS, c) != NULL))
			break;
	}
	return header_ap_word(ap, ap->s + start, ap->i - start);
}

/* header_addr_list - see header.h */
int
header_addr_list(const char *s, size_t len, char ***v, size_t *n,
    size_t max, const char **why)
{
	struct header_ap ap;
	int	 r = 0;

	memset(&ap, 0, sizeof(ap));
	ap.s = s;
	ap.len = len;
	ap.v = v;
	ap.n = n;
	ap.max = max;
	buf_init(&ap.addr, HEADER_ADDR_MAX);
	while (r == 0 && ap.i < ap.len)
		r = header_ap_token(&ap);
	if (r == 0)
		r = header_ap_flush(&ap);	/* a group may lack its ';' */
	buf_free(&ap.addr);
	*why = ap.why;
	return r;
}

/* header_name_len - see header.h */
size_t
header_name_len(const char *s, size_t len)
{
	size_t	 n, i;

	for (n = 0; n < len; n++)
		if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] >= 0x7f ||
		    s[n] == ':')
			break;
	if (n == 0)
		return 0;
	for (i = n; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	return i < len && s[i] == ':' ? n : 0;
}

/* header_is - does field f (of name length n) have this name */
static int
header_is(const char *f, size_t n, const char *name)
{
	return strlen(name) == n && util_strncasecmp_ascii(f, name, n) == 0;
}

/* header_init - an empty block; max: header_size_limit */
void
header_init(struct header_block *h, int flags, size_t max)
{
	memset(h, 0, sizeof(*h));
	h->flags = flags;
	h->max = max;
	buf_init(&h->cur, max + 1);
}

/* header_addrs - -t: the addresses of a To/Cc/Bcc field into list */
static int
header_addrs(struct header_block *h, const char *f, size_t len,
    struct header_list *list)
{
	const char *why, *colon = memchr(f, ':', len);
	size_t	 others = h->to.n + h->resent.n - list->n;

	/* colon: header_line took only lines header_name_len accepts */
	if (header_addr_list(colon + 1, len - (size_t)(colon + 1 - f),
	    &list->v, &list->n, HEADER_RCPT_MAX - others, &why) == -1) {
		h->err = why;
		return -1;
	}
	return 0;
}

/* header_field - the field in cur is complete: note it, keep it */
static int
header_field(struct header_block *h)
{
	const char *f = (const char *)h->cur.data;
	size_t	 len = h->cur.len, n;
	int	 resent, bcc;

	if (len == 0)
		return 0;
	n = header_name_len(f, len);
	if (header_is(f, n, "from"))
		h->have |= HEADER_HAVE_FROM;
	else if (header_is(f, n, "date"))
		h->have |= HEADER_HAVE_DATE;
	else if (header_is(f, n, "message-id"))
		h->have |= HEADER_HAVE_MSGID;
	resent = header_is(f, n, "resent-to") || header_is(f, n,
	    "resent-cc") || header_is(f, n, "resent-bcc");
	bcc = header_is(f, n, "bcc") || header_is(f, n, "resent-bcc");
	h->has_resent |= resent;
	if ((h->flags & HEADER_F_EXTRACT) && (resent || bcc ||
	    header_is(f, n, "to") || header_is(f, n, "cc")) &&
	    header_addrs(h, f, len, resent ? &h->resent : &h->to) == -1)
		return -1;
	if (!bcc) {
		h->f = xreallocarray(h->f, h->nf + 1, sizeof(*h->f));
		h->f[h->nf++] = xstrndup(f, len);
	}
	buf_reset(&h->cur);
	return 0;
}

/* header_fail - record why, return -1 */
static int
header_fail(struct header_block *h, const char *why)
{
	h->err = why;
	return -1;
}

/* header_line - see header.h */
int
header_line(struct header_block *h, const char *s, size_t len)
{
	if (h->done)
		return header_fail(h, "the header block has ended");
	if (h->lines++ == 0 && len >= 5 && memcmp(s, "From ", 5) == 0)
		return HEADER_MORE;	/* an mbox separator */
	if (memchr(s, '\0', len) != NULL)
		return header_fail(h, "a NUL in the header");
	if (len == 0 || ((s[0] == ' ' || s[0] == '\t') ? h->cur.len == 0 :
	    header_name_len(s, len) == 0)) {
		if (header_finish(h) == -1)
			return -1;
		return len == 0 ? HEADER_END : HEADER_BODY;
	}
	if (len > h->max || h->bytes + len + 2 > h->max)
		return header_fail(h, "the header is larger than "
		    "header_size_limit");
	h->bytes += len + 2;
	if (s[0] != ' ' && s[0] != '\t' && header_field(h) == -1)
		return -1;
	if ((h->cur.len > 0 && buf_append(&h->cur, "\r\n", 2) == -1) ||
	    buf_append(&h->cur, s, len) == -1)
		return header_fail(h, "the header is larger than "
		    "header_size_limit");
	return HEADER_MORE;
}

/* header_finish - see header.h */
int
header_finish(struct header_block *h)
{
	if (h->err != NULL)
		return -1;
	h->done = 1;
	return header_field(h);
}

/* header_rcpt - see header.h */
char **
header_rcpt(const struct header_block *h, size_t *n)
{
	const struct header_list *l = h->has_resent ? &h->resent : &h->to;

	*n = l->n;
	return l->v;
}

/* header_value - see header.h */
const char *
header_value(const struct header_block *h, const char *name)
{
	const char *v;
	size_t	 i, n;

	for (i = 0; i < h->nf; i++) {
		n = header_name_len(h->f[i], strlen(h->f[i]));
		if (!header_is(h->f[i], n, name))
			continue;
		for (v = strchr(h->f[i], ':') + 1; *v == ' ' || *v == '\t';
		    v++)
			;
		return v;
	}
	return NULL;
}

/* header_list_free - release a list */
static void
header_list_free(struct header_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* header_free - release everything */
void
header_free(struct header_block *h)
{
	size_t	 i;

	for (i = 0; i < h->nf; i++)
		free(h->f[i]);
	free(h->f);
	header_list_free(&h->to);
	header_list_free(&h->resent);
	buf_free(&h->cur);
	memset(h, 0, sizeof(*h));
}
