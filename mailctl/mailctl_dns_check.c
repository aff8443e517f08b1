/*
 * mailctl_dns_check.c - mailctl dns check: every record of
 * mailctl_dns_build compared with live DNS (dns_server_address, else the
 * system's resolvers), one line each:
 *
 *	NAME TYPE (WHAT): ok [(detail)]
 *	NAME TYPE (WHAT): MISSING (expected VALUE)
 *	NAME TYPE (WHAT): WRONG (expected ..., got ...)
 *	NAME TYPE (WHAT): ERROR (the lookup failed: why)
 *
 * and a summary line.  What "right" means per record: MX: one MX host is
 * myhostname; A/AAAA: myhostname has the outbound address; SPF: exactly
 * one record that parses, needs at most 10 DNS lookups, gives "pass" for
 * each outbound address (unless relayhost sends the mail) and has the
 * relayhost's include:; DKIM: one record whose key is the key on disk;
 * DMARC: one record with a valid p= and, with adkim=s, signatures of the
 * domain itself; TLS-RPT and MTA-STS: a record of the right version;
 * TLSA: one 3 1 1 record of the certificate's key, and no record at all
 * is fine but a wrong one is not; PTR: a name that is myhostname, and
 * myhostname resolves back to the address.
 *
 * Interface: mailctl_dns_check(records, fp) writes the lines to fp and
 * returns the exit status: 0 when every required record is right, else 1.  Optional records (TLS-RPT,
 * MTA-STS, TLSA, retired DKIM keys) are reported without failing, except
 * a TLSA record that is there and wrong.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "cfg.h"
#include "dkim.h"
#include "dns.h"
#include "log.h"
#include "mailctl.h"
#include "mailctl_dns.h"
#include "spf.h"
#include "util.h"

#define MDC_TIMEOUT	10
#define MDC_DETAIL	2048

struct mdc {
	struct mailctl_rrs *z;
	struct dns	*dns;
	FILE		*fp;
	int		 ok, missing, wrong, error, optional;
};

/* mdc_txts - the TXT records at name, each joined; DNS_* */
static int
mdc_txts(struct dns *dns, const char *name, char ***v, size_t *n, char *why,
    size_t whylen)
{
	struct dns_rrs rrs;
	struct buf b;
	size_t	 i;
	int	 st;

	*v = NULL;
	*n = 0;
	st = dns_query(dns, name, DNS_Q_TXT, MDC_TIMEOUT, &rrs, why, whylen);
	if (st == DNS_OK) {
		*v = xcalloc(rrs.n, sizeof(char *));
		for (i = 0; i < rrs.n; i++) {
			buf_init(&b, 65536);
			if (dns_txt_join(rrs.rd[i], rrs.len[i], &b) == 0)
				(*v)[(*n)++] = xstrdup(buf_cstr(&b));
			buf_free(&b);
		}
	}
	dns_rrs_free(&rrs);
	return st;
}

/* mdc_esc - printable text of DNS data, cut at 80 bytes */
static const char *
mdc_esc(const char *s, char *out, size_t size)
{
	return mailctl_dns_cut(s, 80, out, size);
}

/* mdc_status - a lookup's DNS_* as MAILCTL_DNS_*, with why for errors */
static int
mdc_status(int st, const char *why, char *detail, size_t size)
{
	if (st == DNS_OK)
		return MAILCTL_DNS_OK;
	if (st == DNS_EMPTY || st == DNS_NOTFOUND)
		return MAILCTL_DNS_MISSING;
	snprintf(detail, size, "(%s)", why);
	return MAILCTL_DNS_ERROR;
}

/* mdc_prefixed - the records that start with prefix; how many, which */
static size_t
mdc_prefixed(char **v, size_t n, const char *prefix, const char **one)
{
	size_t	 i, k = 0, pl = strlen(prefix);

	*one = NULL;
	for (i = 0; i < n; i++)
		if (strncmp(v[i], prefix, pl) == 0 && (v[i][pl] == '\0' ||
		    v[i][pl] == ';' || v[i][pl] == ' ')) {
			*one = v[i];
			k++;
		}
	return k;
}

