/*
 * ktab.h - a table from case-insensitive string keys to entry numbers.
 *
 * The index of the users and aliases files: the caller keeps its entries
 * in an array and puts each entry's key here with the entry's number.
 * Keys compare ignoring ASCII case only (no locale).  A key is looked up
 * as local ["@" domain], so a caller need not join the two into one string:
 * ktab_find(t, "alice", "example.com") finds the key "Alice@Example.COM".
 *
 * Keys are borrowed, not copied: each must stay valid and unchanged while
 * the table lives.  A key must not be put twice (look it up first).
 *
 * Errors: none; running out of memory aborts (the x* allocators of util.h).
 */
#ifndef YOUJU_KTAB_H
#define YOUJU_KTAB_H

#include <stddef.h>

struct ktab;

struct ktab	*ktab_new(size_t);
void		 ktab_put(struct ktab *, const char *, size_t);
long		 ktab_find(const struct ktab *, const char *, const char *);
void		 ktab_free(struct ktab *);

#endif
