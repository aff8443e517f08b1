/*
 * test_maps.c - unit tests of lib/maps (lookup tables) and lib/maps/access
 * (access(5) actions).
 *
 * Malformed input first: bad specs, then every table type with each kind
 * of bad source (the error names the file and line, and the table is
 * refused whole), then bad action values.  Then good tables of each type
 * (case folding, first/last duplicate, Postfix's quoting), Postfix's
 * lookup orders for addresses, domains and client addresses, every
 * action with good values, temporary errors, "mailctl map" (maps_build:
 * atomic, owner and mode, Postfix's .db format), a changed file picked up
 * without a reopen (and a broken change leaving the old table in use),
 * and maps_check.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "maps.h"
#include "util.h"
#include "t.h"

static char tm_dir[64];

/* findings collected by a report */
struct tm_found {
	struct buf	 text;		/* "E text\n" / "W text\n" */
};

/* tm_collect - a report callback */
static void
tm_collect(void *arg, int error, const char *text)
{
	struct tm_found *f = arg;

	buf_printf(&f->text, "%c %s\n", error ? 'E' : 'W', text);
}

/* tm_path - a file in the test directory */
static const char *
tm_path(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tm_dir, name);
	return p[i];
}

/* tm_write - a file's contents (replaced by rename: a new inode) */
static void
tm_write(const char *name, const char *text, size_t len)
{
	char	 tmp[300];
	int	 fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", tm_path(name));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1 || util_write_full(fd, text, len) == -1) {
		printf("# cannot write %s: %s\n", tmp, strerror(errno));
		exit(1);
	}
	close(fd);
	rename(tmp, tm_path(name));
}

/* tm_put - tm_write of a C string */
static void
tm_put(const char *name, const char *text)
{
	tm_write(name, text, strlen(text));
}

/* tm_open_err - open spec, expecting failure: the first error text */
static int
tm_open_fails(const char *spec, const char *want, const char *what)
{
	struct tm_found f;
	struct maps_report r = { tm_collect, &f, 0, 0, NULL };
	struct map *m;
	char	 err[1024];
	int	 ok;

	buf_init(&f.text, 65536);
	m = maps_open(spec, &r, err, sizeof(err));
	ok = m == NULL && r.nerr > 0 && strstr(err, want) != NULL &&
	    strstr(buf_cstr(&f.text), want) != NULL;
	T_OK(ok, "%s: refused with \"%s\" (got: %s)", what, want, err);
	maps_close(m);
	buf_free(&f.text);
	return ok;
}

/* tm_bad_specs - names that are no table, bad inline: and {...} tables */
static void
tm_bad_specs(void)
{
	static const struct {
		const char	*spec;
		const char	*want;
	} bad[] = {
		{ "/etc/youju/access", "need a table as type:name (no type)" },
		{ "hash:", "no name" },
		{ "btree:/x", "table type \"btree\" is not supported" },
		{ "proxy:hash:/x", "without \"proxy:\"" },
		{ "HASH:/x", "\"HASH\" is not supported" },
		{ "inline:a=b", "need inline:{ key=value" },
		{ "texthash:{a=b}", "takes a file, not {...}" },
		{ "hash:/nonexistent/access", "make it with \"mailctl map\"" },
		{ "texthash:/nonexistent/t", "No such file or directory" },
		{ "cidr:/", "not a regular file" },
		{ "inline:{a=b}}", "text after the closing '}'" },
		{ "inline:{{a=b}", "unbalanced braces" },
		{ "pcre:{ }", "empty table" },
		/* inline: and the {...} form of the other types */
		{ "inline:{}", "empty table" },
		{ "inline:{a}", ":1: missing '=' after the key" },
		{ "inline:{=b}", ":1: no key" },
		{ "inline:{a=}", ":1: empty value for \"a\"" },
		{ "inline:{a=b, c= }", ":2: empty value for \"c\"" },
		{ "inline:{ a = b }", ":1: missing '=' after the key" },
		{ "inline:{ {a b=c} }", "missing '=' after the key" },
		{ "inline:{ { a = b }x }", "syntax error after '}'" },
		{ "inline:{ { } }", "no key" },
		{ "cidr:{ {10.0.0.0/8} }", ":1: a pattern without a result" },
		{ "regexp:{ {/a/ A}, {/b(/ B} }", ":2: pattern does not "
		  "compile" },
		{ "pcre:{ /a/ A }", ":1: a pattern without a result" },
	};
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++)
		(void)tm_open_fails(bad[i].spec, bad[i].want, bad[i].spec);
}

/* one malformed source: type, text, the finding wanted (with the line) */
struct tm_bad {
	const char	*type;
	const char	*text;
	const char	*want;
};

