/*
 * mailctl_doctor.c - "mailctl doctor [--json] [--network]": what goes
 * wrong on a new mail server, each finding with a one-line fix.
 *
 *	config		what "mailctl check" finds
 *	certificate	smtpd_tls_cert_file (main.cf and each service's -o):
 *			readable, matches its key, names myhostname, days
 *			to expiry (warning under 30 and 14 days, error once
 *			expired or not yet valid)
 *	listener, auth, relay	(mailctl_doctor_smtp.c) every smtpd in
 *			master.cf answers 220; no AUTH before STARTTLS; an
 *			open-relay self-test from an address outside
 *			mynetworks
 *	queue		queue_directory and its subdirectories: owner and
 *			mode as master makes them (qfile_dirs)
 *	disk		free space and inodes of the queue and mailbox file
 *			systems
 *	clock		the wall clock is plausible and NTP-synchronized
 *	dns		the resolver answers; each reject_rbl_client zone
 *			answers its test entry 127.0.0.2 and does not list
 *			127.0.0.1; Spamhaus's error codes 127.255.255.252/
 *			254/255 (a query through a public resolver, ...)
 *	dkim		"mailctl dns check" for each domain with DKIM keys
 *	outbound	(--network only) port 25 of the internet reachable
 *
 * Output: one block per finding, "LEVEL: CHECK: text" and "  fix: ..."
 * (ok findings without a fix), then a summary line; with --json one
 * object {"checks": [{"check", "status", "message", "fix"}], "errors",
 * "warnings"}.  mailctl stays a client: it reads the configuration,
 * connects to the listeners like any SMTP client and asks DNS.
 * Exit status: 0 when there is no error (warnings are fine), 1 when
 * there is one, 2 on a usage error.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/timex.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "cfcheck.h"
#include "cfg.h"
#include "dns.h"
#include "log.h"
#include "mailctl.h"
#include "mailctl_dkim.h"
#include "mailctl_dns.h"
#include "mailctl_doctor.h"
#include "privdrop.h"
#include "qfile.h"
#include "restr.h"
#include "users.h"
#include "util.h"

#define DOC_DNS_TIMEOUT	10
#define DOC_CLOCK_MIN	1735689600	/* 2025-01-01: older is wrong */

static const char *const doc_words[] = { "ok", "warning", "error" };

/* doc_add - see mailctl_doctor.h */
void
doc_add(struct doc *d, int level, const char *check, const char *fix,
    const char *fmt, ...)
{
	struct doc_item *it;
	struct buf b;
	va_list	 ap;

	buf_init(&b, 8192);
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	it = &d->v[d->n++];
	it->level = level;
	it->check = xstrdup(check);
	it->text = xstrdup(buf_cstr(&b));
	it->fix = fix != NULL ? xstrdup(fix) : NULL;
	buf_free(&b);
}

/* doc_service_cfg - see mailctl_doctor.h */
struct cfg *
doc_service_cfg(struct doc *d, const struct mcf_service *s)
{
	struct cfg *c = cfg_dup(d->cfg);
	char	 err[512];
	size_t	 i;

	/* a bad -o value is already a finding of the config check */
	for (i = 0; i < s->nopts; i++)
		if (cfg_set(c, s->opts[i].name, s->opts[i].value, err,
		    sizeof(err)) == -1) {
			cfg_free(c);
			return NULL;
		}
	return c;
}

/* doc_config - what "mailctl check" found, one finding per line */
static void
doc_config(struct doc *d, const struct cfcheck *ck)
{
	const char *p = ck->out.len > 0 ? (const char *)ck->out.data : "", *nl;
	int	 err;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		err = strncmp(p, "error: ", 7) == 0;
		p += err ? 7 : strncmp(p, "warning: ", 9) == 0 ? 9 : 0;
		doc_add(d, err ? DOC_ERR : DOC_WARN, "config", "edit the file "
		    "named; \"mailctl check\" shows the same", "%.*s",
		    (int)(nl - p), p);
	}
	if (ck->nerr == 0 && ck->nwarn == 0)
		doc_add(d, DOC_OK, "config", NULL, "main.cf, master.cf, users "
		    "and aliases check out");
}

