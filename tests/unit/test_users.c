/*
 * test_users.c - tests for lib/mail/users.c (malformed lines first).
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "t.h"
#include "users.h"
#include "util.h"

/* test_parse - parse a C string as a users file named "t" */
static struct users *
test_parse(const char *s)
{
	return users_parse_buf(s, strlen(s), "t");
}

/* test_has_warn - 1 when warning i contains text */
static int
test_has_warn(const struct users *u, size_t i, const char *text)
{
	return i < u->nwarn && strstr(u->warn[i], text) != NULL;
}

/* test_bad_lines - each malformed line alone: no entry, one warning */
static void
test_bad_lines(void)
{
	static const struct {
		const char	*line;
		const char	*warn;
	} bad[] = {
		{ "alice", "no ':' after the user name" },
		{ "alice@example.com", "no ':'" },
		{ ":{PLAIN}x", "empty user name" },
		{ "al ice:x", "white space in user name" },
		{ " alice:x", "white space in user name" },
		{ "al\tice:x", "white space in user name" },
		{ "al\x01ice:x", "control character" },
		{ "alice:x\x1b[2J", "control character" },
		{ "alice:x\x7f", "control character" },
		{ "alice:x\rmore", "control character" },
		{ "alice:x:abc", "bad uid \"abc\"" },
		{ "alice:x:0:1000", "bad uid \"0\"" },
		{ "alice:x:-5", "bad uid" },
		{ "alice:x: 5", "bad uid" },
		{ "alice:x:5x", "bad uid" },
		{ "alice:x:99999999999", "bad uid" },
		{ "alice:x:1000:x", "bad gid \"x\"" },
		{ "alice:x:1000:0", "bad gid \"0\"" },
		{ "alice:x:1000:1000::home/alice", "home is not an absolute" },
		{ "alice:x:1000:1000::/home/../etc", "without . and .." },
		{ "alice:x:1000:1000::/home/./alice", "without . and .." },
		{ "alice:x:1000:1000::/home/alice/..", "without . and .." },
		{ "../../x@example.com:x", "'/' in user name" },
		{ "a/b@example.com:x", "'/' in user name" },
		{ "a/b:x", "'/' in user name" },
		{ "..@example.com:x", "starts with '.'" },
		{ ".alice@example.com:x", "starts with '.'" },
		{ "..:x", "starts with '.'" },
		{ "@example.com:x", "empty local part" },
		{ "alice@bad..example:x", "bad domain" },
		{ "alice@:x", "bad domain" },
		{ "alice@-x.example:x", "bad domain" },
	};
	struct users *u;
	char	 what[96];
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++) {
		u = test_parse(bad[i].line);
		snprintf(what, sizeof(what), "bad line %zu refused", i);
		T_OK(u->n == 0 && u->nwarn == 1, "%s (n=%zu nwarn=%zu)", what,
		    u->n, u->nwarn);
		T_OK(test_has_warn(u, 0, bad[i].warn) &&
		    strncmp(u->warn[0], "t:1: ", 5) == 0, "warning \"%s\"",
		    u->nwarn > 0 ? u->warn[0] : "");
		users_free(u);
	}
}

