/*
 * access.h - the actions of Postfix's access(5) tables: a table value such
 * as "REJECT no thanks", "550 5.7.1 go away", "OK" or a list of
 * restriction names, parsed into a struct access_action.
 *
 * Words are matched without regard to case, as Postfix does; the first
 * word decides.  Results:
 *	OK, RELAY, or all digits	ACCESS_OK (trailing text ignored)
 *	DUNNO				ACCESS_DUNNO (trailing text ignored)
 *	REJECT [text]			ACCESS_REJECT (access_map_reject_code)
 *	DEFER [text]			ACCESS_DEFER (access_map_defer_code)
 *	DEFER_IF_REJECT [text]		ACCESS_DEFER_IF_REJECT
 *	DEFER_IF_PERMIT [text]		ACCESS_DEFER_IF_PERMIT
 *	4NN text, 5NN text		ACCESS_CODE, code 4NN / 5NN
 *	DISCARD [text], HOLD [text]	ACCESS_DISCARD, ACCESS_HOLD
 *	WARN [text], INFO [text]	ACCESS_WARN, ACCESS_INFO
 *	PREPEND name: value		ACCESS_PREPEND, text the header
 *	REDIRECT user@domain		ACCESS_REDIRECT, text the address
 *	BCC user@domain			ACCESS_BCC, text the address
 *	restriction names		ACCESS_RESTRICT, the words (names in
 *					lower case) checked against
 *					lib/maps/restr.c's table and the given
 *					restriction class names
 * A text may start with an enhanced status code (RFC 3463) "X.Y.Z": it is
 * taken into dsn; the default is 5.7.1 (REJECT, 5NN) or 4.7.1 (DEFER*,
 * 4NN).  The class of the code must be the reply's.
 *
 * Errors (access_parse returns -1 and says why): an empty value, an
 * unknown word, a restriction without its argument, a lookup table in a
 * restriction list (Postfix refuses it too: use a restriction class), a
 * 4NN/5NN without text (Postfix would take "550" alone as an all-digit
 * OK), a code that is not 4NN or 5NN, a status code of the wrong class,
 * a PREPEND without "name:", control characters or more than
 * ACCESS_TEXT_MAX bytes of text, REDIRECT or BCC without exactly one
 * address, and FILTER (a content filter transport, which youju has no
 * counterpart for).
 */
#ifndef YOUJU_ACCESS_H
#define YOUJU_ACCESS_H

#include <stddef.h>

#define ACCESS_TEXT_MAX	512

enum access_kind {
	ACCESS_OK,
	ACCESS_DUNNO,
	ACCESS_REJECT,
	ACCESS_DEFER,
	ACCESS_DEFER_IF_REJECT,
	ACCESS_DEFER_IF_PERMIT,
	ACCESS_CODE,
	ACCESS_DISCARD,
	ACCESS_HOLD,
	ACCESS_WARN,
	ACCESS_INFO,
	ACCESS_PREPEND,
	ACCESS_RESTRICT,
	ACCESS_REDIRECT,
	ACCESS_BCC
};

struct access_action {
	enum access_kind kind;
	int		 code;		/* ACCESS_CODE: 400..599, else 0 */
	char		 dsn[16];	/* "X.Y.Z" for the reply kinds, else "" */
	char		*text;		/* the text, "" when none */
	char		**words;	/* ACCESS_RESTRICT: the list */
	size_t		 nwords;
};

/*
 * access_parse - a table value into *a (free with access_free); classes
 * is a NULL-terminated list of restriction class names, or NULL.  0, or
 * -1 with why in err and *a empty.
 */
int	 access_parse(const char *, const char *const *,
	    struct access_action *, char *, size_t);
void	 access_free(struct access_action *);
/*
 * access_dsn_len - the length of an RFC 3463 code "C.S.D" at the start of
 * text followed by white space or the end (C 2, 4 or 5; S and D one to
 * three digits), or 0
 */
size_t	 access_dsn_len(const char *);
/* access_kind_name - "OK", "REJECT", ... ("restrictions" for the list) */
const char *access_kind_name(enum access_kind);

#endif
