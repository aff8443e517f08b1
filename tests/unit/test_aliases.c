/*
 * test_aliases.c - tests for lib/mail/aliases.c (malformed input first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "buf.h"
#include "t.h"
#include "util.h"

/* test_parse - parse a C string as an aliases file named "t" */
static struct aliases *
test_parse(const char *s)
{
	return aliases_parse_buf(s, strlen(s), "t");
}

/* test_warned - 1 when some warning contains text */
static int
test_warned(const struct aliases *al, const char *text)
{
	size_t	 i;

	for (i = 0; i < al->nwarn; i++)
		if (strstr(al->warn[i], text) != NULL)
			return 1;
	return 0;
}

/* test_bad - malformed lines and refused targets */
static void
test_bad(void)
{
	static const struct {
		const char	*in;
		const char	*warn;
	} bad[] = {
		{ "postmaster root", "t:1: no ':' after the alias name" },
		{ ": root", "bad alias name \"\"" },
		{ "a b: root", "bad alias name \"a b\"" },
		{ "\"quoted\": root", "bad alias name" },
		{ "a..b: root", "bad alias name" },
		{ "x@bad..example: root", "bad alias name" },
		{ "  root: alice", "t:1: continuation line without" },
		{ "# c\n\troot: alice", "t:2: continuation line without" },
		{ "a: |/usr/bin/procmail", "command target refused" },
		{ "a: \"|/usr/bin/procmail -f x\"", "command target refused" },
		{ "a: \\|cmd", "command target refused" },
		{ "a: /var/mail/a", "file target refused" },
		{ "a: \"/tmp/x y\"", "file target refused" },
		{ "a: \\/tmp/x", "file target refused" },
		/* quote first, then the escape: found by fuzz_aliases */
		{ "a: \"\\|cmd\"@example.com", "command target refused" },
		{ "a: \"\\/etc/passwd\"@example.com", "file target refused" },
		{ "a: \"\\:include:x\"@example.com", ":include: target refused" },
		{ "a: :include:/etc/list", ":include: target refused" },
		{ "a: :INCLUDE:/etc/list", ":include: target refused" },
		{ "a: \"unbalanced", "unbalanced quote" },
		{ "a: b..c", "bad target \"b..c\"" },
		{ "a: .b", "bad target" },
		{ "a: b@c..example", "bad target" },
		{ "a: b@", "bad target" },
		{ "a: j\xc3\xb6rg", "bad target \"j\\xc3\\xb6rg\"" },
		{ "a: \\", "bad target" },
		{ "a: \"\"", "bad target" },
		{ "a:", "alias a has no usable target" },
		{ "a: , ,", "alias a has no usable target" },
		{ "a: b\x01", "t:1: control character" },
		{ "a: b\x7f", "control character" },
	};
	struct aliases *al;
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++) {
		al = test_parse(bad[i].in);
		T_OK(al->n == 0 && al->nwarn >= 1, "bad input %zu: no entry",
		    i);
		T_OK(test_warned(al, bad[i].warn),
		    "warning \"%s\" (got \"%s\")", bad[i].warn,
		    al->nwarn > 0 ? al->warn[0] : "");
		aliases_free(al);
	}

	/* a refused target does not take the good ones with it */
	al = test_parse("a: |cmd, bob, /file\n");
	T_OK(al->n == 1 && al->ent[0].ntargets == 1 &&
	    strcmp(al->ent[0].targets[0], "bob") == 0 && al->nwarn == 2,
	    "refused targets dropped, good target kept");
	aliases_free(al);
}

/* test_limits - logical line limit, warning cap */
static void
test_limits(void)
{
	struct aliases *al;
	struct buf b;
	int	 i;

	buf_init(&b, 1 << 20);
	buf_puts(&b, "big: a");
	for (i = 0; 6 + (i + 1) * 3 <= ALIASES_LINE_MAX; i++)	/* 65535 */
		buf_puts(&b, ",\n u");
	buf_puts(&b, "\nnext: bob\n");
	al = aliases_parse_buf((const char *)b.data, b.len, "t");
	T_OK(al->n == 2 && al->nwarn == 0, "logical line under the limit");
	aliases_free(al);

	buf_reset(&b);
	buf_puts(&b, "big: a");
	for (i = 0; 6 + i * 3 <= ALIASES_LINE_MAX; i++)	/* joined: 65538 */
		buf_puts(&b, ",\n u");
	buf_puts(&b, "\nnext: bob\n");
	al = aliases_parse_buf((const char *)b.data, b.len, "t");
	T_OK(al->n == 1 && strcmp(al->ent[0].name, "next") == 0,
	    "over-long logical line skipped, next line read");
	T_OK(test_warned(al, "t:1: logical line longer than 65536"),
	    "over-long warning");
	aliases_free(al);

	buf_reset(&b);
	for (i = 0; i < 150; i++)
		buf_puts(&b, "no colon\n");
	al = aliases_parse_buf((const char *)b.data, b.len, "t");
	T_EQ_INT(al->nwarn, ALIASES_WARN_MAX + 1, "warnings capped");
	T_OK(test_warned(al, "too many warnings"), "cap announced");
	aliases_free(al);
	buf_free(&b);
}