/* tm_bad_sources - every parser refuses each kind of bad line */
static void
tm_bad_sources(void)
{
	static const struct tm_bad bad[] = {
		{ "texthash", "  orphan value\n", ":1: a line that starts with "
		  "white space continues" },
		{ "texthash", "a b\nnovalue\n", ":2: expected \"key whitespace"
		  " value\"" },
		{ "texthash", "\"a b c\n", ":1: unbalanced '\"' in the key" },
		{ "texthash", "a b\nc\0d e\n", ":2: NUL byte" },
		{ "cidr", "1.2.3.4/24 x\n", ":1: host bits set in \"1.2.3.4/24\":"
		  " perhaps you mean \"1.2.3.0/24\"" },
		{ "cidr", "1.2.3.0/33 x\n", ":1: bad prefix length \"/33\"" },
		{ "cidr", "1.2.3.0/2a x\n", "bad prefix length" },
		{ "cidr", "::/129 x\n", "bad prefix length \"/129\" (0 to 128)" },
		{ "cidr", "01.2.3.4 x\n", ":1: bad address \"01.2.3.4\"" },
		{ "cidr", "1.2.3.4\n", ":1: a pattern without a result" },
		{ "cidr", "if 10.0.0.0/8 x\nendif\n", ":1: text after the "
		  "pattern of an if" },
		{ "cidr", "endif\n", ":1: endif without if" },
		{ "cidr", "if 10.0.0.0/8\n10.1.0.0/16 x\n", "1 if without "
		  "endif" },
		{ "cidr", "[10.0.0.0 x\n", "missing ']'" },
		{ "cidr", "[10.0.0.0]x x\n", "text after \"[10.0.0.0]\"" },
		{ "cidr", "if\nendif\n", ":1: if without a pattern" },
		{ "regexp", "/abc x\n", ":1: no closing delimiter '/'" },
		{ "regexp", "/abc/q x\n", ":1: unknown flag 'q'" },
		{ "regexp", "/a(bc/ x\n", ":1: pattern does not compile" },
		{ "regexp", "/abc/\n", ":1: a pattern without a result" },
		{ "regexp", "/(a)/ $0\n", ":1: there is no group $0" },
		{ "regexp", "/(a)/ $2\n", ":1: $2, but the pattern has 1 group" },
		{ "regexp", "/(a)/ $x\n", "\"$x\" is not a group number" },
		{ "regexp", "/(a)/ $1x\n", "\"$1x\" is not a group number" },
		{ "regexp", "/(a)/ end $\n", "no group number after '$'" },
		{ "regexp", "/(a)/ ${1\n", "no closing bracket" },
		{ "regexp", "!/(a)/ $1\n", "in the result of a negated pattern" },
		{ "regexp", "/a\\db/ x\n", "\\d means nothing in a POSIX" },
		{ "regexp", "/a[bc/ x\n", ":1: unterminated [" },
		{ "regexp", "/abc\\/ x\n", "no closing delimiter" },
		{ "regexp", "endif\n", ":1: endif without if" },
		{ "regexp", "if /a/\n/b/ B\n", "1 if without endif" },
		{ "regexp", "if /a/\n/b/ B\nendif x\n", ":3: text after endif" },
		{ "regexp", "if /a/ x\nendif\n", "text after the pattern of an "
		  "if" },
		{ "regexp", "abc x\n", ":1: expected /pattern/" },
		{ "regexp", "/a/ x\n/b/ y\n/c(/ z\n", ":3: pattern does not "
		  "compile" },
		{ "pcre", "/abc/X x\n", "unknown flag 'X' (PCRE2 has no EXTRA)" },
		{ "pcre", "/a(?<n/ x\n", "pattern does not compile" },
		{ "pcre", "/a)/ x\n", "(at offset " },
		{ "pcre", "/(a)(b)/ ${3}\n", "$3, but the pattern has 2 groups" },
	};
	char	 spec[300], what[300];
	size_t	 i, len;

	for (i = 0; i < NELEM(bad); i++) {
		/* the NUL test needs its length */
		len = strlen(bad[i].text);
		if (strstr(bad[i].want, "NUL") != NULL)
			len += 1 + strlen(bad[i].text + len + 1);
		tm_write("bad", bad[i].text, len);
		snprintf(spec, sizeof(spec), "%s:%s", bad[i].type,
		    tm_path("bad"));
		snprintf(what, sizeof(what), "%s #%zu", bad[i].type, i);
		(void)tm_open_fails(spec, bad[i].want, what);
	}
}

/* tm_bad_actions - values that are no access(5) action */
static void
tm_bad_actions(void)
{
	static const struct {
		const char	*value;
		const char	*want;
	} bad[] = {
		{ "", "empty value" },
		{ "   ", "empty value" },
		{ "550", "reply code 550 needs a text" },
		{ "450 ", "reply code 450 needs a text" },
		{ "250 fine", "reply code 250 is not 4NN or 5NN" },
		{ "650 x", "reply code 650 is not 4NN or 5NN" },
		{ "550 4.7.1 no", "status code 4.7.1 does not match a 5xx reply" },
		{ "REJECT 4.7.1 no", "does not match a 5xx reply" },
		{ "DEFER 5.7.1 no", "does not match a 4xx reply" },
		{ "PREPEND", "PREPEND needs a header" },
		{ "PREPEND no header", "PREPEND needs a header" },
		{ "PREPEND : x", "PREPEND needs a header" },
		{ "FILTER smtp:[127.0.0.1]:10025", "FILTER needs a content "
		  "filter transport" },
		{ "REDIRECT", "REDIRECT needs one address" },
		{ "REDIRECT alice", "REDIRECT needs one address" },
		{ "REDIRECT a@example.com b@example.com", "REDIRECT needs one "
		  "address" },
		{ "REDIRECT a@example.com,b@example.com", "REDIRECT needs one "
		  "address" },
		{ "BCC <a@example.com>", "BCC needs one address" },
		{ "BCC a@@example.com", "BCC needs one address" },
		{ "REJECT a\x01z", "control character 0x01" },
		{ "nosuchthing", "unknown action or restriction \"nosuchthing\"" },
		{ "permit_mynetworks bogus", "unknown action or restriction "
		  "\"bogus\"" },
		{ "reject_rbl_client", "reject_rbl_client needs 1 argument" },
		{ "check_sender_access hash:/x", "a lookup table in an access "
		  "table result" },
		{ "DELAY 10s", "unknown action or restriction \"delay\"" },
		{ ", ,", "no action or restriction in \", ,\"" },
	};
	struct access_action a;
	char	 err[256], big[ACCESS_TEXT_MAX + 16];
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		r = access_parse(bad[i].value, NULL, &a, err, sizeof(err));
		T_OK(r == -1 && strstr(err, bad[i].want) != NULL &&
		    a.text == NULL && a.words == NULL, "\"%s\": %s", bad[i].value,
		    err);
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "WARN ", 5);
	r = access_parse(big, NULL, &a, err, sizeof(err));
	T_OK(r == -1 && strstr(err, "text longer than 512") != NULL,
	    "a text over ACCESS_TEXT_MAX: %s", err);
}

