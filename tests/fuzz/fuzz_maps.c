/*
 * fuzz_maps.c - libFuzzer target for lib/maps and lib/maps/access: the table
 * parsers (texthash:, cidr:, regexp:, pcre: from a file; inline: and
 * type:{...} from a spec), lookups and the access(5) lookup orders, and
 * the action parser.
 *
 * Input: byte 0 chooses what the rest is: (b % 6) 0 a texthash: file,
 * 1 a cidr: file, 2 a regexp: file, 3 a pcre: file (each given to
 * maps_open as a memfd, through /proc/self/fd), 4 the name of an inline:
 * table ("inline:" + rest), 5 access(5) values, one per line; with bit 3
 * of byte 0 set, modes 1-3 take the rest as "type:" + rest instead (the
 * {...} form).  The keys looked up are the first word of each of the
 * first lines, and a few fixed ones (an address, IPv4, IPv6).
 *
 * Properties checked (abort when broken):
 *  - maps_open fails exactly when an error was reported; each finding
 *    names where it is; no file descriptor is left open;
 *  - a lookup answers found, not found or a temporary error with a
 *    reason; a value found is at most MAPS_VALUE_MAX bytes; for texthash:
 *    and inline: a value is non-empty without white space at its ends or
 *    a line break, and the same key in upper case finds the same value;
 *  - the lookup orders end in one of the three answers, and a key found
 *    is named;
 *  - access_parse: -1 with a reason and nothing allocated, or 0 with a
 *    kind in range, a text without control characters and at most
 *    ACCESS_TEXT_MAX bytes, a 4NN/5NN code for a reply and a status code
 *    of the reply's class, words for a restriction list.
 *
 * lib/maps/db.c is not in the fuzz build: hash: tables (Berkeley DB) are not
 * fuzzed here (their source is the texthash: format), and the db_* below
 * refuse to open anything.
 */
#include <sys/mman.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "buf.h"
#include "db.h"
#include "fuzz.h"
#include "maps.h"
#include "util.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAPS_KEYS	4	/* keys from the input per run */

/* db_open - no Berkeley DB in the fuzz build */
struct db *
db_open(const char *path, int flags, char *err, size_t errlen)
{
	(void)path;
	(void)flags;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "no Berkeley DB in the fuzz build");
	errno = ENOSYS;
	return NULL;
}

int
db_get(struct db *t, const void *k, size_t kl, struct buf *out)
{
	abort();
}

int
db_put(struct db *t, const void *k, size_t kl, const void *v, size_t vl)
{
	abort();
}

int
db_close(struct db *t)
{
	return 0;
}

const char *
db_error(const struct db *t)
{
	return "";
}

/* fuzz_maps_starts - does text start with (the first 20 bytes of) s */
static int
fuzz_maps_starts(const char *text, const char *s)
{
	size_t	 n = strlen(s);

	return strncmp(text, s, n > 20 ? 20 : n) == 0;
}

/*
 * fuzz_maps_report - a finding must say where it is: the spec, or the
 * file (the name after "type:")
 */
static void
fuzz_maps_report(void *arg, int error, const char *text)
{
	const char *spec = arg, *name = strchr(spec, ':');

	FZ_CHECK(text[0] != '\0');
	FZ_CHECK(fuzz_maps_starts(text, spec) ||
	    (name != NULL && fuzz_maps_starts(text, name + 1)));
	fz_trace("%s: %s", error ? "error" : "warning", text);
}

/* fuzz_maps_value - what a text table's value must look like */
static void
fuzz_maps_value(const char *v)
{
	size_t	 n = strlen(v);

	FZ_CHECK(n > 0 && n <= MAPS_VALUE_MAX);
	FZ_CHECK(!isspace((unsigned char)v[0]) &&
	    !isspace((unsigned char)v[n - 1]));
	FZ_CHECK(strchr(v, '\n') == NULL);
}

