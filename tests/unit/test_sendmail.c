/*
 * test_sendmail.c - sendmail(1)'s command line (sendmail_args.c, bad
 * command lines first) and its spool (sendmail_spool.c: the "." line
 * without -i, the size limit, 8-bit detection).
 */
#include <sys/types.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "../../sendmail/sendmail.h"
#include "t.h"

#define TS_MAXW	8

/* ts_split - a command line of words apart by spaces, into argv */
static int
ts_split(char *line, char **argv)
{
	int	 n = 0;
	char	*p = line, *e;

	while (*p != '\0' && n < TS_MAXW) {
		e = strchr(p, ' ');
		argv[n++] = p;
		if (e == NULL)
			break;
		*e = '\0';
		p = e + 1;
	}
	argv[n] = NULL;
	return n;
}

/* ts_args - command lines and what they mean */
static void
ts_args(void)
{
	static const struct {
		const char	*line;
		int		 ok;
		int		 mode, extract, dots;
		const char	*sender, *fullname, *cdir;
		int		 nrcpt;
	} tab[] = {
		/* bad ones first */
		{ "sendmail -f", 0, 0, 0, 0, NULL, NULL, NULL, 0 },
		{ "sendmail -bd", 0, 0, 0, 0, NULL, NULL, NULL, 0 },
		{ "sendmail -bv a", 0, 0, 0, 0, NULL, NULL, NULL, 0 },
		{ "sendmail -bz", 0, 0, 0, 0, NULL, NULL, NULL, 0 },
		{ "sendmail -y a", 0, 0, 0, 0, NULL, NULL, NULL, 0 },
		{ "sendmail -tK a", 0, 0, 0, 0, NULL, NULL, NULL, 0 },
		{ "sendmail -C", 0, 0, 0, 0, NULL, NULL, NULL, 0 },
		/* good ones */
		{ "sendmail a b", 1, SENDMAIL_M_MAIL, 0, 1, NULL, NULL, NULL,
		    2 },
		{ "sendmail -t -i", 1, SENDMAIL_M_MAIL, 1, 0, NULL, NULL,
		    NULL, 0 },
		{ "sendmail -ti a", 1, SENDMAIL_M_MAIL, 1, 0, NULL, NULL,
		    NULL, 1 },
		{ "sendmail -oi -f me a", 1, SENDMAIL_M_MAIL, 0, 0, "me", NULL,
		    NULL, 1 },
		{ "sendmail -fme -FMe a", 1, SENDMAIL_M_MAIL, 0, 1, "me", "Me",
		    NULL, 1 },
		{ "sendmail -r me -- -a", 1, SENDMAIL_M_MAIL, 0, 1, "me", NULL,
		    NULL, 1 },
		{ "sendmail -oem -odb -v a", 1, SENDMAIL_M_MAIL, 0, 1, NULL,
		    NULL, NULL, 1 },
		{ "sendmail -C /x/main.cf a", 1, SENDMAIL_M_MAIL, 0, 1, NULL,
		    NULL, "/x", 1 },
		{ "sendmail -C/etc/y a", 1, SENDMAIL_M_MAIL, 0, 1, NULL, NULL,
		    "/etc/y", 1 },
		{ "sendmail -bs", 1, SENDMAIL_M_SMTP, 0, 1, NULL, NULL, NULL,
		    0 },
		{ "sendmail -bp", 1, SENDMAIL_M_QUEUE, 0, 1, NULL, NULL, NULL,
		    0 },
		{ "sendmail -bi", 1, SENDMAIL_M_ALIASES, 0, 1, NULL, NULL,
		    NULL, 0 },
		{ "sendmail -I", 1, SENDMAIL_M_ALIASES, 0, 1, NULL, NULL,
		    NULL, 0 },
		{ "sendmail -q", 1, SENDMAIL_M_FLUSH, 0, 1, NULL, NULL, NULL,
		    0 },
		{ "sendmail -q30m a", 1, SENDMAIL_M_MAIL, 0, 1, NULL, NULL,
		    NULL, 1 },
		{ "sendmail -bm -B 8BITMIME -N never a", 1, SENDMAIL_M_MAIL, 0,
		    1, NULL, NULL, NULL, 1 },
		{ "/usr/sbin/mailq", 1, SENDMAIL_M_QUEUE, 0, 1, NULL, NULL,
		    NULL, 0 },
		{ "newaliases", 1, SENDMAIL_M_ALIASES, 0, 1, NULL, NULL, NULL,
		    0 },
		{ "sendmail - a", 1, SENDMAIL_M_MAIL, 0, 1, NULL, NULL, NULL,
		    2 },
	};
	struct sendmail_opts o;
	char	 line[256], *argv[TS_MAXW + 1], err[256];
	size_t	 i;
	int	 argc, r;

	for (i = 0; i < NELEM(tab); i++) {
		util_strlcpy(line, tab[i].line, sizeof(line));
		argc = ts_split(line, argv);
		err[0] = '\0';
		r = sendmail_args(argc, argv, &o, err, sizeof(err));
		if (!tab[i].ok) {
			T_OK(r == -1 && err[0] != '\0', "refused: %s (%s)",
			    tab[i].line, err);
			continue;
		}
		T_OK(r == 0, "taken: %s (%s)", tab[i].line, err);
		T_OK(o.mode == tab[i].mode && o.extract == tab[i].extract &&
		    o.dots == tab[i].dots && o.nrcpt == tab[i].nrcpt,
		    "%s: mode %d extract %d dots %d nrcpt %d", tab[i].line,
		    o.mode, o.extract, o.dots, o.nrcpt);
		T_OK((tab[i].sender == NULL ? o.sender == NULL :
		    o.sender != NULL && strcmp(o.sender, tab[i].sender) == 0) &&
		    (tab[i].fullname == NULL ? o.fullname == NULL :
		    o.fullname != NULL && strcmp(o.fullname,
		    tab[i].fullname) == 0) &&
		    (tab[i].cdir == NULL ? o.config_dir == NULL :
		    o.config_dir != NULL && strcmp(o.config_dir,
		    tab[i].cdir) == 0), "%s: -f -F -C", tab[i].line);
	}
	util_strlcpy(line, "sendmail -qRexample.com", sizeof(line));
	argc = ts_split(line, argv);
	T_OK(sendmail_args(argc, argv, &o, err, sizeof(err)) == 0 &&
	    o.mode == SENDMAIL_M_FLUSH && o.site != NULL &&
	    strcmp(o.site, "example.com") == 0, "-qRsite");
}

