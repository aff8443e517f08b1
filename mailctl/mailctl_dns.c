/*
 * mailctl_dns.c - mailctl dns records | check: the DNS records a youju
 * domain needs, computed from the configuration and the DKIM keys, as a
 * zone file or JSON, and (mailctl_dns_check.c) compared with live DNS.
 *
 *	mailctl dns records DOMAIN [--zone | --json]
 *	mailctl dns check DOMAIN
 *
 * Interface: mailctl_dns_main(cfg, control socket, argc, argv) with argv
 * starting at "dns", returning the exit status (0 done, 1 failed, 2
 * usage); mailctl_dns_build (the records), mailctl_dns_resolver and
 * mailctl_dns_dkim (one key's record against the key, also for mailctl
 * dkim), mailctl_dns_zone_txt (a TXT record for a zone file).
 *
 * The records, in order: MX (when DOMAIN is in mydestination), A/AAAA of
 * myhostname (when smtp_bind_address(6) is set), SPF, DKIM (active, next
 * and retired selectors within the grace period of the domain that signs
 * DOMAIN's mail), DMARC, TLS-RPT, MTA-STS TXT and its policy file (with a
 * certificate), TLSA 3 1 1 of smtpd_tls_cert_file's key, PTR of the
 * outbound addresses.  In JSON each is {"name", "type", "value",
 * "note"}; names carry no final dot, TXT values are unsplit, and the
 * policy file has type "FILE" with its URL as the name.
 *
 * Errors go to stderr as "mailctl: ..."; text from DNS is escaped before
 * it is printed.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cfg.h"
#include "dkim.h"
#include "dns.h"
#include "log.h"
#include "mailctl.h"
#include "mailctl_dns.h"
#include "util.h"

#define MAILCTL_DNS_TIMEOUT	10	/* seconds per query */
#define MAILCTL_STS_MAX_AGE	604800	/* a week, in the policy file */

/* SPF include: of mail sending services, by the relayhost's domain */
static const struct {
	const char	*suffix;
	const char	*include;
} mailctl_dns_relays[] = {
	{ "amazonaws.com", "amazonses.com" },
	{ "sendgrid.net", "sendgrid.net" },
	{ "mailgun.org", "mailgun.org" },
	{ "gmail.com", "_spf.google.com" },
	{ "googlemail.com", "_spf.google.com" },
	{ "office365.com", "spf.protection.outlook.com" },
	{ "outlook.com", "spf.protection.outlook.com" },
	{ "mailjet.com", "spf.mailjet.com" },
	{ "sparkpostmail.com", "_spf.sparkpostmail.com" },
	{ "mailchannels.net", "relay.mailchannels.net" },
};

/* mailctl_dns_usage - the dns commands; exit status 2 */
static int
mailctl_dns_usage(void)
{
	fprintf(stderr, "usage: mailctl [-c config_dir] dns records DOMAIN "
	    "[--zone | --json]\n"
	    "       mailctl [-c config_dir] dns check DOMAIN\n");
	return 2;
}

/* mailctl_dns_resolver - see mailctl.h */
struct dns *
mailctl_dns_resolver(const struct cfg *cfg)
{
	struct dns *d;
	char	 err[512];

	if ((d = dns_new(cfg_str(cfg, "dns_server_address"), err,
	    sizeof(err))) == NULL)
		fprintf(stderr, "mailctl: DNS resolver: %s\n", err);
	return d;
}

/* mailctl_dns_cut - see mailctl_dns.h */
const char *
mailctl_dns_cut(const char *s, size_t max, char *out, size_t size)
{
	size_t	 len = strlen(s);

	log_escape(out, size, s, len > max ? max : len);
	if (len > max)
		util_strlcat(out, "...", size);
	return out;
}

/* mailctl_dns_short - printable text of DNS data, cut at 60 bytes */
static const char *
mailctl_dns_short(const char *s, char *out, size_t size)
{
	return mailctl_dns_cut(s, 60, out, size);
}

