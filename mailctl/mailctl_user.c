/*
 * mailctl_user.c - mailctl user add | passwd | del | list: edit the users
 * file (youju-users(5)) without touching what the command is not about.
 *
 *	mailctl user add ADDRESS [-s SCHEME] [--password-stdin]
 *	    [--uid N --gid N] [--home DIR]
 *	mailctl user passwd ADDRESS [-s SCHEME] [--password-stdin]
 *	mailctl user del ADDRESS
 *	mailctl user list
 *
 * Interface: mailctl_user_main(cfg, control socket, argc, argv) with argv
 * starting at "user"; returns the exit status (0 done, 1 failed, 2 usage).
 *
 * A change, under an exclusive flock(2) of USERS.lock (kept, never
 * removed, so that two mailctls always lock the same inode):
 *	read USERS whole (missing: empty, for add only), parse it with
 *	users_parse_buf -> build the new content in memory: add appends one
 *	line, passwd replaces the bytes of one password field, del drops one
 *	line; every other byte stays as it was -> re-parse the new content
 *	and check that exactly the intended entry changed -> write
 *	USERS.tmp.<pid> with the owner and mode of USERS (0600 and our own
 *	ids when new) -> fsync -> rename over USERS (the commit point) ->
 *	fsync the directory.
 * Then, when master answers a ping, a reload makes auth re-read the file.
 *
 * Errors go to stderr as "mailctl: ..."; neither the password nor its
 * hash is ever printed or logged, and the password buffers are wiped.
 *
 * Longer than the 800 lines STYLE.md aims at: it holds the terminal
 * password reader as well as the file editing.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "mailctl.h"
#include "passwd.h"
#include "users.h"
#include "util.h"

#define MU_DEFAULT_SCHEME "ARGON2ID"

/* which options a subcommand takes */
#define MU_O_ADDR	0x01	/* an ADDRESS argument (required) */
#define MU_O_PASS	0x02	/* -s, --password-stdin */
#define MU_O_ENTRY	0x04	/* --uid, --gid, --home */

struct mailctl_user_opts {
	char		 name[ADDR_BUFSZ];	/* checked, lower case */
	const char	*scheme;
	const char	*home;
	long		 uid;			/* -1: not given */
	long		 gid;
	int		 pass_stdin;
};

struct mailctl_user_ctx {
	const char	*sock;		/* master's control socket */
	const char	*path;		/* users_file */
	struct mailctl_user_opts o;
	char		*stored;	/* "{SCHEME}hash" for add / passwd */
};

/* one edit: the file as read, parsed, and the new content */
struct mailctl_user_edit {
	struct buf	 old;
	struct users	*u;
	struct buf	 new;
	char		 err[512];
};

struct mailctl_user_cmd {
	const char	*name;
	int		 opts;		/* MU_O_* */
	int		(*fn)(struct mailctl_user_ctx *);
	const char	*usage;
};


static int	 mailctl_user_add(struct mailctl_user_ctx *);
static int	 mailctl_user_passwd(struct mailctl_user_ctx *);
static int	 mailctl_user_del(struct mailctl_user_ctx *);
static int	 mailctl_user_list(struct mailctl_user_ctx *);

static const struct mailctl_user_cmd mailctl_user_cmds[] = {
	{ "add", MU_O_ADDR | MU_O_PASS | MU_O_ENTRY, mailctl_user_add,
	    "user add ADDRESS [-s SCHEME] [--password-stdin] "
	    "[--uid N --gid N] [--home DIR]" },
	{ "passwd", MU_O_ADDR | MU_O_PASS, mailctl_user_passwd,
	    "user passwd ADDRESS [-s SCHEME] [--password-stdin]" },
	{ "del", MU_O_ADDR, mailctl_user_del, "user del ADDRESS" },
	{ "list", 0, mailctl_user_list, "user list" },
};

static volatile sig_atomic_t mailctl_user_sig;

/* mailctl_user_usage - all the user commands; exit status 2 */
static int
mailctl_user_usage(void)
{
	size_t	 i;

	for (i = 0; i < NELEM(mailctl_user_cmds); i++)
		fprintf(stderr, "%s mailctl [-c config_dir] %s\n",
		    i == 0 ? "usage:" : "      ", mailctl_user_cmds[i].usage);
	fprintf(stderr, "schemes: ARGON2ID (default), SHA512-CRYPT, "
	    "SHA256-CRYPT, BLF-CRYPT\n");
	return 2;
}