/* doc_cert_dates - days to expiry, and not before */
static void
doc_cert_dates(struct doc *d, const char *path, X509 *x)
{
	int	 days, secs;

	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notBefore(x)) == 1 &&
	    (days > 0 || secs > 0))
		doc_add(d, DOC_ERR, "certificate", "check the clock (see "
		    "\"clock\"), or wait until the certificate is valid",
		    "%s is not valid yet (valid in %d days)", path, days);
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
		doc_add(d, DOC_ERR, "certificate", "replace the certificate",
		    "%s: unreadable expiry date", path);
	else if (days < 0 || (days == 0 && secs <= 0))
		doc_add(d, DOC_ERR, "certificate", "renew it (e.g. \"certbot "
		    "renew\") and run \"mailctl reload\"", "%s expired %d "
		    "days ago: senders that check certificates cannot "
		    "deliver over TLS", path, -days);
	else if (days < 30)
		doc_add(d, DOC_WARN, "certificate", days < 14 ? "renew it now "
		    "and run \"mailctl reload\"; check that automatic renewal "
		    "(certbot timer) works" : "check that automatic renewal "
		    "(certbot timer) works", "%s expires in %d days", path,
		    days);
	else
		doc_add(d, DOC_OK, "certificate", NULL, "%s expires in %d days",
		    path, days);
}

/* doc_cert_one - one certificate and key pair */
static void
doc_cert_one(struct doc *d, const char *cert, const char *key,
    const char *host)
{
	EVP_PKEY *pk = NULL;
	X509	*x = NULL;
	FILE	*fp;

	if ((fp = fopen(cert, "r")) == NULL ||
	    (x = PEM_read_X509(fp, NULL, NULL, NULL)) == NULL) {
		doc_add(d, DOC_ERR, "certificate", "set smtpd_tls_cert_file to "
		    "the full chain (e.g. /etc/letsencrypt/live/HOST/"
		    "fullchain.pem)", "%s: %s", cert, fp == NULL ?
		    strerror(errno) : "no PEM certificate in it");
		goto done;
	}
	fclose(fp);
	if ((fp = fopen(key, "r")) == NULL ||
	    (pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL)) == NULL)
		doc_add(d, DOC_ERR, "certificate", "set smtpd_tls_key_file to "
		    "the certificate's key (e.g. privkey.pem)", "%s: %s", key,
		    fp == NULL ? strerror(errno) : "no PEM private key in it");
	else if (X509_check_private_key(x, pk) != 1)
		doc_add(d, DOC_ERR, "certificate", "point smtpd_tls_key_file "
		    "at the key of this certificate (same certbot lineage)",
		    "%s is not the key of %s", key, cert);
	if (fp != NULL)
		fclose(fp);
	if (X509_check_host(x, host, 0, 0, NULL) != 1)
		doc_add(d, DOC_WARN, "certificate", "get a certificate for "
		    "myhostname (certbot certonly -d HOST), or set myhostname "
		    "to the name the MX record points at", "%s does not name "
		    "%s (myhostname): senders that verify the MX name fail",
		    cert, host);
	doc_cert_dates(d, cert, x);
done:
	EVP_PKEY_free(pk);
	X509_free(x);
}

