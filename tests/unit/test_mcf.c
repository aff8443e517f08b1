/*
 * test_mcf.c - unit tests of lib/conf/mcf.c (master.cf).
 *
 * Malformed lines first (each must fail with file:line and the reason),
 * then every column, the '-' defaults, -o forms, inet host/port splitting,
 * the internal services added by default, and files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mcf.h"
#include "util.h"
#include "t.h"

struct bad_case {
	const char	*what;
	const char	*text;
	const char	*want;		/* substring of the error message */
};

static const struct bad_case bad_cases[] = {
	{ "missing columns", "smtp inet n - y - -\n",
	  "master.cf:1: missing columns: a service line needs service type "
	  "private unpriv chroot wakeup maxproc command; found 7" },
	{ "one word", "# c\nsmtp\n", "master.cf:2: missing columns" },
	{ "unknown type", "smtp tcp n - y - - smtpd\n",
	  "master.cf:1: unknown service type \"tcp\" (expected inet or unix)" },
	{ "unix-dgram", "x unix-dgram n - n - - x\n",
	  "service type \"unix-dgram\" is not supported by youju" },
	{ "pass", "x pass n - n - - x\n",
	  "service type \"pass\" is not supported by youju" },
	{ "fifo", "x fifo n - n - - x\n",
	  "service type \"fifo\" is not supported by youju" },
	{ "bad private", "smtp inet x - y - - smtpd\n",
	  "private column: bad flag \"x\" (expected y, n or -)" },
	{ "bad unpriv", "smtp inet n Y y - - smtpd\n",
	  "unpriv column: bad flag \"Y\"" },
	{ "bad chroot", "smtp inet n - yes - - smtpd\n",
	  "chroot column: bad flag \"yes\"" },
	{ "bad wakeup", "qmgr unix n - y abc 1 qmgr\n",
	  "wakeup column: bad value \"abc\"" },
	{ "wakeup with unit", "qmgr unix n - y 30s 1 qmgr\n",
	  "wakeup column: bad value \"30s\"" },
	{ "negative wakeup", "qmgr unix n - y -5 1 qmgr\n",
	  "wakeup column: bad value \"-5\"" },
	{ "wakeup only ?", "qmgr unix n - y ? 1 qmgr\n",
	  "wakeup column: bad value \"?\"" },
	{ "bad maxproc", "smtp inet n - y - many smtpd\n",
	  "maxproc column: bad value \"many\"" },
	{ "negative maxproc", "smtp inet n - y - -1 smtpd\n",
	  "maxproc column: bad value \"-1\"" },
	{ "huge maxproc", "smtp inet n - y - 99999999999 smtpd\n",
	  "maxproc column: bad value" },
	{ "duplicate",
	  "smtp inet n - y - - smtpd\n\nsmtp inet n - n - - smtpd\n",
	  "master.cf:3: duplicate service \"smtp\" type inet (first at "
	  "line 1)" },
	{ "continuation first", "  -o smtpd_banner=x\n",
	  "master.cf:1: line starts with white space but continues no "
	  "service" },
	{ "-o at end", "smtp inet n - y - - smtpd -o\n",
	  "master.cf:1: -o at the end of the line" },
	{ "-o without =", "smtp inet n - y - - smtpd -o novalue\n",
	  "-o \"novalue\": expected name=value" },
	{ "-o empty name", "smtp inet n - y - - smtpd -o =x\n",
	  "-o \"=x\": expected name=value" },
	{ "-o bad name", "smtp inet n - y - - smtpd -oa-b=x\n",
	  "-o \"a-b=x\": expected name=value" },
	{ "-o unclosed brace", "smtp inet n - y - - smtpd -o { a = b\n",
	  "missing '}'" },
	{ "-o brace no =", "smtp inet n - y - - smtpd -o { a }\n",
	  "-o \"{ a }\": expected name=value" },
	{ "IPv6 without brackets", "::1:25 inet n - n - - smtpd\n",
	  "service \"::1:25\": write an IPv6 address in brackets" },
	{ "IPv6 without port", "[::1] inet n - n - - smtpd\n",
	  "service \"[::1]\": expected port, host:port or [address]:port" },
	{ "empty brackets", "[]:25 inet n - n - - smtpd\n",
	  "expected port, host:port" },
	{ "empty port", "127.0.0.1: inet n - n - - smtpd\n",
	  "expected port, host:port" },
	{ "port out of range", "127.0.0.1:99999 inet n - n - - smtpd\n",
	  "expected port, host:port" },
	{ "port zero", "127.0.0.1:0 inet n - n - - smtpd\n",
	  "expected port, host:port" },
	{ "bad port name", "127.0.0.1:sm.tp inet n - n - - smtpd\n",
	  "expected port, host:port" },
	{ "slash in unix name", "a/b unix n - n - - local\n",
	  "unix service name \"a/b\" must not contain '/'" },
	{ "dot-dot unix name", ".. unix n - n - - local\n",
	  "must not contain '/' or be . or .." },
	{ "command with path", "smtp inet n - y - - ../../bin/sh\n",
	  "command \"../../bin/sh\": expected a program name" },
	{ "command with slash", "smtp inet n - y - - /bin/sh\n",
	  "expected a program name in daemon_directory" },
};