/* tm_get - one lookup: the value, or "NOTFOUND" / "TEMPFAIL" */
static const char *
tm_get(struct map *m, const char *key)
{
	static struct buf v;
	static int init;
	int	 r;

	if (!init) {
		buf_init(&v, MAPS_VALUE_MAX);
		init = 1;
	}
	r = maps_lookup(m, key, &v);
	return r == MAPS_FOUND ? buf_cstr(&v) : r == MAPS_NOTFOUND ?
	    "NOTFOUND" : "TEMPFAIL";
}

/* tm_open - open a good table (reported when it fails) */
static struct map *
tm_open(const char *spec)
{
	struct map *m;
	char	 err[1024];

	if ((m = maps_open(spec, NULL, err, sizeof(err))) == NULL)
		printf("# %s: %s\n", spec, err);
	return m;
}

/* a key and the value a table must give for it */
struct tm_kv {
	const char	*key;
	const char	*want;
};

/* tm_lookups - each key of a table */
static void
tm_lookups(const char *spec, const struct tm_kv *kv, size_t n)
{
	struct map *m = tm_open(spec);
	size_t	 i;

	T_OK(m != NULL, "%s opens", spec);
	for (i = 0; m != NULL && i < n; i++)
		T_EQ_STR(tm_get(m, kv[i].key), kv[i].want, log_str(kv[i].key));
	maps_close(m);
}

/* tm_text_types - texthash:, inline:, hash: */
static void
tm_text_types(void)
{
	static const char src[] =
	    "# comment\n"
	    "Key1   value one  \n"
	    "key2\tvalue\n"
	    "  continued\n"
	    "\n"
	    "  # a comment inside\n"
	    "  again\n"
	    "\"john doe\"@Example.COM quoted\n"
	    "dup first\n"
	    "DUP second\n"
	    "crlf yes\r\n"
	    "a\\ b escaped\n";
	static const struct tm_kv kv[] = {
		{ "key1", "value one" }, { "KEY1", "value one" },
		{ "key2", "value  continued  again" },
		{ "\"john doe\"@example.com", "quoted" },
		{ "john doe@example.com", "NOTFOUND" },
		{ "dup", "first" }, { "crlf", "yes" }, { "comment", "NOTFOUND" },
		{ "", "NOTFOUND" }, { "a\\ b", "escaped" },
	};
	static const struct tm_kv inl[] = {
		{ "a", "b" }, { "A", "b" }, { "k", "v, w" }, { "x", "y  z" },
		{ "dup", "2" }, { "c", "{d}" }, { "nope", "NOTFOUND" },
	};
	struct tm_found f;
	struct maps_report r = { tm_collect, &f, 0, 0, NULL };
	char	 spec[300], err[512];

	tm_put("text", src);
	snprintf(spec, sizeof(spec), "texthash:%s", tm_path("text"));
	tm_lookups(spec, kv, NELEM(kv));
	tm_lookups("inline:{ A=b, { k = v, w }, {x=  y  z  },dup=1,,dup=2 "
	    "c={d} }", inl, NELEM(inl));
	buf_init(&f.text, 4096);
	T_EQ_INT(maps_build(tm_path("text"), &r, err, sizeof(err)), 0,
	    "mailctl map of the same source");
	T_OK(strstr(buf_cstr(&f.text), "W ") != NULL && strstr(buf_cstr(
	    &f.text), "text:10: duplicate key \"dup\" (also at line 9): this "
	    "one is ignored") != NULL, "duplicate: warning with both lines: %s",
	    log_str(buf_cstr(&f.text)));
	buf_free(&f.text);
	snprintf(spec, sizeof(spec), "hash:%s", tm_path("text"));
	tm_lookups(spec, kv, NELEM(kv));
}

