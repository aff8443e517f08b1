/*
 * test_tls.c - unit tests of lib/tls/tls.c.
 *
 * Protocol lists, malformed ones first; then server contexts that cannot
 * be made (a missing certificate or key, garbage PEM, an encrypted key, a
 * key that belongs to another certificate) and the error text each gives;
 * then good server and client contexts and their policy; then handshakes
 * over a socket pair between contexts made here: TLS 1.3, TLS 1.2 with the
 * server's ciphers, a version range with nothing in common; and the
 * session line as it reaches maillog_file.  The certificate and keys are
 * made at run time in a temporary directory.
 */
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "tls.h"
#include "util.h"
#include "t.h"

#define V12	TLS1_2_VERSION
#define V13	TLS1_3_VERSION

struct proto_case {
	const char	*list;
	int		 ret, min, max;
};

static const struct proto_case proto_cases[] = {
	/* malformed or nothing left */
	{ "TLSv1.4", -1, 0, 0 },
	{ ">=TLSv1.4", -1, 0, 0 },
	{ "tlsv1.2", -1, 0, 0 },
	{ "!", -1, 0, 0 },
	{ ">=", -1, 0, 0 },
	{ "TLSv1.2 bogus", -1, 0, 0 },
	{ ">=!TLSv1.2", -1, 0, 0 },
	{ "!TLSv1.2, !TLSv1.3", -1, 0, 0 },
	{ "SSLv3 TLSv1", -1, 0, 0 },
	/* good */
	{ "", 0, V12, V13 },
	{ ">=TLSv1.2", 0, V12, V13 },
	{ ">=TLSv1", 0, V12, V13 },
	{ ">=TLSv1.3", 0, V13, V13 },
	{ "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", 0, V12, V13 },
	{ "!TLSv1.2", 0, V13, V13 },
	{ "!TLSv1.3", 0, V12, V12 },
	{ "TLSv1.2", 0, V12, V12 },
	{ "TLSv1.3", 0, V13, V13 },
	{ "TLSv1.1 TLSv1.2", 0, V12, V12 },
	{ "TLSv1.2,TLSv1.3", 0, V12, V13 },
	{ "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1", 0, V12, V13 },	/* Postfix's colons */
	{ "!SSLv2:!TLSv1.3", 0, V12, V12 },
	{ "TLSv1.2::bogus", -1, 0, 0 },
};

static char tdir[] = "/tmp/test_tls.XXXXXX";

/* t_path - a file name in the temporary directory */
static const char *
t_path(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tdir, name);
	return buf[i];
}

/* t_protocols - every list of the table */
static void
t_protocols(void)
{
	const struct proto_case *c;
	size_t	 i;
	int	 r, min, max;

	for (i = 0; i < NELEM(proto_cases); i++) {
		c = &proto_cases[i];
		min = max = 0;
		r = tls_protocols(c->list, &min, &max);
		T_OK(r == c->ret && (r == -1 || (min == c->min &&
		    max == c->max)), "protocols \"%s\" (got %d %#x..%#x)",
		    c->list, r, min, max);
	}
}

/* t_write_key - a PEM private key, encrypted when pass is set */
static int
t_write_key(const char *name, EVP_PKEY *k, const char *pass)
{
	FILE	*f = fopen(t_path(name), "w");
	int	 ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_PrivateKey(f, k, pass ? EVP_aes_256_cbc() : NULL,
	    (const unsigned char *)pass, pass ? (int)strlen(pass) : 0, NULL,
	    NULL);
	return fclose(f) == 0 && ok == 1 ? 0 : -1;
}

