/*
 * fuzz_dns.c - libFuzzer target for what lib/dns does with answers from
 * the network: MX rdata (dns_parse_mx, dns_mx_list), the records of an
 * asynchronous answer (dns_answer_fill), DNSBL query names (dns_rbl_name)
 * with their filters (dns_rbl_filter) and host name checks
 * (dns_valid_name).  No lookups.
 *
 * Input: byte 0 selects the type of dns_answer_fill (A, AAAA, TXT, MX by
 * its low two bits; PTR when bit 3 is set), byte 1 the rcode/NXDOMAIN flags; then records, each
 * a u8 length and that many bytes (an exact-size heap copy each, so ASan
 * sees a read past one), up to 300; then two u8-length strings: an
 * address and a zone for dns_rbl_name.
 *
 * Properties checked (abort when broken):
 *  - dns_parse_mx on each record: 0 gives a NUL-terminated host that is
 *    "." or of letters, digits, '-', '?' and dots, at most 255 bytes;
 *  - dns_mx_list: DNS_OK with 1..DNS_MAX_TARGETS valid hosts sorted by
 *    preference, or DNS_NULLMX / DNS_TEMPFAIL with none;
 *  - dns_answer_fill: a known status, at most DNS_ANS_MAX texts, each
 *    NUL-terminated printable ASCII; DNS_OK exactly when some text was
 *    kept; NXDOMAIN is DNS_NOTFOUND whatever the records; every PTR text
 *    is a valid host name;
 *  - dns_rbl_name: 0 gives a valid host name under the zone, at most 255
 *    bytes; dns_rbl_filter (the zone string as the pattern) answers -1, 0
 *    or 1, and 1 only for an IPv4 address; dns_valid_name accepts only
 *    1..253 bytes of 1..63-byte labels.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_DNS_MAXREC	300

/* fuzz_dns_name_ok - dns_valid_name's promise */
static void
fuzz_dns_name_ok(const char *s)
{
	size_t	 len = strlen(s), lab = 0, i;

	if (!dns_valid_name(s))
		return;
	FZ_CHECK(len >= 1 && len <= 253);
	for (i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			FZ_CHECK(lab >= 1 && lab <= 63);
			lab = 0;
		} else
			lab++;
	}
}

/* fuzz_dns_hosts - a hosts(5) line: what it gives back is valid */
static void
fuzz_dns_hosts(const char *line)
{
	char	 rev[DNS_NAME_MAX + 1], name[DNS_NAME_MAX + 1];

	if (dns_hosts_line(line, rev, sizeof(rev), name, sizeof(name)) != 1)
		return;
	FZ_CHECK(dns_valid_name(name));
	FZ_CHECK(strlen(rev) > 5 && (strstr(rev, ".in-addr.arpa") != NULL ||
	    strstr(rev, ".ip6.arpa") != NULL));
}

/* fuzz_dns_mx - each record as MX rdata, then all of them as a list */
static void
fuzz_dns_mx(char **rd, int *len, size_t n)
{
	struct dns_target t[DNS_MAX_TARGETS];
	char	 host[DNS_NAME_MAX + 1], why[256];
	size_t	 i, nt = 0, k;
	int	 pref, r;

	for (i = 0; i < n; i++) {
		if (dns_parse_mx((const unsigned char *)rd[i], (size_t)len[i],
		    &pref, host, sizeof(host)) == -1)
			continue;
		FZ_CHECK(memchr(host, '\0', sizeof(host)) != NULL);
		FZ_CHECK(pref >= 0 && pref <= 65535);
		if (strcmp(host, ".") == 0)
			continue;
		for (k = 0; host[k] != '\0'; k++)
			FZ_CHECK((host[k] >= 'a' && host[k] <= 'z') ||
			    (host[k] >= '0' && host[k] <= '9') ||
			    host[k] == '-' || host[k] == '?' || host[k] == '.');
		fuzz_dns_name_ok(host);
	}
	r = dns_mx_list("fuzz.test", rd, len, n, t, &nt, why, sizeof(why));
	FZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
	if (r == DNS_OK) {
		FZ_CHECK(nt >= 1 && nt <= DNS_MAX_TARGETS);
		for (k = 0; k < nt; k++) {
			FZ_CHECK(dns_valid_name(t[k].host));
			FZ_CHECK(k == 0 || t[k - 1].pref <= t[k].pref);
		}
	} else
		FZ_CHECK((r == DNS_NULLMX || r == DNS_TEMPFAIL) && nt == 0);
}

