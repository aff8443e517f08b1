/*
 * mailctl_config.c - "mailctl config": Postfix's postconf for youju.
 *
 *	mailctl config [-n | -d] [-x] [-h] [NAME...]
 *	mailctl config -e NAME=VALUE...
 *	mailctl config -X NAME...
 *	mailctl config -M | -F | -P [SERVICE[/TYPE]...]
 *
 * Without options every parameter (youju's table, then the names main.cf
 * defines itself) with its value as written, or its default: "name =
 * value", one per line, which main.cf can read back.  -n: only what
 * main.cf sets (the first thing to ask for when helping with a mail
 * server); -d: the defaults; -x: values expanded; -h: values alone.  With
 * names, those: an unknown one is a warning and exit status 1.
 * -e changes main.cf in place: the entry is replaced (comments, order and
 * the other entries kept; lib/conf/cfg_edit), or appended; -X removes entries.
 * The result must still be a main.cf youju reads (a value of the wrong
 * type is refused before anything is written); the file is replaced
 * atomically (a new file, fsync, rename, directory fsync) with its owner
 * and mode.  What "mailctl check" says of the new file follows; a running
 * mail system uses it after "mailctl reload".
 * -M prints master.cf's services one per line, -F their fields as
 * "service/type/field = value" and -P their -o parameters as
 * "service/type/name = value", as postconf does.
 * Exit status: 0, 1 on an error or an unknown name, 2 usage.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_edit.h"
#include "log.h"
#include "mailctl.h"
#include "mcf.h"
#include "util.h"

#define MC_F_SET	0x01	/* -n */
#define MC_F_DEF	0x02	/* -d */
#define MC_F_EXP	0x04	/* -x */
#define MC_F_VAL	0x08	/* -h */

/* mailctl_config_usage - exit status 2 */
static int
mailctl_config_usage(void)
{
	fprintf(stderr, "usage: mailctl config [-n | -d] [-x] [-h] [NAME...]\n"
	    "       mailctl config -e NAME=VALUE...\n"
	    "       mailctl config -X NAME...\n"
	    "       mailctl config -M | -F | -P [SERVICE[/TYPE]...]\n");
	return 2;
}

/* mailctl_config_line - one parameter as main.cf would have it */
static void
mailctl_config_line(const char *name, const char *val, int flags)
{
	if (flags & MC_F_VAL)
		printf("%s\n", val);
	else
		printf("%s =%s%s\n", name, *val != '\0' ? " " : "", val);
}

/* mailctl_config_one - a name's line; -1 (warned) when it is unknown */
static int
mailctl_config_one(const struct cfg *cfg, const struct cfg *defs,
    const char *name, int flags)
{
	const char *val;
	int	 set;

	if (cfg_value((flags & MC_F_DEF) ? defs : cfg, name, flags & MC_F_EXP,
	    &val, &set) == -1) {
		fprintf(stderr, "mailctl: warning: %s: unknown parameter\n",
		    log_str(name));
		return -1;
	}
	if (!(flags & MC_F_SET) || set)
		mailctl_config_line(name, val, flags);
	return 0;
}

/* mailctl_config_show - the listing: named, or all */
static int
mailctl_config_show(const struct cfg *cfg, int flags, int argc, char **argv)
{
	const char *const *user;
	struct cfg *defs;
	size_t	 i, nuser;
	int	 r = 0;

	defs = cfg_new();
	cfg_set_dir(defs, cfg_dir(cfg));
	if (argc > 0) {
		for (i = 0; i < (size_t)argc; i++)
			if (mailctl_config_one(cfg, defs, argv[i], flags) == -1)
				r = 1;
	} else {
		for (i = 0; i < cfg_nparams; i++)
			(void)mailctl_config_one(cfg, defs, cfg_params[i].name,
			    flags);
		user = cfg_unknown(cfg, &nuser);
		for (i = 0; !(flags & MC_F_DEF) && i < nuser; i++)
			(void)mailctl_config_one(cfg, defs, user[i], flags);
	}
	cfg_free(defs);
	return r;
}

