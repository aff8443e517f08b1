/*
 * master.c - the youju supervisor: main(), signals, start and stop.
 *
 *	master [-c config_dir] [-d] [-n] [-w fd]
 *
 * -n checks the configuration and exits; -w FD is the readiness pipe of
 * "mailctl start": master writes "ready\n" there once every listener is
 * bound and every service started (or its error, before exiting 1).
 * Stays in the foreground.  Exit status 0 after a clean stop, 1 on error.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "cfg.h"
#include "buf.h"
#include "cfcheck.h"
#include "log.h"
#include "privdrop.h"
#include "util.h"
#include "master.h"

struct master master;

/* master_usage - bad command line */
static void __attribute__((noreturn))
master_usage(void)
{
	fprintf(stderr, "usage: master [-c config_dir] [-d] [-n] [-w fd]\n");
	exit(2);
}

/*
 * master_notify - tell systemd (Type=notify: sd_notify, when built with
 * libsystemd and started with NOTIFY_SOCKET): READY=1 once every listener
 * is open and the children are started, RELOADING=1 and READY=1 around a
 * reload, STOPPING=1 when a stop begins; without either, nothing
 */
void
master_notify(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	int	 r;

	if (getenv("NOTIFY_SOCKET") != NULL &&
	    (r = sd_notify(0, state)) < 0)
		log_warn("sd_notify: %s", strerror(-r));
#else
	(void)state;
#endif
}

/* master_fail - report a start-up error (also to mailctl) and exit */
static void __attribute__((noreturn))
master_fail(const char *msg)
{
	if (master.ready_fd != -1) {
		(void)!write(master.ready_fd, msg, strlen(msg));
		(void)!write(master.ready_fd, "\n", 1);
	}
	log_fatal("%s", msg);
}

/* master_sig_chld - reap children */
static void
master_sig_chld(evutil_socket_t sig, short ev, void *arg)
{
	master_reap(arg);
}

/* master_sig_hup - reload */
static void
master_sig_hup(evutil_socket_t sig, short ev, void *arg)
{
	char	 err[1024];

	if (master_reload(arg, err, sizeof(err)) == -1)
		log_err("reload failed, old configuration kept: %s", err);
}

/* master_sig_term - graceful stop */
static void
master_sig_term(evutil_socket_t sig, short ev, void *arg)
{
	struct master *m = arg;

	if (m->stopping) {
		log_info("second stop signal: killing children");
		master_stop_some(m, SIGKILL, MASTER_STOP_ALL);
		return;
	}
	master_begin_stop(m);
}

/*
 * master_stop_tick - wait for children; once the sessions are gone, stop
 * the services they used; kill what is left at the deadline
 */
static void
master_stop_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct master *m = arg;
	struct timeval tv = { 0, 100000 };

	master_reap(m);
	if (master_children(m) == 0) {
		event_base_loopbreak(m->base);
		return;
	}
	if (!m->stop_back && master_children_of(m, 1) == 0) {
		m->stop_back = 1;
		master_stop_some(m, SIGTERM, MASTER_STOP_BACK);
	}
	if (util_mono_ms() >= m->stop_deadline_ms) {
		log_warn("stop: %d processes still running after "
		    "master_stop_timeout, killing them", master_children(m));
		master_stop_some(m, SIGKILL, MASTER_STOP_ALL);
		m->stop_deadline_ms = (uint64_t)-1;
	}
	evtimer_add(m->stop_ev, &tv);
}

/*
 * master_begin_stop - close the listeners and SIGTERM the sessions
 * (children of inet services, and pickup); the rest - qmgr, auth, anvil,
 * the delivery agents - go when the sessions are over
 * (master_stop_tick), so a transaction that finishes can still look up,
 * sign and queue
 */
void
master_begin_stop(struct master *m)
{
	struct master_svc *s;
	struct timeval tv = { 0, 100000 };

	if (m->stopping)
		return;
	m->stopping = 1;
	log_info("terminating on request, waiting for sessions to finish");
	master_notify("STOPPING=1\nSTATUS=waiting for sessions to finish");
	for (s = m->svcs; s != NULL; s = s->next) {
		if (!master_svc_front(s->def))
			continue;
		for (int i = 0; i < s->nfds; i++)
			close(s->fds[i]);
		s->nfds = 0;
	}
	master_stop_some(m, SIGTERM, MASTER_STOP_INET);
	m->stop_deadline_ms = util_mono_ms() +
	    (uint64_t)cfg_time(m->cfg, "master_stop_timeout") * 1000;
	m->stop_ev = evtimer_new(m->base, master_stop_tick, m);
	evtimer_add(m->stop_ev, &tv);
}

