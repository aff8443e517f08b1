/*
 * fuzz_cfg.c - libFuzzer target for lib/conf/cfg: cfg_parse_buf() on a
 * main.cf, every getter of every parameter, cfg_check() and cfg_set().
 *
 * Input: main.cf text up to the first NUL byte; what follows the NUL is
 * "name=value" for one cfg_set() (an -o override).
 *
 * Properties checked (abort when broken):
 *  - a failed cfg_parse_buf() or cfg_set() leaves the cfg unchanged (raw
 *    and expanded value of every parameter, the unknown names), and
 *    says why;
 *  - every getter returns a value that passes its own table entry: INT,
 *    SIZE, TIME within [min, max], BOOL 0 or 1, STR/LIST within choices,
 *    NONEMPTY not empty, ABSPATH absolute, LIST elements non-empty;
 *  - cfg_check() writes a NUL-terminated text within the buffer it is
 *    given (an exact-size buffer, so ASan sees an overflow);
 *  - after a successful cfg_set() the raw value of a known name is the
 *    value given.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cfg.h"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_cfg_strdup - strdup that aborts */
static char *
fuzz_cfg_strdup(const char *s)
{
	FZ_CHECK(s != NULL);
	return fz_cstr(s, strlen(s));
}

/*
 * fuzz_cfg_same - c has the values of the copy taken before a change that
 * failed: raw and expanded value of every parameter, the unknown names
 */
static void
fuzz_cfg_same(const struct cfg *c, const struct cfg *before)
{
	const char *const *u1, *const *u2;
	const char *name;
	size_t	 i, n1, n2;

	for (i = 0; i < cfg_nparams; i++) {
		name = cfg_params[i].name;
		FZ_CHECK(strcmp(cfg_raw(c, name), cfg_raw(before, name)) == 0);
		FZ_CHECK(strcmp(cfg_str(c, name), cfg_str(before, name)) == 0);
	}
	u1 = cfg_unknown(c, &n1);
	u2 = cfg_unknown(before, &n2);
	FZ_CHECK(n1 == n2);
	for (i = 0; i < n1; i++) {
		FZ_CHECK(strcmp(u1[i], u2[i]) == 0);
		FZ_CHECK(strcmp(cfg_lookup(c, u1[i]),
		    cfg_lookup(before, u2[i])) == 0);
	}
}

/* fuzz_cfg_choice - is s one of the '|'-separated choices */
static int
fuzz_cfg_choice(const char *choices, const char *s)
{
	size_t	 len = strlen(s), n;
	const char *c = choices;

	for (;;) {
		n = strcspn(c, "|");
		if (n == len && strncmp(c, s, len) == 0)
			return 1;
		if (c[n] == '\0')
			return 0;
		c += n + 1;
	}
}

/* fuzz_cfg_getters - every getter of every parameter, by type */
static void
fuzz_cfg_getters(const struct cfg *c)
{
	const struct cfg_param *p;
	const char *s;
	char	**v;
	long long n;
	size_t	 i, j, nv;
	int	 b;

	for (i = 0; i < cfg_nparams; i++) {
		p = &cfg_params[i];
		FZ_CHECK(cfg_param_find(p->name) == p);
		s = cfg_str(c, p->name);
		FZ_CHECK(s != NULL && cfg_raw(c, p->name) != NULL);
		FZ_CHECK(cfg_lookup(c, p->name) == s);
		if ((p->flags & CFG_F_NONEMPTY) != 0)
			FZ_CHECK(s[0] != '\0');
		if ((p->flags & CFG_F_ABSPATH) != 0)
			FZ_CHECK(s[0] == '\0' || s[0] == '/');
		switch (p->type) {
		case CFG_INT:
		case CFG_SIZE:
			n = cfg_int(c, p->name);
			FZ_CHECK(n >= p->min && n <= p->max);
			break;
		case CFG_TIME:
			n = cfg_time(c, p->name);
			FZ_CHECK(n >= p->min && n <= p->max);
			FZ_CHECK(cfg_int(c, p->name) == n);
			break;
		case CFG_BOOL:
			b = cfg_bool(c, p->name);
			FZ_CHECK(b == 0 || b == 1);
			break;
		case CFG_STR:
			if (p->choices != NULL)
				FZ_CHECK(fuzz_cfg_choice(p->choices, s));
			break;
		case CFG_LIST:
			v = cfg_list(c, p->name, &nv);
			FZ_CHECK(v != NULL && v[nv] == NULL);
			for (j = 0; j < nv; j++) {
				FZ_CHECK(v[j][0] != '\0');
				if (p->choices != NULL)
					FZ_CHECK(fuzz_cfg_choice(p->choices,
					    v[j]));
			}
			cfg_list_free(v, nv);
			break;
		}
	}
}

