/*
 * smtpd_policy.c - check_policy_service: asking a policy server (Postfix's
 * SMTPD_POLICY_README protocol, lib/maps/policy) from inside the event loop.
 *
 * Every check_policy_service word in the restriction lists is a "use"
 * (struct smtpd_psvc) with its settings (the smtpd_policy_service_*
 * parameters, or the "{ ... }" form's) and a pool of idle connections.  A
 * session asks one question at a time (struct smtpd_preq): it takes an idle
 * connection or opens one, writes the request, and reads the reply, which
 * policy_reply_parse bounds (POLICY_REPLY_MAX) before anything is taken
 * from it.  Each connection has its own timer: the attempt's deadline
 * (smtpd_policy_service_timeout for connect, write and read together)
 * while busy, max_idle while idle.  A failed attempt (refused, closed,
 * malformed, late) closes that connection and is tried again after
 * retry_delay, up to try_limit attempts; then the default action is the
 * answer and a warning says why.  A session never waits longer than
 * smtpd_wait_limit(), and other sessions never wait for it: each
 * question in flight has its own connection.  A connection is reused
 * until request_limit requests or max_ttl; a reply followed by more bytes
 * closes it (the server is out of step).
 *
 * The answer (the action text) is kept for the session until the
 * restriction lists reach a verdict (smtpd_policy_clear): the command is
 * run again when the answer comes (smtpd_rerun), the lists are evaluated
 * from the start, and the restriction then finds its answer.
 *
 * Host names of inet: servers are resolved once at start (before the
 * jail, which has no resolver configuration); a name that does not
 * resolve makes every question of that use get the default action.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "access.h"
#include "cfg.h"
#include "log.h"
#include "policy.h"
#include "restr.h"
#include "util.h"
#include "smtpd.h"

#define SMTPD_POLICY_ACTION_MAX	1024

struct smtpd_preq;

struct smtpd_pconn {
	struct smtpd_psvc *svc;
	int		 fd;
	struct event	*ev;
	struct event	*timer;		/* attempt deadline, or idle limit */
	int		 connecting;
	struct buf	 out;		/* the request */
	size_t		 sent;
	struct buf	 in;		/* the reply so far */
	struct smtpd_preq *req;		/* NULL while idle */
	uint64_t	 born_ms;
	long long	 nreq;
	struct smtpd_pconn *next;	/* the use's idle list */
};

struct smtpd_psvc {
	const char	*word;		/* the list word (its address is the key) */
	size_t		 index;		/* of the session's answers */
	struct policy_spec spec;
	struct sockaddr_storage sa;
	socklen_t	 salen;		/* 0: the name did not resolve */
	uint64_t	 timeout_ms, idle_ms, ttl_ms, delay_ms;
	long long	 req_limit, tries;
	char		*def_action;
	char		*context;
	struct smtpd_pconn *idle;
	struct smtpd_psvc *next;
};

/* a session's question, and its answers (indexed by smtpd_psvc.index) */
struct smtpd_preq {
	struct smtpd_sess *s;
	struct smtpd_psvc *svc;		/* NULL: no question out */
	struct buf	 text;
	int		 tries;
	uint64_t	 end_ms;
	struct smtpd_pconn *conn;
	struct event	*retry;
	int		 wait_kind;	/* SMTPD_DW_*: the session waits */
	char		*wait_line;
	char		**answers;
};

static void smtpd_pconn_io(evutil_socket_t, short, void *);
static void smtpd_preq_attempt(struct smtpd_preq *);

/* smtpd_pconn_close - end a connection (its question, if any, stays) */
static void
smtpd_pconn_close(struct smtpd_pconn *pc)
{
	struct smtpd_pconn **pp;

	for (pp = &pc->svc->idle; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pc) {
			*pp = pc->next;
			break;
		}
	if (pc->req != NULL)
		pc->req->conn = NULL;
	event_free(pc->ev);
	event_free(pc->timer);
	close(pc->fd);
	buf_free(&pc->out);
	buf_free(&pc->in);
	free(pc);
}

