/*
 * addr.c - RFC 5321 4.1.2 path and mailbox parser.
 *
 * Interface: addr.h.  The parser is a set of scanners over the input that
 * each validate one grammar element and return where it ends; nothing is
 * copied until the whole element is known to be well formed and within its
 * length limit, so the fixed-size fields of struct addr cannot overflow.
 *
 *	Path        = "<" [ A-d-l ":" ] Mailbox ">"
 *	A-d-l       = At-domain *( "," At-domain )	; dropped
 *	Mailbox     = Local-part "@" ( Domain / address-literal )
 *	Local-part  = Dot-string / Quoted-string
 *	Domain      = sub-domain *("." sub-domain)	; LDH, 1-63 each
 *
 * Errors: -1 and an SMTP reply text (see the table in addr.h).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "util.h"

enum addr_err {
	ADDR_E_SYNTAX,
	ADDR_E_BRACKET,
	ADDR_E_8BIT,
	ADDR_E_LOCAL_LONG,
	ADDR_E_DOMAIN_LONG,
	ADDR_E_PATH_LONG,
	ADDR_E_LITERAL
};

/* reply texts: [error][0 = recipient, 1 = sender] */
static const char *const addr_replies[][2] = {
	[ADDR_E_SYNTAX] = { "501 5.1.3 Bad recipient address syntax",
	    "501 5.1.7 Bad sender address syntax" },
	[ADDR_E_BRACKET] = { "501 5.5.4 Syntax: RCPT TO:<address>",
	    "501 5.5.4 Syntax: MAIL FROM:<address>" },
	[ADDR_E_8BIT] = {
	    "553 5.6.7 Non-ASCII addresses not permitted for that recipient",
	    "553 5.6.7 Non-ASCII addresses not permitted for that sender" },
	[ADDR_E_LOCAL_LONG] = { "501 5.1.3 Local part too long",
	    "501 5.1.7 Local part too long" },
	[ADDR_E_DOMAIN_LONG] = { "501 5.1.3 Domain name too long",
	    "501 5.1.7 Domain name too long" },
	[ADDR_E_PATH_LONG] = { "501 5.1.3 Path too long",
	    "501 5.1.7 Path too long" },
	[ADDR_E_LITERAL] = { "553 5.1.2 Unsupported address literal",
	    "553 5.1.8 Unsupported address literal" },
};