/* doc_certs - main.cf's certificate and every other one of a service */
static void
doc_certs(struct doc *d)
{
	struct cfg *c;
	char	**seen = NULL;
	const char *cert;
	size_t	 i, k, n = 0;

	for (i = 0; i <= d->mcf.nsvc; i++) {
		if (i < d->mcf.nsvc && (d->mcf.svc[i].type != MCF_INET ||
		    strcmp(d->mcf.svc[i].command, "smtpd") != 0))
			continue;
		c = i < d->mcf.nsvc ? doc_service_cfg(d, &d->mcf.svc[i]) :
		    cfg_dup(d->cfg);
		if (c == NULL)
			continue;
		cert = cfg_str(c, "smtpd_tls_cert_file");
		for (k = 0; k < n && strcmp(seen[k], cert) != 0; k++)
			;
		if (*cert != '\0' && k == n) {
			seen = xreallocarray(seen, n + 1, sizeof(*seen));
			seen[n++] = xstrdup(cert);
			doc_cert_one(d, cert, cfg_str(c, "smtpd_tls_key_file"),
			    cfg_str(c, "myhostname"));
		}
		cfg_free(c);
	}
	if (n == 0)
		doc_add(d, DOC_WARN, "certificate", "set smtpd_tls_cert_file "
		    "and smtpd_tls_key_file (e.g. from Let's Encrypt)", "no "
		    "certificate: no STARTTLS, so mail to this server crosses "
		    "the internet in clear text and no one can log in");
	for (k = 0; k < n; k++)
		free(seen[k]);
	free(seen);
}

/* doc_queue - the queue directory tree as master makes it */
static void
doc_queue(struct doc *d)
{
	const char *qd = cfg_str(d->cfg, "queue_directory");
	const char *owner = cfg_str(d->cfg, "mail_owner");
	char	 path[4096], fix[8400];
	struct stat st;
	uid_t	 uid;
	gid_t	 gid;
	size_t	 i, bad = 0;

	if (privdrop_lookup(owner, &uid, &gid) == -1)
		return;		/* the config check says so */
	if (stat(qd, &st) == -1) {
		doc_add(d, DOC_WARN, "queue", "\"mailctl start\" creates it",
		    "%s: %s", qd, strerror(errno));
		return;
	}
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		doc_add(d, DOC_ERR, "queue", "chown root:root and chmod 755 "
		    "the queue directory", "%s is owned by uid %ld with mode "
		    "%03o: only root may write it", qd, (long)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		bad++;
	}
	for (i = 0; i < qfile_ndirs; i++) {
		if (util_fmt(path, sizeof(path), "%s/%s", qd,
		    qfile_dirs[i].name) == -1)
			continue;
		snprintf(fix, sizeof(fix), "chown %s %s; chmod %03o %s (or "
		    "restart: master repairs the tree)", qfile_dirs[i].owned ?
		    owner : "root", path, (unsigned)qfile_dirs[i].mode, path);
		if (stat(path, &st) == -1) {
			doc_add(d, DOC_WARN, "queue", "\"mailctl start\" creates "
			    "it", "%s: %s", path, strerror(errno));
			bad++;
		} else if (st.st_uid != (qfile_dirs[i].owned ? uid : 0) ||
		    (st.st_mode & 07777) != qfile_dirs[i].mode) {
			doc_add(d, DOC_ERR, "queue", fix, "%s: uid %ld mode %03o,"
			    " expected %s and %03o", path, (long)st.st_uid,
			    (unsigned)(st.st_mode & 07777), qfile_dirs[i].owned ?
			    owner : "root", (unsigned)qfile_dirs[i].mode);
			bad++;
		}
	}
	if (bad == 0)
		doc_add(d, DOC_OK, "queue", NULL, "%s: owners and modes are "
		    "right (mail_owner %s)", qd, owner);
}

