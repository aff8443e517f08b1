/*
 * smtpd_check_dns.c - the restrictions that read the DNS or the client's
 * name: reject_rbl_client, permit_dnswl_client, reject_rhsbl_client,
 * reject_rhsbl_reverse_client, reject_rhsbl_helo, reject_rhsbl_sender,
 * reject_rhsbl_recipient, permit_rhswl_client,
 * reject_unknown_sender_domain, reject_unknown_recipient_domain,
 * reject_unknown_helo_hostname, reject_unknown_client_hostname and
 * reject_unknown_reverse_client_hostname (Postfix's replies and codes).
 *
 * Interface: the smtpd_r_* handlers of smtpd_check.h, bound to their
 * names in smtpd_check.c's table.  A handler that needs an answer
 * smtpd_dns.c does not have yet starts the lookup and says SMTPD_V_WAIT
 * (the command runs again when the answers are in); a failed lookup
 * skips a DNS list and makes the unknown-name checks answer 450.  The
 * client name and its status come from smtpd_peer.c.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "addr.h"
#include "buf.h"
#include "dns.h"
#include "log.h"
#include "maps.h"
#include "restr.h"
#include "util.h"
#include "smtpd.h"
#include "smtpd_check.h"

/*
 * smtpd_zone - a DNS list argument "ZONE[=d.d.d.d]": the zone (lower
 * case) into zone, the filter ("" for none) returned; NULL when too long
 */
static const char *
smtpd_zone(const char *arg, char *zone, size_t zlen)
{
	const char *eq = strchr(arg, '=');
	size_t	 n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);

	if (n >= zlen)
		return NULL;
	memcpy(zone, arg, n);
	zone[n] = '\0';
	util_lowercase(zone);
	return eq != NULL ? eq + 1 : "";
}

/* what a reply template of a DNS list match may name */
struct smtpd_rblvars {
	struct smtpd_ctx *c;
	const char	*zone, *class, *what, *txt;
	char		 code[8];
	char		 client[SMTPD_NAME_MAX + 80];
	char		 rcpt[ADDR_BUFSZ];
};

/* smtpd_addr_part - the local part (0) or domain (1) of an address */
static const char *
smtpd_addr_part(const char *addr, int domain, char *buf, size_t len)
{
	const char *at = strrchr(addr, '@');

	if (domain)
		return at != NULL ? at + 1 : "";
	snprintf(buf, len, "%.*s", (int)(at != NULL ? (size_t)(at - addr) :
	    strlen(addr)), addr);
	return buf;
}

/* smtpd_rbl_var - Postfix's names in default_rbl_reply / rbl_reply_maps */
static const char *
smtpd_rbl_var(void *arg, const char *name)
{
	static char part[ADDR_BUFSZ];
	struct smtpd_rblvars *v = arg;
	const struct smtpd_sess *s = v->c->s;
	const char *sender = s->sender != NULL ? s->sender : "";

	if (strcmp(name, "rbl_code") == 0)
		return v->code;
	if (strcmp(name, "rbl_domain") == 0)
		return v->zone;
	if (strcmp(name, "rbl_class") == 0)
		return v->class;
	if (strcmp(name, "rbl_what") == 0)
		return v->what;
	if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
		return v->txt;
	if (strcmp(name, "client") == 0)
		return v->client;
	if (strcmp(name, "client_address") == 0)
		return s->client_addr;
	if (strcmp(name, "client_name") == 0)
		return s->client_name;
	if (strcmp(name, "reverse_client_name") == 0)
		return s->reverse_name;
	if (strcmp(name, "helo_name") == 0)
		return s->helo != NULL ? s->helo : "";
	if (strcmp(name, "sender") == 0)
		return sender;
	if (strcmp(name, "sender_name") == 0)
		return smtpd_addr_part(sender, 0, part, sizeof(part));
	if (strcmp(name, "sender_domain") == 0)
		return smtpd_addr_part(sender, 1, part, sizeof(part));
	if (strcmp(name, "recipient") == 0)
		return v->rcpt;
	if (strcmp(name, "recipient_name") == 0)
		return smtpd_addr_part(v->rcpt, 0, part, sizeof(part));
	if (strcmp(name, "recipient_domain") == 0)
		return smtpd_addr_part(v->rcpt, 1, part, sizeof(part));
	return NULL;
}

/*
 * smtpd_rbl_template - the reply template for a zone: its value in the
 * first of rbl_reply_maps that has it, else default_rbl_reply
 */
