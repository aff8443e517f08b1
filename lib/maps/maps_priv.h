/*
 * maps_priv.h - what the table types share inside lib/ (maps.c,
 * maps_text.c, maps_db.c, maps_cidr.c, maps_re.c).  Not for use outside
 * lib/.
 *
 * Each type is one row of maps_types[] (maps.c): its name, flags and
 * three functions.  load() gets the source (the file's bytes, or the
 * rules of a "type:{...}" spec) and returns the type's state, or NULL
 * after reporting at least one error; lookup() answers for one key (the
 * key already folded for MAPS_T_FOLD types); free() releases the state.
 */
#ifndef YOUJU_MAPS_PRIV_H
#define YOUJU_MAPS_PRIV_H

#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>

#include "buf.h"
#include "maps.h"

#define MAPS_T_FILE	0x01	/* name is a file */
#define MAPS_T_PATTERN	0x02	/* the whole key only */
#define MAPS_T_FOLD	0x04	/* keys folded to lower case */
#define MAPS_T_BRACES	0x08	/* "type:{ {rule}, ... }" allowed */
#define MAPS_T_DB	0x10	/* hash: the file is NAME.db, not read */

/* the source of a table */
struct maps_src {
	const char	*where;		/* the file, or "type:{...}" */
	const char	*path;		/* MAPS_T_DB: the .db to open */
	const char	*text;		/* the contents (NUL-terminated) */
	size_t		 len;
	int		 check;		/* MAPS_CHK_* when checking */
};

struct maps_type {
	const char	*name;
	int		 flags;
	void		*(*load)(const struct maps_src *,
			    struct maps_report *);
	/* MAPS_FOUND / MAPS_NOTFOUND / MAPS_TEMPFAIL (why in err) */
	int		 (*lookup)(void *, const char *, struct buf *, char *,
			    size_t);
	void		 (*free)(void *);
};

/* maps_report_add - one finding "WHERE:LINE: text" (line 0: no line) */
void	 maps_report_add(struct maps_report *, int, const char *, int,
	    const char *, ...) __attribute__((format(printf, 5, 6)));

/*
 * maps_lines - each logical line of a source: blank lines and lines whose
 * first non-blank byte is '#' are skipped, a line that starts with white
 * space continues the previous one (its text is appended without the
 * newline), CR before LF is dropped, trailing white space is cut.
 * cb(arg, line, lineno) gets a modifiable copy (NUL-terminated, at most
 * MAPS_LINE_MAX bytes) and the number of its first physical line; a cb
 * that returns -1 stops the walk.  Errors (reported): a continuation line
 * with nothing to continue, a NUL byte, a line too long.  Returns -1 when
 * cb stopped it, else 0.
 */
int	 maps_lines(const struct maps_src *, struct maps_report *,
	    int (*)(void *, char *, int), void *);
/*
 * maps_split_kv - split "key whitespace value": the key ends at white
 * space outside double quotes and not after a backslash (a backslash
 * escapes the next byte; quotes and backslashes stay in the key, as
 * postmap keeps them).  0 with *key and *value pointing into line, or -1
 * with why in err.
 */
int	 maps_split_kv(char *, char **, char **, char *, size_t);
/*
 * maps_braces - the elements of "{ a, {b c}, d }": separated by commas
 * and white space; an element in braces may hold both, and loses its
 * braces and the white space inside them.  The elements are copied into
 * out, each followed by '\n' (the rules of a "type:{...}" spec, or the
 * name=value pairs of inline:).  0, or -1 with why in err.
 */
int	 maps_braces(const char *, struct buf *, char *, size_t);
/*
 * maps_read_file - a file's bytes into text, read whole while it does not
 * change; the descriptor stays open in *fdp, its fstat in *sb.  0, or -1
 * with the reason (no file name) in err.
 */
int	 maps_read_file(const char *, struct buf *, int *, struct stat *,
	    char *, size_t);
/* maps_text_each - cb(arg, key, value) for every entry of a texthash */
int	 maps_text_each(void *, int (*)(void *, const char *, const char *),
	    void *);
/* maps_is_space - the white space of a source line (ASCII) */
int	 maps_is_space(int);

/*
 * The if ... endif blocks of a pattern table (cidr, regexp, pcre) while it
 * is read: the rule indexes of the ifs not closed yet.
 */
#define MAPS_IF_MAX	64	/* nesting */
struct maps_ifs {
	size_t		 open[MAPS_IF_MAX];
	size_t		 nopen;
};

/* maps_if_open - an if at rule index i; -1 with why in err: too deep */
int	 maps_if_open(struct maps_ifs *, size_t, char *, size_t);
/*
 * maps_if_close - an endif (rest: the text after the word): the index of
 * its if, or -1 with why in err (text after it, no if to close)
 */
long	 maps_if_close(struct maps_ifs *, const char *, char *, size_t);
/* maps_if_end - the source is read: report each if left open */
void	 maps_if_end(const struct maps_ifs *, const struct maps_src *,
	    struct maps_report *);

/* the types */
void	*maps_text_load(const struct maps_src *, struct maps_report *);
void	*maps_inline_load(const struct maps_src *, struct maps_report *);
int	 maps_text_lookup(void *, const char *, struct buf *, char *, size_t);
void	 maps_text_free(void *);
void	*maps_db_load(const struct maps_src *, struct maps_report *);
int	 maps_db_lookup(void *, const char *, struct buf *, char *, size_t);
void	 maps_db_free(void *);
void	*maps_cidr_load(const struct maps_src *, struct maps_report *);
int	 maps_cidr_lookup(void *, const char *, struct buf *, char *, size_t);
void	 maps_cidr_free(void *);
void	*maps_regexp_load(const struct maps_src *, struct maps_report *);
void	*maps_pcre_load(const struct maps_src *, struct maps_report *);
int	 maps_re_lookup(void *, const char *, struct buf *, char *, size_t);
void	 maps_re_free(void *);

/*
 * maps_check_value - with MAPS_CHK_ACCESS, report a value (of the line)
 * that is no access(5) action.  subst: the value has $n substitutions;
 * an unknown word, or one that starts with '$', is then no error (it may
 * come from the key).
 */
void	 maps_check_value(const struct maps_src *, struct maps_report *,
	    int, const char *, int);

#endif
