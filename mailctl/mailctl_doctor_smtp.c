/*
 * mailctl_doctor_smtp.c - mailctl doctor's checks that speak SMTP to the
 * running listeners, as any client would (see mailctl_doctor.c):
 *
 *	listener  every inet smtpd of master.cf answers with a 220 greeting
 *		  (TLS first on a smtpd_tls_wrappermode port)
 *	auth	  no AUTH in the EHLO reply before STARTTLS (a password
 *		  would cross in clear text)
 *	relay	  from a local address outside mynetworks (127.x on
 *		  loopback, else an address of this host's interfaces):
 *		  RCPT TO an outside domain must be refused; MAIL FROM:<>
 *		  and no DATA, so nothing is ever queued
 *	outbound  (--network) a TCP connection to port 25 of the
 *		  relayhost, or of the MX hosts of big mailbox providers
 *
 * One blocking connection at a time, each step bounded by DS_TIMEOUT.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "cfg.h"
#include "dns.h"
#include "log.h"
#include "mailctl.h"
#include "mailctl_dns.h"
#include "mailctl_doctor.h"
#include "net.h"
#include "smtpreply.h"
#include "tls.h"
#include "util.h"

#define DS_TIMEOUT	10		/* seconds per connect, read, write */
#define DS_IN_MAX	(SMTPREPLY_LINE_MAX * 4)
#define DS_RELAY_RCPT	"relay-test@example.net"

struct ds_conn {
	int	 fd;
	SSL_CTX	*ctx;
	SSL	*ssl;
	char	 in[DS_IN_MAX];
	size_t	 inlen;
};

/* candidate sources on loopback for the relay test (not 127.0.0.2: every
 * DNSBL lists it) */
static const char *const ds_sources[] = { "127.0.0.25", "127.1.0.25",
    "127.254.0.25" };

/* ds_close - end a connection */
static void
ds_close(struct ds_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
	c->ctx = NULL;
}

/*
 * ds_open - connect to host:port from src (NULL: any), TLS first when
 * wrapper; 0, or -1 with why
 */
static int
ds_open(struct ds_conn *c, const char *host, const char *port,
    const char *src, int wrapper, char *why, size_t whylen)
{
	struct addrinfo hints, *ai = NULL, *sa = NULL;
	struct timeval tv = { DS_TIMEOUT, 0 };
	int	 e;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0 || (src != NULL &&
	    (e = getaddrinfo(src, NULL, &hints, &sa)) != 0)) {
		snprintf(why, whylen, "%s", gai_strerror(e));
		goto fail;
	}
	if ((c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1 || setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 || setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO,
	    &tv, sizeof(tv)) == -1 || (sa != NULL && bind(c->fd, sa->ai_addr,
	    sa->ai_addrlen) == -1) || connect(c->fd, ai->ai_addr,
	    ai->ai_addrlen) == -1) {
		snprintf(why, whylen, "%s", errno == EINPROGRESS ||
		    errno == EAGAIN ? "timed out" : strerror(errno));
		goto fail;
	}
	if (wrapper && ((c->ctx = tls_client_ctx(0, 0, why, whylen)) ==
	    NULL || (c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1)) {
		snprintf(why, whylen, "TLS handshake failed");
		goto fail;
	}
	freeaddrinfo(ai);
	if (sa != NULL)
		freeaddrinfo(sa);
	return 0;
fail:
	if (ai != NULL)
		freeaddrinfo(ai);
	if (sa != NULL)
		freeaddrinfo(sa);
	ds_close(c);
	return -1;
}

/* ds_reply - one whole reply (lib/mail/smtpreply) into r; its code, or -1 */
static int
ds_reply(struct ds_conn *c, struct smtpreply *r)
{
	long	 used;
	ssize_t	 n;

	for (;;) {
		if ((used = smtpreply_parse(c->in, c->inlen, r)) == -1)
			return -1;
		if (used > 0) {
			memmove(c->in, c->in + used, c->inlen - (size_t)used);
			c->inlen -= (size_t)used;
			return r->code;
		}
		if (c->inlen >= sizeof(c->in))
			return -1;
		n = c->ssl != NULL ? SSL_read(c->ssl, c->in + c->inlen,
		    (int)(sizeof(c->in) - c->inlen)) : read(c->fd, c->in +
		    c->inlen, sizeof(c->in) - c->inlen);
		if (n <= 0)
			return -1;
		c->inlen += (size_t)n;
	}
}