/* addr_is_alnum - ASCII letter or digit (locale-independent) */
static int
addr_is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* addr_is_atext - RFC 5322 atext */
static int
addr_is_atext(int c)
{
	if (addr_is_alnum(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* addr_is_qtext - RFC 5321 qtextSMTP: printable ASCII except " and \ */
static int
addr_is_qtext(int c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/* addr_is_dcontent - RFC 5321 dcontent: printable except [ \ ] */
static int
addr_is_dcontent(int c)
{
	return (c >= 33 && c <= 90) || (c >= 94 && c <= 126);
}

/* addr_bad - classify the byte where parsing stopped */
static int
addr_bad(const char *at, int *err)
{
	*err = ((unsigned char)*at & 0x80) ? ADDR_E_8BIT : ADDR_E_SYNTAX;
	return -1;
}

/* addr_scan_domain - Domain at s; *end after it; 0 or -1 with *err */
static int
addr_scan_domain(const char *s, const char **end, int *err)
{
	const char *p = s, *label;

	for (;;) {
		label = p;
		if (!addr_is_alnum((unsigned char)*p))
			return addr_bad(p, err);
		while (addr_is_alnum((unsigned char)*p) || *p == '-') {
			p++;
			if (p - label > 63) {
				*err = ADDR_E_SYNTAX;
				return -1;
			}
		}
		if (p[-1] == '-') {
			*err = ADDR_E_SYNTAX;
			return -1;
		}
		if (p - s > ADDR_DOMAIN_MAX) {
			*err = ADDR_E_DOMAIN_LONG;
			return -1;
		}
		if (*p != '.')
			break;
		p++;
	}
	*end = p;
	return 0;
}

/* addr_valid_tag - Standardized-tag = Ldh-str */
static int
addr_valid_tag(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || !addr_is_alnum((unsigned char)s[len - 1]))
		return 0;
	for (i = 0; i < len; i++)
		if (!addr_is_alnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/*
 * addr_scan_literal - "[...]" at s; the canonical text goes to out
 * (ADDR_DOMAIN_MAX + 1 bytes).
 */
static int
addr_scan_literal(const char *s, const char **end, int *err, char *out)
{
	const char *p = s + 1, *colon = NULL;
	char	 ip[ADDR_DOMAIN_MAX + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t	 len;

	for (; addr_is_dcontent((unsigned char)*p); p++)
		if (*p == ':' && colon == NULL)
			colon = p;
	if (*p != ']')
		return addr_bad(p, err);
	len = (size_t)(p - (s + 1));
	if (len + 2 > ADDR_DOMAIN_MAX) {
		*err = ADDR_E_DOMAIN_LONG;
		return -1;
	}
	*err = ADDR_E_SYNTAX;
	if (colon == NULL) {
		memcpy(ip, s + 1, len);
		ip[len] = '\0';
		if (inet_pton(AF_INET, ip, bin) != 1)
			return -1;
		out[0] = '[';
		memcpy(out + 1, ip, len);
		out[len + 1] = ']';
		out[len + 2] = '\0';
	} else if (colon - (s + 1) == 4 &&
	    util_strncasecmp_ascii(s + 1, "IPv6", 4) == 0) {
		len = (size_t)(p - (colon + 1));
		memcpy(ip, colon + 1, len);
		ip[len] = '\0';
		if (inet_pton(AF_INET6, ip, bin) != 1)
			return -1;
		util_lowercase(ip);
		memcpy(out, "[IPv6:", 6);
		memcpy(out + 6, ip, len);
		out[len + 6] = ']';
		out[len + 7] = '\0';
	} else {
		if (addr_valid_tag(s + 1, (size_t)(colon - (s + 1))) &&
		    colon + 1 < p)
			*err = ADDR_E_LITERAL;
		return -1;
	}
	*end = p + 1;
	return 0;
}

/* addr_scan_local - Dot-string or Quoted-string at s, checked, not copied */
static int
addr_scan_local(const char *s, const char **end, int *quoted, int *err)
{
	const char *p = s;

	*quoted = (*p == '"');
	if (*quoted) {
		for (p++; *p != '"'; p++) {
			if (p - s >= ADDR_LOCAL_MAX) {
				*err = ADDR_E_LOCAL_LONG;
				return -1;
			}
			if (*p == '\\') {
				p++;
				if ((unsigned char)*p < 32 ||
				    (unsigned char)*p > 126)
					return addr_bad(p, err);
			} else if (!addr_is_qtext((unsigned char)*p))
				return addr_bad(p, err);
		}
		p++;
		if (p - s == 2) {		/* "" */
			*err = ADDR_E_SYNTAX;
			return -1;
		}
	} else {
		for (;;) {
			if (!addr_is_atext((unsigned char)*p))
				return addr_bad(p, err);
			while (addr_is_atext((unsigned char)*p))
				p++;
			if (*p != '.')
				break;
			p++;
		}
	}
	if (p - s > ADDR_LOCAL_MAX) {
		*err = ADDR_E_LOCAL_LONG;
		return -1;
	}
	*end = p;
	return 0;
}

/* addr_copy_local - decode a scanned local part [s, e) into out */
static void
addr_copy_local(const char *s, const char *e, int quoted, char *out)
{
	size_t	 n = 0;

	if (quoted) {
		s++;
		e--;
	}
	for (; s < e; s++) {
		if (quoted && *s == '\\')
			s++;
		out[n++] = *s;
	}
	out[n] = '\0';
}

/*
 * addr_scan_mailbox - Local-part "@" (Domain / literal) at s into a; a
 * Local-part alone followed by '>' is accepted with ADDR_F_LOCAL_OK, and
 * a bare "postmaster" with ADDR_F_POSTMASTER_OK (domain left "")
 */
static int
addr_scan_mailbox(const char *s, int flags, struct addr *a,
    const char **end, int *err)
{
	const char *p, *le, *de;

	if (addr_scan_local(s, &le, &a->quoted, err) == -1)
		return -1;
	addr_copy_local(s, le, a->quoted, a->local);
	p = le;
	if (*p != '@') {
		if (*p == '>' && ((flags & ADDR_F_LOCAL_OK) ||
		    ((flags & ADDR_F_POSTMASTER_OK) && !a->quoted &&
		    util_strcasecmp_ascii(a->local, "postmaster") == 0))) {
			*end = p;
			return 0;
		}
		return addr_bad(p, err);
	}
	p++;
	if (*p == '[') {
		if (addr_scan_literal(p, &de, err, a->domain) == -1)
			return -1;
		a->literal = 1;
	} else {
		if (addr_scan_domain(p, &de, err) == -1)
			return -1;
		memcpy(a->domain, p, (size_t)(de - p));
		a->domain[de - p] = '\0';
		util_lowercase(a->domain);
	}
	*end = de;
	return 0;
}

/* addr_scan_route - A-d-l ":" at s (s points at the first '@') */
static int
addr_scan_route(const char *s, const char **end, int *err)
{
	const char *p = s;

	for (;;) {
		if (*p != '@')
			return addr_bad(p, err);
		if (addr_scan_domain(p + 1, &p, err) == -1)
			return -1;
		if (*p == ':')
			break;
		if (*p != ',')
			return addr_bad(p, err);
		p++;
	}
	*end = p + 1;
	return 0;
}

/* addr_fail - set *why for err in the sender or recipient flavour */
static int
addr_fail(int err, int sender, const char **why)
{
	if (why != NULL)
		*why = addr_replies[err][sender ? 1 : 0];
	return -1;
}

/* addr_parse_bare - the LENIENT form without <>: mailbox up to white space */
static int
addr_parse_bare(const char *s, int flags, struct addr *a, const char **rest,
    int *err)
{
	const char *e;
	char	 tmp[ADDR_PATH_MAX + 3];
	size_t	 len;

	len = strcspn(s, " \t");
	if (len > ADDR_PATH_MAX) {
		*err = ADDR_E_PATH_LONG;
		return -1;
	}
	/* scan a copy that ends in '>' so postmaster works the same way */
	memcpy(tmp, s, len);
	tmp[len] = '>';
	tmp[len + 1] = '\0';
	if (addr_scan_mailbox(tmp, flags & (ADDR_F_POSTMASTER_OK |
	    ADDR_F_LOCAL_OK), a, &e, err) == -1)
		return -1;
	if (e != tmp + len)
		return addr_bad(s + (e - tmp), err);
	if (rest != NULL)
		*rest = s + len;
	return 0;
}

/* addr_parse_path - see addr.h */
int
addr_parse_path(const char *s, int flags, struct addr *a, const char **rest,
    const char **why)
{
	const char *p, *start;
	int	 err, sender;

	sender = (flags & (ADDR_F_SENDER | ADDR_F_NULL_OK)) != 0;
	memset(a, 0, sizeof(*a));
	for (p = s; *p == ' ' || *p == '\t'; p++)
		;
	if (*p != '<') {
		if (!(flags & ADDR_F_LENIENT))
			return addr_fail(ADDR_E_BRACKET, sender, why);
		if (addr_parse_bare(p, flags, a, rest, &err) == -1) {
			memset(a, 0, sizeof(*a));
			return addr_fail(err, sender, why);
		}
		return 0;
	}
	start = ++p;
	if (*p == '>') {
		if (!(flags & ADDR_F_NULL_OK))
			return addr_fail(ADDR_E_SYNTAX, sender, why);
		a->null = 1;
		if (rest != NULL)
			*rest = p + 1;
		return 0;
	}
	if (*p == '@') {
		if (addr_scan_route(p, &p, &err) == -1)
			goto bad;
		a->routed = 1;
	}
	/* a source route must lead to a whole mailbox */
	if (addr_scan_mailbox(p, flags & (ADDR_F_POSTMASTER_OK |
	    (a->routed ? 0 : ADDR_F_LOCAL_OK)), a, &p, &err) == -1)
		goto bad;
	if (*p != '>') {
		addr_bad(p, &err);
		goto bad;
	}
	if (p - start > ADDR_PATH_MAX) {
		err = ADDR_E_PATH_LONG;
		goto bad;
	}
	if (rest != NULL)
		*rest = p + 1;
	return 0;
bad:
	memset(a, 0, sizeof(*a));
	return addr_fail(err, sender, why);
}

/* addr_parse_mailbox - see addr.h */
int
addr_parse_mailbox(const char *s, struct addr *a, const char **why)
{
	const char *e;
	int	 err;

	memset(a, 0, sizeof(*a));
	if (addr_scan_mailbox(s, 0, a, &e, &err) == -1)
		goto bad;
	if (*e != '\0') {
		addr_bad(e, &err);
		goto bad;
	}
	if (e - s > ADDR_PATH_MAX) {
		err = ADDR_E_PATH_LONG;
		goto bad;
	}
	return 0;
bad:
	memset(a, 0, sizeof(*a));
	return addr_fail(err, 0, why);
}

/* addr_valid_domain - see addr.h */
int
addr_valid_domain(const char *s)
{
	const char *e;
	int	 err;

	if (addr_scan_domain(s, &e, &err) == -1)
		return 0;
	return *e == '\0';
}

/* addr_valid_local - see addr.h */
int
addr_valid_local(const char *s)
{
	const char *e;
	int	 err, quoted;

	if (*s == '"' || addr_scan_local(s, &e, &quoted, &err) == -1)
		return 0;
	return *e == '\0';
}

/* addr_has_routing - see addr.h */
int
addr_has_routing(const struct addr *a)
{
	return strpbrk(a->local, "@%!") != NULL;
}

/* addr_put - append one byte to a bounded output, counting all bytes */
static void
addr_put(char *buf, size_t size, size_t *n, int c)
{
	if (*n + 1 < size)
		buf[*n] = (char)c;
	(*n)++;
}

/* addr_same - see addr.h */
int
addr_same(const char *a, const char *b, int fold_local)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');
	size_t	 la, lb;

	la = at_a != NULL ? (size_t)(at_a - a) : strlen(a);
	lb = at_b != NULL ? (size_t)(at_b - b) : strlen(b);
	if (la != lb || (at_a == NULL) != (at_b == NULL))
		return 0;
	if (at_a != NULL && util_strcasecmp_ascii(at_a + 1, at_b + 1) != 0)
		return 0;
	if (!fold_local)
		return memcmp(a, b, la) == 0;
	return util_strncasecmp_ascii(a, b, la) == 0;
}

/* addr_base_local - see addr.h */
int
addr_base_local(const char *lp, const char *delims, char *out, size_t len)
{
	size_t	 n;

	if (delims == NULL || *delims == '\0')
		return -1;
	n = strcspn(lp, delims);
	if (n == 0 || lp[n] == '\0' || n >= len)
		return -1;
	memcpy(out, lp, n);
	out[n] = '\0';
	return 0;
}

/* addr_dotstring - 1 when s can be written unquoted (any length) */
static int
addr_dotstring(const char *s)
{
	if (!addr_is_atext((unsigned char)*s))
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (!addr_is_atext((unsigned char)s[1]))
				return 0;
		} else if (!addr_is_atext((unsigned char)*s))
			return 0;
	}
	return 1;
}

/* addr_format - see addr.h */
size_t
addr_format(const struct addr *a, char *buf, size_t size)
{
	const char *s;
	size_t	 n = 0;
	int	 q;

	if (!a->null) {
		q = !addr_dotstring(a->local);
		if (q)
			addr_put(buf, size, &n, '"');
		for (s = a->local; *s != '\0'; s++) {
			if (q && (*s == '"' || *s == '\\'))
				addr_put(buf, size, &n, '\\');
			addr_put(buf, size, &n, *s);
		}
		if (q)
			addr_put(buf, size, &n, '"');
		if (a->domain[0] != '\0') {
			addr_put(buf, size, &n, '@');
			for (s = a->domain; *s != '\0'; s++)
				addr_put(buf, size, &n, *s);
		}
	}
	if (size > 0)
		buf[n < size ? n : size - 1] = '\0';
	return n;
}

/* addr_local - see addr.h */
int
addr_local(const char *text, int flags, const char *origin, char *out,
    const char **why)
{
	struct addr a;
	char	 path[ADDR_LOCAL_TEXT_MAX + 3];
	const char *rest = NULL;

	*why = NULL;
	if (strlen(text) > ADDR_LOCAL_TEXT_MAX)
		goto bad;
	if (text[0] != '<') {
		util_fmt(path, sizeof(path), "<%s>", text);
		text = path;
	}
	if (addr_parse_path(text, flags | ADDR_F_LOCAL_OK, &a, &rest,
	    why) == -1 || *rest != '\0')
		goto bad;
	if (!a.null && a.domain[0] == '\0' && origin != NULL &&
	    *origin != '\0') {
		if (util_strlcpy(a.domain, origin, sizeof(a.domain)) >=
		    sizeof(a.domain)) {
			*why = "501 5.1.3 Domain name too long";
			return -1;
		}
		util_lowercase(a.domain);
	}
	addr_format(&a, out, ADDR_BUFSZ);
	return 0;
bad:
	if (*why == NULL)
		*why = (flags & (ADDR_F_SENDER | ADDR_F_NULL_OK)) ?
		    "501 5.1.7 Bad sender address syntax" :
		    "501 5.1.3 Bad recipient address syntax";
	return -1;
}

/* addr_pattern_ok - see addr.h */
int
addr_pattern_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	 len = strlen(s);

	if (strcmp(s, "<>") == 0)
		return 1;
	if (len == 0 || len > ADDR_TEXT_MAX || strcmp(s, "@") == 0)
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return 0;
	return 1;
}

/* addr_pattern_match - see addr.h */
int
addr_pattern_match(const char *pat, const char *addr)
{
	const char *pat_at = strrchr(pat, '@'), *at = strrchr(addr, '@');
	size_t	 n;

	if (strcmp(pat, "<>") == 0)
		return *addr == '\0';
	if (*addr == '\0')
		return 0;
	if (pat_at == NULL)		/* domain */
		return at != NULL && util_strcasecmp_ascii(at + 1, pat) == 0;
	if (pat_at == pat)		/* @domain */
		return at != NULL && util_strcasecmp_ascii(at + 1, pat + 1) ==
		    0;
	n = (size_t)(pat_at - pat);
	if (pat_at[1] == '\0')		/* user@ */
		return (at != NULL ? (size_t)(at - addr) : strlen(addr)) == n &&
		    util_strncasecmp_ascii(addr, pat, n) == 0;
	return util_strcasecmp_ascii(addr, pat) == 0;
}
