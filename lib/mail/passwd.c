/*
 * passwd.c - password hashes of the users file (Dovecot schemes).
 *
 * Interface: passwd.h.  passwd_schemes[] is the one table of schemes: the
 * hash prefixes each one verifies, how it makes new hashes, and its
 * verify and hash handlers.  Scheme names compare ASCII case-insensitively
 * ("{sha512-crypt}" is SHA512-CRYPT); passwd_hash writes them upper case.
 *
 * What makes a stored value unusable (-1) rather than a mismatch (0):
 * an empty value, one longer than PASSWD_HASH_MAX, bytes outside printable
 * ASCII, "{" without "}", a scheme not in the table, an empty hash, a hash
 * whose prefix does not belong to the scheme, and a hash libcrypt or
 * libsodium cannot parse.  A truncated or over-long crypt hash is caught
 * because crypt_r's output has the same length as a well-formed stored
 * hash for any password; an ARGON2ID hash must carry a 32-byte (43
 * base64 characters) hash, what libsodium, doveadm and the reference
 * argon2 tools write.  CRYPT (no prefix) requires a "$id$" hash of at
 * least 20 characters and refuses "$3$" (NT-Hash, unsalted MD4): the DES
 * family ("ab...", "_..." BSDi) never verifies.
 *
 * Passwords: passwd_verify answers 0 for a password that is empty, longer
 * than PASSWD_MAX or contains a NUL byte (crypt(3) would silently cut it),
 * after checking the stored value with "" (so -1 still means a bad stored
 * value, and the time is spent); passwd_hash refuses those with a message.
 * libxcrypt takes at most 511 bytes: longer passwords never match a crypt
 * hash, and passwd_hash makes crypt hashes only of passwords it takes whole
 * (SHA*-CRYPT 511 bytes, BLF-CRYPT 72: bcrypt ignores the rest).
 * NUL-terminated copies of the password and every struct crypt_data
 * (intermediate state) are wiped with sodium_memzero.
 *
 * Threads: everything may be called from several threads at once (auth
 * does); the only shared state, the passwd_dummy hashes, is made under a
 * mutex and never changes after.
 *
 * Errors: passwd_hash returns NULL with a message in err (never containing
 * the password); passwd_verify returns -1 for an unusable stored value.
 */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "passwd.h"
#include "util.h"

#define PASSWD_SALT_BYTES 16	/* random bytes handed to crypt_gensalt_rn */
#define PASSWD_ARGON_HASHLEN 43	/* base64 of the 32-byte argon2id output */
#define PASSWD_CRYPT_MIN 20	/* shorter CRYPT hashes (DES) are refused */
#define PASSWD_CRYPT_PASS	(CRYPT_MAX_PASSPHRASE_SIZE - 1)	/* libxcrypt */
#define PASSWD_BLF_PASS	72	/* bcrypt ignores what follows */
#define PASSWD_OUT_MAX	(CRYPT_OUTPUT_SIZE > crypto_pwhash_argon2id_STRBYTES ? \
			    CRYPT_OUTPUT_SIZE : crypto_pwhash_argon2id_STRBYTES)

struct passwd_scheme {
	const char	*name;
	const char	*accept[4];	/* hash prefixes verified, NULL-ended;
					   none: any "$id$" (CRYPT) */
	const char	*gensalt;	/* crypt_gensalt_rn prefix, or NULL */
	unsigned long	 count;		/* rounds/cost for crypt_gensalt_rn */
	size_t		 pass_max;	/* longest password passwd_hash takes;
					   0: passwd_hash cannot make it */
	int		(*verify)(const struct passwd_scheme *, const char *,
			    const char *, size_t);
	int		(*hash)(const struct passwd_scheme *, const char *,
			    size_t, char *, char *, size_t);
};

static int	 passwd_argon_verify(const struct passwd_scheme *, const char *,
		    const char *, size_t);
static int	 passwd_argon_hash(const struct passwd_scheme *, const char *,
		    size_t, char *, char *, size_t);