/* doc_disk_one - free space and inodes of the file system of path */
static void
doc_disk_one(struct doc *d, const char *what, const char *path)
{
	struct statvfs sv;
	unsigned long long avail, total, need;
	char	 fix[256];

	if (statvfs(path, &sv) == -1) {
		doc_add(d, DOC_WARN, "disk", "create it, or correct the "
		    "setting", "%s %s: %s", what, path, strerror(errno));
		return;
	}
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	need = (unsigned long long)cfg_int(d->cfg, "message_size_limit") * 3 /
	    2;
	snprintf(fix, sizeof(fix), "free space on the file system of %s "
	    "(old logs, \"mailctl queue list\" for a flood)", path);
	if (avail < need)
		doc_add(d, DOC_ERR, "disk", fix, "%s %s: %llu MB free, less "
		    "than 1.5 x message_size_limit: mail is refused with 452",
		    what, path, avail >> 20);
	else if (avail < total / 20 || avail < (1ULL << 30))
		doc_add(d, DOC_WARN, "disk", fix, "%s %s: only %llu MB free "
		    "(%llu%%)", what, path, avail >> 20, total > 0 ? avail *
		    100 / total : 0);
	else if (sv.f_files > 0 && (sv.f_favail < 1000 ||
	    sv.f_favail < sv.f_files / 20))
		doc_add(d, sv.f_favail < 1000 ? DOC_ERR : DOC_WARN, "disk",
		    fix, "%s %s: only %llu inodes free of %llu", what, path,
		    (unsigned long long)sv.f_favail,
		    (unsigned long long)sv.f_files);
	else
		doc_add(d, DOC_OK, "disk", NULL, "%s %s: %llu MB and %llu "
		    "inodes free", what, path, avail >> 20,
		    (unsigned long long)sv.f_favail);
}

/* doc_disk - the queue, mailbox_base and the users' homes (one each fs) */
static void
doc_disk(struct doc *d)
{
	struct users *u;
	struct stat st;
	dev_t	 devs[16];
	char	 err[512];
	size_t	 i, k, n = 0;

	doc_disk_one(d, "queue_directory", cfg_str(d->cfg,
	    "queue_directory"));
	if (stat(cfg_str(d->cfg, "queue_directory"), &st) == 0)
		devs[n++] = st.st_dev;
	if (stat(cfg_str(d->cfg, "mailbox_base"), &st) == 0) {
		devs[n++] = st.st_dev;
		doc_disk_one(d, "mailbox_base", cfg_str(d->cfg,
		    "mailbox_base"));
	}
	if ((u = users_load(cfg_str(d->cfg, "users_file"), err,
	    sizeof(err))) == NULL)
		return;
	for (i = 0; i < u->n && n < NELEM(devs); i++) {
		if (*u->ent[i].home == '\0' || stat(u->ent[i].home, &st) == -1)
			continue;
		for (k = 0; k < n && devs[k] != st.st_dev; k++)
			;
		if (k < n)
			continue;
		devs[n++] = st.st_dev;
		doc_disk_one(d, "mailbox", u->ent[i].home);
	}
	users_free(u);
}

/* doc_clock - plausible, and kept right by NTP */
static void
doc_clock(struct doc *d)
{
	struct timex tx;
	time_t	 now = time(NULL);
	int	 st;

	memset(&tx, 0, sizeof(tx));
	st = adjtimex(&tx);
	if (now < DOC_CLOCK_MIN)
		doc_add(d, DOC_ERR, "clock", "set the time and enable NTP "
		    "(timedatectl set-ntp true)", "the clock says %lld, before "
		    "2025: certificates, DKIM and queue lifetimes go wrong",
		    (long long)now);
	else if (st == -1 || st == TIME_ERROR || (tx.status & STA_UNSYNC))
		doc_add(d, DOC_WARN, "clock", "enable NTP: timedatectl set-ntp "
		    "true, or install chrony", "the clock is not synchronized "
		    "by NTP (kernel status %s)", st == -1 ? strerror(errno) :
		    "unsynchronized");
	else
		doc_add(d, DOC_OK, "clock", NULL, "synchronized (estimated "
		    "error %ld us)", (long)tx.esterror);
}

