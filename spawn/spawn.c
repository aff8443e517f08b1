/*
 * spawn.c - Postfix's spawn(8): run an external command for each
 * connection to a master.cf service, the connection as the command's
 * standard input, output and error.
 *
 *	policyd-spf unix - n n - 0 spawn
 *	    user=policyd-spf argv=/usr/bin/policyd-spf
 *
 * master listens (a unix service: a stream socket at private/NAME, owner
 * mail_owner, mode 0600, so only youju's own processes can connect) and
 * runs one spawn process per service, as root and without chroot
 * (master.cf must say unpriv n, chroot n: a spawn line that says
 * otherwise is refused, the command could not run as its user).  spawn
 * accepts connections and forks a child per connection, up to maxproc at
 * once (0: SPAWN_MAX_CHILDREN); further clients wait in the backlog.
 * The child drops to user= (never root, never mail_owner; :group picks
 * the group) with privdrop, no new privileges, a clean environment and
 * "/" as its directory, and runs argv= directly (execv, no shell).  A
 * child that runs longer than NAME_time_limit (default
 * command_time_limit) gets SIGKILL.  Exits are logged when not 0.
 *
 * Errors: bad command attributes (no user=, an unknown user, root or
 * mail_owner, no argv=, a relative program, an attribute after argv=) stop
 * the process at start (master restarts it with back-off, the log says
 * why; mailctl check says it first).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "log.h"
#include "privdrop.h"
#include "skel.h"
#include "util.h"

#define SPAWN_MAX_CHILDREN	256

struct spawn_child {
	pid_t		 pid;
	struct event	*limit;		/* the time limit */
	struct spawn_child *next;
};

struct spawn {
	struct skel	*sk;
	uid_t		 uid;
	gid_t		 gid;
	char		**argv;		/* argv=..., NULL-terminated */
	long long	 time_limit;
	int		 maxchild;
	int		 nchild;
	struct event	*accept_ev;
	int		 accepting;
	struct event	*chld_ev;
	struct spawn_child *children;
};

static struct spawn spawn_state;

/* spawn_user - "user" or "user:group" into uid and gid */
static void
spawn_user(struct spawn *sp, const char *spec, const char *owner)
{
	char	 name[256];
	const char *colon = strchr(spec, ':');
	struct group *gr;
	size_t	 n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);

	if (n == 0 || n >= sizeof(name))
		log_fatal("user=%s: bad user name", log_str(spec));
	memcpy(name, spec, n);
	name[n] = '\0';
	if (privdrop_lookup(name, &sp->uid, &sp->gid) == -1)
		log_fatal("user=%s: unknown user", log_str(name));
	if (sp->uid == 0 || strcmp(name, owner) == 0)
		log_fatal("user=%s: refusing to run a command as root or as "
		    "mail_owner", log_str(name));
	if (colon != NULL) {
		if ((gr = getgrnam(colon + 1)) == NULL)
			log_fatal("user=%s: unknown group", log_str(spec));
		if (gr->gr_gid == 0)
			log_fatal("user=%s: refusing group root",
			    log_str(spec));
		sp->gid = gr->gr_gid;
	}
}

/* spawn_attrs - the command attributes after the command in master.cf */
static void
spawn_attrs(struct spawn *sp, struct skel *sk)
{
	const char *user = NULL;
	int	 i;

	for (i = 0; i < sk->nargs; i++) {
		if (strncmp(sk->args[i], "user=", 5) == 0)
			user = sk->args[i] + 5;
		else if (strncmp(sk->args[i], "argv=", 5) == 0) {
			sp->argv = xcalloc((size_t)(sk->nargs - i + 1),
			    sizeof(char *));
			sp->argv[0] = sk->args[i] + 5;
			memcpy(sp->argv + 1, sk->args + i + 1,
			    (size_t)(sk->nargs - i - 1) * sizeof(char *));
			break;
		} else
			log_fatal("unknown command attribute \"%s\" (user= "
			    "and argv=, argv= last)", log_str(sk->args[i]));
	}
	if (user == NULL)
		log_fatal("missing user= command attribute");
	if (sp->argv == NULL || sp->argv[0][0] != '/')
		log_fatal("argv= needs the command's absolute path");
	spawn_user(sp, user, cfg_str(sk->cfg, "mail_owner"));
}

/* spawn_time_limit - NAME_time_limit, else command_time_limit */
static long long
spawn_time_limit(struct skel *sk)
{
	char	 name[300];
	const char *v;
	long long t;

	snprintf(name, sizeof(name), "%s_time_limit", sk->service);
	if ((v = cfg_lookup(sk->cfg, name)) == NULL || *v == '\0')
		return cfg_time(sk->cfg, "command_time_limit");
	if (cfg_parse_time(v, 's', &t) == -1 || t < 1)
		log_fatal("%s = %s: not a time", name, log_str(v));
	return t;
}

/* spawn_exec - in the child: the connection as fds 0-2, drop, run */
static void __attribute__((noreturn))
spawn_exec(struct spawn *sp, int conn)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	sigset_t none;
	int	 sig;

	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(conn, 0) == -1 || dup2(conn, 1) == -1 || dup2(conn, 2) == -1)
		_exit(126);
	closefrom(3);		/* the log, the listener, master's pipe */
	if (chdir("/") == -1)
		_exit(126);
	privdrop(NULL, sp->uid, sp->gid);
	execve(sp->argv[0], sp->argv, envp);
	_exit(127);
}