static int	 passwd_crypt_verify(const struct passwd_scheme *, const char *,
		    const char *, size_t);
static int	 passwd_crypt_hash(const struct passwd_scheme *, const char *,
		    size_t, char *, char *, size_t);

static const struct passwd_scheme passwd_schemes[] = {
	{ "ARGON2ID", { "$argon2id$", NULL }, NULL, 0, PASSWD_MAX,
	    passwd_argon_verify, passwd_argon_hash },
	{ "SHA512-CRYPT", { "$6$", NULL }, "$6$", 0, PASSWD_CRYPT_PASS,
	    passwd_crypt_verify, passwd_crypt_hash },
	{ "SHA256-CRYPT", { "$5$", NULL }, "$5$", 0, PASSWD_CRYPT_PASS,
	    passwd_crypt_verify, passwd_crypt_hash },
	{ "BLF-CRYPT", { "$2y$", "$2b$", "$2a$", NULL }, "$2y$", 10,
	    PASSWD_BLF_PASS, passwd_crypt_verify, passwd_crypt_hash },
	{ "CRYPT", { NULL }, NULL, 0, 0, passwd_crypt_verify, NULL },
};

#define PASSWD_NSCHEMES	(sizeof(passwd_schemes) / sizeof(passwd_schemes[0]))
#define PASSWD_DEFAULT	0	/* ARGON2ID: passwd_dummy for other names */
#define PASSWD_SHA512	1	/* passwd_dummy for CRYPT */
#define PASSWD_CRYPT	(PASSWD_NSCHEMES - 1)

/* one hash of a random password per scheme, made by passwd_dummy on demand */
static char	*passwd_dummy_hash[PASSWD_NSCHEMES];
static pthread_mutex_t passwd_dummy_mu = PTHREAD_MUTEX_INITIALIZER;

/* passwd_init - libsodium (thread-safe, cheap after the first call) */
static int
passwd_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

/* passwd_find - table entry of a scheme name of len bytes, or NULL */
static const struct passwd_scheme *
passwd_find(const char *name, size_t len)
{
	size_t	 i, k;
	int	 a, b;

	for (i = 0; i < PASSWD_NSCHEMES; i++) {
		if (strlen(passwd_schemes[i].name) != len)
			continue;
		for (k = 0; k < len; k++) {
			a = (unsigned char)name[k];
			b = (unsigned char)passwd_schemes[i].name[k];
			if (a >= 'a' && a <= 'z')
				a -= 'a' - 'A';
			if (a != b)
				break;
		}
		if (k == len)
			return &passwd_schemes[i];
	}
	return NULL;
}

/* passwd_split - scheme and hash of a stored value; NULL when unusable */
static const struct passwd_scheme *
passwd_split(const char *stored, const char **hash)
{
	const char *end;
	size_t	 len, i;

	if (stored == NULL || (len = strnlen(stored, PASSWD_HASH_MAX + 1)) ==
	    0 || len > PASSWD_HASH_MAX)
		return NULL;
	for (i = 0; i < len; i++)
		if ((unsigned char)stored[i] <= ' ' ||
		    (unsigned char)stored[i] >= 0x7f)
			return NULL;
	if (stored[0] != '{') {
		*hash = stored;
		return &passwd_schemes[PASSWD_CRYPT];
	}
	if ((end = strchr(stored, '}')) == NULL || end[1] == '\0')
		return NULL;
	*hash = end + 1;
	return passwd_find(stored + 1, (size_t)(end - stored - 1));
}

/* passwd_prefix_ok - the hash starts with a prefix the scheme verifies */
static int
passwd_prefix_ok(const struct passwd_scheme *s, const char *hash)
{
	size_t	 i;

	if (s->accept[0] == NULL)	/* CRYPT: "$id$...", not NT-Hash */
		return hash[0] == '$' && strlen(hash) >= PASSWD_CRYPT_MIN &&
		    strchr(hash + 1, '$') != NULL &&
		    strncmp(hash, "$3$", 3) != 0;
	for (i = 0; s->accept[i] != NULL; i++)
		if (strncmp(hash, s->accept[i], strlen(s->accept[i])) == 0)
			return 1;
	return 0;
}

