/*
 * smtp_conn.c - one connection to a remote SMTP server: connect with a
 * timeout, write and read with deadlines (each call's timeout bounds the
 * whole operation, not each read), replies through lib/mail/smtpreply (bounded,
 * hostile-safe), and the STARTTLS handshake (OpenSSL, TLS 1.2+; with
 * verify the certificate must chain to smtp_tls_CAfile and name the host).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"
#include "util.h"
#include "smtp.h"

/* smtp_conn_wait - poll for events until the deadline; -1 on timeout */
static int
smtp_conn_wait(struct smtp_conn *c, short ev, uint64_t deadline)
{
	struct pollfd p = { c->fd, ev, 0 };
	uint64_t now;
	int	 r;

	for (;;) {
		now = util_mono_ms();
		if (now >= deadline) {
			snprintf(c->err, sizeof(c->err), "timeout");
			return -1;
		}
		r = poll(&p, 1, (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR) {
			snprintf(c->err, sizeof(c->err), "poll: %s",
			    strerror(errno));
			return -1;
		}
	}
}

/*
 * smtp_conn_bind - the source address of smtp_bind_address(6) for this
 * family, when one is set: 0, or -1 (the attempt fails rather than send
 * from an address SPF and the PTR record may not cover)
 */
static int
smtp_conn_bind(struct smtp_conn *c, int family)
{
	const struct dns_addr *b = family == AF_INET ? &smtp.bind4 :
	    &smtp.bind6;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char	 txt[64];

	if (b->family != family)
		return 0;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, b->addr, 4);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, b->addr, 16);
	}
	if (bind(c->fd, (struct sockaddr *)&ss, family == AF_INET ?
	    sizeof(*sin) : sizeof(*sin6)) == -1) {
		snprintf(c->err, sizeof(c->err), "connect to %s[%s]:%d: "
		    "cannot bind to %s: %s", c->host, c->addr, c->port,
		    dns_addr_text(b, txt, sizeof(txt)), strerror(errno));
		return -1;
	}
	return 0;
}

/* smtp_conn_open - non-blocking connect within timeout seconds */
int
smtp_conn_open(struct smtp_conn *c, const struct dns_addr *a, int port,
    int timeout)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t slen, elen = sizeof(int);
	int	 err = 0, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->addr, 4);
		sin->sin_port = htons((uint16_t)port);
		slen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->addr, 16);
		sin6->sin6_port = htons((uint16_t)port);
		slen = sizeof(*sin6);
	}
	dns_addr_text(a, c->addr, sizeof(c->addr));
	c->port = port;
	c->rlen = 0;
	c->ssl = NULL;
	c->tls = 0;
	c->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->fd == -1) {
		snprintf(c->err, sizeof(c->err), "socket: %s",
		    strerror(errno));
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (smtp_conn_bind(c, a->family) == -1)
		goto fail;
	if (connect(c->fd, (struct sockaddr *)&ss, slen) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(c->err, sizeof(c->err), "connect to %s[%s]:%d: %s",
		    c->host, c->addr, port, strerror(errno));
		goto fail;
	}
	if (smtp_conn_wait(c, POLLOUT, util_mono_ms() +
	    (uint64_t)timeout * 1000) == -1 ||
	    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
	    err != 0) {
		snprintf(c->err, sizeof(c->err), "connect to %s[%s]:%d: %s",
		    c->host, c->addr, port, err ? strerror(err) :
		    "Connection timed out");
		goto fail;
	}
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return -1;
}

/* smtp_conn_tls_wait - retry an SSL call until it completes or times out */
static int
smtp_conn_tls_wait(struct smtp_conn *c, int r, uint64_t deadline)
{
	int	 e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ)
		return smtp_conn_wait(c, POLLIN, deadline);
	if (e == SSL_ERROR_WANT_WRITE)
		return smtp_conn_wait(c, POLLOUT, deadline);
	{
		unsigned long ev = ERR_get_error();
		const char *why = ev != 0 ? ERR_reason_error_string(ev) : NULL;

		snprintf(c->err, sizeof(c->err), "TLS error: %s",
		    why != NULL ? why : "connection lost");
	}
	ERR_clear_error();
	return -1;
}

