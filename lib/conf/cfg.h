/*
 * config.h - main.cf: one table of parameters and the parser.
 *
 * Syntax (Postfix): "name = value"; '#' at the start of a line (after
 * optional white space) is a comment; a line that starts with white space
 * continues the previous one (comment and blank lines in between do not
 * end it).  "$name", "${name}" and "$(name)" expand to another parameter's
 * value, "${name?text}" to text when name is not empty, "${name:text}" to
 * text when it is; "$$" is a literal '$'.  Values are expanded after every
 * change, recursion is bounded (CFG_DEPTH_MAX, loops are errors), names
 * nobody set expand to "" and are reported by cfg_check().
 *
 * Every parameter any youju program knows is in cfg_params[] (cfg_params.c)
 * with its type, default and bounds.  Values are checked against type and
 * bounds when the file is loaded and when an override (-o) is applied.
 * Unknown names are kept (so $name works) and listed by cfg_unknown().
 * A failed cfg_parse_buf() or cfg_set() leaves the cfg unchanged.
 *
 * Errors: cfg_load()/cfg_set() return NULL/-1 and write a message naming the
 * file, line and parameter, the bad value and what is allowed into err.
 *
 * Note: sources include this file as "config.h"; the build has no autoconf
 * config header (configure.ac has no AC_CONFIG_HEADERS).
 */
#ifndef YOUJU_CONFIG_H
#define YOUJU_CONFIG_H

#include <stddef.h>

enum cfg_type {
	CFG_STR,	/* free text */
	CFG_INT,	/* decimal integer within [min, max] */
	CFG_BOOL,	/* yes / no */
	CFG_TIME,	/* number + optional unit s m h d w; stored as seconds */
	CFG_SIZE,	/* byte count (decimal integer) within [min, max] */
	CFG_LIST	/* comma and/or white space separated list */
};

#define CFG_F_YOUJU	0x01	/* youju-only (not a Postfix parameter) */
#define CFG_F_ACCEPTED	0x02	/* accepted for compatibility, no effect */
#define CFG_F_COMPUTED	0x04	/* default computed at load (myhostname...) */
#define CFG_F_ABSPATH	0x08	/* an absolute path, or empty */
#define CFG_F_MAILDIR	0x10	/* relative path ending in '/' (home_mailbox) */
#define CFG_F_NONEMPTY	0x20	/* the (expanded) value must not be empty */
#define CFG_F_RESTR	0x40	/* a restriction list: an undefined $name
				   in it is an error, not a warning */
#define CFG_F_RAW	0x80	/* not expanded: its $names are the
				   daemon's own (default_rbl_reply) */

#define CFG_LINE_MAX	65536	/* longest physical or logical main.cf line */
#define CFG_FILE_MAX	(4 * 1024 * 1024)	/* longest main.cf */
#define CFG_DEPTH_MAX	20	/* deepest $name expansion */

struct cfg_param {
	const char	*name;
	enum cfg_type	 type;
	const char	*def;		/* default, may contain $name */
	long long	 min;		/* INT/SIZE/TIME bounds (TIME in seconds) */
	long long	 max;
	int		 flags;
	const char	*doc;		/* one-line description */
	char		 unit;		/* TIME: unit of a bare number, 0 = s */
	const char	*choices;	/* "a|b|c": allowed values (LIST: each
					   element); a leading '|' allows "" */
};

extern const struct cfg_param cfg_params[];
extern const size_t cfg_nparams;

struct cfg;

const struct cfg_param *cfg_param_find(const char *);
struct cfg *cfg_new(void);			/* defaults only */
struct cfg *cfg_load(const char *, char *, size_t);	/* path of main.cf */
struct cfg *cfg_load_dir(const char *, char *, size_t);	/* DIR/main.cf */
struct cfg *cfg_dup(const struct cfg *);
int	 cfg_parse_buf(struct cfg *, const char *, size_t, const char *,
	    char *, size_t);
int	 cfg_set(struct cfg *, const char *, const char *, char *, size_t);
void	 cfg_free(struct cfg *);

/* getters: the name must be in cfg_params[] (else: fatal, our own bug) */
const char *cfg_str(const struct cfg *, const char *);	/* expanded */
const char *cfg_raw(const struct cfg *, const char *);	/* unexpanded */
long long cfg_int(const struct cfg *, const char *);
int	 cfg_bool(const struct cfg *, const char *);
long long cfg_time(const struct cfg *, const char *);	/* seconds */
/* cfg_list - the value split like cfg_split_list(); free with cfg_list_free */
char	**cfg_list(const struct cfg *, const char *, size_t *);
void	 cfg_list_free(char **, size_t);

int	 cfg_parse_time(const char *, char, long long *);
int	 cfg_parse_bool(const char *, int *);
char	**cfg_split_list(const char *, size_t *);

/* names set that no table entry knows, NULL-terminated; valid until the
   next change of the cfg */
const char *const *cfg_unknown(const struct cfg *, size_t *);
/*
 * cfg_check - findings about the configuration, one per line, each
 * "error: WHERE: text" or "warning: WHERE: text" (WHERE is "file:line:
 * name" for a value from a file, "name" for one set by cfg_set), into a
 * buffer (truncated to fit); returns their number, and the number of
 * errors in *nerr (may be NULL).  Errors: an undefined $name in a
 * restriction list (CFG_F_RESTR), mailbox_size_limit below
 * message_size_limit, TLS wanted without certificate or key.  Warnings:
 * unknown names nothing refers to, other undefined $names, a setting that
 * overrides an earlier one, suspicious combinations.
 */
int	 cfg_check(const struct cfg *, char *, size_t, int *);
/* cfg_origin - "file:line: name" where a value was set, "name (default)"
   or "name" (set by cfg_set), for messages */
void	 cfg_origin(const struct cfg *, const char *, char *, size_t);
/* cfg_tls_wanted - does smtpd want TLS with this configuration
   (smtpd_tls_security_level, smtpd_use_tls, smtpd_tls_wrappermode) */
int	 cfg_tls_wanted(const struct cfg *);
/* cfg_lookup - expanded value of any name, user-defined too; NULL if unset */
const char *cfg_lookup(const struct cfg *, const char *);
/*
 * cfg_value - a known or user-defined name's value as written (expand 0;
 * the default when main.cf does not set it) or expanded, and whether
 * main.cf sets it; -1 for a name that is neither (mailctl config)
 */
int	 cfg_value(const struct cfg *, const char *, int, const char **, int *);
/* cfg_mark_used - $names in this text (e.g. master.cf -o values) are used */
void	 cfg_mark_used(struct cfg *, const char *);
/* cfg_mark_name - this user-defined name (e.g. NAME_time_limit) is used */
void	 cfg_mark_name(struct cfg *, const char *);
/* the config directory the cfg was loaded from (or "") */
const char *cfg_dir(const struct cfg *);
void	 cfg_set_dir(struct cfg *, const char *);

#endif