/* test_limits - NUL bytes, name and line length limits, warning cap */
static void
test_limits(void)
{
	static const char nul[] = "alice:x\0y\nbob:y\n";
	struct users *u;
	struct buf b;
	char	 name[USERS_NAME_MAX + 2];
	int	 i;

	u = users_parse_buf(nul, sizeof(nul) - 1, "t");
	T_OK(u->n == 1 && strcmp(u->ent[0].name, "bob") == 0,
	    "NUL in a line: line skipped, next line read");
	T_OK(test_has_warn(u, 0, "t:1: control character"), "NUL warning");
	users_free(u);

	buf_init(&b, 1 << 20);
	memset(name, 'n', USERS_NAME_MAX + 1);
	name[USERS_NAME_MAX + 1] = '\0';
	buf_printf(&b, "%s:x\n", name);			/* 321: too long */
	name[USERS_NAME_MAX] = '\0';
	buf_printf(&b, "%s:x\n", name);			/* 320: fine */
	buf_printf(&b, "long:");
	for (i = 0; i < USERS_LINE_MAX - 5; i++)	/* exactly 4096 */
		buf_putc(&b, 'p');
	buf_puts(&b, "\r\nlonger:");
	for (i = 0; i < USERS_LINE_MAX - 6; i++)	/* 4097 */
		buf_putc(&b, 'p');
	buf_puts(&b, "\nlast:x");			/* no final newline */
	u = users_parse_buf((const char *)b.data, b.len, "t");
	T_EQ_INT(u->n, 3, "320-byte name, 4096-byte line, last line kept");
	T_OK(test_has_warn(u, 0, "t:1: user name too long"), "321-byte name");
	T_OK(test_has_warn(u, 1, "t:4: line longer than 4096"), "4097 line");
	T_OK(users_find(u, "long", NULL) != NULL &&
	    strlen(users_find(u, "long", NULL)->pass) == USERS_LINE_MAX - 5,
	    "4096-byte CRLF line parsed whole");
	T_OK(users_find(u, "last", NULL) != NULL, "unterminated last line");
	users_free(u);

	buf_reset(&b);
	for (i = 0; i < 150; i++)
		buf_puts(&b, "bad line\n");
	u = users_parse_buf((const char *)b.data, b.len, "t");
	T_EQ_INT(u->nwarn, USERS_WARN_MAX + 1, "warnings capped");
	T_OK(test_has_warn(u, USERS_WARN_MAX, "too many warnings"),
	    "cap is announced");
	users_free(u);
	buf_free(&b);
}

static const char sample[] =
    "# youju users file\n"
    "\n"
    "   # indented comment\n"
    "  \t \n"
    "alice@Example.COM:{SHA512-CRYPT}$6$abc$def::::::\n"
    "bob@example.org:{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"
    ":5000:5001:Bob B:/var/mail/bob:/bin/false:"
    "userdb_quota_rule=*:storage=1G\n"
    "carol:$6$salt$hash\n"
    "dave:\n"
    "erin@example.com:{PLAIN}x:1001:1001\r\n"
    "a@b@example.com:{PLAIN}y\n"
    "x@y.example:{PLAIN}z\n"
    "ALICE@example.com:{PLAIN}dup\n"
    "Carol:{PLAIN}dup\n"
    "frank@example.com:{BLF-CRYPT}$2y$05$abc:2000";

/* test_good - fields of good lines, duplicates, CRLF */
static void
test_good(void)
{
	const struct users_ent *e;
	struct users *u;

	u = test_parse(sample);
	T_EQ_INT(u->n, 8, "entries");
	T_EQ_INT(u->nwarn, 2, "two duplicate warnings");
	T_OK(test_has_warn(u, 0, "t:12: duplicate user ALICE@example.com "
	    "(first on line 5)"), "duplicate alice: %s",
	    u->nwarn > 0 ? u->warn[0] : "");
	T_OK(test_has_warn(u, 1, "t:13: duplicate user Carol"), "dup carol");

	e = &u->ent[0];
	T_EQ_STR(e->name, "alice@example.com", "doveadm line: name");
	T_EQ_STR(e->local, "alice", "local");
	T_EQ_STR(e->domain, "example.com", "domain lowercased");
	T_EQ_STR(e->pass, "{SHA512-CRYPT}$6$abc$def", "pass");
	T_OK(e->uid == -1 && e->gid == -1, "empty uid/gid are -1");
	T_OK(e->gecos[0] == '\0' && e->home[0] == '\0' &&
	    e->shell[0] == '\0' && e->extra[0] == '\0', "empty fields");
	T_EQ_INT(e->line, 5, "line number");

	e = &u->ent[1];
	T_EQ_INT(e->uid, 5000, "uid");
	T_EQ_INT(e->gid, 5001, "gid");
	T_EQ_STR(e->gecos, "Bob B", "gecos");
	T_EQ_STR(e->home, "/var/mail/bob", "home");
	T_EQ_STR(e->shell, "/bin/false", "shell");
	T_EQ_STR(e->extra, "userdb_quota_rule=*:storage=1G",
	    "extra keeps ':'");

	e = &u->ent[2];
	T_OK(strcmp(e->name, "carol") == 0 && e->domain[0] == '\0' &&
	    strcmp(e->local, "carol") == 0, "bare name");
	T_EQ_STR(u->ent[3].pass, "", "empty password");
	e = &u->ent[4];
	T_OK(strcmp(e->pass, "{PLAIN}x") == 0 && e->gid == 1001 &&
	    e->home[0] == '\0', "CRLF line: no CR left in the last field");
	e = &u->ent[5];
	T_OK(strcmp(e->local, "a@b") == 0 &&
	    strcmp(e->domain, "example.com") == 0, "split at the last '@'");
	e = &u->ent[7];
	T_OK(e->uid == 2000 && e->gid == -1, "trailing fields optional");
	users_free(u);
}