static const char sample[] =
    "# aliases\n"
    "PostMaster: root\n"
    "root: \\root, alice\n"
    "staff: alice,\n"
    "  bob,\n"
    "# a comment inside a list\n"
    "\n"
    "\tcarol@Example.COM  \"john smith\"@example.com\r\n"
    "Info@Example.com: bob\n"
    "info: carol\n"
    "self: self, bob\n"
    "x: y\n"
    "y: x\n"
    "x: duplicate\n"
    "dups: Bob, bob, BOB@remote.example, bob@REMOTE.example, dups2\n"
    "dups2: bob\n"
    "top: l1, l2\n"
    "l1: shared\n"
    "l2: shared\n"
    "shared: z, remote@Remote.Example\n"
    "carol@example.com: carol, dave@example.net\n"
    "dave: davey\n";

/* test_parse_good - continuations, comments, canonical targets */
static void
test_parse_good(void)
{
	const struct aliases_ent *e;
	struct aliases *al;

	al = test_parse(sample);
	T_EQ_INT(al->n, 16, "entries");
	T_EQ_INT(al->nwarn, 1, "one warning (duplicate)");
	T_OK(test_warned(al, "t:14: duplicate alias x (first on line 12)"),
	    "duplicate warning: %s", al->nwarn > 0 ? al->warn[0] : "");
	e = aliases_lookup(al, "staff", NULL);
	T_OK(e != NULL && e->ntargets == 4 && e->line == 4,
	    "continuation lines joined across a comment and a blank line");
	if (e != NULL && e->ntargets == 4) {
		T_EQ_STR(e->targets[0], "alice", "target 1");
		T_EQ_STR(e->targets[1], "bob", "target 2");
		T_EQ_STR(e->targets[2], "carol@example.com",
		    "target 3 canonical, CR stripped");
		T_EQ_STR(e->targets[3], "\"john smith\"@example.com",
		    "quoted target kept");
	}
	e = aliases_lookup(al, "postmaster", NULL);
	T_OK(e != NULL && strcmp(e->name, "postmaster") == 0,
	    "name lowercased");
	e = aliases_lookup(al, "root", NULL);
	T_OK(e != NULL && strcmp(e->targets[0], "\\root") == 0,
	    "\\name kept");
	e = aliases_lookup(al, "x", NULL);
	T_OK(e != NULL && strcmp(e->targets[0], "y") == 0, "first wins");
	aliases_free(al);
}

/* test_lookup - "local@domain" first, then "local" */
static void
test_lookup(void)
{
	static const struct {
		const char	*local, *domain, *want;
	} tab[] = {
		{ "info", "example.com", "info@example.com" },
		{ "INFO", "EXAMPLE.COM", "info@example.com" },
		{ "info", "other.example", "info" },
		{ "info", NULL, "info" },
		{ "info", "", "info" },
		{ "info@example.com", NULL, NULL },
		{ "info@example.com", "evil.example", NULL },
		{ "nobody", "example.com", NULL },
		{ "Staff", "any.example", "staff" },
	};
	const struct aliases_ent *e;
	struct aliases *al;
	size_t	 i;

	al = test_parse(sample);
	for (i = 0; i < NELEM(tab); i++) {
		e = aliases_lookup(al, tab[i].local, tab[i].domain);
		if (tab[i].want == NULL)
			T_OK(e == NULL, "lookup %s / %s -> none", tab[i].local,
			    tab[i].domain ? tab[i].domain : "(null)");
		else
			T_OK(e != NULL && strcmp(e->name, tab[i].want) == 0,
			    "lookup %s / %s -> %s", tab[i].local,
			    tab[i].domain ? tab[i].domain : "(null)",
			    tab[i].want);
	}
	T_OK(aliases_lookup(NULL, "a", NULL) == NULL, "NULL table");
	aliases_free(al);
}