/* mailctl_config_read - main.cf's text; NULL (said) on failure */
static char *
mailctl_config_read(const char *path, size_t *len, struct stat *st)
{
	struct buf b;
	char	 chunk[8192];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		fprintf(stderr, "mailctl: %s: %s\n", path, fd == -1 ?
		    strerror(errno) : "not a regular file");
		if (fd != -1)
			close(fd);
		return NULL;
	}
	buf_init(&b, CFG_FILE_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 ||
	    (n == -1 && errno == EINTR))
		if (n > 0 && buf_append(&b, chunk, (size_t)n) == -1) {
			n = -1;
			errno = EFBIG;
			break;
		}
	close(fd);
	if (n == -1) {
		fprintf(stderr, "mailctl: %s: %s\n", path, strerror(errno));
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	buf_putc(&b, '\0');
	return (char *)buf_detach(&b);
}

/*
 * mailctl_config_edit_one - one -e NAME=VALUE (remove 0) or -X NAME on the
 * text in *b, which the result replaces: 0, 1 after an error said, 2 on a
 * usage error
 */
static int
mailctl_config_edit_one(struct buf *b, int remove, const char *arg)
{
	struct buf nb;
	char	 err[1024], *eq, *name;
	int	 changed;

	name = xstrdup(arg);
	eq = strchr(name, '=');
	if (remove != (eq == NULL)) {
		free(name);
		return 2;
	}
	if (eq != NULL) {
		*eq = '\0';
		util_trim(name);
	}
	buf_init(&nb, CFG_FILE_MAX);
	if (cfg_edit((const char *)b->data, b->len, name, eq != NULL ?
	    util_trim(eq + 1) : NULL, &nb, &changed, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "mailctl: %s\n", err);
		free(name);
		buf_free(&nb);
		return 1;
	}
	if (eq != NULL && cfg_param_find(name) == NULL)
		fprintf(stderr, "mailctl: warning: %s is not a parameter "
		    "youju knows: kept as a name for $%s\n", name, name);
	if (remove && changed == 0)
		fprintf(stderr, "mailctl: warning: main.cf does not set "
		    "%s\n", name);
	free(name);
	buf_free(b);
	*b = nb;
	return 0;
}

/*
 * mailctl_config_edit - -e NAME=VALUE... or -X NAME...: the edits one
 * after the other on the text, checked as a whole, then written once
 */
static int
mailctl_config_edit(const struct cfg *cfg, int remove, int argc,
    char **argv)
{
	struct stat st;
	struct buf b;
	struct cfg *t;
	const char *dir = cfg_dir(cfg);
	char	 path[4096], err[1024], *text;
	size_t	 len;
	int	 i, e, r = 1, nerr;

	if (util_fmt(path, sizeof(path), "%s/main.cf", dir) == -1 ||
	    (text = mailctl_config_read(path, &len, &st)) == NULL)
		return 1;
	buf_init(&b, CFG_FILE_MAX);
	buf_append(&b, text, len);
	free(text);
	for (i = 0; i < argc; i++)
		if ((e = mailctl_config_edit_one(&b, remove, argv[i])) != 0) {
			buf_free(&b);
			return e == 2 ? mailctl_config_usage() : 1;
		}
	/* the new file must be one youju reads */
	t = cfg_new();
	cfg_set_dir(t, dir);
	if (cfg_parse_buf(t, (const char *)b.data, b.len, path, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "mailctl: not changed: %s\n", err);
		cfg_free(t);
		goto out;
	}
	if (mailctl_file_replace(path, &b, &st) == -1) {
		cfg_free(t);
		goto out;
	}
	r = 0;
	if (cfg_check(t, err, sizeof(err), &nerr) > 0)
		fprintf(stderr, "%s", err);
	cfg_free(t);
out:
	buf_free(&b);
	return r;
}

/* mailctl_config_want - does a service match the SERVICE[/TYPE] filters */
static int
mailctl_config_want(const struct mcf_service *s, int argc, char **argv)
{
	const char *type = s->type == MCF_INET ? "inet" : "unix", *sl;
	size_t	 n;
	int	 i;

	for (i = 0; i < argc; i++) {
		sl = strchr(argv[i], '/');
		n = sl != NULL ? (size_t)(sl - argv[i]) : strlen(argv[i]);
		if (strlen(s->name) == n && strncmp(s->name, argv[i], n) == 0 &&
		    (sl == NULL || strcmp(sl + 1, type) == 0))
			return 1;
	}
	return argc == 0;
}