/* smtp_conn_write - all of buf within timeout seconds */
int
smtp_conn_write(struct smtp_conn *c, const void *buf, size_t len,
    int timeout)
{
	uint64_t deadline = util_mono_ms() + (uint64_t)timeout * 1000;
	const char *p = buf;
	ssize_t	 n;
	int	 r;

	while (len > 0) {
		if (c->ssl != NULL) {
			r = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX :
			    (int)len);
			if (r <= 0) {
				if (smtp_conn_tls_wait(c, r, deadline) == -1)
					return -1;
				continue;
			}
			n = r;
		} else if ((n = send(c->fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				if (smtp_conn_wait(c, POLLOUT, deadline) == -1)
					return -1;
				continue;
			}
			snprintf(c->err, sizeof(c->err), "write: %s",
			    strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * smtp_conn_printf - one formatted command line (CRLF added); the line is
 * wiped afterwards, since AUTH PLAIN's carries the relay's password
 */
int
smtp_conn_printf(struct smtp_conn *c, int timeout, const char *fmt, ...)
{
	char	 line[2048];
	va_list	 ap;
	int	 n, r;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2) {
		OPENSSL_cleanse(line, sizeof(line));
		snprintf(c->err, sizeof(c->err), "command too long");
		return -1;
	}
	memcpy(line + n, "\r\n", 2);
	r = smtp_conn_write(c, line, (size_t)n + 2, timeout);
	OPENSSL_cleanse(line, (size_t)n + 2);
	return r;
}

/* smtp_conn_fill - read more bytes; -1 on error, EOF or timeout */
static int
smtp_conn_fill(struct smtp_conn *c, uint64_t deadline)
{
	ssize_t	 n;
	int	 r;

	if (c->rlen >= sizeof(c->rbuf)) {
		snprintf(c->err, sizeof(c->err), "reply too long");
		return -1;
	}
	for (;;) {
		if (c->ssl != NULL) {
			r = SSL_read(c->ssl, c->rbuf + c->rlen,
			    (int)(sizeof(c->rbuf) - c->rlen));
			if (r <= 0) {
				if (smtp_conn_tls_wait(c, r, deadline) == -1)
					return -1;
				continue;
			}
			n = r;
		} else {
			n = recv(c->fd, c->rbuf + c->rlen,
			    sizeof(c->rbuf) - c->rlen, 0);
			if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
				if (smtp_conn_wait(c, POLLIN, deadline) == -1)
					return -1;
				continue;
			}
			if (n <= 0) {
				snprintf(c->err, sizeof(c->err),
				    n == 0 ? "lost connection" : "read: %s",
				    strerror(errno));
				return -1;
			}
		}
		c->rlen += (size_t)n;
		return 0;
	}
}

/*
 * smtp_conn_garbled - a reply with garbled lines (smtpreply.h): a 5xx
 * counts, since every well-formed line of it says 5xx and trying again
 * for days helps nobody (the session is not reused after it); any other
 * code is a malformed reply, as before: a garbled 2xx is never taken for
 * an acceptance.  0 taken, -1 malformed.
 */
static int
smtp_conn_garbled(struct smtp_conn *c, const struct smtpreply *r)
{
	if (r->code / 100 != 5) {
		snprintf(c->err, sizeof(c->err), "malformed reply from "
		    "server");
		return -1;
	}
	c->garbled = 1;
	log_warn("%s%s%s[%s]:%d: %d malformed line%s in a %d reply; taken "
	    "as a permanent refusal", c->qid, c->qid[0] != '\0' ? ": " : "",
	    c->host, c->addr, c->port, r->garbled, r->garbled == 1 ? "" :
	    "s", r->code);
	return 0;
}

/* smtp_conn_reply - the next complete reply within timeout seconds */
int
smtp_conn_reply(struct smtp_conn *c, struct smtpreply *r, int timeout)
{
	uint64_t deadline = util_mono_ms() + (uint64_t)timeout * 1000;
	long	 used;

	for (;;) {
		used = smtpreply_parse(c->rbuf, c->rlen, r);
		if (used < 0) {
			snprintf(c->err, sizeof(c->err), "malformed reply from "
			    "server");
			return -1;
		}
		if (used > 0) {
			memmove(c->rbuf, c->rbuf + used, c->rlen - (size_t)used);
			c->rlen -= (size_t)used;
			return r->garbled > 0 ? smtp_conn_garbled(c, r) : 0;
		}
		if (smtp_conn_fill(c, deadline) == -1)
			return -1;
	}
}

/*
 * smtp_conn_tls_log - smtp_tls_loglevel >= 1: one line per TLS session,
 * in Postfix's words: "Verified" (level verify: chain and name checked),
 * "Untrusted" (a certificate, not checked) or "Anonymous" (none)
 */
static void
smtp_conn_tls_log(const struct smtp_conn *c, int verified)
{
	X509	*cert = SSL_get1_peer_certificate(c->ssl);
	char	 info[TLS_INFO_MAX];

	tls_session_log(verified ? "Verified" : cert != NULL ? "Untrusted" :
	    "Anonymous", "to", c->host, c->addr, c->port,
	    tls_session_info(c->ssl, info, sizeof(info)));
	X509_free(cert);
}

/* smtp_conn_starttls - TLS handshake; verify: chain and host name */
int
smtp_conn_starttls(struct smtp_conn *c, int verify, int timeout)
{
	uint64_t deadline = util_mono_ms() + (uint64_t)timeout * 1000;
	SSL	*ssl;
	int	 r;

	if (smtp.tls_ctx == NULL)
		smtp_tls_setup(smtp.sk);
	if ((ssl = SSL_new(smtp.tls_ctx)) == NULL ||
	    SSL_set_fd(ssl, c->fd) != 1) {
		snprintf(c->err, sizeof(c->err), "cannot start TLS");
		SSL_free(ssl);
		return -1;
	}
	if (dns_valid_name(c->host))
		SSL_set_tlsext_host_name(ssl, c->host);
	if (verify) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		SSL_set1_host(ssl, c->host);
	}
	c->ssl = ssl;
	c->rlen = 0;	/* nothing sent before the handshake is trusted */
	while ((r = SSL_connect(ssl)) != 1)
		if (smtp_conn_tls_wait(c, r, deadline) == -1) {
			if (verify && SSL_get_verify_result(ssl) != X509_V_OK)
				snprintf(c->err, sizeof(c->err), "certificate "
				    "verification failed: %s",
				    X509_verify_cert_error_string(
				    SSL_get_verify_result(ssl)));
			SSL_free(ssl);
			c->ssl = NULL;
			return -1;
		}
	c->tls = 1;
	if (smtp.tls_loglevel >= 1)
		smtp_conn_tls_log(c, verify);
	return 0;
}

/* smtp_conn_close - close without QUIT */
void
smtp_conn_close(struct smtp_conn *c)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}
