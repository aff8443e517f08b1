/*
 * mailctl.c - the one admin command.
 *
 *	mailctl [-c config_dir] start | stop | reload | status | check
 *
 * start	runs master in the background and returns once it listens
 *		(or prints why it could not start)
 * stop		graceful stop; waits until master has exited
 * reload	re-read main.cf and master.cf without dropping the queue
 * status	master's pid and every process with its pid, uid and state
 * check	check main.cf and master.cf, list unknown parameters
 * user		add, passwd, del, list: the users file (mailctl_user.c)
 * queue	list, show, flush, hold, release, delete, requeue, reindex
 *		(mailctl_queue.c)
 * dkim		keygen, list, rotate: DKIM keys (mailctl_dkim.c)
 * dns		records, check: the DNS records to publish (mailctl_dns.c)
 * config	show or edit main.cf, show master.cf: postconf (mailctl_config.c)
 * map		build, query (-q) or check (-n) lookup tables (mailctl_map.c)
 * doctor	what goes wrong on a new server, with fixes (mailctl_doctor.c)
 * explain	one message's life from the queue and the log
 *		(mailctl_explain.c)
 *
 * Exit status: 0 on success, 1 on failure, 2 on a usage error.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "cfcheck.h"
#include "ipc.h"
#include "log.h"
#include "mailctl.h"
#include "mcf.h"
#include "privdrop.h"
#include "users.h"
#include "util.h"

struct mailctl {
	const char	*config_dir;
	struct cfg	*cfg;
	char		 sock[4096];
	char		 pidfile[4096];
};

struct mailctl_cmd {
	const char	*name;
	int		(*fn)(struct mailctl *, int, char **);
	const char	*help;
};

/* mailctl_usage - print the commands */
static void __attribute__((noreturn))
mailctl_usage(void)
{
	fprintf(stderr, "usage: mailctl [-c config_dir] command\n"
	    "commands: start stop reload status check user queue dkim "
	    "dns config map doctor explain\n");
	exit(2);
}

/* mailctl_reload_after - see mailctl.h */
int
mailctl_reload_after(const char *sock, const char *changed,
    const char *stopped)
{
	struct buf out;
	int	 r = 0;

	buf_init(&out, IPC_MAX_PAYLOAD);
	if (mailctl_request(sock, "ping", &out) != 0)
		printf("youju: the mail system is not running; %s\n", stopped);
	else {
		buf_reset(&out);
		if (mailctl_request(sock, "reload", &out) == 0)
			printf("youju: reloaded\n");
		else {
			fprintf(stderr, "mailctl: %s but the reload failed%s%s; "
			    "see the mail log\n", changed, out.len > 0 ? ": " :
			    "", buf_cstr(&out));
			r = 1;
		}
	}
	buf_free(&out);
	return r;
}

