/*
 * dns.c - where mail for a domain goes: MX, then A/AAAA, with libunbound.
 *
 * Interface: dns.h.  Every lookup runs asynchronously in libunbound's
 * worker thread (ub_ctx_async(ctx, 1): no hidden child process) while
 * this thread polls ub_fd() until the call's deadline, so a silent server
 * costs at most `timeout' seconds and then DNS_TEMPFAIL; the queries still
 * outstanding are cancelled.  The address lookups of all MX hosts run in
 * parallel under the same deadline.
 *
 * DESIGN rule 12: answers are outside bytes.  MX rdata is parsed here
 * (dns_parse_mx) with every length bounded; libunbound hands it over with
 * names already decompressed, so a compression pointer is malformed.
 * Every host name is checked with dns_valid_name() before use, at most
 * DNS_MAX_RR MX records are looked at, duplicates are dropped.
 *
 * Errors: DNS_TEMPFAIL / DNS_NOTFOUND / DNS_NULLMX with a reason in `why'
 * (names in it are valid host names, safe to log); dns_new() returns NULL
 * with a reason in its err buffer.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>
#include <unbound.h>

#include "dns.h"
#include "dns_priv.h"
#include "util.h"

#define DNS_T_A		1
#define DNS_T_MX	15
#define DNS_T_AAAA	28
#define DNS_C_IN	1

/* dns_fwd - "host[:port]", "[host]:port" -> unbound's "host@port" */
static int
dns_fwd(const char *server, char *out, size_t outlen)
{
	char		 host[64];
	const char	*p, *port = NULL;
	long long	 pn;
	unsigned char	 a[16];
	size_t		 hl;

	if (server[0] == '[') {
		if ((p = strchr(server, ']')) == NULL)
			return -1;
		hl = (size_t)(p - server - 1);
		server++;
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0')
			return -1;
	} else if ((p = strchr(server, ':')) != NULL &&
	    strchr(p + 1, ':') == NULL) {
		hl = (size_t)(p - server);
		port = p + 1;
	} else
		hl = strlen(server);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, server, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, a) != 1 &&
	    inet_pton(AF_INET6, host, a) != 1)
		return -1;
	pn = 53;
	if (port != NULL && util_parse_ll(port, 1, 65535, &pn) == -1)
		return -1;
	return util_fmt(out, outlen, "%s@%lld", host, pn);
}

/*
 * zones libunbound answers itself unless told otherwise; with a server of
 * our own, that server answers them
 */
static const char *const dns_fwd_zones[] = {
	"test. transparent",
	"127.in-addr.arpa. transparent",
	"2.0.192.in-addr.arpa. transparent",
	"100.51.198.in-addr.arpa. transparent",
	"113.0.203.in-addr.arpa. transparent",
	"8.b.d.0.1.0.0.2.ip6.arpa. transparent",
	/* ::1 (its PTR would be unbound's "localhost") */
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "ip6.arpa. transparent",
};

/* dns_new - a resolver forwarding to server, or per /etc/resolv.conf */
struct dns *
dns_new(const char *server, char *err, size_t errlen)
{
	struct dns	*d;
	char		 fwd[96];
	size_t		 i;
	int		 r;

	d = xcalloc(1, sizeof(*d));
	d->families = DNS_IPV4 | DNS_IPV6;
	if ((d->ctx = ub_ctx_create()) == NULL) {
		util_fmt(err, errlen, "libunbound: cannot create a context");
		free(d);
		return NULL;
	}
	/* a thread, not a forked helper process; the server may be local */
	if ((r = ub_ctx_async(d->ctx, 1)) != 0 ||
	    (r = ub_ctx_set_option(d->ctx, "do-not-query-localhost:",
	    "no")) != 0)
		goto fail;
	/*
	 * Small caches: every smtp process has its own resolver, and a
	 * delivery needs a handful of records (unbound's defaults are 4 MB
	 * and 4 MB per context).
	 */
	if ((r = ub_ctx_set_option(d->ctx, "msg-cache-size:", "256k")) != 0 ||
	    (r = ub_ctx_set_option(d->ctx, "rrset-cache-size:", "512k")) != 0 ||
	    (r = ub_ctx_set_option(d->ctx, "key-cache-size:", "64k")) != 0 ||
	    (r = ub_ctx_set_option(d->ctx, "neg-cache-size:", "64k")) != 0)
		goto fail;
	if (server != NULL && server[0] != '\0') {
		if (dns_fwd(server, fwd, sizeof(fwd)) == -1) {
			util_fmt(err, errlen, "bad DNS server address \"%s\"",
			    server);
			dns_free(d);
			return NULL;
		}
		/*
		 * the server decides about the special-use test. zone and
		 * the loopback and documentation reverse zones too (tests use
		 * them); "nodefault" does not work through
		 * ub_ctx_set_option(), a transparent zone does
		 */
		for (i = 0; i < NELEM(dns_fwd_zones) && r == 0; i++)
			r = ub_ctx_set_option(d->ctx, "local-zone:",
			    dns_fwd_zones[i]);
		if (r == 0)
			r = ub_ctx_set_fwd(d->ctx, fwd);
	} else
		r = ub_ctx_resolvconf(d->ctx, NULL);
	if (r != 0)
		goto fail;
	return d;
fail:
	util_fmt(err, errlen, "libunbound: %s", ub_strerror(r));
	dns_free(d);
	return NULL;
}

