/*
 * fuzz_users.c - libFuzzer target for lib/mail/users: users_parse_buf() on a
 * users file (Dovecot passwd-file format), users_find() with names taken
 * from the input, users_scheme(), users_password_hash(), users_free().
 *
 * Input: the file (an exact-size copy: the parser takes a length).
 *
 * Properties checked (abort when broken):
 *  - every entry is well formed as users.h says: a name without white
 *    space or control characters, at most USERS_NAME_MAX bytes, split at
 *    its last '@' into local and a lowercased valid domain; uid/gid -1 or
 *    1..4294967294; home empty or absolute; warnings bounded;
 *  - users_find(name) finds each entry by its whole name and, for an
 *    entry with a domain, by (local, domain), in any ASCII case; a found
 *    entry's name matches what was asked for;
 *  - users_scheme() is "" or an uppercase [A-Z0-9._-] name of at most
 *    USERS_SCHEME_MAX bytes, fits an exact-size buffer, truncates like
 *    strlcpy, and users_password_hash() points into the password;
 *  - users_login_problem() (lib/mail/passwd's passwd_problem) is NULL or a
 *    printable reason in the buffer, cut short in a small one; an empty
 *    password always has one; it never hashes, so it stays cheap.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "fuzz.h"
#include "passwd.h"
#include "users.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_USERS_PROBES	16	/* users_find() calls from the input */