/*
 * mailctl_dns_dkim - see mailctl.h.  A key record is one TXT record whose
 * strings joined parse as a DKIM key (RFC 6376 3.6.2.2); two at one name
 * are wrong, since a verifier may pick either.
 */
int
mailctl_dns_dkim(struct dns *dns, const struct mailctl_dkim_key *k,
    char *detail, size_t size)
{
	struct dns_rrs rrs;
	struct buf txt;
	char	 name[512], why[256], esc[512];
	void	*pub = NULL;
	int	 st, alg, r;

	detail[0] = '\0';
	if (util_fmt(name, sizeof(name), "%s._domainkey.%s", k->selector,
	    k->domain) == -1)
		return MAILCTL_DNS_ERROR;
	st = dns_query(dns, name, DNS_Q_TXT, MAILCTL_DNS_TIMEOUT, &rrs, why,
	    sizeof(why));
	buf_init(&txt, 65536);
	if (st == DNS_EMPTY || st == DNS_NOTFOUND)
		r = MAILCTL_DNS_MISSING;
	else if (st != DNS_OK) {
		snprintf(detail, size, "(%s)", why);
		r = MAILCTL_DNS_ERROR;
	} else if (rrs.n != 1) {
		snprintf(detail, size, "(expected one TXT record, got %zu)",
		    rrs.n);
		r = MAILCTL_DNS_WRONG;
	} else if (dns_txt_join(rrs.rd[0], rrs.len[0], &txt) == -1) {
		snprintf(detail, size, "(malformed TXT record)");
		r = MAILCTL_DNS_WRONG;
	} else if ((pub = dkim_record_parse(buf_cstr(&txt), txt.len, &alg, why,
	    sizeof(why))) == NULL) {
		snprintf(detail, size, "(expected the key of %s, got \"%s\": "
		    "%s)", k->path, mailctl_dns_short(buf_cstr(&txt), esc,
		    sizeof(esc)), why);
		r = MAILCTL_DNS_WRONG;
	} else if (!dkim_key_same(pub, k->key)) {
		snprintf(detail, size, "(expected the key of %s, got another "
		    "key: \"%s\")", k->path, mailctl_dns_short(buf_cstr(&txt),
		    esc, sizeof(esc)));
		r = MAILCTL_DNS_WRONG;
	} else
		r = MAILCTL_DNS_OK;
	dkim_key_free(pub);
	buf_free(&txt);
	dns_rrs_free(&rrs);
	return r;
}

/* mailctl_dns_zone_txt - see mailctl.h */
void
mailctl_dns_zone_txt(FILE *fp, const char *name, const char *value)
{
	struct buf z;
	size_t	 len = strlen(value);

	buf_init(&z, 4 * 65536);
	if (dns_txt_zone(value, len, "\n\t\t\t", &z) == 0)
		fprintf(fp, "%s.\tIN\tTXT\t%s%s%s\n", name, len > 255 ? "( " :
		    "", buf_cstr(&z), len > 255 ? " )" : "");
	buf_free(&z);
}

/* mailctl_dns_add - append a record; the note is formatted */
static struct mailctl_rr * __attribute__((format(printf, 7, 8)))
mailctl_dns_add(struct mailctl_rrs *z, int kind, const char *name,
    const char *type, const char *value, int required, const char *fmt, ...)
{
	struct mailctl_rr *rr;
	struct buf note;
	va_list	 ap;

	z->v = xreallocarray(z->v, z->n + 1, sizeof(*z->v));
	rr = &z->v[z->n++];
	memset(rr, 0, sizeof(*rr));
	rr->kind = kind;
	rr->name = xstrdup(name);
	rr->type = type;
	rr->value = xstrdup(value);
	rr->required = required;
	buf_init(&note, 8192);
	va_start(ap, fmt);
	(void)buf_vprintf(&note, fmt, ap);
	va_end(ap);
	rr->note = xstrdup(buf_cstr(&note));
	buf_free(&note);
	return rr;
}

