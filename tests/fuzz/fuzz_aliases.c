/*
 * fuzz_aliases.c - libFuzzer target for lib/mail/aliases: aliases_parse_buf()
 * on an aliases file, aliases_lookup(), aliases_expand(),
 * aliases_resolve() and the frees.
 *
 * Input: the file (an exact-size copy: the parser takes a length).  The
 * names looked up and expanded are every alias name and the first field
 * of each input line.  "example.com" and "" are the local domains.
 *
 * Properties checked (abort when broken):
 *  - every entry is what aliases.h promises: a lowercased valid name, at
 *    least one target, each target a Dot-string local name, "\name", or
 *    an address in canonical form (addr_format of itself); no stored
 *    target is one the file could not have said: a command, file or
 *    include, also quoted or after a backslash (DESIGN rule 1: data never
 *    becomes code); warnings bounded;
 *  - aliases_lookup() finds each entry by its name (and a bare name also
 *    in a local domain unless a full-address entry takes precedence);
 *  - aliases_expand() gives at most ALIASES_MAX_RESULTS results,
 *    unique ignoring ASCII case, or -1 with ELOOP/E2BIG and nothing; an
 *    address that is no alias, or not in a local domain, comes out as
 *    itself;
 *  - aliases_resolve() of each line's first field: 1 with only
 *    local@domain results, or 0/-1 with nothing.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "aliases.h"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_AL_EXPAND	12	/* aliases_expand() calls per input */

/* fuzz_al_is_local - the callback: "example.com" and "" are ours */
static int
fuzz_al_is_local(void *arg, const char *domain)
{
	(void)arg;
	return domain[0] == '\0' || strcasecmp(domain, "example.com") == 0;
}

/*
 * fuzz_al_code - a target aliases.h says is refused: "|cmd", "/file",
 * ":include:file", also after a backslash and inside double quotes.  A
 * stored target must not be one: the file could not have said it.
 */
static int
fuzz_al_code(const char *t)
{
	if (*t == '\\')
		t++;
	if (*t == '"')
		t++;
	return *t == '|' || *t == '/' || strncasecmp(t, ":include:", 9) == 0;
}

/* fuzz_al_target - one stored target */
static void
fuzz_al_target(const char *t)
{
	struct addr a;
	char	 text[ADDR_BUFSZ];

	FZ_CHECK(t[0] != '\0');
	if (fuzz_al_code(t)) {
		fprintf(stderr, "stored alias target \"%s\" is a command, "
		    "file or include (refused if written so)\n", t);
		abort();
	}
	if (t[0] == '\\') {
		FZ_CHECK(addr_valid_local(t + 1));
		return;
	}
	if (addr_valid_local(t))
		return;
	/* an address: stored in canonical form */
	FZ_CHECK(addr_parse_mailbox(t, &a, NULL) == 0);
	FZ_CHECK(addr_format(&a, text, sizeof(text)) < sizeof(text));
	FZ_CHECK(strcmp(text, t) == 0);
}

/* fuzz_al_ent - one entry, and that lookups find it */
static void
fuzz_al_ent(const struct aliases *al, const struct aliases_ent *e)
{
	const struct aliases_ent *f;
	char	*name, *at;
	size_t	 i;

	FZ_CHECK(e->name != NULL && e->name[0] != '\0');
	for (i = 0; e->name[i] != '\0'; i++)
		FZ_CHECK(!(e->name[i] >= 'A' && e->name[i] <= 'Z'));
	FZ_CHECK(e->ntargets >= 1 && e->targets != NULL);
	for (i = 0; i < e->ntargets; i++)
		fuzz_al_target(e->targets[i]);

	name = fz_cstr(e->name, strlen(e->name));
	if ((at = strrchr(name, '@')) == NULL) {
		FZ_CHECK(addr_valid_local(name));
		FZ_CHECK(aliases_lookup(al, name, NULL) == e);
		FZ_CHECK(aliases_lookup(al, name, "") == e);
		f = aliases_lookup(al, name, "example.com");
		FZ_CHECK(f == e || (f != NULL && strchr(f->name, '@') != NULL));
	} else {
		*at = '\0';
		FZ_CHECK(aliases_lookup(al, name, at + 1) == e);
	}
	free(name);
}