/* test_is_local - example.com and example.net are ours */
static int
test_is_local(void *arg, const char *domain)
{
	(*(int *)arg)++;
	return util_strcasecmp_ascii(domain, "example.com") == 0 ||
	    util_strcasecmp_ascii(domain, "example.net") == 0;
}

/* test_join - expansion result as "a b c" */
static const char *
test_join(char **v, size_t n)
{
	static char s[1024];
	size_t	 i;

	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			util_strlcat(s, " ", sizeof(s));
		util_strlcat(s, v[i], sizeof(s));
	}
	return s;
}

/* test_expand - recursion, self, loops, duplicates */
static void
test_expand(void)
{
	static const struct {
		const char	*in, *out;
	} tab[] = {
		{ "nobody@example.com", "nobody@example.com" },
		{ "nobody", "nobody" },
		{ "remote@other.example", "remote@other.example" },
		{ "info@other.example", "info@other.example" },
		{ "postmaster", "root alice" },
		{ "PostMaster@Example.COM", "root alice" },
		{ "root", "root alice" },
		{ "staff", "alice bob carol davey \"john smith\"@example.com" },
		{ "info@example.com", "bob" },
		{ "info@example.net", "carol" },
		{ "self", "self bob" },
		{ "x", "x" },
		{ "y", "y" },
		{ "dups", "Bob BOB@remote.example" },
		{ "top", "z remote@remote.example" },
		{ "dave@example.net", "davey" },
	};
	struct aliases *al;
	char	**out;
	size_t	 n, i;
	int	 calls = 0;

	al = test_parse(sample);
	for (i = 0; i < NELEM(tab); i++) {
		T_EQ_INT(aliases_expand(al, tab[i].in, test_is_local, &calls,
		    &out, &n), 0, tab[i].in);
		T_EQ_STR(test_join(out, n), tab[i].out, "expansion");
		aliases_list_free(out, n);
	}
	T_OK(calls > 0, "is_local consulted");

	/* without is_local no domain is local */
	T_EQ_INT(aliases_expand(al, "info@example.com", NULL, NULL, &out, &n),
	    0, "no callback");
	T_EQ_STR(test_join(out, n), "info@example.com", "address kept");
	aliases_list_free(out, n);
	T_EQ_INT(aliases_expand(al, "staff", NULL, NULL, &out, &n), 0,
	    "no callback, bare name");
	T_EQ_STR(test_join(out, n), "alice bob carol@example.com "
	    "\"john smith\"@example.com", "bare names still expand");
	aliases_list_free(out, n);

	errno = 0;
	out = (char **)&n;
	T_EQ_INT(aliases_expand(al, "", NULL, NULL, &out, &n), -1, "empty");
	T_OK(errno == EINVAL && out == NULL && n == 0, "EINVAL, out cleared");
	aliases_free(al);
}

/* test_expand_limits - depth, results, visits */
static void
test_expand_limits(void)
{
	struct aliases *al;
	struct buf b;
	char	**out;
	size_t	 n;
	int	 i;

	/* 16 nested aliases c0 -> ... -> c15 -> c16: fine */
	buf_init(&b, 1 << 20);
	for (i = 0; i < ALIASES_MAX_DEPTH; i++)
		buf_printf(&b, "c%d: c%d\n", i, i + 1);
	al = aliases_parse_buf((const char *)b.data, b.len, "t");
	T_EQ_INT(aliases_expand(al, "c0", NULL, NULL, &out, &n), 0,
	    "16 levels");
	T_EQ_STR(test_join(out, n), "c16", "end of the chain");
	aliases_list_free(out, n);
	aliases_free(al);
	/* 17: ELOOP */
	buf_printf(&b, "c%d: c%d\n", i, i + 1);
	al = aliases_parse_buf((const char *)b.data, b.len, "t");
	errno = 0;
	out = (char **)&n;
	T_EQ_INT(aliases_expand(al, "c0", NULL, NULL, &out, &n), -1,
	    "17 levels");
	T_OK(errno == ELOOP && out == NULL && n == 0, "ELOOP, out freed");
	aliases_free(al);

	/* ALIASES_MAX_RESULTS targets fine, one more: E2BIG */
	buf_reset(&b);
	buf_puts(&b, "big: u0");
	for (i = 1; i < ALIASES_MAX_RESULTS; i++)
		buf_printf(&b, ", u%d", i);
	buf_puts(&b, "\nbigger: big, extra\n");
	al = aliases_parse_buf((const char *)b.data, b.len, "t");
	T_EQ_INT(aliases_expand(al, "big", NULL, NULL, &out, &n), 0,
	    "1000 results");
	T_EQ_INT(n, ALIASES_MAX_RESULTS, "count");
	aliases_list_free(out, n);
	errno = 0;
	T_EQ_INT(aliases_expand(al, "bigger", NULL, NULL, &out, &n), -1,
	    "1001 results");
	T_OK(errno == E2BIG && out == NULL, "E2BIG, out freed");
	aliases_free(al);
	buf_free(&b);
}

