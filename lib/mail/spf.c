/*
 * spf.c - SPF records (RFC 7208): parser, lookup count, check_host().
 *
 * Interface and limits: spf.h.  The parser follows the ABNF of RFC 7208
 * 12 (terms separated by spaces, modifiers name=value, mechanisms with an
 * optional qualifier, domain-specs as macro-strings, CIDR lengths without
 * leading zeros); anything else is a permanent error, as receivers treat
 * it.  Evaluation follows section 4.6 and 5, with the limits of 4.6.4.
 *
 * Errors: see spf.h.  Nothing here is fatal: every answer from the
 * lookup function is outside data and is checked before use.
 *
 * Longer than the 800 lines STYLE.md aims at: the parser, the lookup
 * count and check_host() share the term table and the macro expansion,
 * which split into files would become an interface of their own.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spf.h"
#include "util.h"

#define SPF_NAME_MAX	253
#define SPF_MX_MAX	10

struct spf_ctx {
	const struct spf_dns *dns;
	int		 family;	/* AF_INET, AF_INET6; 0 for spf_count */
	unsigned char	 ip[16];
	const char	*ipstr;
	const char	*sender;
	int		 lookups;
	int		 voids;
	int		 depth;		/* of spf_host calls */
	char		*why;
	size_t		 whylen;
};

static const struct {
	const char	*name;
	int		 mech;
} spf_mechs[] = {
	{ "all", SPF_M_ALL }, { "include", SPF_M_INCLUDE }, { "a", SPF_M_A },
	{ "mx", SPF_M_MX }, { "ptr", SPF_M_PTR }, { "ip4", SPF_M_IP4 },
	{ "ip6", SPF_M_IP6 }, { "exists", SPF_M_EXISTS },
};

static int	 spf_host(struct spf_ctx *, const char *);

/* spf_is_alpha - an ASCII letter */
static int
spf_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* spf_is_digit - an ASCII digit */
static int
spf_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* spf_name_char - ALPHA / DIGIT / "-" / "_" / "." (modifier names) */
static int
spf_name_char(int c)
{
	return spf_is_alpha(c) || spf_is_digit(c) || c == '-' || c == '_' ||
	    c == '.';
}

/* spf_is_record - see spf.h */
int
spf_is_record(const char *s, size_t len)
{
	return len >= 6 && util_strncasecmp_ascii(s, "v=spf1", 6) == 0 &&
	    (len == 6 || s[6] == ' ');
}

/* spf_result_name - see spf.h */
const char *
spf_result_name(int r)
{
	static const char *const names[] = { "none", "neutral", "pass",
	    "fail", "softfail", "temperror", "permerror" };

	return r >= 0 && (size_t)r < NELEM(names) ? names[r] : "?";
}

/* spf_macro_len - length of the macro-expand at s (s[0] is '%'), 0 bad */
static size_t
spf_macro_len(const char *s, size_t len)
{
	size_t	 i;

	if (len >= 2 && (s[1] == '%' || s[1] == '_' || s[1] == '-'))
		return 2;
	if (len < 4 || s[1] != '{' ||
	    strchr("slodiphcrtvSLODIPHCRTV", s[2]) == NULL || s[2] == '\0')
		return 0;
	if (s[3] == '0')
		return 0;	/* "right-hand parts" count 1 and up */
	for (i = 3; i < len && spf_is_digit((unsigned char)s[i]); i++)
		;
	if (i < len && (s[i] == 'r' || s[i] == 'R'))
		i++;
	for (; i < len && s[i] != '}'; i++)
		if (strchr(".-+,/_=", s[i]) == NULL || s[i] == '\0')
			return 0;
	return i < len ? i + 1 : 0;
}

/*
 * spf_macro_scan - walk a macro-string: where its first '/' outside a
 * macro is (len when none), and *bad set when a macro is malformed (then
 * read as one byte) or a byte is not visible ASCII
 */
static size_t
spf_macro_scan(const char *s, size_t len, int *bad)
{
	size_t	 i, m, slash = len;

	*bad = 0;
	for (i = 0; i < len; i += m) {
		m = 1;
		if (s[i] == '%' && (m = spf_macro_len(s + i, len - i)) == 0) {
			m = 1;
			*bad = 1;
		} else if (s[i] != '%' && (s[i] < 0x21 || s[i] > 0x7e))
			*bad = 1;
		else if (s[i] == '/' && slash == len)
			slash = i;
	}
	return slash;
}

