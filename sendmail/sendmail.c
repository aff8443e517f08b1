/*
 * sendmail.c - sendmail(1), mailq(1) and newaliases(1): the command
 * line, the instance, and each mode.
 *
 *	sendmail [options] [recipient ...]	a message on stdin (-bm)
 *	sendmail -bs				SMTP on stdin/stdout
 *	sendmail -bp, mailq			the queue (root)
 *	sendmail -q				flush the queue (root)
 *	sendmail -bi, newaliases		check aliases, reload (root)
 *
 * The instance is -C DIR, else $MAIL_CONFIG, else the installed
 * configuration directory; main.cf says where the queue is.  No set-id
 * bit: a message goes to pickup(8) as the user who runs this, and the
 * root-only modes are mailctl's requests (mailctl_ctl.c and
 * mailctl_queue.c are linked in), refused with EX_NOPERM for anyone else.
 *
 * Exit status: sysexits.h - 0 done; EX_USAGE a bad command line or no
 * recipients; EX_NOUSER a bad recipient or sender; EX_DATAERR a message
 * pickup refuses for its content or size; EX_NOPERM a root-only mode;
 * EX_CONFIG an unreadable configuration; EX_TEMPFAIL (75) nothing was
 * queued but it may work later - above all when the mail system is not
 * running; EX_SOFTWARE, EX_PROTOCOL, EX_IOERR, EX_CANTCREAT as named.
 */
#include <sys/types.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "cfg.h"
#include "header.h"
#include "ipc.h"
#include "log.h"
#include "../mailctl/mailctl.h"
#include "util.h"
#include "sendmail.h"

#define SENDMAIL_USAGE	"usage: sendmail [-tiv] [-f sender] [-F name] " \
			    "[-C config_dir] [recipient ...]\n" \
			    "       sendmail -bs | -bp | -bi | -q\n"

static const char *sendmail_prog = "sendmail";

struct sendmail_ctx {
	struct sendmail_opts o;
	struct cfg	*cfg;
	char		 sock[4096];	/* master's control socket */
	struct sendmail_user u;
};

/* sendmail_addrs - see sendmail.h */
int
sendmail_addrs(char **w, int n, char ***v, size_t *nv, const char **why)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (header_addr_list(w[i], strlen(w[i]), v, nv,
		    HEADER_RCPT_MAX, why) == -1)
			return -1;
	return 0;
}

/* sendmail_fullname - -F, else $NAME, else the GECOS name */
static const char *
sendmail_fullname(const struct sendmail_opts *o, const struct passwd *pw,
    char *out, size_t len)
{
	const char *g;
	size_t	 n = 0;

	if (o->fullname != NULL)
		return o->fullname;
	if ((g = getenv("NAME")) != NULL && *g != '\0')
		return g;
	/* "Alice Liddell,Room 1,,": the first field; '&' is the login */
	for (g = pw->pw_gecos != NULL ? pw->pw_gecos : ""; *g != '\0' &&
	    *g != ',' && n + 1 < len; g++) {
		if (*g != '&') {
			out[n++] = *g;
			continue;
		}
		for (const char *l = pw->pw_name; *l != '\0' && n + 1 < len;
		    l++)
			out[n++] = (char)(l == pw->pw_name &&
			    *l >= 'a' && *l <= 'z' ? *l - 'a' + 'A' : *l);
	}
	out[n] = '\0';
	return out;
}

/* sendmail_warn_sender - say so when pickup did not take the -f sender */
static void
sendmail_warn_sender(const struct sendmail_ctx *c, const char *used)
{
	if (c->o.sender == NULL || sendmail_sender_kept(c->cfg,
	    *c->o.sender != '\0' ? c->o.sender : "<>", used))
		return;
	fprintf(stderr, "%s: warning: -f %s ignored: only root and the mail "
	    "system may choose the sender; sent as <%s>\n", sendmail_prog,
	    c->o.sender, used);
}

/* sendmail_not_sent - a failed submission on stderr; its exit status */
static int
sendmail_not_sent(const struct sendmail_sub *sub)
{
	if (sub->down)
		fprintf(stderr, "%s: the mail system is not running (%s); "
		    "the message was not sent\n", sendmail_prog, sub->text);
	else
		fprintf(stderr, "%s: the message was not sent: %s\n",
		    sendmail_prog, sub->text);
	return sendmail_exit(sub);
}