/* spawn_kill - a child ran past the time limit */
static void
spawn_kill(evutil_socket_t fd, short what, void *arg)
{
	struct spawn_child *c = arg;

	(void)fd;
	(void)what;
	log_warn("%s: process %ld exceeded the time limit, killed",
	    spawn_state.argv[0], (long)c->pid);
	(void)kill(c->pid, SIGKILL);
}

/* spawn_accepting - accept connections or leave them in the backlog */
static void
spawn_accepting(struct spawn *sp, int on)
{
	if (on && !sp->accepting && sp->accept_ev != NULL &&
	    !sp->sk->stopping)
		event_add(sp->accept_ev, NULL);
	else if (!on && sp->accepting)
		event_del(sp->accept_ev);
	sp->accepting = on && sp->accept_ev != NULL && !sp->sk->stopping;
}

/* spawn_accept - a client: a child for it */
static void
spawn_accept(evutil_socket_t fd, short what, void *arg)
{
	struct spawn *sp = arg;
	struct spawn_child *c;
	struct timeval tv = { (time_t)sp->time_limit, 0 };
	sigset_t all, old;
	pid_t	 pid;
	int	 conn;

	(void)what;
	if ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	/*
	 * Signals stay blocked across fork until the child has reset every
	 * handler (as master does): libevent's handler in the child would
	 * tell this process of a signal it never got.
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0)
		spawn_exec(sp, conn);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		log_err("fork: %s", strerror(errno));
		close(conn);
		return;
	}
	close(conn);
	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	if ((c->limit = evtimer_new(sp->sk->base, spawn_kill, c)) == NULL)
		log_fatal("out of memory for a timer");
	evtimer_add(c->limit, &tv);
	c->next = sp->children;
	sp->children = c;
	if (++sp->nchild >= sp->maxchild)
		spawn_accepting(sp, 0);
}

/* spawn_reap - children that exited */
static void
spawn_reap(evutil_socket_t fd, short what, void *arg)
{
	struct spawn *sp = arg;
	struct spawn_child **cp, *c;
	pid_t	 pid;
	int	 st;

	(void)fd;
	(void)what;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (cp = &sp->children; *cp != NULL; cp = &(*cp)->next)
			if ((*cp)->pid == pid)
				break;
		if ((c = *cp) == NULL)
			continue;
		*cp = c->next;
		event_free(c->limit);
		free(c);
		sp->nchild--;
		if (WIFSIGNALED(st))
			log_warn("%s: process %ld killed by signal %d",
			    sp->argv[0], (long)pid, WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0)
			log_warn("%s: process %ld exit status %d", sp->argv[0],
			    (long)pid, WEXITSTATUS(st));
	}
	spawn_accepting(sp, sp->nchild < sp->maxchild);
	if (sp->sk->stopping && sp->nchild == 0)
		skel_break(sp->sk);
}

/* spawn_pre_jail - the command attributes and the time limit */
static void
spawn_pre_jail(struct skel *sk)
{
	struct spawn *sp = &spawn_state;
	const char *mp = getenv("YOUJU_SERVICE_MAXPROC");
	long long n;

	sp->sk = sk;
	spawn_attrs(sp, sk);
	sp->time_limit = spawn_time_limit(sk);
	sp->maxchild = SPAWN_MAX_CHILDREN;
	if (mp != NULL && util_parse_ll(mp, 0, SPAWN_MAX_CHILDREN, &n) == 0 &&
	    n > 0)
		sp->maxchild = (int)n;
}

/* spawn_post_jail - listen, and reap */
static void
spawn_post_jail(struct skel *sk)
{
	struct spawn *sp = &spawn_state;

	if (sk->nlisten != 1)
		log_fatal("spawn needs one listening socket from master");
	util_set_nonblock(sk->listen_fd[0], 1);
	sp->accept_ev = event_new(sk->base, sk->listen_fd[0],
	    EV_READ | EV_PERSIST, spawn_accept, sp);
	sp->chld_ev = evsignal_new(sk->base, SIGCHLD, spawn_reap, sp);
	if (sp->accept_ev == NULL || sp->chld_ev == NULL ||
	    evsignal_add(sp->chld_ev, NULL) == -1)
		log_fatal("cannot set up events");
	spawn_accepting(sp, 1);
	log_info("spawning %s as uid %lu for service %s", sp->argv[0],
	    (unsigned long)sp->uid, sk->service);
}

/* spawn_retire - stop accepting; running commands finish */
static void
spawn_retire(struct skel *sk)
{
	struct spawn *sp = &spawn_state;

	spawn_accepting(sp, 0);
	if (sp->nchild == 0)
		skel_break(sk);
}

/* spawn_stop - SIGTERM: stop accepting, and end the running commands */
static void
spawn_stop(struct skel *sk)
{
	struct spawn *sp = &spawn_state;
	struct spawn_child *c;

	for (c = sp->children; c != NULL; c = c->next)
		(void)kill(c->pid, SIGTERM);
	spawn_retire(sk);
}

static const struct skel_ops spawn_ops = {
	.name = "spawn",
	.flags = SKEL_F_STAY_ROOT | SKEL_F_NO_CHROOT,
	.pre_jail = spawn_pre_jail,
	.post_jail = spawn_post_jail,
	.stop = spawn_stop,
	.retire = spawn_retire,
};

/* main - run the spawn process */
int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &spawn_ops);
}
