/*
 * dns_query.c - synchronous lookups of any record type (mailctl dns check:
 * TXT for SPF, DKIM, DMARC, TLS-RPT and MTA-STS, PTR, TLSA), and the text
 * forms of TXT records.
 *
 * Interface: dns.h (dns_query, dns_rrs_free, dns_txt_join, dns_txt_zone,
 * dns_parse_name, dns_reverse_name).  A query runs in libunbound's worker
 * thread under one deadline (dns_run, shared with dns.c).
 *
 * DESIGN rule 12: answers are outside bytes.  Every rdata is copied with
 * its length; the TXT and name parsers check each length against what is
 * left before they read, and the callers escape the text before showing
 * it.
 *
 * Errors: DNS_* with a reason in why; the parsers return -1.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "buf.h"
#include "dns.h"
#include "dns_priv.h"
#include "util.h"

/* dns_query_label_ok - letters, digits, '-', '_': 1 when all are */
static int
dns_query_label_ok(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* dns_query_name - a query name checked and lowercased, final dot dropped */
static int
dns_query_name(const char *in, char *out, size_t size)
{
	size_t	 len = strnlen(in, DNS_NAME_MAX + 2), i, start;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || len >= size)
		return -1;
	for (i = start = 0; i <= len; i++) {
		if (i < len && in[i] != '.') {
			if (!dns_query_label_ok((unsigned char)in[i]))
				return -1;
			continue;
		}
		if (i == start || i - start > 63)
			return -1;
		start = i + 1;
	}
	memcpy(out, in, len);
	out[len] = '\0';
	util_lowercase(out);
	return 0;
}

/* dns_query - see dns.h */
int
dns_query(struct dns *d, const char *name, int type, int timeout,
    struct dns_rrs *rrs, char *why, size_t whylen)
{
	struct dns_q	 q;
	char		 n[DNS_NAME_MAX + 1];
	size_t		 i, cnt;
	int		 st;

	memset(rrs, 0, sizeof(*rrs));
	if (dns_query_name(name, n, sizeof(n)) == -1) {
		util_fmt(why, whylen, "invalid domain name");
		return DNS_NOTFOUND;
	}
	memset(&q, 0, sizeof(q));
	q.name = n;
	q.type = type;
	dns_run(d, &q, 1, util_mono_ms() +
	    (uint64_t)(timeout < 1 ? 1 : timeout) * 1000);
	st = dns_status(&q, why, whylen);
	if (st == DNS_NODATA)
		st = DNS_EMPTY;
	if (st == DNS_OK) {
		for (cnt = 0; cnt < DNS_MAX_RR && q.res->data[cnt] != NULL;
		    cnt++)
			;
		rrs->rd = xcalloc(cnt, sizeof(*rrs->rd));
		rrs->len = xcalloc(cnt, sizeof(*rrs->len));
		for (i = 0; i < cnt; i++) {
			if (q.res->len[i] < 0)
				continue;	/* never from libunbound */
			rrs->len[rrs->n] = (size_t)q.res->len[i];
			rrs->rd[rrs->n] = xmalloc(rrs->len[rrs->n] + 1);
			memcpy(rrs->rd[rrs->n], q.res->data[i],
			    rrs->len[rrs->n]);
			rrs->rd[rrs->n][rrs->len[rrs->n]] = '\0';
			rrs->n++;
		}
	}
	dns_q_free(&q, 1);
	return st;
}

/* dns_rrs_free - the copies of a dns_query answer */
void
dns_rrs_free(struct dns_rrs *rrs)
{
	size_t	 i;

	for (i = 0; i < rrs->n; i++)
		free(rrs->rd[i]);
	free(rrs->rd);
	free(rrs->len);
	memset(rrs, 0, sizeof(*rrs));
}

/* dns_txt_join - see dns.h */
int
dns_txt_join(const unsigned char *rd, size_t len, struct buf *out)
{
	size_t	 p = 0, n;

	if (rd == NULL || len == 0)
		return -1;	/* a TXT record has one string at least */
	while (p < len) {
		n = rd[p++];
		if (n > len - p || buf_append(out, rd + p, n) == -1)
			return -1;
		p += n;
	}
	return 0;
}

/* dns_txt_zone - see dns.h */
int
dns_txt_zone(const void *v, size_t len, const char *sep, struct buf *out)
{
	const unsigned char *s = v;
	size_t	 i, j, k;
	int	 r = 0;

	if (len == 0)
		return buf_puts(out, "\"\"");
	for (i = 0; i < len && r == 0; i += k) {
		k = len - i < 255 ? len - i : 255;
		if (i > 0)
			r = buf_puts(out, sep);
		if (r == 0)
			r = buf_putc(out, '"');
		for (j = i; j < i + k && r == 0; j++) {
			if (s[j] == '"' || s[j] == '\\')
				r = buf_printf(out, "\\%c", s[j]);
			else if (s[j] < 0x20 || s[j] >= 0x7f)
				r = buf_printf(out, "\\%03u", s[j]);
			else
				r = buf_putc(out, s[j]);
		}
		if (r == 0)
			r = buf_putc(out, '"');
	}
	return r;
}

/* dns_parse_name - see dns.h */
int
dns_parse_name(const unsigned char *rd, size_t len, char *out, size_t size)
{
	size_t	 p = 0, o = 0, wire = 1, l, i;
	int	 c;

	if (rd == NULL || len == 0 || size < 2)
		return -1;
	while ((l = rd[p++]) != 0) {
		/* no compression pointers or extended label types */
		if ((l & 0xc0) != 0 || l > len - p ||
		    (wire += l + 1) > DNS_NAME_MAX || o + l + 2 > size)
			return -1;
		if (o > 0)
			out[o++] = '.';
		for (i = 0; i < l; i++) {
			c = util_tolower_ascii(rd[p + i]);
			/* '.' inside a label must not make two labels */
			out[o++] = dns_query_label_ok(c) ? (char)c : '?';
		}
		p += l;
		if (p >= len)
			return -1;
	}
	if (p != len || o == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/* dns_reverse_name - see dns.h */
int
dns_reverse_name(const char *addr, char *out, size_t size)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		return dns_rbl_name(addr, "in-addr.arpa", out, size);
	if (inet_pton(AF_INET6, addr, a) == 1)
		return dns_rbl_name(addr, "ip6.arpa", out, size);
	return -1;
}