/* spf_macro_string - visible ASCII and well-formed macros: 0 or -1 */
static int
spf_macro_string(const char *s, size_t len)
{
	int	 bad;

	(void)spf_macro_scan(s, len, &bad);
	return bad ? -1 : 0;
}

/* spf_domain_spec - a non-empty macro-string; copied into *out */
static int
spf_domain_spec(const char *s, size_t len, char **out)
{
	if (len == 0 || len > SPF_NAME_MAX * 2 || spf_macro_string(s, len) ==
	    -1 || memchr(s, '/', len) != NULL)
		return -1;
	*out = xstrndup(s, len);
	return 0;
}

/* spf_cidr - "/N" with N in 0..max, no leading zero: N or -1 */
static int
spf_cidr(const char *s, size_t len, int max)
{
	long long v;
	char	 b[4];

	if (len < 2 || len > 4 || s[0] != '/' || (s[1] == '0' && len > 2))
		return -1;
	memcpy(b, s + 1, len - 1);
	b[len - 1] = '\0';
	if (util_parse_ll(b, 0, max, &v) == -1 || !spf_is_digit(b[0]))
		return -1;
	return (int)v;
}

/* spf_slash - where the CIDR part of a mechanism argument starts */
static size_t
spf_slash(const char *s, size_t len)
{
	int	 bad;

	return spf_macro_scan(s, len, &bad);
}

/* spf_dual_cidr - [ "/" ip4-cidr ] [ "//" ip6-cidr ] of a and mx */
static int
spf_dual_cidr(const char *s, size_t len, struct spf_term *t)
{
	const char *dd;

	if (len == 0)
		return 0;
	dd = len >= 2 ? strstr(s, "//") : NULL;
	if (dd != NULL && dd >= s + len)
		dd = NULL;
	if (dd == NULL)
		return (t->cidr4 = spf_cidr(s, len, 32)) == -1 ? -1 : 0;
	if (dd > s && (t->cidr4 = spf_cidr(s, (size_t)(dd - s), 32)) == -1)
		return -1;
	return (t->cidr6 = spf_cidr(dd + 1, len - (size_t)(dd - s) - 1,
	    128)) == -1 ? -1 : 0;
}

/* spf_ip - ip4:/ip6: network and optional CIDR length */
static int
spf_ip(const char *s, size_t len, struct spf_term *t)
{
	char	 a[64];
	size_t	 sl = spf_slash(s, len);
	int	 v6 = t->mech == SPF_M_IP6;

	if (sl == 0 || sl >= sizeof(a))
		return -1;
	memcpy(a, s, sl);
	a[sl] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, a, t->net) != 1)
		return -1;
	if (sl == len)
		return 0;
	if (v6)
		return (t->cidr6 = spf_cidr(s + sl, len - sl, 128)) == -1 ?
		    -1 : 0;
	return (t->cidr4 = spf_cidr(s + sl, len - sl, 32)) == -1 ? -1 : 0;
}

/* spf_mech_arg - the part after the mechanism name: ":spec", "/cidr" */
static int
spf_mech_arg(const char *s, size_t len, struct spf_term *t)
{
	size_t	 sl;

	switch (t->mech) {
	case SPF_M_ALL:
		return len == 0 ? 0 : -1;
	case SPF_M_IP4:
	case SPF_M_IP6:
		return len < 2 || s[0] != ':' ? -1 : spf_ip(s + 1, len - 1, t);
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
		return len < 2 || s[0] != ':' ? -1 :
		    spf_domain_spec(s + 1, len - 1, &t->domain);
	case SPF_M_PTR:
		if (len == 0)
			return 0;
		return s[0] != ':' ? -1 : spf_domain_spec(s + 1, len - 1,
		    &t->domain);
	default:		/* a, mx */
		if (len == 0)
			return 0;
		if (s[0] == '/')
			return spf_dual_cidr(s, len, t);
		if (s[0] != ':')
			return -1;
		sl = spf_slash(s + 1, len - 1) + 1;
		if (spf_domain_spec(s + 1, sl - 1, &t->domain) == -1)
			return -1;
		return spf_dual_cidr(s + sl, len - sl, t);
	}
}

