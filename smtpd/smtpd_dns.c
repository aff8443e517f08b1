/*
 * smtpd_dns.c - DNS lookups for the restrictions reject_rbl_client,
 * permit_dnswl_client, reject_rhsbl_* and permit_rhswl_client,
 * reject_unknown_sender_domain, reject_unknown_recipient_domain and
 * reject_unknown_helo_hostname.  (The client's own name is smtpd_peer.c's.)
 *
 * Each smtpd process has one libunbound resolver (lib/dns, forwarding to
 * dns_server_address when set), read by the event loop through dns_fd().
 * A session keeps what it looked up in up to SMTPD_DNS_MAX entries:
 *
 *	RBL	one per zone named by reject_rbl_client: the A records and the
 *		first TXT record of the client's name under the zone, asked
 *		for as soon as the client connects (not for mynetworks
 *		clients: asked when a restriction needs it)
 *		(permit_dnswl_client's zones too)
 *	RHSBL	one per name under a zone (reject_rhsbl_*, permit_rhswl_client):
 *		the A records and first TXT record of "NAME.ZONE", asked for
 *		when a restriction needs them
 *	domain	a sender or recipient domain outside mydestination: MX, and
 *		without MX, A and AAAA; DNS_OK (exists), DNS_NOTFOUND,
 *		DNS_NULLMX or DNS_TEMPFAIL
 *	host	a HELO name: A, AAAA and MX at once; DNS_OK when one of them
 *		has records (a null MX counts: Postfix lets MTA names have
 *		one), DNS_TEMPFAIL when none has and one failed, else
 *		DNS_NOTFOUND
 *
 * A restriction that needs an answer it does not have starts the lookup
 * and says SMTPD_V_WAIT (smtpd_check.c); lists are evaluated in order, so
 * a client that permit_mynetworks lets through causes no lookup.  The
 * session then waits (SMTPD_PH_WAIT, pipelined input stays buffered) and
 * runs the command again - RCPT from its saved line, MAIL from
 * smtpd_mail_finish.
 * After SMTPD_DNS_TIMEOUT seconds the pending entries become DNS_TEMPFAIL
 * (an RBL is then skipped with a warning; an unknown-domain check answers
 * 450).  The restrictions read the entries (smtpd_dns_entry).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "cfg.h"
#include "dns.h"
#include "log.h"
#include "maps.h"
#include "util.h"
#include "smtpd.h"

#define SMTPD_DNS_TIMEOUT	10	/* seconds a command waits */

struct smtpd_dnsq {
	struct smtpd_dnsent *e;
	int		 slot;		/* which query of the entry (0..2) */
	struct dns_aq	*h;
};

struct smtpd_dnsent {
	struct smtpd_sess *s;
	int		 kind;		/* SMTPD_DNS_* */
	char		 name[DNS_NAME_MAX + 1];	/* zone, NAME.ZONE, domain,
							   host */
	char		 qname[DNS_NAME_MAX + 1];	/* what was asked */
	int		 status;	/* DNS_*, or -1 while pending */
	int		 step;		/* domain: 0 MX, 1 A and AAAA */
	int		 sub[3];	/* domain: A, AAAA; host: A, AAAA, MX */
	struct smtpd_dnsq *q[3];
	char		 addrs[DNS_ANS_MAX][64];	/* RBL: A records */
	size_t		 naddr;
	char		 txt[256];			/* RBL: the reason */
};

/* smtpd_dns_read - answers arrived for one of the resolvers (arg) */
static void
smtpd_dns_read(evutil_socket_t fd, short what, void *arg)
{
	if (dns_process(arg) == -1)
		log_warn("DNS: processing answers failed");
}

/*
 * smtpd_dns_peer_setup - the resolver of the client names: /etc/hosts
 * first, then the DNS, as Postfix's getnameinfo()/getaddrinfo() do with
 * Debian's "hosts: files dns" (the restrictions that read the DNS, such
 * as reject_unknown_helo_hostname, ask the DNS only, as Postfix does)
 */