/* fuzz_al_expand - one expansion and what it must look like */
static void
fuzz_al_expand(const struct aliases *al, const char *addr)
{
	const struct aliases_ent *e;
	const char *at;
	char	**out = (char **)1, *local;
	size_t	 nout = 1, i, j;
	int	 r;

	errno = 0;
	r = aliases_expand(al, addr, fuzz_al_is_local, NULL, &out, &nout);
	fz_trace("expand \"%s\": %d, %zu results", addr, r, nout);
	if (r == -1) {
		FZ_CHECK(out == NULL && nout == 0);
		if (addr[0] == '\0')
			FZ_CHECK(errno == EINVAL);
		else
			FZ_CHECK(errno == ELOOP || errno == E2BIG);
		return;
	}
	FZ_CHECK(r == 0 && addr[0] != '\0');
	FZ_CHECK(nout >= 1 && nout <= ALIASES_MAX_RESULTS);
	for (i = 0; i < nout; i++) {
		FZ_CHECK(out[i] != NULL);
		for (j = 0; j < i; j++)
			FZ_CHECK(strcasecmp(out[i], out[j]) != 0);
	}
	/* no alias here, or not ours: the address itself */
	if (addr[0] != '\\') {
		at = strrchr(addr, '@');
		local = fz_cstr(addr, at != NULL ? (size_t)(at - addr) :
		    strlen(addr));
		e = NULL;
		if (at == NULL || fuzz_al_is_local(NULL, at + 1))
			e = aliases_lookup(al, local, at != NULL ? at + 1 :
			    NULL);
		if (e == NULL)
			FZ_CHECK(nout == 1 && strcmp(out[0], addr) == 0);
		free(local);
	} else
		FZ_CHECK(nout == 1 && strcmp(out[0], addr + 1) == 0);
	aliases_list_free(out, nout);
}

/*
 * fuzz_al_resolve - aliases_resolve of a local part in example.com: every
 * result is local@domain (a bare name completed with @origin.test)
 */
static void
fuzz_al_resolve(struct aliases *al, const char *lp)
{
	struct aliases *tabs[1] = { al };
	struct aliases_query q = { tabs, 1, "+-", "origin.test",
	    fuzz_al_is_local, NULL };
	char	**out;
	size_t	 nout, i;
	int	 r;

	if (strchr(lp, '@') != NULL || strlen(lp) > ADDR_LOCAL_MAX)
		return;
	r = aliases_resolve(&q, lp, "example.com", &out, &nout);
	FZ_CHECK(r >= -1 && r <= 1);
	if (r != 1) {
		FZ_CHECK(out == NULL && nout == 0);
		return;
	}
	FZ_CHECK(nout >= 1 && nout <= ALIASES_MAX_RESULTS);
	for (i = 0; i < nout; i++)
		FZ_CHECK(strchr(out[i], '@') != NULL);
	aliases_list_free(out, nout);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aliases *al;
	const uint8_t *p, *end, *nl, *colon;
	char	*text, *name;
	char	**out;
	size_t	 i, nexp = 0, nout;

	text = fz_memdup(data, size);
	al = aliases_parse_buf(text, size, "aliases");
	FZ_CHECK(al != NULL);
	FZ_CHECK(al->nwarn <= ALIASES_WARN_MAX + 1);
	for (i = 0; i < al->nwarn; i++)
		FZ_CHECK(strncmp(al->warn[i], "aliases", 7) == 0);
	for (i = 0; i < al->n; i++)
		fuzz_al_ent(al, &al->ent[i]);
	for (i = 0; i < al->n && nexp < FUZZ_AL_EXPAND / 2; i++, nexp++)
		fuzz_al_expand(al, al->ent[i].name);

	/* names from the input: each line's first field */
	p = data;
	end = data + size;
	while (p < end && nexp < FUZZ_AL_EXPAND) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((colon = memchr(p, ':', (size_t)(nl - p))) == NULL)
			colon = nl;
		name = fz_cstr(p, (size_t)(colon - p));
		if (memchr(p, '\0', (size_t)(colon - p)) == NULL) {
			(void)aliases_lookup(al, name, NULL);
			(void)aliases_lookup(al, name, "example.com");
			fuzz_al_expand(al, name);
			fuzz_al_resolve(al, name);
			nexp++;
		}
		free(name);
		p = nl + (nl < end);
	}
	FZ_CHECK(aliases_expand(al, "", fuzz_al_is_local, NULL, &out,
	    &nout) == -1 && errno == EINVAL);
	FZ_CHECK(aliases_lookup(al, NULL, NULL) == NULL);
	aliases_free(al);
	free(text);
	return 0;
}
