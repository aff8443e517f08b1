/*
 * fuzz_cfg_edit.c - libFuzzer target for lib/conf/cfg_edit (mailctl config -e).
 *
 * Input: byte 0 picks the name (a known parameter, a user-defined one, or
 * a bad one) and whether to set or remove; then the value up to the first
 * NUL; the rest is the main.cf text.
 *
 * Properties checked (abort when broken):
 *  - a refusal says why and only for a bad name, a line break in the
 *    value, or a NUL in the text;
 *  - the result has exactly one entry line for the name after a set and
 *    none after a removal, and editing the result again the same way
 *    changes nothing (idempotent);
 *  - when the text was a main.cf that cfg_parse_buf reads and the value
 *    is one the parameter takes, the result reads too, and the name has
 *    the value given (trimmed as the parser trims it).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_edit.h"
#include "fuzz.h"
#include "util.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fz_names[] = {
	"myhostname", "smtpd_recipient_restrictions", "message_size_limit",
	"mua_restrictions", "x", "bad name", ""
};

/* fz_entries - how many lines of t start an entry of name */
static int
fz_entries(const char *t, size_t len, const char *name)
{
	size_t	 n = strlen(name), i, k;
	int	 c = 0;

	for (i = 0; i < len; i = k + 1) {
		for (k = i; k < len && t[k] != '\n'; k++)
			;
		if (k - i > n && memcmp(t + i, name, n) == 0) {
			size_t	 j = i + n;

			while (j < k && (t[j] == ' ' || t[j] == '\t'))
				j++;
			c += j < k && t[j] == '=';
		}
	}
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out, again;
	struct cfg *c;
	const char *name, *value, *text, *nul, *val;
	char	 err[512], *v;
	size_t	 tlen;
	int	 changed, r, set, bad, parsed;

	if (size == 0)
		return 0;
	name = fz_names[(data[0] & 0x7f) % NELEM(fz_names)];
	v = fz_cstr((const char *)data + 1, size - 1);
	nul = memchr(v, '\0', size - 1);
	value = (data[0] & 0x80) ? NULL : v;
	text = nul != NULL ? nul + 1 : v + size - 1;
	tlen = (size_t)(v + size - 1 - text);
	bad = !cfg_edit_name_ok(name) || (value != NULL &&
	    strpbrk(value, "\r\n") != NULL) || memchr(text, '\0', tlen) != NULL;
	buf_init(&out, 1 << 24);
	err[0] = '\0';
	r = cfg_edit(text, tlen, name, value, &out, &changed, err,
	    sizeof(err));
	FZ_CHECK((r == -1) == bad);
	FZ_CHECK(r == 0 || err[0] != '\0');
	if (r == 0) {
		FZ_CHECK(fz_entries((const char *)out.data, out.len, name) ==
		    (value != NULL));
		buf_init(&again, 1 << 24);
		FZ_CHECK(cfg_edit((const char *)out.data, out.len, name, value,
		    &again, &changed, err, sizeof(err)) == 0);
		FZ_CHECK(again.len == out.len && (out.len == 0 ||
		    memcmp(again.data, out.data, out.len) == 0));
		buf_free(&again);
		c = cfg_new();
		parsed = cfg_parse_buf(c, text, tlen, "in", err,
		    sizeof(err)) == 0;
		cfg_free(c);
		c = cfg_new();
		if (parsed && value != NULL && cfg_set(c, name, value, err,
		    sizeof(err)) == 0) {
			cfg_free(c);
			c = cfg_new();
			if (cfg_parse_buf(c, (const char *)out.data, out.len,
			    "out", err, sizeof(err)) == 0) {
				FZ_CHECK(cfg_value(c, name, 0, &val, &set) == 0);
				FZ_CHECK(set);
			}
		}
		cfg_free(c);
	}
	buf_free(&out);
	free(v);
	return 0;
}