/* fuzz_dns_fill - the records as an answer of one type */
static void
fuzz_dns_fill(int type, int nx, int rcode, char **rd, int *len)
{
	struct dns_answer a;
	size_t	 i, k;

	dns_answer_fill(type, nx, rcode, rd, len, &a);
	FZ_CHECK(a.status == DNS_OK || a.status == DNS_EMPTY ||
	    a.status == DNS_NOTFOUND || a.status == DNS_NULLMX ||
	    a.status == DNS_TEMPFAIL);
	FZ_CHECK(a.n <= DNS_ANS_MAX);
	FZ_CHECK((a.status == DNS_OK) == (a.n > 0));
	if (nx)
		FZ_CHECK(a.status == DNS_NOTFOUND);
	if (a.status == DNS_NULLMX)
		FZ_CHECK(type == DNS_Q_MX);
	for (i = 0; i < a.n; i++) {
		FZ_CHECK(memchr(a.text[i], '\0', sizeof(a.text[i])) != NULL);
		for (k = 0; a.text[i][k] != '\0'; k++)
			FZ_CHECK(a.text[i][k] >= 0x20 && a.text[i][k] < 0x7f);
		if (type == DNS_Q_PTR)
			FZ_CHECK(dns_valid_name(a.text[i]));
	}
}

/* fuzz_dns_rbl - a DNSBL name from an address and a zone */
static void
fuzz_dns_rbl(const char *ip, const char *zone)
{
	char	 out[DNS_NAME_MAX + 1];
	size_t	 zl = strlen(zone), ol;
	int	 r;

	fuzz_dns_name_ok(ip);
	fuzz_dns_name_ok(zone);
	/* the zone string doubles as a filter pattern */
	r = dns_rbl_filter(zone, ip);
	FZ_CHECK(r == -1 || r == 0 || r == 1);
	if (r == 1)
		FZ_CHECK(strchr(ip, '.') != NULL && strchr(ip, ':') == NULL);
	if (dns_rbl_name(ip, zone, out, sizeof(out)) == -1)
		return;
	ol = strlen(out);
	FZ_CHECK(ol <= DNS_NAME_MAX && ol > zl + 1);
	FZ_CHECK(strcmp(out + ol - zl, zone) == 0 && out[ol - zl - 1] == '.');
	FZ_CHECK(dns_valid_name(zone));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[4] = { DNS_Q_A, DNS_Q_AAAA, DNS_Q_TXT,
	    DNS_Q_MX };
	struct fz f;
	char	*rd[FUZZ_DNS_MAXREC + 1], *ip, *zone;
	int	 len[FUZZ_DNS_MAXREC + 1];
	const uint8_t *p;
	size_t	 n = 0, i, got;
	unsigned t, flags, nrec;

	fz_init(&f, data, size);
	t = fz_u8(&f);
	flags = fz_u8(&f);
	nrec = fz_u8(&f) + (t & 4 ? 256 : 0);
	while (n < nrec && n < FUZZ_DNS_MAXREC && f.n > 0) {
		p = fz_bytes(&f, fz_u8(&f), &got);
		rd[n] = fz_memdup(p, got);
		len[n++] = (int)got;
	}
	rd[n] = NULL;
	ip = fz_str(&f, 0);
	zone = fz_str(&f, 0);
	fuzz_dns_mx(rd, len, n);
	fuzz_dns_fill(t & 8 ? DNS_Q_PTR : types[t & 3], (int)(flags & 1),
	    (int)(flags >> 1) & 7, rd, len);
	fuzz_dns_rbl(ip, zone);
	fuzz_dns_hosts(ip);
	for (i = 0; i < n; i++)
		free(rd[i]);
	free(ip);
	free(zone);
	return 0;
}
