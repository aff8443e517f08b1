/*
 * skel.h - the shared server skeleton every daemon's main() calls.
 *
 * It owns what every youju process does the same way: the command line
 * that master passes (-c DIR -n SERVICE [-r] [-u] [-o name=value]... [-d]),
 * loading main.cf and applying the -o overrides, logging, taking the
 * listening descriptors master passed (fd 3 onwards, count in the
 * environment variable YOUJU_LISTEN_FDS) and the read end of master's life
 * pipe (YOUJU_MASTER_FD: EOF there means master died, and the process stops
 * as on SIGTERM), chdir to queue_directory, the process's own set-up before the
 * jail (pre_jail: open files, keys), the privilege drop (lib/server/privdrop:
 * chroot to queue_directory with -r, drop to mail_owner with -u), the libevent
 * loop, and signals: SIGTERM/SIGINT call stop() (graceful; default: leave the
 * loop); SIGHUP (master's reload: a new process takes over) calls retire(),
 * which finishes the work in hand without cutting it short (default: as stop);
 * SIGPIPE is ignored.
 * With -x (a program with a oneshot operation: qmgr for "mailctl queue"
 * while the mail system is stopped) there is no event loop: after the
 * jail, oneshot() does its one job and its result is the exit status.
 *
 * Errors: a process that cannot set itself up exits 1 with a fatal line.
 */
#ifndef YOUJU_SKEL_H
#define YOUJU_SKEL_H

#include <sys/types.h>

struct event_base;
struct event;
struct cfg;

#define SKEL_MAX_LISTEN	16

#define SKEL_F_STAY_ROOT	0x01	/* never drop to mail_owner (local) */
#define SKEL_F_NO_CHROOT	0x02	/* never chroot, whatever master.cf says */
#define SKEL_F_CHROOT_EMPTY	0x04	/* chroot to queue_directory/empty (auth) */

struct skel {
	const char	*progname;	/* "smtpd" */
	const char	*config_dir;
	const char	*service;	/* master.cf service name */
	struct cfg	*cfg;		/* main.cf + -o overrides */
	int		 listen_fd[SKEL_MAX_LISTEN];
	int		 nlisten;
	int		 chroot;	/* -r given and allowed */
	int		 unpriv;	/* -u given and allowed */
	uid_t		 owner_uid;	/* mail_owner */
	gid_t		 owner_gid;
	const char	*queue_dir;
	struct event_base *base;
	int		 stopping;	/* stop or retire in progress */
	int		 retiring;	/* retire (SIGHUP), not a stop */
	int		 debug;
	int		 oneshot;	/* -x: one job, no event loop */
	void		*ctx;		/* the daemon's own state */
	char		**args;		/* master.cf words after the command
					   (given after "--"), e.g. spawn's */
	int		 nargs;
	struct event	*master_ev;	/* master's life pipe */
};

struct skel_ops {
	const char	*name;
	int		 flags;
	void		(*pre_jail)(struct skel *);
	void		(*post_jail)(struct skel *);
	void		(*stop)(struct skel *);
	void		(*retire)(struct skel *);	/* NULL: like stop */
	int		(*oneshot)(struct skel *);	/* -x; NULL: no -x */
};

int	 skel_main(int, char **, const struct skel_ops *);
/* skel_break - leave the event loop (stop handlers call it when idle) */
void	 skel_break(struct skel *);

#endif