/* dns_hosts_line - see dns.h */
int
dns_hosts_line(const char *line, char *rev, size_t revlen, char *name,
    size_t namelen)
{
	char	 w[2][DNS_NAME_MAX + 2];
	size_t	 n, k;
	const char *p = line;

	for (k = 0; k < 2; k++) {
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t#\r\n");
		if (n == 0 || n >= sizeof(w[k]))
			return 0;	/* blank, comment, one word, too long */
		memcpy(w[k], p, n);
		w[k][n] = '\0';
		p += n;
	}
	if (!dns_valid_name(w[1]) || util_strlcpy(name, w[1], namelen) >=
	    namelen || dns_reverse_name(w[0], rev, revlen) == -1)
		return 0;
	util_lowercase(name);
	return 1;
}

/*
 * dns_hosts - see dns.h.  libunbound's ub_ctx_hosts() gives the names
 * their addresses; the PTR records are ours (local-data), one per
 * address: the first name of the first line that has it, as the C
 * library's files lookup answers.
 */
int
dns_hosts(struct dns *d, const char *path, char *err, size_t errlen)
{
	char	 rev[DNS_NAME_MAX + 1], name[DNS_NAME_MAX + 1];
	char	 rr[2 * DNS_NAME_MAX + 16], *line = NULL, **seen = NULL;
	size_t	 cap = 0, nseen = 0, i;
	FILE	*f;
	int	 r = 0;

	if ((r = ub_ctx_hosts(d->ctx, path)) != 0) {
		util_fmt(err, errlen, "%s: %s", path, ub_strerror(r));
		return -1;
	}
	if ((f = fopen(path, "re")) == NULL) {
		util_fmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (r == 0 && nseen < DNS_HOSTS_MAX &&
	    getline(&line, &cap, f) != -1) {
		if (!dns_hosts_line(line, rev, sizeof(rev), name, sizeof(name)))
			continue;
		for (i = 0; i < nseen && strcmp(seen[i], rev) != 0; i++)
			;
		if (i < nseen)
			continue;
		seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
		seen[nseen++] = xstrdup(rev);
		util_fmt(rr, sizeof(rr), "%s. PTR %s.", rev, name);
		r = ub_ctx_set_option(d->ctx, "local-data:", rr);
	}
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(line);
	fclose(f);
	if (r != 0) {
		util_fmt(err, errlen, "%s: %s", path, ub_strerror(r));
		return -1;
	}
	return 0;
}

/* dns_set_families - see dns.h */
void
dns_set_families(struct dns *d, int families)
{
	if ((families & (DNS_IPV4 | DNS_IPV6)) != 0)
		d->families = families & (DNS_IPV4 | DNS_IPV6);
}

/* dns_free - the resolver and its worker thread */
void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->ctx != NULL)
		ub_ctx_delete(d->ctx);
	free(d);
}

/* dns_cb - libunbound's answer to one query */
static void
dns_cb(void *arg, int err, struct ub_result *res)
{
	struct dns_q	*q = arg;

	q->done = 1;
	q->err = err;
	q->res = res;
}

/* dns_cancel - give up on every query not answered yet */
static void
dns_cancel(struct dns *d, struct dns_q *q, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!q[i].done) {
			ub_cancel(d->ctx, q[i].id);
			q[i].done = 1;
			q[i].timedout = 1;
		}
}