/* doc_rbl_code - Spamhaus's error answers in 127.255.255.0/24 */
static const char *
doc_rbl_code(const unsigned char *a)
{
	if (a[0] != 127 || a[1] != 255 || a[2] != 255)
		return NULL;
	if (a[3] == 254)
		return "the query came through a public or open resolver, "
		    "which the list refuses";
	if (a[3] == 252)
		return "the Data Query Service key in the zone is wrong";
	if (a[3] == 255)
		return "too many queries from this resolver";
	return "an error code of the list";
}

/* doc_rbl_query - the A records of a DNSBL name: DNS_*, addresses in a */
static int
doc_rbl_query(struct dns *dns, const char *name, unsigned char a[4],
    char *why, size_t whylen)
{
	struct dns_rrs rrs;
	size_t	 i;
	int	 st;

	memset(a, 0, 4);
	st = dns_query(dns, name, DNS_Q_A, DOC_DNS_TIMEOUT, &rrs, why,
	    whylen);
	for (i = 0; st == DNS_OK && i < rrs.n; i++)
		if (rrs.len[i] == 4) {
			memcpy(a, rrs.rd[i], 4);
			if (doc_rbl_code(a) != NULL)
				break;	/* an error code wins */
		}
	if (st == DNS_OK && a[0] == 0)
		st = DNS_EMPTY;
	dns_rrs_free(&rrs);
	return st;
}

/* doc_rbl - one reject_rbl_client zone (filter after '=' ignored) */
static void
doc_rbl(struct doc *d, struct dns *dns, const char *zone)
{
	unsigned char a[4], b[4];
	char	 name[512], why[256];
	const char *code;
	int	 st;

	if (dns_rbl_name("127.0.0.2", zone, name, sizeof(name)) == -1)
		return;
	st = doc_rbl_query(dns, name, a, why, sizeof(why));
	if (st == DNS_TEMPFAIL) {
		doc_add(d, DOC_ERR, "dns", "make the resolver answer (see "
		    "\"dns\" above) or remove the zone from the restrictions",
		    "DNSBL %s: the query for %s failed (%s): every client "
		    "gets a temporary error", zone, name, why);
		return;
	}
	if (st == DNS_OK && (code = doc_rbl_code(a)) != NULL) {
		doc_add(d, DOC_ERR, "dns", a[3] == 254 ? "use your own "
		    "resolver (unbound on this host, dns_server_address or "
		    "/etc/resolv.conf), not a public one like 8.8.8.8 or "
		    "1.1.1.1" : "check the zone name and key with the list's "
		    "operator", "DNSBL %s answers 127.255.255.%u for %s: %s",
		    zone, a[3], name, code);
		return;
	}
	if (st != DNS_OK) {
		doc_add(d, DOC_WARN, "dns", "check the zone name; a dead "
		    "list may later list everyone", "DNSBL %s does not list "
		    "its test entry 127.0.0.2 (%s): it is not working", zone,
		    name);
		return;
	}
	if (dns_rbl_name("127.0.0.1", zone, name, sizeof(name)) == 0 &&
	    doc_rbl_query(dns, name, b, why, sizeof(why)) == DNS_OK) {
		doc_add(d, DOC_ERR, "dns", "remove the zone from the "
		    "restrictions", "DNSBL %s lists 127.0.0.1 (%u.%u.%u.%u): "
		    "it lists everyone, so every client is refused", zone,
		    b[0], b[1], b[2], b[3]);
		return;
	}
	doc_add(d, DOC_OK, "dns", NULL, "DNSBL %s answers (127.0.0.2 listed "
	    "as %u.%u.%u.%u, 127.0.0.1 not)", zone, a[0], a[1], a[2], a[3]);
}