/* mailctl_config_master - -M, -F or -P */
static int
mailctl_config_master(const struct cfg *cfg, int what, int argc,
    char **argv)
{
	struct mcf m;
	const struct mcf_service *s;
	char	 path[4096], err[1024], wake[16], proc[16];
	const char *type;
	size_t	 i, k;

	if (util_fmt(path, sizeof(path), "%s/master.cf", cfg_dir(cfg)) ==
	    -1 || mcf_load(path, (int)cfg_int(cfg, "default_process_limit"),
	    &m, err, sizeof(err)) == -1) {
		fprintf(stderr, "mailctl: %s\n", err);
		return 1;
	}
	for (i = 0; i < m.nsvc; i++) {
		s = &m.svc[i];
		if (!mailctl_config_want(s, argc, argv))
			continue;
		type = s->type == MCF_INET ? "inet" : "unix";
		snprintf(wake, sizeof(wake), "%d%s", s->wakeup,
		    s->wakeup_if_used ? "?" : "");
		snprintf(proc, sizeof(proc), "%d", s->maxproc);
		if (what == 'M') {
			printf("%-10s %-5s %s %s %s %s %s %s", s->name, type,
			    s->private_ ? "y" : "n", s->unpriv ? "y" : "n",
			    s->chroot ? "y" : "n", wake, proc, s->command);
			for (k = 0; k < s->nargs; k++)
				printf(" %s", s->args[k]);
			for (k = 0; k < s->nopts; k++)
				printf(" -o %s=%s", s->opts[k].name,
				    s->opts[k].value);
			printf("\n");
		} else if (what == 'F') {
			printf("%s/%s/service = %s\n", s->name, type, s->name);
			printf("%s/%s/type = %s\n", s->name, type, type);
			printf("%s/%s/private = %s\n", s->name, type,
			    s->private_ ? "y" : "n");
			printf("%s/%s/unprivileged = %s\n", s->name, type,
			    s->unpriv ? "y" : "n");
			printf("%s/%s/chroot = %s\n", s->name, type,
			    s->chroot ? "y" : "n");
			printf("%s/%s/wakeup = %s\n", s->name, type, wake);
			printf("%s/%s/process_limit = %s\n", s->name, type,
			    proc);
			printf("%s/%s/command = %s", s->name, type, s->command);
			for (k = 0; k < s->nargs; k++)
				printf(" %s", s->args[k]);
			printf("\n");
		} else
			for (k = 0; k < s->nopts; k++)
				printf("%s/%s/%s = %s\n", s->name, type,
				    s->opts[k].name, s->opts[k].value);
	}
	mcf_free(&m);
	return 0;
}

/* mailctl_config_main - see mailctl.h */
int
mailctl_config_main(const struct cfg *cfg, int argc, char **argv)
{
	int	 c, flags = 0, edit = 0, master = 0;

	optind = 1;
	while ((c = getopt(argc, argv, "ndxheXMFP")) != -1) {
		switch (c) {
		case 'n':
			flags |= MC_F_SET;
			break;
		case 'd':
			flags |= MC_F_DEF;
			break;
		case 'x':
			flags |= MC_F_EXP;
			break;
		case 'h':
			flags |= MC_F_VAL;
			break;
		case 'e':
		case 'X':
			if (edit != 0 && edit != c)
				return mailctl_config_usage();
			edit = c;
			break;
		case 'M':
		case 'F':
		case 'P':
			if (master != 0 && master != c)
				return mailctl_config_usage();
			master = c;
			break;
		default:
			return mailctl_config_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((flags & MC_F_SET) && (flags & MC_F_DEF))
		return mailctl_config_usage();
	if (edit != 0) {
		if (flags != 0 || master != 0 || argc == 0)
			return mailctl_config_usage();
		if (geteuid() != 0 && access(cfg_dir(cfg), W_OK) == -1) {
			fprintf(stderr, "mailctl: %s: %s\n", cfg_dir(cfg),
			    strerror(errno));
			return 1;
		}
		return mailctl_config_edit(cfg, edit == 'X', argc, argv);
	}
	if (master != 0) {
		if (flags != 0)
			return mailctl_config_usage();
		return mailctl_config_master(cfg, master, argc, argv);
	}
	return mailctl_config_show(cfg, flags, argc, argv);
}