/* dns_run - run n queries in parallel until all answered or deadline */
void
dns_run(struct dns *d, struct dns_q *q, size_t n, uint64_t deadline)
{
	struct pollfd	 pfd;
	uint64_t	 now, wait;
	size_t		 i, left;
	int		 r;

	for (i = 0; i < n; i++) {
		q[i].done = q[i].timedout = q[i].err = 0;
		q[i].res = NULL;
		if (q[i].type == 0) {	/* a family inet_protocols leaves out */
			q[i].done = 1;
			continue;
		}
		r = ub_resolve_async(d->ctx, q[i].name, q[i].type, DNS_C_IN,
		    &q[i], dns_cb, &q[i].id);
		if (r != 0) {
			q[i].err = r;
			q[i].done = 1;
		}
	}
	for (;;) {
		for (i = left = 0; i < n; i++)
			left += !q[i].done;
		if (left == 0)
			return;
		if ((now = util_mono_ms()) >= deadline)
			break;
		pfd.fd = ub_fd(d->ctx);
		pfd.events = POLLIN;
		wait = deadline - now < 60000 ? deadline - now : 60000;
		r = poll(&pfd, 1, (int)wait);
		if (r == -1 && errno != EINTR)
			break;
		if (r > 0 && ub_process(d->ctx) != 0)
			break;
	}
	dns_cancel(d, q, n);
}

/* dns_type_name - a record type for messages */
static const char *
dns_type_name(int type)
{
	switch (type) {
	case DNS_T_A:
		return "A";
	case DNS_T_MX:
		return "MX";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_Q_TXT:
		return "TXT";
	case DNS_Q_PTR:
		return "PTR";
	case DNS_Q_TLSA:
		return "TLSA";
	default:
		return "?";
	}
}

/* dns_status - what one answered query says: DNS_* or DNS_NODATA */
int
dns_status(const struct dns_q *q, char *why, size_t whylen)
{
	const char *t = dns_type_name(q->type);

	if (q->timedout)
		util_fmt(why, whylen, "DNS lookup of %s (type %s) timed out",
		    q->name, t);
	else if (q->err != 0)
		util_fmt(why, whylen, "DNS lookup of %s (type %s) failed: %s",
		    q->name, t, ub_strerror(q->err));
	else if (q->res == NULL)
		util_fmt(why, whylen, "DNS lookup of %s (type %s) failed",
		    q->name, t);
	else if (q->res->bogus)
		util_fmt(why, whylen, "DNS lookup of %s (type %s): DNSSEC "
		    "validation failed", q->name, t);
	else if (q->res->nxdomain || q->res->rcode == 3) {
		util_fmt(why, whylen, "Host or domain name not found: %s",
		    q->name);
		return DNS_NOTFOUND;
	} else if (q->res->rcode != 0)
		util_fmt(why, whylen, "DNS lookup of %s (type %s): server "
		    "failure (rcode %d)", q->name, t, q->res->rcode);
	else if (!q->res->havedata || q->res->data == NULL ||
	    q->res->data[0] == NULL)
		return DNS_NODATA;
	else
		return DNS_OK;
	return DNS_TEMPFAIL;
}

/* dns_q_free - the answers */
void
dns_q_free(struct dns_q *q, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (q[i].res != NULL)
			ub_resolve_free(q[i].res);
		q[i].res = NULL;
	}
}

