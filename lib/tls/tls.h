/*
 * tls.h - what smtpd and smtp share of TLS (OpenSSL 3): the protocol
 * range a Postfix protocol list allows, the server and client contexts
 * with youju's fixed policy, certificate chain and key loading, and the
 * Postfix-style line logged per session.
 *
 * Policy, for both sides: TLS 1.2 at least (whatever a list says), no
 * renegotiation, no compression.  The server also takes its own cipher
 * order and offers TLS 1.2 ciphers with forward secrecy and AEAD only; the
 * client keeps OpenSSL's default list, since with opportunistic TLS a
 * handshake refused over a cipher sends the mail in clear instead.
 *
 * What stays with the callers: accept (smtpd's bufferevent) vs. connect
 * (smtp's blocking I/O with deadlines), SNI, the verification policy and
 * CA files (smtp), which parameter applies at which security level and the
 * reaction to a failure (smtpd).  A reload makes new processes and so new
 * contexts: nothing here re-reads a file.
 *
 * Errors: the functions that can fail return -1 or NULL with a sentence in
 * err that names the parameter and the file (the OpenSSL error queue is
 * then empty again).
 */
#ifndef YOUJU_TLS_H
#define YOUJU_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* big enough for tls_session_info() */
#define TLS_INFO_MAX	160

/* a server's certificate chain and key, with their parameter names */
struct tls_certkey {
	const char	*cert_file;	/* PEM, leaf first, then the chain */
	const char	*cert_param;	/* "smtpd_tls_cert_file" */
	const char	*key_file;	/* PEM private key */
	const char	*key_param;	/* "smtpd_tls_key_file" */
};

/*
 * tls_protocols - the versions a Postfix protocol list allows of the two
 * youju speaks: ">=TLSv1.3", exclusions ("!SSLv3, !TLSv1, !TLSv1.2") or a
 * plain list ("TLSv1.2 TLSv1.3"); SSLv2 to TLSv1.1 are known names without
 * effect.  0 with *min and *max set (TLS1_2_VERSION or TLS1_3_VERSION), or
 * -1 for an unknown name or a list that leaves nothing.
 */
int	 tls_protocols(const char *, int *, int *);
/*
 * tls_server_ctx - an accepting context for versions min..max with the
 * certificate chain and the key (checked to match); NULL with err set
 */
SSL_CTX	*tls_server_ctx(int, int, const struct tls_certkey *, char *, size_t);
/* tls_client_ctx - a connecting context for min..max (0: no maximum) */
SSL_CTX	*tls_client_ctx(int, int, char *, size_t);
/* tls_errstr - an OpenSSL error code as text ("no error detail" for 0) */
const char *tls_errstr(unsigned long);
/* tls_session_info - "TLSv1.3 with cipher NAME (256/256 bits)" into buf */
const char *tls_session_info(const SSL *, char *, size_t);
/*
 * tls_session_log - log "[TRUST ]TLS connection established DIR
 * HOST[ADDR][:PORT]: INFO": trust NULL for none, dir "from" or "to", port
 * 0 for none, info from tls_session_info()
 */
void	 tls_session_log(const char *, const char *, const char *,
	    const char *, int, const char *);

#endif