/* fuzz_maps_lookup - one key, and the same key in upper case */
static void
fuzz_maps_lookup(struct map *m, const char *key, int text)
{
	struct buf v, w;
	char	*up;
	size_t	 i;
	int	 r, r2;

	buf_init(&v, MAPS_VALUE_MAX);
	buf_init(&w, MAPS_VALUE_MAX);
	r = maps_lookup(m, key, &v);
	FZ_CHECK(r == MAPS_FOUND || r == MAPS_NOTFOUND || r == MAPS_TEMPFAIL);
	FZ_CHECK(r != MAPS_TEMPFAIL || maps_error(m)[0] != '\0');
	fz_trace("lookup \"%s\": %d %s", key, r, r == MAPS_FOUND ?
	    buf_cstr(&v) : maps_error(m));
	if (r == MAPS_FOUND && text) {
		fuzz_maps_value(buf_cstr(&v));
		up = fz_cstr(key, strlen(key));
		for (i = 0; up[i] != '\0'; i++)
			up[i] = (char)toupper((unsigned char)up[i]);
		r2 = maps_lookup(m, up, &w);
		FZ_CHECK(r2 == MAPS_FOUND && strcmp(buf_cstr(&v),
		    buf_cstr(&w)) == 0);
		free(up);
	}
	buf_free(&v);
	buf_free(&w);
}

/* fuzz_maps_orders - the access(5) orders over the table */
static void
fuzz_maps_orders(struct map *m, const char *key)
{
	struct maps_order o = { "+-", key[0] & 1, "<>" };
	struct buf v, k;
	int	 r[4], i;

	buf_init(&v, MAPS_VALUE_MAX);
	buf_init(&k, 65536);
	r[0] = maps_find_addr(m, &o, key, &v, &k);
	r[1] = maps_find_domain(m, &o, key, &v, &k);
	r[2] = maps_find_net(m, key, &v, &k);
	r[3] = maps_find_client(m, &o, key, "192.0.2.1", &v, &k);
	for (i = 0; i < 4; i++)
		FZ_CHECK(r[i] == MAPS_FOUND || r[i] == MAPS_NOTFOUND ||
		    r[i] == MAPS_TEMPFAIL);
	if (r[3] == MAPS_FOUND)
		FZ_CHECK(k.len > 0);
	buf_free(&v);
	buf_free(&k);
}

/* fuzz_maps_keys - the first words of the first lines, and fixed keys */
static void
fuzz_maps_keys(struct map *m, const uint8_t *p, size_t n, int text)
{
	static const char *const fixed[] = { "a+b@sub.example.com",
	    "192.0.2.1", "2001:db8::1", "" };
	const uint8_t *end = p + n, *nl;
	size_t	 i, len;
	char	*key;
	int	 k;

	for (i = 0; i < NELEM(fixed); i++) {
		fuzz_maps_lookup(m, fixed[i], text);
		fuzz_maps_orders(m, fixed[i]);
	}
	for (k = 0; k < FUZZ_MAPS_KEYS && p < end; k++, p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		for (len = 0; p + len < nl && !isspace(p[len]) && p[len] != 0;
		    len++)
			;
		key = fz_cstr(p, len);
		fuzz_maps_lookup(m, key, text);
		fuzz_maps_orders(m, key);
		free(key);
		if (nl == end)
			break;
	}
}

/* fuzz_maps_table - open a table and ask it */
static void
fuzz_maps_table(const char *spec, const uint8_t *p, size_t n, int text)
{
	struct maps_report r = { fuzz_maps_report, (void *)spec, 0, 0, NULL };
	struct map *m;
	char	 err[1024];

	m = maps_open(spec, &r, err, sizeof(err));
	fz_trace("%s: %s (%d errors, %d warnings)", spec, m != NULL ? "open" :
	    err, r.nerr, r.nwarn);
	FZ_CHECK((m == NULL) == (r.nerr > 0));
	FZ_CHECK(m != NULL || err[0] != '\0');
	if (m == NULL)
		return;
	FZ_CHECK(maps_changed(m) == 0 && maps_stale(m) == 0);
	fuzz_maps_keys(m, p, n, text);
	maps_close(m);
}