static const char *
smtpd_rbl_template(struct smtpd *sd, const char *zone, struct buf *val)
{
	size_t	 i;
	int	 r;

	for (i = 0; i < sd->nrbl_maps; i++) {
		buf_reset(val);
		if ((r = maps_lookup(sd->rbl_maps[i], zone, val)) == MAPS_FOUND)
			return buf_cstr(val);
		if (r == MAPS_TEMPFAIL)
			log_warn("rbl_reply_maps: %s: %s",
			    maps_spec(sd->rbl_maps[i]),
			    maps_error(sd->rbl_maps[i]));
	}
	return sd->rbl_reply;
}

/*
 * smtpd_rbl_text - the template expanded into a reply: it must start
 * with a 4NN or 5NN code; a missing enhanced status code becomes X.7.1
 * (as Postfix adds it), control characters become '?'.  0, or -1 with
 * why when the template does not give a reply.
 */
static int
smtpd_rbl_text(struct smtpd_rblvars *v, const char *tmpl, char *msg,
    size_t msglen, char *why, size_t whylen)
{
	struct buf out;
	char	*t;
	size_t	 i;
	int	 r = -1;

	buf_init(&out, 4096);
	if (restr_expand(tmpl, smtpd_rbl_var, v, &out, why, whylen) == 0) {
		t = (char *)buf_cstr(&out);
		for (i = 0; t[i] != '\0'; i++)
			if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
				t[i] = '?';
		if ((t[0] != '4' && t[0] != '5') || !isdigit((unsigned char)
		    t[1]) || !isdigit((unsigned char)t[2]) || t[3] != ' ')
			snprintf(why, whylen, "the reply \"%.100s\" does not "
			    "start with a 4NN or 5NN code", t);
		else {
			if (access_dsn_len(t + 4) > 0 && t[4] == t[0])
				snprintf(msg, msglen, "%s", t);
			else
				snprintf(msg, msglen, "%.3s %c.7.1 %s", t, t[0],
				    t + 4);
			r = 0;
		}
	}
	buf_free(&out);
	return r;
}

/*
 * smtpd_rbl_reply - a DNS list matched: the reply of rbl_reply_maps or
 * default_rbl_reply (Postfix's "$rbl_code Service unavailable; $rbl_class
 * [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}"),
 * logged with the list's answer.  A template that gives no reply is a
 * configuration error: logged, and the default text is used.
 */
static enum smtpd_verdict
smtpd_rbl_reply(struct smtpd_ctx *c, const char *zone, const char *class,
    const char *what, const char *txt, const char *hit)
{
	struct smtpd_rblvars v = { c, zone, class, what, txt, "", "", "" };
	struct buf val;
	int	 code = c->s->sd->rbl_code, dom = what != c->s->client_addr;
	char	 why[256];

	log_info("%s[%s]: %s%sblocked using %s; %s", c->s->client_name,
	    c->s->client_addr, dom ? log_str(what) : "", dom ? " " : "",
	    log_str(zone), hit);
	snprintf(v.code, sizeof(v.code), "%d", code);
	snprintf(v.client, sizeof(v.client), "%s[%s]", c->s->client_name,
	    c->s->client_addr);
	if (c->rcpt != NULL)
		addr_format(c->rcpt, v.rcpt, sizeof(v.rcpt));
	buf_init(&val, MAPS_VALUE_MAX + 1);
	if (smtpd_rbl_text(&v, smtpd_rbl_template(c->s->sd, zone, &val),
	    c->msg, c->msglen, why, sizeof(why)) == -1) {
		log_err("reply for %s: %s (default_rbl_reply, rbl_reply_maps)",
		    log_str(zone), why);
		snprintf(c->msg, c->msglen, "%d %s Service unavailable; %s "
		    "[%s] blocked using %s%s%s", code, code / 100 == 4 ?
		    "4.7.1" : "5.7.1", class, log_str(what), log_str(zone),
		    *txt != '\0' ? "; " : "", *txt != '\0' ? log_str(txt) : "");
	}
	buf_free(&val);
	c->temp = c->msg[0] == '4';
	return SMTPD_V_REJECT;
}

/*
 * smtpd_dnsxl_client - is the client's address listed under arg
 * "ZONE[=d.d.d.d]" (reject_rbl_client, permit_dnswl_client): 1 listed
 * (*txt the TXT, *hit the answer), 0 not (or the lookup failed), -1 the
 * answer is pending
 */