static void
smtpd_dns_peer_setup(struct smtpd *sd)
{
	char	 err[512];

	if ((sd->peer_dns = dns_new(cfg_str(sd->cfg, "dns_server_address"),
	    err, sizeof(err))) == NULL) {
		log_err("DNS resolver: %s (client names are unknown)", err);
		return;
	}
	if (dns_hosts(sd->peer_dns, SMTPD_HOSTS_FILE, err, sizeof(err)) == -1)
		log_warn("client names: %s (the DNS alone is asked)", err);
}

/*
 * smtpd_dns_reply_setup - default_rbl_reply and the rbl_reply_maps
 * tables, opened before the jail (a table that cannot be opened stops the
 * service, as mailctl check says)
 */
static void
smtpd_dns_reply_setup(struct smtpd *sd)
{
	char	**v, err[512];
	size_t	 n, i;

	sd->rbl_reply = cfg_str(sd->cfg, "default_rbl_reply");
	v = cfg_list(sd->cfg, "rbl_reply_maps", &n);
	sd->rbl_maps = xcalloc(n + 1, sizeof(*sd->rbl_maps));
	for (i = 0; i < n; i++) {
		if ((sd->rbl_maps[i] = maps_open(v[i], NULL, err,
		    sizeof(err))) == NULL)
			log_fatal("rbl_reply_maps: %s", err);
		sd->nrbl_maps++;
	}
	cfg_list_free(v, n);
}

/* smtpd_dns_setup - a resolver when a restriction needs one (pre-jail) */
void
smtpd_dns_setup(struct smtpd *sd)
{
	char	 err[512];
	size_t	 i, k;
	char	*v, *eq;

	for (i = 0; i < 5; i++)
		for (k = 0; k < sd->nrestr[i]; k++) {
			v = sd->restr[i][k];
			if (strcmp(v, "reject_unknown_sender_domain") == 0)
				sd->unk_sender = 1;
			else if (strcmp(v, "reject_unknown_recipient_domain") ==
			    0)
				sd->unk_rcpt = 1;
			else if ((strcmp(v, "reject_rbl_client") == 0 ||
			    strcmp(v, "permit_dnswl_client") == 0) &&
			    k + 1 < sd->nrestr[i]) {
				sd->rbl = xreallocarray(sd->rbl, sd->nrbl + 1,
				    sizeof(*sd->rbl));
				v = xstrdup(sd->restr[i][++k]);
				if ((eq = strchr(v, '=')) != NULL)
					*eq = '\0';
				util_lowercase(v);
				sd->rbl[sd->nrbl++] = v;
			}
		}
	sd->rbl_code = (int)cfg_int(sd->cfg, "maps_rbl_reject_code");
	smtpd_dns_reply_setup(sd);
	sd->unknown_code = (int)cfg_int(sd->cfg,
	    "unknown_address_reject_code");
	sd->unk_client_code = (int)cfg_int(sd->cfg,
	    "unknown_client_reject_code");
	sd->unk_name_code = (int)cfg_int(sd->cfg,
	    "unknown_hostname_reject_code");
	sd->peername_lookup = cfg_bool(sd->cfg, "smtpd_peername_lookup");
	if (sd->peername_lookup)
		smtpd_dns_peer_setup(sd);
	if (sd->nrbl == 0 && !sd->unk_sender && !sd->unk_rcpt &&
	    !smtpd_check_uses(sd, "_rhs") &&
	    !smtpd_check_uses(sd, "reject_unknown_h"))
		return;
	if ((sd->dns = dns_new(cfg_str(sd->cfg, "dns_server_address"), err,
	    sizeof(err))) == NULL)
		log_err("DNS resolver: %s (DNS restrictions answer 450 or "
		    "are skipped)", err);
}

/* smtpd_dns_start - the resolver's events (post-jail) */
void
smtpd_dns_start(struct smtpd *sd)
{
	if (sd->peer_dns != NULL) {
		sd->peer_dns_ev = event_new(sd->base, dns_fd(sd->peer_dns),
		    EV_READ | EV_PERSIST, smtpd_dns_read, sd->peer_dns);
		event_add(sd->peer_dns_ev, NULL);
	}
	if (sd->dns == NULL)
		return;
	sd->dns_ev = event_new(sd->base, dns_fd(sd->dns), EV_READ | EV_PERSIST,
	    smtpd_dns_read, sd->dns);
	event_add(sd->dns_ev, NULL);
}