/* spf_modifier - name=value; redirect and exp at most once */
static int
spf_modifier(const char *s, size_t nl, size_t len, struct spf_record *r,
    const char **why)
{
	char	**slot = NULL;

	if (nl == 8 && util_strncasecmp_ascii(s, "redirect", 8) == 0)
		slot = &r->redirect;
	else if (nl == 3 && util_strncasecmp_ascii(s, "exp", 3) == 0)
		slot = &r->exp;
	if (slot == NULL) {
		*why = "malformed modifier";
		return spf_macro_string(s + nl + 1, len - nl - 1);
	}
	if (*slot != NULL) {
		*why = "redirect= or exp= given twice";
		return -1;
	}
	*why = "malformed redirect= or exp=";
	return spf_domain_spec(s + nl + 1, len - nl - 1, slot);
}

/* spf_term - one term into r; -1 with why */
static int
spf_term(const char *s, size_t len, struct spf_record *r, const char **why)
{
	struct spf_term *t;
	const char *s0 = s;
	size_t	 nl, i, len0 = len;

	for (nl = 0; nl < len && spf_name_char((unsigned char)s[nl]); nl++)
		;
	if (nl > 0 && nl < len && s[nl] == '=' && spf_is_alpha(s[0]))
		return spf_modifier(s, nl, len, r, why);
	if (r->n >= SPF_TERMS_MAX) {
		*why = "too many terms";
		return -1;
	}
	t = &r->t[r->n];
	memset(t, 0, sizeof(*t));
	t->qual = '+';
	t->cidr4 = 32;
	t->cidr6 = 128;
	if (len > 0 && strchr("+-~?", s[0]) != NULL) {
		t->qual = s[0];
		s++;
		len--;
	}
	for (nl = 0; nl < len && s[nl] != ':' && s[nl] != '/'; nl++)
		;
	for (i = 0; i < NELEM(spf_mechs) && t->mech == 0; i++)
		if (strlen(spf_mechs[i].name) == nl &&
		    util_strncasecmp_ascii(s, spf_mechs[i].name, nl) == 0)
			t->mech = spf_mechs[i].mech;
	*why = t->mech == 0 ? "unknown mechanism" : "malformed mechanism";
	if (t->mech == 0 || spf_mech_arg(s + nl, len - nl, t) == -1) {
		free(t->domain);
		return -1;
	}
	t->text = xstrndup(s0, len0);
	r->n++;
	return 0;
}

/* spf_parse - see spf.h */
int
spf_parse(const char *s, size_t len, struct spf_record *r, char *err,
    size_t errlen)
{
	const char *why = NULL;
	size_t	 i, e;

	memset(r, 0, sizeof(*r));
	if (len > SPF_RECORD_MAX || !spf_is_record(s, len)) {
		util_fmt(err, errlen, "%s", len > SPF_RECORD_MAX ?
		    "record too long" : "not an SPF record (v=spf1)");
		return -1;
	}
	r->t = xcalloc(SPF_TERMS_MAX, sizeof(*r->t));
	for (i = 6; i < len; i = e) {
		while (i < len && s[i] == ' ')
			i++;
		for (e = i; e < len && s[e] != ' '; e++)
			;
		if (e > i && spf_term(s + i, e - i, r, &why) == -1) {
			util_fmt(err, errlen, "%s \"%.*s\"", why,
			    (int)(e - i > 64 ? 64 : e - i), s + i);
			spf_record_free(r);
			return -1;
		}
	}
	return 0;
}

/* spf_record_free - the terms and strings */
void
spf_record_free(struct spf_record *r)
{
	size_t	 i;

	for (i = 0; r->t != NULL && i < r->n; i++) {
		free(r->t[i].domain);
		free(r->t[i].text);
	}
	free(r->t);
	free(r->redirect);
	free(r->exp);
	memset(r, 0, sizeof(*r));
}

/* spf_why - the reason, unless one is set already; returns result */
static int __attribute__((format(printf, 3, 4)))
spf_why(struct spf_ctx *c, int result, const char *fmt, ...)
{
	va_list	 ap;

	if (c->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->why, c->whylen, fmt, ap);
		va_end(ap);
	}
	return result;
}