/* smtpd_pconn_arm - the connection's timer, ms from now */
static void
smtpd_pconn_arm(struct smtpd_pconn *pc, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(pc->timer, &tv);
}

/* smtpd_pconn_watch - wait for what (EV_READ / EV_WRITE) */
static void
smtpd_pconn_watch(struct smtpd_pconn *pc, short what)
{
	event_del(pc->ev);
	event_assign(pc->ev, event_get_base(pc->ev), pc->fd, what | EV_PERSIST,
	    smtpd_pconn_io, pc);
	event_add(pc->ev, NULL);
}

/* smtpd_preq_finish - the question has its answer: keep it, wake */
static void
smtpd_preq_finish(struct smtpd_preq *q, const char *action)
{
	struct smtpd_sess *s = q->s;
	int	 kind = q->wait_kind;
	char	*line = q->wait_line;

	free(q->answers[q->svc->index]);
	q->answers[q->svc->index] = xstrdup(action);
	q->svc = NULL;
	q->wait_kind = 0;
	q->wait_line = NULL;
	if (kind != 0)
		smtpd_rerun(s, kind, line);
	free(line);
}

/* smtpd_preq_failed - an attempt failed: again later, or the default */
static void
smtpd_preq_failed(struct smtpd_preq *q, const char *why)
{
	struct smtpd_psvc *svc = q->svc;
	uint64_t now = util_mono_ms(), ms = svc->delay_ms;
	struct timeval tv;

	if (q->conn != NULL)
		smtpd_pconn_close(q->conn);
	if (++q->tries < svc->tries && now + ms < q->end_ms) {
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		evtimer_add(q->retry, &tv);
		return;
	}
	log_warn("problem talking to server %s: %s; default action \"%s\" "
	    "for %s[%s]", svc->spec.endpoint, why,
	    log_str(svc->def_action), q->s->client_name, q->s->client_addr);
	smtpd_preq_finish(q, svc->def_action);
}

/* smtpd_pconn_done - a whole reply came: the answer, reuse or close */
static void
smtpd_pconn_done(struct smtpd_pconn *pc, const char *action, size_t used)
{
	struct smtpd_preq *q = pc->req;
	struct smtpd_psvc *svc = pc->svc;

	pc->req = NULL;
	q->conn = NULL;
	pc->nreq++;
	if (used != pc->in.len ||
	    (svc->req_limit > 0 && pc->nreq >= svc->req_limit) ||
	    util_mono_ms() - pc->born_ms >= svc->ttl_ms)
		smtpd_pconn_close(pc);
	else {
		buf_reset(&pc->in);
		smtpd_pconn_watch(pc, EV_READ);
		smtpd_pconn_arm(pc, svc->idle_ms);
		pc->next = svc->idle;
		svc->idle = pc;
	}
	smtpd_preq_finish(q, action);
}

/* smtpd_pconn_read - reply bytes; 0 on, -1 failed (why set) */
static int
smtpd_pconn_read(struct smtpd_pconn *pc, const char **why, char *err,
    size_t errlen)
{
	char	 chunk[4096], action[SMTPD_POLICY_ACTION_MAX];
	ssize_t	 n;
	size_t	 used;
	int	 r;

	n = read(pc->fd, chunk, sizeof(chunk));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		*why = n == 0 ? "lost connection" : strerror(errno);
		return -1;
	}
	if (pc->req == NULL) {
		*why = "data from the server while idle";
		return -1;
	}
	if (buf_append(&pc->in, chunk, (size_t)n) == -1) {
		*why = "reply too long";
		return -1;
	}
	r = policy_reply_parse((const char *)pc->in.data, pc->in.len, action, sizeof(action),
	    &used, err, errlen);
	if (r == -1) {
		*why = err;
		return -1;
	}
	if (r == 1)
		smtpd_pconn_done(pc, action, used);
	return 0;
}