/* mailctl_dns_addr - smtp_bind_address(6) normalised, or NULL */
static int
mailctl_dns_addr(const struct cfg *cfg, const char *param, int family,
    char **out)
{
	unsigned char a[16];
	char	 txt[INET6_ADDRSTRLEN];
	const char *v = cfg_str(cfg, param);

	*out = NULL;
	if (*v == '\0')
		return 0;
	if (inet_pton(family, v, a) != 1 ||
	    inet_ntop(family, a, txt, sizeof(txt)) == NULL) {
		fprintf(stderr, "mailctl: %s = %s: not an IPv%d address\n",
		    param, v, family == AF_INET ? 4 : 6);
		return -1;
	}
	*out = xstrdup(txt);
	return 0;
}

/* mailctl_dns_relay - the SPF include: for relayhost, if known */
static const char *
mailctl_dns_relay(const char *relayhost)
{
	char	 host[256], *p;
	size_t	 i, hl, sl;

	util_strlcpy(host, relayhost + (relayhost[0] == '['), sizeof(host));
	if ((p = strchr(host, ']')) != NULL || (p = strchr(host, ':')) !=
	    NULL)
		*p = '\0';
	util_lowercase(host);
	hl = strlen(host);
	for (i = 0; i < NELEM(mailctl_dns_relays); i++) {
		sl = strlen(mailctl_dns_relays[i].suffix);
		if (hl >= sl && strcmp(host + hl - sl,
		    mailctl_dns_relays[i].suffix) == 0 &&
		    (hl == sl || host[hl - sl - 1] == '.'))
			return mailctl_dns_relays[i].include;
	}
	return NULL;
}

/* mailctl_dns_receives - is domain in mydestination */
static int
mailctl_dns_receives(const struct cfg *cfg, const char *domain)
{
	char	**v;
	size_t	 n, i;
	int	 r = 0;

	v = cfg_list(cfg, "mydestination", &n);
	for (i = 0; i < n && !r; i++)
		r = util_strcasecmp_ascii(v[i], domain) == 0;
	cfg_list_free(v, n);
	return r;
}

/* mailctl_dns_spf - the SPF record and why it says what it says */
static void
mailctl_dns_spf(struct mailctl_rrs *z)
{
	const char *relay = cfg_str(z->cfg, "relayhost");
	struct buf v, why;

	buf_init(&v, 4096);
	buf_init(&why, 4096);
	buf_puts(&v, "v=spf1 mx");
	buf_printf(&why, "SPF: the hosts that may send mail from %s. \"mx\" "
	    "allows %s", z->domain, z->host);
	if (z->addr4 != NULL || z->addr6 != NULL) {
		buf_printf(&v, "%s%s%s%s", z->addr4 ? " ip4:" : "",
		    z->addr4 ? z->addr4 : "", z->addr6 ? " ip6:" : "",
		    z->addr6 ? z->addr6 : "");
		buf_puts(&why, "; ip4:/ip6: the address youju sends from "
		    "(smtp_bind_address)");
	}
	if (z->relay_include != NULL) {
		buf_printf(&v, " include:%s", z->relay_include);
		buf_printf(&why, "; include:%s the servers of relayhost %s, "
		    "which sends the mail", z->relay_include, relay);
	}
	buf_puts(&v, " -all");
	buf_puts(&why, ". \"-all\" asks receivers to refuse mail from "
	    "anywhere else (\"~all\" while other services still send as the "
	    "domain).");
	if (*relay != '\0' && z->relay_include == NULL)
		buf_printf(&why, " Mail leaves through relayhost %s: add the "
		    "include: its provider documents (Amazon SES: "
		    "include:amazonses.com).", relay);
	buf_puts(&why, " A domain has one SPF record: merge with an existing "
	    "one, never add a second.");
	mailctl_dns_add(z, MAILCTL_RR_SPF, z->domain, "TXT", buf_cstr(&v), 1,
	    "%s", buf_cstr(&why));
	buf_free(&v);
	buf_free(&why);
}