/* tm_pattern_types - cidr:, regexp:, pcre: */
static void
tm_pattern_types(void)
{
	static const struct tm_kv cidr[] = {
		{ "192.168.1.1", "OK1" }, { "192.168.1.2", "R16" },
		{ "2001:db8::1", "OK6" }, { "2001:0db8:0::1", "OK6" },
		{ "2001:db8::2", "R32" }, { "10.1.2.3", "BR8" },
		{ "172.16.5.9", "IN24" }, { "172.16.6.1", "ALL4" },
		{ "172.16.7.1", "NOT24" }, { "::ffff:1.2.3.4", "ALL6" },
		{ "[1.2.3.4]", "NOTFOUND" }, { "foo", "NOTFOUND" },
		{ "8.8.8.8", "ALL4" },
	};
	static const struct tm_kv re[] = {
		{ "list-outgoing@example.com", "550 Use list@example.com" },
		{ "CASE@x", "INSENSITIVE" }, { "sens@x", "$ x" },
		{ "Sens@x", "SENSITIVE" }, { "\\@x", "BRACKET" },
		{ "bre(a)b@x", "BRE b" }, { "a word@x", "WORD" },
		{ "swordfish@x", "$ x" }, { "9@x", "DIGITS" },
		{ "user@x", "OPT[s]" }, { "uer@x", "OPT[]" },
		{ "xy", "XY" }, { "xz", "NOTFOUND" },
		{ "line1\nline2", "DOTALL" },
	};
	static const struct tm_kv pcre[] = {
		{ "list-outgoing@example.com", "550 Use list@example.com" },
		{ "owner-list-outgoing@example.com", "NOTFOUND" },
		{ "d123@x", "DIGITS" }, { "LAZY123@x", "LAZY[1][23]" },
		{ "Sens@x", "SENSITIVE" }, { "sens@x", "NOTFOUND" },
		{ "user@example.org", "NOT-ROOT" },
		{ "root@example.org", "NOTFOUND" }, { "a\nb", "DOT" },
	};
	char	 spec[300];

	tm_put("cidr", "192.168.1.1 OK1\n192.168.0.0/16 R16\n2001:db8::1 OK6\n"
	    "2001:DB8::/32 R32\n[10.0.0.0]/8 BR8\n[10.1.0.0/16] BR16\n"
	    "IF 172.16.0.0/12\n172.16.5.0/24 IN24\n!172.16.6.0/24 NOT24\n"
	    "endif\n0.0.0.0/0 ALL4\n::/0 ALL6\n");
	snprintf(spec, sizeof(spec), "cidr:%s", tm_path("cidr"));
	tm_lookups(spec, cidr, NELEM(cidr));
	tm_put("re", "/^(.*)-outgoing@(.*)$/ 550 Use ${1}@${2}\n"
	    "/^Case@/ INSENSITIVE\n/^Sens@/i SENSITIVE\n/[\\.]@/ BRACKET\n"
	    "/^bre(a)\\(b\\)@/x BRE $1\n/\\<word\\>/ WORD\n"
	    "/^[[:digit:]]+@/ DIGITS\n/^u(s)?er@/ OPT[$1]\n"
	    "if /^x/\n/^xy$/ XY\nendif\n/^line1.line2$/ DOTALL\n"
	    "/@(.*)$/ $$ $(1)\n");
	snprintf(spec, sizeof(spec), "regexp:%s", tm_path("re"));
	tm_lookups(spec, re, NELEM(re));
	tm_put("pcre", "/^(?!owner-)(.*)-outgoing@(.*)/ 550 Use ${1}@${2}\n"
	    "/^d\\d+@/ DIGITS\n/^lazy(.+?)(\\d*)@/ LAZY[$1][$2]\n"
	    "/^Sens@/i SENSITIVE\nif /@example\\.org$/\n!/^root@/ NOT-ROOT\n"
	    "endif\n/^a.b$/ DOT\n");
	snprintf(spec, sizeof(spec), "pcre:%s", tm_path("pcre"));
	tm_lookups(spec, pcre, NELEM(pcre));
}

/*
 * tm_order - a lookup order: with the keys of want[i..] in an inline
 * table (each key's value is its index), the search finds want[i]; with
 * none of them, nothing
 */
static void
tm_order(const char *what, const struct maps_order *o, const char *addr,
    int kind, const char *const *want, size_t n)
{
	struct buf spec, val, key;
	struct map *m;
	size_t	 i, j;
	int	 r, ok = 1;

	buf_init(&spec, 65536);
	buf_init(&val, 4096);
	buf_init(&key, 4096);
	for (i = 0; i <= n; i++) {
		buf_reset(&spec);
		buf_puts(&spec, "inline:{ {zzz-none = x}");
		for (j = i; j < n; j++)
			buf_printf(&spec, ", {%s = %zu}", want[j], j);
		buf_puts(&spec, " }");
		if ((m = tm_open(buf_cstr(&spec))) == NULL) {
			ok = 0;
			break;
		}
		r = kind == 0 ? maps_find_addr(m, o, addr, &val, &key) :
		    kind == 1 ? maps_find_domain(m, o, addr, &val, &key) :
		    maps_find_net(m, addr, &val, &key);
		if (i < n ? r != MAPS_FOUND || util_strcasecmp_ascii(
		    buf_cstr(&key), want[i]) != 0 : r != MAPS_NOTFOUND) {
			printf("# %s: step %zu: %d \"%s\"\n", what, i, r,
			    buf_cstr(&key));
			ok = 0;
		}
		maps_close(m);
	}
	T_OK(ok, "lookup order: %s", what);
	buf_free(&spec);
	buf_free(&val);
	buf_free(&key);
}