/* spf_fetch - the one SPF record of domain, parsed: SPF_PASS or why not */
static int
spf_fetch(struct spf_ctx *c, const char *domain, struct spf_record *rec)
{
	char	**v = NULL, err[256];
	size_t	 n = 0, i, k = 0;
	int	 r;

	r = c->dns->lookup(c->dns->arg, domain, SPF_Q_TXT, &v, &n);
	if (r == -1)
		return spf_why(c, SPF_TEMPERROR, "TXT lookup of %s failed",
		    domain);
	for (i = 0; r == 0 && i < n; i++)
		if (spf_is_record(v[i], strlen(v[i])))
			k = k == 0 ? i + 1 : (size_t)-1;
	if (k == 0)
		r = spf_why(c, SPF_NONE, "%s has no SPF record", domain);
	else if (k == (size_t)-1)
		r = spf_why(c, SPF_PERMERROR, "%s has more than one SPF record",
		    domain);
	else if (spf_parse(v[k - 1], strlen(v[k - 1]), rec, err,
	    sizeof(err)) == -1) {
		util_strlcat(err, " in the record of ", sizeof(err));
		r = spf_why(c, SPF_PERMERROR, "%s", err);
		util_strlcat(c->why, domain, c->whylen);
	} else
		r = SPF_PASS;
	util_strv_free(v, n);
	return r;
}

/* spf_ip_dots - %{i}: dotted quad, or IPv6 nibbles separated by dots */
static void
spf_ip_dots(const struct spf_ctx *c, struct buf *b)
{
	static const char hex[] = "0123456789abcdef";
	int	 i;

	if (c->family == AF_INET) {
		buf_printf(b, "%u.%u.%u.%u", c->ip[0], c->ip[1], c->ip[2],
		    c->ip[3]);
		return;
	}
	for (i = 0; i < 16; i++)
		buf_printf(b, "%s%c.%c", i > 0 ? "." : "", hex[c->ip[i] >> 4],
		    hex[c->ip[i] & 15]);
}

/* spf_letter - the value of one macro letter; -1 when it needs the IP */
static int
spf_letter(const struct spf_ctx *c, int l, const char *domain, struct buf *b)
{
	const char *at = strrchr(c->sender, '@');

	switch (util_tolower_ascii(l)) {
	case 's':
		return buf_puts(b, c->sender);
	case 'l':
		return at == NULL ? buf_puts(b, "postmaster") :
		    buf_append(b, c->sender, (size_t)(at - c->sender));
	case 'o':
		return buf_puts(b, at == NULL ? c->sender : at + 1);
	case 'd':
	case 'h':
		return buf_puts(b, domain);
	case 'p':
		return buf_puts(b, "unknown");
	case 'i':
		if (c->family == 0)
			return -1;
		spf_ip_dots(c, b);
		return 0;
	case 'v':
		if (c->family == 0)
			return -1;
		return buf_puts(b, c->family == AF_INET ? "in-addr" : "ip6");
	default:
		return -1;	/* c r t: only in exp= */
	}
}

/* spf_transform - split on delims, reverse, keep the right n, join "." */
static void
spf_transform(const char *v, size_t n, int rev, const char *delims,
    struct buf *out)
{
	const char *part[128];
	size_t	 len[128], k = 0, i, j, s;
	int	 first = 1;

	for (i = s = 0; k < NELEM(part); i++)
		if (v[i] == '\0' || strchr(delims, v[i]) != NULL) {
			part[k] = v + s;
			len[k++] = i - s;
			s = i + 1;
			if (v[i] == '\0')
				break;
		}
	for (i = 0; i < k; i++) {
		if (k - i > n)	/* keep the n right-hand parts */
			continue;
		j = rev ? k - 1 - i : i;
		if (!first)
			buf_putc(out, '.');
		first = 0;
		buf_append(out, part[j], len[j]);
	}
}

