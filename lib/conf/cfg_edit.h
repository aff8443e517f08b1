/*
 * cfg_edit.h - change one parameter in the text of a main.cf, keeping
 * everything else as it is (comments, order, other entries, line ends).
 *
 * The file's rules are cfg_parse_buf's: a line that starts in column 0
 * (and is not blank or a comment) begins an entry "name = value"; lines
 * that start with white space continue it; blank lines and lines whose
 * first non-blank character is '#' are skipped (and stay where they are).
 *
 * cfg_edit() replaces the first entry of name (with its continuation
 * lines, and the comment lines among them) by "name = value", removes later entries of the same name (a
 * later one would override the edit), or appends the line when there is
 * none; with value NULL every entry of name goes.  The result is in out;
 * *changed counts the entries replaced or removed (0 when appended or
 * absent).  -1 with a reason in err for a name that is not a parameter
 * name ([A-Za-z0-9_]+) or a value with a line break or a NUL byte.
 */
#ifndef YOUJU_CFG_EDIT_H
#define YOUJU_CFG_EDIT_H

#include <stddef.h>

#include "buf.h"

int	 cfg_edit(const char *, size_t, const char *, const char *,
	    struct buf *, int *, char *, size_t);
/* cfg_edit_name_ok - [A-Za-z0-9_]+, at most 63 bytes */
int	 cfg_edit_name_ok(const char *);

#endif