/* tm_orders - Postfix's access(5) lookup orders */
static void
tm_orders(void)
{
	static const char *const ext_parent[] = { "u+e@sub.example.com",
	    "u@sub.example.com", "sub.example.com", "example.com", "com",
	    "u+e@", "u@" };
	static const char *const ext_dot[] = { "u+e@sub.example.com",
	    "u@sub.example.com", "sub.example.com", ".example.com", ".com",
	    "u+e@", "u@" };
	static const char *const plain[] = { "u@example.com", "example.com",
	    "com", "u@" };
	static const char *const owner[] = { "owner-x@example.com",
	    "example.com", ".com", "owner-x@" };
	static const char *const pm[] = { "postmaster+x@example.com",
	    "example.com", "com", "postmaster+x@" };
	static const char *const v4[] = { "192.0.2.10", "192.0.2", "192.0",
	    "192" };
	static const char *const v6[] = { "2001:db8::1", "2001:db8:",
	    "2001:db8", "2001" };
	static const char *const host[] = { "mx.example.com",
	    ".example.com", ".com" };
	static const char *const num[] = { "192.0.2.1" };
	static const char *const nul[] = { "<>" };
	static const char *const dot[] = { "a.b.", "b." };
	struct maps_order parent = { "+", 1, "<>" };
	struct maps_order dots = { "+-", 0, "<>" };
	struct maps_order noext = { "", 1, NULL };

	tm_order("user+ext@domain, parent matching", &parent,
	    "U+E@Sub.Example.COM", 0, ext_parent, NELEM(ext_parent));
	tm_order("user+ext@domain, .domain", &dots, "u+e@sub.example.com", 0,
	    ext_dot, NELEM(ext_dot));
	tm_order("user@domain", &parent, "u@example.com", 0, plain,
	    NELEM(plain));
	tm_order("recipient_delimiter empty: no split", &noext,
	    "u+e@example.com", 0, (const char *const[]){ "u+e@example.com",
	    "example.com", "com", "u+e@" }, 4);
	tm_order("owner-x is never split at '-'", &dots,
	    "owner-x@example.com", 0, owner, NELEM(owner));
	tm_order("postmaster+x: never split", &parent,
	    "postmaster+x@example.com", 0, pm, NELEM(pm));
	tm_order("null sender: smtpd_null_access_lookup_key", &parent, "", 0,
	    nul, 1);
	tm_order("null sender: <> by default", &noext, "", 0, nul, 1);
	tm_order("IPv4 client: shorter networks", &parent, "192.0.2.10", 2,
	    v4, NELEM(v4));
	tm_order("IPv6 client: cut at ':' as text", &parent, "2001:db8::1", 2,
	    v6, NELEM(v6));
	tm_order("host name, .domain", &dots, "mx.example.com", 1, host,
	    NELEM(host));
	tm_order("an address as a host name: itself only", &dots,
	    "192.0.2.1", 1, num, 1);
	tm_order("a name ending in '.'", &parent, "a.b.", 1, dot, 2);
}

/* tm_order_more - what the orders must not do, and client, DUNNO */
static void
tm_order_more(void)
{
	struct maps_order parent = { "+", 1, "<>" };
	struct maps_order dots = { "+", 0, "<>" };
	struct buf val, key;
	struct map *m;
	char	 spec[300];

	buf_init(&val, 4096);
	buf_init(&key, 4096);
	m = tm_open("inline:{ example.com=X }");
	T_EQ_INT(maps_find_addr(m, &dots, "u@sub.example.com", &val, &key),
	    MAPS_NOTFOUND, "without parent matching, example.com does not "
	    "match sub.example.com");
	T_EQ_INT(maps_find_addr(m, &parent, "u@sub.example.com", &val, &key),
	    MAPS_FOUND, "with it, it does");
	maps_close(m);
	m = tm_open("inline:{ u@example.com=DUNNO, example.com=REJECT }");
	T_OK(maps_find_addr(m, &parent, "u@example.com", &val, &key) ==
	    MAPS_FOUND && strcmp(buf_cstr(&val), "DUNNO") == 0,
	    "a DUNNO found stops the search");
	maps_close(m);
	m = tm_open("inline:{ unknown=U, 192.0.2=NET }");
	T_OK(maps_find_client(m, &parent, "mx.example.com", "192.0.2.1",
	    &val, &key) == MAPS_FOUND && strcmp(buf_cstr(&key), "192.0.2") ==
	    0, "client: the name, then the address");
	T_OK(maps_find_client(m, &parent, "unknown", "192.0.2.1", &val,
	    &key) == MAPS_FOUND && strcmp(buf_cstr(&val), "U") == 0,
	    "client \"unknown\" is looked up as a name, as in Postfix");
	maps_close(m);
	/* pattern tables get the whole string only */
	tm_put("ore", "/^example\\.com$/ DOMAIN\n/^u@$/ USER\n/^192\\.0\\.2$/ "
	    "NET\n/^10\\.1\\.2\\.3$/ ADDR\n");
	snprintf(spec, sizeof(spec), "regexp:%s", tm_path("ore"));
	m = tm_open(spec);
	T_EQ_INT(maps_find_addr(m, &parent, "u@example.com", &val, &key),
	    MAPS_NOTFOUND, "regexp: no domain or user@ parts of an address");
	T_EQ_INT(maps_find_net(m, "192.0.2.1", &val, &key), MAPS_NOTFOUND,
	    "regexp: no shorter networks");
	T_EQ_INT(maps_find_client(m, &parent, "x.example.com", "10.1.2.3",
	    &val, &key), MAPS_FOUND, "regexp: client name, then address");
	T_EQ_INT(maps_find_domain(m, &parent, "x.example.com", &val, &key),
	    MAPS_NOTFOUND, "regexp: no parent domains");
	maps_close(m);
	m = tm_open("cidr:{ {192.0.2.0/24 NET} }");
	T_EQ_INT(maps_find_net(m, "192.0.2.77", &val, &key), MAPS_FOUND,
	    "cidr: the address in its network");
	T_EQ_STR(buf_cstr(&key), "192.0.2.77", "cidr: the key is the address");
	maps_close(m);
	T_EQ_INT(maps_split_ext("user-request", 12, "-"), 0,
	    "x-request is not split at '-'");
	T_EQ_INT(maps_split_ext("user-request", 12, "+"), 0,
	    "no '+' in user-request");
	T_EQ_INT(maps_split_ext("a+b-c", 5, "-+"), 1, "the first delimiter "
	    "of any of them");
	T_EQ_INT(maps_split_ext("+x", 2, "+"), 0, "an empty base: no split");
	T_EQ_INT(maps_split_ext("MAILER-DAEMON", 13, "-"), 0,
	    "mailer-daemon is not split");
	buf_free(&val);
	buf_free(&key);
}

