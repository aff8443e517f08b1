/*
 * test_sasl.c - tests for lib/mail/sasl.c (malformed input first): strict
 * base64 with the RFC 4648 section 10 vectors, and the PLAIN message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sasl.h"
#include "t.h"
#include "util.h"

/* test_decode_s - decode a C string with a limit; -1 or 0 */
static int
test_decode_s(const char *s, struct buf *b, size_t max)
{
	return sasl_b64_decode(s, strlen(s), b, max);
}

/* test_b64_malformed - each is -1 EINVAL and leaves out empty */
static void
test_b64_malformed(void)
{
	static const char *const bad[] = {
		"Z", "Zg", "Zg=", "Zm9", "Zm9vY", "==", "===", "====", "=Zg=",
		"Z===", "Zg=v", "Zg==Zg==", "Zm9=Zg==", "Zm8=Zg==",
		"Zh==", "Zm==", "Zm9=", "Zm9vYh==", "Zm9vYmF=",
		"Zm9v\n", "Zm9v\r\n", " Zm9v", "Zm9v ", "Zm 9v", "Zm\t9",
		"Zm9-", "Zm9_", "Zm9.", "Zm9*", "Zm9\x80", "Zm9\xff",
		"*", "Zm9vYmFy=", "Zm9vYmFy==",
	};
	struct buf b;
	char	 what[96];
	size_t	 i;

	buf_init(&b, 4096);
	for (i = 0; i < NELEM(bad); i++) {
		buf_puts(&b, "stale");
		errno = 0;
		snprintf(what, sizeof(what), "malformed %zu \"%.*s\" refused",
		    i, (int)strcspn(bad[i], "\r\n\t"), bad[i]);
		T_OK(test_decode_s(bad[i], &b, 100) == -1 &&
		    errno == EINVAL && b.len == 0, "%s", what);
	}
	/* a NUL inside the given length is not base64 either */
	T_OK(sasl_b64_decode("Zm\0v", 4, &b, 100) == -1 && errno == EINVAL,
	    "NUL byte refused");
	buf_free(&b);
}

/* test_b64_limits - max is a hard limit on the decoded length */
static void
test_b64_limits(void)
{
	static const struct {
		const char	*in;
		size_t		 max;
		int		 ok;
	} t[] = {
		{ "Zm9vYmFy", 6, 1 }, { "Zm9vYmFy", 5, 0 },
		{ "Zm9vYg==", 4, 1 }, { "Zm9vYg==", 3, 0 },
		{ "Zm9vYmE=", 5, 1 }, { "Zm9vYmE=", 4, 0 },
		{ "Zg==", 1, 1 }, { "Zg==", 0, 0 },
		{ "=", 0, 1 }, { "", 0, 1 },
	};
	struct buf b;
	char	*big;
	size_t	 i;
	int	 r;

	buf_init(&b, 4096);
	for (i = 0; i < NELEM(t); i++) {
		errno = 0;
		r = test_decode_s(t[i].in, &b, t[i].max);
		if (t[i].ok)
			T_OK(r == 0, "\"%s\" fits in %zu", t[i].in, t[i].max);
		else
			T_OK(r == -1 && errno == ENOSPC && b.len == 0,
			    "\"%s\" too long for %zu", t[i].in, t[i].max);
	}
	/* the buffer's own maximum counts too */
	buf_free(&b);
	buf_init(&b, 5);
	T_OK(test_decode_s("Zm9vYmFy", &b, 100) == -1 && errno == ENOSPC,
	    "buffer maximum enforced");
	buf_free(&b);
	/* a whole AUTH line's worth */
	big = xmalloc(SASL_LINE_MAX + 1);
	memset(big, 'A', SASL_LINE_MAX);
	big[SASL_LINE_MAX] = '\0';
	buf_init(&b, SASL_LINE_MAX);
	T_OK(test_decode_s(big, &b, SASL_LINE_MAX) == 0 &&
	    b.len == SASL_LINE_MAX / 4 * 3, "%d characters decode",
	    SASL_LINE_MAX);
	T_OK(test_decode_s(big, &b, SASL_PASS_MAX) == -1 && errno == ENOSPC,
	    "but not into %d bytes", SASL_PASS_MAX);
	buf_free(&b);
	free(big);
}

