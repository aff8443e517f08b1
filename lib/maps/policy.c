/*
 * policy.c - the policy delegation protocol's argument, request and reply
 * (see policy.h).
 *
 * Interface: policy_spec_parse, policy_spec_free, policy_attr,
 * policy_reply_parse.  Errors: -1 with a message naming what is wrong.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "cfg.h"
#include "log.h"
#include "policy.h"
#include "util.h"

/* policy_is_sep - list separators inside "{ ... }" */
static int
policy_is_sep(int c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* policy_trim - the text between p and end without outer white space */
static char *
policy_trim(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	return xstrndup(p, (size_t)(end - p));
}

/* policy_inet - "inet:HOST:PORT" or "inet:[ADDRESS]:PORT" s into sp */
static int
policy_inet(const char *s, struct policy_spec *sp, char *err, size_t errlen)
{
	const char *rest = s + 5, *colon;
	size_t	 i, hl;

	if (*rest == '[') {
		colon = strchr(rest, ']');
		if (colon == NULL || colon[1] != ':') {
			snprintf(err, errlen, "\"%.100s\": expected "
			    "inet:[ADDRESS]:PORT", s);
			return -1;
		}
		hl = (size_t)(colon - rest - 1);
		rest++;
		colon++;
	} else {
		colon = strrchr(rest, ':');
		hl = colon != NULL ? (size_t)(colon - rest) : 0;
	}
	if (colon == NULL || hl == 0 || hl >= sizeof(sp->host) ||
	    colon[1] == '\0' || strlen(colon + 1) >= sizeof(sp->port)) {
		snprintf(err, errlen, "\"%.100s\": expected inet:HOST:PORT", s);
		return -1;
	}
	for (i = 1; colon[i] != '\0'; i++)
		if (!isalnum((unsigned char)colon[i]) && colon[i] != '-') {
			snprintf(err, errlen, "\"%.100s\": bad port", s);
			return -1;
		}
	sp->type = POLICY_INET;
	memcpy(sp->host, rest, hl);
	sp->host[hl] = '\0';
	util_strlcpy(sp->port, colon + 1, sizeof(sp->port));
	return 0;
}

/* policy_endpoint - "unix:PATH" or "inet:HOST:PORT" into sp */
static int
policy_endpoint(const char *s, struct policy_spec *sp, char *err,
    size_t errlen)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (iscntrl((unsigned char)s[i])) {
			snprintf(err, errlen, "control character in policy "
			    "server address");
			return -1;
		}
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] == '\0' || strlen(s + 5) >= sizeof(sp->path)) {
			snprintf(err, errlen, "\"%.100s\": the socket path is "
			    "empty or too long", s);
			return -1;
		}
		sp->type = POLICY_UNIX;
		util_strlcpy(sp->path, s + 5, sizeof(sp->path));
	} else if (strncmp(s, "inet:", 5) == 0) {
		if (policy_inet(s, sp, err, errlen) == -1)
			return -1;
	} else {
		snprintf(err, errlen, "\"%.100s\": a policy server is "
		    "unix:PATH or inet:HOST:PORT", s);
		return -1;
	}
	util_strlcpy(sp->endpoint, s, sizeof(sp->endpoint));
	return 0;
}

/* the per-use settings of "{ ... }", and where each goes */
static const struct {
	const char	*name;
	int		 time;		/* 1 time, 0 count, -1 text */
	size_t		 off;
} policy_settings[] = {
	{ "timeout", 1, offsetof(struct policy_spec, timeout) },
	{ "max_idle", 1, offsetof(struct policy_spec, max_idle) },
	{ "max_ttl", 1, offsetof(struct policy_spec, max_ttl) },
	{ "retry_delay", 1, offsetof(struct policy_spec, retry_delay) },
	{ "request_limit", 0, offsetof(struct policy_spec, request_limit) },
	{ "try_limit", 0, offsetof(struct policy_spec, try_limit) },
	{ "default_action", -1, offsetof(struct policy_spec, default_action) },
	{ "policy_context", -1, offsetof(struct policy_spec, policy_context) },
};