/* smtpd_pconn_write - connect done / room to write; -1 failed */
static int
smtpd_pconn_write(struct smtpd_pconn *pc, const char **why)
{
	int	 e = 0;
	socklen_t el = sizeof(e);
	ssize_t	 n;

	if (pc->connecting) {
		if (getsockopt(pc->fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
			e = errno;
		if (e != 0) {
			*why = strerror(e);
			return -1;
		}
		pc->connecting = 0;
	}
	n = write(pc->fd, pc->out.data + pc->sent, pc->out.len - pc->sent);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == -1) {
		*why = strerror(errno);
		return -1;
	}
	pc->sent += (size_t)n;
	if (pc->sent == pc->out.len)
		smtpd_pconn_watch(pc, EV_READ);
	return 0;
}

/* smtpd_pconn_io - the connection is readable or writable */
static void
smtpd_pconn_io(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd_pconn *pc = arg;
	struct smtpd_preq *q = pc->req;
	const char *why = "";
	char	 err[256];
	int	 r;

	(void)fd;
	if (what & EV_WRITE)
		r = smtpd_pconn_write(pc, &why);
	else
		r = smtpd_pconn_read(pc, &why, err, sizeof(err));
	if (r == 0)
		return;
	if (q == NULL) {
		smtpd_pconn_close(pc);	/* idle: the server went away */
		return;
	}
	smtpd_preq_failed(q, why);
}

/* smtpd_pconn_tick - a busy connection's deadline, an idle one's end */
static void
smtpd_pconn_tick(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd_pconn *pc = arg;

	(void)fd;
	(void)what;
	if (pc->req == NULL) {
		smtpd_pconn_close(pc);
		return;
	}
	smtpd_preq_failed(pc->req, "timeout");
}

/* smtpd_pconn_open - a new connection, connecting; NULL with why */
static struct smtpd_pconn *
smtpd_pconn_open(struct smtpd_psvc *svc, struct event_base *base,
    const char **why)
{
	struct smtpd_pconn *pc;
	int	 fd;

	if (svc->salen == 0) {
		*why = "the host name did not resolve at start";
		return NULL;
	}
	fd = socket(svc->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*why = strerror(errno);
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&svc->sa, svc->salen) == -1 &&
	    errno != EINPROGRESS) {
		*why = strerror(errno);
		close(fd);
		return NULL;
	}
	pc = xcalloc(1, sizeof(*pc));
	pc->svc = svc;
	pc->fd = fd;
	pc->connecting = 1;
	pc->born_ms = util_mono_ms();
	buf_init(&pc->out, 1024 * 1024);
	buf_init(&pc->in, POLICY_REPLY_MAX);
	pc->ev = event_new(base, fd, EV_WRITE | EV_PERSIST, smtpd_pconn_io,
	    pc);
	pc->timer = evtimer_new(base, smtpd_pconn_tick, pc);
	if (pc->ev == NULL || pc->timer == NULL)
		log_fatal("out of memory for a policy connection");
	event_add(pc->ev, NULL);
	return pc;
}

/* smtpd_pconn_take - an idle connection still in its time, or NULL */
static struct smtpd_pconn *
smtpd_pconn_take(struct smtpd_psvc *svc)
{
	struct smtpd_pconn *pc;

	while ((pc = svc->idle) != NULL) {
		svc->idle = pc->next;
		pc->next = NULL;
		if (util_mono_ms() - pc->born_ms < svc->ttl_ms)
			return pc;
		smtpd_pconn_close(pc);
	}
	return NULL;
}

/* smtpd_preq_attempt - one try: a connection, the request on it */
static void
smtpd_preq_attempt(struct smtpd_preq *q)
{
	struct smtpd_pconn *pc;
	const char *why = "";
	uint64_t now = util_mono_ms(), ms;

	if ((pc = smtpd_pconn_take(q->svc)) == NULL &&
	    (pc = smtpd_pconn_open(q->svc, q->s->sd->base, &why)) == NULL) {
		smtpd_preq_failed(q, why);
		return;
	}
	pc->req = q;
	q->conn = pc;
	buf_reset(&pc->out);
	buf_reset(&pc->in);
	(void)buf_append(&pc->out, q->text.data, q->text.len);
	pc->sent = 0;
	if (!pc->connecting)
		smtpd_pconn_watch(pc, EV_WRITE);
	ms = q->end_ms > now ? q->end_ms - now : 0;
	smtpd_pconn_arm(pc, ms < q->svc->timeout_ms ? ms : q->svc->timeout_ms);
}

