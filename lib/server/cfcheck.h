/*
 * cfcheck.h - the configuration checks that "mailctl check" prints and
 * that master applies before it starts or reloads.
 *
 * A finding is one line, "error: WHERE: text" or "warning: WHERE: text".
 * master refuses a configuration with any error (the same lines, logged
 * and printed by "mailctl start" / "mailctl reload"), so a mistake shows
 * at the console and never as a 451 to the internet.
 */
#ifndef YOUJU_CFCHECK_H
#define YOUJU_CFCHECK_H

#include "buf.h"

struct cfg;
struct mcf;

struct cfcheck {
	struct buf	 out;		/* the findings, one per line */
	int		 nerr;
	int		 nwarn;
};

void	 cfcheck_init(struct cfcheck *);
void	 cfcheck_free(struct cfcheck *);
/* cfcheck_add - one finding (err: 1 error, 0 warning) */
void	 cfcheck_add(struct cfcheck *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * cfcheck_config - main.cf (the cfg) and every master.cf service (mcf,
 * read from the file named mcfpath) with its -o settings applied: what
 * cfg_check() finds, restriction lists (names and arguments), network
 * lists, TLS certificate and key files; findings of a service that main.cf
 * does not already have are given as "PATH:LINE: service NAME: ...".
 * Marks the user-defined names that -o values refer to as used.
 */
void	 cfcheck_config(struct cfcheck *, struct cfg *, const struct mcf *,
	    const char *);

#endif