/* t_parse - parse text into m; 0 or -1 */
static int
t_parse(const char *text, struct mcf *m, char *err, size_t errlen)
{
	err[0] = '\0';
	return mcf_parse_buf(text, strlen(text), "master.cf", 100, m, err,
	    errlen);
}

/* t_bad_cases - every malformed input fails with the right message */
static void
t_bad_cases(void)
{
	struct mcf m;
	char	 err[1024];
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(bad_cases); i++) {
		r = t_parse(bad_cases[i].text, &m, err, sizeof(err));
		T_OK(r == -1 && strstr(err, bad_cases[i].want) != NULL &&
		    m.nsvc == 0 && m.svc == NULL, "bad: %s: \"%s\"",
		    bad_cases[i].what, err);
		mcf_free(&m);
	}
}

/* t_bad_lengths - over-long lines and NUL bytes */
static void
t_bad_lengths(void)
{
	struct buf b;
	struct mcf m;
	char	 err[1024];
	int	 r;

	buf_init(&b, 1 << 20);
	buf_puts(&b, "smtp inet n - y - - smtpd -o smtpd_banner=");
	while (b.len <= MCF_LINE_MAX)
		buf_putc(&b, 'a');
	r = t_parse(buf_cstr(&b), &m, err, sizeof(err));
	T_OK(r == -1 && strstr(err, "master.cf:1: line longer than 65536"),
	    "physical line over 64 KiB: %s", err);
	buf_reset(&b);
	buf_puts(&b, "smtp inet n - y - - smtpd");
	while (b.len < 3 * 30000) {
		buf_puts(&b, "\n -o smtpd_banner=");
		while (b.len % 30000 != 0)
			buf_putc(&b, 'b');
	}
	r = t_parse(buf_cstr(&b), &m, err, sizeof(err));
	T_OK(r == -1 && strstr(err, "master.cf:1: logical line"),
	    "logical line over 64 KiB: %s", err);
	buf_free(&b);
	r = mcf_parse_buf("smtp inet n - y - - sm\0tpd\n", 27, "m.cf", 100, &m,
	    err, sizeof(err));
	T_OK(r == -1 && strstr(err, "m.cf:1: NUL byte") != NULL, "NUL: %s",
	    err);
}

static const char *const sample =
    "# youju master.cf\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "submission inet n - y - - smtpd\n"
    "  -o syslog_name=postfix/submission\n"
    "  # a comment between continuation lines\n"
    "\n"
    "  -o smtpd_tls_security_level=encrypt -osmtpd_sasl_auth_enable=yes\n"
    "\t-o smtpd_client_restrictions=$mua_client_restrictions "
    "-o smtpd_banner=\n"
    "127.0.0.1:2525 inet n - n - - smtpd -v\r\n"
    "[::1]:2526 inet y n n - 0 smtpd -o { smtpd_banner = hello world }\n"
    "*:2527 inet n - n - - smtpd\n"
    "qmgr unix n - y 300? 1 qmgr\n"
    "custom unix y y n 60 5 local -D second\n"
    "smtp unix - - y - - smtp";

/* t_find - a service that must exist; the test stops if it does not */
static const struct mcf_service *
t_find(const struct mcf *m, const char *name)
{
	const struct mcf_service *s = mcf_find(m, name);

	T_OK(s != NULL, "%s found", name);
	if (s == NULL) {
		(void)t_done();
		exit(1);
	}
	return s;
}

