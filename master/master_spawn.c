/*
 * master_spawn.c - services and their processes.
 *
 * A service is one master.cf line.  master opens its listening sockets
 * (inet: TCP sockets per listen address; unix: a SEQPACKET socket at
 * queue_directory/private/NAME, or public/NAME for the programs of
 * master_public) and keeps "want" processes running, each
 * started as
 *
 *	daemon_directory/COMMAND -c CONFIG_DIR -n SERVICE [-r] [-u] [-o n=v]...
 *
 * with the listening sockets as descriptors 3.. (YOUJU_LISTEN_FDS = count).
 * anvil also gets the TCP socket of metrics_listen, when that is set.
 * How many processes a service gets (want): mcf_process_count().
 * A child that exits unexpectedly is restarted: at once when it had run
 * for MASTER_CRASH_WINDOW_MS, else after a delay that doubles from
 * MASTER_RESTART_MIN_MS up to MASTER_RESTART_MAX_MS.
 *
 * Longer than 800 lines on purpose: spawning, reaping, restarting and the
 * reload's socket hand-over all walk the same service and process lists;
 * apart, each would need their internals.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "metrics.h"
#include "metrics_client.h"
#include "util.h"
#include "master.h"

struct master_port {
	const char	*name;
	int		 port;
};

/*
 * Sockets a program gets after its service socket, below private/.  They
 * belong to master like every service socket, so they outlive the
 * process: a client that connects while the process restarts (a reload,
 * a crash) waits in the backlog for the next one instead of failing.
 */
struct master_extra {
	const char	*command;
	const char	*path;		/* relative to queue_directory */
};

static const struct master_extra master_extras[] = {
	{ "qmgr", IPC_QMGR_CONTROL },	/* mailctl queue */
};

/*
 * Programs whose service socket is public/NAME, mode 0666, instead of
 * private/NAME: every local user may connect (sendmail to pickup), and
 * the program learns who from SO_PEERCRED.  The socket and public/ stay
 * root's, so mail_owner (a compromised smtpd) cannot put a socket of its
 * own there to read what users submit.
 */
static const char *const master_public[] = { "pickup" };

/* programs that must run as one process (maxproc 1) */
static const char *const master_single[] = { "qmgr", "auth", "anvil",
	"pickup" };

static const struct master_port master_ports[] = {
	{ "smtp", 25 },
	{ "submission", 587 },
	{ "smtps", 465 },
	{ "submissions", 465 },
};

static void master_start_one(struct master *, struct master_svc *);
static void master_restart_cb(evutil_socket_t, short, void *);

/* master_port - a port number from a number or a service name */
static int
master_port(const char *s)
{
	struct servent *se;
	long long v;
	size_t	 i;

	if (util_parse_ll(s, 1, 65535, &v) == 0)
		return (int)v;
	for (i = 0; i < NELEM(master_ports); i++)
		if (strcmp(master_ports[i].name, s) == 0)
			return master_ports[i].port;
	if ((se = getservbyname(s, "tcp")) != NULL)
		return ntohs((uint16_t)se->s_port);
	return -1;
}