/* mailctl_user_name - ADDRESS checked for the file format, lowercased */
static int
mailctl_user_name(const char *in, char *out, size_t size)
{
	const unsigned char *s;
	const char *why = NULL, *p;
	char	 esc[4 * ADDR_BUFSZ];
	struct addr a;

	log_escape(esc, sizeof(esc), in, strnlen(in, ADDR_BUFSZ));
	for (s = (const unsigned char *)in; *s != '\0'; s++)
		if (*s <= ' ' || *s == 0x7f || *s == ':' || *s == '"') {
			fprintf(stderr, "mailctl: \"%s\": an address in the "
			    "users file cannot contain ':', '\"', white space "
			    "or control characters\n", esc);
			return -1;
		}
	if (addr_parse_mailbox(in, &a, &why) == -1 || a.domain[0] == '\0' ||
	    a.literal) {
		/* why is an SMTP reply: drop "501 5.1.3 " */
		p = why != NULL ? strchr(why, ' ') : NULL;
		p = p != NULL ? strchr(p + 1, ' ') : NULL;
		fprintf(stderr, "mailctl: \"%s\" is not a valid address "
		    "(local@domain)%s%s\n", esc, p != NULL ? ": " : "",
		    p != NULL ? p + 1 : "");
		return -1;
	}
	if (util_strlcpy(out, in, size) >= size)
		return -1;
	util_lowercase(out);	/* Dovecot lower-cases user names too */
	return 0;
}

/* mailctl_user_id - --uid / --gid value, 1..4294967294 */
static int
mailctl_user_id(const char *opt, const char *s, long *out)
{
	long long v;

	if (util_parse_ll(s, 1, 4294967294LL, &v) == -1) {
		fprintf(stderr, "mailctl: %s: \"%s\" is not a number from 1 to "
		    "4294967294\n", opt, log_str(s));
		return -1;
	}
	*out = (long)v;
	return 0;
}

/* mailctl_user_value - the argument of an option, or NULL (usage) */
static const char *
mailctl_user_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "mailctl: %s needs a value\n", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

/*
 * mailctl_user_parse - options (in any order, "--" ends them) and the
 * ADDRESS; 0, 1 (bad value) or 2 (usage)
 */
static int
mailctl_user_parse(const struct mailctl_user_cmd *cmd, int argc, char **argv,
    struct mailctl_user_opts *o)
{
	const char *addr = NULL, *v;
	int	 i, opts = cmd->opts, done = 0;

	for (i = 2; i < argc; i++) {
		if (!done && strcmp(argv[i], "--") == 0)
			done = 1;
		else if (!done && (opts & MU_O_PASS) &&
		    strcmp(argv[i], "-s") == 0) {
			if ((o->scheme = mailctl_user_value(argc, argv, &i)) ==
			    NULL)
				return 2;
		} else if (!done && (opts & MU_O_PASS) &&
		    strcmp(argv[i], "--password-stdin") == 0)
			o->pass_stdin = 1;
		else if (!done && (opts & MU_O_ENTRY) &&
		    (strcmp(argv[i], "--uid") == 0 ||
		    strcmp(argv[i], "--gid") == 0)) {
			if ((v = mailctl_user_value(argc, argv, &i)) == NULL)
				return 2;
			if (mailctl_user_id(argv[i - 1], v, argv[i - 1][2] ==
			    'u' ? &o->uid : &o->gid) == -1)
				return 1;
		} else if (!done && (opts & MU_O_ENTRY) &&
		    strcmp(argv[i], "--home") == 0) {
			if ((o->home = mailctl_user_value(argc, argv, &i)) ==
			    NULL)
				return 2;
		} else if (!done && argv[i][0] == '-') {
			fprintf(stderr, "mailctl: user %s: unknown option "
			    "\"%s\"\n", cmd->name, log_str(argv[i]));
			return 2;
		} else if (addr == NULL && (opts & MU_O_ADDR))
			addr = argv[i];
		else {
			fprintf(stderr, "mailctl: user %s: unexpected "
			    "argument \"%s\"\n", cmd->name, log_str(argv[i]));
			return 2;
		}
	}
	if ((opts & MU_O_ADDR) && addr == NULL) {
		fprintf(stderr, "mailctl: user %s: no address given\n",
		    cmd->name);
		return 2;
	}
	if ((o->uid == -1) != (o->gid == -1)) {
		fprintf(stderr, "mailctl: --uid and --gid go together\n");
		return 2;
	}
	if (addr != NULL &&
	    mailctl_user_name(addr, o->name, sizeof(o->name)) == -1)
		return 1;
	return 0;
}

