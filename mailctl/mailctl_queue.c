/*
 * mailctl_queue.c - "mailctl queue": the admin's view of and control over
 * the mail queue.
 *
 *	mailctl queue list [--json]
 *	mailctl queue show ID
 *	mailctl queue flush [ID | DOMAIN]
 *	mailctl queue hold ID
 *	mailctl queue release ID
 *	mailctl queue delete ID | ALL [active | deferred | hold] | --all |
 *	    --all-deferred | --from PATTERN | --to PATTERN
 *	mailctl queue requeue ID
 *	mailctl queue reindex
 *
 * qmgr owns the queue: its files, the index and every change to them.
 * While the mail system runs every request goes to qmgr on its control
 * socket (qmgr_ctl.c).  When it is stopped, mailctl runs qmgr once
 * ("qmgr -x": chrooted to the queue directory as mail_owner, it reads the
 * queue, answers this one request on a socket pair and exits), so the
 * same code answers either way; "flush" and "requeue" then mark messages
 * to be tried as soon as the mail system starts.  mailctl itself only
 * checks the command line and speaks the control protocol: the answer on
 * stdout, errors and warnings on stderr.  Only root may run these
 * commands (qmgr answers root only).
 * Exit status: 0 done, 1 failed, 2 usage error.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "mailctl.h"
#include "util.h"

#define MQ_ANSWER_MAX	((size_t)256 * 1024 * 1024) /* qmgr's, but list */

/* the queues "delete ALL QUEUE" takes (as list shows them) */
static const char *const mailctl_queue_names[] = {
	"active", "deferred", "hold"
};

/* mailctl_queue_known - is s one of mailctl_queue_names */
static int
mailctl_queue_known(const char *s)
{
	size_t	 i;

	for (i = 0; i < NELEM(mailctl_queue_names); i++)
		if (strcmp(s, mailctl_queue_names[i]) == 0)
			return 1;
	return 0;
}

/* mailctl_queue_usage - the queue commands */
static int
mailctl_queue_usage(void)
{
	fprintf(stderr, "usage: mailctl queue list [--json]\n"
	    "       mailctl queue show ID\n"
	    "       mailctl queue flush [ID | DOMAIN]\n"
	    "       mailctl queue hold ID | release ID | requeue ID\n"
	    "       mailctl queue delete ID | ALL [active | deferred | hold]"
	    " | --all\n"
	    "       mailctl queue delete --all-deferred | --from ADDR | "
	    "--to DOMAIN\n"
	    "       mailctl queue reindex\n");
	return 2;
}

/*
 * mailctl_queue_pattern - "delete --from|--to PATTERN": "<addr>" loses
 * its brackets, "" and "<>" are the null sender; qmgr checks the rest
 * (qview.h)
 */
static int
mailctl_queue_pattern(const char *opt, char *pat, char **req, int *nreq)
{
	size_t	 len = strlen(pat);

	if (len > 2 && pat[0] == '<' && pat[len - 1] == '>') {
		memmove(pat, pat + 1, len - 2);
		pat[len - 2] = '\0';
	}
	req[(*nreq)++] = strcmp(opt, "--from") == 0 ? "delete-from" :
	    "delete-to";
	req[(*nreq)++] = *pat == '\0' ? "<>" : pat;
	return 0;
}

/*
 * mailctl_queue_args - the command line as qmgr's request; -1 on a usage
 * error
 */
static int
mailctl_queue_args(int argc, char **argv, char **req, int *nreq)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	*nreq = 0;
	if (strcmp(cmd, "list") == 0 && argc <= 3) {
		req[(*nreq)++] = "list";
		if (argc == 3) {
			if (strcmp(argv[2], "--json") != 0)
				return -1;
			req[(*nreq)++] = "json";
		}
		return 0;
	}
	if (strcmp(cmd, "delete") == 0 && argc == 3 &&
	    strcmp(argv[2], "--all-deferred") == 0) {
		req[(*nreq)++] = "delete-all";
		req[(*nreq)++] = "deferred";
		return 0;
	}
	if (strcmp(cmd, "delete") == 0 && argc == 3 &&
	    strcmp(argv[2], "--all") == 0) {
		req[(*nreq)++] = "delete-all";
		return 0;
	}
	if (strcmp(cmd, "delete") == 0 && argc == 4 &&
	    (strcmp(argv[2], "--from") == 0 || strcmp(argv[2], "--to") == 0))
		return mailctl_queue_pattern(argv[2], argv[3], req, nreq);
	/* postsuper -d ALL [queue] */
	if (strcmp(cmd, "delete") == 0 && (argc == 3 || argc == 4) &&
	    strcmp(argv[2], "ALL") == 0) {
		if (argc == 4 && !mailctl_queue_known(argv[3])) {
			fprintf(stderr, "mailctl: queue delete ALL: no queue "
			    "\"%s\" (active, deferred or hold)\n",
			    log_str(argv[3]));
			return -1;
		}
		req[(*nreq)++] = "delete-all";
		if (argc == 4)
			req[(*nreq)++] = argv[3];
		return 0;
	}
	if ((strcmp(cmd, "flush") == 0 && argc <= 3) ||
	    (strcmp(cmd, "reindex") == 0 && argc == 2) ||
	    ((strcmp(cmd, "show") == 0 || strcmp(cmd, "hold") == 0 ||
	    strcmp(cmd, "release") == 0 || strcmp(cmd, "delete") == 0 ||
	    strcmp(cmd, "requeue") == 0) && argc == 3)) {
		req[(*nreq)++] = argv[1];
		if (argc == 3) {
			if (argv[2][0] == '-' || strlen(argv[2]) > 255)
				return -1;
			req[(*nreq)++] = argv[2];
		}
		return 0;
	}
	return -1;
}