/* master_bind - one listening TCP socket */
static int
master_bind(const char *host, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t slen;
	int	 fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		slen = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "bad listen address \"%s\"", host);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, slen) == -1 ||
	    listen(fd, 1024) == -1) {
		snprintf(err, errlen, "bind %s port %d: %s", host, port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* master_open_inet - listening sockets of one inet service */
static int
master_open_inet(struct master *m, struct master_svc *s, char *err,
    size_t errlen)
{
	const struct mcf_service *d = s->def;
	char	**list;
	size_t	 n, i;
	int	 port, fd, v6 = 1;
	const char *proto;

	if ((port = master_port(d->port)) == -1) {
		snprintf(err, errlen, "master.cf line %d: unknown port \"%s\"",
		    d->line, d->port);
		return -1;
	}
	if (d->host != NULL && *d->host != '\0') {
		list = xcalloc(1, sizeof(char *));
		list[0] = xstrdup(d->host);
		n = 1;
	} else
		list = cfg_list(m->cfg, "inet_interfaces", &n);
	proto = cfg_str(m->cfg, "inet_protocols");
	if (strstr(proto, "ipv6") == NULL && strstr(proto, "all") == NULL)
		v6 = 0;
	for (i = 0; i < n; i++) {
		const char *a[2] = { NULL, NULL };
		int	 k;

		if (strcmp(list[i], "all") == 0) {
			a[0] = "0.0.0.0";
			a[1] = v6 ? "::" : NULL;
		} else if (strcmp(list[i], "loopback-only") == 0 ||
		    strcmp(list[i], "localhost") == 0) {
			a[0] = "127.0.0.1";
			a[1] = v6 ? "::1" : NULL;
		} else
			a[0] = list[i];
		for (k = 0; k < 2 && a[k] != NULL; k++) {
			if (s->nfds >= MASTER_MAX_FDS) {
				snprintf(err, errlen, "too many listen "
				    "addresses for %s", d->name);
				cfg_list_free(list, n);
				return -1;
			}
			fd = master_bind(a[k], port, err, errlen);
			if (fd == -1 && k == 1 && errno == EAFNOSUPPORT)
				continue;	/* no IPv6 on this host */
			if (fd == -1) {
				cfg_list_free(list, n);
				return -1;
			}
			s->fds[s->nfds++] = fd;
		}
	}
	cfg_list_free(list, n);
	return 0;
}

/* master_listed - is name in the list */
static int
master_listed(const char *const *list, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

/*
 * master_listen_unix - a socket at queue_directory/rel: for mail_owner
 * (mode 0600), or for everyone (public: 0666, left root's); SEQPACKET for
 * youju's own services, a stream for spawn's commands (the policy protocol
 * and Postfix's unix services are streams)
 */
static int
master_listen_unix(struct master *m, struct master_svc *s, const char *rel,
    int public, char *err, size_t errlen)
{
	int	 stream = strcmp(s->def->command, "spawn") == 0;
	char	 path[4096];
	int	 fd;

	if (util_fmt(path, sizeof(path), "%s/%s", m->queue_dir, rel) == -1) {
		snprintf(err, errlen, "service %s: socket path too long",
		    s->def->name);
		return -1;
	}
	if (s->nfds >= MASTER_MAX_FDS) {
		snprintf(err, errlen, "service %s: too many sockets",
		    s->def->name);
		return -1;
	}
	fd = stream ? ipc_listen_stream(path, 0600, 256) :
	    ipc_listen(path, public ? 0666 : 0600, 256);
	if (fd == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!public && m->privileged &&
	    chown(path, m->owner_uid, m->owner_gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	s->fds[s->nfds++] = fd;
	return 0;
}

/* master_open_metrics - anvil's HTTP socket for metrics_listen */
static int
master_open_metrics(struct master_svc *s, char *err, size_t errlen)
{
	char	 host[METRICS_HOST_MAX], why[512];
	int	 port, fd;

	if (metrics_listen_parse(s->metrics, host, sizeof(host), &port, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "metrics_listen: %s", why);
		return -1;
	}
	if (s->nfds >= MASTER_MAX_FDS) {
		snprintf(err, errlen, "service %s: too many sockets",
		    s->def->name);
		return -1;
	}
	if ((fd = master_bind(host, port, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "metrics_listen: %s", why);
		return -1;
	}
	s->fds[s->nfds++] = fd;
	return 0;
}

/*
 * master_open_unix - the socket of an internal service (private/, or
 * public/ for master_public), then the program's extra sockets
 * (master_extras)
 */
static int
master_open_unix(struct master *m, struct master_svc *s, char *err,
    size_t errlen)
{
	char	 rel[4096];
	size_t	 i;
	int	 public = master_listed(master_public, NELEM(master_public),
	    s->def->command);

	if (util_fmt(rel, sizeof(rel), "%s/%s", public ? "public" : "private",
	    s->def->name) == -1) {
		snprintf(err, errlen, "service %s: socket path too long",
		    s->def->name);
		return -1;
	}
	if (master_listen_unix(m, s, rel, public, err, errlen) == -1)
		return -1;
	for (i = 0; i < NELEM(master_extras); i++)
		if (strcmp(master_extras[i].command, s->def->command) == 0 &&
		    master_listen_unix(m, s, master_extras[i].path, 0, err,
		    errlen) == -1)
			goto fail;
	if (s->metrics != NULL && master_open_metrics(s, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	while (s->nfds > 0)
		close(s->fds[--s->nfds]);
	return -1;
}

/* master_check_opts - would the service's -o overrides be accepted */
static int
master_check_opts(struct master *m, const struct mcf_service *d, char *err,
    size_t errlen)
{
	struct cfg *c;
	char	 why[512];
	size_t	 i;
	int	 r = 0;

	if (d->nopts == 0)
		return 0;
	c = cfg_dup(m->cfg);
	for (i = 0; i < d->nopts && r == 0; i++)
		if (cfg_set(c, d->opts[i].name, d->opts[i].value, why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "master.cf line %d: service %s: "
			    "-o %s: %s", d->line, d->name, d->opts[i].name,
			    why);
			r = -1;
		}
	cfg_free(c);
	return r;
}

/* master_svc_new - a service from its master.cf entry */
static struct master_svc *
master_svc_new(struct master *m, struct mcf_service *d, char *err,
    size_t errlen)
{
	struct master_svc *s;
	struct buf key;
	char	 prog[4096];

	if (strcmp(d->command, "spawn") == 0 && (d->unpriv || d->chroot)) {
		snprintf(err, errlen, "master.cf line %d: service %s: spawn "
		    "needs unpriv n and chroot n (it runs commands as their "
		    "user=)", d->line, d->name);
		return NULL;
	}
	if (master_listed(master_single, NELEM(master_single), d->command) &&
	    d->maxproc != 1) {
		snprintf(err, errlen, "master.cf line %d: %s needs maxproc 1",
		    d->line, d->command);
		return NULL;
	}
	if (util_fmt(prog, sizeof(prog), "%s/%s", m->daemon_dir,
	    d->command) == -1 || access(prog, X_OK) == -1) {
		snprintf(err, errlen, "master.cf line %d: service %s: cannot "
		    "run %s: %s", d->line, d->name, prog, strerror(errno));
		return NULL;
	}
	if (master_check_opts(m, d, err, errlen) == -1)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->def = d;
	buf_init(&key, 4096);
	if (buf_printf(&key, "%s/%s", d->name,
	    d->type == MCF_INET ? "inet" : "unix") == -1)
		log_fatal("service name too long");
	s->key = buf_detach(&key);
	s->want = mcf_process_count(d, m->ncpu);
	if (strcmp(d->command, "anvil") == 0 &&
	    *cfg_str(m->cfg, "metrics_listen") != '\0')
		s->metrics = xstrdup(cfg_str(m->cfg, "metrics_listen"));
	return s;
}

/* master_svc_free - close and free a service */
static void
master_svc_free(struct master_svc *s)
{
	int	 i;

	for (i = 0; i < s->nfds; i++)
		close(s->fds[i]);
	if (s->restart_ev != NULL)
		event_free(s->restart_ev);
	free(s->key);
	free(s->metrics);
	free(s);
}

/* master_build - services for every master.cf entry; list in *out */
static int
master_build(struct master *m, struct master_svc **out, char *err,
    size_t errlen)
{
	struct master_svc *head = NULL, **tail = &head, *s;
	size_t	 i;

	for (i = 0; i < m->mcf.nsvc; i++) {
		if ((s = master_svc_new(m, &m->mcf.svc[i], err, errlen)) ==
		    NULL)
			goto fail;
		*tail = s;
		tail = &s->next;
	}
	*out = head;
	return 0;
fail:
	while (head != NULL) {
		s = head->next;
		master_svc_free(head);
		head = s;
	}
	return -1;
}

/* master_svc_open - open the sockets of every service in a list */
static int
master_svc_open(struct master *m, struct master_svc *list, char *err,
    size_t errlen)
{
	struct master_svc *s;

	for (s = list; s != NULL; s = s->next) {
		if (s->nfds > 0)
			continue;
		if ((s->def->type == MCF_INET ?
		    master_open_inet(m, s, err, errlen) :
		    master_open_unix(m, s, err, errlen)) == -1)
			return -1;
	}
	return 0;
}

/* master_services_open - build and open all services */
int
master_services_open(struct master *m, char *err, size_t errlen)
{
	if (master_build(m, &m->svcs, err, errlen) == -1)
		return -1;
	return master_svc_open(m, m->svcs, err, errlen);
}

/*
 * master_child_fds - in the child: the listeners as descriptors 3 and up,
 * the read end of the life pipe after them, nothing else open, and the
 * environment that says so
 */
static void
master_child_fds(struct master *m, struct master_svc *s)
{
	char	 nfds[16];
	int	 k, life;

	for (k = 0; k < s->nfds; k++)
		if (s->fds[k] == 3 + k)
			util_set_cloexec(s->fds[k], 0);
	for (k = 0; k < s->nfds; k++) {
		int tmp = fcntl(s->fds[k], F_DUPFD_CLOEXEC, 64);
		if (tmp == -1)
			_exit(127);
		s->fds[k] = tmp;
	}
	life = fcntl(m->life[0], F_DUPFD_CLOEXEC, 64);
	for (k = 0; k < s->nfds; k++)
		if (dup2(s->fds[k], 3 + k) == -1)
			_exit(127);
	/* the read end of master's life pipe follows the listeners */
	if (life == -1 || dup2(life, 3 + s->nfds) == -1)
		_exit(127);
	closefrom(4 + s->nfds);
	snprintf(nfds, sizeof(nfds), "%d", s->nfds);
	setenv("YOUJU_LISTEN_FDS", nfds, 1);
	snprintf(nfds, sizeof(nfds), "%d", 3 + s->nfds);
	setenv("YOUJU_MASTER_FD", nfds, 1);
	snprintf(nfds, sizeof(nfds), "%d", s->def->maxproc);
	setenv("YOUJU_SERVICE_MAXPROC", nfds, 1);	/* spawn's child limit */
	/* systemd hears from master only (NotifyAccess=main) */
	unsetenv("NOTIFY_SOCKET");
}

/* master_child - in the child: descriptors, arguments, exec */
static void __attribute__((noreturn))
master_child(struct master *m, struct master_svc *s)
{
	const struct mcf_service *d = s->def;
	char	 prog[4096];
	char	**argv;
	size_t	 n = 0, i;

	master_child_fds(m, s);
	if (util_fmt(prog, sizeof(prog), "%s/%s", m->daemon_dir,
	    d->command) == -1)
		_exit(127);
	argv = xcalloc(12 + 2 * d->nopts + d->nargs, sizeof(char *));
	argv[n++] = prog;
	argv[n++] = "-c";
	argv[n++] = (char *)m->config_dir;
	argv[n++] = "-n";
	argv[n++] = d->name;
	if (d->chroot)
		argv[n++] = "-r";
	if (d->unpriv)
		argv[n++] = "-u";
	for (i = 0; i < d->nopts; i++) {
		struct buf o;

		buf_init(&o, 65536);
		if (buf_printf(&o, "%s=%s", d->opts[i].name,
		    d->opts[i].value) == -1)
			_exit(127);
		argv[n++] = "-o";
		argv[n++] = buf_detach(&o);
	}
	if (d->nargs > 0) {
		argv[n++] = "--";
		for (i = 0; i < d->nargs; i++)
			argv[n++] = d->args[i];
	}
	argv[n] = NULL;
	execv(prog, argv);
	_exit(127);
}

/* master_start_one - fork one process of a service */
static void
master_start_one(struct master *m, struct master_svc *s)
{
	struct master_proc *p;
	sigset_t all, old;
	pid_t	 pid;

	/*
	 * Signals are blocked across fork: a signal that reached the child
	 * before exec would otherwise run libevent's handler, which writes to
	 * the socketpair the child shares with master - and master would act
	 * on a signal it never got (a SIGHUP: another reload).
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == -1) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		log_err("fork for %s: %s", s->def->name, strerror(errno));
		return;
	}
	if (pid == 0) {
		static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };
		size_t	 k;

		for (k = 0; k < NELEM(sigs); k++)
			signal(sigs[k], SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		master_child(m, s);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->started_ms = util_mono_ms();
	p->svc = s;
	p->next = m->procs;
	m->procs = p;
	s->running++;
	log_debug("started %s pid %ld", s->key, (long)pid);
}

/* master_singleton_busy - a retired instance of the same singleton lives */
static int
master_singleton_busy(struct master *m, struct master_svc *s)
{
	struct master_proc *p;

	if (s->want != 1)
		return 0;
	for (p = m->procs; p != NULL; p = p->next)
		if (p->svc != s && strcmp(p->svc->key, s->key) == 0)
			return 1;
	return 0;
}

/* master_fill - start processes a service lacks, honouring back-off */
static void
master_fill(struct master *m, struct master_svc *s)
{
	uint64_t now = util_mono_ms();
	struct timeval tv;

	if (m->stopping || s->retired || master_singleton_busy(m, s))
		return;
	if (s->running < s->want && s->next_start_ms > now) {
		if (s->restart_ev == NULL)
			s->restart_ev = evtimer_new(m->base, master_restart_cb,
			    s);
		tv.tv_sec = (time_t)((s->next_start_ms - now) / 1000);
		tv.tv_usec = (suseconds_t)((s->next_start_ms - now) % 1000) *
		    1000;
		evtimer_add(s->restart_ev, &tv);
		return;
	}
	while (s->running < s->want)
		master_start_one(m, s);
}

/* master_restart_cb - back-off timer expired */
static void
master_restart_cb(evutil_socket_t fd, short ev, void *arg)
{
	master_fill(&master, arg);
}

/* master_services_start - bring every service up to strength */
void
master_services_start(struct master *m)
{
	struct master_svc *s;

	for (s = m->svcs; s != NULL; s = s->next)
		master_fill(m, s);
}

/* master_exited - account for one dead child */
static void
master_exited(struct master *m, struct master_proc *p, int status)
{
	struct master_svc *s = p->svc;
	uint64_t now = util_mono_ms(), delay;
	char	 prog[4096];

	s->running--;
	(void)util_fmt(prog, sizeof(prog), "%s/%s", m->daemon_dir,
	    s->def->command);
	if (p->stopping || m->stopping || s->retired) {
		log_debug("%s pid %ld stopped", s->key, (long)p->pid);
		return;
	}
	if (WIFSIGNALED(status))
		log_warn("process %s pid %ld killed by signal %d", prog,
		    (long)p->pid, WTERMSIG(status));
	else
		log_warn("process %s pid %ld exit status %d", prog,
		    (long)p->pid, WEXITSTATUS(status));
	metrics_client_count(METRIC_RESTARTS, s->def->name,
	    s->def->type == MCF_INET ? "inet" : "unix", 1);
	if (now - p->started_ms < MASTER_CRASH_WINDOW_MS) {
		s->failures++;
		delay = MASTER_RESTART_MIN_MS;
		for (int i = 1; i < s->failures && delay < MASTER_RESTART_MAX_MS;
		    i++)
			delay *= 2;
		if (delay > MASTER_RESTART_MAX_MS)
			delay = MASTER_RESTART_MAX_MS;
		if (s->failures > 1)
			log_warn("%s: process keeps exiting -- throttling, "
			    "next start in %llu ms", s->key,
			    (unsigned long long)delay);
	} else {
		s->failures = 0;
		delay = 0;
	}
	s->next_start_ms = now + delay;
}

/* master_free_oldmcf - drop old master.cf tables once no service uses them */
static void
master_free_oldmcf(struct master *m)
{
	struct master_svc *s;
	struct master_oldmcf *om;

	for (s = m->svcs; s != NULL; s = s->next)
		if (s->retired)
			return;
	while ((om = m->oldmcf) != NULL) {
		m->oldmcf = om->next;
		mcf_free(&om->mcf);
		free(om);
	}
}

/* master_reap - collect dead children, restart what must run */
void
master_reap(struct master *m)
{
	struct master_proc **pp, *p;
	struct master_svc *s, **sp;
	pid_t	 pid;
	int	 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (pp = &m->procs; (p = *pp) != NULL; pp = &p->next)
			if (p->pid == pid)
				break;
		if (p == NULL)
			continue;
		*pp = p->next;
		master_exited(m, p, status);
		free(p);
	}
	/* free retired services whose processes are all gone */
	for (sp = &m->svcs; (s = *sp) != NULL;) {
		if (s->retired && s->running == 0) {
			*sp = s->next;
			master_svc_free(s);
		} else
			sp = &s->next;
	}
	master_free_oldmcf(m);
	master_services_start(m);
}

/*
 * master_svc_front - does the service take mail in: an inet service
 * (smtpd) or a public one (pickup); the rest is what they use
 */
int
master_svc_front(const struct mcf_service *d)
{
	return d->type == MCF_INET ||
	    master_listed(master_public, NELEM(master_public), d->command);
}

/*
 * master_stop_some - signal children (SIGTERM graceful, SIGKILL final):
 * MASTER_STOP_ALL, or only those of the front services (the sessions of
 * smtpd and pickup), or only the others (qmgr, auth, anvil, local, smtp:
 * what sessions use)
 */
void
master_stop_some(struct master *m, int sig, int which)
{
	struct master_proc *p;
	int	 inet;

	for (p = m->procs; p != NULL; p = p->next) {
		inet = p->svc != NULL && master_svc_front(p->svc->def);
		if ((which == MASTER_STOP_INET && !inet) ||
		    (which == MASTER_STOP_BACK && inet))
			continue;
		p->stopping = 1;
		kill(p->pid, sig);
	}
}

/* master_children - number of live children (of front services only) */
int
master_children_of(const struct master *m, int inet_only)
{
	const struct master_proc *p;
	int	 n = 0;

	for (p = m->procs; p != NULL; p = p->next)
		if (!inet_only || (p->svc != NULL &&
		    master_svc_front(p->svc->def)))
			n++;
	return n;
}

/* master_children - number of live children */
int
master_children(const struct master *m)
{
	return master_children_of(m, 0);
}

/* master_same_listen - can a new service take over an old one's sockets */
static int
master_same_listen(const struct master_svc *o, const struct master_svc *n)
{
	const struct mcf_service *a = o->def, *b = n->def;

	/* anvil's metrics socket is one of its own */
	if (strcmp(o->metrics != NULL ? o->metrics : "", n->metrics != NULL ?
	    n->metrics : "") != 0)
		return 0;
	if (a->type != b->type || strcmp(a->name, b->name) != 0)
		return 0;
	if (a->type == MCF_UNIX)
		return 1;
	return strcmp(a->host ? a->host : "", b->host ? b->host : "") == 0 &&
	    strcmp(a->port ? a->port : "", b->port ? b->port : "") == 0;
}

/*
 * master_reload - SIGHUP / mailctl reload: new config, new processes.
 * Listening sockets of unchanged services are kept (no refused connection
 * during a reload); every old process is told to finish and exit; the
 * queue and its index are not touched.  On a config error nothing changes.
 * systemd hears RELOADING=1 before and READY=1 after (master_notify).
 */
static int master_reload_config(struct master *, char *, size_t);

int
master_reload(struct master *m, char *err, size_t errlen)
{
	int	 r;

	master_notify("RELOADING=1");
	r = master_reload_config(m, err, errlen);
	master_notify(r == 0 ? "READY=1\nSTATUS=accepting mail" :
	    "READY=1\nSTATUS=reload failed, old configuration kept");
	return r;
}

/*
 * master_reload_config - the reload itself (see master_reload).  (Long:
 * it is one transaction - load, check, take the sockets over, or give
 * them all back - and its undo path must see every step.)
 */
static int
master_reload_config(struct master *m, char *err, size_t errlen)
{
	struct cfg *ncfg;
	struct mcf nmcf, omcf;
	struct cfg *ocfg;
	struct master_svc *nsvcs, *s, *o, **tail;
	struct master_proc *p;
	char	 path[4096];

	if ((ncfg = cfg_load_dir(m->config_dir, err, errlen)) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/master.cf", m->config_dir);
	memset(&nmcf, 0, sizeof(nmcf));
	if (mcf_load(path, (int)cfg_int(ncfg, "default_process_limit"), &nmcf,
	    err, errlen) == -1) {
		cfg_free(ncfg);
		return -1;
	}
	mcf_add_defaults(&nmcf, (int)cfg_int(ncfg, "default_process_limit"));
	if (master_check(ncfg, &nmcf, path, err, errlen) == -1) {
		mcf_free(&nmcf);
		cfg_free(ncfg);
		return -1;
	}
	ocfg = m->cfg;
	omcf = m->mcf;
	m->cfg = ncfg;
	m->mcf = nmcf;
	if (master_build(m, &nsvcs, err, errlen) == -1)
		goto undo;
	/* take over sockets of unchanged services */
	for (s = nsvcs; s != NULL; s = s->next)
		for (o = m->svcs; o != NULL; o = o->next)
			if (!o->retired && o->nfds > 0 &&
			    master_same_listen(o, s)) {
				memcpy(s->fds, o->fds, sizeof(s->fds));
				s->nfds = o->nfds;
				o->nfds = 0;
				break;
			}
	if (master_svc_open(m, nsvcs, err, errlen) == -1) {
		/* give the sockets back: nothing changed */
		for (s = nsvcs; s != NULL; s = s->next)
			for (o = m->svcs; o != NULL; o = o->next)
				if (o->nfds == 0 && s->nfds > 0 &&
				    master_same_listen(o, s)) {
					memcpy(o->fds, s->fds, sizeof(o->fds));
					o->nfds = s->nfds;
					s->nfds = 0;
				}
		while (nsvcs != NULL) {
			s = nsvcs->next;
			master_svc_free(nsvcs);
			nsvcs = s;
		}
		goto undo;
	}
	for (o = m->svcs; o != NULL; o = o->next) {
		o->retired = 1;
		for (int i = 0; i < o->nfds; i++)
			close(o->fds[i]);
		o->nfds = 0;
	}
	/* SIGHUP: stop taking new work, finish what is open, exit */
	for (p = m->procs; p != NULL; p = p->next) {
		p->stopping = 1;
		kill(p->pid, SIGHUP);
	}
	for (tail = &nsvcs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = m->svcs;
	m->svcs = nsvcs;
	/* old mcf entries are still referenced by retired services */
	{
		struct master_oldmcf *om = xcalloc(1, sizeof(*om));

		om->mcf = omcf;
		om->next = m->oldmcf;
		m->oldmcf = om;
	}
	cfg_free(ocfg);
	master_metrics_start(m);
	master_reap(m);
	log_info("reload -- configuration %s", m->config_dir);
	return 0;
undo:
	mcf_free(&m->mcf);
	cfg_free(m->cfg);
	m->cfg = ocfg;
	m->mcf = omcf;
	return -1;
}

/* master_metrics_start - see master.h (a no-op once started) */
void
master_metrics_start(struct master *m)
{
	char	 path[4096];

	if (util_fmt(path, sizeof(path), "%s/private/anvil", m->queue_dir) ==
	    -1)
		return;		/* the service sockets would not fit either */
	metrics_client_start(m->base, m->cfg, path, IPC_R_MASTER, NULL);
}

/* master_proc_uid - real uid of a process from /proc, -1 when unknown */
static long
master_proc_uid(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 uid = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Uid:", 4) == 0) {
			uid = strtol(line + 4, NULL, 10);
			break;
		}
	fclose(f);
	return uid;
}

/* master_status - one line per process for mailctl status */
void
master_status(struct master *m, struct buf *out)
{
	struct master_proc *p;
	uint64_t now = util_mono_ms();

	buf_printf(out, "%-24s %-8s %8s %6s %-9s %s\n", "SERVICE", "COMMAND",
	    "PID", "UID", "STATE", "UPTIME");
	for (p = m->procs; p != NULL; p = p->next)
		buf_printf(out, "%-24s %-8s %8ld %6ld %-9s %llus\n",
		    p->svc->key, p->svc->def->command, (long)p->pid,
		    master_proc_uid(p->pid),
		    p->stopping ? "stopping" : "running",
		    (unsigned long long)(now - p->started_ms) / 1000);
}