/* smtpd_dns_find - a session's entry, or NULL */
const struct smtpd_dnsent *
smtpd_dns_entry(const struct smtpd_sess *s, int kind, const char *name)
{
	size_t	 i;

	for (i = 0; i < SMTPD_DNS_MAX; i++)
		if (s->dns[i] != NULL && s->dns[i]->kind == kind &&
		    util_strcasecmp_ascii(s->dns[i]->name, name) == 0)
			return s->dns[i];
	return NULL;
}

/* smtpd_dns_status - an entry's status (DNS_*, -1 pending) */
int
smtpd_dns_status(const struct smtpd_dnsent *e)
{
	return e->status;
}

/*
 * smtpd_dns_rbl_error - an answer in 127.255.255.0/24: Spamhaus and
 * others answer so when they refuse the query (a public or shared
 * resolver, over the free quota, a typo in the zone), not for a listing
 */
static int
smtpd_dns_rbl_error(const char *addr)
{
	return strncmp(addr, "127.255.255.", 12) == 0;
}

/*
 * smtpd_dns_rbl_match - is the client listed (filter "" = any record but
 * the error answers, which are warned about at most once a minute); *hit
 * is the address that matched
 */
int
smtpd_dns_rbl_match(const struct smtpd_dnsent *e, const char *filter,
    const char **txt, const char **hit)
{
	static time_t warned;
	time_t	 now;
	size_t	 i;

	*txt = e->txt;
	*hit = "";
	if (e->status != DNS_OK)
		return 0;
	for (i = 0; i < e->naddr; i++) {
		if (*filter == '\0' && smtpd_dns_rbl_error(e->addrs[i])) {
			now = time(NULL);
			if (now - warned >= 60) {
				warned = now;
				log_warn("%s answered %s for %s[%s]: an "
				    "error code of the DNSBL, not a listing "
				    "(queries through a public or shared "
				    "resolver, or over its limit?); the "
				    "client is not rejected", e->name,
				    e->addrs[i], e->s->client_name,
				    e->s->client_addr);
			}
			continue;
		}
		if (*filter == '\0' ||
		    dns_rbl_filter(filter, e->addrs[i]) == 1) {
			*hit = e->addrs[i];
			return 1;
		}
	}
	return 0;
}

/* smtpd_dns_pending - is any entry of the session still pending */
static int
smtpd_dns_pending(const struct smtpd_sess *s)
{
	size_t	 i;

	for (i = 0; i < SMTPD_DNS_MAX; i++)
		if (s->dns[i] != NULL && s->dns[i]->status == -1)
			return 1;
	return 0;
}

/* smtpd_dns_cancel - drop an entry's outstanding queries */
static void
smtpd_dns_cancel(struct smtpd_dnsent *e)
{
	int	 i;

	for (i = 0; i < 3; i++)
		if (e->q[i] != NULL) {
			dns_async_cancel(e->q[i]->h);
			free(e->q[i]);
			e->q[i] = NULL;
		}
}

static void smtpd_dns_answer(void *, const struct dns_answer *);

/* smtpd_dns_ask - one query for slot of an entry; -1 when it cannot go */
static int
smtpd_dns_ask(struct smtpd_dnsent *e, int slot, int type)
{
	struct smtpd_dnsq *q;

	q = xcalloc(1, sizeof(*q));
	q->e = e;
	q->slot = slot;
	if ((q->h = dns_async(e->s->sd->dns, e->qname, type,
	    smtpd_dns_answer, q)) == NULL) {
		free(q);
		return -1;
	}
	e->q[slot] = q;
	return 0;
}

/* smtpd_dns_new - a new pending entry (the oldest finished one goes) */
static struct smtpd_dnsent *
smtpd_dns_new(struct smtpd_sess *s, int kind, const char *name)
{
	struct smtpd_dnsent *e;
	size_t	 i;

	for (i = 0; i < SMTPD_DNS_MAX && s->dns[i] != NULL; i++)
		;
	if (i == SMTPD_DNS_MAX) {
		/* full: forget the first finished entry but the client's */
		for (i = 0; i < SMTPD_DNS_MAX; i++)
			if (s->dns[i]->kind != SMTPD_DNS_RBL &&
			    s->dns[i]->status != -1)
				break;
		if (i == SMTPD_DNS_MAX)
			return NULL;
		free(s->dns[i]);
		memmove(&s->dns[i], &s->dns[i + 1],
		    (SMTPD_DNS_MAX - i - 1) * sizeof(s->dns[0]));
		i = SMTPD_DNS_MAX - 1;
	}
	e = xcalloc(1, sizeof(*e));
	e->s = s;
	e->kind = kind;
	e->status = -1;
	util_strlcpy(e->name, name, sizeof(e->name));
	util_lowercase(e->name);
	s->dns[i] = e;
	return e;
}