/* ds_cmd - send a line, read the reply; its code, or -1 */
static int
ds_cmd(struct ds_conn *c, const char *line, struct smtpreply *r)
{
	char	 b[1100];
	int	 n;

	n = snprintf(b, sizeof(b), "%s\r\n", line);
	if (n < 0 || (size_t)n >= sizeof(b) || (c->ssl != NULL ?
	    SSL_write(c->ssl, b, n) != n : write(c->fd, b, (size_t)n) != n))
		return -1;
	return ds_reply(c, r);
}

/* ds_last - "CODE text" of a reply's last line, for a message */
static const char *
ds_last(const struct smtpreply *r, char *out, size_t outlen)
{
	const char *p = strrchr(r->text, '\n');

	snprintf(out, outlen, "%d %s", r->code, p != NULL ? p + 1 : r->text);
	return out;
}

/* ds_where - host and port of an inet service ("" host: inet_interfaces) */
static void
ds_where(struct doc *d, const struct mcf_service *s, char *host,
    size_t hlen)
{
	char	**v;
	size_t	 n;

	if (s->host != NULL && *s->host != '\0') {
		util_strlcpy(host, s->host, hlen);
		if (host[0] == '[' && strlen(host) > 2) {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		return;
	}
	v = cfg_list(d->cfg, "inet_interfaces", &n);
	if (n == 0 || strcmp(v[0], "all") == 0 ||
	    strcmp(v[0], "loopback-only") == 0)
		util_strlcpy(host, "127.0.0.1", hlen);
	else
		util_strlcpy(host, v[0], hlen);
	cfg_list_free(v, n);
}

/* ds_source - a local address outside mynetworks to test from, or NULL */
static const char *
ds_source(struct doc *d, const char *host, char *out, size_t outlen)
{
	struct ifaddrs *ifa, *i;
	struct net *nets;
	char	 err[256];
	size_t	 k, n;
	const char *r = NULL;

	if (net_parse_list(cfg_str(d->cfg, "mynetworks"), &nets, &n, err,
	    sizeof(err)) == -1)
		return NULL;
	if (strncmp(host, "127.", 4) == 0) {
		for (k = 0; k < NELEM(ds_sources) && r == NULL; k++)
			if (!net_match(nets, n, ds_sources[k]))
				r = util_strlcpy(out, ds_sources[k], outlen) <
				    outlen ? out : NULL;
	/* elsewhere: an address of this host that is no loopback */
	} else if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i != NULL && r == NULL; i = i->ifa_next)
			if (i->ifa_addr != NULL &&
			    i->ifa_addr->sa_family == AF_INET &&
			    inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr, out, (socklen_t)outlen) !=
			    NULL && strncmp(out, "127.", 4) != 0 &&
			    !net_match(nets, n, out))
				r = out;
		freeifaddrs(ifa);
	}
	free(nets);
	return r;
}

