/*
 * maps.h - Postfix lookup tables: "type:name" opens a table, a lookup
 * answers found (with a value), not found, or a temporary error.
 *
 * Types (youju-tables(5) is the admin's description):
 *	hash:PATH	Berkeley DB hash file PATH.db (through db.c), built
 *			from PATH by maps_build ("mailctl map PATH"), in
 *			Postfix's format: a file postmap(1) made works, and
 *			postmap -q reads ours
 *	texthash:PATH	the same source format, read into memory
 *	cidr:PATH	network/prefix patterns (cidr_table(5))
 *	regexp:PATH	/pattern/flags result (regexp_table(5)), POSIX
 *			syntax, matched by PCRE2
 *	pcre:PATH	/pattern/flags result (pcre_table(5)), PCRE2
 *	inline:{ k=v, { k = v with spaces } }
 *	cidr:{ {rule}, ... }, regexp:{ ... }, pcre:{ ... }  rules inline
 *
 * Keys of hash, texthash and inline tables are folded to lower case (ASCII
 * letters only) when the table is built and when it is searched; pattern
 * tables (cidr, regexp, pcre) see the key as given and are searched with
 * the whole key only (maps_is_pattern).
 *
 * A changed file is picked up without a restart: every lookup first checks
 * the file the table was read from (fstat on a descriptor kept since the
 * open, so this works inside a chroot too, and a stat of the path where it
 * can be reached): when it was replaced (renamed over, removed) or
 * modified, the table is read again from its path before the lookup.  When
 * that fails (the path cannot be reached from a chroot, the new file has
 * errors), the old contents stay in use, the reason is logged once, and
 * maps_stale() says so: a daemon then retires and master starts a new one
 * (Postfix: "table has changed -- restarting").
 *
 * Errors: maps_open returns NULL with the reason in err; a lookup's
 * temporary error (MAPS_TEMPFAIL) leaves its reason in maps_error().
 * Findings in a file are "FILE:LINE: text"; any error refuses the table.
 */
#ifndef YOUJU_MAPS_H
#define YOUJU_MAPS_H

#include <stddef.h>

#include "buf.h"

#define MAPS_FOUND	0
#define MAPS_NOTFOUND	1
#define MAPS_TEMPFAIL	(-1)

#define MAPS_FILE_MAX	(256 * 1024 * 1024)	/* a source file */
#define MAPS_LINE_MAX	65536	/* a logical line of a source file */
#define MAPS_KEY_MAX	4096	/* a key of hash, texthash, inline */
#define MAPS_VALUE_MAX	65536	/* a value, also after $n substitution */
#define MAPS_REPORT_MAX	100	/* findings passed on per report */

struct map;

/*
 * A sink for findings: fn(arg, error, "FILE:LINE: text") for at most
 * MAPS_REPORT_MAX of them, then one "FILE: too many ..."; nerr and nwarn
 * count them all.  NULL where a function takes one: warnings are logged.
 */
struct maps_report {
	void	(*fn)(void *, int, const char *);
	void	*arg;
	int	 nerr;
	int	 nwarn;
	/* MAPS_CHK_ACCESS: restriction class names a value may use
	   (NULL-terminated, or NULL) */
	const char *const *classes;
};

/*
 * maps_open - open "type:name"; NULL with why in err (the first error;
 * every finding goes to report as well)
 */
struct map *maps_open(const char *, struct maps_report *, char *, size_t);
void	 maps_close(struct map *);
/*
 * maps_lookup - look a key up as given (postmap -q): MAPS_FOUND with the
 * value in val, MAPS_NOTFOUND, or MAPS_TEMPFAIL (maps_error says why)
 */
int	 maps_lookup(struct map *, const char *, struct buf *);
const char *maps_error(const struct map *);
const char *maps_spec(const struct map *);
/* maps_is_pattern - cidr, regexp, pcre: the whole key only, no parts */
int	 maps_is_pattern(const struct map *);
/*
 * maps_changed - has the file behind the table changed since it was
 * read (1), or not (0; always 0 for inline tables)
 */
int	 maps_changed(struct map *);
/* maps_stale - changed, and could not be read again (see above) */
int	 maps_stale(const struct map *);
/*
 * maps_update - what every lookup does first, now: a changed file is
 * read again; returns maps_stale()
 */
int	 maps_update(struct map *);

/*
 * Postfix's lookup orders (access(5)).  Each tries the keys in order and
 * stops at the first one found, whatever its value (DUNNO included: the
 * caller gives it its meaning); a temporary error stops the search too.
 * The key that was found is copied into key (may be NULL).
 */
struct maps_order {
	const char	*delims;	/* recipient_delimiter ("" or NULL:
					   no extensions) */
	int		 parent;	/* parent_domain_matches_subdomains
					   lists smtpd_access_maps */
	const char	*null_key;	/* smtpd_null_access_lookup_key */
};

/*
 * maps_find_addr - an email address: user+ext@domain, user@domain,
 * domain and its parents (maps_find_domain), user+ext@, user@; the null
 * address "" is looked up as null_key only, and an address without '@'
 * as itself only.  Pattern tables see the whole address only.
 */
int	 maps_find_addr(struct map *, const struct maps_order *,
	    const char *, struct buf *, struct buf *);
/*
 * maps_find_domain - a domain or host name: the name, then each parent
 * ("sub.example.com", "example.com", "com"), or with parent = 0 the
 * parents with a leading dot (".example.com", ".com"); an IP address is
 * looked up as itself only
 */
int	 maps_find_domain(struct map *, const struct maps_order *,
	    const char *, struct buf *, struct buf *);
/*
 * maps_find_net - a client address: the address, then shorter networks
 * by cutting the last ".octet" (IPv4) or ":part" (IPv6) off the text
 */
int	 maps_find_net(struct map *, const char *, struct buf *,
	    struct buf *);
/* maps_find_client - check_client_access: the name, then the address */
int	 maps_find_client(struct map *, const struct maps_order *,
	    const char *, const char *, struct buf *, struct buf *);

/*
 * maps_build - postmap: build PATH.db from the source file PATH.  The new
 * table is written in a private directory next to PATH.db and renamed over
 * it (readers see the old or the new table, never a part); an existing
 * PATH.db keeps its owner, group and mode, a new one gets the source
 * file's (without execute bits).  0, or -1 with nothing changed when the
 * source has an error (each "PATH:LINE: ..." to report) or the table
 * cannot be written (err).
 */
int	 maps_build(const char *, struct maps_report *, char *, size_t);

#define MAPS_CHK_ACCESS	0x01	/* every value is an access(5) action */

/*
 * maps_check - is a table usable: the type known, the file there and
 * free of errors (patterns compile), a hash: table's .db not older than
 * its source, and with MAPS_CHK_ACCESS every value an access(5) action
 * (regexp/pcre results with $n are checked up to the substitution).
 * Findings go to report; returns the number of errors (0: usable).
 */
int	 maps_check(const char *, int, struct maps_report *);

/*
 * maps_split_ext - Postfix's recipient_delimiter split of a local part:
 * the length of the base ("user" of "user+ext"), or 0 when the local
 * part has no extension or is one Postfix never splits (postmaster,
 * mailer-daemon, double-bounce, owner-x and x-request when '-' is a
 * delimiter, an empty base)
 */
size_t	 maps_split_ext(const char *, size_t, const char *);

#endif