/* smtpd_preq_retry - the retry delay is over */
static void
smtpd_preq_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	smtpd_preq_attempt(arg);
}

/* smtpd_policy_tls - encryption_cipher and _keysize from the TLS info */
static void
smtpd_policy_tls(struct buf *b, const struct smtpd_sess *s)
{
	const char *info = s->tls == 2 && s->tls_info != NULL ? s->tls_info :
	    "", *c, *e;
	char	 cipher[128] = "", bits[16] = "";

	if ((c = strstr(info, " with cipher ")) != NULL &&
	    (e = strstr(c + 13, " (")) != NULL &&
	    (size_t)(e - c - 13) < sizeof(cipher)) {
		memcpy(cipher, c + 13, (size_t)(e - c - 13));
		cipher[e - c - 13] = '\0';
		snprintf(bits, sizeof(bits), "%d", atoi(e + 2));
	}
	policy_attr(b, "encryption_protocol", s->tls == 2 && s->tls_proto !=
	    NULL ? s->tls_proto : "");
	policy_attr(b, "encryption_cipher", cipher);
	policy_attr(b, "encryption_keysize", bits);
}

/* smtpd_policy_attrf - one attribute with a formatted value */
static void
smtpd_policy_attrf(struct buf *b, const char *name, const char *fmt, ...)
{
	char	 v[128];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	policy_attr(b, name, v);
}

/*
 * smtpd_policy_request - the attributes Postfix sends, in its order.
 * Longer than 60 lines: one line per attribute reads as the protocol's
 * list; split up it would only scatter that list.
 */
static void
smtpd_policy_request(struct buf *b, struct smtpd_sess *s,
    struct smtpd_psvc *svc, const char *state, const char *rcpt)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char	 srv[64] = "";
	int	 srvport = 0;

	if (getsockname(bufferevent_getfd(s->bev), (struct sockaddr *)&ss,
	    &sl) == 0)
		smtpd_addr_text((struct sockaddr *)&ss, srv, sizeof(srv),
		    &srvport);
	buf_reset(b);
	policy_attr(b, "request", "smtpd_access_policy");
	policy_attr(b, "protocol_state", state);
	policy_attr(b, "protocol_name", s->esmtp ? "ESMTP" : "SMTP");
	policy_attr(b, "client_address", s->client_addr);
	policy_attr(b, "client_name", s->client_name);
	smtpd_policy_attrf(b, "client_port", "%d", s->client_port);
	policy_attr(b, "reverse_client_name", s->reverse_name);
	policy_attr(b, "server_address", srv);
	smtpd_policy_attrf(b, "server_port", "%d", srvport);
	policy_attr(b, "helo_name", s->helo);
	policy_attr(b, "sender", s->sender);
	policy_attr(b, "recipient", rcpt);
	smtpd_policy_attrf(b, "recipient_count", "%zu", s->nrcpt);
	policy_attr(b, "queue_id", "");
	smtpd_policy_attrf(b, "instance", "%lx.%llx.%x",
	    (unsigned long)getpid(), (unsigned long long)s->id, s->txn_seq);
	smtpd_policy_attrf(b, "size", "%llu",
	    (unsigned long long)s->declared_size);
	policy_attr(b, "etrn_domain", "");
	policy_attr(b, "stress", "");
	policy_attr(b, "sasl_method", s->sasl_user != NULL ? s->sasl_mech :
	    "");
	policy_attr(b, "sasl_username", s->sasl_user);
	policy_attr(b, "sasl_sender", "");
	policy_attr(b, "ccert_subject", "");
	policy_attr(b, "ccert_issuer", "");
	policy_attr(b, "ccert_fingerprint", "");
	policy_attr(b, "ccert_pubkey_fingerprint", "");
	smtpd_policy_tls(b, s);
	policy_attr(b, "policy_context", svc->context);
	policy_attr(b, "compatibility_level", cfg_str(s->sd->cfg,
	    "compatibility_level"));
	policy_attr(b, "mail_version", YOUJU_VERSION);
	(void)buf_putc(b, '\n');
}