/* tm_actions - every action with good values */
static void
tm_actions(void)
{
	static const struct {
		const char	*value;
		enum access_kind kind;
		int		 code;
		const char	*dsn;
		const char	*text;
	} good[] = {
		{ "OK", ACCESS_OK, 0, "", "" },
		{ "ok trailing text", ACCESS_OK, 0, "", "" },
		{ "RELAY", ACCESS_OK, 0, "", "" },
		{ "1700000000", ACCESS_OK, 0, "", "" },
		{ "DUNNO", ACCESS_DUNNO, 0, "", "" },
		{ "REJECT", ACCESS_REJECT, 0, "5.7.1", "" },
		{ "reject Go away", ACCESS_REJECT, 0, "5.7.1", "Go away" },
		{ "REJECT 5.7.26 Unauthenticated", ACCESS_REJECT, 0, "5.7.26",
		  "Unauthenticated" },
		{ "DEFER", ACCESS_DEFER, 0, "4.7.1", "" },
		{ "DEFER 4.3.0 try later", ACCESS_DEFER, 0, "4.3.0",
		  "try later" },
		{ "DEFER_IF_REJECT maybe", ACCESS_DEFER_IF_REJECT, 0, "4.7.1",
		  "maybe" },
		{ "DEFER_IF_PERMIT", ACCESS_DEFER_IF_PERMIT, 0, "4.7.1", "" },
		{ "550 Sender-specified routing rejected", ACCESS_CODE, 550,
		  "5.7.1", "Sender-specified routing rejected" },
		{ "554 5.7.1 spam", ACCESS_CODE, 554, "5.7.1", "spam" },
		{ "421 4.7.0 bye", ACCESS_CODE, 421, "4.7.0", "bye" },
		{ "450 later", ACCESS_CODE, 450, "4.7.1", "later" },
		{ "550 5.1.10 x", ACCESS_CODE, 550, "5.1.10", "x" },
		{ "550 5.1 not a code", ACCESS_CODE, 550, "5.7.1",
		  "5.1 not a code" },
		{ "DISCARD", ACCESS_DISCARD, 0, "", "" },
		{ "DISCARD spam trap", ACCESS_DISCARD, 0, "", "spam trap" },
		{ "HOLD look at it", ACCESS_HOLD, 0, "", "look at it" },
		{ "WARN", ACCESS_WARN, 0, "", "" },
		{ "WARN odd client", ACCESS_WARN, 0, "", "odd client" },
		{ "INFO seen", ACCESS_INFO, 0, "", "seen" },
		{ "PREPEND X-Checked: yes", ACCESS_PREPEND, 0, "",
		  "X-Checked: yes" },
		{ "prepend X-Empty:", ACCESS_PREPEND, 0, "", "X-Empty:" },
		{ "REDIRECT Bob@Example.COM", ACCESS_REDIRECT, 0, "",
		  "Bob@example.com" },
		{ "bcc archive@example.org", ACCESS_BCC, 0, "",
		  "archive@example.org" },
		{ "  \tOK", ACCESS_OK, 0, "", "" },
	};
	struct access_action a;
	char	 err[256];
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(good); i++) {
		err[0] = '\0';
		r = access_parse(good[i].value, NULL, &a, err, sizeof(err));
		T_OK(r == 0 && a.kind == good[i].kind && a.code == good[i].code &&
		    strcmp(a.dsn, good[i].dsn) == 0 && a.text != NULL &&
		    strcmp(a.text, good[i].text) == 0, "\"%s\": %s %d %s \"%s\" %s",
		    good[i].value, access_kind_name(a.kind), a.code, a.dsn,
		    a.text != NULL ? a.text : "(null)", err);
		if (r == 0)
			access_free(&a);
	}
}

/* tm_restrictions - restriction names and classes as results */
static void
tm_restrictions(void)
{
	static const char *const classes[] = { "From_Outside", NULL };
	struct access_action a;
	char	 err[256];
	int	 r;

	r = access_parse("PERMIT", NULL, &a, err, sizeof(err));
	T_OK(r == 0 && a.kind == ACCESS_RESTRICT && a.nwords == 1 &&
	    strcmp(a.words[0], "permit") == 0, "PERMIT: the restriction permit");
	access_free(&a);
	r = access_parse("permit_mynetworks, reject_rbl_client "
	    "zen.spamhaus.org,Reject", NULL, &a, err, sizeof(err));
	T_OK(r == 0 && a.nwords == 4 && strcmp(a.words[1],
	    "reject_rbl_client") == 0 && strcmp(a.words[2],
	    "zen.spamhaus.org") == 0 && strcmp(a.words[3], "reject") == 0,
	    "a list with an argument: %s", err);
	access_free(&a);
	r = access_parse("from_outside", classes, &a, err, sizeof(err));
	T_OK(r == 0 && a.kind == ACCESS_RESTRICT && a.nwords == 1,
	    "a restriction class name: %s", err);
	access_free(&a);
	r = access_parse("from_outside", NULL, &a, err, sizeof(err));
	T_EQ_INT(r, -1, "not without the class");
	T_EQ_STR(access_kind_name(ACCESS_CODE), "reply", "kind names");
}

/* tm_tempfail - lookups that fail for now, not "not found" */
static void
tm_tempfail(void)
{
	struct map *m;
	struct buf small;
	char	 spec[300], key[64];

	tm_put("slow", "/^(a+)+$/ CATASTROPHIC\n");
	snprintf(spec, sizeof(spec), "pcre:%s", tm_path("slow"));
	m = tm_open(spec);
	memset(key, 'a', sizeof(key) - 2);
	key[sizeof(key) - 2] = 'b';
	key[sizeof(key) - 1] = '\0';
	T_EQ_STR(tm_get(m, key), "TEMPFAIL", "a match that backtracks without "
	    "end: temporary error, never a match");
	T_OK(strstr(maps_error(m), "matching error") != NULL, "why: %s",
	    maps_error(m));
	maps_close(m);
	m = tm_open("inline:{ k=a-long-value }");
	buf_init(&small, 4);
	T_EQ_INT(maps_lookup(m, "k", &small), MAPS_TEMPFAIL,
	    "a value larger than the caller's buffer");
	buf_free(&small);
	maps_close(m);
}