/* mdc_names - the host names of MX or PTR answers, space separated */
static int
mdc_names(struct dns *dns, const char *name, int type, struct buf *out,
    const char *want, char *why, size_t whylen)
{
	struct dns_rrs rrs;
	char	 host[DNS_NAME_MAX + 1];
	size_t	 i;
	int	 st, pref, hit = 0;

	st = dns_query(dns, name, type, MDC_TIMEOUT, &rrs, why, whylen);
	for (i = 0; st == DNS_OK && i < rrs.n; i++) {
		if ((type == DNS_Q_MX ? dns_parse_mx(rrs.rd[i], rrs.len[i],
		    &pref, host, sizeof(host)) : dns_parse_name(rrs.rd[i],
		    rrs.len[i], host, sizeof(host))) == -1)
			continue;
		if (type == DNS_Q_MX)
			buf_printf(out, "%s%d %s", out->len > 0 ? ", " : "",
			    pref, host);
		else
			buf_printf(out, "%s%s", out->len > 0 ? ", " : "", host);
		hit |= util_strcasecmp_ascii(host, want) == 0;
	}
	dns_rrs_free(&rrs);
	return st != DNS_OK ? st : hit ? DNS_OK : -1;
}

/*
 * mdc_expect - the names of type at rr's name into got (buf_init'ed
 * here), mdc_names' answer; -1 (not myhostname) with "(expected want,
 * got ...)" in d
 */
static int
mdc_expect(struct mdc *c, const struct mailctl_rr *rr, int type,
    const char *want, struct buf *got, char *why, size_t whylen, char *d,
    size_t size)
{
	char	 esc[512];
	int	 st;

	buf_init(got, 8192);
	st = mdc_names(c->dns, rr->name, type, got, c->z->host, why, whylen);
	if (st == -1)
		snprintf(d, size, "(expected %s, got %s)", want,
		    mdc_esc(buf_cstr(got), esc, sizeof(esc)));
	return st;
}

/* mdc_mx - one of the domain's MX hosts is myhostname */
static int
mdc_mx(struct mdc *c, const struct mailctl_rr *rr, char *d, size_t size)
{
	struct buf got;
	char	 why[256];
	int	 st;

	st = mdc_expect(c, rr, DNS_Q_MX, rr->value, &got, why, sizeof(why), d,
	    size);
	buf_free(&got);
	return st == -1 ? MAILCTL_DNS_WRONG : mdc_status(st, why, d, size);
}

/* mdc_has_addr - does host have the address (A or AAAA) */
static int
mdc_has_addr(struct dns *dns, const char *host, const char *addr,
    struct buf *got, char *why, size_t whylen)
{
	unsigned char want[16];
	char	 txt[INET6_ADDRSTRLEN];
	struct dns_rrs rrs;
	size_t	 i;
	int	 v6 = strchr(addr, ':') != NULL, st, hit = 0;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, want) != 1)
		return -1;
	st = dns_query(dns, host, v6 ? DNS_Q_AAAA : DNS_Q_A, MDC_TIMEOUT,
	    &rrs, why, whylen);
	for (i = 0; st == DNS_OK && i < rrs.n; i++) {
		if (rrs.len[i] != (v6 ? 16u : 4u) || inet_ntop(v6 ? AF_INET6 :
		    AF_INET, rrs.rd[i], txt, sizeof(txt)) == NULL)
			continue;
		buf_printf(got, "%s%s", got->len > 0 ? ", " : "", txt);
		hit |= memcmp(rrs.rd[i], want, v6 ? 16 : 4) == 0;
	}
	dns_rrs_free(&rrs);
	return st != DNS_OK ? st : hit ? DNS_OK : -1;
}

/* mdc_addr - myhostname has the outbound address */
static int
mdc_addr(struct mdc *c, const struct mailctl_rr *rr, char *d, size_t size)
{
	struct buf got;
	char	 why[256];
	int	 st;

	buf_init(&got, 8192);
	st = mdc_has_addr(c->dns, rr->name, rr->addr, &got, why, sizeof(why));
	if (st == -1)
		snprintf(d, size, "(expected %s, got %s)", rr->addr,
		    buf_cstr(&got));
	buf_free(&got);
	return st == -1 ? MAILCTL_DNS_WRONG : mdc_status(st, why, d, size);
}