/* passwd_pass_ok - 1 when a password may be hashed or compared */
static int
passwd_pass_ok(const char *pass, size_t len)
{
	return pass != NULL && len > 0 && len <= PASSWD_MAX &&
	    memchr(pass, '\0', len) == NULL;
}

/* passwd_copy - NUL-terminated copy of a checked password (wipe it after) */
static char *
passwd_copy(const char *pass, size_t len)
{
	char	*p;

	p = xmalloc(len + 1);
	memcpy(p, pass, len);
	p[len] = '\0';
	return p;
}

/* passwd_wipe - sodium_memzero a copy made by passwd_copy, then free it */
static void
passwd_wipe(char *p, size_t len)
{
	sodium_memzero(p, len + 1);
	free(p);
}

/*
 * passwd_crypt_verify - crypt_r and a constant-time compare.  A password
 * (pw, NUL-terminated, no NUL inside) longer than libxcrypt takes cannot
 * match any crypt hash: the stored value is still checked with "".
 */
static int
passwd_crypt_verify(const struct passwd_scheme *s, const char *hash,
    const char *pw, size_t len)
{
	struct crypt_data *cd;
	const char *out;
	size_t	 hl = strlen(hash);
	int	 r;

	if (!passwd_prefix_ok(s, hash))
		return -1;
	cd = xcalloc(1, sizeof(*cd));
	out = crypt_r(len > PASSWD_CRYPT_PASS ? "" : pw, hash, cd);
	if (out == NULL || out[0] == '*' || strlen(out) != hl)
		r = -1;		/* libcrypt cannot use it, or truncated */
	else
		r = sodium_memcmp(out, hash, hl) == 0 &&
		    len <= PASSWD_CRYPT_PASS;
	sodium_memzero(cd, sizeof(*cd));	/* intermediate state */
	free(cd);
	return r;
}