static int
smtpd_dnsxl_client(struct smtpd_ctx *c, const char *arg, char *zone,
    size_t zlen, const char **txt, const char **hit)
{
	const struct smtpd_dnsent *e;
	const char *filter;

	if (arg == NULL || (filter = smtpd_zone(arg, zone, zlen)) == NULL)
		return 0;
	if (smtpd_dns_entry(c->s, SMTPD_DNS_RBL, zone) == NULL)
		smtpd_dns_rbl(c->s);	/* mynetworks clients: only now */
	if ((e = smtpd_dns_entry(c->s, SMTPD_DNS_RBL, zone)) == NULL)
		return 0;
	if (smtpd_dns_status(e) == -1)
		return -1;
	return smtpd_dns_rbl_match(e, filter, txt, hit);
}

/* smtpd_r_rbl - reject_rbl_client ZONE[=d.d.d.d] */
enum smtpd_verdict
smtpd_r_rbl(struct smtpd_ctx *c, const char *arg)
{
	const char *txt, *hit;
	char	 zone[DNS_NAME_MAX + 1];

	switch (smtpd_dnsxl_client(c, arg, zone, sizeof(zone), &txt, &hit)) {
	case -1:
		return SMTPD_V_WAIT;
	case 0:
		return SMTPD_V_DUNNO;
	}
	return smtpd_rbl_reply(c, zone, "Client host", c->s->client_addr, txt,
	    hit);
}

/*
 * smtpd_unknown_domain - reject_unknown_{sender,recipient}_domain: addr
 * "local@domain" (what the reply names), who "Sender" or "Recipient",
 * detail the X.Y.Z of "not found" in class 5 ("5.1.8" / "5.1.2")
 */
static enum smtpd_verdict
smtpd_unknown_domain(struct smtpd_ctx *c, const char *addr,
    const char *domain, const char *who, const char *detail)
{
	int	 code = c->s->sd->unknown_code, st;

	if (*domain == '\0' || *domain == '[' ||
	    smtpd_is_mydest(c->s->sd, domain))
		return SMTPD_V_DUNNO;
	if ((st = smtpd_dns_lookup(c->s, SMTPD_DNS_DOMAIN, domain)) == -1)
		return SMTPD_V_WAIT;
	if (st == DNS_OK)
		return SMTPD_V_DUNNO;
	if (st == DNS_NULLMX) {
		if (*who == 'S')
			snprintf(c->msg, c->msglen, "550 5.7.27 <%s>: Sender "
			    "address rejected: Domain %s does not accept mail "
			    "(nullMX)", addr, log_str(domain));
		else
			snprintf(c->msg, c->msglen, "556 5.1.10 <%s>: "
			    "Recipient address rejected: Domain %s does not "
			    "accept mail (nullMX)", addr, log_str(domain));
		return SMTPD_V_REJECT;
	}
	if (st == DNS_NOTFOUND || st == DNS_EMPTY) {
		snprintf(c->msg, c->msglen, "%d %c%s <%s>: %s address "
		    "rejected: Domain not found", code, code / 100 == 4 ? '4' :
		    '5', detail + 1, addr, who);
		c->temp = code / 100 == 4;
		return SMTPD_V_REJECT;
	}
	snprintf(c->msg, c->msglen, "450 4.4.3 <%s>: %s address rejected: "
	    "Domain lookup failed temporarily", addr, who);
	c->temp = 1;
	return SMTPD_V_REJECT;
}

/* smtpd_r_unknown_sender - reject_unknown_sender_domain */
enum smtpd_verdict
smtpd_r_unknown_sender(struct smtpd_ctx *c, const char *arg)
{
	const char *sender = c->s->sender, *at;

	if (sender == NULL || *sender == '\0' ||
	    (at = strrchr(sender, '@')) == NULL)
		return SMTPD_V_DUNNO;
	return smtpd_unknown_domain(c, log_str(sender), at + 1, "Sender",
	    "5.1.8");
}

/* smtpd_r_unknown_rcpt - reject_unknown_recipient_domain */
enum smtpd_verdict
smtpd_r_unknown_rcpt(struct smtpd_ctx *c, const char *arg)
{
	char	 b[600];

	if (c->rcpt == NULL || c->rcpt->literal)
		return SMTPD_V_DUNNO;
	return smtpd_unknown_domain(c, smtpd_rcpt_text(c, b, sizeof(b)),
	    c->rcpt->domain, "Recipient", "5.1.2");
}