/* dns_is_ldh - letter, digit or hyphen */
static int
dns_is_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* dns_valid_name - LDH labels, 1..63 each, total <= 253, no "." root */
int
dns_valid_name(const char *name)
{
	size_t	 len, i, start;

	if (name == NULL || (len = strnlen(name, 254)) == 0 || len > 253)
		return 0;
	for (i = start = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (!dns_is_ldh((unsigned char)name[i]))
				return 0;
			continue;
		}
		if (i == start || i - start > 63 || name[start] == '-' ||
		    name[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	/* an all-numeric top label would make it look like an address */
	for (i = len; i > 0 && name[i - 1] != '.'; i--)
		if (name[i - 1] < '0' || name[i - 1] > '9')
			return 1;
	return 0;
}

/* dns_parse_mx - MX rdata: 16-bit preference + uncompressed name */
int
dns_parse_mx(const unsigned char *rd, size_t len, int *pref, char *host,
    size_t hostsz)
{
	size_t	 p = 2, o = 0, wire = 1, l, i;
	int	 c;

	if (rd == NULL || len < 3 || hostsz < 2)
		return -1;
	*pref = (rd[0] << 8) | rd[1];
	while ((l = rd[p++]) != 0) {
		/* no compression pointers or extended label types */
		if ((l & 0xc0) != 0 || l > len - p)
			return -1;
		if ((wire += l + 1) > DNS_NAME_MAX || o + l + 2 > hostsz)
			return -1;
		if (o > 0)
			host[o++] = '.';
		for (i = 0; i < l; i++) {
			c = rd[p + i];
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			/* '.' inside a label must not make two labels */
			host[o++] = dns_is_ldh(c) ? (char)c : '?';
		}
		p += l;
		if (p >= len)
			return -1;
	}
	if (p != len)
		return -1;
	if (o == 0)
		host[o++] = '.';
	host[o] = '\0';
	return 0;
}

/* dns_sort_mx - sort by preference, shuffle equal ones (exposed for tests) */
void
dns_sort_mx(struct dns_target *t, size_t n)
{
	struct dns_target tmp;
	size_t		 i, j, k;

	for (i = 1; i < n; i++) {
		if (t[i - 1].pref <= t[i].pref)
			continue;
		tmp = t[i];
		for (j = i; j > 0 && t[j - 1].pref > tmp.pref; j--)
			t[j] = t[j - 1];
		t[j] = tmp;
	}
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && t[j].pref == t[i].pref; j++)
			;
		for (k = j - i; k > 1; k--) {
			size_t r = randombytes_uniform((uint32_t)k);

			if (r != k - 1) {
				tmp = t[i + k - 1];
				t[i + k - 1] = t[i + r];
				t[i + r] = tmp;
			}
		}
	}
}

/* dns_mx_add - add host unless known (then keep the lower preference) */
static size_t
dns_mx_add(struct dns_target *l, size_t m, const char *host, int pref)
{
	size_t	 i;

	for (i = 0; i < m; i++)
		if (strcmp(l[i].host, host) == 0) {
			if (pref < l[i].pref)
				l[i].pref = pref;
			return m;
		}
	memset(&l[m], 0, sizeof(l[m]));
	util_strlcpy(l[m].host, host, sizeof(l[m].host));
	l[m].pref = pref;
	return m + 1;
}

/* dns_mx_list - the targets of n MX rdata items (no addresses yet) */
int
dns_mx_list(const char *domain, char *const *rd, const int *rdlen,
    size_t n, struct dns_target *t, size_t *nt, char *why, size_t whylen)
{
	struct dns_target *l;
	char		 host[DNS_NAME_MAX + 1];
	size_t		 i, m = 0;
	int		 pref;

	*nt = 0;
	if (n == 0 || n > DNS_MAX_RR) {
		util_fmt(why, whylen, "%s MX records for %s",
		    n == 0 ? "no" : "too many", domain);
		return DNS_TEMPFAIL;
	}
	l = xcalloc(n, sizeof(*l));
	for (i = 0; i < n; i++) {
		if (rd[i] == NULL || rdlen[i] < 0 ||
		    dns_parse_mx((const unsigned char *)rd[i], (size_t)rdlen[i],
		    &pref, host, sizeof(host)) == -1) {
			util_fmt(why, whylen, "malformed MX record for %s",
			    domain);
			free(l);
			return DNS_TEMPFAIL;
		}
		if (n == 1 && pref == 0 && strcmp(host, ".") == 0) {
			util_fmt(why, whylen, "Domain %s does not accept mail "
			    "(null MX)", domain);
			free(l);
			return DNS_NULLMX;
		}
		if (dns_valid_name(host))
			m = dns_mx_add(l, m, host, pref);
	}
	if (m == 0) {
		util_fmt(why, whylen, "no valid MX host name for %s", domain);
		free(l);
		return DNS_TEMPFAIL;
	}
	dns_sort_mx(l, m);
	*nt = m < DNS_MAX_TARGETS ? m : DNS_MAX_TARGETS;
	memcpy(t, l, *nt * sizeof(*t));
	free(l);
	return DNS_OK;
}