/* fuzz_users_upper - ASCII uppercase copy (names compare case-blind) */
static char *
fuzz_users_upper(const char *s)
{
	char	*u = fz_cstr(s, strlen(s)), *p;

	for (p = u; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
	return u;
}

/* fuzz_users_scheme - users_scheme() and users_password_hash() */
static void
fuzz_users_scheme(const char *pass)
{
	char	 out[USERS_SCHEME_MAX + 1], *small;
	const char *h, *s;
	size_t	 n;

	n = users_scheme(pass, out, sizeof(out));
	FZ_CHECK(n <= USERS_SCHEME_MAX && strlen(out) == n);
	for (s = out; *s != '\0'; s++)
		FZ_CHECK((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    *s == '.' || *s == '_' || *s == '-');
	if (pass[0] == '\0')
		FZ_CHECK(n == 0);
	else if (pass[0] != '{')
		FZ_CHECK(strcmp(out, "CRYPT") == 0);
	/* strlcpy-like truncation into an exact-size buffer */
	small = fz_memdup("", n / 2 + 1);
	FZ_CHECK(users_scheme(pass, small, n / 2 + 1) == n);
	FZ_CHECK(strlen(small) == n / 2 && strncmp(small, out, n / 2) == 0);
	free(small);
	h = users_password_hash(pass);
	FZ_CHECK(h >= pass && h <= pass + strlen(pass));
	if (n > 0 && pass[0] == '{')
		FZ_CHECK(h == pass + n + 2 && h[-1] == '}');
	else
		FZ_CHECK(h == pass);
}

/* fuzz_users_login - the reason an entry cannot log in, if any */
static void
fuzz_users_login(const struct users_ent *e)
{
	char	 buf[256], small[5];
	const char *why, *s;

	why = users_login_problem(e, buf, sizeof(buf));
	FZ_CHECK(why == NULL || why == buf);
	if (e->pass[0] == '\0')
		FZ_CHECK(why != NULL);
	if (why == NULL)
		return;
	FZ_CHECK(memchr(buf, '\0', sizeof(buf)) != NULL && buf[0] != '\0');
	for (s = buf; *s != '\0'; s++)
		FZ_CHECK(*s >= 32 && *s <= 126);
	FZ_CHECK(users_login_problem(e, small, sizeof(small)) == small &&
	    strlen(small) == sizeof(small) - 1 &&
	    strncmp(small, buf, sizeof(small) - 1) == 0);
}

/* fuzz_users_ent - one entry as users.h promises it */
static void
fuzz_users_ent(const struct users *u, const struct users_ent *e)
{
	const unsigned char *s;
	const char *at;
	char	*up, *ul, *ud;

	FZ_CHECK(e->name[0] != '\0' && strlen(e->name) <= USERS_NAME_MAX);
	for (s = (const unsigned char *)e->name; *s != '\0'; s++)
		FZ_CHECK(*s > ' ' && *s != 0x7f && *s != ':');
	if ((at = strrchr(e->name, '@')) != NULL) {
		FZ_CHECK(at > e->name);
		FZ_CHECK(strlen(e->local) == (size_t)(at - e->name));
		FZ_CHECK(strncmp(e->local, e->name, strlen(e->local)) == 0);
		FZ_CHECK(strcmp(e->domain, at + 1) == 0);
		FZ_CHECK(addr_valid_domain(e->domain));
		for (s = (const unsigned char *)e->domain; *s != '\0'; s++)
			FZ_CHECK(!(*s >= 'A' && *s <= 'Z'));
	} else {
		FZ_CHECK(strcmp(e->local, e->name) == 0);
		FZ_CHECK(e->domain[0] == '\0');
	}
	FZ_CHECK(e->uid == -1 || (e->uid >= 1 && e->uid <= 4294967294LL));
	FZ_CHECK(e->gid == -1 || (e->gid >= 1 && e->gid <= 4294967294LL));
	FZ_CHECK(e->home[0] == '\0' || e->home[0] == '/');
	FZ_CHECK(e->pass != NULL && e->gecos != NULL && e->shell != NULL &&
	    e->extra != NULL);
	FZ_CHECK(strchr(e->pass, ':') == NULL);

	/* findable by its whole name, and by local + domain, in any case */
	FZ_CHECK(users_find(u, e->name, NULL) == e);
	FZ_CHECK(users_find(u, e->name, "") == e);
	up = fuzz_users_upper(e->name);
	FZ_CHECK(users_find(u, up, NULL) == e);
	free(up);
	if (e->domain[0] != '\0') {
		FZ_CHECK(users_find(u, e->local, e->domain) == e);
		ul = fuzz_users_upper(e->local);
		ud = fuzz_users_upper(e->domain);
		FZ_CHECK(users_find(u, ul, ud) == e);
		free(ul);
		free(ud);
	}
	fuzz_users_scheme(e->pass);
	fuzz_users_login(e);
}

/* fuzz_users_probe - users_find() on a name cut from the input */
static void
fuzz_users_probe(const struct users *u, char *name)
{
	const struct users_ent *e;
	char	*at;

	if ((e = users_find(u, name, NULL)) != NULL)
		FZ_CHECK(strcasecmp(e->name, name) == 0);
	if ((at = strrchr(name, '@')) == NULL) {
		if ((e = users_find(u, name, "example.com")) != NULL)
			FZ_CHECK(strcasecmp(e->local, name) == 0);
		return;
	}
	*at = '\0';
	if (at[1] == '\0') {
		/* no domain: name is looked up as a whole name */
		if ((e = users_find(u, name, at + 1)) != NULL)
			FZ_CHECK(strcasecmp(e->name, name) == 0);
	} else if ((e = users_find(u, name, at + 1)) != NULL) {
		FZ_CHECK(strcasecmp(e->local, name) == 0);
		FZ_CHECK(e->domain[0] == '\0' ||
		    strcasecmp(e->domain, at + 1) == 0);
	}
	*at = '@';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct users *u;
	const uint8_t *p, *end, *nl, *colon;
	char	*text, *name;
	size_t	 i;

	text = fz_memdup(data, size);
	u = users_parse_buf(text, size, "users");
	FZ_CHECK(u != NULL);
	FZ_CHECK(u->nwarn <= USERS_WARN_MAX + 1);
	for (i = 0; i < u->nwarn; i++)
		FZ_CHECK(strncmp(u->warn[i], "users", 5) == 0);
	for (i = 0; i < u->n; i++)
		fuzz_users_ent(u, &u->ent[i]);

	/* names from the input: each line's first field */
	p = data;
	end = data + size;
	for (i = 0; i < FUZZ_USERS_PROBES && p < end; i++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((colon = memchr(p, ':', (size_t)(nl - p))) == NULL)
			colon = nl;
		name = fz_cstr(p, (size_t)(colon - p));
		fuzz_users_probe(u, name);
		fuzz_users_scheme(name);
		free(name);
		p = nl + (nl < end);
	}
	FZ_CHECK(users_find(u, NULL, NULL) == NULL);
	FZ_CHECK(users_find(NULL, "a", NULL) == NULL);
	users_free(u);
	free(text);
	return 0;
}