/* master_owner - find mail_owner; refuse root and a missing user */
static void
master_owner(struct master *m)
{
	const char *owner = cfg_str(m->cfg, "mail_owner");
	char	 msg[1024];

	if (privdrop_lookup(owner, &m->owner_uid, &m->owner_gid) == -1) {
		if (!m->privileged) {
			m->owner_uid = geteuid();
			m->owner_gid = getegid();
			return;
		}
		snprintf(msg, sizeof(msg), "mail_owner \"%s\" does not exist; "
		    "create it with: useradd --system --user-group "
		    "--home-dir %s --no-create-home --shell /usr/sbin/nologin "
		    "%s", owner, cfg_str(m->cfg, "queue_directory"), owner);
		master_fail(msg);
	}
	if (m->privileged && m->owner_uid == 0) {
		snprintf(msg, sizeof(msg), "mail_owner \"%s\" is root: set "
		    "mail_owner to an unprivileged system user of its own "
		    "(useradd --system youju)", owner);
		master_fail(msg);
	}
	if (!m->privileged) {
		log_info("running as uid %ld without privilege separation "
		    "(development mode)", (long)geteuid());
		m->owner_uid = geteuid();
		m->owner_gid = getegid();
	}
}

/* master_pidfile - lock and write queue_directory/pid/master.pid */
static void
master_pidfile(struct master *m)
{
	char	 path[4096], msg[4200], pid[32];
	ssize_t	 n;
	int	 fd;

	if (util_fmt(path, sizeof(path), "%s/pid/master.pid", m->queue_dir) ==
	    -1)
		master_fail("queue_directory: path too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		snprintf(msg, sizeof(msg), "open %s: %s", path,
		    strerror(errno));
		master_fail(msg);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		snprintf(msg, sizeof(msg), "the mail system is already running "
		    "(master pid %s) for %s", util_trim(pid), m->config_dir);
		master_fail(msg);
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 ||
	    util_write_full(fd, pid, strlen(pid)) == -1) {
		snprintf(msg, sizeof(msg), "write %s: %s", path,
		    strerror(errno));
		master_fail(msg);
	}
	m->pid_fd = fd;
}

/*
 * master_check - the checks of "mailctl check" (lib/server/cfcheck.c): every
 * error is logged, and -1 with all of them (as far as err holds them)
 * when there is one: master does not start or reload with it
 */
int
master_check(struct cfg *cfg, const struct mcf *mcf, const char *path,
    char *err, size_t errlen)
{
	struct cfcheck ck;
	struct buf msg;
	const char *p, *nl;

	cfcheck_init(&ck);
	cfcheck_config(&ck, cfg, mcf, path);
	if (ck.nerr == 0) {
		cfcheck_free(&ck);
		return 0;
	}
	buf_init(&msg, errlen > 0 ? errlen - 1 : 0);
	(void)buf_printf(&msg, "%d configuration error%s (mailctl check "
	    "lists them)", ck.nerr, ck.nerr == 1 ? "" : "s");
	for (p = buf_cstr(&ck.out); (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1) {
		if (strncmp(p, "error: ", 7) != 0)
			continue;
		log_err("%.*s", (int)(nl - p - 7), p + 7);
		(void)buf_printf(&msg, "\n%.*s", (int)(nl - p), p);
	}
	util_strlcpy(err, buf_cstr(&msg), errlen);
	buf_free(&msg);
	cfcheck_free(&ck);
	return -1;
}

/* master_load - main.cf and master.cf */
static void
master_load(struct master *m)
{
	char	 err[1024], path[4096];

	if ((m->cfg = cfg_load_dir(m->config_dir, err, sizeof(err))) == NULL)
		master_fail(err);
	snprintf(path, sizeof(path), "%s/master.cf", m->config_dir);
	if (mcf_load(path, (int)cfg_int(m->cfg, "default_process_limit"),
	    &m->mcf, err, sizeof(err)) == -1)
		master_fail(err);
	mcf_add_defaults(&m->mcf, (int)cfg_int(m->cfg,
	    "default_process_limit"));
	if (master_check(m->cfg, &m->mcf, path, err, sizeof(err)) == -1)
		master_fail(err);
	/* copies: the configuration is replaced on reload */
	util_strlcpy(m->queue_dir, cfg_str(m->cfg, "queue_directory"),
	    sizeof(m->queue_dir));
	util_strlcpy(m->daemon_dir, cfg_str(m->cfg, "daemon_directory"),
	    sizeof(m->daemon_dir));
}

/* master_events - libevent base and signals */
static void
master_events(struct master *m)
{
	static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };
	void	(*cbs[])(evutil_socket_t, short, void *) = {
		master_sig_chld, master_sig_hup, master_sig_term,
		master_sig_term };
	struct event *ev;
	size_t	 i;

	if ((m->base = event_base_new()) == NULL)
		master_fail("event_base_new failed");
	for (i = 0; i < NELEM(sigs); i++) {
		ev = evsignal_new(m->base, sigs[i], cbs[i], m);
		if (ev == NULL || evsignal_add(ev, NULL) == -1)
			master_fail("cannot install signal handlers");
	}
}

