/*
 * skel.c - the shared server skeleton (see skel.h).
 */
#include <sys/types.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "cfg.h"
#include "buf.h"
#include "util.h"
#include "log.h"
#include "metrics_client.h"
#include "privdrop.h"
#include "skel.h"

static struct skel skel_state;
static const struct skel_ops *skel_ops;

/* skel_usage - bad command line: our caller (master) is broken */
static void __attribute__((noreturn))
skel_usage(const char *prog)
{
	fprintf(stderr, "usage: %s -c config_dir [-n service] [-r] [-u] "
	    "[-o name=value]... [-d]%s\n", prog,
	    skel_ops != NULL && skel_ops->oneshot != NULL ? " [-x]" : "");
	exit(2);
}

/* skel_signal - SIGTERM/SIGINT: graceful stop */
static void
skel_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct skel *sk = arg;

	if (sk->stopping && !sk->retiring) {
		log_info("second stop signal: exiting now");
		event_base_loopbreak(sk->base);
		return;
	}
	sk->stopping = 1;
	sk->retiring = 0;
	if (skel_ops->stop != NULL)
		skel_ops->stop(sk);
	else
		event_base_loopbreak(sk->base);
}

/* skel_hup - master reloads: a new process takes over, finish and go */
static void
skel_hup(evutil_socket_t sig, short ev, void *arg)
{
	struct skel *sk = arg;

	if (sk->stopping)
		return;
	if (skel_ops->retire == NULL) {
		skel_signal(SIGTERM, ev, arg);
		return;
	}
	sk->stopping = 1;
	sk->retiring = 1;
	skel_ops->retire(sk);
}

/* skel_break - leave the event loop */
void
skel_break(struct skel *sk)
{
	event_base_loopbreak(sk->base);
}

/* skel_master_gone - EOF on the life pipe: master died, stop too */
static void
skel_master_gone(evutil_socket_t fd, short ev, void *arg)
{
	struct skel *sk = arg;
	char	 c;

	if (read(fd, &c, 1) != 0)
		return;
	log_warn("master went away: stopping");
	event_del(sk->master_ev);
	skel_signal(SIGTERM, 0, sk);
}

/* skel_master_fd - the read end of master's life pipe, or -1 */
static int
skel_master_fd(void)
{
	const char *env;
	long long fd;

	if ((env = getenv("YOUJU_MASTER_FD")) == NULL)
		return -1;
	unsetenv("YOUJU_MASTER_FD");
	if (util_parse_ll(env, 3, 1024, &fd) == -1 ||
	    util_set_cloexec((int)fd, 1) == -1)
		log_fatal("bad YOUJU_MASTER_FD value");
	return (int)fd;
}

/* skel_listen_fds - take the descriptors master passed */
static void
skel_listen_fds(struct skel *sk)
{
	const char *env;
	long long n;
	int	 i;

	sk->nlisten = 0;
	if ((env = getenv("YOUJU_LISTEN_FDS")) == NULL)
		return;
	if (util_parse_ll(env, 0, SKEL_MAX_LISTEN, &n) == -1)
		log_fatal("bad YOUJU_LISTEN_FDS value");
	for (i = 0; i < n; i++) {
		sk->listen_fd[i] = 3 + i;
		if (util_set_cloexec(3 + i, 1) == -1)
			log_fatal("listen descriptor %d: %s", 3 + i,
			    strerror(errno));
	}
	sk->nlisten = (int)n;
	unsetenv("YOUJU_LISTEN_FDS");
}

/* skel_args - parse the command line into sk; -o goes into the config */
static void
skel_args(struct skel *sk, int argc, char **argv, char **opts, int *nopts)
{
	int	 c;

	*nopts = 0;
	while ((c = getopt(argc, argv, "c:n:ruo:dx")) != -1) {
		switch (c) {
		case 'c':
			sk->config_dir = optarg;
			break;
		case 'n':
			sk->service = optarg;
			break;
		case 'r':
			sk->chroot = 1;
			break;
		case 'u':
			sk->unpriv = 1;
			break;
		case 'o':
			if (*nopts >= 256)
				skel_usage(argv[0]);
			opts[(*nopts)++] = optarg;
			break;
		case 'd':
			sk->debug = 1;
			break;
		case 'x':
			if (skel_ops->oneshot == NULL)
				skel_usage(argv[0]);
			sk->oneshot = 1;
			break;
		default:
			skel_usage(argv[0]);
		}
	}
	if (sk->config_dir == NULL)
		skel_usage(argv[0]);
	/* the service's command attributes, after "--" (master.cf) */
	sk->args = argv + optind;
	sk->nargs = argc - optind;
	if (sk->service == NULL)
		sk->service = sk->progname;
}

/* skel_log - start logging as syslog_name/progname */
static void
skel_log(struct skel *sk)
{
	char	 name[128];
	const char *maillog;
	int	 flags;

	snprintf(name, sizeof(name), "%s/%s", cfg_str(sk->cfg, "syslog_name"),
	    sk->progname);
	maillog = cfg_str(sk->cfg, "maillog_file");
	/* maillog_file replaces syslog, as in Postfix */
	flags = *maillog != '\0' ? 0 : LOG_TO_SYSLOG;
	if (getenv("YOUJU_LOG_STDERR") != NULL)
		flags |= LOG_TO_STDERR;
	log_open(name, flags, maillog);
	log_set_debug(sk->debug);
}

