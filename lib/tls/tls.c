/*
 * tls.c - TLS contexts, protocol and cipher policy, certificate and key
 * loading, and the session log line for smtpd and smtp; see tls.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cfg.h"
#include "log.h"
#include "util.h"
#include "tls.h"

/*
 * TLS 1.2 ciphers a server offers: forward secrecy and AEAD only.  TLS 1.3
 * keeps OpenSSL's defaults, which are all of that kind.
 */
#define TLS_SERVER_CIPHERS \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!MD5:!SHA1"

/* tls_errstr - see tls.h */
const char *
tls_errstr(unsigned long e)
{
	static char buf[256];

	if (e == 0)
		return "no error detail";
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

/*
 * tls_why - the first queued OpenSSL error; in words when the file simply
 * holds no PEM block of the kind wanted (what)
 */
static const char *
tls_why(const char *what)
{
	static char buf[64];
	unsigned long e = ERR_peek_error();

	if ((ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) ||
	    (ERR_GET_LIB(e) == ERR_LIB_OSSL_DECODER &&
	    ERR_GET_REASON(e) == ERR_R_UNSUPPORTED)) {
		snprintf(buf, sizeof(buf), "no PEM %s in it", what);
		return buf;
	}
	return tls_errstr(e);
}

/* tls_fail - set err and empty OpenSSL's error queue */
static void __attribute__((format(printf, 3, 4)))
tls_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	ERR_clear_error();
}

/* tls_protocols - see tls.h */
int
tls_protocols(const char *list, int *min, int *max)
{
	static const char *old[] = { "SSLv2", "SSLv3", "TLSv1", "TLSv1.1" };
	char	**v;
	size_t	 n, i, k;
	int	 ok12 = 1, ok13 = 1, plain = 0, p12 = 0, p13 = 0, bad = 0;

	char	*sep = xstrdup(list), *c;

	/* Postfix also takes colons between the entries ("!SSLv2:!SSLv3") */
	for (c = sep; *c != '\0'; c++)
		if (*c == ':')
			*c = ' ';
	v = cfg_split_list(sep, &n);
	free(sep);
	for (i = 0; i < n; i++) {
		const char *t = v[i];
		int	 neg = 0, ge = 0, known = 0;

		if (*t == '!')
			neg = 1, t++;
		else if (strncmp(t, ">=", 2) == 0)
			ge = 1, t += 2;
		else
			plain = 1;
		for (k = 0; k < NELEM(old); k++)
			known |= strcmp(t, old[k]) == 0;
		if (strcmp(t, "TLSv1.2") == 0) {
			known = 1;
			if (neg)
				ok12 = 0;
			else if (!ge)
				p12 = 1;
		} else if (strcmp(t, "TLSv1.3") == 0) {
			known = 1;
			if (neg)
				ok13 = 0;
			else if (ge)
				ok12 = 0;
			else
				p13 = 1;
		}
		bad |= !known;
	}
	cfg_list_free(v, n);
	if (plain) {
		ok12 &= p12;
		ok13 &= p13;
	}
	if (bad || (!ok12 && !ok13))
		return -1;
	*min = ok12 ? TLS1_2_VERSION : TLS1_3_VERSION;
	*max = ok13 ? TLS1_3_VERSION : TLS1_2_VERSION;
	return 0;
}

/*
 * tls_ctx_new - a context with the policy both sides share: versions
 * min..max but never below TLS 1.2, no renegotiation, no compression
 */