/* mailctl_user_check_opts - scheme and home acceptable */
static int
mailctl_user_check_opts(const struct mailctl_user_opts *o)
{
	const unsigned char *s;

	if (o->scheme != NULL && !passwd_scheme_ok(o->scheme)) {
		fprintf(stderr, "mailctl: unknown password scheme \"%s\"; use "
		    "ARGON2ID, SHA512-CRYPT, SHA256-CRYPT or BLF-CRYPT\n",
		    log_str(o->scheme));
		return -1;
	}
	if (o->home == NULL)
		return 0;
	if (o->home[0] != '/' || strlen(o->home) > PATH_MAX) {
		fprintf(stderr, "mailctl: --home must be an absolute path\n");
		return -1;
	}
	for (s = (const unsigned char *)o->home; *s != '\0'; s++)
		if (*s < ' ' || *s == 0x7f || *s == ':') {
			fprintf(stderr, "mailctl: --home \"%s\": a home in the "
			    "users file cannot contain ':' or control "
			    "characters\n", log_str(o->home));
			return -1;
		}
	return 0;
}

/* mailctl_user_onsig - remember the signal; read(2) returns EINTR */
static void
mailctl_user_onsig(int sig)
{
	mailctl_user_sig = sig;
}

/*
 * mailctl_user_getline - one line from fd into pw (at most PASSWD_MAX bytes,
 * NUL-terminated, the LF and a CR before it removed); 0, or -1 with a
 * message (too long, interrupted, read error, no line at all)
 */
static int
mailctl_user_getline(int fd, char *pw, size_t size, size_t *len)
{
	size_t	 n = 0;
	ssize_t	 r;
	char	 c;
	int	 got = 0, over = 0;

	for (;;) {
		if ((r = read(fd, &c, 1)) == -1 && errno == EINTR &&
		    mailctl_user_sig == 0)
			continue;
		if (r == -1 || mailctl_user_sig != 0) {
			fprintf(stderr, "%smailctl: cannot read the password: "
			    "%s\n", fd == STDIN_FILENO ? "" : "\n",
			    mailctl_user_sig != 0 ? "interrupted" :
			    strerror(errno));
			return -1;
		}
		if (r == 0 || c == '\n')
			break;
		got = 1;
		if (n + 1 < size)
			pw[n++] = c;
		else
			over = 1;
	}
	if (n > 0 && pw[n - 1] == '\r' && !over)
		n--;
	pw[n] = '\0';
	explicit_bzero(&c, sizeof(c));
	if (r == 0 && !got && fd == STDIN_FILENO) {
		fprintf(stderr, "mailctl: no password on standard input\n");
		return -1;
	}
	if (over) {
		fprintf(stderr, "mailctl: password longer than %d bytes\n",
		    PASSWD_MAX);
		return -1;
	}
	*len = n;
	return 0;
}

/* mailctl_user_tty - read the password twice from /dev/tty, echo off */
static int
mailctl_user_tty(char *pw, size_t size, size_t *len)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
	    SIGTSTP };
	struct sigaction sa, osa[NELEM(sigs)];
	struct termios old, quiet;
	char	 again[PASSWD_MAX + 1];
	size_t	 alen = 0, i;
	int	 fd, r = -1;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    tcgetattr(fd, &old) == -1) {
		fprintf(stderr, "mailctl: no terminal to ask for the password "
		    "(use --password-stdin)\n");
		if (fd != -1)
			close(fd);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mailctl_user_onsig;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	mailctl_user_sig = 0;
	for (i = 0; i < NELEM(sigs); i++)
		sigaction(sigs[i], &sa, &osa[i]);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) == -1)
		fprintf(stderr, "mailctl: cannot turn echo off: %s\n",
		    strerror(errno));
	else if (util_write_full(fd, "Password: ", 10) == 0 &&
	    mailctl_user_getline(fd, pw, size, len) == 0 &&
	    util_write_full(fd, "Retype password: ", 17) == 0 &&
	    mailctl_user_getline(fd, again, sizeof(again), &alen) == 0) {
		if (alen != *len || memcmp(pw, again, alen) != 0)
			fprintf(stderr, "mailctl: the passwords do not "
			    "match\n");
		else
			r = 0;
	}
	explicit_bzero(again, sizeof(again));
	tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	for (i = 0; i < NELEM(sigs); i++)
		sigaction(sigs[i], &osa[i], NULL);
	if (mailctl_user_sig != 0) {
		explicit_bzero(pw, size);
		raise(mailctl_user_sig);	/* the terminal is back */
	}
	return r;
}

