/*
 * users.h - the users file (Dovecot passwd-file compatible).
 *
 *	user[@domain]:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields
 *
 * Blank lines and lines starting with '#' are ignored.  Only the first two
 * fields are required; uid/gid may be empty (the mailbox_owner is used),
 * as may home (mailbox_base/DOMAIN/USER is used).  A password without a
 * {SCHEME} prefix is taken as CRYPT (Dovecot's default).  Lines that are
 * malformed (no ':' after the name, a name over 320 bytes, a bad uid/gid,
 * a line over 4096 bytes, a name with control characters or white space,
 * a duplicate name) are skipped and listed in the warnings.
 *
 * Details: a line whose first non-blank character is '#' is a comment;
 * a trailing CR is removed (CR LF files work).  Also skipped with a
 * warning: a control character other than TAB anywhere in the line, uid
 * or gid 0 (as Dovecot does: no mail is ever delivered as root) or not a
 * number in 1..4294967294, a home that is not an absolute path, an empty
 * name, a name with '@' and an empty local part or an invalid domain.
 * The name splits at its last '@'.  The 8th field (extra) is the rest of
 * the line and may contain ':'.  The first of duplicate names (compared
 * case-insensitively) wins.
 *
 * Lookup: "local@domain" case-insensitively; an entry without a domain
 * matches the local part in any domain the caller has decided is local.
 */
#ifndef YOUJU_USERS_H
#define YOUJU_USERS_H

#include <sys/types.h>
#include <stddef.h>

#define USERS_LINE_MAX	4096
#define USERS_NAME_MAX	320
#define USERS_FILE_MAX	(64 * 1024 * 1024)	/* bigger files are refused */
#define USERS_WARN_MAX	100		/* then one "too many warnings" */
#define USERS_SCHEME_MAX 31		/* longest {SCHEME} name */

struct users_ent {
	char	*name;		/* as written, domain part lowercased */
	char	*local;		/* part before the last '@' (or the whole name) */
	char	*domain;	/* lowercased, "" when none */
	char	*pass;		/* "{SCHEME}hash", or "" */
	long	 uid;		/* -1 when empty */
	long	 gid;		/* -1 when empty */
	char	*gecos;
	char	*home;		/* "" when empty */
	char	*shell;
	char	*extra;
	int	 line;
};

struct users {
	struct users_ent *ent;
	size_t		  n;
	char		**warn;		/* "path:line: message" */
	size_t		  nwarn;
	void		 *index;	/* private lookup index */
};

/* users_load - NULL with err on I/O failure; malformed lines -> warnings */
struct users *users_load(const char *, char *, size_t);
struct users *users_parse_buf(const char *, size_t, const char *);
/*
 * users_find - with a non-empty domain: the entry "local@domain", else an
 * entry without a domain named local.  With domain NULL or "": local is a
 * whole name as written in the file (a SASL login: "alice" matches only
 * the entry "alice", "alice@example.com" only that entry).  Names compare
 * ASCII case-insensitively.  NULL when there is no such user.
 */
const struct users_ent *users_find(const struct users *, const char *,
	    const char *);
void	 users_free(struct users *);
/*
 * users_scheme - the scheme name of a password field, uppercased ("CRYPT"
 * when there is no {SCHEME} prefix); "" for an empty password or a
 * malformed prefix ("{" without "}", characters other than [A-Za-z0-9._-],
 * over USERS_SCHEME_MAX) - callers must refuse to authenticate then.
 * Returns the length like strlcpy.
 */
size_t	 users_scheme(const char *, char *, size_t);
/* users_password_hash - the field after a well-formed "{SCHEME}" prefix */
const char *users_password_hash(const char *);
/*
 * users_login_problem - why the entry can never log in, in the buffer
 * ("no password", "clear-text password? ...", "unknown password scheme
 * {X}", "truncated SHA512-CRYPT hash", ... - see passwd_problem in passwd.h),
 * or NULL when its password field looks usable.  No hashing: cheap enough
 * for every line of a big file.  Mail for such a user is still delivered.
 */
const char *users_login_problem(const struct users_ent *, char *, size_t);

#endif