/* policy_setting - one "name=value" of the braces form */
static int
policy_setting(struct policy_spec *sp, const char *name, const char *value,
    char *err, size_t errlen)
{
	struct access_action a;
	long long v, *vp;
	char	**tp, *end, why[256];
	size_t	 i;

	for (i = 0; i < NELEM(policy_settings); i++)
		if (strcmp(policy_settings[i].name, name) == 0)
			break;
	if (i == NELEM(policy_settings)) {
		snprintf(err, errlen, "unknown policy service setting "
		    "\"%.60s\"", name);
		return -1;
	}
	if (policy_settings[i].time == -1) {
		tp = (char **)((char *)sp + policy_settings[i].off);
		if (*tp != NULL)
			goto dup;
		if (strcmp(name, "default_action") == 0 &&
		    access_parse(value, NULL, &a, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "default_action \"%.100s\": %s",
			    value, why);
			return -1;
		}
		if (strcmp(name, "default_action") == 0)
			access_free(&a);
		*tp = xstrdup(value);
		return 0;
	}
	vp = (long long *)((char *)sp + policy_settings[i].off);
	if (*vp != -1)
		goto dup;
	if (policy_settings[i].time == 1) {
		if (cfg_parse_time(value, 's', &v) == -1 || v < 1 ||
		    v > 86400) {
			snprintf(err, errlen, "%s: \"%.60s\" is not a time of "
			    "1s to 1d", name, value);
			return -1;
		}
	} else {
		v = strtoll(value, &end, 10);
		if (*value == '\0' || *end != '\0' || v < 0 || v > 1000000 ||
		    (v == 0 && strcmp(name, "try_limit") == 0)) {
			snprintf(err, errlen, "%s: \"%.60s\" is not a count",
			    name, value);
			return -1;
		}
	}
	*vp = v;
	return 0;
dup:
	snprintf(err, errlen, "policy service setting %s given twice", name);
	return -1;
}

/* policy_braces - the inside of "{ ENDPOINT, settings... }" */
static int
policy_braces(const char *p, const char *end, struct policy_spec *sp,
    char *err, size_t errlen)
{
	const char *start, *eq;
	char	*tok, *name, *value;
	int	 depth, r, have_ep = 0;

	for (;;) {
		while (p < end && policy_is_sep((unsigned char)*p))
			p++;
		if (p == end)
			break;
		start = p;
		if (*p == '{') {
			for (depth = 0; p < end; p++)
				if (*p == '{')
					depth++;
				else if (*p == '}' && --depth == 0)
					break;
			if (p == end) {
				snprintf(err, errlen, "missing '}'");
				return -1;
			}
			tok = policy_trim(start + 1, p++);
		} else {
			while (p < end && !policy_is_sep((unsigned char)*p))
				p++;
			tok = xstrndup(start, (size_t)(p - start));
		}
		eq = strchr(tok, '=');
		if (!have_ep) {
			r = eq != NULL ? (snprintf(err, errlen, "the policy "
			    "server address must come first"), -1) :
			    policy_endpoint(tok, sp, err, errlen);
			have_ep = 1;
		} else if (eq == NULL) {
			snprintf(err, errlen, "\"%.60s\": expected name=value",
			    tok);
			r = -1;
		} else {
			name = policy_trim(tok, eq);
			value = policy_trim(eq + 1, tok + strlen(tok));
			r = policy_setting(sp, name, value, err, errlen);
			free(name);
			free(value);
		}
		free(tok);
		if (r == -1)
			return -1;
	}
	if (!have_ep) {
		snprintf(err, errlen, "no policy server address in { }");
		return -1;
	}
	return 0;
}