/* mdc_spf_lookup - struct spf_dns over dns_query */
static int
mdc_spf_lookup(void *arg, const char *name, int type, char ***v, size_t *n)
{
	struct dns *dns = arg;
	struct dns_rrs rrs;
	char	 why[256], txt[DNS_NAME_MAX + 1];
	size_t	 i;
	int	 st, pref;

	if (type == SPF_Q_TXT) {
		st = mdc_txts(dns, name, v, n, why, sizeof(why));
		return st == DNS_OK ? 0 : st == DNS_TEMPFAIL ? -1 : 1;
	}
	*v = NULL;
	*n = 0;
	st = dns_query(dns, name, type, MDC_TIMEOUT, &rrs, why, sizeof(why));
	if (st == DNS_OK)
		*v = xcalloc(rrs.n, sizeof(char *));
	for (i = 0; st == DNS_OK && i < rrs.n; i++) {
		if (type == SPF_Q_MX ? dns_parse_mx(rrs.rd[i], rrs.len[i],
		    &pref, txt, sizeof(txt)) == -1 : rrs.len[i] != (type ==
		    SPF_Q_A ? 4u : 16u) || inet_ntop(type == SPF_Q_A ?
		    AF_INET : AF_INET6, rrs.rd[i], txt, sizeof(txt)) == NULL)
			continue;
		(*v)[(*n)++] = xstrdup(txt);
	}
	dns_rrs_free(&rrs);
	return st == DNS_OK ? 0 : st == DNS_TEMPFAIL ? -1 : 1;
}

/* mdc_spf_addrs - spf_check of each outbound address must pass */
static int
mdc_spf_addrs(struct mdc *c, const struct mailctl_rr *rr, struct buf *ok,
    char *d, size_t size)
{
	struct spf_dns sd = { mdc_spf_lookup, c->dns };
	const char *a[2] = { c->z->addr4, c->z->addr6 };
	char	 why[512], sender[300];
	size_t	 i;
	int	 n, res;

	if (*cfg_str(c->z->cfg, "relayhost") != '\0')
		return MAILCTL_DNS_OK;	/* the relay's addresses send */
	if (a[0] == NULL && a[1] == NULL)
		buf_puts(ok, "; the outbound address is unknown: set "
		    "smtp_bind_address to check that SPF allows it");
	util_fmt(sender, sizeof(sender), "postmaster@%s", rr->name);
	for (i = 0; i < 2; i++) {
		if (a[i] == NULL)
			continue;
		res = spf_check(&sd, rr->name, a[i], sender, &n, why,
		    sizeof(why));
		if (res != SPF_PASS) {
			snprintf(d, size, "(expected \"pass\" for %s, got "
			    "\"%s\": %s)", a[i], spf_result_name(res), why);
			return res == SPF_TEMPERROR ? MAILCTL_DNS_ERROR :
			    MAILCTL_DNS_WRONG;
		}
		buf_printf(ok, "; %s: %s", a[i], why);
	}
	return MAILCTL_DNS_OK;
}

/* mdc_spf_record - the one SPF record: parses, counts, allows */
static int
mdc_spf_record(struct mdc *c, const struct mailctl_rr *rr, const char *one,
    char *d, size_t size)
{
	struct spf_dns sd = { mdc_spf_lookup, c->dns };
	struct spf_record rec;
	struct buf ok;
	char	 why[512], esc[512], inc[300];
	int	 st, cnt, r;

	mdc_esc(one, esc, sizeof(esc));
	if (spf_parse(one, strlen(one), &rec, why, sizeof(why)) == -1) {
		snprintf(d, size, "(expected \"%s\", got \"%s\": %s)",
		    rr->value, esc, why);
		return MAILCTL_DNS_WRONG;
	}
	spf_record_free(&rec);
	if ((st = spf_count(&sd, rr->name, &cnt, why, sizeof(why))) != 0) {
		snprintf(d, size, "(got \"%s\": %s)", esc, why);
		return st == SPF_TEMPERROR ? MAILCTL_DNS_ERROR :
		    MAILCTL_DNS_WRONG;
	}
	if (cnt > SPF_LOOKUP_MAX) {
		snprintf(d, size, "(got \"%s\", which needs more than %d DNS "
		    "lookups: receivers fail it)", esc, SPF_LOOKUP_MAX);
		return MAILCTL_DNS_WRONG;
	}
	util_fmt(inc, sizeof(inc), "include:%s", c->z->relay_include ?
	    c->z->relay_include : "");
	if (c->z->relay_include != NULL && strstr(one, inc) == NULL) {
		snprintf(d, size, "(expected %s for relayhost, got \"%s\")",
		    inc, esc);
		return MAILCTL_DNS_WRONG;
	}
	buf_init(&ok, 4096);
	if ((r = mdc_spf_addrs(c, rr, &ok, d, size)) == MAILCTL_DNS_OK)
		snprintf(d, size, "(%d DNS lookup%s%s)", cnt, cnt == 1 ? "" :
		    "s", buf_cstr(&ok));
	buf_free(&ok);
	return r;
}

