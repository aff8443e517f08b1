/*
 * test_ktab.c - tests for lib/util/ktab.c (odd lookups first), and the ASCII
 * case rule of lib/util/util.c that its keys compare by.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktab.h"
#include "t.h"
#include "util.h"

/* keys of the lookup table, entry number = index */
static const char *const test_keys[] = {
	"alice",		/* 0 */
	"Bob@Example.COM",	/* 1 */
	"bob",			/* 2 */
	"a@b@c.example",	/* 3: '@' in the local part */
	"caf\xc3\xa9",		/* 4: bytes >= 0x80 are not folded */
	"x@",			/* 5 */
	"",			/* 6 */
};

/* test_odd - a NULL or empty table, and lookups that must miss */
static void
test_odd(void)
{
	struct ktab *t;

	T_EQ_INT(ktab_find(NULL, "a", NULL), -1, "NULL table");
	T_EQ_INT(ktab_find(NULL, "a", "b"), -1, "NULL table with a domain");
	ktab_free(NULL);	/* a no-op: nothing to check but not crashing */

	t = ktab_new(0);
	T_EQ_INT(ktab_find(t, "a", NULL), -1, "empty table");
	T_EQ_INT(ktab_find(t, "", NULL), -1, "empty key, empty table");
	T_EQ_INT(ktab_find(t, "", ""), -1, "empty parts, empty table");
	ktab_free(t);

	t = ktab_new(1000);
	T_EQ_INT(ktab_find(t, "a", NULL), -1, "empty table with room");
	ktab_free(t);
}

/* test_lookup - case folding and the local ["@" domain] split */
static void
test_lookup(void)
{
	static const struct {
		const char	*local;
		const char	*domain;
		long		 want;
	} tab[] = {
		/* misses first */
		{ "alic", NULL, -1 },
		{ "alicee", NULL, -1 },
		{ "alice", "", -1 },
		{ "bob", "example", -1 },
		{ "bob", "example.com.", -1 },
		{ "bob@example.com", "x", -1 },
		{ "a@b", "c", -1 },
		{ "CAF\xc3\x89", NULL, -1 },
		{ "x", NULL, -1 },
		{ "x@", "", -1 },
		/* hits */
		{ "alice", NULL, 0 },
		{ "ALICE", NULL, 0 },
		{ "bob", "example.com", 1 },
		{ "BOB", "EXAMPLE.com", 1 },
		{ "bob@example.com", NULL, 1 },
		{ "bOb@eXample.cOm", NULL, 1 },
		{ "bob", NULL, 2 },
		{ "a@b", "c.example", 3 },
		{ "a", "b@c.example", 3 },	/* the same string */
		{ "A@B@C.EXAMPLE", NULL, 3 },
		{ "CAF\xc3\xa9", NULL, 4 },
		{ "x", "", 5 },
		{ "x@", NULL, 5 },
		{ "", NULL, 6 },
	};
	struct ktab *t;
	char	 what[128];
	size_t	 i, hint;

	for (hint = 0; hint <= 100; hint += 100) {
		t = ktab_new(hint);
		for (i = 0; i < NELEM(test_keys); i++) {
			T_EQ_INT(ktab_find(t, test_keys[i], NULL), -1,
			    "not there before it is put");
			ktab_put(t, test_keys[i], i);
		}
		for (i = 0; i < NELEM(tab); i++) {
			snprintf(what, sizeof(what), "hint %zu: \"%s\" @ %s",
			    hint, tab[i].local, tab[i].domain == NULL ?
			    "(none)" : tab[i].domain);
			T_EQ_INT(ktab_find(t, tab[i].local, tab[i].domain),
			    tab[i].want, what);
		}
		ktab_free(t);
	}
}

/* test_many - the table grows (and is sized by its hint) and finds all */
static void
test_many(void)
{
	struct ktab *t;
	char	**keys;
	char	 local[32], domain[32];
	size_t	 i, n = 20000, hint;
	size_t	 found, wrong;

	keys = xcalloc(n, sizeof(*keys));
	for (i = 0; i < n; i++) {
		snprintf(local, sizeof(local), "user%zu@d%zu.example", i,
		    i % 7);
		keys[i] = xstrdup(local);
	}
	for (hint = 0; hint <= n; hint += n) {
		t = ktab_new(hint);
		for (i = 0; i < n; i++)
			ktab_put(t, keys[i], i);
		found = wrong = 0;
		for (i = 0; i < n; i++) {
			snprintf(local, sizeof(local), "USER%zu", i);
			snprintf(domain, sizeof(domain), "D%zu.Example",
			    i % 7);
			if (ktab_find(t, local, domain) == (long)i)
				found++;
			if (ktab_find(t, local, NULL) != -1)
				wrong++;
		}
		snprintf(local, sizeof(local), "hint %zu: all %zu found",
		    hint, n);
		T_EQ_INT(found, n, local);
		T_EQ_INT(wrong, 0, "no local part alone matches");
		T_EQ_INT(ktab_find(t, "user1", "d2.example"), -1,
		    "wrong domain");
		ktab_free(t);
	}
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* test_case - util_strncasecmp_ascii and util_tolower_ascii */
static void
test_case(void)
{
	static const struct {
		const char	*a, *b;
		size_t		 n;
		int		 sign;	/* of the result */
	} tab[] = {
		{ "", "", 0, 0 },
		{ "abc", "xyz", 0, 0 },
		{ "IPv6", "ipv6", 4, 0 },
		{ ":INCLUDE:/x", ":include:", 9, 0 },
		{ "abc", "ABD", 2, 0 },
		{ "abc", "ABD", 3, -1 },
		{ "ab", "abc", 3, -1 },
		{ "abc", "ab", 3, 1 },
		{ "ab", "AB", 100, 0 },
		{ "\xc3\xa9", "\xc3\x89", 2, 1 },	/* no locale */
		{ "[", "{", 1, -1 },	/* '[' is not a letter */
		{ "@", "`", 1, -1 },
	};
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(tab); i++) {
		r = util_strncasecmp_ascii(tab[i].a, tab[i].b, tab[i].n);
		T_EQ_INT(r > 0 ? 1 : r < 0 ? -1 : 0, tab[i].sign,
		    "util_strncasecmp_ascii");
	}
	T_EQ_INT(util_tolower_ascii('A'), 'a', "A");
	T_EQ_INT(util_tolower_ascii('Z'), 'z', "Z");
	T_EQ_INT(util_tolower_ascii('@'), '@', "@");
	T_EQ_INT(util_tolower_ascii('['), '[', "[");
	T_EQ_INT(util_tolower_ascii(0xc9), 0xc9, "0xc9 as is");
	T_EQ_INT(util_strcasecmp_ascii("Example.COM", "example.com"), 0,
	    "util_strcasecmp_ascii");
}

int
main(void)
{
	t_plan(92);
	test_odd();
	test_lookup();
	test_many();
	test_case();
	return t_done();
}
