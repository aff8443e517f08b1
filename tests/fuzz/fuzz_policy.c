/*
 * fuzz_policy.c - libFuzzer target for lib/maps/policy: policy_reply_parse()
 * on bytes as a policy server might send them, and policy_spec_parse() on
 * the same bytes as a check_policy_service argument.
 *
 * Input: the received bytes (an exact-size copy: the parser takes a
 * length, so ASan sees any read past it).
 *
 * Properties checked (abort when broken):
 *  - the reply result is -1, 0 or 1; with 1, 0 < used <= len, the reply
 *    ends with an empty line, the action is non-empty, NUL-terminated
 *    within the buffer and has no LF; the reply's bytes alone give the
 *    same result and action, and without the last byte need more or are
 *    malformed;
 *  - 0 (need more) only below POLICY_REPLY_MAX bytes;
 *  - the argument (NUL-terminated copy) parses to -1 or to a spec with a
 *    type, an endpoint and settings in their ranges;
 *  - the same copy as a reply template (restr_expand, default_rbl_reply):
 *    0 or -1 with a reason, never more than the buffer's maximum.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "policy.h"
#include "restr.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_var - every name but "x" has a value, "e" an empty one */
static const char *
fuzz_var(void *arg, const char *name)
{
	if (strcmp(name, "x") == 0)
		return NULL;
	return strcmp(name, "e") == 0 ? "" : "value$";
}

/* fuzz_template - the bytes as a reply template */
static void
fuzz_template(const char *s)
{
	struct buf out;
	char	 err[256];
	int	 r;

	buf_init(&out, 2048);
	err[0] = '\0';
	r = restr_expand(s, fuzz_var, NULL, &out, err, sizeof(err));
	FZ_CHECK(r == 0 || (r == -1 && err[0] != '\0'));
	FZ_CHECK(out.len <= 2048);
	buf_free(&out);
}

/* fuzz_policy_spec - the bytes as a check_policy_service argument */
static void
fuzz_policy_spec(const uint8_t *data, size_t len)
{
	struct policy_spec sp;
	char	*s, err[512];

	s = malloc(len + 1);
	FZ_CHECK(s != NULL);
	memcpy(s, data, len);
	s[len] = '\0';
	fuzz_template(s);
	if (policy_spec_parse(s, &sp, err, sizeof(err)) == 0) {
		FZ_CHECK(sp.type == POLICY_UNIX || sp.type == POLICY_INET);
		FZ_CHECK(sp.endpoint[0] != '\0');
		FZ_CHECK(sp.timeout == -1 || (sp.timeout >= 1 &&
		    sp.timeout <= 86400));
		FZ_CHECK(sp.try_limit == -1 || sp.try_limit >= 1);
		policy_spec_free(&sp);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*copy, action[1024], again[1024], err[512];
	size_t	 used = 0, used2 = 0;
	int	 r, r2;

	copy = malloc(len > 0 ? len : 1);
	FZ_CHECK(copy != NULL);
	memcpy(copy, data, len);
	r = policy_reply_parse(copy, len, action, sizeof(action), &used, err,
	    sizeof(err));
	FZ_CHECK(r == -1 || r == 0 || r == 1);
	if (r == 0)
		FZ_CHECK(len < POLICY_REPLY_MAX);
	if (r == 1) {
		FZ_CHECK(used > 0 && used <= len);
		FZ_CHECK(copy[used - 1] == '\n');
		FZ_CHECK(action[0] != '\0');
		FZ_CHECK(memchr(action, '\0', sizeof(action)) != NULL);
		FZ_CHECK(strchr(action, '\n') == NULL);
		r2 = policy_reply_parse(copy, used, again, sizeof(again),
		    &used2, err, sizeof(err));
		FZ_CHECK(r2 == 1 && used2 == used &&
		    strcmp(action, again) == 0);
		r2 = policy_reply_parse(copy, used - 1, again, sizeof(again),
		    &used2, err, sizeof(err));
		FZ_CHECK(r2 == 0 || r2 == -1);
	}
	free(copy);
	fuzz_policy_spec(data, len);
	return 0;
}
