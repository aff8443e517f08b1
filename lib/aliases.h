/*
 * aliases.h - the aliases file.
 *
 *	# comment
 *	name: target, target, ...
 *	  continuation (a line that starts with white space)
 *
 * name is a local part ("postmaster") or a full address ("info@example.com");
 * names are compared case-insensitively.  A target is a local name or an
 * address local@domain.  Targets that are commands ("|..."), files ("/...")
 * or includes (":include:") are refused: the target is dropped with a
 * warning (security rule: data never becomes code).  Malformed lines (no
 * ':', empty name, over 64 KiB logical line) are skipped with a warning.
 *
 * Expansion (aliases_expand) follows aliases recursively for addresses
 * whose domain is local (decided by the caller's callback) or empty, up to
 * ALIASES_MAX_DEPTH levels and ALIASES_MAX_RESULTS results; a name that
 * reaches itself is delivered to as itself (like Postfix: "a: a, b").
 */
#ifndef YOUJU_ALIASES_H
#define YOUJU_ALIASES_H

#include <stddef.h>

#define ALIASES_MAX_DEPTH	16
#define ALIASES_MAX_RESULTS	1000
#define ALIASES_LINE_MAX	65536

struct aliases_ent {
	char	 *name;		/* lowercased */
	char	**targets;
	size_t	  ntargets;
	int	  line;
};

struct aliases {
	struct aliases_ent *ent;
	size_t		  n;
	char		**warn;
	size_t		  nwarn;
	void		 *index;
};

struct aliases *aliases_load(const char *, char *, size_t);	/* missing file = empty */
struct aliases *aliases_parse_buf(const char *, size_t, const char *);
/* aliases_lookup - tries "local@domain" then "local"; NULL when none */
const struct aliases_ent *aliases_lookup(const struct aliases *, const char *,
	    const char *);
/*
 * aliases_expand - expand addr (local@domain or bare local) into final
 * addresses (malloc'ed strings in *out, count in *nout).  is_local(arg,
 * domain) says whether a domain is ours.  Returns 0, or -1 when a limit was
 * hit (errno ELOOP for depth, E2BIG for results), with *out freed.
 */
int	 aliases_expand(const struct aliases *, const char *,
	    int (*)(void *, const char *), void *, char ***, size_t *);
void	 aliases_free(struct aliases *);
void	 aliases_list_free(char **, size_t);

#endif