/* passwd_crypt_hash - new salt from libsodium, then crypt_r into out */
static int
passwd_crypt_hash(const struct passwd_scheme *s, const char *pw, size_t len,
    char *out, char *err, size_t errlen)
{
	struct crypt_data *cd;
	char	 rnd[PASSWD_SALT_BYTES], setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;
	int	 r = -1;

	(void)len;
	randombytes_buf(rnd, sizeof(rnd));
	if (crypt_gensalt_rn(s->gensalt, s->count, rnd, (int)sizeof(rnd),
	    setting, (int)sizeof(setting)) == NULL) {
		snprintf(err, errlen, "%s: cannot make a salt: %s", s->name,
		    strerror(errno));
		return -1;
	}
	sodium_memzero(rnd, sizeof(rnd));
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_r(pw, setting, cd);
	if (h == NULL || h[0] == '*' ||
	    strncmp(h, s->gensalt, strlen(s->gensalt)) != 0)
		snprintf(err, errlen, "%s: crypt failed", s->name);
	else if (util_strlcpy(out, h, PASSWD_OUT_MAX) >= PASSWD_OUT_MAX)
		snprintf(err, errlen, "%s: hash too long", s->name);
	else
		r = 0;
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

/* passwd_argon_verify - libsodium; a malformed string is -1, not a mismatch */
static int
passwd_argon_verify(const struct passwd_scheme *s, const char *hash,
    const char *pw, size_t len)
{
	char	 str[crypto_pwhash_argon2id_STRBYTES];
	const char *last;
	size_t	 hl = strlen(hash);

	if (!passwd_prefix_ok(s, hash) || hl >= sizeof(str) ||
	    (last = strrchr(hash, '$')) == NULL ||
	    strlen(last + 1) != PASSWD_ARGON_HASHLEN)
		return -1;
	/* libsodium's prototypes take a whole STRBYTES array */
	memset(str, 0, sizeof(str));
	memcpy(str, hash, hl);
	/* decodes and checks every field; -1 only when malformed */
	if (crypto_pwhash_argon2id_str_needs_rehash(str,
	    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) == -1)
		return -1;
	return crypto_pwhash_argon2id_str_verify(str, pw,
	    (unsigned long long)len) == 0;
}

/* passwd_argon_hash - crypto_pwhash_argon2id_str into out */
static int
passwd_argon_hash(const struct passwd_scheme *s, const char *pw, size_t len,
    char *out, char *err, size_t errlen)
{
	char	 str[crypto_pwhash_argon2id_STRBYTES];

	if (crypto_pwhash_argon2id_str(str, pw, (unsigned long long)len,
	    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) != 0) {
		snprintf(err, errlen, "%s: cannot hash (out of memory?)",
		    s->name);
		return -1;
	}
	util_strlcpy(out, str, PASSWD_OUT_MAX);
	return 0;
}

/* clear-text schemes Dovecot knows: named as such by passwd_problem */
static const char *passwd_clear[] = { "PLAIN", "CLEAR", "CLEARTEXT",
    "PLAIN-TRUNC" };

/*
 * passwd_crypt_len - the length crypt(3) gives for a hash of a known method
 * ("$6$[rounds=N$]salt$" plus the checksum, or a fixed total), 0 when the
 * method is not in this list
 */
static size_t
passwd_crypt_len(const char *hash)
{
	static const struct {
		const char	*prefix;
		size_t		 sum;	/* checksum after the last '$' */
		size_t		 total;	/* or the whole length */
	} m[] = {
		{ "$6$", 86, 0 }, { "$5$", 43, 0 }, { "$1$", 22, 0 },
		{ "$y$", 43, 0 }, { "$gy$", 43, 0 }, { "$7$", 43, 0 },
		{ "$2y$", 0, 60 }, { "$2b$", 0, 60 }, { "$2a$", 0, 60 },
	};
	const char *last = strrchr(hash, '$');
	size_t	 i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (strncmp(hash, m[i].prefix, strlen(m[i].prefix)) != 0)
			continue;
		if (m[i].total > 0)
			return m[i].total;
		return (size_t)(last - hash) + 1 + m[i].sum;
	}
	return 0;
}