/* skel_config - load main.cf and apply the -o overrides */
static void
skel_config(struct skel *sk, char **opts, int nopts)
{
	char	 err[512], name[128];
	const char *eq;
	int	 i;

	if ((sk->cfg = cfg_load_dir(sk->config_dir, err, sizeof(err))) == NULL) {
		log_open(sk->progname, LOG_TO_SYSLOG | LOG_TO_STDERR, NULL);
		log_fatal("%s", err);
	}
	/* log where main.cf says before anything can fail */
	skel_log(sk);
	for (i = 0; i < nopts; i++) {
		if ((eq = strchr(opts[i], '=')) == NULL ||
		    (size_t)(eq - opts[i]) >= sizeof(name))
			log_fatal("bad -o option: %s", log_str(opts[i]));
		memcpy(name, opts[i], (size_t)(eq - opts[i]));
		name[eq - opts[i]] = '\0';
		if (cfg_set(sk->cfg, name, eq + 1, err, sizeof(err)) == -1)
			log_fatal("service %s: -o %s: %s", sk->service, name,
			    err);
	}
	skel_log(sk);	/* -o may change syslog_name or maillog_file */
}

/* skel_jail - chdir to the queue, run pre_jail, drop privileges */
static void
skel_jail(struct skel *sk)
{
	const char *owner = cfg_str(sk->cfg, "mail_owner");
	char	 root[4096];
	const char *jail = NULL;
	uid_t	 uid;
	gid_t	 gid;

	sk->queue_dir = cfg_str(sk->cfg, "queue_directory");
	if (privdrop_lookup(owner, &sk->owner_uid, &sk->owner_gid) == -1)
		log_fatal("mail_owner %s: no such user", log_str(owner));
	if (chdir(sk->queue_dir) == -1)
		log_fatal("chdir %s: %s", sk->queue_dir, strerror(errno));
	if (skel_ops->pre_jail != NULL)
		skel_ops->pre_jail(sk);
	if (sk->chroot && !(skel_ops->flags & SKEL_F_NO_CHROOT)) {
		if (skel_ops->flags & SKEL_F_CHROOT_EMPTY) {
			snprintf(root, sizeof(root), "%s/empty", sk->queue_dir);
			jail = root;
		} else
			jail = sk->queue_dir;
	} else
		sk->chroot = 0;
	/* master.cf unpriv "n" (or the program's own need): stay root */
	if ((skel_ops->flags & SKEL_F_STAY_ROOT) ||
	    (!sk->unpriv && geteuid() == 0)) {
		if (jail != NULL && (chroot(jail) == -1 || chdir("/") == -1))
			log_fatal("chroot %s: %s", jail, strerror(errno));
		return;
	}
	uid = sk->owner_uid;
	gid = sk->owner_gid;
	if (geteuid() != 0) {
		uid = geteuid();
		gid = getegid();
	}
	privdrop(jail, uid, gid);
	if (jail == NULL && chdir(sk->queue_dir) == -1)
		log_fatal("chdir %s: %s", sk->queue_dir, strerror(errno));
	privdrop_harden();
}

/* skel_main - run a daemon */
int
skel_main(int argc, char **argv, const struct skel_ops *ops)
{
	struct skel *sk = &skel_state;
	struct event *ev_term, *ev_int, *ev_hup;
	char	*opts[256];
	int	 nopts, master_fd, r;

	skel_ops = ops;
	sk->progname = ops->name;
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() == -1) {
		fprintf(stderr, "%s: libsodium initialisation failed\n",
		    ops->name);
		return 1;
	}
	skel_args(sk, argc, argv, opts, &nopts);
	skel_config(sk, opts, nopts);
	skel_listen_fds(sk);
	master_fd = skel_master_fd();
	skel_jail(sk);
	if (sk->oneshot) {
		r = ops->oneshot(sk);
		cfg_free(sk->cfg);
		log_close();
		return r;
	}
	if ((sk->base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	ev_term = evsignal_new(sk->base, SIGTERM, skel_signal, sk);
	ev_int = evsignal_new(sk->base, SIGINT, skel_signal, sk);
	ev_hup = evsignal_new(sk->base, SIGHUP, skel_hup, sk);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) || evsignal_add(ev_int, NULL) ||
	    evsignal_add(ev_hup, NULL))
		log_fatal("cannot install signal handlers");
	if (master_fd != -1) {
		sk->master_ev = event_new(sk->base, master_fd,
		    EV_READ | EV_PERSIST, skel_master_gone, sk);
		if (sk->master_ev == NULL || event_add(sk->master_ev, NULL))
			log_fatal("cannot watch master");
	}
	if (ops->post_jail != NULL)
		ops->post_jail(sk);
	log_debug("%s: service %s ready", ops->name, sk->service);
	event_base_dispatch(sk->base);
	/* what was counted since the last report (no-op without metrics) */
	metrics_client_flush();
	if (sk->master_ev != NULL)
		event_free(sk->master_ev);
	event_free(ev_hup);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(sk->base);
	cfg_free(sk->cfg);
	log_close();
	return 0;
}