/* t_columns - every column of a realistic master.cf */
static void
t_columns(void)
{
	const struct mcf_service *s;
	struct mcf m;
	char	 err[1024];

	T_EQ_INT(t_parse(sample, &m, err, sizeof(err)), 0, "sample parses");
	if (m.nsvc == 0) {
		printf("# %s\n", err);
		return;
	}
	T_EQ_INT(m.nsvc, 8, "eight services");
	s = t_find(&m, "smtp");
	T_OK(s->type == MCF_INET, "smtp inet found first");
	T_EQ_INT(s->private_, 0, "smtp private n");
	T_EQ_INT(s->unpriv, 1, "smtp unpriv - = y");
	T_EQ_INT(s->chroot, 1, "smtp chroot y");
	T_EQ_INT(s->wakeup, 0, "smtp wakeup - = 0");
	T_EQ_INT(s->maxproc, 100, "smtp maxproc - = default_process_limit");
	T_EQ_STR(s->command, "smtpd", "smtp command");
	T_EQ_STR(s->host, "", "smtp host \"\"");
	T_EQ_STR(s->port, "smtp", "smtp port");
	T_EQ_INT(s->nargs, 0, "smtp no args");
	T_OK(s->args != NULL && s->args[0] == NULL, "args NULL-terminated");
	T_EQ_INT(s->nopts, 0, "smtp no -o");
	T_EQ_INT(s->line, 2, "smtp line 2");

	s = t_find(&m, "submission");
	T_EQ_INT(s->line, 3, "submission line 3");
	T_EQ_INT(s->nopts, 5, "five -o");
	T_EQ_STR(s->opts[0].name, "syslog_name", "-o name");
	T_EQ_STR(s->opts[0].value, "postfix/submission", "-o value");
	T_EQ_STR(s->opts[1].value, "encrypt", "-o after a comment line");
	T_EQ_STR(s->opts[2].name, "smtpd_sasl_auth_enable", "-oname=value");
	T_EQ_STR(s->opts[2].value, "yes", "-oname=value value");
	T_EQ_STR(s->opts[3].value, "$mua_client_restrictions",
	    "-o value kept unexpanded");
	T_EQ_STR(s->opts[4].name, "smtpd_banner", "-o name= name");
	T_EQ_STR(s->opts[4].value, "", "-o name= is empty");

	s = t_find(&m, "127.0.0.1:2525");
	T_EQ_STR(s->host, "127.0.0.1", "IPv4 host");
	T_EQ_STR(s->port, "2525", "IPv4 port");
	T_EQ_INT(s->chroot, 0, "chroot n");
	T_EQ_INT(s->nargs, 1, "one argument");
	T_EQ_STR(s->args[0], "-v", "argument -v");
	T_EQ_INT(s->line, 9, "line after CR LF");

	s = t_find(&m, "[::1]:2526");
	T_EQ_STR(s->host, "::1", "IPv6 host");
	T_EQ_STR(s->port, "2526", "IPv6 port");
	T_EQ_INT(s->private_, 1, "private y");
	T_EQ_INT(s->unpriv, 0, "unpriv n");
	T_EQ_INT(s->maxproc, 0, "maxproc 0 = unlimited");
	T_EQ_INT(s->nopts, 1, "braced -o");
	T_EQ_STR(s->opts[0].name, "smtpd_banner", "braced -o name");
	T_EQ_STR(s->opts[0].value, "hello world", "braced -o value");

	s = t_find(&m, "*:2527");
	T_EQ_STR(s->host, "", "host * = all");

	s = t_find(&m, "qmgr");
	T_OK(s->type == MCF_UNIX, "qmgr unix");
	T_EQ_INT(s->wakeup, 300, "wakeup 300?");
	T_EQ_INT(s->wakeup_if_used, 1, "wakeup '?' noted");
	T_EQ_INT(s->maxproc, 1, "maxproc 1");
	T_OK(s->host == NULL && s->port == NULL, "unix: no host/port");

	s = t_find(&m, "custom");
	T_EQ_INT(s->wakeup, 60, "wakeup 60");
	T_EQ_INT(s->wakeup_if_used, 0, "no '?'");
	T_EQ_INT(s->nargs, 2, "two args");
	T_EQ_STR(s->args[1], "second", "second arg");
	T_OK(s->args[2] == NULL, "args NULL-terminated");
	T_EQ_STR(s->command, "local", "custom command");
	T_OK(mcf_find(&m, "nothere") == NULL, "mcf_find of a missing name");
	mcf_free(&m);
	T_OK(m.svc == NULL && m.nsvc == 0, "mcf_free empties");
	mcf_free(&m);
}