/* fuzz_maps_file - the input as the file of a table */
static void
fuzz_maps_file(const char *type, const uint8_t *p, size_t n, int text)
{
	char	 spec[64];
	int	 fd, a, b;

	if ((fd = memfd_create("fuzz_maps", MFD_CLOEXEC)) == -1)
		abort();
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		abort();
	snprintf(spec, sizeof(spec), "%s:/proc/self/fd/%d", type, fd);
	fuzz_maps_table(spec, p, n, text);
	close(fd);
	/* nothing left open: the table's own descriptor came after ours */
	a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	FZ_CHECK(a == fd && b == fd + 1);
	close(a);
	close(b);
}

/* fuzz_maps_spec - "type:" + the input */
static void
fuzz_maps_spec(const char *type, const uint8_t *p, size_t n, int text)
{
	char	*spec;
	size_t	 tl = strlen(type);

	if (memchr(p, '\0', n) != NULL)
		return;
	spec = malloc(tl + 1 + n + 1);
	if (spec == NULL)
		abort();
	memcpy(spec, type, tl);
	spec[tl] = ':';
	memcpy(spec + tl + 1, p, n);
	spec[tl + 1 + n] = '\0';
	fuzz_maps_table(spec, p, n, text);
	free(spec);
}

/* fuzz_maps_action - one value through access_parse */
static void
fuzz_maps_action(const char *value)
{
	struct access_action a;
	char	 err[256];
	const unsigned char *t;
	size_t	 i;

	err[0] = '\0';
	if (access_parse(value, NULL, &a, err, sizeof(err)) == -1) {
		FZ_CHECK(err[0] != '\0');
		FZ_CHECK(a.text == NULL && a.words == NULL && a.nwords == 0);
		return;
	}
	fz_trace("action \"%s\": %s", value, access_kind_name(a.kind));
	FZ_CHECK(a.kind <= ACCESS_RESTRICT && a.text != NULL);
	FZ_CHECK(strlen(a.text) <= ACCESS_TEXT_MAX);
	for (t = (const unsigned char *)a.text; *t != '\0'; t++)
		FZ_CHECK(*t >= 0x20 || *t == '\t');
	if (a.kind == ACCESS_CODE)
		FZ_CHECK(a.code >= 400 && a.code <= 599 &&
		    a.dsn[0] == '0' + a.code / 100);
	if (a.dsn[0] != '\0')
		FZ_CHECK(a.dsn[1] == '.' && strchr(a.dsn + 2, '.') != NULL);
	if (a.kind == ACCESS_REJECT)
		FZ_CHECK(a.dsn[0] == '5');
	if (a.kind == ACCESS_DEFER || a.kind == ACCESS_DEFER_IF_PERMIT ||
	    a.kind == ACCESS_DEFER_IF_REJECT)
		FZ_CHECK(a.dsn[0] == '4');
	if (a.kind == ACCESS_RESTRICT) {
		FZ_CHECK(a.nwords > 0 && a.words != NULL);
		for (i = 0; i < a.nwords; i++)
			FZ_CHECK(a.words[i][0] != '\0');
	}
	access_free(&a);
}

/* fuzz_maps_actions - each line of the input */
static void
fuzz_maps_actions(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *nl;
	char	*line;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line = fz_cstr(p, (size_t)(nl - p));
		fuzz_maps_action(line);
		free(line);
		if (nl == end)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "texthash", "cidr", "regexp",
	    "pcre" };
	unsigned mode;

	if (size == 0)
		return 0;
	mode = data[0] % 6;
	data++;
	size--;
	if (mode == 5)
		fuzz_maps_actions(data, size);
	else if (mode == 4)
		fuzz_maps_spec("inline", data, size, 1);
	else if (mode > 0 && (data[-1] & 8))
		fuzz_maps_spec(types[mode], data, size, 0);
	else
		fuzz_maps_file(types[mode], data, size, mode == 0);
	return 0;
}