/* ds_relay - the open-relay self-test on service s at host:port */
static void
ds_relay(struct doc *d, const struct mcf_service *s, const char *host)
{
	struct ds_conn c;
	struct smtpreply r;
	char	 src[64], why[256], last[SMTPREPLY_TEXT_MAX + 16];
	int	 code;

	if (ds_source(d, host, src, sizeof(src)) == NULL) {
		doc_add(d, DOC_WARN, "relay", "list only your own networks in "
		    "mynetworks (e.g. 127.0.0.1/32 [::1]/128) so the test can "
		    "run", "open-relay self-test not run on %s: every local "
		    "address is in mynetworks", s->name);
		return;
	}
	if (ds_open(&c, host, s->port, src, 0, why, sizeof(why)) == -1)
		return;		/* the listener check says why */
	if (ds_reply(&c, &r) != 220 ||
	    ds_cmd(&c, "EHLO doctor.invalid", &r) != 250 ||
	    (code = ds_cmd(&c, "MAIL FROM:<>", &r)) == -1) {
		doc_add(d, DOC_WARN, "relay", NULL, "open-relay self-test on "
		    "%s from %s: the session ended early", s->name, src);
		ds_close(&c);
		return;
	}
	if (code == 250)
		code = ds_cmd(&c, "RCPT TO:<" DS_RELAY_RCPT ">", &r);
	if (code >= 200 && code < 300)
		doc_add(d, DOC_ERR, "relay", "end smtpd_relay_restrictions or "
		    "smtpd_recipient_restrictions with reject_unauth_"
		    "destination and list only your own networks in "
		    "mynetworks", "OPEN RELAY: %s accepted mail for %s from "
		    "%s, a client outside mynetworks that did not log in",
		    s->name, DS_RELAY_RCPT, src);
	else if (code >= 500)
		doc_add(d, DOC_OK, "relay", NULL, "%s refuses to relay for %s: "
		    "%s", s->name, src, ds_last(&r, last, sizeof(last)));
	else
		doc_add(d, DOC_WARN, "relay", "run the test again; check the "
		    "log for the reason", "open-relay self-test on %s not "
		    "conclusive: %s", s->name, code == -1 ? "no reply" :
		    ds_last(&r, last, sizeof(last)));
	(void)ds_cmd(&c, "QUIT", &r);
	ds_close(&c);
}

/* ds_service - banner and EHLO of one smtpd listener */
static int
ds_service(struct doc *d, const struct mcf_service *s, const char *host,
    int wrapper)
{
	struct ds_conn c;
	struct smtpreply r;
	char	 why[256], last[SMTPREPLY_TEXT_MAX + 16];

	if (ds_open(&c, host, s->port, NULL, wrapper, why, sizeof(why)) == -1 ||
	    ds_reply(&c, &r) != 220) {
		doc_add(d, DOC_ERR, "listener", "start the mail system "
		    "(\"mailctl start\"), and look at the mail log and "
		    "inet_interfaces", "%s (%s port %s%s) does not answer: %s",
		    s->name, host, s->port, wrapper ? ", TLS" : "", c.fd == -1 ?
		    why : "no 220 greeting");
		ds_close(&c);
		return -1;
	}
	doc_add(d, DOC_OK, "listener", NULL, "%s (%s port %s%s) answers: %s",
	    s->name, host, s->port, wrapper ? ", TLS" : "",
	    ds_last(&r, last, sizeof(last)));
	if (!wrapper) {
		if (ds_cmd(&c, "EHLO doctor.invalid", &r) != 250)
			doc_add(d, DOC_WARN, "auth", NULL, "%s: EHLO refused: "
			    "%s", s->name, ds_last(&r, last, sizeof(last)));
		else if (smtpreply_has(&r, "AUTH") != NULL)
			doc_add(d, DOC_ERR, "auth", "set smtpd_tls_auth_only = "
			    "yes (and a certificate)", "%s offers AUTH before "
			    "STARTTLS: passwords can cross the network in "
			    "clear text", s->name);
		else
			doc_add(d, DOC_OK, "auth", NULL, "%s offers no AUTH "
			    "before STARTTLS%s", s->name, smtpreply_has(&r,
			    "STARTTLS") != NULL ? "" : " (and no STARTTLS)");
	}
	(void)ds_cmd(&c, "QUIT", &r);
	ds_close(&c);
	return 0;
}

/*
 * ds_mynetworks - mynetworks must not take in the internet: a network
 * that holds public addresses makes every client there a relay client
 */
static void
ds_mynetworks(struct doc *d)
{
	static const char *const outside[] = { "8.8.8.8", "1.1.1.1",
	    "203.0.113.1", "2001:4860:4860::8888" };
	struct net *nets;
	char	 err[256];
	size_t	 k, n;

	if (net_parse_list(cfg_str(d->cfg, "mynetworks"), &nets, &n, err,
	    sizeof(err)) == -1)
		return;		/* the config check says why */
	for (k = 0; k < NELEM(outside); k++)
		if (net_match(nets, n, outside[k])) {
			doc_add(d, DOC_ERR, "relay", "list only your own "
			    "networks in mynetworks (e.g. 127.0.0.0/8 "
			    "[::1]/128)", "OPEN RELAY: mynetworks (%s) holds "
			    "the address %s of the internet: every such client "
			    "may relay", log_str(cfg_str(d->cfg,
			    "mynetworks")), outside[k]);
			break;
		}
	free(nets);
}