/*
 * mdc_txt_one - the TXT records at rr's name (*v, *n) and how many start
 * with prefix (*one the last of them); 0 when the lookup failed or found
 * none, with the check's MAILCTL_DNS_* in *r and d said
 */
static size_t
mdc_txt_one(struct mdc *c, const struct mailctl_rr *rr, const char *prefix,
    char ***v, size_t *n, const char **one, int *r, char *d, size_t size)
{
	char	 why[512];
	size_t	 k;
	int	 st;

	st = mdc_txts(c->dns, rr->name, v, n, why, sizeof(why));
	k = mdc_prefixed(*v, *n, prefix, one);
	if (st == DNS_OK && k > 0)
		return k;
	if ((*r = mdc_status(st == DNS_OK ? DNS_EMPTY : st, why, d, size)) ==
	    MAILCTL_DNS_MISSING)
		snprintf(d, size, "(expected \"%s\")", rr->value);
	return 0;
}

/* mdc_spf - exactly one SPF record, and a right one */
static int
mdc_spf(struct mdc *c, const struct mailctl_rr *rr, char *d, size_t size)
{
	const char *one;
	char	**v;
	size_t	 n, k;
	int	 r;

	if ((k = mdc_txt_one(c, rr, "v=spf1", &v, &n, &one, &r, d, size)) >
	    1) {
		snprintf(d, size, "(expected one SPF record, got %zu: receivers "
		    "treat that as an error)", k);
		r = MAILCTL_DNS_WRONG;
	} else if (k == 1)
		r = mdc_spf_record(c, rr, one, d, size);
	util_strv_free(v, n);
	return r;
}

/* mdc_dmarc - one DMARC record with a policy that our signatures meet */
static int
mdc_dmarc(struct mdc *c, const struct mailctl_rr *rr, char *d, size_t size)
{
	struct dkim_tags t;
	const char *one, *p, *adkim;
	char	**v, why[512], esc[512];
	size_t	 n, k;
	int	 r = MAILCTL_DNS_WRONG;

	k = mdc_txt_one(c, rr, "v=DMARC1", &v, &n, &one, &r, d, size);
	if (k > 1)
		snprintf(d, size, "(expected one DMARC record, got %zu)", k);
	else if (k == 1 && dkim_tags_parse(one, strlen(one), &t, why,
	    sizeof(why)) == -1)
		snprintf(d, size, "(got \"%s\": %s)", mdc_esc(one, esc,
		    sizeof(esc)), why);
	else if (k == 1) {
		p = dkim_tags_get(&t, "p");
		adkim = dkim_tags_get(&t, "adkim");
		if (p == NULL || (strcmp(p, "none") != 0 &&
		    strcmp(p, "quarantine") != 0 && strcmp(p, "reject") != 0))
			snprintf(d, size, "(got \"%s\": p= must be none, "
			    "quarantine or reject)", mdc_esc(one, esc,
			    sizeof(esc)));
		else if (adkim != NULL && strcmp(adkim, "s") == 0 &&
		    c->z->signer != NULL && strcmp(c->z->signer,
		    c->z->domain) != 0)
			snprintf(d, size, "(got adkim=s, but mail from %s is "
			    "signed with d=%s: strict alignment fails)",
			    c->z->domain, c->z->signer);
		else {
			snprintf(d, size, "(p=%s%s)", p, strcmp(p, "none") ==
			    0 ? ": receivers only report" : "");
			r = MAILCTL_DNS_OK;
		}
		dkim_tags_free(&t);
	}
	util_strv_free(v, n);
	return r;
}

/* mdc_version - TLS-RPT and MTA-STS: one record of the right version */
static int
mdc_version(struct mdc *c, const struct mailctl_rr *rr, char *d, size_t size)
{
	const char *prefix = rr->kind == MAILCTL_RR_STS ? "v=STSv1" :
	    "v=TLSRPTv1", *one;
	char	**v, esc[512];
	size_t	 n, k;
	int	 r;

	if ((k = mdc_txt_one(c, rr, prefix, &v, &n, &one, &r, d, size)) ==
	    1) {
		snprintf(d, size, "(\"%s\"%s)", mdc_esc(one, esc, sizeof(esc)),
		    rr->kind == MAILCTL_RR_STS ? "; the policy file is not "
		    "fetched" : "");
		r = MAILCTL_DNS_OK;
	} else if (k > 1) {
		snprintf(d, size, "(expected one record, got %zu)", k);
		r = MAILCTL_DNS_WRONG;
	}
	util_strv_free(v, n);
	return r;
}

