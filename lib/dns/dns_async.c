/*
 * dns_async.c - DNS lookups for an event loop (smtpd's DNS restrictions).
 *
 * dns_async() starts one query in libunbound's worker thread; the answer
 * is delivered by dns_process(), which the caller runs when dns_fd() is
 * readable, through the callback it gave, as a struct dns_answer: a
 * status and up to DNS_ANS_MAX records as text (A and AAAA: addresses;
 * TXT: the first character-string of each record with anything but
 * printable ASCII replaced by '?'; MX: the host names, validated; PTR:
 * the names that are valid host names and do not end in a numeric label).  A
 * single MX "0 ." is DNS_NULLMX.  Every length in an answer is checked
 * before use (DESIGN rule 12).  dns_async_cancel() drops a query whose
 * caller went away: its callback is never called.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "dns.h"
#include "dns_priv.h"
#include "util.h"

#define DNS_C_IN	1

struct dns_aq {
	struct dns	*d;
	int		 type;
	int		 id;
	void		(*cb)(void *, const struct dns_answer *);
	void		*arg;
};

/* dns_txt_text - the first character-string of TXT rdata, printable */
static void
dns_txt_text(const unsigned char *rd, size_t len, char *out, size_t olen)
{
	size_t	 n, i;

	out[0] = '\0';
	if (len < 1 || (n = rd[0]) + 1 > len)
		return;
	if (n >= olen)
		n = olen - 1;
	for (i = 0; i < n; i++)
		out[i] = rd[1 + i] >= 0x20 && rd[1 + i] < 0x7f ?
		    (char)rd[1 + i] : '?';
	out[n] = '\0';
}

/*
 * dns_numeric_tail - does a name end in an all-digit label ("1.2.3.4",
 * "host.123"): such a PTR name would pass for an address in access
 * tables, so it is never a client name (Postfix refuses it too)
 */
static int
dns_numeric_tail(const char *name)
{
	const char *p = strrchr(name, '.');

	p = p != NULL ? p + 1 : name;
	if (*p == '\0')
		return 0;
	return strspn(p, "0123456789") == strlen(p);
}

/*
 * dns_answer_rr - one record of type (of n in the answer) as text in a's
 * next slot: 1 when it is usable, 0 when not, -1 for a null MX
 */
static int
dns_answer_rr(int type, int n, const char *data, int len,
    struct dns_answer *a)
{
	char	 host[DNS_NAME_MAX + 1];
	int	 pref;

	if (len < 0)
		return 0;
	switch (type) {
	case DNS_Q_A:
	case DNS_Q_AAAA:
		return len == (type == DNS_Q_A ? 4 : 16) &&
		    inet_ntop(type == DNS_Q_A ? AF_INET : AF_INET6, data,
		    a->text[a->n], sizeof(a->text[0])) != NULL;
	case DNS_Q_TXT:
		dns_txt_text((const unsigned char *)data, (size_t)len,
		    a->text[a->n], sizeof(a->text[0]));
		return 1;
	case DNS_Q_PTR:
		if (dns_parse_name((const unsigned char *)data, (size_t)len,
		    host, sizeof(host)) == -1 || !dns_valid_name(host) ||
		    dns_numeric_tail(host))
			return 0;
		util_strlcpy(a->text[a->n], host, sizeof(a->text[0]));
		return 1;
	case DNS_Q_MX:
		if (dns_parse_mx((const unsigned char *)data, (size_t)len,
		    &pref, host, sizeof(host)) == -1)
			return 0;
		if (n == 1 && pref == 0 && strcmp(host, ".") == 0)
			return -1;
		if (!dns_valid_name(host))
			return 0;
		util_strlcpy(a->text[a->n], host, sizeof(a->text[0]));
		return 1;
	}
	return 0;
}

/* dns_answer_fill - see dns.h */
void
dns_answer_fill(int type, int nxdomain, int rcode, char *const *data,
    const int *len, struct dns_answer *a)
{
	size_t	 i;
	int	 n = 0, r;

	memset(a, 0, sizeof(*a));
	if (nxdomain || rcode == 3) {
		a->status = DNS_NOTFOUND;
		return;
	}
	if (rcode != 0) {
		a->status = DNS_TEMPFAIL;
		return;
	}
	for (i = 0; data != NULL && data[i] != NULL; i++)
		n++;
	a->status = DNS_EMPTY;
	for (i = 0; i < (size_t)n && a->n < DNS_ANS_MAX; i++) {
		if ((r = dns_answer_rr(type, n, data[i], len[i], a)) == -1) {
			a->status = DNS_NULLMX;
			return;
		}
		a->n += (size_t)r;
	}
	if (a->n > 0)
		a->status = DNS_OK;
	else if (n > 0 && type == DNS_Q_MX)
		a->status = DNS_TEMPFAIL;	/* MX records, none usable */
}

