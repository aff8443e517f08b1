/*
 * test_policy.c - lib/maps/policy: the check_policy_service argument, the
 * request's attribute lines and the reply parser, malformed input first.
 */
#include <string.h>

#include "buf.h"
#include "policy.h"
#include "t.h"

/* reply - parse text; the result, action and used in *out */
static int
reply(const char *text, char *action, size_t *used)
{
	char	 err[256];

	action[0] = '\0';
	*used = 0;
	return policy_reply_parse(text, strlen(text), action, 256, used, err,
	    sizeof(err));
}

static void
test_reply_bad(void)
{
	static const char *bad[] = {
		"\n",				/* no action */
		"other=1\n\n",			/* no action */
		"action=DUNNO\naction=OK\n\n",	/* two */
		"action=\n\n",			/* empty */
		"action DUNNO\n\n",		/* no '=' */
		"=DUNNO\n\n",			/* empty name */
		"action=DU\rNNO\nx\n\n",	/* "x" without '=' */
	};
	char	 action[256], big[POLICY_REPLY_MAX + 10], nul[] = "action=O\0K\n\n";
	size_t	 used, i;
	char	 err[256];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(reply(bad[i], action, &used) == -1, "bad reply %zu", i);
	T_OK(policy_reply_parse(nul, sizeof(nul) - 1, action, 256, &used,
	    err, sizeof(err)) == -1, "NUL byte");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_OK(reply(big, action, &used) == -1, "line over POLICY_LINE_MAX");
	memcpy(big, "action=", 7);
	big[POLICY_LINE_MAX] = '\n';
	T_OK(reply(big, action, &used) == -1, "action line too long");
	T_OK(policy_reply_parse("action=OK\n\n", 11, action, 2, &used, err,
	    sizeof(err)) == -1, "action longer than the caller's buffer");
}

static void
test_reply_good(void)
{
	char	 action[256];
	size_t	 used;

	T_OK(reply("action=DUNNO", action, &used) == 0, "no LF: more");
	T_OK(reply("action=DUNNO\n", action, &used) == 0, "no end: more");
	T_OK(reply("action=DUNNO\n\n", action, &used) == 1 &&
	    strcmp(action, "DUNNO") == 0 && used == 14, "simple");
	T_OK(reply("x=1\naction=REJECT go away\ny=\n\nmore", action,
	    &used) == 1 && strcmp(action, "REJECT go away") == 0 &&
	    used == 30, "other attributes ignored, the rest left");
	T_OK(reply("action=OK\r\n\r\n", action, &used) == 1 &&
	    strcmp(action, "OK") == 0 && used == 13, "CR LF");
	T_OK(reply("action=a=b\n\n", action, &used) == 1 &&
	    strcmp(action, "a=b") == 0, "'=' in the value");
}

static void
test_spec(void)
{
	static const char *bad[] = {
		"", "tcp:1.2.3.4:5", "unix:", "inet:host", "inet::25",
		"inet:host:", "inet:[::1]25", "inet:h:p/x", "{ }",
		"{ inet:h:1", "{ timeout=1s }", "{ inet:h:1, bogus=1 }",
		"{ inet:h:1, timeout=0 }", "{ inet:h:1, timeout=x }",
		"{ inet:h:1, try_limit=0 }", "{ inet:h:1, request_limit=-1 }",
		"{ inet:h:1, timeout=1s, timeout=2s }",
		"{ inet:h:1, default_action=BOGUS }", "{ inet:h:1, x }",
		"{ inet:h:1, { default_action = 451 } }", "unix:a\tb",
	};
	struct policy_spec sp;
	char	 err[256];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(policy_spec_parse(bad[i], &sp, err, sizeof(err)) == -1,
		    "bad spec \"%s\"", bad[i]);
	T_OK(policy_spec_parse("unix:private/policy", &sp, err,
	    sizeof(err)) == 0 && sp.type == POLICY_UNIX &&
	    strcmp(sp.path, "private/policy") == 0 && sp.timeout == -1,
	    "unix");
	policy_spec_free(&sp);
	T_OK(policy_spec_parse("inet:127.0.0.1:10023", &sp, err,
	    sizeof(err)) == 0 && sp.type == POLICY_INET &&
	    strcmp(sp.host, "127.0.0.1") == 0 && strcmp(sp.port, "10023") == 0,
	    "inet");
	policy_spec_free(&sp);
	T_OK(policy_spec_parse("inet:[::1]:smtp", &sp, err, sizeof(err)) ==
	    0 && strcmp(sp.host, "::1") == 0 && strcmp(sp.port, "smtp") == 0,
	    "inet [v6]");
	policy_spec_free(&sp);
	T_OK(policy_spec_parse("{ inet:localhost:9998, timeout=10s, "
	    "default_action=DUNNO, try_limit=1 {policy_context = a b} }", &sp,
	    err, sizeof(err)) == 0 && sp.timeout == 10 && sp.try_limit == 1 &&
	    strcmp(sp.default_action, "DUNNO") == 0 &&
	    strcmp(sp.policy_context, "a b") == 0 &&
	    strcmp(sp.endpoint, "inet:localhost:9998") == 0, "braces");
	policy_spec_free(&sp);
	T_OK(policy_spec_parse("{ unix:private/p, { default_action = 451 "
	    "4.3.5 See http://www.example.com/support } }", &sp, err,
	    sizeof(err)) == 0 && strcmp(sp.default_action, "451 4.3.5 See "
	    "http://www.example.com/support") == 0, "value with spaces");
	policy_spec_free(&sp);
}

static void
test_attr(void)
{
	struct buf b;

	buf_init(&b, 1024);
	policy_attr(&b, "helo_name", "evil\nrecipient=x\r");
	policy_attr(&b, "sender", NULL);
	T_OK(strcmp(buf_cstr(&b), "helo_name=evil?recipient=x?\nsender=\n") ==
	    0, "control characters become '?', NULL is empty");
	buf_free(&b);
}

int
main(void)
{
	t_plan(11 + 6 + 26 + 1);
	test_reply_bad();
	test_reply_good();
	test_spec();
	test_attr();
	return t_done();
}