/* mdc_tlsa - a 3 1 1 record of the certificate's key */
static int
mdc_tlsa(struct mdc *c, const struct mailctl_rr *rr, char *d, size_t size)
{
	struct dns_rrs rrs;
	struct buf got;
	char	 why[256], hex[2 * 64 + 1];
	size_t	 i, j;
	int	 st, hit = 0;

	st = dns_query(c->dns, rr->name, DNS_Q_TLSA, MDC_TIMEOUT, &rrs, why,
	    sizeof(why));
	buf_init(&got, 8192);
	for (i = 0; st == DNS_OK && i < rrs.n; i++) {
		if (rrs.len[i] < 4 || rrs.len[i] > 3 + 64)
			continue;
		util_strlcpy(hex, "", sizeof(hex));
		for (j = 3; j < rrs.len[i]; j++)
			snprintf(hex + 2 * (j - 3), 3, "%02x", rrs.rd[i][j]);
		buf_printf(&got, "%s%u %u %u %s", got.len > 0 ? ", " : "",
		    rrs.rd[i][0], rrs.rd[i][1], rrs.rd[i][2], hex);
		hit |= strcmp(buf_cstr(&got) + got.len - strlen(rr->value),
		    rr->value) == 0;
	}
	dns_rrs_free(&rrs);
	if (st == DNS_OK && !hit)
		snprintf(d, size, "(expected \"%s\", got %s: DANE senders "
		    "will not deliver)", rr->value, buf_cstr(&got));
	buf_free(&got);
	if (st == DNS_OK)
		return hit ? MAILCTL_DNS_OK : MAILCTL_DNS_WRONG;
	return mdc_status(st, why, d, size);
}

/* mdc_ptr - the address's name is myhostname, which has the address */
static int
mdc_ptr(struct mdc *c, const struct mailctl_rr *rr, char *d, size_t size)
{
	struct buf got;
	char	 why[256];
	int	 st;

	st = mdc_expect(c, rr, DNS_Q_PTR, c->z->host, &got, why, sizeof(why),
	    d, size);
	if (st == DNS_OK) {
		buf_reset(&got);
		st = mdc_has_addr(c->dns, c->z->host, rr->addr, &got, why,
		    sizeof(why));
		if (st == DNS_OK)
			snprintf(d, size, "(forward-confirmed: %s has %s)",
			    c->z->host, rr->addr);
		else if (st != DNS_TEMPFAIL)
			snprintf(d, size, "(%s names %s, but %s does not "
			    "resolve to %s: not forward-confirmed)", rr->addr,
			    c->z->host, c->z->host, rr->addr);
		st = st == DNS_OK ? DNS_OK : st == DNS_TEMPFAIL ?
		    DNS_TEMPFAIL : -1;
	}
	buf_free(&got);
	if (st == -1)
		return MAILCTL_DNS_WRONG;
	if ((st = mdc_status(st, why, d, size)) == MAILCTL_DNS_MISSING)
		snprintf(d, size, "(expected %s; the address's provider sets "
		    "it)", c->z->host);
	return st;
}

/* mdc_dkim - the record of a key on disk */
static int
mdc_dkim(struct mdc *c, const struct mailctl_rr *rr, char *d, size_t size)
{
	int	 r;

	r = mailctl_dns_dkim(c->dns, rr->key, d, size);
	if (r == MAILCTL_DNS_MISSING)
		snprintf(d, size, "(expected \"%.60s...\")", rr->value);
	return r;
}

static const struct {
	int	 kind;
	const char *what;
	int	(*check)(struct mdc *, const struct mailctl_rr *, char *,
		    size_t);
} mdc_checks[] = {
	{ MAILCTL_RR_MX, "", mdc_mx },
	{ MAILCTL_RR_ADDR, " (myhostname)", mdc_addr },
	{ MAILCTL_RR_SPF, " (SPF)", mdc_spf },
	{ MAILCTL_RR_DKIM, " (DKIM)", mdc_dkim },
	{ MAILCTL_RR_DMARC, " (DMARC)", mdc_dmarc },
	{ MAILCTL_RR_TLSRPT, " (TLS-RPT)", mdc_version },
	{ MAILCTL_RR_STS, " (MTA-STS)", mdc_version },
	{ MAILCTL_RR_TLSA, " (DANE)", mdc_tlsa },
	{ MAILCTL_RR_PTR, " (reverse DNS)", mdc_ptr },
};