/* dns_literal - "[1.2.3.4]" / "[IPv6:...]" (or a bare address) */
static int
dns_literal(const char *s, struct dns_target *t, char *why, size_t whylen)
{
	char	 in[INET6_ADDRSTRLEN + 8], txt[INET6_ADDRSTRLEN];
	size_t	 len = strnlen(s, sizeof(in) + 2);
	int	 v6 = 0;

	memset(t, 0, sizeof(*t));
	if (s[0] == '[') {
		if (len < 3 || len - 2 >= sizeof(in) || s[len - 1] != ']')
			goto bad;
		memcpy(in, s + 1, len - 2);
		in[len - 2] = '\0';
		if (strncasecmp(in, "IPv6:", 5) == 0) {
			memmove(in, in + 5, strlen(in + 5) + 1);
			v6 = 1;
		}
	} else if (len < sizeof(in)) {
		memcpy(in, s, len + 1);
		v6 = strchr(in, ':') != NULL;
	} else
		goto bad;
	t->addr[0].family = v6 ? AF_INET6 : AF_INET;
	if (inet_pton(t->addr[0].family, in, t->addr[0].addr) != 1)
		goto bad;
	t->naddr = 1;
	dns_addr_text(&t->addr[0], txt, sizeof(txt));
	util_fmt(t->host, sizeof(t->host), "[%s%s]", v6 ? "IPv6:" : "", txt);
	return DNS_OK;
bad:
	memset(t, 0, sizeof(*t));
	util_fmt(why, whylen, "invalid address literal");
	return DNS_NOTFOUND;
}

/* dns_take - copy up to max addresses of one family from an answer */
static void
dns_take(struct dns_target *t, const struct ub_result *r, int family,
    size_t max)
{
	size_t	 alen = family == AF_INET ? 4 : 16, i;

	if (r == NULL || !r->havedata || r->data == NULL)
		return;
	for (i = 0; r->data[i] != NULL && max > 0 &&
	    t->naddr < DNS_MAX_ADDRS; i++) {
		if (r->len[i] != (int)alen)
			continue;	/* malformed: skip */
		t->addr[t->naddr].family = family;
		memcpy(t->addr[t->naddr].addr, r->data[i], alen);
		t->naddr++;
		max--;
	}
}

/* dns_count - usable addresses in an answer */
static size_t
dns_count(const struct ub_result *r, int alen)
{
	size_t	 i, n = 0;

	if (r == NULL || !r->havedata || r->data == NULL)
		return 0;
	for (i = 0; r->data[i] != NULL; i++)
		n += r->len[i] == alen;
	return n;
}

/*
 * dns_addrs - A and AAAA of n targets in parallel.  Returns the worst
 * status: DNS_OK when a host has an address, else DNS_TEMPFAIL when a
 * lookup failed temporarily, else DNS_NOTFOUND.  IPv4 first, but half of
 * the DNS_MAX_ADDRS slots are kept for IPv6 when it has that many.
 */
static int
dns_addrs(struct dns *d, struct dns_target *t, size_t n, uint64_t deadline,
    char *why, size_t whylen)
{
	struct dns_q	 q[2 * DNS_MAX_TARGETS];
	size_t		 i, n6, any = 0;
	int		 st, temp = 0;
	char		 w[512], tw[512];

	memset(q, 0, sizeof(q));
	for (i = 0; i < n; i++) {
		q[2 * i].name = q[2 * i + 1].name = t[i].host;
		q[2 * i].type = d->families & DNS_IPV4 ? DNS_T_A : 0;
		q[2 * i + 1].type = d->families & DNS_IPV6 ? DNS_T_AAAA : 0;
	}
	dns_run(d, q, 2 * n, deadline);
	for (i = 0; i < 2 * n; i++) {
		if (q[i].type == 0)
			continue;
		st = dns_status(&q[i], w, sizeof(w));
		if (st == DNS_TEMPFAIL && !temp) {
			temp = 1;
			util_strlcpy(tw, w, sizeof(tw));
		}
	}
	for (i = 0; i < n; i++) {
		t[i].naddr = 0;
		n6 = dns_count(q[2 * i + 1].res, 16);
		n6 = n6 < DNS_MAX_ADDRS / 2 ? n6 : DNS_MAX_ADDRS / 2;
		dns_take(&t[i], q[2 * i].res, AF_INET, DNS_MAX_ADDRS - n6);
		dns_take(&t[i], q[2 * i + 1].res, AF_INET6, DNS_MAX_ADDRS);
		any += t[i].naddr > 0;
	}
	dns_q_free(q, 2 * n);
	if (any > 0)
		return DNS_OK;
	if (temp)
		util_strlcpy(why, tw, whylen);
	else
		util_fmt(why, whylen, "Host not found: %s%s has no %s "
		    "record", n > 0 ? t[0].host : "?", n > 1 ? " (and every "
		    "other MX host)" : "", d->families == DNS_IPV4 ? "A" :
		    d->families == DNS_IPV6 ? "AAAA" : "A or AAAA");
	return temp ? DNS_TEMPFAIL : DNS_NOTFOUND;
}