/* test_expand_visits - work per expansion is bounded */
static void
test_expand_visits(void)
{
	struct aliases *al;
	struct buf b;
	char	**out;
	size_t	 n;
	int	 i;

	/* many aliases that all end in one address: visits are bounded */
	buf_init(&b, 1 << 20);
	buf_puts(&b, "wide: w0");
	for (i = 1; i <= 4 * ALIASES_MAX_RESULTS; i++)
		buf_printf(&b, ", w%d", i);
	buf_puts(&b, "\n");
	for (i = 0; i <= 4 * ALIASES_MAX_RESULTS; i++)
		buf_printf(&b, "w%d: \\same\n", i);
	al = aliases_parse_buf((const char *)b.data, b.len, "t");
	errno = 0;
	T_EQ_INT(aliases_expand(al, "wide", NULL, NULL, &out, &n), -1,
	    "4002 aliases visited");
	T_EQ_INT(errno, E2BIG, "E2BIG for visits");
	T_EQ_INT(aliases_expand(al, "w7", NULL, NULL, &out, &n), 0, "w7");
	T_EQ_STR(test_join(out, n), "same", "\\name not expanded further");
	aliases_list_free(out, n);
	aliases_free(al);

	/* a doubling DAG 15 levels deep: each alias expanded only once */
	buf_reset(&b);
	for (i = 0; i < 15; i++)
		buf_printf(&b, "g%d: g%d, g%d\n", i, i + 1, i + 1);
	al = aliases_parse_buf((const char *)b.data, b.len, "t");
	T_EQ_INT(aliases_expand(al, "g0", NULL, NULL, &out, &n), 0,
	    "doubling DAG");
	T_EQ_STR(test_join(out, n), "g15", "one result");
	aliases_list_free(out, n);
	aliases_free(al);
	buf_free(&b);
}

/* test_load - missing file is empty, directory is an error */
static void
test_load(void)
{
	char	 dir[] = "/tmp/test_aliases.XXXXXX", path[128], err[256];
	struct aliases *al;
	FILE	*fp;

	T_OK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof(path), "%s/aliases", dir);
	al = aliases_load(path, err, sizeof(err));
	T_OK(al != NULL && al->n == 0 && al->nwarn == 0,
	    "missing file is an empty table");
	aliases_free(al);
	err[0] = '\0';
	al = aliases_load(dir, err, sizeof(err));
	T_OK(al == NULL && strstr(err, "not a regular file") != NULL,
	    "directory refused: %s", err);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(sample, fp);
		fclose(fp);
	}
	al = aliases_load(path, err, sizeof(err));
	T_OK(al != NULL && al->n == 16, "file loaded");
	T_OK(al != NULL && al->nwarn == 1 &&
	    strncmp(al->warn[0], path, strlen(path)) == 0,
	    "warnings name the file");
	aliases_free(al);
	unlink(path);
	rmdir(dir);
}

