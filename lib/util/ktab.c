/*
 * ktab.c - a table from case-insensitive string keys to entry numbers.
 *
 * Interface: ktab.h.  Open addressing with linear probing: the slot count
 * is a power of two (64 at first), doubled when an insert would fill more
 * than half of it, so a probe always ends at an empty slot.  The hash is
 * FNV-1a over the ASCII-lowercased key; a lookup of local ["@" domain]
 * hashes the two parts and the '@' between them as one string.
 *
 * Errors: none; running out of memory aborts (xcalloc).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ktab.h"
#include "util.h"

#define KTAB_MIN_CAP	64

struct ktab_slot {
	const char	*key;	/* borrowed; NULL = empty */
	size_t		 e;	/* entry number */
};

struct ktab {
	struct ktab_slot *slot;
	size_t		 cap;	/* 0 or a power of two */
	size_t		 n;	/* keys in the table */
};

/* ktab_hash - FNV-1a over local ["@" domain], case-folded */
static uint64_t
ktab_hash(const char *local, const char *domain)
{
	uint64_t h = UINT64_C(14695981039346656037);
	const char *s;

	for (s = local; *s != '\0'; s++)
		h = (h ^ (uint64_t)util_tolower_ascii((unsigned char)*s)) *
		    UINT64_C(1099511628211);
	if (domain != NULL) {
		h = (h ^ '@') * UINT64_C(1099511628211);
		for (s = domain; *s != '\0'; s++)
			h = (h ^ (uint64_t)util_tolower_ascii(
			    (unsigned char)*s)) * UINT64_C(1099511628211);
	}
	return h;
}

/* ktab_key_eq - key equals local ["@" domain], ignoring ASCII case */
static int
ktab_key_eq(const char *key, const char *local, const char *domain)
{
	size_t	 ll = strlen(local);

	if (util_strncasecmp_ascii(key, local, ll) != 0)
		return 0;
	if (domain == NULL)
		return key[ll] == '\0';
	return key[ll] == '@' &&
	    util_strcasecmp_ascii(key + ll + 1, domain) == 0;
}

/* ktab_place - put key/e into the first empty slot of its probe run */
static void
ktab_place(struct ktab_slot *slot, size_t cap, const char *key, size_t e)
{
	size_t	 i;

	i = (size_t)ktab_hash(key, NULL) & (cap - 1);
	while (slot[i].key != NULL)
		i = (i + 1) & (cap - 1);
	slot[i].key = key;
	slot[i].e = e;
}

/* ktab_grow - move every key into a table of ncap slots */
static void
ktab_grow(struct ktab *t, size_t ncap)
{
	struct ktab_slot *nslot;
	size_t	 j;

	nslot = xcalloc(ncap, sizeof(*nslot));
	for (j = 0; j < t->cap; j++)
		if (t->slot[j].key != NULL)
			ktab_place(nslot, ncap, t->slot[j].key, t->slot[j].e);
	free(t->slot);
	t->slot = nslot;
	t->cap = ncap;
}

/* ktab_new - an empty table with room for n keys before it grows */
struct ktab *
ktab_new(size_t n)
{
	struct ktab *t;
	size_t	 cap;

	t = xcalloc(1, sizeof(*t));
	if (n == 0)
		return t;	/* the first insert makes KTAB_MIN_CAP slots */
	for (cap = KTAB_MIN_CAP; cap / 2 < n && cap <= SIZE_MAX / 4; cap *= 2)
		;
	ktab_grow(t, cap);
	return t;
}

/* ktab_put - add key (not yet present) for entry e; grow at half full */
void
ktab_put(struct ktab *t, const char *key, size_t e)
{
	if ((t->n + 1) * 2 > t->cap)
		ktab_grow(t, t->cap == 0 ? KTAB_MIN_CAP : t->cap * 2);
	ktab_place(t->slot, t->cap, key, e);
	t->n++;
}

/* ktab_find - entry number of local ["@" domain], or -1 */
long
ktab_find(const struct ktab *t, const char *local, const char *domain)
{
	size_t	 i;

	if (t == NULL || t->cap == 0)
		return -1;
	i = (size_t)ktab_hash(local, domain) & (t->cap - 1);
	for (; t->slot[i].key != NULL; i = (i + 1) & (t->cap - 1))
		if (ktab_key_eq(t->slot[i].key, local, domain))
			return (long)t->slot[i].e;
	return -1;
}

/* ktab_free - release the table (not the keys) */
void
ktab_free(struct ktab *t)
{
	if (t == NULL)
		return;
	free(t->slot);
	free(t);
}
