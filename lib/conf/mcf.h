/*
 * mcf.h - master.cf: the service table.
 *
 *	service type private unpriv chroot wakeup maxproc command [args/-o...]
 *	smtp      inet  n       -       y       -       -       smtpd
 *	127.0.0.1:2525 inet n - n - - smtpd -o smtpd_recipient_limit=10
 *
 * '#' lines are comments, lines beginning with white space continue the
 * previous one.  '-' selects the default: private y, unpriv y, chroot y,
 * wakeup 0, maxproc default_process_limit (passed by the caller).  type is
 * inet or unix ("unix-dgram", "pass", "fifo" are rejected with a message).
 * "-o name=value" overrides main.cf for that service; "-o name=" sets empty.
 * Internal services missing from the file (qmgr, smtp, local, auth, anvil,
 * pickup) are added by mcf_add_defaults() from the lines in mcf_defaults[].
 *
 * More syntax: "-oname=value" is the same as "-o name=value"; Postfix's
 * "-o { name = value with spaces }" works too.  Other words after the
 * command are kept in args.  wakeup may end in '?' (wakeup_if_used).  The
 * command must be a plain program name (no '/'); a unix service name must
 * not contain '/'.
 * Lines longer than MCF_LINE_MAX, files larger than MCF_FILE_MAX, unknown
 * types, bad flag letters, non-numeric wakeup/maxproc, duplicate name+type
 * and missing columns are errors naming file:line.
 */
#ifndef YOUJU_MCF_H
#define YOUJU_MCF_H

#include <stddef.h>

#define MCF_INET	1
#define MCF_UNIX	2

#define MCF_LINE_MAX	65536		/* longest physical or logical line */
#define MCF_FILE_MAX	(1024 * 1024)	/* largest master.cf */

struct mcf_opt {
	char	*name;
	char	*value;
};

struct mcf_service {
	char		*name;		/* "smtp", "submission", "127.0.0.1:2525", "qmgr" */
	int		 type;		/* MCF_INET or MCF_UNIX */
	int		 private_;	/* 1 = y */
	int		 unpriv;	/* 1 = y */
	int		 chroot;	/* 1 = y */
	int		 wakeup;	/* seconds, 0 = none */
	int		 wakeup_if_used; /* wakeup ended in '?' (Postfix: only
					   when the service was used) */
	int		 maxproc;	/* 0 = unlimited */
	char		*command;	/* "smtpd", "qmgr", ... */
	char		**args;		/* other command arguments, NULL-terminated */
	size_t		 nargs;
	struct mcf_opt	*opts;		/* -o overrides in order */
	size_t		 nopts;
	int		 line;		/* line number in master.cf, 0 = default */
	char		*host;		/* inet: listen host, "" = all of
					   inet_interfaces; NULL for unix */
	char		*port;		/* inet: port or service name; NULL for
					   unix */
};

struct mcf {
	struct mcf_service *svc;
	size_t		 nsvc;
};

/* the internal services' default lines, NULL-terminated */
extern const char *const mcf_defaults[];

/* mcf_load - parse a master.cf file into *mcf (overwritten; empty on error);
   0 ok, -1 with errno and a message in err */
int	 mcf_load(const char *, int, struct mcf *, char *, size_t);
/* mcf_parse_buf - parse text (name is used in messages) */
int	 mcf_parse_buf(const char *, size_t, const char *, int, struct mcf *,
	    char *, size_t);
/* mcf_add_defaults - append internal services the file lacks */
void	 mcf_add_defaults(struct mcf *, int);
const struct mcf_service *mcf_find(const struct mcf *, const char *);
/*
 * mcf_process_count - how many processes master runs for a service, and so
 * how many requests qmgr may have out to it at once:
 *	qmgr, auth, anvil, pickup	1
 *	inet (smtpd)		min(maxproc, ncpu)
 *	pools (local, smtp)	min(maxproc, max(2, 2 x ncpu))
 */
int	 mcf_process_count(const struct mcf_service *, int);
void	 mcf_free(struct mcf *);

#endif