/* tm_mode - a file's mode bits */
static int
tm_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == -1 ? -1 : (int)(st.st_mode & 07777);
}

/* tm_ino - a file's inode */
static long
tm_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) == -1 ? -1 : (long)st.st_ino;
}

/* tm_build - maps_build: errors change nothing, mode kept, atomic */
static void
tm_build(void)
{
	struct tm_found f;
	struct maps_report r = { tm_collect, &f, 0, 0, NULL };
	struct db *db;
	struct buf v;
	char	 err[512], spec[300];
	long	 ino;

	buf_init(&f.text, 4096);
	tm_put("acc", "a@example.com REJECT\n");
	chmod(tm_path("acc"), 0640);
	T_EQ_INT(maps_build(tm_path("acc"), &r, err, sizeof(err)), 0,
	    "build");
	T_EQ_INT(tm_mode(tm_path("acc.db")), 0640, "a new .db: the source's "
	    "mode");
	chmod(tm_path("acc.db"), 0600);
	ino = tm_ino(tm_path("acc.db"));
	tm_put("acc", "a@example.com OK\nbroken\n");
	T_EQ_INT(maps_build(tm_path("acc"), &r, err, sizeof(err)), -1,
	    "a source with an error is not built");
	T_OK(strstr(buf_cstr(&f.text), "acc:2: expected") != NULL &&
	    strstr(err, "1 error") != NULL, "FILE:LINE, and: %s", err);
	T_EQ_INT(tm_ino(tm_path("acc.db")), ino, "the old .db stays");
	tm_put("acc", "a@example.com OK\n");
	T_EQ_INT(maps_build(tm_path("acc"), &r, err, sizeof(err)), 0,
	    "rebuild");
	T_OK(tm_ino(tm_path("acc.db")) != ino, "a new file renamed over the "
	    "old one");
	T_EQ_INT(tm_mode(tm_path("acc.db")), 0600, "an existing .db keeps "
	    "its mode");
	/* Postfix's format: a hash of NUL-terminated keys and values */
	db = db_open(tm_path("acc.db"), DB_T_RDONLY | DB_T_HASH, err,
	    sizeof(err));
	buf_init(&v, 4096);
	T_OK(db != NULL && db_get(db, "a@example.com", 14, &v) == 0 &&
	    v.len == 3 && memcmp(v.data, "OK", 3) == 0, "key and value stored "
	    "with their NUL, as postmap does");
	db_close(db);
	/* and a file with keys without NUL (postmap -n) is read too */
	db = db_open(tm_path("nonul.db"), DB_T_CREATE | DB_T_HASH, err,
	    sizeof(err));
	db_put(db, "k", 1, "v", 1);
	db_close(db);
	snprintf(spec, sizeof(spec), "hash:%s", tm_path("nonul"));
	{
		struct map *m = tm_open(spec);

		T_EQ_STR(m != NULL ? tm_get(m, "K") : "", "v",
		    "a table made with postmap -n");
		maps_close(m);
	}
	/* an empty table is a table */
	tm_put("empty", "# nothing yet\n");
	T_EQ_INT(maps_build(tm_path("empty"), &r, err, sizeof(err)), 0,
	    "an empty source builds");
	snprintf(spec, sizeof(spec), "hash:%s", tm_path("empty"));
	{
		struct map *m = tm_open(spec);

		T_EQ_STR(m != NULL ? tm_get(m, "k") : "", "NOTFOUND",
		    "an empty hash: finds nothing");
		maps_close(m);
	}
	snprintf(spec, sizeof(spec), "texthash:%s", tm_path("empty"));
	{
		struct map *m = tm_open(spec);

		T_EQ_STR(m != NULL ? tm_get(m, "k") : "", "NOTFOUND",
		    "an empty texthash: finds nothing");
		maps_close(m);
	}
	T_EQ_INT(maps_build(tm_path("missing"), &r, err, sizeof(err)), -1,
	    "no source");
	T_OK(strstr(err, "No such file") != NULL, "why: %s", err);
	buf_free(&v);
	buf_free(&f.text);
}

/* tm_touch - a file's time moved by secs */
static void
tm_touch(const char *path, int secs)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += secs;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, path, ts, 0);
}