/*
 * smtpd_r_unknown_client - reject_unknown_client_hostname: no PTR, or a
 * PTR name that does not list the address (unknown_client_reject_code);
 * 450 when a lookup failed temporarily
 */
enum smtpd_verdict
smtpd_r_unknown_client(struct smtpd_ctx *c, const char *arg)
{
	const struct smtpd_sess *s = c->s;

	if (s->name_status == SMTPD_PEER_OK)
		return SMTPD_V_DUNNO;
	return smtpd_refuse(c, s->name_status >= SMTPD_PEER_PERM ?
	    s->sd->unk_client_code : 450, "4.7.25", "Client host rejected: "
	    "cannot find your hostname, [%s]", s->client_addr);
}

/* smtpd_r_unknown_reverse - reject_unknown_reverse_client_hostname */
enum smtpd_verdict
smtpd_r_unknown_reverse(struct smtpd_ctx *c, const char *arg)
{
	const struct smtpd_sess *s = c->s;

	if (s->reverse_status == SMTPD_PEER_OK)
		return SMTPD_V_DUNNO;
	return smtpd_refuse(c, s->reverse_status == SMTPD_PEER_PERM ?
	    s->sd->unk_client_code : 450, "4.7.1", "Client host rejected: "
	    "cannot find your reverse hostname, [%s]", s->client_addr);
}

/*
 * smtpd_r_unknown_helo - reject_unknown_helo_hostname: the HELO name has
 * no A, AAAA or MX record (unknown_hostname_reject_code; a failed lookup:
 * 450); an address literal must hold a valid address
 */
enum smtpd_verdict
smtpd_r_unknown_helo(struct smtpd_ctx *c, const char *arg)
{
	const char *h = c->s->helo;
	char	 name[DNS_NAME_MAX + 2];
	size_t	 len;
	int	 st;

	if (h == NULL)
		return SMTPD_V_DUNNO;
	if (*h == '[')
		return smtpd_ck_literal_ok(h) ? SMTPD_V_DUNNO : smtpd_refuse(c,
		    501, "5.5.2", "<%s>: Helo command rejected: invalid ip "
		    "address", log_str(h));
	/* "name." is looked up as "name" (not "name.." though) */
	util_strlcpy(name, h, sizeof(name));
	len = strlen(name);
	if (len > 1 && name[len - 1] == '.' && name[len - 2] != '.')
		name[len - 1] = '\0';
	if ((st = smtpd_dns_lookup(c->s, SMTPD_DNS_HOST, name)) == -1)
		return SMTPD_V_WAIT;
	if (st == DNS_OK)
		return SMTPD_V_DUNNO;
	return smtpd_refuse(c, st == DNS_TEMPFAIL ? 450 :
	    c->s->sd->unk_name_code, "4.7.1", "<%s>: Helo command rejected: "
	    "Host not found", log_str(h));
}

/*
 * smtpd_rhsxl - is the domain of what (an address: after its last '@';
 * else the name itself) listed under arg "ZONE[=d.d.d.d]": 1 listed, 0
 * not (or not looked up: address literals, numeric last labels, names
 * that are not host names, failed lookups), -1 pending
 */
static int
smtpd_rhsxl(struct smtpd_ctx *c, const char *arg, const char *what,
    char *zone, size_t zlen, const char **txt, const char **hit)
{
	const struct smtpd_dnsent *e;
	const char *filter, *dom = strrchr(what, '@'), *tail;
	char	 q[DNS_NAME_MAX + 1];

	dom = dom != NULL ? dom + 1 : what;
	tail = strrchr(dom, '.');
	tail = tail != NULL ? tail + 1 : dom;
	if (arg == NULL || *dom == '\0' || *dom == '[' ||
	    strspn(tail, "0123456789") == strlen(tail) ||
	    !addr_valid_domain(dom) ||
	    (filter = smtpd_zone(arg, zone, zlen)) == NULL ||
	    util_fmt(q, sizeof(q), "%s.%s", dom, zone) == -1)
		return 0;
	util_lowercase(q);
	if ((e = smtpd_dns_entry(c->s, SMTPD_DNS_RHSBL, q)) == NULL) {
		smtpd_dns_rhsbl(c->s, dom, zone);
		if ((e = smtpd_dns_entry(c->s, SMTPD_DNS_RHSBL, q)) == NULL)
			return 0;
	}
	if (smtpd_dns_status(e) == -1)
		return -1;
	return smtpd_dns_rbl_match(e, filter, txt, hit);
}