/* mailctl_dns_dkims - the key records of the signing domain */
static void
mailctl_dns_dkims(struct mailctl_rrs *z)
{
	const struct mailctl_dkim_key *k;
	struct mailctl_rr *rr;
	struct buf rec;
	char	 name[512], d1[32], d2[32], bits[32], what[512];
	size_t	 i;
	time_t	 t;

	buf_init(&rec, 65536);
	for (i = 0; i < z->keys.n; i++) {
		k = &z->keys.v[i];
		t = (time_t)k->mtime;
		/* a key the broker refuses is not published either */
		if (z->signer == NULL || strcmp(k->domain, z->signer) != 0 ||
		    k->alg == 0 || k->problem[0] != '\0' || (k->state == MAILCTL_DKIM_RETIRED &&
		    time(NULL) >= t + MAILCTL_DKIM_GRACE))
			continue;
		buf_reset(&rec);
		if (dkim_key_record(k->key, &rec) == -1 || util_fmt(name,
		    sizeof(name), "%s._domainkey.%s", k->selector,
		    k->domain) == -1)
			continue;
		snprintf(bits, sizeof(bits), ", %d bits", k->bits);
		strftime(d1, sizeof(d1), "%Y-%m-%d", gmtime(&t));
		t += MAILCTL_DKIM_GRACE;
		strftime(d2, sizeof(d2), "%Y-%m-%d", gmtime(&t));
		if (k->state == MAILCTL_DKIM_ACTIVE)
			snprintf(what, sizeof(what), "active: mail from %s is "
			    "signed with it", z->domain);
		else if (k->state == MAILCTL_DKIM_NEXT)
			snprintf(what, sizeof(what), "staged by mailctl dkim "
			    "rotate: publish it now, before rotate --activate");
		else
			snprintf(what, sizeof(what), "retired %s: keep it "
			    "published until %s for mail signed before, then "
			    "remove it", d1, d2);
		rr = mailctl_dns_add(z, MAILCTL_RR_DKIM, name, "TXT",
		    buf_cstr(&rec), k->state != MAILCTL_DKIM_RETIRED,
		    "DKIM key %s (%s-sha256%s, %s), %s.", k->selector,
		    mailctl_dkim_alg_name(k->alg), k->alg == DKIM_RSA_SHA256 ?
		    bits : "", k->path, what);
		rr->key = k;
	}
	buf_free(&rec);
	if (z->signer == NULL)
		fprintf(stderr, "mailctl: warning: no DKIM keys sign mail from "
		    "%s: make them with: mailctl dkim keygen %s\n", z->domain,
		    z->domain);
	else if (!cfg_bool(z->cfg, "dkim_signing"))
		fprintf(stderr, "mailctl: warning: dkim_signing = no: the keys "
		    "of %s sign nothing\n", z->signer);
}

/* mailctl_dns_policy - the MTA-STS policy file's text */
static void
mailctl_dns_policy(const struct mailctl_rrs *z, struct buf *b)
{
	buf_printf(b, "version: STSv1\nmode: testing\nmx: %s\nmax_age: %d\n",
	    z->host, MAILCTL_STS_MAX_AGE);
}

/* mailctl_dns_hex - bytes as lower-case hex */
static void
mailctl_dns_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* mailctl_dns_tlsa - "3 1 1 <SHA-256 of the certificate's key>" */
static int
mailctl_dns_tlsa(const char *path, char *out, size_t size)
{
	unsigned char md[32], *der = NULL;
	char	 hex[65];
	X509	*x = NULL;
	FILE	*f;
	int	 n, r = -1;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "mailctl: warning: smtpd_tls_cert_file %s: %s "
		    "(no TLSA record)\n", path, strerror(errno));
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x != NULL && (n = i2d_PUBKEY(X509_get0_pubkey(x), &der)) > 0 &&
	    EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL) == 1) {
		mailctl_dns_hex(md, sizeof(md), hex);
		r = util_fmt(out, size, "3 1 1 %s", hex);
	} else
		fprintf(stderr, "mailctl: warning: smtpd_tls_cert_file %s: no "
		    "certificate in it (no TLSA record)\n", path);
	OPENSSL_free(der);
	X509_free(x);
	return r;
}

