/*
 * master.h - the supervisor's shared state.
 *
 * master binds the inet listeners and the internal service sockets,
 * spawns each service's processes (chroot and privilege per master.cf),
 * restarts crashed children with back-off, reloads on SIGHUP, stops
 * gracefully on SIGTERM, and answers mailctl on its control socket.
 */
#ifndef YOUJU_MASTER_H
#define YOUJU_MASTER_H

#include <sys/types.h>
#include <stdint.h>
#include <time.h>

#include "mcf.h"

struct event_base;
struct event;
struct cfg;

#define MASTER_MAX_FDS		16
#define MASTER_RESTART_MIN_MS	200
#define MASTER_RESTART_MAX_MS	60000
#define MASTER_CRASH_WINDOW_MS	10000

struct master_proc {
	pid_t		 pid;
	uint64_t	 started_ms;
	int		 stopping;	/* SIGTERM sent */
	struct master_svc *svc;
	struct master_proc *next;
};

struct master_svc {
	struct mcf_service *def;	/* points into master.mcf */
	char		*key;		/* "name/type": identity across reloads */
	char		*metrics;	/* anvil: metrics_listen it serves, or NULL */
	int		 fds[MASTER_MAX_FDS];	/* listening sockets */
	int		 nfds;
	int		 want;		/* processes to keep running */
	int		 running;
	int		 retired;	/* replaced by a reload: do not restart */
	int		 failures;	/* quick crashes in a row */
	uint64_t	 next_start_ms;
	struct event	*restart_ev;
	struct master_svc *next;
};

struct master_oldmcf {
	struct mcf	 mcf;
	struct master_oldmcf *next;
};

struct master {
	const char	*config_dir;
	struct cfg	*cfg;
	struct mcf	 mcf;
	struct master_oldmcf *oldmcf;	/* still used by retired services */
	struct event_base *base;
	struct master_svc *svcs;
	struct master_proc *procs;
	uid_t		 owner_uid;
	gid_t		 owner_gid;
	int		 privileged;	/* running as root */
	int		 stopping;
	uint64_t	 stop_deadline_ms;
	int		 stop_back;	/* the back services were told */
	struct event	*stop_ev;
	int		 ctl_fd;
	struct event	*ctl_ev;
	int		 pid_fd;
	char		 queue_dir[4096];
	char		 daemon_dir[4096];
	int		 ncpu;
	int		 ready_fd;	/* mailctl start: readiness pipe */
	int		 life[2];	/* children see EOF when master dies */
};

extern struct master master;

/* master_queue.c */
int	 master_queue_setup(struct master *, char *, size_t);
void	 master_queue_clean_incoming(struct master *);

/* master_spawn.c */
int	 master_services_open(struct master *, char *, size_t);
/* master_metrics_start - report restarts to anvil when metrics_listen is set */
void	 master_metrics_start(struct master *);
void	 master_services_start(struct master *);
void	 master_reap(struct master *);
#define MASTER_STOP_ALL		0
#define MASTER_STOP_INET	1	/* the sessions first (smtpd, pickup) */
#define MASTER_STOP_BACK	2	/* then what they use */
void	 master_stop_some(struct master *, int, int);
int	 master_svc_front(const struct mcf_service *);
/* master.c: systemd's readiness protocol (no-op without libsystemd) */
void	 master_notify(const char *);
int	 master_reload(struct master *, char *, size_t);
/* master.c: refuse a configuration with errors (cfcheck) */
int	 master_check(struct cfg *, const struct mcf *, const char *, char *,
	    size_t);
void	 master_status(struct master *, struct buf *);
int	 master_children(const struct master *);
int	 master_children_of(const struct master *, int);

/* master_ctl.c */
int	 master_ctl_open(struct master *, char *, size_t);
void	 master_ctl_close(struct master *);

/* master.c */
void	 master_begin_stop(struct master *);

#endif