/* policy_spec_parse - see policy.h */
int
policy_spec_parse(const char *s, struct policy_spec *sp, char *err,
    size_t errlen)
{
	size_t	 len = strlen(s);
	int	 r;

	memset(sp, 0, sizeof(*sp));
	sp->timeout = sp->max_idle = sp->max_ttl = sp->retry_delay = -1;
	sp->request_limit = sp->try_limit = -1;
	if (len > 0 && s[0] == '{') {
		if (s[len - 1] != '}') {
			snprintf(err, errlen, "missing '}'");
			r = -1;
		} else
			r = policy_braces(s + 1, s + len - 1, sp, err, errlen);
	} else
		r = policy_endpoint(s, sp, err, errlen);
	if (r == -1)
		policy_spec_free(sp);
	return r;
}

/* policy_spec_free - see policy.h */
void
policy_spec_free(struct policy_spec *sp)
{
	free(sp->default_action);
	free(sp->policy_context);
	sp->default_action = sp->policy_context = NULL;
}

/* policy_attr - see policy.h */
void
policy_attr(struct buf *b, const char *name, const char *value)
{
	const char *p;

	(void)buf_puts(b, name);
	(void)buf_putc(b, '=');
	for (p = value != NULL ? value : ""; *p != '\0'; p++)
		(void)buf_putc(b, iscntrl((unsigned char)*p) ? '?' : *p);
	(void)buf_putc(b, '\n');
}

/*
 * policy_reply_end - the length of buf's first reply, up to and with its
 * empty line, in *used: 1, or 0 when it is not all there yet, or -1 when
 * a line or the reply is too long
 */
static int
policy_reply_end(const char *buf, size_t len, size_t *used)
{
	const char *p = buf, *end = buf + len, *nl, *start;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return (size_t)(end - p) >= POLICY_LINE_MAX ||
			    len >= POLICY_REPLY_MAX ? -1 : 0;
		if ((size_t)(nl - p) + 1 > POLICY_LINE_MAX ||
		    (size_t)(nl - buf) + 1 > POLICY_REPLY_MAX)
			return -1;
		start = p;
		p = nl + 1;
		if (nl == start || (nl == start + 1 && *start == '\r'))
			break;
	}
	*used = (size_t)(p - buf);
	return 1;
}

/*
 * policy_reply_parse - see policy.h.  Lines are looked at only once the
 * whole reply (up to its empty line) is there, so a reply split over many
 * reads is parsed once.
 */
int
policy_reply_parse(const char *buf, size_t len, char *action, size_t actlen,
    size_t *used, char *err, size_t errlen)
{
	const char *p, *nl, *eq, *le;
	char	 esc[256];
	int	 nact = 0, r;

	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte in the reply");
		return -1;
	}
	if ((r = policy_reply_end(buf, len, used)) != 1) {
		if (r == -1)
			snprintf(err, errlen, "reply line or reply too long");
		return r;
	}
	for (p = buf; (nl = memchr(p, '\n', *used - (size_t)(p - buf))) !=
	    NULL; p = nl + 1) {
		le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (le == p)
			break;		/* the empty line */
		eq = memchr(p, '=', (size_t)(le - p));
		if (eq == NULL || eq == p) {
			snprintf(err, errlen, "reply line without name=value: "
			    "\"%s\"", log_escape(esc, sizeof(esc), p,
			    (size_t)(le - p) < 60 ? (size_t)(le - p) : 60));
			return -1;
		}
		if (eq - p != 6 || memcmp(p, "action", 6) != 0)
			continue;
		if (nact++ > 0) {
			snprintf(err, errlen, "two actions in the reply");
			return -1;
		}
		if (le == eq + 1 || (size_t)(le - eq - 1) >= actlen) {
			snprintf(err, errlen, "empty or too long action");
			return -1;
		}
		memcpy(action, eq + 1, (size_t)(le - eq - 1));
		action[le - eq - 1] = '\0';
	}
	if (nact == 0) {
		snprintf(err, errlen, "no action in the reply");
		return -1;
	}
	return 1;
}