/* RFC 4648 section 10 */
static const struct {
	const char	*plain;
	const char	*b64;
} test_rfc[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

/* test_b64_vectors - both directions, and every byte value */
static void
test_b64_vectors(void)
{
	struct buf b, e;
	unsigned char all[256];
	size_t	 i;

	buf_init(&b, 4096);
	buf_init(&e, 4096);
	for (i = 0; i < NELEM(test_rfc); i++) {
		T_OK(test_decode_s(test_rfc[i].b64, &b, 100) == 0 &&
		    b.len == strlen(test_rfc[i].plain) &&
		    memcmp(b.data == NULL ? (unsigned char *)"" : b.data,
		    test_rfc[i].plain, b.len) == 0, "decode \"%s\"",
		    test_rfc[i].b64);
		T_OK(sasl_b64_encode(test_rfc[i].plain,
		    strlen(test_rfc[i].plain), &e) == 0 &&
		    strcmp(buf_cstr(&e), test_rfc[i].b64) == 0,
		    "encode \"%s\" (got \"%s\")", test_rfc[i].plain,
		    buf_cstr(&e));
	}
	T_OK(test_decode_s("=", &b, 100) == 0 && b.len == 0,
	    "\"=\" is the empty response");
	/* the AUTH PLAIN of RFC 4616 section 4, and the LOGIN prompts */
	T_OK(test_decode_s("AHRpbQB0YW5zdGFhZnRhbnN0YWFm", &b, 100) == 0 &&
	    b.len == 21 && memcmp(b.data, "\0tim\0tanstaaftanstaaf", 21) == 0,
	    "RFC 4616 example");
	T_OK(sasl_b64_encode("Username:", 9, &e) == 0 &&
	    strcmp(buf_cstr(&e), "VXNlcm5hbWU6") == 0, "Username:");
	T_OK(sasl_b64_encode("Password:", 9, &e) == 0 &&
	    strcmp(buf_cstr(&e), "UGFzc3dvcmQ6") == 0, "Password:");
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(255 - i);
	for (i = 0; i <= sizeof(all); i++) {
		if (sasl_b64_encode(all + sizeof(all) - i, i, &e) == -1 ||
		    sasl_b64_decode((const char *)e.data, e.len, &b, 256) ==
		    -1 || b.len != i ||
		    (i > 0 && memcmp(b.data, all + sizeof(all) - i, i) != 0))
			break;
	}
	T_EQ_INT(i, sizeof(all) + 1, "round trips of 0..256 bytes");
	buf_free(&e);
	buf_init(&e, 7);
	T_OK(sasl_b64_encode("foobar", 6, &e) == -1 && errno == ENOSPC,
	    "encode respects the buffer maximum");
	buf_free(&e);
	buf_free(&b);
}

/* test_plain - RFC 4616 messages */
static void
test_plain(void)
{
	static const struct {
		const char	*msg;
		size_t		 len;
		const char	*user;	/* NULL: must be refused */
		const char	*pass;
	} t[] = {
		{ "", 0, NULL, NULL },
		{ "alice", 5, NULL, NULL },
		{ "alice\0secret", 12, NULL, NULL },		/* one NUL */
		{ "\0alice\0sec\0ret", 14, NULL, NULL },	/* three */
		{ "\0\0secret", 8, NULL, NULL },		/* no user */
		{ "\0alice\0", 7, NULL, NULL },			/* no pass */
		{ "\0\0", 2, NULL, NULL },
		{ "bob\0alice\0secret", 16, NULL, NULL },	/* other */
		{ "Alice\0alice\0secret", 18, NULL, NULL },
		{ "alice \0alice\0secret", 19, NULL, NULL },
		{ "\0al\rice\0secret", 14, NULL, NULL },
		{ "\0alice\n\0secret", 14, NULL, NULL },
		{ "\0al\x7fice\0secret", 14, NULL, NULL },
		{ "x\x01\0x\x01\0secret", 12, NULL, NULL },
		{ "\0alice\0secret", 13, "alice", "secret" },
		{ "alice\0alice\0secret", 18, "alice", "secret" },
		{ "\0alice@example.com\0p a s s", 26, "alice@example.com",
		    "p a s s" },
		{ "\0tim\0tanstaaftanstaaf", 21, "tim", "tanstaaftanstaaf" },
		{ "\0j\xc3\xb6rg\0\xe2\x82\xac\tx\x01", 13, "j\xc3\xb6rg",
		    "\xe2\x82\xac\tx\x01" },
	};
	char	 user[SASL_USER_MAX + 1], pass[SASL_PASS_MAX + 1];
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(t); i++) {
		memset(user, 'U', sizeof(user));
		memset(pass, 'P', sizeof(pass));
		r = sasl_plain((const unsigned char *)t[i].msg, t[i].len,
		    user, sizeof(user), pass, sizeof(pass));
		if (t[i].user == NULL)
			T_OK(r == -1 && user[0] == '\0' && pass[0] == '\0',
			    "PLAIN message %zu refused", i);
		else
			T_OK(r == 0 && strcmp(user, t[i].user) == 0 &&
			    strcmp(pass, t[i].pass) == 0, "PLAIN message %zu "
			    "-> \"%s\"", i, user);
	}
}

