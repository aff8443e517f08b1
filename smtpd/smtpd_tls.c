/*
 * smtpd_tls.c - TLS for smtpd: STARTTLS (RFC 3207) and implicit TLS
 * (smtpd_tls_wrappermode, port 465, RFC 8314), with OpenSSL 3.
 *
 * The certificate chain and key are read before the jail; a reload
 * (master: new smtpd processes) picks up renewed files while the old
 * processes finish their sessions.  The context and its policy (TLS 1.2
 * and 1.3, no renegotiation, the server's cipher order, forward secrecy
 * and AEAD only) come from lib/tls/tls.c; here is which protocol list applies
 * at which security level, the accepting bufferevent and the sessions.
 *
 * STARTTLS is a reset (DESIGN rule 6): the 220 reply and every reply
 * before it go out in clear, anything the client sent after STARTTLS in
 * the same packet is thrown away unread, and HELO, the mail transaction and
 * any login are forgotten.  Then the plain bufferevent is replaced by an
 * OpenSSL one on the same socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cfg.h"
#include "log.h"
#include "tls.h"
#include "util.h"
#include "smtpd.h"

/*
 * smtpd_tls_setup - before the jail: the SSL_CTX when the service wants
 * TLS.  -1 with a message when the level needs TLS but it cannot be had.
 */
int
smtpd_tls_setup(struct smtpd *sd, char *err, size_t errlen)
{
	const char *level = cfg_str(sd->cfg, "smtpd_tls_security_level");
	struct tls_certkey ck = {
		cfg_str(sd->cfg, "smtpd_tls_cert_file"), "smtpd_tls_cert_file",
		cfg_str(sd->cfg, "smtpd_tls_key_file"), "smtpd_tls_key_file"
	};
	const char *pname;
	int	 want, vmin, vmax;

	if (*level == '\0')
		level = cfg_bool(sd->cfg, "smtpd_use_tls") ? "may" : "none";
	sd->tls_required = strcmp(level, "encrypt") == 0;
	sd->tls_wrapper = cfg_bool(sd->cfg, "smtpd_tls_wrappermode");
	want = sd->tls_wrapper || strcmp(level, "none") != 0;
	if (!want)
		return 0;
	sd->tls_broken = 1;	/* until the context is complete */
	if (*ck.cert_file == '\0' || *ck.key_file == '\0') {
		snprintf(err, errlen, "TLS is wanted (security level %s%s) but "
		    "smtpd_tls_cert_file or smtpd_tls_key_file is not set",
		    level, sd->tls_wrapper ? ", wrapper mode" : "");
		return -1;
	}
	/* the mandatory list with encrypt and in wrapper mode */
	pname = sd->tls_required || sd->tls_wrapper ?
	    "smtpd_tls_mandatory_protocols" : "smtpd_tls_protocols";
	if (tls_protocols(cfg_str(sd->cfg, pname), &vmin, &vmax) == -1) {
		snprintf(err, errlen, "%s = %s: no usable TLS version (youju "
		    "speaks TLSv1.2 and TLSv1.3)", pname,
		    log_str(cfg_str(sd->cfg, pname)));
		return -1;
	}
	if ((sd->tls_ctx = tls_server_ctx(vmin, vmax, &ck, err, errlen)) ==
	    NULL)
		return -1;
	sd->tls_offer = !sd->tls_wrapper;
	sd->tls_broken = 0;
	return 0;
}

/* smtpd_tls_wrap - an OpenSSL bufferevent that accepts on fd */
struct bufferevent *
smtpd_tls_wrap(struct smtpd *sd, int fd)
{
	SSL	*ssl;
	struct bufferevent *bev;

	if ((ssl = SSL_new(sd->tls_ctx)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(sd->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* a clean close_notify is not waited for at the end of a session */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* smtpd_starttls - the STARTTLS command */
void
smtpd_starttls(struct smtpd_sess *s, char *arg)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	if (*arg != '\0') {
		smtpd_reply(s, "501 5.5.4 Syntax: STARTTLS");
		s->errors++;
		return;
	}
	if (s->tls != 0) {
		smtpd_reply(s, "554 5.5.1 Error: TLS already active");
		s->errors++;
		return;
	}
	if (s->sd->tls_broken) {
		smtpd_reply(s, "454 4.7.0 TLS not available due to local "
		    "problem");
		return;
	}
	if (!s->sd->tls_offer) {
		/* a service without TLS: the command exists, it is off here */
		smtpd_reply(s, "502 5.5.1 Error: STARTTLS is not offered on "
		    "this service");
		s->errors++;
		return;
	}
	smtpd_reply(s, "220 2.0.0 Ready to start TLS");
	if (evbuffer_get_length(in) > 0) {
		log_warn("%s[%s]: %zu bytes sent after STARTTLS before "
		    "the TLS handshake were discarded", s->client_name,
		    s->client_addr,
		    evbuffer_get_length(in));
		evbuffer_drain(in, evbuffer_get_length(in));
	}
	smtpd_sasl_forget(s);
	smtpd_txn_reset(s);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = 0;
	s->phase = SMTPD_PH_TLS_START;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		smtpd_tls_switch(s);
	/* else smtpd_write_cb calls smtpd_tls_switch once the 220 is out */
}

/* smtpd_tls_switch - the 220 is out: swap in an OpenSSL bufferevent */
void
smtpd_tls_switch(struct smtpd_sess *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct bufferevent *nbev;
	int	 fd;

	evbuffer_drain(in, evbuffer_get_length(in));
	fd = bufferevent_getfd(s->bev);
	if ((nbev = smtpd_tls_wrap(s->sd, fd)) == NULL) {
		log_err("%s[%s]: cannot start TLS: %s", s->client_name,
		    s->client_addr,
		    tls_errstr(ERR_get_error()));
		smtpd_close(s);
		return;
	}
	bufferevent_setfd(s->bev, -1);	/* the old one must not close fd */
	bufferevent_free(s->bev);
	s->bev = nbev;
	s->tls = 1;
	s->phase = SMTPD_PH_CMD;
	smtpd_session_cb(s);
}

/* smtpd_tls_done - the handshake finished: remember and log it */
void
smtpd_tls_done(struct smtpd_sess *s)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(s->bev);
	char	 info[TLS_INFO_MAX];

	if (ssl == NULL || s->tls == 2)
		return;
	s->tls = 2;
	tls_session_info(ssl, info, sizeof(info));
	free(s->tls_info);
	free(s->tls_proto);
	s->tls_info = xstrdup(info);
	s->tls_proto = xstrdup(SSL_get_version(ssl));
	tls_session_log(NULL, "from", "unknown", s->client_addr, 0, info);
}

/* smtpd_tls_error - a failed handshake or a TLS error on the session */
void
smtpd_tls_error(struct smtpd_sess *s)
{
	unsigned long e = bufferevent_get_openssl_error(s->bev);

	log_info("%s from %s[%s]: %s", s->tls == 1 ? "SSL_accept error" :
	    "TLS error", s->client_name, s->client_addr, tls_errstr(e));
	while (bufferevent_get_openssl_error(s->bev) != 0)
		;
}
