/*
 * fuzz_spf.c - libFuzzer target for the path of a TXT answer through
 * mailctl dns check: TXT rdata joined (dns_txt_join), split again for a
 * zone file (dns_txt_zone), parsed as an SPF record (spf_parse), counted
 * (spf_count) and evaluated (spf_check) with a resolver that answers
 * every TXT question with the same record (so includes and redirects
 * recurse into it), every A question with 192.0.2.1 and every MX question
 * with one host; and PTR rdata (dns_parse_name).
 *
 * Input: byte 0 selects the address to check (its low bit: 192.0.2.1 or
 * 2001:db8::1); the rest is TXT rdata (an exact-size heap copy, so ASan
 * sees a read past it), also given to dns_parse_name.
 *
 * Properties checked (abort when broken):
 *  - dns_txt_join: 0 only when the lengths add up; the text, split by
 *    dns_txt_zone and unescaped, is the same bytes again; every string
 *    of the split is at most 255 bytes;
 *  - spf_parse: 0 gives at most SPF_TERMS_MAX terms, each with a known
 *    mechanism and qualifier and CIDR lengths in range, a text, and a
 *    domain only where the mechanism takes one;
 *  - spf_count: 0 or a known error with a reason; spf_check: a result
 *    from SPF_NONE to SPF_PERMERROR, with a reason, after at most
 *    SPF_LOOKUP_MAX + 1 counted lookups and a bounded number of queries;
 *  - dns_parse_name: 0 gives 1..254 bytes of letters, digits, '-', '_',
 *    '?' and dots.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns.h"
#include "fuzz.h"
#include "spf.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_spf {
	const char	*rec;
	int		 queries;
};

/* fuzz_spf_lookup - the same record for every TXT question */
static int
fuzz_spf_lookup(void *arg, const char *name, int type, char ***v, size_t *n)
{
	struct fuzz_spf *f = arg;
	const char *a;

	f->queries++;
	FZ_CHECK(name != NULL && strlen(name) <= 253);
	*v = NULL;
	*n = 0;
	switch (type) {
	case SPF_Q_TXT:
		a = f->rec;
		break;
	case SPF_Q_A:
		a = "192.0.2.1";
		break;
	case SPF_Q_AAAA:
		return 1;
	case SPF_Q_MX:
		a = "mx.example.test";
		break;
	default:
		FZ_CHECK(0);
		return -1;
	}
	*v = calloc(1, sizeof(char *));
	if (*v == NULL || ((*v)[0] = strdup(a)) == NULL)
		abort();
	*n = 1;
	return 0;
}

/* fuzz_spf_unzone - the bytes of zone-file strings, checked */
static void
fuzz_spf_unzone(const struct buf *z, struct buf *out)
{
	const unsigned char *p = z->data, *e = z->data + z->len;
	size_t	 in;

	while (p < e) {
		FZ_CHECK(*p == '"');
		for (p++, in = 0; p < e && *p != '"'; in++) {
			if (*p == '\\' && p + 1 < e && p[1] >= '0' &&
			    p[1] <= '9') {
				FZ_CHECK(p + 3 < e);
				buf_putc(out, (p[1] - '0') * 100 +
				    (p[2] - '0') * 10 + (p[3] - '0'));
				p += 4;
			} else if (*p == '\\') {
				buf_putc(out, p[1]);
				p += 2;
			} else
				buf_putc(out, *p++);
		}
		FZ_CHECK(p < e && in <= 255);
		p++;
		if (p < e) {
			FZ_CHECK(*p == ' ');
			p++;
		}
	}
}

/* fuzz_spf_record - parse, count and check the joined text */
static void
fuzz_spf_record(const char *text, size_t len, int v6)
{
	struct fuzz_spf f = { text, 0 };
	struct spf_dns d = { fuzz_spf_lookup, &f };
	struct spf_record r;
	char	 err[256];
	size_t	 i;
	int	 n, res;

	if (spf_parse(text, len, &r, err, sizeof(err)) == 0) {
		FZ_CHECK(r.n <= SPF_TERMS_MAX);
		for (i = 0; i < r.n; i++) {
			FZ_CHECK(r.t[i].mech >= SPF_M_ALL &&
			    r.t[i].mech <= SPF_M_EXISTS);
			FZ_CHECK(strchr("+-~?", r.t[i].qual) != NULL &&
			    r.t[i].qual != 0);
			FZ_CHECK(r.t[i].cidr4 >= 0 && r.t[i].cidr4 <= 32);
			FZ_CHECK(r.t[i].cidr6 >= 0 && r.t[i].cidr6 <= 128);
			FZ_CHECK(r.t[i].text != NULL);
			FZ_CHECK(r.t[i].domain == NULL ||
			    (r.t[i].mech != SPF_M_ALL &&
			    r.t[i].mech != SPF_M_IP4 &&
			    r.t[i].mech != SPF_M_IP6));
		}
		spf_record_free(&r);
		fz_trace("parsed: %zu terms", i);
	} else {
		FZ_CHECK(err[0] != '\0');
		fz_trace("refused: %s", err);
	}
	err[0] = '\0';
	res = spf_count(&d, "example.test", &n, err, sizeof(err));
	FZ_CHECK(res == 0 || ((res == SPF_NONE || res == SPF_PERMERROR) &&
	    err[0] != '\0'));
	FZ_CHECK(n >= 0 && n <= SPF_LOOKUP_MAX + 1);
	f.queries = 0;
	res = spf_check(&d, "example.test", v6 ? "2001:db8::1" : "192.0.2.1",
	    "postmaster@example.test", &n, err, sizeof(err));
	FZ_CHECK(res >= SPF_NONE && res <= SPF_PERMERROR);
	FZ_CHECK(res == SPF_PASS || res == SPF_FAIL || res == SPF_SOFTFAIL ||
	    err[0] != '\0');
	FZ_CHECK(n <= SPF_LOOKUP_MAX + 1);
	/* a TXT, then per lookup at most an MX and 10 hosts' addresses */
	FZ_CHECK(f.queries <= 1 + (SPF_LOOKUP_MAX + 1) * 12);
	fz_trace("check: %s (%s)", spf_result_name(res), err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf j, z, back;
	char	 name[DNS_NAME_MAX + 1];
	uint8_t	*rd;
	size_t	 i;
	int	 v6;

	if (size == 0)
		return 0;
	v6 = data[0] & 1;
	rd = fz_memdup(data + 1, size - 1);
	if (dns_parse_name(rd, size - 1, name, sizeof(name)) == 0) {
		FZ_CHECK(strlen(name) >= 1 && strlen(name) <= 254);
		for (i = 0; name[i] != '\0'; i++)
			FZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyz0123456789"
			    "-_?.", name[i]) != NULL);
	}
	buf_init(&j, 65536);
	buf_init(&z, 4 * 65536 + 1024);
	buf_init(&back, 65536);
	if (dns_txt_join(rd, size - 1, &j) == 0) {
		FZ_CHECK(dns_txt_zone(j.data, j.len, " ", &z) == 0);
		fuzz_spf_unzone(&z, &back);
		FZ_CHECK(back.len == j.len && (j.len == 0 ||
		    memcmp(back.data, j.data, j.len) == 0));
		fuzz_spf_record(buf_cstr(&j), strnlen(buf_cstr(&j), j.len),
		    v6);
	} else
		fz_trace("TXT rdata malformed");
	buf_free(&j);
	buf_free(&z);
	buf_free(&back);
	free(rd);
	return 0;
}
