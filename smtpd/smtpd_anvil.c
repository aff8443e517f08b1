/*
 * smtpd_anvil.c - the per-client limits of Postfix, counted by anvil(8):
 *
 *	smtpd_client_connection_count_limit	connections open at once
 *	smtpd_client_connection_rate_limit	connections per
 *						anvil_rate_time_unit
 *	smtpd_client_message_rate_limit		MAIL FROM per
 *						anvil_rate_time_unit
 *
 * for clients outside smtpd_client_event_limit_exceptions (default
 * $mynetworks), counted per master.cf service for the whole host.  A new
 * client waits (before the greeting) for anvil's count of its connections;
 * over a limit it gets "421 4.7.0 HOST Error: too many connections from
 * ADDR" and is closed.  A MAIL FROM waits for the count of messages; over
 * the limit it gets "450 4.7.1 Error: too much mail from ADDR", and the
 * client may try again later.  anvil being away, or not answering within
 * SMTPD_ANVIL_TIMEOUT_MS, lets the client go on (fail open, as Postfix):
 * the limits protect the server's reputation, they do not guard access.
 * The connection and the waiting are lib/server/ipc_client's.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "ipc.h"
#include "ipc_client.h"
#include "log.h"
#include "skel.h"
#include "util.h"
#include "smtpd.h"

#define SMTPD_ANVIL_TIMEOUT_MS	2000

/* smtpd_anvil_setup - the limits and exceptions (post-jail settings) */
void
smtpd_anvil_setup(struct smtpd *sd)
{
	char	 err[512];

	sd->conn_limit = (uint32_t)cfg_int(sd->cfg,
	    "smtpd_client_connection_count_limit");
	sd->conn_rate = (uint32_t)cfg_int(sd->cfg,
	    "smtpd_client_connection_rate_limit");
	sd->msg_rate = (uint32_t)cfg_int(sd->cfg,
	    "smtpd_client_message_rate_limit");
	if (net_parse_list(cfg_str(sd->cfg,
	    "smtpd_client_event_limit_exceptions"), &sd->exempt, &sd->nexempt,
	    err, sizeof(err)) == -1)
		log_fatal("smtpd_client_event_limit_exceptions: %s", err);
	sd->anvil = ipc_client_new(sd->base, "private/anvil", IPC_R_SMTPD,
	    IPC_R_ANVIL, "anvil");
}

/*
 * smtpd_anvil_go - the answer (or none: count 0) for a waiting session:
 * greet or refuse a new client; refuse or run again a MAIL FROM
 */
static void
smtpd_anvil_go(struct smtpd_sess *s, uint32_t a, uint32_t b)
{
	struct smtpd *sd = s->sd;
	int	 kind = s->anvil_wait;
	char	*line;

	s->anvil_wait = 0;
	s->phase = SMTPD_PH_CMD;
	if (kind == SMTPD_AW_CONNECT) {
		if ((sd->conn_limit > 0 && a > sd->conn_limit) ||
		    (sd->conn_rate > 0 && b > sd->conn_rate)) {
			/* Postfix's words: log filters (fail2ban) know them */
			if (sd->conn_limit > 0 && a > sd->conn_limit)
				log_warn("Connection concurrency limit exceeded: "
				    "%u from %s[%s] for service %s", a,
				    s->client_name, s->client_addr,
				    sd->sk->service);
			else
				log_warn("Connection rate limit exceeded: %u "
				    "from %s[%s] for service %s", b,
				    s->client_name, s->client_addr,
				    sd->sk->service);
			smtpd_reply(s, "421 4.7.0 %s Error: too many "
			    "connections from %s", sd->hostname,
			    s->client_addr);
			smtpd_close(s);
			return;
		}
		smtpd_greet(s);
	} else {
		line = s->anvil_line;
		s->anvil_line = NULL;
		if (sd->msg_rate > 0 && a > sd->msg_rate) {
			log_warn("Message delivery request rate limit "
			    "exceeded: %u from %s[%s] for service %s", a,
			    s->client_name, s->client_addr,
			    sd->sk->service);
			smtpd_reject(s, "MAIL", NULL, NULL, "450 4.7.1 Error: "
			    "too much mail from %s", s->client_addr);
		} else if (line != NULL) {
			s->anvil_mail_ok = 1;
			smtpd_command(s, line, strlen(line));
			s->anvil_mail_ok = 0;
		}
		free(line);
	}
	smtpd_resume(s);
}