/* fuzz_cfg_check - cfg_check() into an exact-size buffer */
static void
fuzz_cfg_check(const struct cfg *c, size_t len)
{
	char	*dst;
	int	 n, nerr = -1;

	dst = fz_memdup("", len);
	n = cfg_check(c, dst, len, &nerr);
	FZ_CHECK(n >= 0 && nerr >= 0 && nerr <= n);
	if (len > 0)
		FZ_CHECK(memchr(dst, '\0', len) != NULL);
	free(dst);
}

/* fuzz_cfg_set - one override from "name=value"; all or nothing */
static void
fuzz_cfg_set(struct cfg *c, const char *nv)
{
	struct cfg *before;
	char	 err[1024];
	char	*name, *value, *eq;
	int	 r;

	name = fuzz_cfg_strdup(nv);
	if ((eq = strchr(name, '=')) != NULL) {
		*eq = '\0';
		value = eq + 1;
	} else
		value = name + strlen(name);
	before = cfg_dup(c);
	err[0] = '\0';
	r = cfg_set(c, name, value, err, sizeof(err));
	fz_trace("cfg_set %s: %s", name, r == 0 ? "ok" : err);
	if (r == 0) {
		FZ_CHECK(cfg_lookup(c, name) != NULL);
		if (cfg_param_find(name) != NULL)
			FZ_CHECK(strcmp(cfg_raw(c, name), value) == 0);
	} else {
		FZ_CHECK(err[0] != '\0');
		fuzz_cfg_same(c, before);
	}
	cfg_free(before);
	cfg_mark_used(c, value);
	free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *c, *before;
	const uint8_t *nul;
	char	 err[1024];
	char	*text, *rest = NULL;
	size_t	 tlen, n;
	long long t;
	int	 r, b;

	if ((nul = memchr(data, '\0', size)) != NULL) {
		tlen = (size_t)(nul - data);
		rest = fz_cstr(nul + 1, size - tlen - 1);
	} else
		tlen = size;
	/* exact size, not NUL-terminated: the parser takes a length */
	text = fz_memdup(data, tlen);

	c = cfg_new();
	before = cfg_dup(c);
	err[0] = '\0';
	r = cfg_parse_buf(c, text, tlen, "main.cf", err, sizeof(err));
	fz_trace("cfg_parse_buf: %s", r == 0 ? "ok" : err);
	if (r == -1) {
		FZ_CHECK(err[0] != '\0');
		fuzz_cfg_same(c, before);
	}
	cfg_free(before);
	fuzz_cfg_check(c, 4096);
	fuzz_cfg_check(c, tlen % 97);
	(void)cfg_unknown(c, &n);

	if (rest != NULL) {
		fuzz_cfg_set(c, rest);
		/* the helpers the getters use, on raw attacker text */
		(void)cfg_parse_time(rest, 0, &t);
		(void)cfg_parse_time(rest, 'd', &t);
		(void)cfg_parse_bool(rest, &b);
		cfg_list_free(cfg_split_list(rest, &n), n);
	}
	fuzz_cfg_getters(c);
	cfg_free(c);
	free(text);
	free(rest);
	return 0;
}