/* doc_rbl_zones - the zones of reject_rbl_client in c's lists, added */
static void
doc_rbl_zones(const struct cfg *c, char ***zones, size_t *nz)
{
	char	**v, *z, *eq;
	size_t	 i, k, n, j;

	for (i = 0; i < RESTR_NLISTS; i++) {
		v = cfg_list(c, restr_lists[i], &n);
		for (k = 0; k + 1 < n; k++) {
			if (strcmp(v[k], "reject_rbl_client") != 0)
				continue;
			z = xstrdup(v[k + 1]);
			if ((eq = strchr(z, '=')) != NULL)
				*eq = '\0';
			for (j = 0; j < *nz && strcmp((*zones)[j], z) != 0; j++)
				;
			if (j < *nz) {
				free(z);
				continue;
			}
			*zones = xreallocarray(*zones, *nz + 1, sizeof(char *));
			(*zones)[(*nz)++] = z;
		}
		cfg_list_free(v, n);
	}
}

/* doc_dns - the resolver answers; each DNSBL zone of any smtpd works */
static void
doc_dns(struct doc *d)
{
	struct dns_rrs rrs;
	struct dns *dns;
	struct cfg *c;
	const char *srv = cfg_str(d->cfg, "dns_server_address");
	char	 why[256], **zones = NULL;
	size_t	 i, nz = 0;
	int	 st;

	if ((dns = mailctl_dns_resolver(d->cfg)) == NULL) {
		doc_add(d, DOC_ERR, "dns", "correct dns_server_address or "
		    "/etc/resolv.conf", "no DNS resolver could be set up");
		return;
	}
	st = dns_query(dns, cfg_str(d->cfg, "myhostname"), DNS_Q_A,
	    DOC_DNS_TIMEOUT, &rrs, why, sizeof(why));
	dns_rrs_free(&rrs);
	if (st == DNS_TEMPFAIL) {
		doc_add(d, DOC_ERR, "dns", "run a resolver (e.g. unbound) and "
		    "point dns_server_address or /etc/resolv.conf at it",
		    "the resolver (%s) does not answer: %s", *srv != '\0' ?
		    srv : "/etc/resolv.conf", why);
		dns_free(dns);
		return;
	}
	doc_add(d, DOC_OK, "dns", NULL, "the resolver (%s) answers",
	    *srv != '\0' ? srv : "/etc/resolv.conf");
	doc_rbl_zones(d->cfg, &zones, &nz);
	for (i = 0; i < d->mcf.nsvc; i++)
		if (d->mcf.svc[i].type == MCF_INET && d->mcf.svc[i].nopts > 0 &&
		    (c = doc_service_cfg(d, &d->mcf.svc[i])) != NULL) {
			doc_rbl_zones(c, &zones, &nz);
			cfg_free(c);
		}
	for (i = 0; i < nz; i++) {
		doc_rbl(d, dns, zones[i]);
		free(zones[i]);
	}
	free(zones);
	dns_free(dns);
}

/*
 * doc_dkim - "mailctl dns check" for every domain with DKIM keys: each
 * line that is not ok becomes a finding (optional records a warning)
 */
static void
doc_dkim(struct doc *d)
{
	struct mailctl_dkim_keys keys;
	struct mailctl_rrs z;
	char	*text = NULL, *p, *nl, fix[512];
	size_t	 i, len = 0;
	FILE	*fp;

	memset(&keys, 0, sizeof(keys));
	if (mailctl_dkim_scan(d->cfg, NULL, &keys) == -1 || keys.n == 0) {
		mailctl_dkim_keys_free(&keys);
		return;
	}
	for (i = 0; i < keys.n; i++) {
		if (i > 0 && strcmp(keys.v[i].domain, keys.v[i - 1].domain) == 0)
			continue;
		if ((fp = open_memstream(&text, &len)) == NULL)
			break;
		if (mailctl_dns_build(d->cfg, keys.v[i].domain, &z) == 0)
			(void)mailctl_dns_check(&z, fp);
		mailctl_dns_free(&z);
		fclose(fp);
		snprintf(fix, sizeof(fix), "publish what \"mailctl dns records "
		    "%s\" prints", keys.v[i].domain);
		for (p = text; p != NULL && (nl = strchr(p, '\n')) != NULL;
		    p = nl + 1) {
			*nl = '\0';
			if (strstr(p, ": ok") != NULL || (strncmp(p,
			    keys.v[i].domain, strlen(keys.v[i].domain)) == 0 &&
			    p[strlen(keys.v[i].domain)] == ':'))
				continue;	/* ok, or the summary */
			doc_add(d, strstr(p, "(optional)") != NULL ? DOC_WARN :
			    DOC_ERR, "dkim", fix, "%s", p);
		}
		if (text != NULL && strstr(text, "every required record is "
		    "right") != NULL)
			doc_add(d, DOC_OK, "dkim", NULL, "%s: every required DNS "
			    "record is right", keys.v[i].domain);
		free(text);
		text = NULL;
	}
	mailctl_dkim_keys_free(&keys);
}