/* spf_macro - one %{...} into out; -1 when it cannot be expanded */
static int
spf_macro(const struct spf_ctx *c, const char *m, size_t ml,
    const char *domain, struct buf *out)
{
	struct buf v;
	char	 delims[8] = "", num[8];
	size_t	 i, dn = 0;
	long long n = 128;
	int	 rev = 0, r = 0;

	buf_init(&v, 1024);
	if (spf_letter(c, m[2], domain, &v) == -1) {
		buf_free(&v);
		return -1;
	}
	for (i = 3; i < ml - 1 && spf_is_digit(m[i]); i++)
		;
	/* a digit transformer: 1..128 right-hand parts (0 is not allowed) */
	if (i > 3 && i - 3 >= sizeof(num))
		r = -1;
	else if (i > 3) {
		memcpy(num, m + 3, i - 3);
		num[i - 3] = '\0';
		if (util_parse_ll(num, 1, 128, &n) == -1)
			r = -1;
	}
	if (i < ml - 1 && (m[i] == 'r' || m[i] == 'R')) {
		rev = 1;
		i++;
	}
	for (; i < ml - 1 && dn + 1 < sizeof(delims); i++)
		delims[dn++] = m[i];
	if (dn == 0)
		delims[dn++] = '.';
	delims[dn] = '\0';
	if (r == 0)
		spf_transform(buf_cstr(&v), (size_t)n, rev, delims, out);
	buf_free(&v);
	return r;
}

/*
 * spf_expand - a domain-spec with its macros expanded into out (at most
 * 253 bytes: labels are cut from the left); 0, -1 permerror, 1 when it
 * needs the address and there is none (spf_count)
 */
static int
spf_expand(const struct spf_ctx *c, const char *spec, const char *domain,
    char *out, size_t size)
{
	struct buf b;
	const char *s;
	size_t	 i, m, len = strlen(spec);
	int	 r = 0;

	buf_init(&b, 4096);
	for (i = 0; i < len && r == 0; i += m) {
		m = 1;
		if (spec[i] != '%')
			r = buf_putc(&b, spec[i]);
		else if ((m = spf_macro_len(spec + i, len - i)) == 2)
			r = buf_puts(&b, spec[i + 1] == '%' ? "%" :
			    spec[i + 1] == '_' ? " " : "%20");
		else if (m == 0)
			r = -1;
		else if (spf_macro(c, spec + i, m, domain, &b) == -1)
			r = c->family == 0 ? 1 : -1;
	}
	s = buf_cstr(&b);
	while (r == 0 && strlen(s) > SPF_NAME_MAX && strchr(s, '.') != NULL)
		s = strchr(s, '.') + 1;
	if (r == 0 && util_fmt(out, size, "%s", s) == -1)
		r = -1;
	buf_free(&b);
	return r;
}

/* spf_target - the domain a mechanism names, expanded; SPF_PASS or error */
static int
spf_target(struct spf_ctx *c, const char *spec, const char *domain,
    char *out, size_t size)
{
	if (spec == NULL)
		return util_fmt(out, size, "%s", domain) == -1 ?
		    SPF_PERMERROR : SPF_PASS;
	if (spf_expand(c, spec, domain, out, size) != 0)
		return spf_why(c, SPF_PERMERROR, "cannot expand \"%s\"", spec);
	return SPF_PASS;
}