/* t_defaults - internal services are added when missing, kept otherwise */
static void
t_defaults(void)
{
	const struct mcf_service *s;
	struct mcf m;
	char	 err[1024];
	size_t	 i;
	int	 nunix = 0;

	T_EQ_INT(t_parse("smtp inet n - y - - smtpd\n"
	    "qmgr unix n - n 60 1 qmgr\n", &m, err, sizeof(err)), 0,
	    "parse for defaults");
	mcf_add_defaults(&m, 42);
	T_EQ_INT(m.nsvc, 7, "five services added");
	s = mcf_find(&m, "qmgr");
	T_OK(s != NULL && s->chroot == 0 && s->wakeup == 60 && s->line == 2,
	    "qmgr from the file kept");
	for (i = 0; i < m.nsvc; i++)
		if (m.svc[i].type == MCF_UNIX)
			nunix++;
	T_EQ_INT(nunix, 6, "six unix services");
	for (i = 0; i < m.nsvc; i++)
		if (m.svc[i].type == MCF_UNIX &&
		    strcmp(m.svc[i].name, "smtp") == 0)
			break;
	T_OK(i < m.nsvc && m.svc[i].maxproc == 42 && m.svc[i].chroot == 1 &&
	    m.svc[i].line == 0 && strcmp(m.svc[i].command, "smtp") == 0,
	    "smtp unix - - y - - smtp added");
	T_EQ_INT(mcf_process_count(&m.svc[i], 2), 4, "smtp: 2 x ncpu");
	T_EQ_INT(mcf_process_count(mcf_find(&m, "qmgr"), 8), 1, "qmgr: 1");
	s = mcf_find(&m, "local");
	T_OK(s != NULL && s->private_ == 1 && s->unpriv == 0 &&
	    s->chroot == 0 && s->maxproc == 42 && s->line == 0,
	    "local unix - n n - - local added");
	s = mcf_find(&m, "auth");
	T_OK(s != NULL && s->maxproc == 1 && s->chroot == 1 && s->unpriv == 1,
	    "auth unix - - y - 1 auth added");
	s = mcf_find(&m, "anvil");
	T_OK(s != NULL && s->maxproc == 1 && s->chroot == 1 && s->unpriv == 1,
	    "anvil unix - - y - 1 anvil added");
	T_EQ_INT(mcf_process_count(s, 8), 1, "anvil: 1");
	s = mcf_find(&m, "pickup");
	T_OK(s != NULL && s->maxproc == 1 && s->chroot == 1 &&
	    s->unpriv == 1 && s->private_ == 0 && s->line == 0,
	    "pickup unix n - y - 1 pickup added");
	T_EQ_INT(mcf_process_count(s, 8), 1, "pickup: 1");
	mcf_add_defaults(&m, 42);
	T_EQ_INT(m.nsvc, 7, "adding twice adds nothing");
	mcf_free(&m);

	T_EQ_INT(t_parse("", &m, err, sizeof(err)), 0, "empty file parses");
	mcf_add_defaults(&m, 100);
	T_EQ_INT(m.nsvc, 6, "empty file: the six internal services");
	s = mcf_find(&m, "qmgr");
	T_OK(s != NULL && s->private_ == 0 && s->wakeup == 300 &&
	    s->maxproc == 1, "qmgr unix n - y 300 1 qmgr");
	mcf_free(&m);
}

/* t_files - mcf_load */
static void
t_files(void)
{
	char	 path[] = "/tmp/test_mcf.XXXXXX", err[1024];
	struct mcf m;
	FILE	*f;
	int	 fd;

	T_EQ_INT(mcf_load("/nonexistent/master.cf", 100, &m, err, sizeof(err)),
	    -1, "missing file");
	T_OK(errno == ENOENT && strstr(err, "cannot open /nonexistent") != NULL,
	    "missing file message: %s", err);
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		T_OK(0, "mkstemp");
		return;
	}
	fputs("submission inet n - y - - smtpd -o smtpd_tls_security_level="
	    "encrypt -o smtpd_sasl_auth_enable=yes\n"
	    "127.0.0.1:2525 inet n - n - - smtpd\n", f);
	fclose(f);
	T_EQ_INT(mcf_load(path, 7, &m, err, sizeof(err)), 0, "mcf_load");
	T_EQ_INT(m.nsvc, 2, "two services from the file");
	T_OK(m.nsvc == 2 && m.svc[0].nopts == 2 && m.svc[1].maxproc == 7,
	    "file contents");
	mcf_free(&m);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("smtp inet n - y - - smtpd\nbad line\n", f);
		fclose(f);
	}
	T_EQ_INT(mcf_load(path, 7, &m, err, sizeof(err)), -1, "bad file");
	T_OK(strstr(err, path) != NULL && strstr(err, ":2: missing columns"),
	    "bad file message: %s", err);
	unlink(path);
	T_EQ_INT(mcf_load("/tmp", 7, &m, err, sizeof(err)), -1, "directory");
}

int
main(void)
{
	t_plan(123);
	t_bad_cases();
	t_bad_lengths();
	t_columns();
	t_defaults();
	t_files();
	return t_done();
}