/* doc_print - the findings as text or JSON; the number of errors */
static int
doc_print(struct doc *d)
{
	size_t	 i;
	int	 nerr = 0, nwarn = 0;

	for (i = 0; i < d->n; i++) {
		nerr += d->v[i].level == DOC_ERR;
		nwarn += d->v[i].level == DOC_WARN;
	}
	if (d->json)
		printf("{\"checks\":[");
	for (i = 0; i < d->n; i++) {
		if (!d->json) {
			printf("%s: %s: %s\n", doc_words[d->v[i].level],
			    d->v[i].check, log_str(d->v[i].text));
			if (d->v[i].fix != NULL && d->v[i].level != DOC_OK)
				printf("  fix: %s\n", d->v[i].fix);
			continue;
		}
		printf("%s\n{\"check\":", i > 0 ? "," : "");
		mailctl_json_str(d->v[i].check);
		printf(",\"status\":\"%s\",\"message\":",
		    doc_words[d->v[i].level]);
		mailctl_json_str(d->v[i].text);
		printf(",\"fix\":");
		if (d->v[i].fix != NULL && d->v[i].level != DOC_OK)
			mailctl_json_str(d->v[i].fix);
		else
			printf("null");
		printf("}");
	}
	if (d->json)
		printf("\n],\"errors\":%d,\"warnings\":%d}\n", nerr, nwarn);
	else
		printf("doctor: %d error%s, %d warning%s\n", nerr, nerr == 1 ?
		    "" : "s", nwarn, nwarn == 1 ? "" : "s");
	return nerr;
}

/* mailctl_doctor_main - see mailctl.h */
int
mailctl_doctor_main(const struct cfg *cfg, const char *config_dir,
    const struct cfcheck *ck, int argc, char **argv)
{
	struct doc d;
	char	 path[4096], err[512];
	size_t	 i;
	int	 nerr;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.config_dir = config_dir;
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			d.json = 1;
		else if (strcmp(argv[i], "--network") == 0)
			d.network = 1;
		else {
			fprintf(stderr, "usage: mailctl [-c config_dir] doctor "
			    "[--json] [--network]\n");
			return 2;
		}
	}
	doc_config(&d, ck);
	if (util_fmt(path, sizeof(path), "%s/master.cf", config_dir) == 0 &&
	    mcf_load(path, (int)cfg_int(cfg, "default_process_limit"), &d.mcf,
	    err, sizeof(err)) == 0)
		mcf_add_defaults(&d.mcf, (int)cfg_int(cfg,
		    "default_process_limit"));
	doc_certs(&d);
	doc_smtp(&d);
	doc_queue(&d);
	doc_disk(&d);
	doc_clock(&d);
	doc_dns(&d);
	doc_dkim(&d);
	if (d.network)
		doc_outbound(&d);
	nerr = doc_print(&d);
	for (i = 0; i < d.n; i++) {
		free(d.v[i].check);
		free(d.v[i].text);
		free(d.v[i].fix);
	}
	free(d.v);
	mcf_free(&d.mcf);
	return nerr > 0 ? 1 : 0;
}