/* passwd_crypt_problem - the crypt hash of scheme s, or why it is unusable */
static const char *
passwd_crypt_problem(const struct passwd_scheme *s, const char *hash, char *buf,
    size_t size)
{
	size_t	 want, len = strlen(hash);
	int	 cs;

	if (s->accept[0] == NULL && hash[0] != '$') {
		if ((len == 13 && strspn(hash, "./0123456789ABCDEFGHIJKLMNOP"
		    "QRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == 13) ||
		    (hash[0] == '_' && len == 20))
			snprintf(buf, size, "DES crypt hash (too weak, "
			    "refused)");
		else
			snprintf(buf, size, "clear-text password? (neither "
			    "{SCHEME} nor a $id$ crypt hash)");
		return buf;
	}
	if (s->accept[0] == NULL && strncmp(hash, "$3$", 3) == 0) {
		snprintf(buf, size, "NT-Hash (too weak, refused)");
		return buf;
	}
	if (!passwd_prefix_ok(s, hash)) {
		if (s->accept[0] == NULL)
			snprintf(buf, size, "malformed crypt hash");
		else
			snprintf(buf, size, "not a %s hash (it does not start "
			    "with %s)", s->name, s->accept[0]);
		return buf;
	}
	cs = crypt_checksalt(hash);
	if (cs != CRYPT_SALT_OK && cs != CRYPT_SALT_METHOD_LEGACY &&
	    cs != CRYPT_SALT_TOO_CHEAP) {
		snprintf(buf, size, "malformed %s hash, or a method libcrypt "
		    "does not have", s->name);
		return buf;
	}
	if ((want = passwd_crypt_len(hash)) != 0 && want != len) {
		snprintf(buf, size, "%s %s hash", len < want ? "truncated" :
		    "over-long", s->name);
		return buf;
	}
	return NULL;
}

/* passwd_argon_problem - an ARGON2ID hash libsodium can decode, or why not */
static const char *
passwd_argon_problem(const struct passwd_scheme *s, const char *hash, char *buf,
    size_t size)
{
	char	 str[crypto_pwhash_argon2id_STRBYTES];
	const char *last;
	size_t	 hl = strlen(hash);

	if (!passwd_prefix_ok(s, hash) || hl >= sizeof(str) ||
	    (last = strrchr(hash, '$')) == NULL ||
	    strlen(last + 1) != PASSWD_ARGON_HASHLEN || passwd_init() == -1) {
		snprintf(buf, size, "malformed ARGON2ID hash");
		return buf;
	}
	memset(str, 0, sizeof(str));
	memcpy(str, hash, hl);
	if (crypto_pwhash_argon2id_str_needs_rehash(str,
	    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) == -1) {
		snprintf(buf, size, "malformed ARGON2ID hash");
		return buf;
	}
	return NULL;
}

/* passwd_problem - see passwd.h: (stored value, buffer, its size) */
const char *
passwd_problem(const char *stored, char *buf, size_t size)
{
	const struct passwd_scheme *s;
	const char *end, *hash = stored;
	size_t	 len, i;

	if (stored == NULL ||
	    (len = strnlen(stored, PASSWD_HASH_MAX + 1)) == 0) {
		snprintf(buf, size, "no password");
		return buf;
	}
	if (len > PASSWD_HASH_MAX) {
		snprintf(buf, size, "password field longer than %d bytes",
		    PASSWD_HASH_MAX);
		return buf;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)stored[i] <= ' ' ||
		    (unsigned char)stored[i] >= 0x7f) {
			snprintf(buf, size, "white space or a byte outside "
			    "printable ASCII in the password field");
			return buf;
		}
	s = &passwd_schemes[PASSWD_CRYPT];
	if (stored[0] == '{') {
		if ((end = strchr(stored, '}')) == NULL || end == stored + 1) {
			snprintf(buf, size, "malformed {SCHEME} prefix");
			return buf;
		}
		len = (size_t)(end - stored - 1);
		for (i = 0; i < NELEM(passwd_clear); i++)
			if (strlen(passwd_clear[i]) == len &&
			    strncasecmp(stored + 1, passwd_clear[i], len) ==
			    0) {
				snprintf(buf, size, "clear-text password "
				    "({%.*s})", (int)len, stored + 1);
				return buf;
			}
		if ((s = passwd_find(stored + 1, len)) == NULL) {
			snprintf(buf, size, "unknown password scheme {%.*s}",
			    (int)(len > 31 ? 31 : len), stored + 1);
			return buf;
		}
		if ((hash = end + 1)[0] == '\0') {
			snprintf(buf, size, "{%s} without a hash", s->name);
			return buf;
		}
	}
	if (s->verify == passwd_argon_verify)
		return passwd_argon_problem(s, hash, buf, size);
	return passwd_crypt_problem(s, hash, buf, size);
}

/* passwd_verify - see passwd.h: (stored value, password, its length) */
int
passwd_verify(const char *stored, const char *pass, size_t len)
{
	const struct passwd_scheme *s;
	const char *hash = NULL;
	char	*pw;
	int	 r;

	if ((s = passwd_split(stored, &hash)) == NULL || passwd_init() == -1)
		return -1;
	if (!passwd_pass_ok(pass, len)) {
		/* still tell a malformed stored value, and take the time */
		r = s->verify(s, hash, "", 0);
		return r == -1 ? -1 : 0;
	}
	pw = passwd_copy(pass, len);
	r = s->verify(s, hash, pw, len);
	passwd_wipe(pw, len);
	return r;
}

/* passwd_hash - see passwd.h: (scheme, password, its length, err, errlen) */
char *
passwd_hash(const char *scheme, const char *pass, size_t len, char *err,
    size_t errlen)
{
	const struct passwd_scheme *s;
	char	 out[PASSWD_OUT_MAX], *pw, *res = NULL;
	size_t	 n;

	if (scheme == NULL ||
	    (s = passwd_find(scheme, strlen(scheme))) == NULL ||
	    s->pass_max == 0) {
		snprintf(err, errlen, "unsupported password scheme \"%s\" "
		    "(use ARGON2ID, SHA512-CRYPT, SHA256-CRYPT or BLF-CRYPT)",
		    scheme == NULL ? "" : scheme);
		return NULL;
	}
	if (pass == NULL || len == 0) {
		snprintf(err, errlen, "empty password");
		return NULL;
	}
	if (len > s->pass_max) {
		snprintf(err, errlen, "password longer than %zu bytes, the "
		    "most %s can use%s", s->pass_max, s->name,
		    s->pass_max < PASSWD_MAX ? " (ARGON2ID takes longer ones)" :
		    "");
		return NULL;
	}
	if (memchr(pass, '\0', len) != NULL) {
		snprintf(err, errlen, "password contains a NUL byte");
		return NULL;
	}
	if (passwd_init() == -1) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return NULL;
	}
	pw = passwd_copy(pass, len);
	if (s->hash(s, pw, len, out, err, errlen) == 0) {
		n = strlen(s->name) + strlen(out) + 3;
		res = xmalloc(n);
		snprintf(res, n, "{%s}%s", s->name, out);
	}
	passwd_wipe(pw, len);
	return res;
}