/* mdc_one - check one record, print its line, count it */
static void
mdc_one(struct mdc *c, const struct mailctl_rr *rr)
{
	static const char *const words[] = { "ok", "MISSING", "WRONG",
	    "ERROR" };
	char	 d[MDC_DETAIL], what[128];
	size_t	 i;
	int	 r = -1, opt;

	d[0] = '\0';
	for (i = 0; i < NELEM(mdc_checks) && r == -1; i++)
		if (mdc_checks[i].kind == rr->kind) {
			r = mdc_checks[i].check(c, rr, d, sizeof(d));
			util_strlcpy(what, mdc_checks[i].what, sizeof(what));
		}
	if (r == -1)
		return;		/* the policy file: nothing in DNS */
	if (rr->kind == MAILCTL_RR_DKIM)
		snprintf(what, sizeof(what), " (DKIM %s, %s)",
		    mailctl_dkim_alg_name(rr->key->alg), rr->key->state ==
		    MAILCTL_DKIM_ACTIVE ? "active" : rr->key->state ==
		    MAILCTL_DKIM_NEXT ? "next" : "retired");
	/* optional records fail nothing, but a wrong TLSA does */
	opt = !rr->required && !(rr->kind == MAILCTL_RR_TLSA &&
	    r == MAILCTL_DNS_WRONG);
	fprintf(c->fp, "%s %s%s: %s%s%s%s\n", rr->name, rr->type, what, words[r],
	    d[0] != '\0' ? " " : "", d, opt && r != MAILCTL_DNS_OK ?
	    " (optional)" : "");
	if (r == MAILCTL_DNS_OK)
		c->ok++;
	else if (opt)
		c->optional++;
	else if (r == MAILCTL_DNS_MISSING)
		c->missing++;
	else if (r == MAILCTL_DNS_WRONG)
		c->wrong++;
	else
		c->error++;
}

/* mdc_host - without an outbound address: myhostname has an address */
static void
mdc_host(struct mdc *c)
{
	struct buf got;
	char	 why[256];
	int	 st4, st6;

	buf_init(&got, 8192);
	/* addresses no host has: every address found lands in got */
	st4 = mdc_has_addr(c->dns, c->z->host, "0.0.0.0", &got, why,
	    sizeof(why));
	st6 = mdc_has_addr(c->dns, c->z->host, "::", &got, why, sizeof(why));
	if (got.len > 0) {
		fprintf(c->fp, "%s A/AAAA (myhostname): ok (%s)\n", c->z->host,
		    buf_cstr(&got));
		c->ok++;
	} else if (st4 == DNS_TEMPFAIL || st6 == DNS_TEMPFAIL) {
		fprintf(c->fp, "%s A/AAAA (myhostname): ERROR (%s)\n", c->z->host, why);
		c->error++;
	} else {
		fprintf(c->fp, "%s A/AAAA (myhostname): MISSING (expected this "
		    "server's public address: the MX points at %s)\n",
		    c->z->host, c->z->host);
		c->missing++;
	}
	buf_free(&got);
}

/* mailctl_dns_check - see mailctl.h */
int
mailctl_dns_check(struct mailctl_rrs *z, FILE *fp)
{
	struct mdc c;
	size_t	 i;

	memset(&c, 0, sizeof(c));
	c.z = z;
	c.fp = fp;
	if ((c.dns = mailctl_dns_resolver(z->cfg)) == NULL)
		return 1;
	for (i = 0; i < z->n; i++) {
		mdc_one(&c, &z->v[i]);
		if (z->v[i].kind == MAILCTL_RR_MX && z->addr4 == NULL &&
		    z->addr6 == NULL)
			mdc_host(&c);
	}
	if (z->signer == NULL) {
		fprintf(c.fp, "%s DKIM: MISSING (no keys: mailctl dkim keygen %s)\n",
		    z->domain, z->domain);
		c.missing++;
	}
	dns_free(c.dns);
	fprintf(c.fp, "%s: %d ok, %d missing, %d wrong, %d failed lookups%s; %s\n",
	    z->domain, c.ok, c.missing, c.wrong, c.error, c.optional > 0 ?
	    " (and optional records not right)" : "",
	    c.missing + c.wrong + c.error == 0 ? "every required record is "
	    "right" : "not ready");
	return c.missing + c.wrong + c.error == 0 ? 0 : 1;
}
