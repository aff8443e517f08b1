/*
 * fuzz_dkim.c - libFuzzer target for lib/mail/dkim: the tag-list parser, the
 * key record parser, the verifier of a whole message, and the signer.
 *
 * Input: byte 0 selects the mode (its low three bits; 5-7 are 4); the
 * rest is:
 *  0: a tag list.  Parsed: names valid and unique, at most DKIM_NTAGS_MAX,
 *	every one found again by dkim_tags_get, nothing left on failure.
 *  1: a key record.  Parsed: a key comes with its algorithm.
 *  2: a message (CR LF or LF line ends) with up to three DKIM-Signature
 *	fields, checked with a lookup that answers with the Ed25519 and the
 *	RSA key record of RFC 8463 ("brisbane", "test") for any domain: the
 *	result is one of DKIM_V_*, with a reason unless it passes.
 *  3: a message (LF line ends) read as smtpd and qmgr read one
 *	(dkim_msg_text); when dkim_choose picks example.com's key for its
 *	From (the domain or a parent), it is signed with a fixed Ed25519
 *	key (RFC 8463's), the field is put in front of the message, and the
 *	verifier must say pass: whatever the headers, the signer and the
 *	verifier agree.  When it is refused there is a reason.
 *  4: the value of a From field: dkim_from_domain gives a valid domain
 *	name in lower case, or a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "dkim.h"
#include "util.h"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned char fz_seed[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
	0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
	0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60
};
static const char fz_ed_record[] =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char fz_rsa_record[] =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

/* fz_lookup - the RFC's two records, whatever the domain */
static int
fz_lookup(void *arg, const char *sel, const char *dom, struct buf *out)
{
	(void)arg;
	(void)dom;
	if (strcmp(sel, "brisbane") == 0)
		return buf_puts(out, fz_ed_record);
	if (strcmp(sel, "test") == 0)
		return buf_puts(out, fz_rsa_record);
	return -1;
}

/* fz_tags - mode 0 */
static void
fz_tags(const char *s, size_t len)
{
	struct dkim_tags t;
	char	 err[128];
	size_t	 i;

	if (dkim_tags_parse(s, len, &t, err, sizeof(err)) == -1) {
		FZ_CHECK(t.n == 0 && t.v == NULL && err[0] != '\0');
		return;
	}
	FZ_CHECK(t.n <= DKIM_NTAGS_MAX);
	for (i = 0; i < t.n; i++)
		FZ_CHECK(dkim_tags_get(&t, t.v[i].name) == t.v[i].value);
	dkim_tags_free(&t);
}

/* fz_record - mode 1 */
static void
fz_record(const char *s, size_t len)
{
	char	 err[128];
	void	*k;
	int	 alg = 0;

	k = dkim_record_parse(s, len, &alg, err, sizeof(err));
	FZ_CHECK(k == NULL || alg == DKIM_RSA_SHA256 ||
	    alg == DKIM_ED25519_SHA256);
	dkim_key_free(k);
}

/* fz_verify - mode 2 */
static void
fz_verify(const char *s, size_t len)
{
	char	 err[128];
	size_t	 i;
	int	 r;

	for (i = 0; i < 3; i++) {
		err[0] = '\0';
		r = dkim_verify(s, len, i, fz_lookup, NULL, err, sizeof(err));
		FZ_CHECK(r >= DKIM_V_PASS && r <= DKIM_V_TEMPERROR);
		FZ_CHECK(r == DKIM_V_PASS || err[0] != '\0');
	}
}

/* fz_sign - mode 3: the signer and the verifier agree */
static void
fz_sign(const char *s, size_t len)
{
	static const struct dkim_keyref keys[] = {
		{ "example.com", "brisbane", DKIM_ED25519_SHA256 },
	};
	struct dkim_msg m;
	struct dkim_signer sg;
	struct buf msg;
	unsigned char bh[DKIM_DIGEST], d[DKIM_DIGEST], sig[DKIM_SIG_MAX];
	const char *p, *end = s + len, *why;
	char	 err[128], dom[256];
	size_t	 n = sizeof(sig);
	void	*key;
	int	 c, ok;

	if (memchr(s, '\r', len) != NULL)
		return;		/* only messages the verifier can split alike */
	dkim_msg_init(&m);
	dkim_msg_text(&m, s, len);
	dkim_body_final(&m.b, bh);
	c = dkim_choose(&m.h, keys, NELEM(keys), dom, sizeof(dom), &why);
	FZ_CHECK((c == -1) == (why != NULL));
	if (c != 1 || !m.in_body) {
		dkim_msg_free(&m);
		return;		/* unsigned; or no end of the header block */
	}
	FZ_CHECK(strcmp(dom, "example.com") == 0);
	key = dkim_key_from_seed(fz_seed);
	FZ_CHECK(key != NULL);
	if (dkim_sign_begin(&sg, DKIM_ED25519_SHA256, dom, "brisbane", 1,
	    &m.h, bh) == 0) {
		dkim_sign_digest(&sg, d);
		FZ_CHECK(dkim_sign_raw(key, DKIM_ED25519_SHA256, d, sig, &n) ==
		    0);
		buf_init(&msg, DKIM_HDR_MAX * 4);
		FZ_CHECK(dkim_sign_finish(&sg, sig, n, &msg) == 0);
		/* the message as the verifier will see it: CR LF */
		for (p = s; p < end; p++) {
			if (*p == '\n')
				buf_putc(&msg, '\r');
			buf_putc(&msg, *p);
		}
		ok = dkim_verify((const char *)msg.data, msg.len, 0, fz_lookup,
		    NULL, err, sizeof(err));
		if (ok != DKIM_V_PASS) {
			fprintf(stderr, "signed message does not verify: %s\n",
			    err);
			abort();
		}
		buf_free(&msg);
	}
	dkim_signer_free(&sg);
	dkim_key_free(key);
	dkim_msg_free(&m);
}

/* fz_from - mode 4: a From field's domain */
static void
fz_from(const char *s, size_t len)
{
	char	*f, out[256];
	const char *why = NULL;
	size_t	 i;

	f = malloc(len + 6);
	FZ_CHECK(f != NULL);
	memcpy(f, "From:", 5);
	memcpy(f + 5, s, len);
	f[len + 5] = '\0';
	if (dkim_from_domain(f, out, sizeof(out), &why) == 0) {
		FZ_CHECK(why == NULL && addr_valid_domain(out));
		for (i = 0; out[i] != '\0'; i++)
			FZ_CHECK(out[i] < 'A' || out[i] > 'Z');
	} else
		FZ_CHECK(why != NULL);
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size == 0)
		return 0;
	s = fz_memdup(data + 1, size - 1);
	switch (data[0] & 7) {
	case 0:
		fz_tags(s, size - 1);
		break;
	case 1:
		fz_record(s, size - 1);
		break;
	case 2:
		fz_verify(s, size - 1);
		break;
	case 3:
		fz_sign(s, size - 1);
		break;
	default:
		fz_from(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