/* dns_async_cb - libunbound's answer: convert, hand over, free */
static void
dns_async_cb(void *arg, int err, struct ub_result *res)
{
	struct dns_aq	*q = arg;
	struct dns_answer a;

	if (err != 0 || res == NULL || res->bogus) {
		memset(&a, 0, sizeof(a));
		a.status = DNS_TEMPFAIL;
	} else
		dns_answer_fill(q->type, res->nxdomain, res->rcode,
		    res->havedata ? res->data : NULL, res->len, &a);
	if (res != NULL)
		ub_resolve_free(res);
	q->cb(q->arg, &a);
	free(q);
}

/* dns_async - see dns.h */
struct dns_aq *
dns_async(struct dns *d, const char *name, int type,
    void (*cb)(void *, const struct dns_answer *), void *arg)
{
	struct dns_aq	*q;

	if (strlen(name) > DNS_NAME_MAX)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->d = d;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	if (ub_resolve_async(d->ctx, name, type, DNS_C_IN, q, dns_async_cb,
	    &q->id) != 0) {
		free(q);
		return NULL;
	}
	return q;
}

/* dns_async_cancel - see dns.h */
void
dns_async_cancel(struct dns_aq *q)
{
	if (q == NULL)
		return;
	(void)ub_cancel(q->d->ctx, q->id);
	free(q);
}

/* dns_fd - see dns.h */
int
dns_fd(struct dns *d)
{
	return ub_fd(d->ctx);
}

/* dns_process - see dns.h */
int
dns_process(struct dns *d)
{
	return ub_process(d->ctx) == 0 ? 0 : -1;
}

/* dns_rbl_octet - one octet of a DNSBL filter: "n", or "[a;b..c;...]" */
static int
dns_rbl_octet(const char *pat, size_t plen, unsigned v)
{
	long long lo, hi;
	char	 item[16], *dots;
	size_t	 i, start, n;
	int	 hit = 0;

	if (plen == 0)
		return -1;
	if (pat[0] != '[') {
		if (plen >= sizeof(item))
			return -1;
		memcpy(item, pat, plen);
		item[plen] = '\0';
		if (util_parse_ll(item, 0, 255, &lo) == -1)
			return -1;
		return (unsigned)lo == v;
	}
	if (plen < 3 || pat[plen - 1] != ']')
		return -1;
	for (start = i = 1; i < plen; i++) {
		if (pat[i] != ';' && pat[i] != ']')
			continue;
		if ((n = i - start) == 0 || n >= sizeof(item))
			return -1;
		memcpy(item, pat + start, n);
		item[n] = '\0';
		start = i + 1;
		if ((dots = strstr(item, "..")) != NULL) {
			*dots = '\0';
			if (util_parse_ll(item, 0, 255, &lo) == -1 ||
			    util_parse_ll(dots + 2, 0, 255, &hi) == -1 ||
			    lo > hi)
				return -1;
		} else if (util_parse_ll(item, 0, 255, &lo) == -1)
			return -1;
		else
			hi = lo;
		if (v >= (unsigned)lo && v <= (unsigned)hi)
			hit = 1;	/* the rest is still checked */
	}
	return hit;
}

/* dns_rbl_filter - see dns.h */
int
dns_rbl_filter(const char *filter, const char *addr)
{
	unsigned char a[4];
	const char *p = filter, *dot;
	int	 i, r, hit = 1;

	if (inet_pton(AF_INET, addr, a) != 1)
		return 0;
	for (i = 0; i < 4; i++) {
		dot = i < 3 ? strchr(p, '.') : p + strlen(p);
		/* a dot inside [..] belongs to a range */
		if (dot != NULL && *p == '[' && strchr(p, ']') != NULL &&
		    dot < strchr(p, ']'))
			dot = i < 3 ? strchr(strchr(p, ']'), '.') :
			    p + strlen(p);
		if (dot == NULL)
			return -1;
		if ((r = dns_rbl_octet(p, (size_t)(dot - p), a[i])) == -1)
			return -1;
		hit &= r;
		p = i < 3 ? dot + 1 : dot;
	}
	return *p == '\0' ? hit : -1;
}

/* dns_rbl_name - see dns.h */
int
dns_rbl_name(const char *ip, const char *zone, char *out, size_t len)
{
	unsigned char a[16];
	char	 b[DNS_NAME_MAX + 1], *p = b;
	int	 i;
	static const char hex[] = "0123456789abcdef";

	if (!dns_valid_name(zone))
		return -1;
	if (inet_pton(AF_INET, ip, a) == 1) {
		if (util_fmt(b, sizeof(b), "%u.%u.%u.%u", a[3], a[2], a[1],
		    a[0]) == -1)
			return -1;
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		for (i = 15; i >= 0; i--) {
			*p++ = hex[a[i] & 15];
			*p++ = '.';
			*p++ = hex[a[i] >> 4];
			*p++ = i > 0 ? '.' : '\0';
		}
	} else
		return -1;
	return util_fmt(out, len, "%s.%s", b, zone) == -1 ||
	    strlen(out) > DNS_NAME_MAX ? -1 : 0;
}