/* smtpd_dns_rbl - start the RBL lookups of the session's client */
void
smtpd_dns_rbl(struct smtpd_sess *s)
{
	struct smtpd *sd = s->sd;
	struct smtpd_dnsent *e;
	size_t	 i;

	if (s->rbl_started || sd->nrbl == 0)
		return;
	s->rbl_started = 1;
	for (i = 0; i < sd->nrbl; i++) {
		if (smtpd_dns_entry(s, SMTPD_DNS_RBL, sd->rbl[i]) != NULL ||
		    (e = smtpd_dns_new(s, SMTPD_DNS_RBL, sd->rbl[i])) == NULL)
			continue;
		if (dns_rbl_name(s->client_addr, e->name, e->qname,
		    sizeof(e->qname)) == -1) {
			e->status = DNS_EMPTY;	/* nothing to look up */
			continue;
		}
		e->sub[0] = DNS_TEMPFAIL;	/* until the A answer */
		if (sd->dns == NULL || smtpd_dns_ask(e, 0, DNS_Q_A) == -1) {
			e->status = DNS_TEMPFAIL;
			continue;
		}
		(void)smtpd_dns_ask(e, 1, DNS_Q_TXT);
	}
}

/* smtpd_dns_domain - start the lookup of a domain unless known */
void
smtpd_dns_domain(struct smtpd_sess *s, const char *domain)
{
	struct smtpd_dnsent *e;

	if (*domain == '\0' || *domain == '[' ||
	    smtpd_is_mydest(s->sd, domain) ||
	    smtpd_dns_entry(s, SMTPD_DNS_DOMAIN, domain) != NULL ||
	    (e = smtpd_dns_new(s, SMTPD_DNS_DOMAIN, domain)) == NULL)
		return;
	util_strlcpy(e->qname, e->name, sizeof(e->qname));
	if (!dns_valid_name(e->qname))
		e->status = DNS_NOTFOUND;
	else if (s->sd->dns == NULL || smtpd_dns_ask(e, 0, DNS_Q_MX) == -1)
		e->status = DNS_TEMPFAIL;
}

/*
 * smtpd_dns_rhsbl - start the lookup of NAME under ZONE (reject_rhsbl_*,
 * permit_rhswl_client) unless known; the entry's name is "NAME.ZONE"
 */
void
smtpd_dns_rhsbl(struct smtpd_sess *s, const char *name, const char *zone)
{
	struct smtpd_dnsent *e;
	char	 q[DNS_NAME_MAX + 1];

	if (util_fmt(q, sizeof(q), "%s.%s", name, zone) == -1 ||
	    !dns_valid_name(q) ||
	    smtpd_dns_entry(s, SMTPD_DNS_RHSBL, q) != NULL ||
	    (e = smtpd_dns_new(s, SMTPD_DNS_RHSBL, q)) == NULL)
		return;
	util_strlcpy(e->qname, e->name, sizeof(e->qname));
	e->sub[0] = DNS_TEMPFAIL;	/* until the A answer */
	if (s->sd->dns == NULL || smtpd_dns_ask(e, 0, DNS_Q_A) == -1) {
		e->status = DNS_TEMPFAIL;
		return;
	}
	(void)smtpd_dns_ask(e, 1, DNS_Q_TXT);
}