/* dns_prep - lowercase copy of a domain, one trailing dot dropped */
static int
dns_prep(const char *in, char *out, size_t outlen, char *why, size_t whylen)
{
	size_t	 len = strnlen(in, outlen);

	if (len > 0 && len < outlen && in[len - 1] == '.')
		len--;
	if (len >= outlen) {
		util_fmt(why, whylen, "invalid domain name");
		return -1;
	}
	memcpy(out, in, len);
	out[len] = '\0';
	util_lowercase(out);
	if (!dns_valid_name(out)) {
		util_fmt(why, whylen, "invalid domain name");
		return -1;
	}
	return 0;
}

/* dns_deadline - now + timeout seconds (at least one) */
static uint64_t
dns_deadline(int timeout)
{
	return util_mono_ms() + (uint64_t)(timeout < 1 ? 1 : timeout) * 1000;
}

/* dns_targets - 0 with *n targets filled, or a DNS_* error with why */
int
dns_targets(struct dns *d, const char *domain, int timeout,
    struct dns_target *t, size_t *n, char *why, size_t whylen)
{
	struct dns_q	 q;
	char		 name[DNS_NAME_MAX + 1];
	uint64_t	 deadline = dns_deadline(timeout);
	size_t		 cnt;
	int		 st, implicit = 0;

	*n = 0;
	if (domain[0] == '[') {
		st = dns_literal(domain, &t[0], why, whylen);
		*n = st == DNS_OK;
		return st;
	}
	if (dns_prep(domain, name, sizeof(name), why, whylen) == -1)
		return DNS_NOTFOUND;
	memset(&q, 0, sizeof(q));
	q.name = name;
	q.type = DNS_T_MX;
	dns_run(d, &q, 1, deadline);
	st = dns_status(&q, why, whylen);
	if (st == DNS_OK) {
		for (cnt = 0; q.res->data[cnt] != NULL; cnt++)
			;
		st = dns_mx_list(name, q.res->data, q.res->len, cnt, t, n,
		    why, whylen);
	} else if (st == DNS_NODATA) {
		/* RFC 5321 5.1: the domain itself is the implicit MX */
		memset(&t[0], 0, sizeof(t[0]));
		util_strlcpy(t[0].host, name, sizeof(t[0].host));
		*n = 1;
		implicit = 1;
		st = DNS_OK;
	}
	dns_q_free(&q, 1);
	if (st != DNS_OK)
		return st;
	st = dns_addrs(d, t, *n, deadline, why, whylen);
	if (st == DNS_OK || !implicit)
		return st == DNS_TEMPFAIL ? DNS_TEMPFAIL : DNS_OK;
	/* no MX and no address: the domain cannot receive mail */
	*n = 0;
	if (st == DNS_NOTFOUND)
		util_fmt(why, whylen, "Host or domain name not found: %s has "
		    "no MX, A or AAAA record", name);
	return st;
}

/* dns_host - addresses of one host name (relayhost without [ ]) */
int
dns_host(struct dns *d, const char *host, int timeout, struct dns_target *t,
    char *why, size_t whylen)
{
	char		 name[DNS_NAME_MAX + 1];
	unsigned char	 a[16];

	memset(t, 0, sizeof(*t));
	if (host[0] == '[' || inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1)
		return dns_literal(host, t, why, whylen);
	if (dns_prep(host, name, sizeof(name), why, whylen) == -1)
		return DNS_NOTFOUND;
	util_strlcpy(t->host, name, sizeof(t->host));
	return dns_addrs(d, t, 1, dns_deadline(timeout), why, whylen);
}

/* dns_addr_text - printable address */
const char *
dns_addr_text(const struct dns_addr *a, char *buf, size_t len)
{
	if (len == 0)
		return "";
	if (inet_ntop(a->family, a->addr, buf, (socklen_t)len) == NULL)
		util_strlcpy(buf, "?", len);
	return buf;
}