/* test_resolve - tables in order, extensions, @origin, "a: a", limits */
static void
test_resolve(void)
{
	static const char t1[] =
	    "info: alice\n"
	    "sales@example.com: bob, Carol@Example.NET, dave@remote.test\n"
	    "self: self\n"
	    "me@example.com: me@example.com\n"
	    "loop1: loop2\nloop2: loop1\n";
	static const char t2[] = "info: zed\nother: \\alice\n";
	struct aliases *tabs[2];
	struct aliases_query q;
	char	**out;
	size_t	 n;
	int	 calls = 0;

	tabs[0] = aliases_parse_buf(t1, sizeof(t1) - 1, "t1");
	tabs[1] = aliases_parse_buf(t2, sizeof(t2) - 1, "t2");
	memset(&q, 0, sizeof(q));
	q.tabs = tabs;
	q.ntabs = 2;
	q.delims = "+";
	q.origin = "origin.example";
	q.is_local = test_is_local;
	q.arg = &calls;
	T_EQ_INT(aliases_resolve(&q, "info", "example.net", &out, &n), 1,
	    "info: an alias");
	T_EQ_STR(test_join(out, n), "alice@origin.example",
	    "bare target completed with @origin; the first table wins");
	aliases_list_free(out, n);
	T_EQ_INT(aliases_resolve(&q, "info+x", "example.com", &out, &n), 1,
	    "info+x: the alias of info");
	T_EQ_STR(test_join(out, n), "alice@origin.example", "same result");
	aliases_list_free(out, n);
	T_EQ_INT(aliases_resolve(&q, "sales", "example.com", &out, &n), 1,
	    "full-address alias");
	T_EQ_STR(test_join(out, n), "bob@origin.example Carol@example.net "
	    "dave@remote.test", "three results (local part as written)");
	aliases_list_free(out, n);
	T_EQ_INT(aliases_resolve(&q, "sales", "example.net", &out, &n), 0,
	    "sales@example.net is no alias");
	T_OK(out == NULL && n == 0, "nothing returned");
	T_EQ_INT(aliases_resolve(&q, "other", "example.com", &out, &n), 1,
	    "second table");
	T_EQ_STR(test_join(out, n), "alice@origin.example", "\\alice");
	aliases_list_free(out, n);
	T_EQ_INT(aliases_resolve(&q, "me", "example.com", &out, &n), 0,
	    "\"me@example.com: me@example.com\" delivers to itself");
	T_OK(out == NULL && n == 0, "nothing returned for a: a");
	T_EQ_INT(aliases_resolve(&q, "self", "example.com", &out, &n), 1,
	    "\"self: self\": the bare name");
	T_EQ_STR(test_join(out, n), "self@origin.example",
	    "completed like any bare target");
	aliases_list_free(out, n);
	T_EQ_INT(aliases_resolve(&q, "nobody", "example.com", &out, &n), 0,
	    "no alias");
	q.origin = NULL;
	T_EQ_INT(aliases_resolve(&q, "info", "example.net", &out, &n), 1,
	    "no origin");
	T_EQ_STR(test_join(out, n), "alice@example.net",
	    "bare target completed with the domain asked about");
	aliases_list_free(out, n);
	q.delims = "";
	T_EQ_INT(aliases_resolve(&q, "info+x", "example.com", &out, &n), 0,
	    "no delimiter: info+x is no alias");
	aliases_free(tabs[0]);
	aliases_free(tabs[1]);
}

/* test_load_maps - a list of files, type prefixes, a failure */
static void
test_load_maps(void)
{
	char	 dir[] = "/tmp/test_aliases.XXXXXX", p1[128], p2[160], err[256];
	char	*v[2];
	struct aliases **tabs;
	size_t	 n = 99;
	FILE	*fp;

	T_OK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(p1, sizeof(p1), "%s/a1", dir);
	snprintf(p2, sizeof(p2), "hash:%s/a2", dir);
	if ((fp = fopen(p1, "w")) != NULL) {
		fputs("x: y\n", fp);
		fclose(fp);
	}
	v[0] = p1;
	v[1] = p2;
	tabs = aliases_load_maps(v, 2, &n, err, sizeof(err));
	T_OK(tabs != NULL && n == 2, "two tables (the second missing: empty)");
	T_OK(tabs != NULL && tabs[0]->n == 1 && tabs[1]->n == 0,
	    "contents");
	if (tabs != NULL) {
		aliases_free(tabs[0]);
		aliases_free(tabs[1]);
		free(tabs);
	}
	v[1] = dir;
	n = 99;
	T_OK(aliases_load_maps(v, 2, &n, err, sizeof(err)) == NULL &&
	    strstr(err, "not a regular file") != NULL && n == 99,
	    "a directory fails the whole list: %s", err);
	unlink(p1);
	rmdir(dir);
}

int
main(void)
{
	t_plan(169);
	test_bad();
	test_limits();
	test_parse_good();
	test_lookup();
	test_expand();
	test_expand_limits();
	test_expand_visits();
	test_load();
	test_resolve();
	test_load_maps();
	return t_done();
}
