/*
 * smtpd_peer.c - the client's name (Postfix's smtpd_peer), and the
 * pregreet test: what happens between accept and the 220 banner.
 *
 * Interface: smtpd_peer_start (at accept), smtpd_peer_input (input
 * arrived), smtpd_peer_pregreet (at the banner), smtpd_peer_forget.
 *
 * With smtpd_peername_lookup = yes (the default) the client's address is
 * looked up in the reverse DNS (PTR) on the process's resolver, without
 * blocking other sessions; a name found is then looked up forward (A for
 * an IPv4 client, AAAA for IPv6) and kept only when that lists the
 * client's address.  The session ends up with Postfix's two names:
 *
 *	reverse_name	the PTR name, or "unknown" (no PTR, a lookup that
 *			failed, a name that is not a valid host name or
 *			ends in a numeric label)
 *	client_name	the same name when forward-confirmed, else "unknown"
 *
 * and their status as Postfix's codes: SMTPD_PEER_OK (2), _TEMP (4, a
 * lookup failed temporarily or took longer than SMTPD_PEER_TIMEOUT), _PERM
 * (5: NXDOMAIN, no PTR, lookups off), _FORGED (6: the name does not list
 * the address; only name_status).  reject_unknown_client_hostname and
 * reject_unknown_reverse_client_hostname read those (smtpd_check.c).
 *
 * The banner waits for the name (Postfix looks it up before it greets
 * too), so "connect from NAME[ADDR]" and every later log line carry it;
 * with smtpd_greet_wait it also waits that long.  A client that sends
 * anything before the banner is logged as PREGREET (postscreen's word)
 * and handled per smtpd_greet_action: ignore, enforce (its RCPT commands
 * get 550 5.5.1 Protocol error, so what it tried is logged), drop (521
 * and the connection closes).  After the name, the session goes on in
 * smtpd_peer_ready: the connect log line, DNS list lookups, anvil, the
 * banner.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "dns.h"
#include "log.h"
#include "util.h"
#include "smtpd.h"

#define SMTPD_PEER_TIMEOUT	10	/* seconds for the PTR and A lookups */

static void smtpd_peer_next(struct smtpd_sess *);

/* smtpd_peer_status - a lookup's answer as a name status */
static int
smtpd_peer_status(int dns_status)
{
	return dns_status == DNS_TEMPFAIL ? SMTPD_PEER_TEMP : SMTPD_PEER_PERM;
}

/* smtpd_peer_has_addr - is the client's address among the answer's */
static int
smtpd_peer_has_addr(const struct smtpd_sess *s, const struct dns_answer *a)
{
	unsigned char want[16], got[16];
	int	 af = strchr(s->client_addr, ':') != NULL ? AF_INET6 : AF_INET;
	size_t	 i, len = af == AF_INET ? 4 : 16;

	if (inet_pton(af, s->client_addr, want) != 1)
		return 0;
	for (i = 0; i < a->n; i++)
		if (inet_pton(af, a->text[i], got) == 1 &&
		    memcmp(want, got, len) == 0)
			return 1;
	return 0;
}

/* smtpd_peer_forward - the name's A/AAAA answer: confirmed or not */
static void
smtpd_peer_forward(void *arg, const struct dns_answer *a)
{
	struct smtpd_sess *s = arg;

	s->peer_q = NULL;
	if (a->status == DNS_OK && smtpd_peer_has_addr(s, a)) {
		util_strlcpy(s->client_name, s->reverse_name,
		    sizeof(s->client_name));
		s->name_status = SMTPD_PEER_OK;
	} else if (a->status == DNS_OK) {
		log_warn("hostname %s does not resolve to address %s",
		    s->reverse_name, s->client_addr);
		s->name_status = SMTPD_PEER_FORGED;
	} else {
		log_warn("hostname %s does not resolve to address %s: %s",
		    s->reverse_name, s->client_addr,
		    a->status == DNS_TEMPFAIL ? "Temporary failure in name "
		    "resolution" : a->status == DNS_EMPTY ? "No address "
		    "associated with hostname" : "Name or service not known");
		s->name_status = a->status == DNS_TEMPFAIL ? SMTPD_PEER_TEMP :
		    SMTPD_PEER_FORGED;
	}
	smtpd_peer_next(s);
}

/* smtpd_peer_reverse - the PTR answer: the reverse name, then confirm it */
static void
smtpd_peer_reverse(void *arg, const struct dns_answer *a)
{
	struct smtpd_sess *s = arg;
	int	 type = strchr(s->client_addr, ':') != NULL ? DNS_Q_AAAA :
	    DNS_Q_A;

	s->peer_q = NULL;
	if (a->status != DNS_OK) {
		s->name_status = s->reverse_status =
		    smtpd_peer_status(a->status);
		smtpd_peer_next(s);
		return;
	}
	/* Postfix takes the first name too (getnameinfo) */
	util_strlcpy(s->reverse_name, a->text[0], sizeof(s->reverse_name));
	s->reverse_status = SMTPD_PEER_OK;
	if ((s->peer_q = dns_async(s->sd->peer_dns, s->reverse_name, type,
	    smtpd_peer_forward, s)) == NULL)
		s->name_status = SMTPD_PEER_TEMP;
	smtpd_peer_next(s);
}

