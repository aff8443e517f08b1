/*
 * test_dkim.c - unit tests of lib/mail/dkim.c.
 *
 * Malformed tag lists, key records, headers and signatures first; then
 * RFC 6376's canonicalization example (3.4.5); then RFC 8463's signed
 * example message (Appendix A): both of its signatures verify, and
 * signing its data with its keys reproduces its b= values byte for byte
 * (RSASSA-PKCS1-v1_5 and Ed25519 are deterministic); then our own
 * signer: a round trip through the verifier for each algorithm, the body
 * or a header changed (fail), a second From added (fail: From is signed
 * once more than it occurs), refolding and trailing white space (relaxed:
 * pass); key records of generated keys parse back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "buf.h"
#include "dkim.h"
#include "log.h"
#include "sasl.h"
#include "util.h"
#include "t.h"

/* ---- RFC 8463 Appendix A ---- */
static const char rfc_ed_seed_b64[] =
    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char rfc_rsa_pem[] =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
    "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
    "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
    "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
    "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
    "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
    "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
    "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
    "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
    "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
    "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
    "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
    "-----END RSA PRIVATE KEY-----\n";
static const char rfc_ed_record[] =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rfc_rsa_record[] =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB";
static const char rfc_sig_ed[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n";
static const char rfc_sig_rsa[] =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n";
static const char rfc_msg[] =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

/* lookup for the verifier: selector -> record */
struct t_keys {
	const char	*sel[4];
	const char	*rec[4];
	int		 temp;
};

static int
t_lookup(void *arg, const char *sel, const char *dom, struct buf *out)
{
	struct t_keys *k = arg;
	size_t	 i;

	if (k->temp)
		return -2;
	for (i = 0; i < 4 && k->sel[i] != NULL; i++)
		if (strcmp(k->sel[i], sel) == 0 &&
		    strcmp(dom, "football.example.com") == 0)
			return buf_puts(out, k->rec[i]);
	return -1;
}

/* t_join - a message of sigs followed by rfc_msg */
static char *
t_join(const char *a, const char *b, const char *c)
{
	size_t	 n = strlen(a) + strlen(b) + strlen(c) + 1;
	char	*s = xmalloc(n);

	snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

/* t_tags - tag lists, good and bad */
static void
t_tags(void)
{
	static const char *bad[] = {
		"v=1; v=2",		/* duplicate */
		"1a=x",			/* name starts with a digit */
		"a b=x",		/* space in a name */
		"=x",			/* no name */
		"a",			/* no '=' */
		"a=x;;b=y",		/* empty tag in the middle */
		"a=\x01",		/* control character */
		"a=caf\xc3\xa9",	/* 8-bit */
		"a-b=x",		/* '-' in a name */
	};
	struct dkim_tags t;
	char	 err[128], big[DKIM_TAGS_MAX + 8];
	const char *p;
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++)
		T_EQ_INT(dkim_tags_parse(bad[i], strlen(bad[i]), &t, err,
		    sizeof(err)), -1, bad[i]);
	T_EQ_INT(dkim_tags_parse("a=1\0b=2", 7, &t, err, sizeof(err)), -1,
	    "NUL refused");
	memset(big, 'x', sizeof(big));
	memcpy(big, "a=", 2);
	T_EQ_INT(dkim_tags_parse(big, sizeof(big), &t, err, sizeof(err)), -1,
	    "over DKIM_TAGS_MAX refused");
	p = " v = 1 ;\r\n\ta=rsa-sha256; b= ab\r\n cd ;";
	T_EQ_INT(dkim_tags_parse(p, strlen(p), &t, err, sizeof(err)), 0,
	    "FWS around names and values");
	T_EQ_STR(dkim_tags_get(&t, "v"), "1", "v");
	T_EQ_STR(dkim_tags_get(&t, "a"), "rsa-sha256", "a");
	T_EQ_STR(dkim_tags_get(&t, "b"), "ab\r\n cd", "inner FWS kept");
	T_OK(dkim_tags_get(&t, "x") == NULL, "absent tag");
	dkim_tags_free(&t);
	T_EQ_INT(dkim_tags_parse("", 0, &t, err, sizeof(err)), 0, "empty");
	T_EQ_INT(t.n, 0, "no tags");
	T_EQ_INT(dkim_tags_parse("a=;", 3, &t, err, sizeof(err)), 0,
	    "empty value");
	T_EQ_STR(dkim_tags_get(&t, "a"), "", "empty value kept");
	dkim_tags_free(&t);
}

/* t_hash_of - SHA-256 of a string, for expected canonical forms */
static void
t_hash_of(const char *s, unsigned char out[DKIM_DIGEST])
{
	EVP_Digest(s, strlen(s), out, NULL, EVP_sha256(), NULL);
}

/* t_body - a body through the line interface */
static void
t_body(const char *s, int relaxed, int64_t l, unsigned char out[DKIM_DIGEST])
{
	struct dkim_body b;
	const char *p = s, *nl;

	dkim_body_init(&b, relaxed, l);
	while (*p != '\0' && (nl = strstr(p, "\r\n")) != NULL) {
		dkim_body_line(&b, p, (size_t)(nl - p));
		p = nl + 2;
	}
	dkim_body_final(&b, out);
}

/* t_canon - RFC 6376 3.4.5 and the empty-body rules */
static void
t_canon(void)
{
	unsigned char got[DKIM_DIGEST], want[DKIM_DIGEST];
	struct buf b;
	static const char body[] = " C \r\nD \t E\r\n\r\n\r\n";

	buf_init(&b, 1024);
	T_EQ_INT(dkim_canon_header("A: X", 4, 1, &b), 0, "A relaxed");
	T_EQ_INT(dkim_canon_header("B : Y\t\r\n\tZ  ", 12, 1, &b), 0,
	    "B relaxed");
	T_EQ_STR(buf_cstr(&b), "a:X\r\nb:Y Z\r\n", "RFC 6376 3.4.5 headers");
	buf_reset(&b);
	T_EQ_INT(dkim_canon_header("B : Y\t\r\n\tZ  ", 12, 0, &b), 0,
	    "B simple");
	T_EQ_STR(buf_cstr(&b), "B : Y\t\r\n\tZ  \r\n", "simple keeps it");
	buf_reset(&b);
	T_EQ_INT(dkim_canon_header("no colon here", 13, 1, &b), -1,
	    "not a field");
	buf_free(&b);
	t_body(body, 1, -1, got);
	t_hash_of(" C\r\nD E\r\n", want);
	T_OK(memcmp(got, want, DKIM_DIGEST) == 0, "RFC 6376 3.4.5 body, relaxed");
	t_body(body, 0, -1, got);
	t_hash_of(" C \r\nD \t E\r\n", want);
	T_OK(memcmp(got, want, DKIM_DIGEST) == 0, "RFC 6376 3.4.5 body, simple");
	t_body("", 1, -1, got);
	t_hash_of("", want);
	T_OK(memcmp(got, want, DKIM_DIGEST) == 0, "empty body, relaxed: \"\"");
	t_body("\r\n\r\n", 0, -1, got);
	t_hash_of("\r\n", want);
	T_OK(memcmp(got, want, DKIM_DIGEST) == 0, "empty body, simple: CR LF");
	t_body(" C \r\nD \t E\r\n", 1, 3, got);
	t_hash_of(" C\r", want);
	T_OK(memcmp(got, want, DKIM_DIGEST) == 0, "l=3 counts canonical bytes");
}

/* t_hdrs - header block bounds */
static void
t_hdrs(void)
{
	struct dkim_hdrs h;
	char	 line[64];
	int	 i, r = 0;

	dkim_hdrs_init(&h);
	T_EQ_INT(dkim_hdrs_line(&h, " starts folded", 14), -1,
	    "continuation first");
	dkim_hdrs_free(&h);
	T_EQ_INT(dkim_hdrs_line(&h, "no colon", 8), -1, "no field name");
	dkim_hdrs_free(&h);
	for (i = 0; i <= DKIM_NHDR_MAX && r == 0; i++) {
		snprintf(line, sizeof(line), "X-%d: y", i);
		r = dkim_hdrs_line(&h, line, strlen(line));
	}
	T_OK(r == -1 && h.over && i == DKIM_NHDR_MAX + 1,
	    "field count bounded (%d)", i);
	dkim_hdrs_free(&h);
	T_EQ_INT(dkim_hdrs_line(&h, "Subject: a", 10), 0, "field");
	T_EQ_INT(dkim_hdrs_line(&h, "\tb", 2), 0, "folded");
	T_EQ_INT(dkim_hdrs_line(&h, "subject:c", 9), 0, "second");
	T_EQ_INT(dkim_hdrs_line(&h, "", 0), 1, "end");
	T_EQ_INT(dkim_hdrs_count(&h, "SUBJECT"), 2, "count ignores case");
	T_EQ_STR(dkim_hdrs_nth_from_bottom(&h, "Subject", 0), "subject:c",
	    "bottom first");
	T_EQ_STR(dkim_hdrs_nth_from_bottom(&h, "Subject", 1),
	    "Subject: a\r\n\tb", "folding kept");
	T_OK(dkim_hdrs_nth_from_bottom(&h, "Subject", 2) == NULL, "no third");
	dkim_hdrs_free(&h);
}

/* t_records - key records: malformed, revoked, generated round trips */
static void
t_records(void)
{
	static const char *bad[] = {
		"v=DKIM2; p=AAAA",
		"v=DKIM1; k=rsa",
		"v=DKIM1; k=dsa; p=AAAA",
		"v=DKIM1; k=ed25519; p=AAAA",
		"v=DKIM1; k=rsa; p=!!!!",
		"v=DKIM1; k=rsa; p=AAAA",
		"v=DKIM1; p=",
		"k=rsa; k=rsa; p=AAAA",
	};
	struct buf rec;
	void	*k, *pub;
	char	 err[128];
	size_t	 i;
	int	 alg;

	for (i = 0; i < NELEM(bad); i++) {
		pub = dkim_record_parse(bad[i], strlen(bad[i]), &alg, err,
		    sizeof(err));
		T_OK(pub == NULL, "refused: %s (%s)", bad[i], err);
	}
	buf_init(&rec, 8192);
	k = dkim_key_generate(DKIM_ED25519_SHA256, 0);
	T_OK(k != NULL, "Ed25519 key made");
	T_EQ_INT(dkim_key_record(k, &rec), 0, "Ed25519 record");
	T_OK(strncmp(buf_cstr(&rec), "v=DKIM1; k=ed25519; p=", 22) == 0 &&
	    rec.len == 22 + 44, "Ed25519 record shape: %s", buf_cstr(&rec));
	pub = dkim_record_parse(buf_cstr(&rec), rec.len, &alg, err,
	    sizeof(err));
	T_OK(pub != NULL && alg == DKIM_ED25519_SHA256, "parses back");
	dkim_key_free(pub);
	dkim_key_free(k);
	buf_reset(&rec);
	k = dkim_key_generate(DKIM_RSA_SHA256, 2048);
	T_OK(k != NULL, "RSA-2048 key made");
	T_EQ_INT(dkim_key_record(k, &rec), 0, "RSA record");
	pub = dkim_record_parse(buf_cstr(&rec), rec.len, &alg, err,
	    sizeof(err));
	T_OK(pub != NULL && alg == DKIM_RSA_SHA256, "RSA parses back");
	dkim_key_free(pub);
	buf_reset(&rec);
	T_EQ_INT(dkim_key_pem(k, &rec), 0, "PEM");
	T_OK(strstr(buf_cstr(&rec), "BEGIN PRIVATE KEY") != NULL,
	    "PKCS#8 PEM");
	dkim_key_free(k);
	buf_free(&rec);
}

/* t_key_same - a record's key against private keys on disk */
static void
t_key_same(void)
{
	struct buf rec;
	void	*rsa, *rsa2, *ed, *pub;
	char	 err[128];
	int	 alg;

	buf_init(&rec, 8192);
	rsa = dkim_key_generate(DKIM_RSA_SHA256, 2048);
	rsa2 = dkim_key_generate(DKIM_RSA_SHA256, 2048);
	ed = dkim_key_generate(DKIM_ED25519_SHA256, 0);
	dkim_key_record(rsa, &rec);
	pub = dkim_record_parse(buf_cstr(&rec), rec.len, &alg, err,
	    sizeof(err));
	T_EQ_INT(dkim_key_same(pub, rsa), 1, "RSA record = its private key");
	T_EQ_INT(dkim_key_same(rsa, pub), 1, "either way round");
	T_EQ_INT(dkim_key_same(pub, rsa2), 0, "another RSA key");
	T_EQ_INT(dkim_key_same(pub, ed), 0, "an Ed25519 key");
	T_EQ_INT(dkim_key_same(pub, NULL), 0, "no key");
	dkim_key_free(pub);
	buf_reset(&rec);
	dkim_key_record(ed, &rec);
	pub = dkim_record_parse(buf_cstr(&rec), rec.len, &alg, err,
	    sizeof(err));
	T_EQ_INT(dkim_key_same(pub, ed), 1, "Ed25519 record = its key");
	T_EQ_INT(dkim_key_same(pub, rsa), 0, "not the RSA key");
	dkim_key_free(pub);
	dkim_key_free(rsa);
	dkim_key_free(rsa2);
	dkim_key_free(ed);
	buf_free(&rec);
}

/* t_rfc_keys - the two private keys of RFC 8463 */
static void
t_rfc_keys(void **ed, void **rsa)
{
	struct buf seed;
	BIO	*b;

	buf_init(&seed, 64);
	sasl_b64_decode(rfc_ed_seed_b64, strlen(rfc_ed_seed_b64), &seed, 64);
	*ed = dkim_key_from_seed(seed.data);
	buf_free(&seed);
	b = BIO_new_mem_buf(rfc_rsa_pem, -1);
	*rsa = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
	BIO_free(b);
}

/*
 * t_rfc_resign - sign the RFC's data again: the canonical headers its h=
 * names, and its own DKIM-Signature with b= emptied; the result must be
 * its b= value
 */
static void
t_rfc_resign(void *key, int alg, const char *sig, const char *what)
{
	static const char *names[] = { "from", "to", "subject", "date",
	    "message-id", "from", "subject", "date" };
	struct dkim_hdrs h;
	struct buf data, b64, want;
	unsigned char d[DKIM_DIGEST], out[DKIM_SIG_MAX];
	size_t	 i, j, k, n = sizeof(out);
	const char *f, *bval, *p;
	char	*blank;

	dkim_hdrs_init(&h);
	for (p = rfc_msg; *p != '\r'; p = strstr(p, "\r\n") + 2)
		dkim_hdrs_line(&h, p, (size_t)(strstr(p, "\r\n") - p));
	buf_init(&data, 65536);
	for (i = 0; i < NELEM(names); i++) {
		for (k = 0, j = 0; j < i; j++)
			k += strcmp(names[j], names[i]) == 0;
		if ((f = dkim_hdrs_nth_from_bottom(&h, names[i], k)) != NULL)
			dkim_canon_header(f, strlen(f), 1, &data);
	}
	/* the signature field without the b= value and its final CR LF */
	bval = strstr(sig, " b=") + 3;
	blank = xstrndup(sig, (size_t)(bval - sig));
	dkim_canon_header(blank, strlen(blank), 1, &data);
	data.len -= 2;
	EVP_Digest(data.data, data.len, d, NULL, EVP_sha256(), NULL);
	T_EQ_INT(dkim_sign_raw(key, alg, d, out, &n), 0, what);
	buf_init(&b64, 4096);
	sasl_b64_encode(out, n, &b64);
	buf_init(&want, 4096);
	for (p = bval; *p != '\0'; p++)
		if (*p != '\r' && *p != '\n' && *p != ' ')
			buf_putc(&want, *p);
	T_EQ_STR(buf_cstr(&b64), buf_cstr(&want), what);
	T_EQ_INT(dkim_verify_raw(key, alg, d, out, n), 1,
	    "and it verifies");
	free(blank);
	buf_free(&data);
	buf_free(&b64);
	buf_free(&want);
	dkim_hdrs_free(&h);
}

/* t_rfc8463 - the RFC's message verifies; its signatures are reproduced */
static void
t_rfc8463(void)
{
	struct t_keys k = { { "brisbane", "test" },
	    { rfc_ed_record, rfc_rsa_record }, 0 };
	char	*m, err[128];
	void	*ed, *rsa;

	m = t_join(rfc_sig_ed, rfc_sig_rsa, rfc_msg);
	T_EQ_INT(dkim_verify(m, strlen(m), 0, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_PASS, "RFC 8463 ed25519-sha256 signature verifies");
	T_EQ_INT(dkim_verify(m, strlen(m), 1, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_PASS, "RFC 8463 rsa-sha256 signature verifies");
	T_EQ_INT(dkim_verify(m, strlen(m), 2, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_PERMERROR, "there is no third");
	k.temp = 1;
	T_EQ_INT(dkim_verify(m, strlen(m), 0, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_TEMPERROR, "key lookup failing: temperror");
	k.temp = 0;
	k.rec[0] = "v=DKIM1; k=ed25519; p=";
	T_EQ_INT(dkim_verify(m, strlen(m), 0, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_PERMERROR, "revoked key: permerror");
	k.rec[0] = rfc_rsa_record;
	T_EQ_INT(dkim_verify(m, strlen(m), 0, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_PERMERROR, "key type does not match a=");
	free(m);
	/* a changed body, a changed signed header */
	k.rec[0] = rfc_ed_record;
	m = t_join(rfc_sig_ed, rfc_msg, "P.S.\r\n");
	T_EQ_INT(dkim_verify(m, strlen(m), 0, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_FAIL, "body changed: fail");
	T_OK(strstr(err, "body hash") != NULL, "reason: %s", err);
	free(m);
	m = t_join(rfc_sig_ed, "", rfc_msg);
	memcpy(strstr(m, "dinner"), "DINNER", 6);
	T_EQ_INT(dkim_verify(m, strlen(m), 0, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_FAIL, "Subject changed: fail");
	free(m);
	t_rfc_keys(&ed, &rsa);
	T_OK(ed != NULL && rsa != NULL, "RFC 8463 private keys load");
	t_rfc_resign(ed, DKIM_ED25519_SHA256, rfc_sig_ed,
	    "Ed25519 signature reproduced");
	t_rfc_resign(rsa, DKIM_RSA_SHA256, rfc_sig_rsa,
	    "RSA signature reproduced");
	dkim_key_free(ed);
	dkim_key_free(rsa);
}

/* t_bad_sigs - malformed DKIM-Signature fields: permerror, no crash */
static void
t_bad_sigs(void)
{
	static const char *bad[] = {
		"DKIM-Signature: v=1; a=rsa-sha1; d=football.example.com; "
		    "s=test; h=from; bh=AA==; b=AA==\r\n",
		"DKIM-Signature: v=2; a=rsa-sha256; d=football.example.com; "
		    "s=test; h=from; bh=AA==; b=AA==\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; "
		    "s=test; h=to:subject; bh=AA==; b=AA==\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; "
		    "s=test; h=from; b=AA==\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; c=odd/simple; "
		    "d=football.example.com; s=test; h=from; bh=AA==; "
		    "b=AA==\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; "
		    "s=test; h=from::to; bh=AA==; b=AA==\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; "
		    "s=test; h=from; bh=!!; b=AA==\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; "
		    "s=test; h=from; l=x; bh=AA==; b=AA==\r\n",
		"DKIM-Signature: v=1; v=1\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; "
		    "s=other; h=from; bh=AA==; b=AA==\r\n",
	};
	struct t_keys k = { { "test" }, { rfc_rsa_record }, 0 };
	char	*m, err[128];
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++) {
		m = t_join(bad[i], "", rfc_msg);
		T_EQ_INT(dkim_verify(m, strlen(m), 0, t_lookup, &k, err,
		    sizeof(err)), DKIM_V_PERMERROR, err);
		free(m);
	}
}

/* t_roundtrip - our signer, the verifier, and what breaks a signature */
static void
t_roundtrip(int alg, void *key, const char *sel, const char *rec)
{
	struct t_keys k = { { sel }, { rec }, 0 };
	struct dkim_msg dm;
	struct dkim_signer s;
	struct buf field;
	unsigned char bh[DKIM_DIGEST], d[DKIM_DIGEST], sig[DKIM_SIG_MAX];
	size_t	 n = sizeof(sig);
	const char *p;
	char	*m, *m2, err[128];

	dkim_msg_init(&dm);
	dkim_msg_text(&dm, rfc_msg, strlen(rfc_msg));
	dkim_body_final(&dm.b, bh);
	T_EQ_INT(dkim_sign_begin(&s, alg, "football.example.com", sel,
	    1700000000, &dm.h, bh), 0, "sign_begin");
	T_OK(strstr((const char *)s.hdr.data, "h=from:from:to:subject:date:"
	    "message-id;") != NULL, "From signed once more than present: %s",
	    buf_cstr(&s.hdr));
	dkim_sign_digest(&s, d);
	T_EQ_INT(dkim_sign_raw(key, alg, d, sig, &n), 0, "sign_raw");
	buf_init(&field, 16384);
	T_EQ_INT(dkim_sign_finish(&s, sig, n, &field), 0, "sign_finish");
	for (p = buf_cstr(&field); (p = strstr(p, "\r\n")) != NULL; p += 2)
		T_OK(p[2] == '\t' || p[2] == '\0', "folded lines start "
		    "with TAB");
	m = t_join(buf_cstr(&field), "", rfc_msg);
	T_EQ_INT(dkim_verify(m, strlen(m), 0, t_lookup, &k, err, sizeof(err)),
	    DKIM_V_PASS, err);
	/* relaxed: refolded header, trailing and doubled white space */
	m2 = t_join(buf_cstr(&field), "From:   Joe SixPack\r\n  "
	    "<joe@football.example.com>  \r\n", strstr(rfc_msg, "To:"));
	memcpy(strstr(m2, "game.  Are"), "game.\t Are", 10);
	T_EQ_INT(dkim_verify(m2, strlen(m2), 0, t_lookup, &k, err,
	    sizeof(err)), DKIM_V_PASS, "refolded and respaced: pass");
	free(m2);
	/* a second From, added at the top: the over-signed From breaks */
	m2 = t_join(buf_cstr(&field), "From: evil@attacker.example\r\n",
	    rfc_msg);
	T_EQ_INT(dkim_verify(m2, strlen(m2), 0, t_lookup, &k, err,
	    sizeof(err)), DKIM_V_FAIL, "second From: fail");
	free(m2);
	free(m);
	buf_free(&field);
	dkim_signer_free(&s);
	dkim_msg_free(&dm);
}

/* t_from - the From domain: one mailbox, display names, comments, quotes */
static void
t_from(void)
{
	static const struct {
		const char *field, *domain;	/* NULL: refused */
	} c[] = {
		{ "From: alice@Example.COM", "example.com" },
		{ "From: Alice <alice@example.com>", "example.com" },
		{ "From: \"Smith, Alice\" <alice@example.com>", "example.com" },
		{ "From: \"a@b\" <alice@mail.example.com>", "mail.example.com" },
		{ "From: alice@example.com (Alice <x@evil.example>)",
		    "example.com" },
		{ "From:\r\n\t<alice@example.com>", "example.com" },
		{ "From: \"alice@x.example\"@example.com", "example.com" },
		{ "From: a@example.com, b@example.com", NULL },
		{ "From: group: a@example.com;", NULL },
		{ "From: <alice@example.com", NULL },
		{ "From: alice", NULL },
		{ "From: alice@", NULL },
		{ "From: alice@exa mple.com", NULL },
		{ "From: alice@-bad.example", NULL },
		{ "From: \"unterminated <alice@example.com>", NULL },
		{ "From: (open comment alice@example.com", NULL },
		{ "From: <>", NULL },
		{ "From:", NULL },
		{ "From no colon", NULL },
	};
	char	 out[256], tiny[4];
	const char *why;
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(c); i++) {
		why = NULL;
		r = dkim_from_domain(c[i].field, out, sizeof(out), &why);
		if (c[i].domain != NULL) {
			T_EQ_INT(r, 0, c[i].field);
			if (r == 0)
				T_EQ_STR(out, c[i].domain, c[i].field);
		} else
			T_OK(r == -1 && why != NULL, "refused with a reason: "
			    "%s", c[i].field);
	}
	T_OK(dkim_from_domain("From: a@example.com", tiny, sizeof(tiny),
	    &why) == -1, "domain longer than the buffer");
}

/* t_msg_choose - a message line by line, and which key domain signs */
static void
t_msg_choose(void)
{
	static const char crlf[] = "From: A <a@Lists.Example.com>\r\n"
	    "Subject: x\r\n\r\nbody\r\n\r\n";
	static const char lf[] = "From: A <a@Lists.Example.com>\n"
	    "Subject: x\n\nbody\n\n";
	static const char noend[] = "From: A <a@Lists.Example.com>\r\n"
	    "Subject: x\r\n\r\nbody";
	static const struct dkim_keyref keys[] = {
		{ "example.org", "s", DKIM_RSA_SHA256 },
		{ "example.com", "r", DKIM_RSA_SHA256 },
		{ "example.com", "e", DKIM_ED25519_SHA256 },
		{ "lists.example.com", "l", DKIM_RSA_SHA256 },
	};
	static const struct {
		const char *msg;
		int	 r;
		const char *domain;
	} c[] = {
		{ "From: a@example.com\r\n\r\n", 1, "example.com" },
		{ "From: a@EXAMPLE.com\r\n\r\n", 1, "example.com" },
		{ "From: a@x.y.lists.example.com\r\n\r\n", 1,
		    "lists.example.com" },
		{ "From: a@sub.example.com\r\n\r\n", 1, "example.com" },
		{ "From: a@notexample.com\r\n\r\n", 0, NULL },
		{ "From: a@com\r\n\r\n", 0, NULL },
		{ "From: a@other.test\r\n\r\n", 0, NULL },
		{ "Subject: no from\r\n\r\n", -1, NULL },
		{ "From: a@example.com\r\nFrom: b@example.com\r\n\r\n", -1,
		    NULL },
		{ "From: a@example.com, b@example.com\r\n\r\n", -1, NULL },
		{ "not a header\r\n\r\n", -1, NULL },
	};
	struct dkim_msg m;
	unsigned char h1[DKIM_DIGEST], h2[DKIM_DIGEST], h3[DKIM_DIGEST];
	char	 dom[256];
	const char *why;
	size_t	 i;
	int	 r;

	/* CR LF, LF and a last line without its end: the same message */
	dkim_msg_init(&m);
	dkim_msg_text(&m, crlf, strlen(crlf));
	T_EQ_INT((int)m.h.n, 2, "two header fields");
	T_OK(m.in_body, "the empty line ends the header block");
	dkim_body_final(&m.b, h1);
	dkim_msg_free(&m);
	dkim_msg_init(&m);
	dkim_msg_text(&m, lf, strlen(lf));
	T_EQ_INT((int)m.h.n, 2, "LF: two header fields");
	dkim_body_final(&m.b, h2);
	dkim_msg_free(&m);
	dkim_msg_init(&m);
	dkim_msg_text(&m, noend, strlen(noend));
	dkim_body_final(&m.b, h3);
	dkim_msg_free(&m);
	T_OK(memcmp(h1, h2, sizeof(h1)) == 0, "LF body hash = CR LF's");
	T_OK(memcmp(h1, h3, sizeof(h1)) == 0, "unterminated last line");

	for (i = 0; i < NELEM(c); i++) {
		dkim_msg_init(&m);
		dkim_msg_text(&m, c[i].msg, strlen(c[i].msg));
		why = NULL;
		r = dkim_choose(&m.h, keys, NELEM(keys), dom, sizeof(dom),
		    &why);
		T_EQ_INT(r, c[i].r, c[i].msg);
		if (r == 1 && c[i].r == 1)
			T_EQ_STR(dom, c[i].domain, c[i].msg);
		T_OK((r == -1) == (why != NULL), "a reason with -1 only: %s",
		    c[i].msg);
		T_EQ_INT(dkim_choose(&m.h, keys, 0, dom, sizeof(dom), &why),
		    0, "no keys: nothing to say");
		dkim_msg_free(&m);
	}
	/* a header block over the bounds is not signable */
	dkim_msg_init(&m);
	dkim_msg_line(&m, "From: a@example.com", 19);
	for (i = 0; i <= DKIM_NHDR_MAX; i++)
		dkim_msg_line(&m, "X-Filler: 1", 11);
	T_EQ_INT(dkim_choose(&m.h, keys, NELEM(keys), dom, sizeof(dom), &why),
	    -1, "too many fields");
	dkim_msg_free(&m);
}

/* t_signers - round trips with fresh keys of both kinds */
static void
t_signers(void)
{
	unsigned char sig[DKIM_SIG_MAX];
	struct buf rec;
	size_t	 n;
	void	*k;

	buf_init(&rec, 8192);
	k = dkim_key_generate(DKIM_ED25519_SHA256, 0);
	dkim_key_record(k, &rec);
	t_roundtrip(DKIM_ED25519_SHA256, k, "e1", buf_cstr(&rec));
	n = sizeof(sig);
	T_OK(dkim_sign_raw(k, DKIM_RSA_SHA256, (const unsigned char *)
	    "01234567890123456789012345678901", sig, &n) == -1,
	    "wrong algorithm for the key");
	dkim_key_free(k);
	buf_reset(&rec);
	k = dkim_key_generate(DKIM_RSA_SHA256, 2048);
	dkim_key_record(k, &rec);
	t_roundtrip(DKIM_RSA_SHA256, k, "r1", buf_cstr(&rec));
	dkim_key_free(k);
	buf_free(&rec);
}

int
main(void)
{
	t_plan(193);
	log_open("test_dkim", LOG_TO_STDERR, NULL);
	t_tags();
	t_canon();
	t_hdrs();
	t_records();
	t_key_same();
	t_bad_sigs();
	t_rfc8463();
	t_signers();
	t_from();
	t_msg_choose();
	return t_done();
}