/* ts_spool - input through a pipe; the spool's content into out */
static int
ts_spool(const char *in, size_t inlen, int dots, uint64_t limit,
    char *out, size_t outlen, struct sendmail_spool *sp)
{
	int	 p[2], r;
	ssize_t	 n;

	if (pipe(p) == -1 || write(p[1], in, inlen) != (ssize_t)inlen)
		return -2;
	close(p[1]);
	if (sendmail_spool_open(sp, limit) == -1)
		return -2;
	r = sendmail_spool_input(sp, p[0], dots);
	close(p[0]);
	out[0] = '\0';
	if (r == 0 && sendmail_spool_rewind(sp) == 0 &&
	    (n = read(sp->fd, out, outlen - 1)) >= 0)
		out[n] = '\0';
	sendmail_spool_close(sp);
	return r;
}

/* ts_spools - the end mark, the limit, 8-bit content */
static void
ts_spools(void)
{
	static const struct {
		const char	*in;
		int		 dots;
		const char	*want;
	} tab[] = {
		{ "a\n.\nb\n", 1, "a\n" },
		{ "a\n.\r\nb\n", 1, "a\n" },
		{ "a\n.\nb\n", 0, "a\n.\nb\n" },
		{ "a\n..\nb\n", 1, "a\n..\nb\n" },
		{ "a\n.x\n", 1, "a\n.x\n" },
		{ "a\n.\rx\n", 1, "a\n.\rx\n" },
		{ "a.\n", 1, "a.\n" },
		{ ".\n", 1, "" },
		{ "a\n.", 1, "a\n" },
		{ "no end", 1, "no end" },
		{ "", 1, "" },
	};
	struct sendmail_spool sp;
	char	 out[256];
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(tab); i++) {
		r = ts_spool(tab[i].in, strlen(tab[i].in), tab[i].dots, 0,
		    out, sizeof(out), &sp);
		T_OK(r == 0 && strcmp(out, tab[i].want) == 0,
		    "spool %zu (dots %d)", i, tab[i].dots);
	}
	r = ts_spool("0123456789", 10, 0, 9, out, sizeof(out), &sp);
	T_OK(r == -1 && errno == EFBIG && sp.over, "over the limit: EFBIG");
	r = ts_spool("0123456789", 10, 0, 10, out, sizeof(out), &sp);
	T_OK(r == 0 && sp.size == 10 && !sp.eight, "at the limit");
	r = ts_spool("caf\xc3\xa9\n", 6, 1, 0, out, sizeof(out), &sp);
	T_OK(r == 0 && sp.eight, "8-bit bytes seen");
}

int
main(void)
{
	t_plan(79);
	ts_args();
	ts_spools();
	return t_done();
}