/* mailctl_dns_tls - TLS-RPT, MTA-STS and TLSA for a receiving domain */
static void
mailctl_dns_tls(struct mailctl_rrs *z)
{
	const char *cert = cfg_str(z->cfg, "smtpd_tls_cert_file");
	unsigned char md[32];
	char	 name[512], val[512], hex[65];
	struct buf pol;

	util_fmt(name, sizeof(name), "_smtp._tls.%s", z->domain);
	util_fmt(val, sizeof(val), "v=TLSRPTv1; rua=mailto:postmaster@%s",
	    z->domain);
	mailctl_dns_add(z, MAILCTL_RR_TLSRPT, name, "TXT", val, 0, "TLS-RPT "
	    "(RFC 8460, optional): senders mail a daily report of failed TLS "
	    "connections to %s to postmaster@%s.", z->host, z->domain);
	if (*cert == '\0')
		return;
	buf_init(&pol, 4096);
	mailctl_dns_policy(z, &pol);
	EVP_Digest(pol.data, pol.len, md, NULL, EVP_sha256(), NULL);
	mailctl_dns_hex(md, 8, hex);
	util_fmt(name, sizeof(name), "_mta-sts.%s", z->domain);
	util_fmt(val, sizeof(val), "v=STSv1; id=%s", hex);
	mailctl_dns_add(z, MAILCTL_RR_STS, name, "TXT", val, 0, "MTA-STS (RFC "
	    "8461, optional): senders that know the policy below send to %s "
	    "only over TLS with a certificate they can verify. The id is a "
	    "hash of the policy: it changes when the policy does.", z->host);
	util_fmt(name, sizeof(name), "https://mta-sts.%s/.well-known/"
	    "mta-sts.txt", z->domain);
	mailctl_dns_add(z, MAILCTL_RR_POLICY, name, "FILE", buf_cstr(&pol), 0,
	    "The MTA-STS policy file, not a DNS record: serve this text at "
	    "%s (mta-sts.%s needs an address and a certificate from a public "
	    "CA). \"mode: testing\" only makes senders report; change it to "
	    "enforce, and change the id, once the TLS-RPT reports are clean.",
	    name, z->domain);
	buf_free(&pol);
	if (mailctl_dns_tlsa(cert, val, sizeof(val)) == -1)
		return;
	util_fmt(name, sizeof(name), "_25._tcp.%s", z->host);
	mailctl_dns_add(z, MAILCTL_RR_TLSA, name, "TLSA", val, 0, "DANE "
	    "(RFC 7672, optional, only in a DNSSEC-signed zone): the SHA-256 "
	    "of the public key of smtpd_tls_cert_file. A wrong record makes "
	    "DANE senders refuse to deliver: renew the certificate with the "
	    "same key (certbot --reuse-key), or publish the new key's record "
	    "before the new certificate is used.");
}

/* mailctl_dns_hostaddrs - A/AAAA of myhostname and PTR of each address */
static void
mailctl_dns_hostaddrs(struct mailctl_rrs *z, int ptr)
{
	char	 rev[DNS_NAME_MAX + 1], *a[2];
	size_t	 i;
	struct mailctl_rr *rr;

	a[0] = z->addr4;
	a[1] = z->addr6;
	for (i = 0; i < 2; i++) {
		if (a[i] == NULL)
			continue;
		if (!ptr) {
			rr = mailctl_dns_add(z, MAILCTL_RR_ADDR, z->host,
			    i == 0 ? "A" : "AAAA", a[i], 1, "%s (myhostname) "
			    "must have the address youju sends from "
			    "(smtp_bind_address%s), so that its reverse DNS "
			    "is forward-confirmed.", z->host, i == 0 ? "" :
			    "6");
			rr->addr = xstrdup(a[i]);
			continue;
		}
		if (dns_reverse_name(a[i], rev, sizeof(rev)) == -1)
			continue;
		rr = mailctl_dns_add(z, MAILCTL_RR_PTR, rev, "PTR", z->host,
		    *cfg_str(z->cfg, "relayhost") == '\0', "Reverse DNS of "
		    "the outbound address %s: set by whoever runs the address "
		    "(the hosting provider), not in the zone of %s. Receivers "
		    "check that it names %s and that %s resolves back to "
		    "it.%s", a[i], z->domain, z->host, z->host,
		    *cfg_str(z->cfg, "relayhost") != '\0' ? " (Optional: "
		    "mail leaves through relayhost.)" : "");
		rr->addr = xstrdup(a[i]);
	}
}

