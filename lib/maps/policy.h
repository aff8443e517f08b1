/*
 * policy.h - Postfix's SMTP access policy delegation protocol
 * (SMTPD_POLICY_README): the argument of check_policy_service, the request
 * and the reply, without any I/O (smtpd/smtpd_policy.c talks to servers).
 *
 * Argument of check_policy_service (one list word):
 *	unix:PATH		a stream socket; a relative PATH is below
 *				queue_directory ("unix:private/policyd-spf")
 *	inet:HOST:PORT		TCP; HOST may be "[address]"
 *	{ ENDPOINT, name=value, { name = value with spaces }, ... }
 *				the endpoint with settings for this use:
 *				timeout, max_idle, max_ttl, retry_delay
 *				(times), request_limit, try_limit (counts),
 *				default_action, policy_context (text)
 * A request is lines "name=value" ending in an empty line; a value never
 * carries a control character (each becomes '?', so a client cannot add
 * lines).  A reply is lines "name=value" (a CR before the LF is dropped)
 * ending in an empty line; it must have exactly one "action", and
 * attributes with other names are ignored, as Postfix does.
 *
 * Errors: policy_spec_parse and policy_reply_parse return -1 with why in
 * err: an unknown endpoint type, a missing path, host or port, an
 * unknown or repeated setting, a bad time or count, a default_action
 * that is no access(5) action; a reply line without '=' or with an empty
 * name, a NUL byte, no action or two, an empty action, a line longer than
 * POLICY_LINE_MAX or a reply longer than POLICY_REPLY_MAX.
 */
#ifndef YOUJU_POLICY_H
#define YOUJU_POLICY_H

#include <stddef.h>

#include "buf.h"

#define POLICY_LINE_MAX		4096	/* one reply line, LF included */
#define POLICY_REPLY_MAX	16384	/* a whole reply */
#define POLICY_PATH_MAX		256

#define POLICY_UNIX		1
#define POLICY_INET		2

/* per-use settings; -1 (or NULL) = the smtpd_policy_service_* parameter */
struct policy_spec {
	int		 type;		/* POLICY_UNIX / POLICY_INET */
	char		 path[POLICY_PATH_MAX];	/* unix */
	char		 host[256];	/* inet, without brackets */
	char		 port[16];
	char		 endpoint[POLICY_PATH_MAX + 8];	/* for the log */
	long long	 timeout, max_idle, max_ttl, retry_delay;
	long long	 request_limit, try_limit;
	char		*default_action;
	char		*policy_context;
};

/* policy_spec_parse - a check_policy_service argument into *sp (free with
   policy_spec_free); 0, or -1 with why in err */
int	 policy_spec_parse(const char *, struct policy_spec *, char *, size_t);
void	 policy_spec_free(struct policy_spec *);
/* policy_attr - append "name=value\n" (control characters become '?') */
void	 policy_attr(struct buf *, const char *, const char *);
/*
 * policy_reply_parse - the reply at the start of buf (len bytes): 1 with
 * the action's value in action and the reply's length in *used; 0 when
 * more bytes are needed; -1 with why in err when it is malformed
 */
int	 policy_reply_parse(const char *, size_t, char *, size_t, size_t *,
	    char *, size_t);

#endif