/* smtpd_policy_find - the use of a list word */
static struct smtpd_psvc *
smtpd_policy_find(struct smtpd *sd, const char *word)
{
	struct smtpd_psvc *svc;

	for (svc = sd->policy; svc != NULL; svc = svc->next)
		if (svc->word == word)
			return svc;
	return NULL;
}

/* smtpd_policy_ask - see smtpd.h */
int
smtpd_policy_ask(struct smtpd_sess *s, const char *word, const char *state,
    const char *rcpt, const char **action)
{
	struct smtpd_psvc *svc;
	struct smtpd_preq *q;

	if ((svc = smtpd_policy_find(s->sd, word)) == NULL) {
		*action = NULL;		/* smtpd_policy_setup saw every word */
		return 0;
	}
	if ((q = s->policy) == NULL) {
		q = s->policy = xcalloc(1, sizeof(*q));
		q->s = s;
		q->answers = xcalloc(s->sd->npolicy, sizeof(*q->answers));
		buf_init(&q->text, 64 * 1024);
		if ((q->retry = evtimer_new(s->sd->base, smtpd_preq_retry,
		    q)) == NULL)
			log_fatal("out of memory for a policy question");
	}
	if ((*action = q->answers[svc->index]) != NULL)
		return 0;
	if (q->svc != NULL)
		return -1;		/* asked already, answer pending */
	q->svc = svc;
	q->tries = 0;
	q->end_ms = util_mono_ms() + smtpd_wait_limit(s->sd, UINT64_MAX / 2);
	smtpd_policy_request(&q->text, s, svc, state, rcpt);
	smtpd_preq_attempt(q);
	if ((*action = q->answers[svc->index]) != NULL)
		return 0;		/* failed at once: the default */
	return -1;
}

/* smtpd_policy_wait - see smtpd.h */
int
smtpd_policy_wait(struct smtpd_sess *s, int kind, const char *line)
{
	struct smtpd_preq *q = s->policy;

	if (q == NULL || q->svc == NULL || (kind == SMTPD_DW_RCPT &&
	    line == NULL))
		return 0;
	free(q->wait_line);
	q->wait_line = line != NULL ? xstrdup(line) : NULL;
	q->wait_kind = kind;
	s->phase = SMTPD_PH_WAIT;
	return 1;
}

/* smtpd_policy_clear - see smtpd.h */
void
smtpd_policy_clear(struct smtpd_sess *s)
{
	struct smtpd_preq *q = s->policy;
	size_t	 i;

	if (q == NULL)
		return;
	for (i = 0; i < s->sd->npolicy; i++) {
		free(q->answers[i]);
		q->answers[i] = NULL;
	}
}

/* smtpd_policy_forget - see smtpd.h */
void
smtpd_policy_forget(struct smtpd_sess *s)
{
	struct smtpd_preq *q = s->policy;

	if (q == NULL)
		return;
	if (q->conn != NULL)
		smtpd_pconn_close(q->conn);	/* its reply would be stray */
	smtpd_policy_clear(s);
	event_free(q->retry);
	buf_free(&q->text);
	free(q->answers);
	free(q->wait_line);
	free(q);
	s->policy = NULL;
}