/* spf_in_net - ip within net/bits (same family, 4 or 16 bytes) */
static int
spf_in_net(const unsigned char *ip, const unsigned char *net, int bits)
{
	int	 full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(ip, net, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (ip[full] & mask) == (net[full] & mask);
}

/* spf_void - a lookup that found nothing: no match, PERMERROR past 2 */
static int
spf_void(struct spf_ctx *c, const char *name)
{
	if (++c->voids > SPF_VOID_MAX)
		return spf_why(c, SPF_PERMERROR, "more than 2 lookups found "
		    "nothing (the last: %s)", name);
	return SPF_PASS;
}

/* spf_addr_match - does name have the address (A or AAAA, with cidr) */
static int
spf_addr_match(struct spf_ctx *c, const char *name, const struct spf_term *t,
    int *hit)
{
	unsigned char a[16];
	char	**v = NULL;
	size_t	 n = 0, i;
	int	 r, v6 = c->family == AF_INET6;

	r = c->dns->lookup(c->dns->arg, name, v6 ? SPF_Q_AAAA : SPF_Q_A, &v,
	    &n);
	if (r == -1)
		return spf_why(c, SPF_TEMPERROR, "address lookup of %s failed",
		    name);
	for (i = 0; r == 0 && i < n && !*hit; i++)
		if (inet_pton(c->family, v[i], a) == 1 &&
		    spf_in_net(c->ip, a, v6 ? t->cidr6 : t->cidr4))
			*hit = 1;
	util_strv_free(v, n);
	return r == 1 ? SPF_NONE : SPF_PASS;
}

/* spf_mx_match - one of name's MX hosts has the address */
static int
spf_mx_match(struct spf_ctx *c, const char *name, const struct spf_term *t,
    int *hit)
{
	char	**v = NULL;
	size_t	 n = 0, i;
	int	 r;

	r = c->dns->lookup(c->dns->arg, name, SPF_Q_MX, &v, &n);
	if (r == -1)
		return spf_why(c, SPF_TEMPERROR, "MX lookup of %s failed", name);
	if (r == 1 || n == 0) {
		util_strv_free(v, n);
		return spf_void(c, name);
	}
	if (n > SPF_MX_MAX) {
		util_strv_free(v, n);
		return spf_why(c, SPF_PERMERROR, "%s has more than 10 MX "
		    "records", name);
	}
	for (i = 0, r = SPF_PASS; i < n && !*hit && r != SPF_TEMPERROR; i++)
		r = spf_addr_match(c, v[i], t, hit);
	util_strv_free(v, n);
	return r == SPF_TEMPERROR ? r : SPF_PASS;
}

/* spf_include - include: the included domain's result decides a match */
static int
spf_include(struct spf_ctx *c, const char *name, int *hit)
{
	switch (spf_host(c, name)) {
	case SPF_PASS:
		*hit = 1;
		return SPF_PASS;
	case SPF_TEMPERROR:
		return SPF_TEMPERROR;
	case SPF_NONE:
		return spf_why(c, SPF_PERMERROR, "include:%s has no SPF record",
		    name);
	case SPF_PERMERROR:
		return SPF_PERMERROR;
	default:
		return SPF_PASS;	/* fail, softfail, neutral: no match */
	}
}

/* spf_match - one mechanism: SPF_PASS (with *hit) or an error result */
static int
spf_match(struct spf_ctx *c, const struct spf_term *t, const char *domain,
    int *hit)
{
	char	 name[SPF_NAME_MAX + 1], **v = NULL;
	size_t	 n = 0;
	int	 r;

	*hit = 0;
	if (t->mech == SPF_M_ALL) {
		*hit = 1;
		return SPF_PASS;
	}
	if (t->mech == SPF_M_IP4 || t->mech == SPF_M_IP6) {
		*hit = (t->mech == SPF_M_IP4) == (c->family == AF_INET) &&
		    spf_in_net(c->ip, t->net, t->mech == SPF_M_IP4 ? t->cidr4 :
		    t->cidr6);
		return SPF_PASS;
	}
	if (++c->lookups > SPF_LOOKUP_MAX)
		return spf_why(c, SPF_PERMERROR, "more than 10 DNS lookups "
		    "(at %s)", domain);
	if ((r = spf_target(c, t->domain, domain, name, sizeof(name))) !=
	    SPF_PASS)
		return r;
	switch (t->mech) {
	case SPF_M_INCLUDE:
		return spf_include(c, name, hit);
	case SPF_M_A:
		r = spf_addr_match(c, name, t, hit);
		return r == SPF_NONE ? spf_void(c, name) : r;
	case SPF_M_MX:
		return spf_mx_match(c, name, t, hit);
	case SPF_M_EXISTS:
		r = c->dns->lookup(c->dns->arg, name, SPF_Q_A, &v, &n);
		util_strv_free(v, n);
		if (r == -1)
			return spf_why(c, SPF_TEMPERROR, "lookup of %s failed",
			    name);
		*hit = r == 0 && n > 0;
		return *hit ? SPF_PASS : spf_void(c, name);
	default:
		return SPF_PASS;	/* ptr: never matches */
	}
}

/* spf_qual - the result a matching mechanism's qualifier gives */
static int
spf_qual(int q)
{
	return q == '-' ? SPF_FAIL : q == '~' ? SPF_SOFTFAIL :
	    q == '?' ? SPF_NEUTRAL : SPF_PASS;
}

/* spf_host - check_host() of RFC 7208 4 for c's address and domain */
static int
spf_host(struct spf_ctx *c, const char *domain)
{
	struct spf_record rec;
	char	 name[SPF_NAME_MAX + 1];
	size_t	 i;
	int	 r, hit = 0;

	if ((r = spf_fetch(c, domain, &rec)) != SPF_PASS)
		return r;
	c->depth++;
	for (i = 0, r = SPF_PASS; i < rec.n && !hit && r == SPF_PASS; i++)
		r = spf_match(c, &rec.t[i], domain, &hit);
	c->depth--;	/* a redirect= stands for this record */
	if (r != SPF_PASS)
		;			/* an error decides */
	else if (hit) {
		r = spf_qual(rec.t[i - 1].qual);
		/* the outermost record's term is the one to name */
		if (c->depth == 0 && c->why[0] == '\0')
			util_fmt(c->why, c->whylen, "%s by \"%s\" of %s",
			    spf_result_name(r), rec.t[i - 1].text, domain);
	} else if (rec.redirect == NULL)
		r = SPF_NEUTRAL;
	else if (++c->lookups > SPF_LOOKUP_MAX)
		r = spf_why(c, SPF_PERMERROR, "more than 10 DNS lookups (at "
		    "%s)", domain);
	else if ((r = spf_target(c, rec.redirect, domain, name,
	    sizeof(name))) == SPF_PASS &&
	    (r = spf_host(c, name)) == SPF_NONE)
		r = spf_why(c, SPF_PERMERROR, "redirect=%s has no SPF record",
		    name);
	spf_record_free(&rec);
	return r;
}

/* spf_ctx_init - a context for one check of dns's answers, why cleared */
static void
spf_ctx_init(struct spf_ctx *c, const struct spf_dns *dns,
    const char *sender, char *why, size_t whylen)
{
	memset(c, 0, sizeof(*c));
	c->dns = dns;
	c->why = why;
	c->whylen = whylen;
	c->sender = sender;
	why[0] = '\0';
}

/* spf_check - see spf.h */
int
spf_check(const struct spf_dns *dns, const char *domain, const char *ip,
    const char *sender, int *lookups, char *why, size_t whylen)
{
	struct spf_ctx c;
	int	 r;

	spf_ctx_init(&c, dns, sender, why, whylen);
	c.ipstr = ip;
	if (inet_pton(AF_INET, ip, c.ip) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, ip, c.ip) == 1)
		c.family = AF_INET6;
	else {
		util_fmt(why, whylen, "not an address: %s", ip);
		return SPF_PERMERROR;
	}
	r = spf_host(&c, domain);
	if (r == SPF_NEUTRAL && why[0] == '\0')
		util_fmt(why, whylen, "no term of %s matches", domain);
	*lookups = c.lookups;
	return r;
}