/* mailctl_dns_build - see mailctl.h */
int
mailctl_dns_build(const struct cfg *cfg, const char *domain,
    struct mailctl_rrs *z)
{
	char	 name[512], val[512];

	memset(z, 0, sizeof(*z));
	z->cfg = cfg;
	util_strlcpy(z->domain, domain, sizeof(z->domain));
	z->host = cfg_str(cfg, "myhostname");
	z->receives = mailctl_dns_receives(cfg, domain);
	if (*cfg_str(cfg, "relayhost") != '\0')
		z->relay_include = mailctl_dns_relay(cfg_str(cfg, "relayhost"));
	if (mailctl_dns_addr(cfg, "smtp_bind_address", AF_INET,
	    &z->addr4) == -1 || mailctl_dns_addr(cfg, "smtp_bind_address6",
	    AF_INET6, &z->addr6) == -1 ||
	    mailctl_dkim_scan(cfg, NULL, &z->keys) == -1)
		return -1;
	z->signer = mailctl_dkim_signer(&z->keys, domain);
	if (z->receives) {
		util_fmt(val, sizeof(val), "10 %s", z->host);
		mailctl_dns_add(z, MAILCTL_RR_MX, domain, "MX", val, 1, "Mail "
		    "for %s is delivered to this server (myhostname = %s).",
		    domain, z->host);
	}
	mailctl_dns_hostaddrs(z, 0);
	mailctl_dns_spf(z);
	mailctl_dns_dkims(z);
	util_fmt(name, sizeof(name), "_dmarc.%s", domain);
	util_fmt(val, sizeof(val), "v=DMARC1; p=quarantine; "
	    "rua=mailto:postmaster@%s", domain);
	mailctl_dns_add(z, MAILCTL_RR_DMARC, name, "TXT", val, 1, "DMARC: "
	    "receivers put mail that claims to come from %s but passes "
	    "neither SPF nor DKIM for it in the spam folder (p=quarantine), "
	    "and send daily reports to postmaster@%s, which must receive "
	    "mail. Use p=none first if other services send as %s and you want "
	    "to read the reports; p=reject once they show only your own "
	    "mail.", domain, domain, domain);
	if (z->receives)
		mailctl_dns_tls(z);
	mailctl_dns_hostaddrs(z, 1);
	return 0;
}

/* mailctl_dns_free - the records and the keys */
void
mailctl_dns_free(struct mailctl_rrs *z)
{
	size_t	 i;

	for (i = 0; i < z->n; i++) {
		free(z->v[i].name);
		free(z->v[i].value);
		free(z->v[i].note);
		free(z->v[i].addr);
	}
	free(z->v);
	free(z->addr4);
	free(z->addr6);
	mailctl_dkim_keys_free(&z->keys);
	memset(z, 0, sizeof(*z));
}

