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
 *
 * Details:
 * - Blank lines and lines whose first non-blank character is '#' are
 *   ignored and do not end a logical line; a trailing CR is removed.
 *   ALIASES_LINE_MAX counts the joined logical line.
 * - Targets are separated by commas and/or white space outside double
 *   quotes.  An address target is stored in canonical form (addr_format:
 *   domain lowercased); a bare target must be a Dot-string local name;
 *   "\name" is stored as written and expands to "name" without further
 *   alias lookup (Postfix/sendmail).  Refused (warning, target dropped):
 *   "|cmd", "/file", ":include:file", the same inside double quotes or
 *   after a backslash.  Bad syntax, an unbalanced quote, a control
 *   character (other than TAB) also give a warning.  An alias left with
 *   no usable target is skipped entirely (so mail is not silently
 *   dropped), as is a duplicate name (the first one wins).
 * - Lookup: the second step ("local") only matches names without '@'.
 * - Expansion: a target without '@' is a local name and comes out bare
 *   (aliases_resolve appends @origin); it is looked up as a bare name only.
 *   An address whose domain is not local (is_local NULL = no domain is
 *   local) comes out unchanged.  An alias already on the current
 *   expansion path comes out as the address that reached it (loops
 *   a -> b -> a deliver to a); one already fully expanded elsewhere is
 *   not expanded again.  Results keep their first-seen order and are
 *   unique ignoring ASCII case.  More than ALIASES_MAX_DEPTH nested
 *   aliases -> ELOOP; more than ALIASES_MAX_RESULTS results, or more
 *   than 4 * ALIASES_MAX_RESULTS aliases visited -> E2BIG; an empty
 *   address -> EINVAL.
 * - Warnings are "path:line: message", at most ALIASES_WARN_MAX.
 */
#ifndef YOUJU_ALIASES_H
#define YOUJU_ALIASES_H

#include <stddef.h>

#define ALIASES_MAX_DEPTH	16
#define ALIASES_MAX_RESULTS	1000
#define ALIASES_LINE_MAX	65536
#define ALIASES_FILE_MAX	(64 * 1024 * 1024)	/* bigger: load error */
#define ALIASES_WARN_MAX	100	/* then one "too many warnings" */

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
/*
 * aliases_load_maps - the files of alias_maps (cfg_list words; a "type:"
 * prefix before an absolute path is dropped), as an array of *n tables;
 * NULL with the reason in err when one cannot be read
 */
struct aliases **aliases_load_maps(char **, size_t, size_t *, char *,
	    size_t);
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
/* what aliases_resolve is asked about, and with which settings */
struct aliases_query {
	struct aliases	**tabs;		/* alias_maps, in order */
	size_t		 ntabs;
	const char	*delims;	/* recipient_delimiter, may be "" */
	const char	*origin;	/* completes a bare local name; NULL:
					   the domain asked about */
	int		(*is_local)(void *, const char *);
	void		*arg;
};
/*
 * aliases_resolve - the alias of local@domain in the first table that has
 * it, or (with a delimiter) of the local part without its extension, as
 * final addresses: 1 with them in *out (each local@domain; a bare local
 * name completed with @origin, Postfix's append_at_myorigin, or with the
 * domain asked about when origin is NULL), 0 when no
 * table has an alias for it or it is "a: a" (deliver to itself), -1 on a
 * limit of aliases_expand (errno ELOOP or E2BIG)
 */
int	 aliases_resolve(const struct aliases_query *, const char *,
	    const char *, char ***, size_t *);
void	 aliases_free(struct aliases *);
void	 aliases_list_free(char **, size_t);

#endif