/* sendmail_spool_stdin - the message from stdin; 0 or an exit status */
static int
sendmail_spool_stdin(struct sendmail_ctx *c, struct sendmail_spool *sp)
{
	uint64_t limit = (uint64_t)cfg_int(c->cfg, "message_size_limit");

	if (sendmail_spool_open(sp, limit) == -1) {
		fprintf(stderr, "%s: cannot make a temporary file: %s\n",
		    sendmail_prog, strerror(errno));
		return EX_CANTCREAT;
	}
	if (sendmail_spool_input(sp, 0, c->o.dots) == -1 ||
	    sendmail_spool_rewind(sp) == -1) {
		if (errno == EFBIG) {
			fprintf(stderr, "%s: the message is larger than "
			    "message_size_limit (%llu bytes); it was not "
			    "sent\n", sendmail_prog,
			    (unsigned long long)limit);
			return EX_DATAERR;
		}
		fprintf(stderr, "%s: reading the message: %s\n",
		    sendmail_prog, strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* sendmail_mail - -bm: a message on stdin to pickup */
static int
sendmail_mail(struct sendmail_ctx *c)
{
	struct sendmail_spool sp;
	struct sendmail_sub sub;
	char	**rcpt = NULL;
	size_t	 nrcpt = 0;
	const char *why;
	int	 r;

	if (sendmail_addrs(c->o.rcpt, c->o.nrcpt, &rcpt, &nrcpt, &why) ==
	    -1) {
		fprintf(stderr, "%s: bad recipient address: %s\n",
		    sendmail_prog, why);
		cfg_list_free(rcpt, nrcpt);
		return EX_USAGE;
	}
	if (nrcpt == 0 && !c->o.extract) {
		fprintf(stderr, "%s: no recipients: name them on the command "
		    "line, or use -t to take them from the message\n",
		    sendmail_prog);
		return EX_USAGE;
	}
	if ((r = sendmail_spool_stdin(c, &sp)) != 0) {
		sendmail_spool_close(&sp);
		cfg_list_free(rcpt, nrcpt);
		return r;
	}
	memset(&sub, 0, sizeof(sub));
	sub.queue_dir = cfg_str(c->cfg, "queue_directory");
	sub.flags = (c->o.extract ? IPC_PF_EXTRACT : 0) |
	    (sp.eight ? IPC_PF_8BIT : 0) |
	    (c->o.sender != NULL ? IPC_PF_SENDER : 0);
	sub.sender = c->o.sender != NULL && *c->o.sender == '\0' ? "<>" :
	    c->o.sender;
	sub.fullname = c->u.fullname;
	sub.rcpt = rcpt;
	sub.nrcpt = nrcpt;
	sub.fd = sp.fd;
	r = sendmail_submit(&sub);
	sendmail_spool_close(&sp);
	cfg_list_free(rcpt, nrcpt);
	if (r == -1)
		return sendmail_not_sent(&sub);
	sendmail_warn_sender(c, sub.used);
	if (c->o.verbose)
		fprintf(stderr, "%s: queued as %s\n", sendmail_prog, sub.qid);
	return EX_OK;
}

/* sendmail_root - the root-only modes; 0 for root */
static int
sendmail_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "%s: only root may %s\n", sendmail_prog, what);
	return EX_NOPERM;
}

/*
 * sendmail_queue - -bp, mailq: "mailctl queue list".  Root only: the
 * list shows every user's addresses (Postfix shows it to every user
 * unless authorized_mailq_users says otherwise; youju does not).
 */
static int
sendmail_queue(struct sendmail_ctx *c)
{
	char	*argv[] = { "queue", "list", NULL };
	int	 r;

	if ((r = sendmail_root("list the mail queue: it shows the addresses "
	    "of every user's mail")) != 0)
		return r;
	return mailctl_queue_main(c->cfg, c->sock, 2, argv) == 0 ? EX_OK :
	    EX_UNAVAILABLE;
}

/* sendmail_flush - -q, -qRsite, -qSsite: "mailctl queue flush [site]" */
static int
sendmail_flush(struct sendmail_ctx *c)
{
	char	*argv[] = { "queue", "flush", (char *)(uintptr_t)c->o.site,
		    NULL };
	int	 r;

	if ((r = sendmail_root("flush the mail queue")) != 0)
		return r;
	return mailctl_queue_main(c->cfg, c->sock, c->o.site != NULL ? 3 : 2,
	    argv) == 0 ? EX_OK : EX_UNAVAILABLE;
}

/* sendmail_aliases_check - load every alias_maps file; -1 on an error */
static int
sendmail_aliases_check(struct sendmail_ctx *c)
{
	struct aliases *a;
	char	 err[1024], **v;
	const char *p;
	size_t	 n, i, k;
	int	 r = 0;

	v = cfg_list(c->cfg, "alias_maps", &n);
	for (i = 0; i < n; i++) {
		p = strchr(v[i], ':');
		p = p != NULL && p[1] == '/' ? p + 1 : v[i];
		if ((a = aliases_load(p, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: %s\n", sendmail_prog, err);
			r = -1;
			continue;
		}
		for (k = 0; k < a->nwarn; k++)
			fprintf(stderr, "%s: warning: %s\n", sendmail_prog,
			    a->warn[k]);
		aliases_free(a);
	}
	cfg_list_free(v, n);
	return r;
}

/*
 * sendmail_aliases - -bi, newaliases: youju reads the aliases text file
 * when it starts (there is no database to rebuild), so this checks it
 * and, when the mail system runs, reloads it
 */
static int
sendmail_aliases(struct sendmail_ctx *c)
{
	struct buf out;
	int	 r;

	if ((r = sendmail_root("reload the aliases")) != 0)
		return r;
	if (sendmail_aliases_check(c) == -1)
		return EX_DATAERR;
	buf_init(&out, IPC_MAX_PAYLOAD);
	if (mailctl_request(c->sock, "ping", &out) == -1) {
		printf("%s: the aliases are ready; the mail system is not "
		    "running and reads them when it starts\n", sendmail_prog);
		buf_free(&out);
		return EX_OK;
	}
	buf_reset(&out);
	r = mailctl_request(c->sock, "reload", &out);
	if (r != 0) {
		mailctl_errlines(out.data, out.len);
		fprintf(stderr, "%s: the reload failed; the aliases in use "
		    "did not change\n", sendmail_prog);
		buf_free(&out);
		return r == -1 ? EX_TEMPFAIL : EX_CONFIG;
	}
	buf_free(&out);
	printf("%s: the aliases are ready; the mail system reloaded them\n",
	    sendmail_prog);
	return EX_OK;
}

/* sendmail_smtp_mode - -bs */
static int
sendmail_smtp_mode(struct sendmail_ctx *c)
{
	return sendmail_smtp(&c->u);
}

static const struct {
	int	 mode;
	int	(*fn)(struct sendmail_ctx *);
} sendmail_modes[] = {
	{ SENDMAIL_M_MAIL, sendmail_mail },
	{ SENDMAIL_M_QUEUE, sendmail_queue },
	{ SENDMAIL_M_SMTP, sendmail_smtp_mode },
	{ SENDMAIL_M_FLUSH, sendmail_flush },
	{ SENDMAIL_M_ALIASES, sendmail_aliases },
};

/* sendmail_setup - the instance's configuration and the user */
static int
sendmail_setup(struct sendmail_ctx *c, char *gecos, size_t glen)
{
	const char *dir = c->o.config_dir;
	struct passwd *pw;
	char	 err[1024];

	if (dir == NULL && (dir = getenv("MAIL_CONFIG")) == NULL)
		dir = YOUJU_SYSCONFDIR;
	if (util_fmt(err, sizeof(err), "%s/main.cf", dir) == -1 ||
	    access(err, F_OK) == -1) {
		fprintf(stderr, "%s: no main.cf in %s: name the mail "
		    "system's configuration directory with -C DIR or "
		    "MAIL_CONFIG\n", sendmail_prog, dir);
		return EX_CONFIG;
	}
	if ((c->cfg = cfg_load_dir(dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", sendmail_prog, err);
		return EX_CONFIG;
	}
	snprintf(c->sock, sizeof(c->sock), "%s/pid/master.sock",
	    cfg_str(c->cfg, "queue_directory"));
	c->u.cfg = c->cfg;
	c->u.uid = getuid();
	if ((pw = getpwuid(c->u.uid)) == NULL) {
		fprintf(stderr, "%s: no login name for user id %ld\n",
		    sendmail_prog, (long)c->u.uid);
		return EX_NOUSER;
	}
	c->u.login = xstrdup(pw->pw_name);
	c->u.fullname = xstrdup(sendmail_fullname(&c->o, pw, gecos, glen));
	return 0;
}

/* main - parse, set up, run the mode */
int
main(int argc, char **argv)
{
	struct sendmail_ctx c;
	char	 err[1024], gecos[256];
	size_t	 i;
	int	 r;

	if (argc > 0 && argv[0] != NULL)
		sendmail_prog = strrchr(argv[0], '/') != NULL ?
		    strrchr(argv[0], '/') + 1 : argv[0];
	signal(SIGPIPE, SIG_IGN);
	log_open(sendmail_prog, LOG_TO_STDERR, NULL);
	memset(&c, 0, sizeof(c));
	if (sendmail_args(argc, argv, &c.o, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n%s", sendmail_prog, err,
		    SENDMAIL_USAGE);
		return EX_USAGE;
	}
	if ((r = sendmail_setup(&c, gecos, sizeof(gecos))) != 0)
		return r;
	r = EX_SOFTWARE;
	for (i = 0; i < NELEM(sendmail_modes); i++)
		if (sendmail_modes[i].mode == c.o.mode)
			r = sendmail_modes[i].fn(&c);
	fflush(stdout);
	cfg_free(c.cfg);
	free((char *)(uintptr_t)c.u.login);
	free((char *)(uintptr_t)c.u.fullname);
	return r;
}