/* smtpd_dns_host - start the lookup of a HELO name unless known */
void
smtpd_dns_host(struct smtpd_sess *s, const char *host)
{
	static const int types[3] = { DNS_Q_A, DNS_Q_AAAA, DNS_Q_MX };
	struct smtpd_dnsent *e;
	int	 i;

	if (smtpd_dns_entry(s, SMTPD_DNS_HOST, host) != NULL ||
	    (e = smtpd_dns_new(s, SMTPD_DNS_HOST, host)) == NULL)
		return;
	util_strlcpy(e->qname, e->name, sizeof(e->qname));
	if (!dns_valid_name(e->qname)) {
		e->status = DNS_NOTFOUND;
		return;
	}
	for (i = 0; i < 3; i++) {
		e->sub[i] = -1;
		if (s->sd->dns == NULL || smtpd_dns_ask(e, i, types[i]) == -1)
			e->sub[i] = DNS_TEMPFAIL;
	}
	if (e->q[0] == NULL && e->q[1] == NULL && e->q[2] == NULL)
		e->status = DNS_TEMPFAIL;
}

/*
 * smtpd_dns_lookup - the status (DNS_*, -1 pending) of a domain
 * (SMTPD_DNS_DOMAIN) or HELO name (SMTPD_DNS_HOST), its lookup started
 * when not known yet; DNS_TEMPFAIL when no entry can be kept
 */
int
smtpd_dns_lookup(struct smtpd_sess *s, int kind, const char *name)
{
	const struct smtpd_dnsent *e;

	if ((e = smtpd_dns_entry(s, kind, name)) == NULL) {
		if (kind == SMTPD_DNS_HOST)
			smtpd_dns_host(s, name);
		else
			smtpd_dns_domain(s, name);
		e = smtpd_dns_entry(s, kind, name);
	}
	return e != NULL ? e->status : DNS_TEMPFAIL;
}

/* smtpd_dns_go - the answers are in (or late): run the command again */
static void
smtpd_dns_go(struct smtpd_sess *s)
{
	int	 kind = s->dns_wait;
	char	*line = s->dns_line;

	s->dns_wait = 0;
	s->dns_line = NULL;
	evtimer_del(s->dns_timer);
	smtpd_rerun(s, kind, line);
	free(line);
}

/* smtpd_dns_done - an entry is complete: log, and wake its session */
static void
smtpd_dns_done(struct smtpd_dnsent *e)
{
	struct smtpd_sess *s = e->s;

	static const char *const what[] = {
		[SMTPD_DNS_RBL] = "the DNS list restriction skips that zone",
		[SMTPD_DNS_DOMAIN] = "the unknown-domain restriction answers "
		    "450",
		[SMTPD_DNS_RHSBL] = "the DNS list restriction skips that zone",
		[SMTPD_DNS_HOST] = "reject_unknown_helo_hostname answers 450",
	};

	if (e->status == DNS_TEMPFAIL)
		log_warn("DNS lookup of %s failed for %s[%s]; %s",
		    e->qname, s->client_name, s->client_addr, what[e->kind]);
	if (s->dns_wait != 0 && !smtpd_dns_pending(s))
		smtpd_dns_go(s);
}

/*
 * smtpd_dns_answer - one answer for an entry.  (Long: each kind of entry
 * - DNSBL, domain, RHSBL, host - keeps a different part of the answer,
 * and the status merging of an entry's queries is in one place.)
 */