static SSL_CTX *
tls_ctx_new(const SSL_METHOD *method, int min, int max, char *err,
    size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		tls_fail(err, errlen, "SSL_CTX_new: %s",
		    tls_errstr(ERR_get_error()));
		return NULL;
	}
	if (min < TLS1_2_VERSION)
		min = TLS1_2_VERSION;
	if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, max) != 1) {
		tls_fail(err, errlen, "TLS versions %#x..%#x: %s", min, max,
		    tls_errstr(ERR_get_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	return ctx;
}

/* tls_readable - the file can be opened: else err says why, plainly */
static int
tls_readable(const char *param, const char *path, char *err, size_t errlen)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		tls_fail(err, errlen, "%s %s: %s", param, path,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * tls_no_passphrase - a daemon has no one to ask for a passphrase: none
 * is given, and *asked tells that the key is encrypted
 */
static int
tls_no_passphrase(char *buf, int size, int rw, void *asked)
{
	*(int *)asked = 1;
	return 0;
}

/* tls_read_key - the private key in a PEM file, or NULL with err set */
static EVP_PKEY *
tls_read_key(const struct tls_certkey *ck, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	BIO	*bio;
	int	 asked = 0;

	if ((bio = BIO_new_file(ck->key_file, "r")) != NULL)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase,
		    &asked);
	if (pkey == NULL)
		tls_fail(err, errlen, "%s %s: cannot read a private key: %s",
		    ck->key_param, ck->key_file, asked ? "it is encrypted, "
		    "and a daemon cannot ask for the passphrase" :
		    tls_why("private key"));
	BIO_free(bio);
	return pkey;
}

/*
 * tls_certkey_load - the chain (SSL_CTX_use_certificate_chain_file, so a
 * Let's Encrypt fullchain.pem works) and the key, which must belong to
 * the chain's first certificate
 */
static int
tls_certkey_load(SSL_CTX *ctx, const struct tls_certkey *ck, char *err,
    size_t errlen)
{
	EVP_PKEY *pkey;
	int	 r = -1;

	if (tls_readable(ck->cert_param, ck->cert_file, err, errlen) == -1 ||
	    tls_readable(ck->key_param, ck->key_file, err, errlen) == -1)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, ck->cert_file) != 1) {
		tls_fail(err, errlen, "%s %s: cannot read a certificate "
		    "chain: %s", ck->cert_param, ck->cert_file,
		    tls_why("certificate"));
		return -1;
	}
	if ((pkey = tls_read_key(ck, err, errlen)) == NULL)
		return -1;
	if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), pkey) != 1)
		tls_fail(err, errlen, "%s %s does not match the certificate "
		    "in %s %s", ck->key_param, ck->key_file, ck->cert_param,
		    ck->cert_file);
	else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		tls_fail(err, errlen, "%s %s: %s", ck->key_param,
		    ck->key_file, tls_errstr(ERR_peek_error()));
	else
		r = 0;
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}

/* tls_server_ctx - see tls.h */
SSL_CTX *
tls_server_ctx(int min, int max, const struct tls_certkey *ck, char *err,
    size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_ctx_new(TLS_server_method(), min, max, err,
	    errlen)) == NULL)
		return NULL;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_set_cipher_list(ctx, TLS_SERVER_CIPHERS) != 1) {
		tls_fail(err, errlen, "cipher list %s: %s", TLS_SERVER_CIPHERS,
		    tls_errstr(ERR_peek_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (tls_certkey_load(ctx, ck, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"youju",
	    5);
	return ctx;
}

/* tls_client_ctx - see tls.h */
SSL_CTX *
tls_client_ctx(int min, int max, char *err, size_t errlen)
{
	return tls_ctx_new(TLS_client_method(), min, max, err, errlen);
}

/* tls_session_info - see tls.h */
const char *
tls_session_info(const SSL *ssl, char *buf, size_t len)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	int	 alg = 0, bits;

	bits = SSL_CIPHER_get_bits(c, &alg);
	snprintf(buf, len, "%s with cipher %s (%d/%d bits)",
	    SSL_get_version(ssl), SSL_CIPHER_get_name(c), bits, alg);
	return buf;
}

/* tls_session_log - see tls.h */
void
tls_session_log(const char *trust, const char *dir, const char *host,
    const char *addr, int port, const char *info)
{
	char	 p[16] = "";

	if (port > 0)
		snprintf(p, sizeof(p), ":%d", port);
	log_info("%s%sTLS connection established %s %s[%s]%s: %s",
	    trust != NULL ? trust : "", trust != NULL ? " " : "", dir, host,
	    addr, p, info);
}
