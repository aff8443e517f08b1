/*
 * passwd.h - password hashes of the users file (Dovecot schemes).
 *
 * A stored password is "{SCHEME}hash" (users(5)); a hash without a
 * "{SCHEME}" prefix is CRYPT.  Schemes verified:
 *	ARGON2ID	libsodium crypto_pwhash_str_verify ("$argon2id$v=19$...")
 *	SHA512-CRYPT	crypt_r "$6$..."
 *	SHA256-CRYPT	crypt_r "$5$..."
 *	BLF-CRYPT	crypt_r "$2y$" / "$2b$" / "$2a$"
 *	CRYPT		crypt_r, whatever libcrypt accepts except DES and
 *			other hashes shorter than 20 characters (refused)
 * PLAIN, CLEAR, PLAIN-MD5 and unknown schemes never verify (-1): a users
 * file must not hold clear-text passwords.  Comparisons of computed and
 * stored hashes are constant-time (sodium_memcmp after a length check).
 *
 * passwd_hash() makes a new stored password with a fresh random salt:
 * ARGON2ID (crypto_pwhash_str, OPSLIMIT/MEMLIMIT_INTERACTIVE), SHA512-CRYPT
 * and SHA256-CRYPT (crypt_gensalt_rn with the default rounds), BLF-CRYPT
 * ("$2y$", cost 10).
 *
 * passwd_dummy() costs the same as verifying against a stored password of the
 * given scheme, so that an unknown user and a wrong password take the same
 * time (it verifies against a fixed hash made once per process).
 */
#ifndef YOUJU_PASSWD_H
#define YOUJU_PASSWD_H

#include <stddef.h>

#define PASSWD_MAX		1024	/* longest password accepted */
#define PASSWD_HASH_MAX	512	/* longest stored hash accepted */

/* passwd_verify - 1 match, 0 no match, -1 unusable stored value (scheme) */
int	 passwd_verify(const char *, const char *, size_t);
/* passwd_hash - malloc'ed "{SCHEME}hash", or NULL with a message in err */
char	*passwd_hash(const char *, const char *, size_t, char *, size_t);
/* passwd_scheme_ok - 1 when passwd_hash can make this scheme */
int	 passwd_scheme_ok(const char *);
/* passwd_dummy - burn the time of one verification of that scheme */
void	 passwd_dummy(const char *, const char *, size_t);
/*
 * passwd_problem - why a stored value can never verify (written into the
 * buffer, which is returned: "no password", "clear-text password",
 * "unknown password scheme {MD5}", "truncated SHA512-CRYPT hash", ...),
 * or NULL when it looks usable.  Cheap: no hashing, only the checks
 * passwd_verify makes before it hashes, the format of the hash, and for crypt
 * hashes libxcrypt's crypt_checksalt() and the length of the known
 * methods' output.  passwd_verify stays the last word (-1).
 */
const char *passwd_problem(const char *, char *, size_t);

#endif