/* mailctl_dns_comment - a note as "; " lines of at most 76 columns */
static void
mailctl_dns_comment(const char *s)
{
	size_t	 len, cut;

	while (*s != '\0') {
		len = strlen(s);
		cut = len;
		if (len > 74) {
			for (cut = 74; cut > 0 && s[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = strcspn(s, " ");
		}
		printf(";%s%.*s\n", cut > 0 ? " " : "", (int)cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
}

/* mailctl_dns_zone - the records as a zone file with the notes */
static void
mailctl_dns_zone(const struct mailctl_rrs *z)
{
	const struct mailctl_rr *rr;
	const char *p, *nl;
	size_t	 i;

	printf("; DNS records for %s (mailctl dns records; myhostname = "
	    "%s)\n", z->domain, z->host);
	if (!z->receives)
		printf("; %s is not in mydestination: no MX, TLS-RPT, MTA-STS "
		    "or TLSA records.\n", z->domain);
	for (i = 0; i < z->n; i++) {
		rr = &z->v[i];
		printf("\n");
		mailctl_dns_comment(rr->note);
		if (rr->kind == MAILCTL_RR_POLICY) {
			for (p = rr->value; (nl = strchr(p, '\n')) != NULL;
			    p = nl + 1)
				printf(";   %.*s\n", (int)(nl - p), p);
		} else if (strcmp(rr->type, "TXT") == 0)
			mailctl_dns_zone_txt(stdout, rr->name, rr->value);
		else
			printf("%s.\tIN\t%s\t%s%s\n", rr->name, rr->type,
			    rr->value, rr->kind == MAILCTL_RR_MX ||
			    rr->kind == MAILCTL_RR_PTR ? "." : "");
	}
}

/* mailctl_json_str - see mailctl.h */
void
mailctl_json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			printf("\\n");
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* mailctl_dns_json - [{"name", "type", "value", "note"}, ...] */
static void
mailctl_dns_json(const struct mailctl_rrs *z)
{
	size_t	 i;

	printf("[");
	for (i = 0; i < z->n; i++) {
		printf("%s\n  {\"name\": ", i > 0 ? "," : "");
		mailctl_json_str(z->v[i].name);
		printf(", \"type\": ");
		mailctl_json_str(z->v[i].type);
		printf(", \"value\": ");
		mailctl_json_str(z->v[i].value);
		printf(", \"note\": ");
		mailctl_json_str(z->v[i].note);
		printf("}");
	}
	printf("\n]\n");
}

/* mailctl_dns_main - argv[0] is "dns", argv[1] records or check */
int
mailctl_dns_main(const struct cfg *cfg, const char *sock, int argc,
    char **argv)
{
	struct mailctl_rrs z;
	const char *dom = NULL;
	char	 domain[256];
	int	 i, json = 0, check, r;

	if (argc < 2 || (strcmp(argv[1], "records") != 0 &&
	    strcmp(argv[1], "check") != 0)) {
		if (argc >= 2)
			fprintf(stderr, "mailctl: unknown dns command \"%s\"\n",
			    log_str(argv[1]));
		return mailctl_dns_usage();
	}
	check = strcmp(argv[1], "check") == 0;
	for (i = 2; i < argc; i++) {
		if (!check && strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (!check && strcmp(argv[i], "--zone") == 0)
			json = 0;
		else if (argv[i][0] == '-' || dom != NULL) {
			fprintf(stderr, "mailctl: dns %s: unexpected argument "
			    "\"%s\"\n", argv[1], log_str(argv[i]));
			return mailctl_dns_usage();
		} else
			dom = argv[i];
	}
	if (dom == NULL) {
		fprintf(stderr, "mailctl: dns %s: no domain given\n", argv[1]);
		return mailctl_dns_usage();
	}
	if (mailctl_domain_arg(dom, domain, sizeof(domain)) == -1) {
		fprintf(stderr, "mailctl: \"%s\" is not a valid domain name\n",
		    log_str(dom));
		return 1;
	}
	if (mailctl_dns_build(cfg, domain, &z) == -1) {
		mailctl_dns_free(&z);
		return 1;
	}
	r = 0;
	if (check)
		r = mailctl_dns_check(&z, stdout);
	else if (json)
		mailctl_dns_json(&z);
	else
		mailctl_dns_zone(&z);
	mailctl_dns_free(&z);
	return r;
}