/* passwd_scheme_ok - 1 when passwd_hash makes this scheme */
int
passwd_scheme_ok(const char *scheme)
{
	const struct passwd_scheme *s;

	if (scheme == NULL || (s = passwd_find(scheme, strlen(scheme))) == NULL)
		return 0;
	return s->pass_max > 0;
}

/*
 * passwd_dummy - verify against a hash of a random password in that scheme,
 * made once per process (under a mutex: auth calls this from worker
 * threads; the hash is never freed or changed after).  CRYPT uses
 * SHA512-CRYPT (what doveadm writes); other schemes passwd_hash cannot make,
 * and NULL, use ARGON2ID.  An unusable password (empty, too long) is
 * replaced by the random one so that the work is always done.
 */
void
passwd_dummy(const char *scheme, const char *pass, size_t len)
{
	const struct passwd_scheme *s = NULL;
	unsigned char rnd[16];
	char	 rpass[2 * sizeof(rnd) + 1], err[256];
	const char *h;
	size_t	 i;

	if (scheme != NULL)
		s = passwd_find(scheme, strlen(scheme));
	if (s == &passwd_schemes[PASSWD_CRYPT])
		s = &passwd_schemes[PASSWD_SHA512];
	if (s == NULL || s->pass_max == 0)
		s = &passwd_schemes[PASSWD_DEFAULT];
	i = (size_t)(s - passwd_schemes);
	if (passwd_init() == -1)
		return;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(rpass, sizeof(rpass), rnd, sizeof(rnd));
	pthread_mutex_lock(&passwd_dummy_mu);
	if (passwd_dummy_hash[i] == NULL)
		passwd_dummy_hash[i] = passwd_hash(s->name, rpass,
		    strlen(rpass), err, sizeof(err));
	h = passwd_dummy_hash[i];
	pthread_mutex_unlock(&passwd_dummy_mu);
	if (h != NULL) {
		if (passwd_pass_ok(pass, len))
			(void)passwd_verify(h, pass, len);
		else
			(void)passwd_verify(h, rpass, strlen(rpass));
	}
	sodium_memzero(rnd, sizeof(rnd));
	sodium_memzero(rpass, sizeof(rpass));
}