/* test_plain_limits - user and password lengths, output buffer sizes */
static void
test_plain_limits(void)
{
	static const struct {
		size_t	 ulen;
		size_t	 plen;
		size_t	 usize;
		size_t	 psize;
		int	 ok;
	} t[] = {
		{ SASL_USER_MAX, SASL_PASS_MAX, SASL_USER_MAX + 1,
		    SASL_PASS_MAX + 1, 1 },
		{ SASL_USER_MAX + 1, 6, 1000, 1000, 0 },
		{ 5, SASL_PASS_MAX + 1, 1000, 2000, 0 },
		{ 5, 6, 5, 100, 0 },		/* no room for the NUL */
		{ 5, 6, 6, 100, 1 },
		{ 5, 6, 100, 6, 0 },
		{ 5, 6, 100, 7, 1 },
		{ 5, 6, 0, 0, 0 },
	};
	unsigned char msg[1 + 2 * SASL_USER_MAX + 2 + SASL_PASS_MAX + 2];
	char	 user[1000], pass[2000];
	size_t	 i, n;

	for (i = 0; i < NELEM(t); i++) {
		n = 0;
		msg[n++] = '\0';
		memset(msg + n, 'u', t[i].ulen);
		n += t[i].ulen;
		msg[n++] = '\0';
		memset(msg + n, 'p', t[i].plen);
		n += t[i].plen;
		T_EQ_INT(sasl_plain(msg, n, user, t[i].usize, pass,
		    t[i].psize), t[i].ok ? 0 : -1, "PLAIN lengths");
		if (t[i].ok)
			T_OK(strlen(user) == t[i].ulen &&
			    strlen(pass) == t[i].plen, "lengths kept");
	}
	/* authzid equal to a maximal authcid */
	memset(msg, 'u', SASL_USER_MAX);
	msg[SASL_USER_MAX] = '\0';
	memset(msg + SASL_USER_MAX + 1, 'u', SASL_USER_MAX);
	msg[2 * SASL_USER_MAX + 1] = '\0';
	msg[2 * SASL_USER_MAX + 2] = 'p';
	T_EQ_INT(sasl_plain(msg, 2 * SASL_USER_MAX + 3, user, sizeof(user),
	    pass, sizeof(pass)), 0, "authzid == authcid of 320 bytes");
	T_EQ_INT(sasl_plain(NULL, 0, user, sizeof(user), pass, sizeof(pass)),
	    -1, "NULL message");
}

int
main(void)
{
	t_plan(100);
	test_b64_malformed();
	test_b64_limits();
	test_b64_vectors();
	test_plain();
	test_plain_limits();
	return t_done();
}