/* t_write_cert - a self-signed certificate for k in PEM */
static int
t_write_cert(const char *name, EVP_PKEY *k)
{
	X509	*x = X509_new();
	X509_NAME *n;
	FILE	*f;
	int	 ok = 0;

	if (x == NULL)
		return -1;
	n = X509_get_subject_name(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"mx.example", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	if (X509_sign(x, k, EVP_sha256()) > 0 &&
	    (f = fopen(t_path(name), "w")) != NULL) {
		ok = PEM_write_X509(f, x);
		ok &= fclose(f) == 0;
	}
	X509_free(x);
	return ok ? 0 : -1;
}

/* t_write_text - a file with these bytes */
static int
t_write_text(const char *name, const char *text)
{
	FILE	*f = fopen(t_path(name), "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* t_files - cert.pem, key.pem, other.pem, enc.pem, garbage.pem */
static int
t_files(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	int	 r = -1;

	if (k != NULL && k2 != NULL && t_write_key("key.pem", k, NULL) == 0 &&
	    t_write_key("other.pem", k2, NULL) == 0 &&
	    t_write_key("enc.pem", k, "secret") == 0 &&
	    t_write_cert("cert.pem", k) == 0 &&
	    t_write_text("garbage.pem", "-----BEGIN CERTIFICATE-----\n"
	    "bm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n") == 0 &&
	    t_write_text("empty.pem", "hello\n") == 0)
		r = 0;
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	return r;
}

struct ctx_case {
	const char	*cert, *key;
	const char	*want[2];	/* in the error text */
};

static const struct ctx_case ctx_cases[] = {
	{ "missing.pem", "key.pem",
	    { "smtpd_tls_cert_file ", "missing.pem: No such file" } },
	{ "cert.pem", "missing.pem",
	    { "smtpd_tls_key_file ", "missing.pem: No such file" } },
	{ "empty.pem", "key.pem",
	    { "smtpd_tls_cert_file ", "empty.pem: cannot read a "
	    "certificate chain: no PEM certificate in it" } },
	{ "garbage.pem", "key.pem",
	    { "smtpd_tls_cert_file ", "garbage.pem: cannot read a "
	    "certificate chain: error:" } },
	{ "key.pem", "key.pem",
	    { "smtpd_tls_cert_file ", "cannot read a certificate chain" } },
	{ "cert.pem", "garbage.pem",
	    { "smtpd_tls_key_file ", "garbage.pem: cannot read a private "
	    "key: no PEM private key in it" } },
	{ "cert.pem", "cert.pem",
	    { "smtpd_tls_key_file ", "cannot read a private key" } },
	{ "cert.pem", "enc.pem",
	    { "smtpd_tls_key_file ", "enc.pem: cannot read a private key: "
	    "it is encrypted" } },
	{ "cert.pem", "other.pem",
	    { "smtpd_tls_key_file ", "other.pem does not match the "
	    "certificate in smtpd_tls_cert_file " } },
};

/* t_server - a context for cert and key; NULL with err */
static SSL_CTX *
t_server(const char *cert, const char *key, int min, int max, char *err,
    size_t errlen)
{
	struct tls_certkey ck = { t_path(cert), "smtpd_tls_cert_file",
	    t_path(key), "smtpd_tls_key_file" };

	*err = '\0';
	return tls_server_ctx(min, max, &ck, err, errlen);
}

/* t_bad_contexts - each bad file refused, with a sentence that says why */
static void
t_bad_contexts(void)
{
	const struct ctx_case *c;
	SSL_CTX	*ctx;
	char	 err[512];
	size_t	 i;

	for (i = 0; i < NELEM(ctx_cases); i++) {
		c = &ctx_cases[i];
		ctx = t_server(c->cert, c->key, V12, V13, err, sizeof(err));
		T_OK(ctx == NULL && strstr(err, c->want[0]) != NULL &&
		    strstr(err, c->want[1]) != NULL && ERR_peek_error() == 0,
		    "cert %s, key %s refused: %s", c->cert, c->key, err);
		SSL_CTX_free(ctx);
	}
}

/* t_good_contexts - the policy of a server and a client context */
static void
t_good_contexts(void)
{
	const long both = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
	SSL_CTX	*s, *c;
	char	 err[512];

	s = t_server("cert.pem", "key.pem", V12, V13, err, sizeof(err));
	T_OK(s != NULL, "server context: %s", s ? "made" : err);
	T_OK(s != NULL && (SSL_CTX_get_options(s) & (both |
	    SSL_OP_CIPHER_SERVER_PREFERENCE)) == (both |
	    SSL_OP_CIPHER_SERVER_PREFERENCE), "server options");
	T_OK(s != NULL && SSL_CTX_get_min_proto_version(s) == V12 &&
	    SSL_CTX_get_max_proto_version(s) == V13, "server versions");
	SSL_CTX_free(s);
	s = t_server("cert.pem", "key.pem", V13, V13, err, sizeof(err));
	T_OK(s != NULL && SSL_CTX_get_min_proto_version(s) == V13,
	    "server TLS 1.3 only");
	SSL_CTX_free(s);
	c = tls_client_ctx(V12, 0, err, sizeof(err));
	T_OK(c != NULL && (SSL_CTX_get_options(c) & both) == both &&
	    SSL_CTX_get_min_proto_version(c) == V12 &&
	    SSL_CTX_get_max_proto_version(c) == 0, "client context");
	SSL_CTX_free(c);
	c = tls_client_ctx(0, 0, err, sizeof(err));
	T_OK(c != NULL && SSL_CTX_get_min_proto_version(c) == V12,
	    "client: nothing below TLS 1.2 whatever is asked");
	SSL_CTX_free(c);
}

/*
 * t_handshake - a server and a client session on a socket pair, driven
 * in turn until both are done (non-blocking); 0, or -1 when one failed
 */
static int
t_handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL **sp, SSL **cp)
{
	int	 fd[2], i, rs = 0, rc = 0;

	*sp = *cp = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == -1)
		return -1;
	util_set_nonblock(fd[0], 1);
	util_set_nonblock(fd[1], 1);
	*sp = SSL_new(sctx);
	*cp = SSL_new(cctx);
	if (*sp == NULL || *cp == NULL) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	SSL_set_fd(*sp, fd[0]);
	SSL_set_fd(*cp, fd[1]);
	for (i = 0; i < 100 && (rs != 1 || rc != 1); i++) {
		if (rc != 1 && (rc = SSL_connect(*cp)) <= 0 &&
		    SSL_get_error(*cp, rc) != SSL_ERROR_WANT_READ)
			break;
		if (rs != 1 && (rs = SSL_accept(*sp)) <= 0 &&
		    SSL_get_error(*sp, rs) != SSL_ERROR_WANT_READ)
			break;
	}
	ERR_clear_error();
	return rs == 1 && rc == 1 ? 0 : -1;
}

/* t_close - free both sessions and their sockets */
static void
t_close(SSL *s, SSL *c)
{
	if (s != NULL) {
		close(SSL_get_fd(s));
		SSL_free(s);
	}
	if (c != NULL) {
		close(SSL_get_fd(c));
		SSL_free(c);
	}
}

/* t_line - line n (0-based) of maillog_file, whole, without its newline */
static int
t_line(const char *path, int n, char *line, size_t len)
{
	FILE	*f = fopen(path, "r");
	int	 i, ok = 0;

	if (f == NULL)
		return -1;
	for (i = 0; i <= n; i++)
		if ((ok = fgets(line, (int)len, f) != NULL) == 0)
			break;
	fclose(f);
	if (!ok || strchr(line, '\n') == NULL)
		return -1;
	*strchr(line, '\n') = '\0';
	return 0;
}

/* t_ends - s ends with suffix */
static int
t_ends(const char *s, const char *suffix)
{
	size_t	 a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* t_session13 - TLS 1.3: the summary on both ends, the two log lines */
static void
t_session13(SSL_CTX *sctx, SSL_CTX *cctx)
{
	const char *want = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
	    "(256/256 bits)";
	char	 si[TLS_INFO_MAX], ci[TLS_INFO_MAX], line[512] = "";
	const char *log = t_path("maillog");
	SSL	*s, *c;

	T_OK(t_handshake(sctx, cctx, &s, &c) == 0, "TLS 1.3 handshake");
	T_EQ_STR(tls_session_info(s, si, sizeof(si)), want, "server summary");
	T_EQ_STR(tls_session_info(c, ci, sizeof(ci)), want, "client summary");
	log_open("youju/test", 0, log);
	tls_session_log(NULL, "from", "unknown", "127.0.0.1", 0, si);
	tls_session_log("Untrusted", "to", "mx.example", "192.0.2.1", 25, ci);
	log_close();
	T_OK(t_line(log, 0, line, sizeof(line)) == 0 && t_ends(line,
	    "]: TLS connection established from unknown[127.0.0.1]: "
	    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
	    "smtpd's line: %s", line);
	T_OK(t_line(log, 1, line, sizeof(line)) == 0 && t_ends(line,
	    "]: Untrusted TLS connection established to "
	    "mx.example[192.0.2.1]:25: TLSv1.3 with cipher "
	    "TLS_AES_256_GCM_SHA384 (256/256 bits)"), "smtp's line: %s",
	    line);
	unlink(log);
	t_close(s, c);
}

/* t_sessions - handshakes between contexts made by lib/tls */
static void
t_sessions(void)
{
	SSL_CTX	*s13, *s12, *cctx, *c12;
	char	 err[512], info[TLS_INFO_MAX];
	const char *cipher;
	SSL	*s, *c;

	s13 = t_server("cert.pem", "key.pem", V12, V13, err, sizeof(err));
	s12 = t_server("cert.pem", "key.pem", V12, V12, err, sizeof(err));
	cctx = tls_client_ctx(V12, 0, err, sizeof(err));
	c12 = tls_client_ctx(V12, V12, err, sizeof(err));
	if (s13 == NULL || s12 == NULL || cctx == NULL || c12 == NULL) {
		T_OK(0, "contexts for the handshakes: %s", err);
		goto done;
	}
	t_session13(s13, cctx);
	/* TLS 1.2: one of the server's ciphers (ECDHE, AEAD) */
	T_OK(t_handshake(s12, cctx, &s, &c) == 0, "TLS 1.2 handshake");
	cipher = s != NULL ? SSL_get_cipher_name(s) : "";
	T_OK(s != NULL && strncmp(tls_session_info(s, info, sizeof(info)),
	    "TLSv1.2 with cipher ECDHE-ECDSA-", 32) == 0 &&
	    (strstr(cipher, "GCM") != NULL ||
	    strstr(cipher, "CHACHA20") != NULL), "TLS 1.2 summary: %s", info);
	t_close(s, c);
	/* a TLS 1.3-only server and a TLS 1.2-only client: no session */
	SSL_CTX_free(s13);
	s13 = t_server("cert.pem", "key.pem", V13, V13, err, sizeof(err));
	T_OK(s13 != NULL && t_handshake(s13, c12, &s, &c) == -1,
	    "no version in common: no session");
	t_close(s, c);
done:
	SSL_CTX_free(s13);
	SSL_CTX_free(s12);
	SSL_CTX_free(cctx);
	SSL_CTX_free(c12);
}

/* t_cleanup - remove the temporary files */
static void
t_cleanup(void)
{
	static const char *names[] = { "cert.pem", "key.pem", "other.pem",
	    "enc.pem", "garbage.pem", "empty.pem", "maillog" };
	size_t	 i;

	for (i = 0; i < NELEM(names); i++)
		unlink(t_path(names[i]));
	rmdir(tdir);
}

int
main(void)
{
	t_plan(46);
	t_protocols();
	if (mkdtemp(tdir) == NULL || t_files() == -1) {
		T_OK(0, "test certificate and keys");
		return t_done();
	}
	t_bad_contexts();
	t_good_contexts();
	t_sessions();
	t_cleanup();
	return t_done();
}