/* mailctl_master_pid - from the pid file, or -1 */
static long
mailctl_master_pid(struct mailctl *mc)
{
	char	 b[32];
	long long v;
	int	 fd;
	ssize_t	 n;

	if ((fd = open(mc->pidfile, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	if (util_parse_ll(util_trim(b), 1, 1 << 30, &v) == -1)
		return -1;
	return (long)v;
}

/* mailctl_start_child - exec master with the readiness pipe */
static void __attribute__((noreturn))
mailctl_start_child(struct mailctl *mc, int wfd)
{
	char	 prog[4096], fdarg[16];
	int	 null;

	setsid();
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	snprintf(prog, sizeof(prog), "%s/master",
	    cfg_str(mc->cfg, "daemon_directory"));
	snprintf(fdarg, sizeof(fdarg), "%d", wfd);
	execl(prog, prog, "-c", mc->config_dir, "-w", fdarg, (char *)NULL);
	_exit(127);
}

/*
 * mailctl_start_wait - master's words on fd into out until "ready" (1),
 * or the pipe's end or the deadline (0)
 */
static int
mailctl_start_wait(int fd, struct buf *out, uint64_t deadline)
{
	struct pollfd pfd;
	char	 b[1024];
	ssize_t	 n;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (util_mono_ms() < deadline) {
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((n = read(fd, b, sizeof(b))) <= 0)
			break;
		buf_append(out, b, (size_t)n);
		if (strstr(buf_cstr(out), "ready\n") != NULL)
			return 1;
	}
	return 0;
}

/* mailctl_start - start master and wait for "ready" */
static int
mailctl_start(struct mailctl *mc, int argc, char **argv)
{
	struct buf out;
	int	 p[2], status;
	pid_t	 pid;
	uint64_t deadline = util_mono_ms() + 60000;

	buf_init(&out, 4096);
	if (mailctl_request(mc->sock, "ping", &out) == 0) {
		printf("youju: the mail system is already running (master pid "
		    "%ld)\n", mailctl_master_pid(mc));
		buf_free(&out);
		return 1;
	}
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		fprintf(stderr, "mailctl: cannot start master: %s\n",
		    strerror(errno));
		buf_free(&out);
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		util_set_cloexec(p[1], 0);
		mailctl_start_child(mc, p[1]);
	}
	close(p[1]);
	buf_reset(&out);
	if (mailctl_start_wait(p[0], &out, deadline)) {
		printf("youju: started (master pid %ld)\n", (long)pid);
		close(p[0]);
		buf_free(&out);
		return 0;
	}
	close(p[0]);
	if (out.len > 0) {
		fprintf(stderr, "mailctl: master could not start: %s",
		    buf_cstr(&out));
		buf_free(&out);
		return 1;
	}
	buf_free(&out);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		fprintf(stderr, "mailctl: master did not become ready in time;"
		    " see the mail log\n");
		return 1;
	}
	fprintf(stderr, "mailctl: master exited before it was ready; see the "
	    "mail log (maillog_file or syslog)\n");
	return 1;
}

/* mailctl_stop - graceful stop, wait for the exit */
static int
mailctl_stop(struct mailctl *mc, int argc, char **argv)
{
	struct buf out;
	long	 pid = mailctl_master_pid(mc);
	uint64_t deadline = util_mono_ms() +
	    (uint64_t)(cfg_time(mc->cfg, "master_stop_timeout") + 15) * 1000;

	buf_init(&out, 4096);
	if (mailctl_request(mc->sock, "stop", &out) == -1) {
		printf("youju: the mail system is not running\n");
		buf_free(&out);
		return 1;
	}
	buf_free(&out);
	while (pid > 0 && kill((pid_t)pid, 0) == 0 &&
	    util_mono_ms() < deadline)
		usleep(50000);
	if (pid > 0 && kill((pid_t)pid, 0) == 0) {
		fprintf(stderr, "mailctl: master pid %ld is still running\n",
		    pid);
		return 1;
	}
	printf("youju: stopped\n");
	return 0;
}

/* mailctl_simple - reload or status */
static int
mailctl_simple(struct mailctl *mc, const char *what)
{
	struct buf out;
	int	 r;

	buf_init(&out, IPC_MAX_PAYLOAD);
	if ((r = mailctl_request(mc->sock, what, &out)) == -1) {
		printf("youju: the mail system is not running\n");
		buf_free(&out);
		return 1;
	}
	if (strcmp(what, "status") == 0)
		printf("youju: running (master pid %ld)\n",
		    mailctl_master_pid(mc));
	printf("%s%s", buf_cstr(&out), out.len > 0 &&
	    out.data[out.len - 1] != '\n' ? "\n" : "");
	buf_free(&out);
	return r == 0 ? 0 : 1;
}

static int
mailctl_reload(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_simple(mc, "reload");
}

static int
mailctl_status(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_simple(mc, "status");
}

/* mailctl_check_mcf - main.cf and every master.cf service with its -o */
static void
mailctl_check_mcf(struct mailctl *mc, struct cfcheck *ck)
{
	char	 err[1024], path[4096];
	struct mcf mcf;

	snprintf(path, sizeof(path), "%s/master.cf", mc->config_dir);
	memset(&mcf, 0, sizeof(mcf));
	if (mcf_load(path, (int)cfg_int(mc->cfg, "default_process_limit"),
	    &mcf, err, sizeof(err)) == -1) {
		cfcheck_add(ck, 1, "%s", err);
		/* main.cf alone is still worth checking */
	}
	cfcheck_config(ck, mc->cfg, &mcf, path);
	mcf_free(&mcf);
}

/*
 * mailctl_check_logins - a warning per user that can never log in (mail
 * for it is still delivered, so it is not an error)
 */
static void
mailctl_check_logins(struct cfcheck *ck, const char *path,
    const struct users *u)
{
	char	 why[256];
	size_t	 i;

	for (i = 0; i < u->n; i++)
		if (users_login_problem(&u->ent[i], why, sizeof(why)) != NULL)
			cfcheck_add(ck, 0, "%s:%d: %s: cannot log in: %s", path,
			    u->ent[i].line, log_str(u->ent[i].name), why);
}

/* mailctl_check_tables - the users file and aliases load without warnings */
static void
mailctl_check_tables(struct mailctl *mc, struct cfcheck *ck)
{
	char	 err[1024], **v;
	struct users *u;
	struct aliases *a;
	const char *p;
	size_t	 n, i, k;

	if ((u = users_load(cfg_str(mc->cfg, "users_file"), err,
	    sizeof(err))) == NULL)
		cfcheck_add(ck, 1, "users_file: %s", err);
	else {
		/* a skipped line is a user who gets no mail */
		for (i = 0; i < u->nwarn; i++)
			cfcheck_add(ck, 1, "%s", u->warn[i]);
		mailctl_check_logins(ck, cfg_str(mc->cfg, "users_file"), u);
		users_free(u);
	}
	v = cfg_list(mc->cfg, "alias_maps", &n);
	for (i = 0; i < n; i++) {
		p = strchr(v[i], ':');
		p = (p != NULL && p[1] == '/') ? p + 1 : v[i];
		if ((a = aliases_load(p, err, sizeof(err))) == NULL) {
			cfcheck_add(ck, 1, "alias_maps: %s", err);
			continue;
		}
		for (k = 0; k < a->nwarn; k++)
			cfcheck_add(ck, 1, "%s", a->warn[k]);
		aliases_free(a);
	}
	cfg_list_free(v, n);
}

struct mailctl_dests {
	char	**v;
	size_t	 n;
};

/* mailctl_is_mydest - aliases_resolve's "is this domain ours" */
static int
mailctl_is_mydest(void *arg, const char *domain)
{
	const struct mailctl_dests *d = arg;
	size_t	 i;

	if (domain == NULL || *domain == '\0')
		return 1;
	for (i = 0; i < d->n; i++)
		if (util_strcasecmp_ascii(d->v[i], domain) == 0)
			return 1;
	return 0;
}

/*
 * mailctl_check_bare - a target without a domain goes to @$myorigin; when
 * that is no local domain, "postmaster: alice" sends the postmaster's
 * mail away (a common slip: mydestination without $myorigin)
 */
static void
mailctl_check_bare(struct cfcheck *ck, const struct aliases_query *q,
    struct mailctl_dests *d, const char *map, const struct aliases_ent *e)
{
	const char *path, *t;
	size_t	 i;

	if (q->origin == NULL || mailctl_is_mydest(d, q->origin))
		return;
	for (i = 0; i < e->ntargets; i++)
		if (strchr(e->targets[i], '@') == NULL) {
			path = strchr(map, ':');
			path = path != NULL && path[1] == '/' ? path + 1 : map;
			t = e->targets[i] + (e->targets[i][0] == '\\');
			cfcheck_add(ck, 0, "%s:%d: alias %s: %s becomes %s@%s "
			    "(myorigin), which is not a domain of "
			    "mydestination", path, e->line, e->name, t, t,
			    q->origin);
			return;
		}
}

/*
 * mailctl_alias_nouser - the first of an alias's targets out that is an
 * address of ours but no user (nor its base before the delimiter); NULL
 */
static const char *
mailctl_alias_nouser(const struct users *u, const struct aliases_query *q,
    struct mailctl_dests *d, char **out, size_t nout)
{
	struct addr t;
	const char *why;
	char	 base[ADDR_LOCAL_MAX + 1];
	size_t	 j;

	for (j = 0; j < nout; j++)
		if (addr_parse_mailbox(out[j], &t, &why) == 0 &&
		    mailctl_is_mydest(d, t.domain) &&
		    users_find(u, t.local, t.domain) == NULL &&
		    (addr_base_local(t.local, q->delims, base,
		    sizeof(base)) != 0 || users_find(u, base, t.domain) ==
		    NULL))
			return out[j];
	return NULL;
}

/*
 * mailctl_check_alias_targets - an alias that reaches a local address
 * that is no user: auth refuses mail to the alias at RCPT (it could not
 * be delivered), so say so here
 */
static void
mailctl_check_alias_targets(struct mailctl *mc, struct cfcheck *ck)
{
	struct mailctl_dests d;
	struct aliases_query q;
	struct users *u;
	struct addr a;
	const struct aliases_ent *e;
	const char *why, *dom, *path, *bad;
	char	 err[1024], **v, **out;
	size_t	 n, i, k, nout;

	memset(&q, 0, sizeof(q));
	if ((u = users_load(cfg_str(mc->cfg, "users_file"), err,
	    sizeof(err))) == NULL)
		return;		/* mailctl_check_tables said why */
	v = cfg_list(mc->cfg, "alias_maps", &n);
	q.tabs = aliases_load_maps(v, n, &q.ntabs, err, sizeof(err));
	d.v = cfg_list(mc->cfg, "mydestination", &d.n);
	q.delims = cfg_str(mc->cfg, "recipient_delimiter");
	q.origin = cfg_bool(mc->cfg, "append_at_myorigin") ?
	    cfg_str(mc->cfg, "myorigin") : NULL;
	q.is_local = mailctl_is_mydest;
	q.arg = &d;
	for (k = 0; q.tabs != NULL && d.n > 0 && k < q.ntabs; k++)
		for (i = 0; i < q.tabs[k]->n; i++) {
			e = &q.tabs[k]->ent[i];
			mailctl_check_bare(ck, &q, &d, v[k], e);
			if (addr_parse_mailbox(e->name, &a, &why) == 0)
				dom = a.domain;
			else {
				util_strlcpy(a.local, e->name, sizeof(a.local));
				dom = d.v[0];
			}
			if (aliases_resolve(&q, a.local, dom, &out, &nout) != 1)
				continue;
			if ((bad = mailctl_alias_nouser(u, &q, &d, out,
			    nout)) != NULL) {
				path = strchr(v[k], ':');
				path = path != NULL && path[1] == '/' ?
				    path + 1 : v[k];
				cfcheck_add(ck, 0, "%s:%d: alias %s: %s is not "
				    "in the users file, so mail to the alias is "
				    "refused at RCPT", path, e->line, e->name,
				    bad);
			}
			aliases_list_free(out, nout);
		}
	for (k = 0; q.tabs != NULL && k < q.ntabs; k++)
		aliases_free(q.tabs[k]);
	free(q.tabs);
	cfg_list_free(v, n);
	cfg_list_free(d.v, d.n);
	users_free(u);
}

/* mailctl_check_all - every check of "mailctl check" into ck */
static void
mailctl_check_all(struct mailctl *mc, struct cfcheck *ck)
{
	uid_t	 uid;
	gid_t	 gid;

	cfcheck_init(ck);
	mailctl_check_mcf(mc, ck);
	mailctl_check_tables(mc, ck);
	mailctl_check_alias_targets(mc, ck);
	if (privdrop_lookup(cfg_str(mc->cfg, "mail_owner"), &uid, &gid) ==
	    -1)
		cfcheck_add(ck, 1, "mail_owner \"%s\" does not exist; create "
		    "it with: useradd --system --user-group --no-create-home "
		    "--shell /usr/sbin/nologin %s",
		    cfg_str(mc->cfg, "mail_owner"),
		    cfg_str(mc->cfg, "mail_owner"));
	else if (uid == 0)
		cfcheck_add(ck, 1, "mail_owner must not be root");
}

/*
 * mailctl_check - configuration check: main.cf, master.cf, users,
 * aliases.  Every finding on stderr as "mailctl: error: ..." or
 * "mailctl: warning: ..."; the last line "DIR: configuration ok" or
 * "DIR: N errors, M warnings"; exit 1 only with an error.
 */
static int
mailctl_check(struct mailctl *mc, int argc, char **argv)
{
	struct cfcheck ck;
	const char *p, *nl;
	int	 rc;

	mailctl_check_all(mc, &ck);
	for (p = buf_cstr(&ck.out); (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1)
		fprintf(stderr, "mailctl: %.*s\n", (int)(nl - p), p);
	fflush(stderr);
	if (ck.nerr == 0 && ck.nwarn == 0)
		printf("%s: configuration ok\n", mc->config_dir);
	else
		printf("%s: %d error%s, %d warning%s\n", mc->config_dir,
		    ck.nerr, ck.nerr == 1 ? "" : "s", ck.nwarn,
		    ck.nwarn == 1 ? "" : "s");
	rc = ck.nerr > 0;
	cfcheck_free(&ck);
	return rc;
}


/* mailctl_user - hand "user ..." to mailctl_user.c */
static int
mailctl_user(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_user_main(mc->cfg, mc->sock, argc, argv);
}

/* mailctl_dkim - hand "dkim ..." to mailctl_dkim.c */
static int
mailctl_dkim(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_dkim_main(mc->cfg, mc->sock, argc, argv);
}

/* mailctl_dns - hand "dns ..." to mailctl_dns.c */
static int
mailctl_dns(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_dns_main(mc->cfg, mc->sock, argc, argv);
}

/* mailctl_queue - hand "queue ..." to mailctl_queue.c */
static int
mailctl_queue(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_queue_main(mc->cfg, mc->sock, argc, argv);
}

/* mailctl_config - hand "config ..." to mailctl_config.c */
static int
mailctl_config(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_config_main(mc->cfg, argc, argv);
}

/* mailctl_map - hand "map ..." to mailctl_map.c */
static int
mailctl_map(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_map_main(mc->cfg, argc, argv);
}

/* mailctl_doctor - the checks of "check", then mailctl_doctor.c's */
static int
mailctl_doctor(struct mailctl *mc, int argc, char **argv)
{
	struct cfcheck ck;
	int	 r;

	mailctl_check_all(mc, &ck);
	r = mailctl_doctor_main(mc->cfg, mc->config_dir, &ck, argc, argv);
	cfcheck_free(&ck);
	return r;
}

/* mailctl_explain - hand "explain QUEUE_ID" to mailctl_explain.c */
static int
mailctl_explain(struct mailctl *mc, int argc, char **argv)
{
	return mailctl_explain_main(mc->cfg, mc->sock, argc, argv);
}

static const struct mailctl_cmd mailctl_cmds[] = {
	{ "start", mailctl_start, "start the mail system" },
	{ "stop", mailctl_stop, "stop the mail system" },
	{ "reload", mailctl_reload, "re-read the configuration" },
	{ "status", mailctl_status, "show the processes" },
	{ "check", mailctl_check, "check the configuration" },
	{ "user", mailctl_user, "add, change, delete or list mail users" },
	{ "queue", mailctl_queue, "list and manage the mail queue" },
	{ "dkim", mailctl_dkim, "make, list and rotate DKIM keys" },
	{ "dns", mailctl_dns, "print and check the DNS records to publish" },
	{ "config", mailctl_config, "show or change main.cf and master.cf "
	    "(postconf)" },
	{ "map", mailctl_map, "build, query or check lookup tables" },
	{ "doctor", mailctl_doctor, "find what goes wrong, and say how to "
	    "fix it" },
	{ "explain", mailctl_explain, "one message's life from the queue "
	    "and the log" },
};

/* main - parse -c, load main.cf, run the command */
int
main(int argc, char **argv)
{
	struct mailctl mc;
	const char *qd;
	char	 err[1024];
	size_t	 i;
	int	 c;

	memset(&mc, 0, sizeof(mc));
	mc.config_dir = YOUJU_SYSCONFDIR;
	while ((c = getopt(argc, argv, "+c:")) != -1) {
		if (c == 'c')
			mc.config_dir = optarg;
		else
			mailctl_usage();
	}
	if (optind >= argc)
		mailctl_usage();
	signal(SIGPIPE, SIG_IGN);
	log_open("mailctl", LOG_TO_STDERR, NULL);
	if ((mc.cfg = cfg_load_dir(mc.config_dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mailctl: %s\n", err);
		return 1;
	}
	qd = cfg_str(mc.cfg, "queue_directory");
	snprintf(mc.sock, sizeof(mc.sock), "%s/pid/master.sock", qd);
	snprintf(mc.pidfile, sizeof(mc.pidfile), "%s/pid/master.pid", qd);
	for (i = 0; i < NELEM(mailctl_cmds); i++)
		if (strcmp(argv[optind], mailctl_cmds[i].name) == 0) {
			c = mailctl_cmds[i].fn(&mc, argc - optind,
			    argv + optind);
			cfg_free(mc.cfg);
			return c;
		}
	fprintf(stderr, "mailctl: unknown command \"%s\"\n", argv[optind]);
	cfg_free(mc.cfg);
	mailctl_usage();
}
