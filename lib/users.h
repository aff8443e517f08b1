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
 * Lookup: "local@domain" case-insensitively; an entry without a domain
 * matches the local part in any domain the caller has decided is local.
 */
#ifndef YOUJU_USERS_H
#define YOUJU_USERS_H

#include <sys/types.h>
#include <stddef.h>

#define USERS_LINE_MAX	4096
#define USERS_NAME_MAX	320

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
const struct users_ent *users_find(const struct users *, const char *,
	    const char *);
void	 users_free(struct users *);
/* users_scheme - the scheme name of a password field ("CRYPT" by default) */
size_t	 users_scheme(const char *, char *, size_t);

#endif