/*
 * main - parse options, set up, run until stopped.  (Long: the start-up
 * order - options, config, checks, queue, sockets, privileges, children,
 * readiness - is the point, and it reads best in one place.)
 */
int
main(int argc, char **argv)
{
	struct master *m = &master;
	char	 err[1024], path[4096];
	long long fd;
	int	 c, check = 0, debug = 0;

	m->config_dir = YOUJU_SYSCONFDIR;
	m->ready_fd = -1;
	m->ctl_fd = -1;
	while ((c = getopt(argc, argv, "c:dnw:")) != -1) {
		switch (c) {
		case 'c':
			m->config_dir = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'w':
			if (util_parse_ll(optarg, 3, 1024, &fd) == -1)
				master_usage();
			m->ready_fd = (int)fd;
			util_set_cloexec(m->ready_fd, 1);
			break;
		default:
			master_usage();
		}
	}
	if (optind != argc)
		master_usage();
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	if (sodium_init() == -1)
		master_fail("libsodium initialisation failed");
	log_open("youju/master", LOG_TO_STDERR, NULL);
	master_load(m);
	if (check) {
		printf("%s: configuration ok\n", m->config_dir);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/master", cfg_str(m->cfg,
	    "syslog_name"));
	log_open(path, (*cfg_str(m->cfg, "maillog_file") == '\0' ?
	    LOG_TO_SYSLOG : 0) | (m->ready_fd == -1 ? LOG_TO_STDERR : 0),
	    cfg_str(m->cfg, "maillog_file"));
	log_set_debug(debug);
	m->privileged = geteuid() == 0;
	m->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (m->ncpu < 1)
		m->ncpu = 1;
	master_owner(m);
	if (master_queue_setup(m, err, sizeof(err)) == -1)
		master_fail(err);
	master_pidfile(m);
	if (pipe2(m->life, O_CLOEXEC) == -1)
		master_fail("pipe: cannot create the life pipe");
	master_queue_clean_incoming(m);
	master_events(m);
	if (master_ctl_open(m, err, sizeof(err)) == -1 ||
	    master_services_open(m, err, sizeof(err)) == -1)
		master_fail(err);
	master_services_start(m);
	master_metrics_start(m);
	log_info("daemon started -- version %s, configuration %s",
	    YOUJU_VERSION, m->config_dir);
	master_notify("READY=1\nSTATUS=accepting mail");
	if (m->ready_fd != -1) {
		(void)!write(m->ready_fd, "ready\n", 6);
		close(m->ready_fd);
		m->ready_fd = -1;
	}
	event_base_dispatch(m->base);
	master_reap(m);
	master_ctl_close(m);
	if (util_fmt(path, sizeof(path), "%s/pid/master.pid", m->queue_dir) ==
	    0)
		unlink(path);
	log_info("stopped");
	return 0;
}
