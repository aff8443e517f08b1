/*
 * mailctl.h - shared between mailctl's command files.
 */
#ifndef YOUJU_MAILCTL_H
#define YOUJU_MAILCTL_H

#include "buf.h"

struct cfg;

/*
 * mailctl_request - one control request to master on its socket (path):
 * master's status (0 ok) with its text appended to out, or -1 when master
 * is not running or the exchange failed.
 */
int	 mailctl_request(const char *, const char *, struct buf *);

/* mailctl_user_main - "mailctl user ..." (mailctl_user.c) */
int	 mailctl_user_main(const struct cfg *, const char *, int, char **);

#endif