static void
smtpd_dns_answer(void *arg, const struct dns_answer *a)
{
	struct smtpd_dnsq *q = arg;
	struct smtpd_dnsent *e = q->e;
	size_t	 i;
	int	 slot = q->slot;

	e->q[slot] = NULL;
	free(q);
	if (e->kind == SMTPD_DNS_HOST) {
		e->sub[slot] = a->status == DNS_NULLMX ? DNS_OK : a->status;
		if (e->q[0] != NULL || e->q[1] != NULL || e->q[2] != NULL)
			return;
		e->status = e->sub[0] == DNS_OK || e->sub[1] == DNS_OK ||
		    e->sub[2] == DNS_OK ? DNS_OK : e->sub[0] == DNS_TEMPFAIL ||
		    e->sub[1] == DNS_TEMPFAIL || e->sub[2] == DNS_TEMPFAIL ?
		    DNS_TEMPFAIL : DNS_NOTFOUND;
		smtpd_dns_done(e);
		return;
	}
	if (e->kind == SMTPD_DNS_RBL || e->kind == SMTPD_DNS_RHSBL) {
		if (slot == 1) {
			if (a->status == DNS_OK)
				util_strlcpy(e->txt, a->text[0],
				    sizeof(e->txt));
		} else {
			/* the status waits for the TXT answer too */
			e->sub[0] = a->status == DNS_OK ? DNS_OK :
			    a->status == DNS_TEMPFAIL ? DNS_TEMPFAIL :
			    DNS_NOTFOUND;
			for (i = 0; i < a->n && i < DNS_ANS_MAX; i++)
				util_strlcpy(e->addrs[i], a->text[i],
				    sizeof(e->addrs[i]));
			e->naddr = a->status == DNS_OK ? a->n : 0;
			if (e->sub[0] != DNS_OK && e->q[1] != NULL) {
				dns_async_cancel(e->q[1]->h);
				free(e->q[1]);
				e->q[1] = NULL;
			}
		}
		if (e->q[0] != NULL || e->q[1] != NULL)
			return;
		e->status = e->sub[0];
		smtpd_dns_done(e);
		return;
	}
	if (e->step == 0) {
		if (a->status != DNS_EMPTY) {
			e->status = a->status;
			smtpd_dns_done(e);
			return;
		}
		/* no MX: the implicit MX, A or AAAA (RFC 5321 5.1) */
		e->step = 1;
		e->sub[0] = e->sub[1] = -1;
		if (smtpd_dns_ask(e, 0, DNS_Q_A) == -1)
			e->sub[0] = DNS_TEMPFAIL;
		if (smtpd_dns_ask(e, 1, DNS_Q_AAAA) == -1)
			e->sub[1] = DNS_TEMPFAIL;
		if (e->q[0] != NULL || e->q[1] != NULL)
			return;
	} else
		e->sub[slot] = a->status;
	if (e->q[0] != NULL || e->q[1] != NULL)
		return;
	e->status = e->sub[0] == DNS_OK || e->sub[1] == DNS_OK ? DNS_OK :
	    e->sub[0] == DNS_TEMPFAIL || e->sub[1] == DNS_TEMPFAIL ?
	    DNS_TEMPFAIL : DNS_NOTFOUND;
	smtpd_dns_done(e);
}

/* smtpd_dns_late - a command waited SMTPD_DNS_TIMEOUT: go on without */
static void
smtpd_dns_late(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd_sess *s = arg;
	size_t	 i;

	for (i = 0; i < SMTPD_DNS_MAX; i++)
		if (s->dns[i] != NULL && s->dns[i]->status == -1) {
			smtpd_dns_cancel(s->dns[i]);
			s->dns[i]->status = DNS_TEMPFAIL;
			log_warn("DNS lookup of %s failed for %s[%s]: no "
			    "answer within %d s", s->dns[i]->qname,
			    s->client_name, s->client_addr, SMTPD_DNS_TIMEOUT);
		}
	if (s->dns_wait != 0)
		smtpd_dns_go(s);
}

/*
 * smtpd_dns_wait - a MAIL (kind SMTPD_DW_MAIL) or RCPT (SMTPD_DW_RCPT, line
 * = the command to run again) restriction started lookups and needs their
 * answers: 1 when the session now waits, 0 when nothing is pending.
 */
int
smtpd_dns_wait(struct smtpd_sess *s, int kind, const char *line)
{
	struct smtpd *sd = s->sd;
	uint64_t ms = smtpd_wait_limit(sd, SMTPD_DNS_TIMEOUT * 1000ULL);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
	    1000 };

	if (!smtpd_dns_pending(s))
		return 0;
	if (s->dns_timer == NULL &&
	    (s->dns_timer = evtimer_new(sd->base, smtpd_dns_late, s)) == NULL)
		return 0;
	free(s->dns_line);
	s->dns_line = line != NULL ? xstrdup(line) : NULL;
	s->dns_wait = kind;
	s->phase = SMTPD_PH_WAIT;
	evtimer_add(s->dns_timer, &tv);
	return 1;
}

/* smtpd_dns_forget - the session ends: cancel and free */
void
smtpd_dns_forget(struct smtpd_sess *s)
{
	size_t	 i;

	for (i = 0; i < SMTPD_DNS_MAX; i++)
		if (s->dns[i] != NULL) {
			smtpd_dns_cancel(s->dns[i]);
			free(s->dns[i]);
			s->dns[i] = NULL;
		}
	free(s->dns_line);
	s->dns_line = NULL;
	if (s->dns_timer != NULL)
		event_free(s->dns_timer);
	s->dns_timer = NULL;
}