/* smtpd_peer_timer_cb - the name took too long, or the greet wait is over */
static void
smtpd_peer_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd_sess *s = arg;

	if (s->peer_q != NULL && util_mono_ms() >= s->peer_deadline) {
		dns_async_cancel(s->peer_q);
		s->peer_q = NULL;
		log_warn("%s[%s]: no answer to the client name lookup within "
		    "%llu ms", s->reverse_status == SMTPD_PEER_OK ?
		    s->reverse_name : "unknown", s->client_addr,
		    (unsigned long long)(s->peer_deadline - s->connect_ms));
		if (s->reverse_status != SMTPD_PEER_OK)
			s->reverse_status = SMTPD_PEER_TEMP;
		s->name_status = SMTPD_PEER_TEMP;
	}
	smtpd_peer_next(s);
}

/*
 * smtpd_peer_ready - the name is known and the greet wait is over: log
 * the connection, start the DNS lists, count it (anvil), greet
 */
static void
smtpd_peer_ready(struct smtpd_sess *s)
{
	s->phase = SMTPD_PH_CMD;
	s->named = 1;
	log_info("connect from %s[%s]", s->client_name, s->client_addr);
	if (!s->mynetworks)
		smtpd_dns_rbl(s);	/* answers come while the client talks */
	smtpd_reset_timer(s);
	if (smtpd_anvil_connect(s))
		return;			/* greeted when anvil has counted */
	smtpd_greet(s);
	smtpd_resume(s);
}

/* smtpd_peer_next - after each step: wait for what is left, or go on */
static void
smtpd_peer_next(struct smtpd_sess *s)
{
	uint64_t now = util_mono_ms();
	uint64_t at = s->peer_q != NULL ? s->peer_deadline : s->greet_at;
	struct timeval tv;

	if (s->peer_q == NULL && at <= now) {
		if (s->peer_timer != NULL)
			evtimer_del(s->peer_timer);
		smtpd_peer_ready(s);
		return;
	}
	if (s->peer_timer == NULL && (s->peer_timer =
	    evtimer_new(s->sd->base, smtpd_peer_timer_cb, s)) == NULL)
		log_fatal("out of memory for a session");
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / 1000);
	tv.tv_usec = (suseconds_t)(at % 1000) * 1000;
	s->phase = SMTPD_PH_WAIT;
	evtimer_add(s->peer_timer, &tv);
}

/* smtpd_peer_start - a new client: look up its name, hold the banner */
void
smtpd_peer_start(struct smtpd_sess *s)
{
	struct smtpd *sd = s->sd;
	char	 q[DNS_NAME_MAX + 1];

	s->connect_ms = util_mono_ms();
	s->greet_at = s->connect_ms + (uint64_t)sd->greet_wait * 1000;
	s->peer_deadline = s->connect_ms + smtpd_wait_limit(sd,
	    SMTPD_PEER_TIMEOUT * 1000ULL);
	util_strlcpy(s->client_name, "unknown", sizeof(s->client_name));
	util_strlcpy(s->reverse_name, "unknown", sizeof(s->reverse_name));
	s->name_status = s->reverse_status = SMTPD_PEER_PERM;
	if (sd->peername_lookup) {
		s->name_status = s->reverse_status = SMTPD_PEER_TEMP;
		if (sd->peer_dns != NULL && dns_reverse_name(s->client_addr, q,
		    sizeof(q)) == 0)
			s->peer_q = dns_async(sd->peer_dns, q, DNS_Q_PTR,
			    smtpd_peer_reverse, s);
	}
	smtpd_peer_next(s);
}

/* smtpd_peer_input - input arrived: before the banner it is a pregreet */
void
smtpd_peer_input(struct smtpd_sess *s)
{
	if (!s->greeted && s->pregreet_ms == 0)
		s->pregreet_ms = util_mono_ms() - s->connect_ms + 1;
}

/*
 * smtpd_peer_pregreet - the banner is due: did the client talk first?
 * Logged as postscreen does; 1 when the session was dropped (521).
 */
int
smtpd_peer_pregreet(struct smtpd_sess *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	unsigned char head[100];
	char	 text[4 * sizeof(head) + 1];
	size_t	 len = evbuffer_get_length(in), n;
	ev_ssize_t got;

	s->greeted = 1;
	if (len == 0)
		return 0;
	n = len < sizeof(head) ? len : sizeof(head);
	got = evbuffer_copyout(in, head, n);
	log_escape(text, sizeof(text), head, got > 0 ? (size_t)got : 0);
	log_info("PREGREET %zu after %llu.%02llu from %s[%s]:%d: %s", len,
	    (unsigned long long)(s->pregreet_ms / 1000),
	    (unsigned long long)(s->pregreet_ms % 1000 / 10), s->client_name,
	    s->client_addr, s->client_port, text);
	if (s->sd->greet_action == SMTPD_GREET_DROP) {
		evbuffer_drain(in, len);
		smtpd_reply(s, "521 5.5.1 Protocol error");
		smtpd_close(s);
		return 1;
	}
	s->pregreet_enforce = s->sd->greet_action == SMTPD_GREET_ENFORCE;
	return 0;
}

/* smtpd_peer_forget - the session ends: drop the lookup and the timer */
void
smtpd_peer_forget(struct smtpd_sess *s)
{
	if (s->peer_q != NULL)
		dns_async_cancel(s->peer_q);
	s->peer_q = NULL;
	if (s->peer_timer != NULL)
		event_free(s->peer_timer);
	s->peer_timer = NULL;
}