/*
 * mailctl_queue_relay - qmgr's answer: stdout, or stderr as errors on
 * failure
 */
static void
mailctl_queue_relay(const struct buf *out, int status)
{
	if (status == 0)
		fwrite(out->data, 1, out->len, stdout);
	else
		mailctl_errlines(out->data, out->len);
}

/*
 * mailctl_queue_oneshot - the mail system is stopped: run "qmgr -x" with
 * one end of a socket pair as its descriptor 3 and ask it as a running
 * qmgr is asked; its answer's status, or -1 (said on stderr)
 */
static int
mailctl_queue_oneshot(const struct cfg *cfg, int nreq, char **req, FILE *stream,
    struct buf *out)
{
	char	 prog[4096];
	pid_t	 pid;
	int	 sv[2], st, r = -1;

	if (util_fmt(prog, sizeof(prog), "%s/qmgr", cfg_str(cfg,
	    "daemon_directory")) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		fprintf(stderr, "mailctl: cannot run the queue manager: %s\n",
		    strerror(errno));
		return -1;
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "mailctl: fork: %s\n", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* the socket becomes the one listening descriptor, fd 3 */
		if ((sv[1] == 3 ? util_set_cloexec(3, 0) : dup2(sv[1], 3)) ==
		    -1 || setenv("YOUJU_LISTEN_FDS", "1", 1) == -1)
			_exit(127);
		execl(prog, "qmgr", "-c", cfg_str(cfg, "config_directory"),
		    "-r", "-u", "-x", (char *)NULL);
		fprintf(stderr, "mailctl: cannot run %s: %s\n", prog,
		    strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	if (ipc_hello_client(sv[0], IPC_R_MAILCTL, IPC_R_QMGR) == 0)
		r = mailctl_talk(sv[0], IPC_R_QMGR, nreq, req, stream, out);
	else
		close(sv[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (r == -1) {
		if (stream != NULL)
			fflush(stream);
		fprintf(stderr, "mailctl: the mail system is stopped and its "
		    "queue manager (%s -x) could not answer; see the mail "
		    "log\n", prog);
	}
	return r;
}

/* mailctl_queue_ask - see mailctl.h */
int
mailctl_queue_ask(const struct cfg *cfg, const char *sock, int nreq,
    char **req, FILE *stream, struct buf *out)
{
	struct buf ping;
	char	 path[4096];
	int	 r, running;

	if (geteuid() != 0) {
		/* qmgr answers root only; the stopped case needs the chroot */
		fprintf(stderr, "mailctl: the queue commands must be run as "
		    "root\n");
		return -1;
	}
	buf_init(&ping, 4096);
	running = mailctl_request(sock, "ping", &ping) == 0;
	buf_free(&ping);
	if (util_fmt(path, sizeof(path), "%s/%s", cfg_str(cfg,
	    "queue_directory"), IPC_QMGR_CONTROL) == -1)
		return -1;
	fflush(stdout);
	if (!running)
		return mailctl_queue_oneshot(cfg, nreq, req, stream, out);
	if ((r = mailctl_call(path, IPC_R_QMGR, nreq, req, stream, out)) ==
	    -1) {
		fflush(stdout);
		fprintf(stderr, "mailctl: the mail system runs but its queue "
		    "manager does not answer on %s; try again in a moment\n",
		    path);
	}
	return r;
}

/*
 * mailctl_queue_main - see mailctl.h.  A list is written as it comes; any
 * other answer is short, and kept until its status says whether it is an
 * error (stderr, like the messages of the stopped case) or not.
 */
int
mailctl_queue_main(const struct cfg *cfg, const char *sock, int argc,
    char **argv)
{
	struct buf out;
	char	*req[3];
	int	 nreq, r, list;

	if (mailctl_queue_args(argc, argv, req, &nreq) == -1)
		return mailctl_queue_usage();
	list = strcmp(req[0], "list") == 0;
	buf_init(&out, MQ_ANSWER_MAX);
	if ((r = mailctl_queue_ask(cfg, sock, nreq, req, list ? stdout : NULL,
	    &out)) == -1) {
		buf_free(&out);
		return 1;
	}
	if (!list)
		mailctl_queue_relay(&out, r);
	buf_free(&out);
	fflush(stdout);
	return r;
}