/* spf_count_rec - the worst-case lookups of one domain's record */
static int
spf_count_rec(struct spf_ctx *c, const char *domain, int depth)
{
	struct spf_record rec;
	const char *spec;
	char	 name[SPF_NAME_MAX + 1];
	size_t	 i;
	int	 r, follow;

	if ((r = spf_fetch(c, domain, &rec)) != SPF_PASS)
		return r;
	for (i = 0, r = SPF_PASS; i <= rec.n && r == SPF_PASS &&
	    c->lookups <= SPF_LOOKUP_MAX; i++) {
		spec = i < rec.n ? rec.t[i].domain : rec.redirect;
		follow = i == rec.n || rec.t[i].mech == SPF_M_INCLUDE;
		if (i == rec.n && rec.redirect == NULL)
			break;
		if (i < rec.n && (rec.t[i].mech == SPF_M_ALL ||
		    rec.t[i].mech == SPF_M_IP4 || rec.t[i].mech == SPF_M_IP6))
			continue;
		c->lookups++;
		if (!follow || depth >= SPF_LOOKUP_MAX)
			continue;
		if (spf_expand(c, spec, domain, name, sizeof(name)) != 0)
			continue;	/* needs the address: counted only */
		if ((r = spf_count_rec(c, name, depth + 1)) == SPF_NONE)
			r = spf_why(c, SPF_PERMERROR, "%s has no SPF record "
			    "(include: or redirect=)", name);
	}
	spf_record_free(&rec);
	return r;
}

/* spf_count - see spf.h */
int
spf_count(const struct spf_dns *dns, const char *domain, int *count,
    char *why, size_t whylen)
{
	struct spf_ctx c;
	int	 r;

	spf_ctx_init(&c, dns, "postmaster", why, whylen);
	r = spf_count_rec(&c, domain, 0);
	*count = c.lookups;
	return r == SPF_PASS ? 0 : r;
}