/* smtpd_policy_addr - resolve the use's endpoint; -1 with why */
static int
smtpd_policy_addr(struct smtpd_psvc *svc, const char **why)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&svc->sa;
	struct addrinfo hints, *res;
	int	 e;

	if (svc->spec.type == POLICY_UNIX) {
		if (strlen(svc->spec.path) >= sizeof(sun->sun_path)) {
			*why = "socket path too long";
			return -1;
		}
		sun->sun_family = AF_UNIX;
		util_strlcpy(sun->sun_path, svc->spec.path,
		    sizeof(sun->sun_path));
		svc->salen = sizeof(*sun);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(svc->spec.host, svc->spec.port, &hints,
	    &res)) != 0) {
		*why = gai_strerror(e);
		return -1;
	}
	memcpy(&svc->sa, res->ai_addr, res->ai_addrlen);
	svc->salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* smtpd_policy_ms - a per-use time, or the parameter's, in ms */
static uint64_t
smtpd_policy_ms(const struct smtpd *sd, long long v, const char *param)
{
	return (uint64_t)(v != -1 ? v : cfg_time(sd->cfg, param)) * 1000;
}

/* smtpd_policy_use - one check_policy_service word into sd->policy */
static void
smtpd_policy_use(struct smtpd *sd, const char *word)
{
	struct smtpd_psvc *svc;
	struct access_action a;
	const char *why;
	char	 err[512];

	svc = xcalloc(1, sizeof(*svc));
	if (policy_spec_parse(word, &svc->spec, err, sizeof(err)) == -1)
		log_fatal("check_policy_service: %s", err);
	svc->word = word;
	svc->index = sd->npolicy++;
	svc->timeout_ms = smtpd_policy_ms(sd, svc->spec.timeout,
	    "smtpd_policy_service_timeout");
	svc->idle_ms = smtpd_policy_ms(sd, svc->spec.max_idle,
	    "smtpd_policy_service_max_idle");
	svc->ttl_ms = smtpd_policy_ms(sd, svc->spec.max_ttl,
	    "smtpd_policy_service_max_ttl");
	svc->delay_ms = smtpd_policy_ms(sd, svc->spec.retry_delay,
	    "smtpd_policy_service_retry_delay");
	svc->req_limit = svc->spec.request_limit != -1 ?
	    svc->spec.request_limit : cfg_int(sd->cfg,
	    "smtpd_policy_service_request_limit");
	svc->tries = svc->spec.try_limit != -1 ? svc->spec.try_limit :
	    cfg_int(sd->cfg, "smtpd_policy_service_try_limit");
	svc->def_action = xstrdup(svc->spec.default_action != NULL ?
	    svc->spec.default_action : cfg_str(sd->cfg,
	    "smtpd_policy_service_default_action"));
	if (access_parse(svc->def_action, NULL, &a, err, sizeof(err)) == -1)
		log_fatal("smtpd_policy_service_default_action: %s", err);
	access_free(&a);
	svc->context = xstrdup(svc->spec.policy_context != NULL ?
	    svc->spec.policy_context : cfg_str(sd->cfg,
	    "smtpd_policy_service_policy_context"));
	if (smtpd_policy_addr(svc, &why) == -1) {
		svc->salen = 0;
		log_warn("check_policy_service %s: %s; every question gets "
		    "the default action \"%s\"", svc->spec.endpoint, why,
		    log_str(svc->def_action));
	}
	svc->next = sd->policy;
	sd->policy = svc;
}

/* smtpd_policy_scan - the check_policy_service words of one list */
static void
smtpd_policy_scan(struct smtpd *sd, char **v, size_t n)
{
	const struct restr_def *r;
	size_t	 k;

	for (k = 0; k < n; k++) {
		if ((r = restr_find(v[k])) == NULL)
			continue;	/* a class, or smtpd_check_config says */
		if (r->id == RESTR_CHECK_POLICY_SERVICE && k + 1 < n)
			smtpd_policy_use(sd, v[k + 1]);
		k += (size_t)r->nargs;
	}
}

/* smtpd_policy_setup - see smtpd.h */
void
smtpd_policy_setup(struct smtpd *sd)
{
	size_t	 i;

	for (i = 0; i < RESTR_NLISTS; i++)
		smtpd_policy_scan(sd, sd->restr[i], sd->nrestr[i]);
	for (i = 0; i < sd->nclasses; i++)
		smtpd_policy_scan(sd, sd->classes[i].v, sd->classes[i].n);
}