/* mailctl_user_password - read, hash into ctx->stored; 0 or -1 */
static int
mailctl_user_password(struct mailctl_user_ctx *ctx)
{
	char	 pw[PASSWD_MAX + 1], err[512];
	size_t	 len = 0;
	int	 r;

	if (ctx->o.pass_stdin)
		r = mailctl_user_getline(STDIN_FILENO, pw, PASSWD_MAX + 1,
		    &len);
	else
		r = mailctl_user_tty(pw, PASSWD_MAX + 1, &len);
	if (r == 0 && len == 0) {
		fprintf(stderr, "mailctl: empty password refused\n");
		r = -1;
	}
	if (r == 0 && (ctx->stored = passwd_hash(ctx->o.scheme, pw, len, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "mailctl: %s\n", err);
		r = -1;
	}
	explicit_bzero(pw, sizeof(pw));
	return r;
}

/* mailctl_user_scheme - the scheme name passwd_hash wrote, for messages */
static int
mailctl_user_scheme(const struct mailctl_user_ctx *ctx, const char **name)
{
	const char *end = strchr(ctx->stored, '}');

	*name = ctx->stored + 1;
	return end != NULL ? (int)(end - ctx->stored - 1) : 0;
}

/* mailctl_user_read - the whole file into b; a missing one is empty */
static int
mailctl_user_read(const char *path, struct buf *b, struct stat *st,
    int *exists)
{
	char	 tmp[65536];
	ssize_t	 n;
	int	 fd;

	*exists = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW)) ==
	    -1) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "mailctl: cannot open users file %s: %s\n",
		    path, errno == ELOOP ? "a symbolic link (edit the file "
		    "it points to, or set users_file to it)" :
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		fprintf(stderr, "mailctl: users file %s: not a regular file\n",
		    path);
		close(fd);
		return -1;
	}
	*exists = 1;
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if ((n == -1 && errno != EINTR) ||
		    (n > 0 && buf_append(b, tmp, (size_t)n) == -1)) {
			fprintf(stderr, "mailctl: users file %s: %s\n", path,
			    errno == ENOSPC ? "larger than 64 MiB" :
			    strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* mailctl_user_dir - the directory part of path into dir */
static int
mailctl_user_dir(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return util_fmt(dir, size, ".");
	if (slash == path)
		return util_fmt(dir, size, "/");
	return util_fmt(dir, size, "%.*s", (int)(slash - path), path);
}

/*
 * mailctl_file_replace - see mailctl.h.  A stale tmp file of a dead
 * process with our pid is removed (the caller holds a lock or is the only
 * writer).
 */
int
mailctl_file_replace(const char *path, const struct buf *b,
    const struct stat *st)
{
	char	 tmp[PATH_MAX], dir[PATH_MAX];
	int	 fd;

	if (util_fmt(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) ==
	    -1 || mailctl_user_dir(path, dir, sizeof(dir)) == -1) {
		fprintf(stderr, "mailctl: %s: path too long\n", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	if (fd == -1) {
		fprintf(stderr, "mailctl: cannot create %s: %s\n", tmp,
		    strerror(errno));
		return -1;
	}
	if ((st != NULL && (fchown(fd, st->st_uid, st->st_gid) == -1 ||
	    fchmod(fd, st->st_mode & 07777) == -1)) ||
	    util_write_full(fd, b->data == NULL ? (void *)"" : b->data,
	    b->len) == -1 || fsync(fd) == -1) {
		fprintf(stderr, "mailctl: cannot write %s: %s\n", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		fprintf(stderr, "mailctl: cannot replace %s: %s\n", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (util_fsync_dir(dir) == -1)
		fprintf(stderr, "mailctl: warning: fsync of %s: %s\n", dir,
		    strerror(errno));
	return 0;
}

/* mailctl_user_lock - exclusive flock of path.lock; the fd, or -1 */
static int
mailctl_user_lock(const char *path)
{
	char	 lock[PATH_MAX];
	int	 fd;

	if (util_fmt(lock, sizeof(lock), "%s.lock", path) == -1) {
		fprintf(stderr, "mailctl: %s: path too long\n", path);
		return -1;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		fprintf(stderr, "mailctl: cannot open %s: %s\n", lock,
		    strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			fprintf(stderr, "mailctl: cannot lock %s: %s\n", lock,
			    strerror(errno));
			close(fd);
			return -1;
		}
	return fd;
}

/*
 * mailctl_user_line - bytes [*s, *e) of line n (1-based, numbered as
 * users_parse_buf does) without its LF; -1 when there is no such line
 */
static int
mailctl_user_line(const struct buf *b, int n, size_t *s, size_t *e)
{
	const char *d = (const char *)b->data, *nl;
	size_t	 p = 0;
	int	 ln;

	for (ln = 1; ln < n; ln++) {
		if (p >= b->len || (nl = memchr(d + p, '\n', b->len - p)) ==
		    NULL)
			return -1;
		p = (size_t)(nl - d) + 1;
	}
	if (p >= b->len)
		return -1;
	nl = memchr(d + p, '\n', b->len - p);
	*s = p;
	*e = nl != NULL ? (size_t)(nl - d) : b->len;
	return 0;
}

/* mailctl_user_entry_line - the line of the user, checked to be it */
static int
mailctl_user_entry_line(struct mailctl_user_ctx *ctx,
    struct mailctl_user_edit *ed, size_t *s, size_t *e)
{
	const char *name = ctx->o.name;
	const struct users_ent *ent;
	const char *d = (const char *)ed->old.data;
	size_t	 nl = strlen(name);

	if ((ent = users_find(ed->u, name, NULL)) == NULL) {
		snprintf(ed->err, sizeof(ed->err), "no user %s in %s", name,
		    ctx->path);
		return -1;
	}
	/* the name field must be the name we looked for: never edit blind */
	if (mailctl_user_line(&ed->old, ent->line, s, e) == -1 ||
	    *e - *s <= nl || d[*s + nl] != ':' ||
	    strncasecmp(d + *s, name, nl) != 0) {
		snprintf(ed->err, sizeof(ed->err), "line %d does not hold "
		    "user %s as parsed; file left unchanged", ent->line, name);
		return -1;
	}
	return 0;
}

/* mailctl_user_edit_add - append one line (a LF first if missing) */
static int
mailctl_user_edit_add(struct mailctl_user_ctx *ctx,
    struct mailctl_user_edit *ed)
{
	const struct mailctl_user_opts *o = &ctx->o;
	char	 uid[24] = "", gid[24] = "";

	if (users_find(ed->u, o->name, NULL) != NULL) {
		snprintf(ed->err, sizeof(ed->err), "user %s already exists "
		    "(use mailctl user passwd to change the password)",
		    o->name);
		return -1;
	}
	if (o->uid != -1) {
		snprintf(uid, sizeof(uid), "%ld", o->uid);
		snprintf(gid, sizeof(gid), "%ld", o->gid);
	}
	/* user:password:uid:gid:gecos:home:shell:extra */
	if (buf_append(&ed->new, ed->old.data, ed->old.len) == -1 ||
	    (ed->old.len > 0 && ed->old.data[ed->old.len - 1] != '\n' &&
	    buf_putc(&ed->new, '\n') == -1) ||
	    buf_printf(&ed->new, "%s:%s:%s:%s::%s::\n", o->name, ctx->stored,
	    uid, gid, o->home != NULL ? o->home : "") == -1) {
		snprintf(ed->err, sizeof(ed->err), "users file too large");
		return -1;
	}
	return 0;
}

/* mailctl_user_edit_passwd - replace the bytes of one password field */
static int
mailctl_user_edit_passwd(struct mailctl_user_ctx *ctx,
    struct mailctl_user_edit *ed)
{
	const unsigned char *d = ed->old.data;
	const unsigned char *c;
	size_t	 s, e, f, fe;

	if (mailctl_user_entry_line(ctx, ed, &s, &e) == -1)
		return -1;
	if (e > s && d[e - 1] == '\r')	/* CR LF line: keep the CR */
		e--;
	f = s + strlen(ctx->o.name) + 1;
	c = memchr(d + f, ':', e - f);
	fe = c != NULL ? (size_t)(c - d) : e;
	if (buf_append(&ed->new, d, f) == -1 ||
	    buf_puts(&ed->new, ctx->stored) == -1 ||
	    buf_append(&ed->new, d + fe, ed->old.len - fe) == -1) {
		snprintf(ed->err, sizeof(ed->err), "users file too large");
		return -1;
	}
	return 0;
}

/* mailctl_user_edit_del - drop one line with its LF */
static int
mailctl_user_edit_del(struct mailctl_user_ctx *ctx,
    struct mailctl_user_edit *ed)
{
	size_t	 s, e;

	if (mailctl_user_entry_line(ctx, ed, &s, &e) == -1)
		return -1;
	if (e < ed->old.len)
		e++;
	if (buf_append(&ed->new, ed->old.data, s) == -1 ||
	    buf_append(&ed->new, ed->old.data + e, ed->old.len - e) == -1) {
		snprintf(ed->err, sizeof(ed->err), "users file too large");
		return -1;
	}
	return 0;
}

/*
 * mailctl_user_verify - the new content parses to the old entries with
 * exactly the intended change (want: 1 the user is there with
 * ctx->stored, 0 it is gone) and no new warnings
 */
static int
mailctl_user_verify(struct mailctl_user_ctx *ctx,
    struct mailctl_user_edit *ed, int want)
{
	const struct users_ent *ent;
	struct users *nu;
	long	 dn;
	int	 ok;

	nu = users_parse_buf((const char *)ed->new.data, ed->new.len,
	    ctx->path);
	ent = users_find(nu, ctx->o.name, NULL);
	dn = (long)nu->n - (long)ed->u->n;
	ok = nu->nwarn == ed->u->nwarn && (want ?
	    ent != NULL && strcmp(ent->pass, ctx->stored) == 0 &&
	    dn == (users_find(ed->u, ctx->o.name, NULL) == NULL) :
	    ent == NULL && dn == -1);
	users_free(nu);
	if (!ok)
		snprintf(ed->err, sizeof(ed->err), "the edited users file "
		    "does not parse as intended; file left unchanged");
	return ok ? 0 : -1;
}

/* mailctl_user_change - lock, read, edit, check, commit */
static int
mailctl_user_change(struct mailctl_user_ctx *ctx,
    int (*edit)(struct mailctl_user_ctx *, struct mailctl_user_edit *),
    int want)
{
	struct mailctl_user_edit ed;
	struct stat st;
	int	 lfd, exists = 0, r = -1;

	memset(&ed, 0, sizeof(ed));
	buf_init(&ed.old, USERS_FILE_MAX);
	buf_init(&ed.new, USERS_FILE_MAX);
	if ((lfd = mailctl_user_lock(ctx->path)) == -1)
		goto out;
	if (mailctl_user_read(ctx->path, &ed.old, &st, &exists) == -1)
		goto out;
	if (!exists && edit != mailctl_user_edit_add) {
		fprintf(stderr, "mailctl: users file %s does not exist\n",
		    ctx->path);
		goto out;
	}
	ed.u = users_parse_buf((const char *)ed.old.data, ed.old.len,
	    ctx->path);
	if (edit(ctx, &ed) == -1 || mailctl_user_verify(ctx, &ed, want) == -1)
		fprintf(stderr, "mailctl: %s\n", ed.err);
	else if (mailctl_file_replace(ctx->path, &ed.new, exists ? &st :
	    NULL) == 0)
		r = 0;
	if (ed.u->nwarn > 0)
		fprintf(stderr, "mailctl: warning: %zu malformed line%s in %s "
		    "(skipped; see mailctl check)\n", ed.u->nwarn,
		    ed.u->nwarn == 1 ? "" : "s", ctx->path);
out:
	if (ed.u != NULL)
		users_free(ed.u);
	buf_free(&ed.old);
	buf_free(&ed.new);
	if (lfd != -1)
		close(lfd);	/* releases the lock */
	return r;
}

/* mailctl_user_reload - a running mail system re-reads the files */
static int
mailctl_user_reload(struct mailctl_user_ctx *ctx)
{
	return mailctl_reload_after(ctx->sock, "the users file is changed",
	    "the change takes effect when it starts");
}

/* mailctl_user_exists - 1 / 0 from a lock-free look (checked again later) */
static int
mailctl_user_exists(struct mailctl_user_ctx *ctx)
{
	struct users *u;
	int	 r;

	if (access(ctx->path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if ((u = users_load(ctx->path, NULL, 0)) == NULL)
		return -1;
	r = users_find(u, ctx->o.name, NULL) != NULL;
	users_free(u);
	return r;
}

/* mailctl_user_add - new user with a new password */
static int
mailctl_user_add(struct mailctl_user_ctx *ctx)
{
	const char *sch;
	int	 e = mailctl_user_exists(ctx), n;

	if (e == 1) {
		fprintf(stderr, "mailctl: user %s already exists (use mailctl "
		    "user passwd to change the password)\n", ctx->o.name);
		return 1;
	}
	if (mailctl_user_password(ctx) == -1 ||
	    mailctl_user_change(ctx, mailctl_user_edit_add, 1) == -1)
		return 1;
	n = mailctl_user_scheme(ctx, &sch);
	printf("user %s added (%.*s)\n", ctx->o.name, n, sch);
	return mailctl_user_reload(ctx);
}

/* mailctl_user_passwd - new password, every other byte kept */
static int
mailctl_user_passwd(struct mailctl_user_ctx *ctx)
{
	const char *sch;
	int	 n;

	if (mailctl_user_exists(ctx) == 0) {
		fprintf(stderr, "mailctl: no user %s in %s\n", ctx->o.name,
		    ctx->path);
		return 1;
	}
	if (mailctl_user_password(ctx) == -1 ||
	    mailctl_user_change(ctx, mailctl_user_edit_passwd, 1) == -1)
		return 1;
	n = mailctl_user_scheme(ctx, &sch);
	printf("user %s: password changed (%.*s)\n", ctx->o.name, n, sch);
	return mailctl_user_reload(ctx);
}

/* mailctl_user_del - remove the user's line */
static int
mailctl_user_del(struct mailctl_user_ctx *ctx)
{
	if (mailctl_user_change(ctx, mailctl_user_edit_del, 0) == -1)
		return 1;
	printf("user %s deleted\n", ctx->o.name);
	return mailctl_user_reload(ctx);
}

/*
 * mailctl_user_list - every user and its scheme, never the hash; a user
 * whose password field can never verify is marked with the reason
 */
static int
mailctl_user_list(struct mailctl_user_ctx *ctx)
{
	struct users *u;
	char	 err[1024], sch[USERS_SCHEME_MAX + 1], why[256];
	const char *bad;
	size_t	 i;

	if ((u = users_load(ctx->path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mailctl: %s\n", err);
		return 1;
	}
	for (i = 0; i < u->n; i++) {
		users_scheme(u->ent[i].pass, sch, sizeof(sch));
		bad = users_login_problem(&u->ent[i], why, sizeof(why));
		printf("%s %s%s%s%s\n", u->ent[i].name, sch[0] != '\0' ? sch :
		    "-", bad != NULL ? " (cannot log in: " : "",
		    bad != NULL ? bad : "", bad != NULL ? ")" : "");
	}
	if (u->nwarn > 0)
		fprintf(stderr, "mailctl: warning: %zu malformed line%s in %s "
		    "(skipped; see mailctl check)\n", u->nwarn,
		    u->nwarn == 1 ? "" : "s", ctx->path);
	users_free(u);
	return 0;
}

/* mailctl_user_main - argv[0] is "user", argv[1] the subcommand */
int
mailctl_user_main(const struct cfg *cfg, const char *sock, int argc,
    char **argv)
{
	const struct mailctl_user_cmd *cmd = NULL;
	struct mailctl_user_ctx ctx;
	size_t	 i;
	int	 r;

	if (argc < 2)
		return mailctl_user_usage();
	for (i = 0; i < NELEM(mailctl_user_cmds); i++)
		if (strcmp(argv[1], mailctl_user_cmds[i].name) == 0)
			cmd = &mailctl_user_cmds[i];
	if (cmd == NULL) {
		fprintf(stderr, "mailctl: unknown user command \"%s\"\n",
		    log_str(argv[1]));
		return mailctl_user_usage();
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.sock = sock;
	ctx.path = cfg_str(cfg, "users_file");
	ctx.o.uid = ctx.o.gid = -1;
	if ((r = mailctl_user_parse(cmd, argc, argv, &ctx.o)) != 0)
		return r == 2 ? mailctl_user_usage() : r;
	if (ctx.o.scheme == NULL)
		ctx.o.scheme = MU_DEFAULT_SCHEME;
	if (mailctl_user_check_opts(&ctx.o) == -1)
		return 1;
	r = cmd->fn(&ctx);
	free(ctx.stored);
	return r;
}