/* doc_smtp - see mailctl_doctor.h */
void
doc_smtp(struct doc *d)
{
	const struct mcf_service *s;
	struct cfg *c;
	char	 host[256];
	size_t	 i;
	int	 wrapper, relay_done = 0;

	ds_mynetworks(d);
	for (i = 0; i < d->mcf.nsvc; i++) {
		s = &d->mcf.svc[i];
		if (s->type != MCF_INET || strcmp(s->command, "smtpd") != 0 ||
		    (c = doc_service_cfg(d, s)) == NULL)
			continue;
		wrapper = cfg_bool(c, "smtpd_tls_wrappermode");
		ds_where(d, s, host, sizeof(host));
		/* the relay test where strangers come: no forced TLS/AUTH */
		if (ds_service(d, s, host, wrapper) == 0 && !wrapper &&
		    !relay_done && strcmp(cfg_str(c,
		    "smtpd_tls_security_level"), "encrypt") != 0) {
			ds_relay(d, s, host);
			relay_done = 1;
		}
		cfg_free(c);
	}
}

/* ds_reach - can a TCP connection to host port be opened */
static int
ds_reach(const char *host, const char *port, char *why, size_t whylen)
{
	struct ds_conn c;

	if (ds_open(&c, host, port, NULL, 0, why, whylen) == -1)
		return -1;
	ds_close(&c);
	return 0;
}

/* doc_outbound - see mailctl_doctor.h */
void
doc_outbound(struct doc *d)
{
	static const char *const domains[] = { "gmail.com", "outlook.com" };
	struct dns_target t[DNS_MAX_TARGETS];
	struct dns *dns;
	const char *rh = cfg_str(d->cfg, "relayhost");
	char	 host[256], port[16], why[256], addr[64], *colon;
	size_t	 k, n;
	int	 st;

	snprintf(port, sizeof(port), "%lld", cfg_int(d->cfg, "smtp_tcp_port"));
	if (*rh != '\0') {
		util_strlcpy(host, rh + (*rh == '['), sizeof(host));
		if ((colon = strrchr(host, ':')) != NULL && strchr(host, ']') <
		    colon) {
			util_strlcpy(port, colon + 1, sizeof(port));
			*colon = '\0';
		}
		host[strcspn(host, "]")] = '\0';
		if (ds_reach(host, port, why, sizeof(why)) == 0)
			doc_add(d, DOC_OK, "outbound", NULL, "relayhost %s port "
			    "%s is reachable", host, port);
		else
			doc_add(d, DOC_WARN, "outbound", "check relayhost and "
			    "the firewall", "relayhost %s port %s: %s", host,
			    port, why);
		return;
	}
	if ((dns = mailctl_dns_resolver(d->cfg)) == NULL)
		return;
	for (k = 0; k < NELEM(domains); k++) {
		n = 0;
		st = dns_targets(dns, domains[k], DS_TIMEOUT, t, &n, why,
		    sizeof(why));
		if (st != DNS_OK || n == 0 || t[0].naddr == 0 ||
		    inet_ntop(t[0].addr[0].family, t[0].addr[0].addr, addr,
		    sizeof(addr)) == NULL)
			continue;
		if (ds_reach(addr, port, why, sizeof(why)) == 0) {
			doc_add(d, DOC_OK, "outbound", NULL, "port %s of %s "
			    "(MX of %s) is reachable", port, t[0].host,
			    domains[k]);
			dns_free(dns);
			return;
		}
	}
	doc_add(d, DOC_WARN, "outbound", "ask the provider to open outbound "
	    "port 25, or send through a relayhost on port 587",
	    "no MX host of %s could be reached on port %s: outbound port 25 "
	    "looks blocked", domains[0], port);
	dns_free(dns);
}