/* smtpd_rhsbl - reject_rhsbl_*: what's domain under the zone of arg */
static enum smtpd_verdict
smtpd_rhsbl(struct smtpd_ctx *c, const char *arg, const char *what,
    const char *class)
{
	const char *txt, *hit;
	char	 zone[DNS_NAME_MAX + 1];

	switch (smtpd_rhsxl(c, arg, what, zone, sizeof(zone), &txt, &hit)) {
	case -1:
		return SMTPD_V_WAIT;
	case 0:
		return SMTPD_V_DUNNO;
	}
	return smtpd_rbl_reply(c, zone, class, what, txt, hit);
}

/* smtpd_r_rhsbl_client - reject_rhsbl_client ZONE: the confirmed client name */
enum smtpd_verdict
smtpd_r_rhsbl_client(struct smtpd_ctx *c, const char *arg)
{
	if (c->s->name_status != SMTPD_PEER_OK)
		return SMTPD_V_DUNNO;
	return smtpd_rhsbl(c, arg, c->s->client_name, "Client host");
}

/* smtpd_r_rhsbl_reverse - reject_rhsbl_reverse_client ZONE: the PTR name */
enum smtpd_verdict
smtpd_r_rhsbl_reverse(struct smtpd_ctx *c, const char *arg)
{
	if (c->s->reverse_status != SMTPD_PEER_OK)
		return SMTPD_V_DUNNO;
	return smtpd_rhsbl(c, arg, c->s->reverse_name,
	    "Unverified Client host");
}

/* smtpd_r_rhsbl_helo - reject_rhsbl_helo ZONE: the HELO name */
enum smtpd_verdict
smtpd_r_rhsbl_helo(struct smtpd_ctx *c, const char *arg)
{
	if (c->s->helo == NULL)
		return SMTPD_V_DUNNO;
	return smtpd_rhsbl(c, arg, c->s->helo, "Helo command");
}

/* smtpd_r_rhsbl_sender - reject_rhsbl_sender ZONE: the sender domain */
enum smtpd_verdict
smtpd_r_rhsbl_sender(struct smtpd_ctx *c, const char *arg)
{
	if (c->s->sender == NULL || *c->s->sender == '\0')
		return SMTPD_V_DUNNO;
	return smtpd_rhsbl(c, arg, c->s->sender, "Sender address");
}

/* smtpd_r_rhsbl_rcpt - reject_rhsbl_recipient ZONE: the recipient domain */
enum smtpd_verdict
smtpd_r_rhsbl_rcpt(struct smtpd_ctx *c, const char *arg)
{
	char	 b[600];

	if (c->rcpt == NULL || c->bare)
		return SMTPD_V_DUNNO;
	return smtpd_rhsbl(c, arg, smtpd_rcpt_text(c, b, sizeof(b)),
	    "Recipient address");
}

/*
 * smtpd_r_dnswl - permit_dnswl_client ZONE[=d.d.d.d]: a listed client is
 * let through - except, for safety, a recipient it would relay to (as
 * Postfix).  A failed lookup only does not permit (the warning is logged).
 */
enum smtpd_verdict
smtpd_r_dnswl(struct smtpd_ctx *c, const char *arg)
{
	const char *txt, *hit;
	char	 zone[DNS_NAME_MAX + 1];

	if (smtpd_ck_unauth_dest(c))
		return SMTPD_V_DUNNO;
	switch (smtpd_dnsxl_client(c, arg, zone, sizeof(zone), &txt, &hit)) {
	case -1:
		return SMTPD_V_WAIT;
	case 0:
		return SMTPD_V_DUNNO;
	}
	return SMTPD_V_PERMIT;
}

/* smtpd_r_rhswl - permit_rhswl_client ZONE[=d.d.d.d]: by the client name */
enum smtpd_verdict
smtpd_r_rhswl(struct smtpd_ctx *c, const char *arg)
{
	const char *txt, *hit;
	char	 zone[DNS_NAME_MAX + 1];

	if (smtpd_ck_unauth_dest(c) || c->s->name_status != SMTPD_PEER_OK)
		return SMTPD_V_DUNNO;
	switch (smtpd_rhsxl(c, arg, c->s->client_name, zone, sizeof(zone),
	    &txt, &hit)) {
	case -1:
		return SMTPD_V_WAIT;
	case 0:
		return SMTPD_V_DUNNO;
	}
	return SMTPD_V_PERMIT;
}