/* test_find - lookup rules */
static void
test_find(void)
{
	static const struct {
		const char	*local, *domain, *want;
	} tab[] = {
		{ "alice", "example.com", "alice@example.com" },
		{ "ALICE", "EXAMPLE.COM", "alice@example.com" },
		{ "alice", "other.example", NULL },
		{ "alice", NULL, NULL },
		{ "alice", "", NULL },
		{ "alice@example.com", NULL, "alice@example.com" },
		{ "Alice@Example.Com", "", "alice@example.com" },
		{ "carol", "example.com", "carol" },
		{ "CAROL", "any.example", "carol" },
		{ "carol", NULL, "carol" },
		{ "carol@example.com", NULL, NULL },
		{ "a@b", "example.com", "a@b@example.com" },
		{ "a@b", NULL, NULL },
		{ "x@y.example", "other.example", NULL },	/* not bare */
		{ "x", "y.example", "x@y.example" },
		{ "nobody", "example.com", NULL },
		{ "", "example.com", NULL },
		{ "dave", "example.net", "dave" },
	};
	const struct users_ent *e;
	struct users *u;
	char	 what[128];
	size_t	 i;

	u = test_parse(sample);
	for (i = 0; i < NELEM(tab); i++) {
		e = users_find(u, tab[i].local, tab[i].domain);
		snprintf(what, sizeof(what), "find %s / %s", tab[i].local,
		    tab[i].domain ? tab[i].domain : "(null)");
		if (tab[i].want == NULL)
			T_OK(e == NULL, "%s -> none", what);
		else
			T_OK(e != NULL && strcmp(e->name, tab[i].want) == 0,
			    "%s -> %s", what, tab[i].want);
	}
	T_OK(users_find(NULL, "a", "b") == NULL, "NULL table");
	users_free(u);
}

/* test_many - the index grows and finds every one of 20000 users */
static void
test_many(void)
{
	struct users *u;
	struct buf b;
	char	 local[32];
	int	 i, found = 0;

	buf_init(&b, 1 << 22);
	for (i = 0; i < 20000; i++)
		buf_printf(&b, "user%d@d%d.example:{PLAIN}p%d\n", i, i % 7, i);
	u = users_parse_buf((const char *)b.data, b.len, NULL);
	for (i = 0; i < 20000; i++) {
		const struct users_ent *e;
		char	 dom[32];

		snprintf(local, sizeof(local), "USER%d", i);
		snprintf(dom, sizeof(dom), "D%d.example", i % 7);
		e = users_find(u, local, dom);
		if (e != NULL && e->line == i + 1)
			found++;
	}
	T_EQ_INT(found, 20000, "all 20000 users found");
	T_OK(users_find(u, "user1", "d2.example") == NULL, "wrong domain");
	users_free(u);
	buf_free(&b);
}

/* test_scheme - users_scheme and users_password_hash */
static void
test_scheme(void)
{
	static const struct {
		const char	*pass, *scheme, *hash;
	} tab[] = {
		{ "", "", "" },
		{ "{", "", "{" },
		{ "{}", "", "{}" },
		{ "{}x", "", "{}x" },
		{ "{SHA512-CRYPT", "", "{SHA512-CRYPT" },
		{ "{A B}x", "", "{A B}x" },
		{ "{A:B}x", "", "{A:B}x" },
		{ "{ABCDEFGHIJKLMNOPQRSTUVWXYZ012345}x", "",
		    "{ABCDEFGHIJKLMNOPQRSTUVWXYZ012345}x" },
		{ "{ABCDEFGHIJKLMNOPQRSTUVWXYZ01234}x",
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "x" },
		{ "{SHA512-CRYPT}$6$abc$def", "SHA512-CRYPT", "$6$abc$def" },
		{ "{sha256-crypt}$5$abc$def", "SHA256-CRYPT", "$5$abc$def" },
		{ "{BLF-CRYPT}$2y$05$abc", "BLF-CRYPT", "$2y$05$abc" },
		{ "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$s$h", "ARGON2ID",
		    "$argon2id$v=19$m=65536,t=2,p=1$s$h" },
		{ "{PLAIN}secret", "PLAIN", "secret" },
		{ "$6$salt$hash", "CRYPT", "$6$salt$hash" },
		{ "xyzzy", "CRYPT", "xyzzy" },
	};
	char	 s[64];
	size_t	 i;

	for (i = 0; i < NELEM(tab); i++) {
		T_EQ_INT(users_scheme(tab[i].pass, s, sizeof(s)),
		    strlen(tab[i].scheme), tab[i].pass);
		T_EQ_STR(s, tab[i].scheme, "scheme");
		T_EQ_STR(users_password_hash(tab[i].pass), tab[i].hash,
		    "hash part");
	}
	T_EQ_INT(users_scheme("{SHA512-CRYPT}x", s, 4), 12, "truncated");
	T_EQ_STR(s, "SHA", "truncated text");
}