/*
 * smtpd_anvil_answer - lib/server/ipc_client: the counts, or none (a timeout or
 * a broken connection): the session goes on without limits
 */
static int
smtpd_anvil_answer(struct ipc_pending *p, int status, struct ipc_in *in)
{
	struct smtpd_sess *s = (struct smtpd_sess *)(void *)((char *)p -
	    offsetof(struct smtpd_sess, anvil_pend));
	uint32_t a = 0, b = 0;
	int	 r = 0;

	if (status == IPC_CLIENT_TIMEOUT)
		log_warn("anvil: no answer within %llu ms; the client limits "
		    "are not applied to %s[%s]", (unsigned long long)
		    p->wait_ms, s->client_name, s->client_addr);
	if (status == IPC_CLIENT_OK) {
		a = ipc_get_u32(in);
		b = ipc_get_u32(in);
		if (ipc_get_end(in) == -1) {
			log_warn("anvil: malformed answer");
			a = b = 0;
			r = -1;
		}
	}
	smtpd_anvil_go(s, a, b);
	return r;
}

/* smtpd_anvil_send - a request; the session waits.  -1: anvil is away */
static int
smtpd_anvil_send(struct smtpd_sess *s, uint32_t type, int kind)
{
	struct smtpd *sd = s->sd;
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	ipc_put_str(&o, sd->sk->service);
	ipc_put_str(&o, s->client_addr);
	r = ipc_client_send(sd->anvil, type, &o, kind == 0 ? NULL :
	    &s->anvil_pend, IPC_ANVIL_REPLY, SMTPD_ANVIL_TIMEOUT_MS,
	    smtpd_anvil_answer);
	ipc_out_free(&o);
	if (r == -1 || kind == 0)
		return r;
	s->anvil_wait = kind;
	s->phase = SMTPD_PH_WAIT;
	return 0;
}

/* smtpd_anvil_exempt - is the client outside the limits */
static int
smtpd_anvil_exempt(struct smtpd_sess *s)
{
	return net_match(s->sd->exempt, s->sd->nexempt,
	    s->client_addr);
}

/*
 * smtpd_anvil_connect - a new client: 1 when it waits for anvil (the
 * greeting comes later), 0 when it is greeted now
 */
int
smtpd_anvil_connect(struct smtpd_sess *s)
{
	struct smtpd *sd = s->sd;

	if ((sd->conn_limit == 0 && sd->conn_rate == 0 && sd->msg_rate == 0) ||
	    smtpd_anvil_exempt(s))
		return 0;
	if (smtpd_anvil_send(s, IPC_ANVIL_CONNECT, SMTPD_AW_CONNECT) == -1) {
		log_warn("anvil: cannot reach private/anvil: %s; the client "
		    "limits are not applied", strerror(errno));
		return 0;
	}
	s->anvil_counted = 1;
	return 1;
}

/*
 * smtpd_anvil_mail - a MAIL FROM whose address parsed, with
 * smtpd_client_message_rate_limit: 1 when the command (line, as it came)
 * waits for anvil - it runs again with anvil_mail_ok - 0 when it goes on
 */
int
smtpd_anvil_mail(struct smtpd_sess *s, const char *line)
{
	if (s->sd->msg_rate == 0 || s->anvil_mail_ok || *line == '\0' ||
	    smtpd_anvil_exempt(s))
		return 0;
	if (smtpd_anvil_send(s, IPC_ANVIL_MESSAGE, SMTPD_AW_MAIL) == -1)
		return 0;
	free(s->anvil_line);
	s->anvil_line = xstrdup(line);
	return 1;
}

/* smtpd_anvil_forget - the session ends: its connection is released */
void
smtpd_anvil_forget(struct smtpd_sess *s)
{
	ipc_client_cancel(&s->anvil_pend);
	if (s->anvil_counted && ipc_client_connected(s->sd->anvil))
		(void)smtpd_anvil_send(s, IPC_ANVIL_DISCONNECT, 0);
	free(s->anvil_line);
	s->anvil_line = NULL;
}