/* tm_changes - a changed file is read again before the next lookup */
static void
tm_changes(void)
{
	struct map *m;
	char	 spec[300], err[512];
	int	 fd;

	tm_put("live", "k one\n");
	snprintf(spec, sizeof(spec), "texthash:%s", tm_path("live"));
	m = tm_open(spec);
	T_EQ_STR(tm_get(m, "k"), "one", "before the change");
	T_EQ_INT(maps_changed(m), 0, "not changed");
	tm_put("live", "k two\n");
	T_EQ_INT(maps_changed(m), 1, "replaced: changed");
	T_EQ_STR(tm_get(m, "k"), "two", "a replaced file is read again");
	/* changed in place (same inode): size and time differ */
	fd = open(tm_path("live"), O_WRONLY | O_TRUNC);
	util_write_full(fd, "k three\n", 8);
	close(fd);
	T_EQ_STR(tm_get(m, "k"), "three", "a file changed in place too");
	tm_put("live", "k four\nbroken\n");
	T_EQ_STR(tm_get(m, "k"), "three", "a broken change: the old table "
	    "stays in use");
	T_EQ_INT(maps_stale(m), 1, "and it says so");
	tm_put("live", "k five\n");
	tm_touch(tm_path("live"), 0);
	/* tried again after a second */
	sleep(1);
	usleep(100000);
	T_EQ_STR(tm_get(m, "k"), "five", "fixed: read again");
	T_EQ_INT(maps_stale(m), 0, "and no longer stale");
	unlink(tm_path("live"));
	T_EQ_STR(tm_get(m, "k"), "five", "removed: the old table stays");
	maps_close(m);

	/* hash: a new .db from mailctl map */
	tm_put("hlive", "k one\n");
	maps_build(tm_path("hlive"), NULL, err, sizeof(err));
	snprintf(spec, sizeof(spec), "hash:%s", tm_path("hlive"));
	m = tm_open(spec);
	T_EQ_STR(tm_get(m, "k"), "one", "hash: before");
	tm_put("hlive", "k two\n");
	T_EQ_STR(tm_get(m, "k"), "one", "hash: a changed source alone "
	    "changes nothing");
	maps_build(tm_path("hlive"), NULL, err, sizeof(err));
	T_EQ_STR(tm_get(m, "k"), "two", "hash: the rebuilt .db is read");
	maps_close(m);
	m = tm_open("inline:{ a=b }");
	T_EQ_INT(maps_changed(m), 0, "inline: never changes");
	maps_close(m);
}

/* tm_check - maps_check: what "mailctl check" will say */
static void
tm_check(void)
{
	struct tm_found f;
	struct maps_report r = { tm_collect, &f, 0, 0, NULL };
	char	 spec[300], err[512];

	buf_init(&f.text, 8192);
	tm_put("chk", "a@example.com REJECT no\nb@example.com OK\n");
	maps_build(tm_path("chk"), NULL, err, sizeof(err));
	snprintf(spec, sizeof(spec), "hash:%s", tm_path("chk"));
	T_EQ_INT(maps_check(spec, MAPS_CHK_ACCESS, &r), 0, "a good table");
	tm_touch(tm_path("chk"), 5);
	T_EQ_INT(maps_check(spec, 0, &r), 1, "source newer than the .db");
	T_OK(strstr(buf_cstr(&f.text), "chk.db: older than its source") !=
	    NULL && strstr(buf_cstr(&f.text), "mailctl map") != NULL,
	    "says to run mailctl map");
	buf_reset(&f.text);
	tm_put("chk", "a@example.com REJECT no\nb@example.com 250 ok\n"
	    "c@example.com bogus_restriction\n");
	maps_build(tm_path("chk"), NULL, err, sizeof(err));
	T_EQ_INT(maps_check(spec, 0, &r), 0, "values not checked without "
	    "MAPS_CHK_ACCESS");
	T_EQ_INT(maps_check(spec, MAPS_CHK_ACCESS, &r), 2, "two bad actions");
	T_OK(strstr(buf_cstr(&f.text), "chk:2: reply code 250") != NULL &&
	    strstr(buf_cstr(&f.text), "chk:3: unknown action") != NULL,
	    "each with FILE:LINE: %s", log_str(buf_cstr(&f.text)));
	buf_reset(&f.text);
	tm_put("chkre", "/(x)/ REJECT $1\n/(y)/ $1\n/z/ nothing_known\n");
	snprintf(spec, sizeof(spec), "pcre:%s", tm_path("chkre"));
	T_EQ_INT(maps_check(spec, MAPS_CHK_ACCESS, &r), 1, "pcre: one bad "
	    "action, $1 results not counted");
	T_OK(strstr(buf_cstr(&f.text), "chkre:3:") != NULL, "the line: %s",
	    log_str(buf_cstr(&f.text)));
	snprintf(spec, sizeof(spec), "hash:%s", tm_path("nothere"));
	T_EQ_INT(maps_check(spec, 0, NULL), 1, "a missing .db");
	T_EQ_INT(maps_check("nosuch:x", 0, NULL), 1, "an unknown type");
	tm_put("chkbad", "/a/ A\n/b(/ B\n/c(/ C\n");
	snprintf(spec, sizeof(spec), "regexp:%s", tm_path("chkbad"));
	T_EQ_INT(maps_check(spec, 0, NULL), 2, "two patterns that do not "
	    "compile: two errors");
	buf_free(&f.text);
}

/* tm_cleanup - remove the test directory */
static void
tm_cleanup(void)
{
	static const char *const names[] = { "bad", "text", "text.db",
	    "cidr", "re", "pcre", "ore", "slow", "acc", "acc.db", "nonul.db",
	    "live", "hlive", "hlive.db", "chk", "chk.db", "chkre", "chkbad",
	    "empty", "empty.db" };
	size_t	 i;

	/* only our own flat directory: its entries, then it */
	for (i = 0; i < NELEM(names); i++)
		unlink(tm_path(names[i]));
	if (rmdir(tm_dir) == -1)
		printf("# %s left behind: %s\n", tm_dir, strerror(errno));
}

int
main(void)
{
	t_plan(263 + 4 + 2);
	log_open("test_maps", LOG_TO_STDERR, NULL);
	snprintf(tm_dir, sizeof(tm_dir), "/tmp/test_maps.XXXXXX");
	if (mkdtemp(tm_dir) == NULL) {
		printf("# mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	tm_bad_specs();
	tm_bad_sources();
	tm_bad_actions();
	tm_text_types();
	tm_pattern_types();
	tm_orders();
	tm_order_more();
	tm_actions();
	tm_restrictions();
	tm_tempfail();
	tm_build();
	tm_changes();
	tm_check();
	tm_cleanup();
	return t_done();
}