/*
 * test_login_problem - entries that load (mail is delivered to them) but
 * can never log in, each with its reason; usable ones have none
 */
static void
test_login_problem(void)
{
	static const char file[] =
	    "ok:{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6"
	    "GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1\n"
	    "article:password\n"
	    "empty:\n"
	    "empty2::1001:1001::/home/e::\n"
	    "plain:{PLAIN}secret::::::\n"
	    "md5:{MD5-CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//\n"
	    "cut:{SHA256-CRYPT}$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX\n";
	static const struct {
		const char	*name;
		const char	*why;		/* NULL: usable */
	} want[] = {
		{ "ok", NULL },
		{ "article", "clear-text password?" },
		{ "empty", "no password" },
		{ "empty2", "no password" },
		{ "plain", "clear-text password ({PLAIN})" },
		{ "md5", "unknown password scheme {MD5-CRYPT}" },
		{ "cut", "truncated SHA256-CRYPT hash" },
	};
	struct users *u = test_parse(file);
	const struct users_ent *e;
	const char *why;
	char	 buf[256];
	size_t	 i;

	T_EQ_INT(u->n, NELEM(want), "every line loads");
	T_EQ_INT(u->nwarn, 0, "no warnings: the lines are well-formed");
	for (i = 0; i < NELEM(want); i++) {
		e = users_find(u, want[i].name, NULL);
		T_OK(e != NULL, "%s found", want[i].name);
		why = users_login_problem(e, buf, sizeof(buf));
		if (want[i].why == NULL)
			T_OK(why == NULL, "%s can log in", want[i].name);
		else
			T_OK(why != NULL && strstr(why, want[i].why) != NULL,
			    "%s: \"%s\"", want[i].name, why != NULL ? why :
			    "(none)");
	}
	T_OK(users_login_problem(NULL, buf, sizeof(buf)) != NULL,
	    "no entry: no login");
	users_free(u);
}

/* test_load - reading files */
static void
test_load(void)
{
	char	 dir[] = "/tmp/test_users.XXXXXX", path[128], err[256];
	struct users *u;
	FILE	*fp;

	T_OK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof(path), "%s/missing", dir);
	err[0] = '\0';
	u = users_load(path, err, sizeof(err));
	T_OK(u == NULL && errno == ENOENT, "missing file is an error");
	T_OK(strstr(err, "cannot open users file") != NULL &&
	    strstr(err, path) != NULL && strstr(err, strerror(ENOENT)) != NULL,
	    "clear message: %s", err);
	u = users_load(dir, err, sizeof(err));
	T_OK(u == NULL && strstr(err, "not a regular file") != NULL,
	    "directory refused: %s", err);

	snprintf(path, sizeof(path), "%s/users", dir);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(sample, fp);
		fclose(fp);
	}
	u = users_load(path, err, sizeof(err));
	T_OK(u != NULL && u->n == 8, "file loaded");
	T_OK(u != NULL && u->nwarn > 0 && strncmp(u->warn[0], path,
	    strlen(path)) == 0, "warnings name the file");
	users_free(u);
	u = users_load(path, NULL, 0);
	T_OK(u != NULL, "NULL err buffer accepted");
	users_free(u);
	T_OK(users_load(dir, NULL, 0) == NULL, "error without err buffer");
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	t_plan(191);
	test_bad_lines();
	test_limits();
	test_good();
	test_find();
	test_many();
	test_scheme();
	test_login_problem();
	test_load();
	return t_done();
}
