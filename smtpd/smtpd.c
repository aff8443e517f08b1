/*
 * smtpd.c - the SMTP server process: main(), listeners, sessions, I/O.
 *
 * Runs as mail_owner, chrooted to queue_directory (master.cf chroot y).
 * Each accepted connection becomes a session with a bufferevent; input is
 * handled one command line at a time (smtpd_proto.c), or as message
 * content in DATA (smtpd_data.c).  Every line must arrive within
 * smtpd_timeout (a bound on the whole line, not on each read).
 * On SIGTERM the listeners close, idle sessions get 421, sessions inside
 * a transaction may finish it; master kills what is left after
 * master_stop_timeout.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cfg.h"
#include "buf.h"
#include "log.h"
#include "metrics_client.h"
#include "restr.h"
#include "sasl.h"
#include "skel.h"
#include "util.h"
#include "smtpd.h"

static struct smtpd smtpd_state;

static void smtpd_process(struct smtpd_sess *);
static void smtpd_retire(struct skel *);

/*
 * smtpd_count_reply - metrics: a reply's class and reason, counted once
 * per reply (on its last line: "250 ", not "250-")
 */
static void
smtpd_count_reply(const char *line)
{
	static const char *classes[] = { "2xx", "3xx", "4xx", "5xx" };

	if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
	    (line[3] != ' ' && line[3] != '\0'))
		return;
	metrics_client_count(METRIC_REPLIES, classes[line[0] - '2'],
	    metrics_smtp_reason(line), 1);
}

/* smtpd_reply - queue one reply line (the CRLF is added here) */
void
smtpd_reply(struct smtpd_sess *s, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	char	 head[1024];
	va_list	 ap, cp;

	va_start(ap, fmt);
	if (metrics_client_active()) {
		va_copy(cp, ap);
		(void)vsnprintf(head, sizeof(head), fmt, cp);
		va_end(cp);
		smtpd_count_reply(head);
	}
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* smtpd_count_sessions - metrics: the sessions open now */
static void
smtpd_count_sessions(struct smtpd *sd)
{
	metrics_client_gauge(METRIC_SESSIONS_OPEN, sd->sk->service, NULL,
	    sd->nsess);
}

/*
 * smtpd_whatsup - log a policy event (what: "reject", "reject_warning",
 * "hold", "discard", "warn", "info") as Postfix does, because log readers
 * and fail2ban look for exactly this line:
 *	QID: WHAT: STAGE from NAME[ADDR]: TEXT; from=<S> to=<R>
 *	    proto=ESMTP helo=<H>
 * QID is NOQUEUE before a queue file exists; from= needs a sender (the
 * session's, or sender when not NULL), to= a recipient, helo= a HELO
 */
void
smtpd_whatsup(struct smtpd_sess *s, const char *what, const char *stage,
    const char *sender, const char *rcpt, const char *text)
{
	struct buf b;

	if (sender == NULL)
		sender = s->sender;
	buf_init(&b, 4096);
	(void)buf_printf(&b, "%s: %s: %s from %s[%s]: %s;",
	    s->qw_open ? s->qw.qid : "NOQUEUE", what, stage, s->client_name,
	    s->client_addr, log_str(text));
	if (sender != NULL)
		(void)buf_printf(&b, " from=<%s>", log_str(sender));
	if (rcpt != NULL)
		(void)buf_printf(&b, " to=<%s>", log_str(rcpt));
	(void)buf_printf(&b, " proto=%s", s->esmtp ? "ESMTP" : "SMTP");
	if (s->helo != NULL)
		(void)buf_printf(&b, " helo=<%s>", log_str(s->helo));
	log_info("%s", buf_cstr(&b));
	buf_free(&b);
}

/*
 * smtpd_reject - a refusal for a policy reason (size, relay, restrictions,
 * rate limits, lookups): reply, and log it (smtpd_whatsup "reject")
 */
void
smtpd_reject(struct smtpd_sess *s, const char *stage, const char *sender,
    const char *rcpt, const char *fmt, ...)
{
	char	 reply[1024];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(reply, sizeof(reply), fmt, ap);
	va_end(ap);
	smtpd_whatsup(s, "reject", stage, sender, rcpt, reply);
	smtpd_reply(s, "%s", reply);
}

/* smtpd_free - end a session now */
static void
smtpd_free(struct smtpd_sess *s)
{
	struct smtpd *sd = s->sd;

	if (!s->named)
		log_info("lost connection after CONNECT from %s[%s]",
		    s->client_name, s->client_addr);
	log_info("disconnect from %s[%s]", s->client_name, s->client_addr);
	smtpd_peer_forget(s);
	smtpd_data_abort(s);
	smtpd_auth_forget(s);
	smtpd_dns_forget(s);
	smtpd_anvil_forget(s);
	smtpd_policy_forget(s);
	smtpd_txn_reset(s);
	smtpd_check_forget(s);
	free(s->helo);
	smtpd_sasl_forget(s);
	free(s->tls_info);
	free(s->tls_proto);
	buf_free(&s->line);
	bufferevent_free(s->bev);
	event_free(s->timer);
	if (s->pause != NULL)
		event_free(s->pause);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sd->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	metrics_client_count(METRIC_SESSIONS, sd->sk->service, s->tls == 2 ?
	    "yes" : "no", 1);
	free(s);
	sd->nsess--;
	smtpd_count_sessions(sd);
	if (sd->sk->stopping && sd->nsess == 0)
		skel_break(sd->sk);
}

/* smtpd_write_cb - output drained: a closing session can go */
static void
smtpd_write_cb(struct bufferevent *bev, void *arg)
{
	struct smtpd_sess *s = arg;

	/*
	 * A write callback can be left over from earlier output (OpenSSL
	 * bufferevents run it late): act only when nothing is waiting.
	 */
	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (s->phase == SMTPD_PH_CLOSING)
		smtpd_free(s);
	else if (s->phase == SMTPD_PH_TLS_START)
		smtpd_tls_switch(s);
}

/*
 * smtpd_close - flush pending replies, then close.  Never frees the
 * session synchronously (callers may still look at it): the write callback
 * or the session timer does, and the timer also bounds how long a client
 * that does not read may keep the session.
 */
void
smtpd_close(struct smtpd_sess *s)
{
	struct timeval tv = { 0, 0 };

	s->phase = SMTPD_PH_CLOSING;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) != 0) {
		tv.tv_sec = 10;
		bufferevent_enable(s->bev, EV_WRITE);
	}
	evtimer_add(s->timer, &tv);
}

/* smtpd_reset_timer - a full line arrived: restart the line deadline */
void
smtpd_reset_timer(struct smtpd_sess *s)
{
	struct timeval tv = { s->sd->timeout, 0 };

	if (s->phase != SMTPD_PH_CLOSING)
		evtimer_add(s->timer, &tv);
}

/* smtpd_timeout_cb - the client took too long */
static void
smtpd_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct smtpd_sess *s = arg;

	if (s->phase == SMTPD_PH_CLOSING) {
		smtpd_free(s);
		return;
	}
	if (s->phase == SMTPD_PH_WAIT) {
		/* smtpd waits for auth, DNS or anvil, not the client: those
		 * waits have their own (shorter) bounds */
		smtpd_reset_timer(s);
		return;
	}
	log_info("timeout after %s from %s[%s]",
	    s->phase == SMTPD_PH_DATA ? "DATA" : "command", s->client_name,
	    s->client_addr);
	smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded",
	    s->sd->hostname);
	smtpd_close(s);
}

/* smtpd_cmd_input - take one command line off the input; 0 = need more */
static int
smtpd_cmd_input(struct smtpd_sess *s, struct evbuffer *in)
{
	struct evbuffer_ptr eol;
	char	 line[SASL_LINE_MAX + 3];
	size_t	 len, avail = evbuffer_get_length(in);

	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	if (eol.pos == -1) {
		if (avail <= SASL_LINE_MAX + 2)
			return 0;
		/* over-long line: answer once, discard up to its end */
		evbuffer_drain(in, avail);
		if (!s->skip_line) {
			smtpd_reply(s, "500 5.5.2 Error: line too long");
			s->skip_line = 1;
			s->errors++;
		}
		return 0;
	}
	len = (size_t)eol.pos;
	if (s->skip_line || len > SASL_LINE_MAX + 2) {
		evbuffer_drain(in, len + 1);
		if (!s->skip_line)
			smtpd_reply(s, "500 5.5.2 Error: line too long");
		s->skip_line = 0;
		return 1;
	}
	evbuffer_remove(in, line, len + 1);
	s->cmd_crlf = len > 0 && line[len - 1] == '\r';
	if (s->cmd_crlf)
		len--;
	line[len] = '\0';
	smtpd_reset_timer(s);
	smtpd_command(s, line, len);
	return 1;
}

/* smtpd_wake - the error sleep is over */
static void
smtpd_wake(evutil_socket_t fd, short ev, void *arg)
{
	struct smtpd_sess *s = arg;

	if (s->phase != SMTPD_PH_SLEEP)
		return;
	s->phase = SMTPD_PH_CMD;
	smtpd_process(s);
}

/*
 * smtpd_sleep - past smtpd_soft_error_limit errors, wait
 * smtpd_error_sleep_time before reading the next command (Postfix's tarpit).
 */
static void
smtpd_sleep(struct smtpd_sess *s)
{
	struct timeval tv = { s->sd->error_sleep, 0 };

	if (s->pause == NULL &&
	    (s->pause = evtimer_new(s->sd->base, smtpd_wake, s)) == NULL)
		return;
	s->phase = SMTPD_PH_SLEEP;
	evtimer_add(s->pause, &tv);
}

/* smtpd_idle_stop - a stopping server closes sessions between mails */
static int
smtpd_idle_stop(struct smtpd_sess *s)
{
	if (!s->sd->sk->stopping || s->sd->sk->retiring || s->in_mail ||
	    s->phase != SMTPD_PH_CMD)
		return 0;
	smtpd_reply(s, "421 4.3.2 %s Service shutting down",
	    s->sd->hostname);
	smtpd_close(s);
	return 1;
}

/* smtpd_process - handle as much buffered input as the phase allows */
static void
smtpd_process(struct smtpd_sess *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer_iovec v;
	size_t	 used;

	int	 errors;

	for (;;) {
		if (s->phase == SMTPD_PH_WAIT || s->phase == SMTPD_PH_CLOSING ||
		    s->phase == SMTPD_PH_SLEEP)
			return;
		if (s->phase == SMTPD_PH_DATA) {
			if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 ||
			    v.iov_len == 0)
				return;
			used = 0;
			smtpd_data_input(s, v.iov_base, v.iov_len, &used);
			evbuffer_drain(in, used);
			continue;
		}
		errors = s->errors;
		if (smtpd_idle_stop(s) || !smtpd_cmd_input(s, in))
			return;
		if (s->errors >= s->sd->hard_errors &&
		    s->phase == SMTPD_PH_CMD) {
			smtpd_reply(s, "421 4.7.0 %s Error: too many errors",
			    s->sd->hostname);
			smtpd_close(s);
			return;
		}
		if (s->errors > errors && s->errors >= s->sd->soft_errors &&
		    s->sd->error_sleep > 0 && s->phase == SMTPD_PH_CMD) {
			smtpd_sleep(s);
			return;
		}
	}
}

/*
 * smtpd_resume - an asynchronous step finished: go on with the input; the
 * client's time for its next line starts now, not when it sent the last
 */
void
smtpd_resume(struct smtpd_sess *s)
{
	if (s->phase == SMTPD_PH_CLOSING)
		return;
	smtpd_reset_timer(s);
	smtpd_process(s);
}

/*
 * smtpd_wait_limit - how long a session may wait for an internal service
 * (want ms at most): always below smtpd_timeout, so the client hears a
 * 4xx from us before its own patience, measured by our timeout, ends
 */
uint64_t
smtpd_wait_limit(const struct smtpd *sd, uint64_t want)
{
	uint64_t cap = sd->timeout > 2 ? (uint64_t)sd->timeout * 1000 - 1000 :
	    1000;

	return want < cap ? want : cap;
}

/* smtpd_read_cb - input arrived */
static void
smtpd_read_cb(struct bufferevent *bev, void *arg)
{
	smtpd_peer_input(arg);
	smtpd_process(arg);
}

/* smtpd_event_cb - EOF or error on the connection */
static void
smtpd_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct smtpd_sess *s = arg;

	if (what & BEV_EVENT_CONNECTED) {
		smtpd_tls_done(s);
		return;
	}
	if ((what & BEV_EVENT_ERROR) && s->tls != 0)
		smtpd_tls_error(s);
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (s->in_mail || s->phase == SMTPD_PH_DATA)
			log_info("lost connection after %s from %s[%s]",
			    s->phase == SMTPD_PH_DATA ? "DATA" : "MAIL",
			    s->client_name, s->client_addr);
		if (s->phase == SMTPD_PH_WAIT) {
			/* the pending lookup answer will find no session */
			s->phase = SMTPD_PH_CLOSING;
		}
		smtpd_free(s);
	}
}

/* smtpd_session_cb - callbacks and limits of the session's bufferevent */
void
smtpd_session_cb(struct smtpd_sess *s)
{
	bufferevent_setcb(s->bev, smtpd_read_cb, smtpd_write_cb,
	    smtpd_event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, 256 * 1024);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* smtpd_addr_text - printable socket address (v4-mapped shown as v4) */
void
smtpd_addr_text(const struct sockaddr *sa, char *out, size_t outlen,
    int *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	*port = 0;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)outlen);
		*port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], out,
			    (socklen_t)outlen);
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, out,
			    (socklen_t)outlen);
		*port = ntohs(sin6->sin6_port);
	} else
		util_strlcpy(out, "unknown", outlen);
}

/* smtpd_accept_cb - a new client */
static void
smtpd_accept_cb(struct smtpd *sd, int fd, struct sockaddr *sa)
{
	struct smtpd_sess *s;
	int	 one = 1;
	static const char busy[] = "421 4.3.2 Too many sessions, try again "
	    "later\r\n";

	if (sd->sk->stopping || (sd->tls_wrapper && sd->tls_ctx == NULL)) {
		close(fd);
		return;
	}
	if (sd->nsess >= sd->session_limit) {
		(void)!write(fd, busy, sizeof(busy) - 1);
		close(fd);
		smtpd_count_reply(busy);
		log_warn("session limit %zu reached, connection refused",
		    sd->session_limit);
		return;
	}
	/*
	 * Replies are already batched per read; Nagle's algorithm would only
	 * hold back the last TLS record of a reply until the client's delayed
	 * ACK (40 ms per round trip).
	 */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s = xcalloc(1, sizeof(*s));
	s->sd = sd;
	s->id = ++sd->next_id;
	smtpd_addr_text(sa, s->client_addr, sizeof(s->client_addr),
	    &s->client_port);
	if (sd->tls_wrapper) {
		s->bev = smtpd_tls_wrap(sd, fd);
		s->tls = 1;
	} else
		s->bev = bufferevent_socket_new(sd->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	s->timer = evtimer_new(sd->base, smtpd_timeout_cb, s);
	if (s->bev == NULL || s->timer == NULL)
		log_fatal("out of memory for a session");
	buf_init(&s->line, sd->line_limit + 2);
	s->mynetworks = smtpd_in_mynetworks(sd, s->client_addr);
	smtpd_session_cb(s);
	sd->nsess++;
	smtpd_count_sessions(sd);
	s->next = sd->sessions;
	if (sd->sessions != NULL)
		sd->sessions->prev = s;
	sd->sessions = s;
	/* the client's name, then logging, anvil and the banner */
	smtpd_peer_start(s);
}

/*
 * smtpd_listen_cb - clients wait on a listening socket.  Before any is
 * accepted: a table that changed and cannot be read again inside the
 * jail retires this process, and the client, still in the socket's
 * queue, is served by the next process with the new contents (Postfix's
 * pre-accept check; master starts that process once this one exits)
 */
static void
smtpd_listen_cb(evutil_socket_t lfd, short ev, void *arg)
{
	struct smtpd *sd = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int	 fd, n;

	if (sd->sk->stopping)
		return;
	if (smtpd_check_maps_changed(sd)) {
		sd->sk->stopping = sd->sk->retiring = 1;
		smtpd_retire(sd->sk);
		return;
	}
	for (n = 0; n < 64; n++) {
		len = sizeof(ss);
		if ((fd = accept4((int)lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		smtpd_accept_cb(sd, fd, (struct sockaddr *)&ss);
		if (sd->sk->stopping)
			return;
	}
}

/* smtpd_unlisten - stop listening (master keeps its own sockets) */
static void
smtpd_unlisten(struct smtpd *sd)
{
	int	 i;

	for (i = 0; i < sd->nlev; i++) {
		close((int)event_get_fd(sd->lev[i]));
		event_free(sd->lev[i]);
	}
	sd->nlev = 0;
}

/* smtpd_settings_has - does a list parameter have this word */
static int
smtpd_settings_has(struct cfg *cfg, const char *name, const char *word)
{
	char	**v;
	size_t	 n, i;
	int	 has = 0;

	v = cfg_list(cfg, name, &n);
	for (i = 0; i < n; i++)
		if (strcmp(v[i], word) == 0)
			has = 1;
	cfg_list_free(v, n);
	return has;
}

/* smtpd_settings - cache main.cf values */
static void
smtpd_settings(struct smtpd *sd)
{
	const char *v;
	char	 err[512];

	sd->hostname = xstrdup(cfg_str(sd->cfg, "myhostname"));
	sd->banner = xstrdup(cfg_str(sd->cfg, "smtpd_banner"));
	sd->mydest = cfg_list(sd->cfg, "mydestination", &sd->nmydest);
	sd->myorigin = xstrdup(cfg_str(sd->cfg, "myorigin"));
	util_lowercase(sd->myorigin);
	sd->append_myorigin = cfg_bool(sd->cfg, "append_at_myorigin");
	sd->dup_limit = (size_t)cfg_int(sd->cfg, "duplicate_filter_limit");
	sd->dkim_on = cfg_bool(sd->cfg, "dkim_signing");
	for (size_t k = 0; k < sd->nmydest; k++)
		util_lowercase(sd->mydest[k]);
	if (net_parse_list(cfg_str(sd->cfg, "mynetworks"), &sd->mynet,
	    &sd->nmynet, err, sizeof(err)) == -1)
		log_fatal("mynetworks: %s", err);
	sd->size_limit = (uint64_t)cfg_int(sd->cfg, "message_size_limit");
	sd->rcpt_limit = (size_t)cfg_int(sd->cfg, "smtpd_recipient_limit");
	sd->line_limit = (size_t)cfg_int(sd->cfg, "smtpd_line_length_limit");
	sd->timeout = (int)cfg_time(sd->cfg, "smtpd_timeout");
	sd->helo_required = cfg_bool(sd->cfg, "smtpd_helo_required");
	sd->delay_reject = cfg_bool(sd->cfg, "smtpd_delay_reject");
	sd->greet_wait = (int)cfg_time(sd->cfg, "smtpd_greet_wait");
	v = cfg_str(sd->cfg, "smtpd_greet_action");
	sd->greet_action = strcmp(v, "ignore") == 0 ? SMTPD_GREET_IGNORE :
	    strcmp(v, "drop") == 0 ? SMTPD_GREET_DROP : SMTPD_GREET_ENFORCE;
	v = cfg_str(sd->cfg, "smtpd_forbid_bare_newline");
	/* "yes" is Postfix's old name for normalize; "no" is treated alike */
	sd->bare_lf = strcmp(v, "reject") == 0 ? SMTPD_BARELF_REJECT :
	    SMTPD_BARELF_NORMALIZE;
	if (cfg_bool(sd->cfg, "disable_vrfy_command"))
		sd->vrfy = 0;
	else
		sd->vrfy = cfg_bool(sd->cfg, "smtpd_vrfy_enable") ? 2 : 1;
	sd->hard_errors = (int)cfg_int(sd->cfg, "smtpd_hard_error_limit");
	sd->soft_errors = (int)cfg_int(sd->cfg, "smtpd_soft_error_limit");
	sd->error_sleep = (int)cfg_time(sd->cfg, "smtpd_error_sleep_time");
	sd->junk_limit = (int)cfg_int(sd->cfg, "smtpd_junk_command_limit");
	sd->session_limit = (size_t)cfg_int(sd->cfg, "smtpd_session_limit");
	sd->hash_depth = (int)cfg_int(sd->cfg, "hash_queue_depth");
	sd->sasl_enable = cfg_bool(sd->cfg, "smtpd_sasl_auth_enable");
	sd->sasl_tls_only = cfg_bool(sd->cfg, "smtpd_tls_auth_only");
	sd->reject_code = (int)cfg_int(sd->cfg, "reject_code");
	sd->defer_code = (int)cfg_int(sd->cfg, "defer_code");
	sd->access_reject_code = (int)cfg_int(sd->cfg,
	    "access_map_reject_code");
	sd->access_defer_code = (int)cfg_int(sd->cfg, "access_map_defer_code");
	sd->plaintext_code = (int)cfg_int(sd->cfg, "plaintext_reject_code");
	sd->mul_rcpt_code = (int)cfg_int(sd->cfg,
	    "multi_recipient_bounce_reject_code");
	sd->local_rcpt_code = (int)cfg_int(sd->cfg,
	    "unknown_local_recipient_reject_code");
	sd->null_key = xstrdup(cfg_str(sd->cfg, "smtpd_null_access_lookup_key"));
	sd->delims = xstrdup(cfg_str(sd->cfg, "recipient_delimiter"));
	sd->parent_access = smtpd_settings_has(sd->cfg,
	    "parent_domain_matches_subdomains", "smtpd_access_maps");
	sd->sender_owners = smtpd_check_uses(sd, "sender_login_mismatch");
}

/* smtpd_pre_jail - TLS certificate and key are read before the jail */
static void
smtpd_pre_jail(struct skel *sk)
{
	struct smtpd *sd = &smtpd_state;
	char	 err[1024];

	sd->sk = sk;
	sd->cfg = sk->cfg;
	/* the lists, classes and tables: the tables are outside the jail */
	if (smtpd_check_open(sd, err, sizeof(err)) == -1)
		log_fatal("service %s: %s", sk->service, err);
	/* the resolver reads /etc/resolv.conf: before the jail */
	smtpd_dns_setup(sd);
	smtpd_policy_setup(sd);	/* resolves inet: policy servers */
	if (smtpd_tls_setup(sd, err, sizeof(err)) == -1)
		log_err("service %s: %s: %s", sk->service, err,
		    sd->tls_wrapper ? "connections are closed" :
		    sd->tls_required ? "MAIL is refused with 530" :
		    "STARTTLS is not offered");
}

/* smtpd_post_jail - listeners and broker connections */
static void
smtpd_post_jail(struct skel *sk)
{
	struct smtpd *sd = &smtpd_state;
	int	 i;

	sd->sk = sk;
	sd->cfg = sk->cfg;
	sd->base = sk->base;
	smtpd_settings(sd);
	if (sk->nlisten == 0)
		log_fatal("no listening socket from master");
	for (i = 0; i < sk->nlisten && i < 16; i++) {
		util_set_nonblock(sk->listen_fd[i], 1);
		sd->lev[i] = event_new(sd->base, sk->listen_fd[i], EV_READ |
		    EV_PERSIST, smtpd_listen_cb, sd);
		if (sd->lev[i] == NULL || event_add(sd->lev[i], NULL) == -1)
			log_fatal("cannot listen on descriptor %d",
			    sk->listen_fd[i]);
		sd->nlev++;
	}
	smtpd_qmgr_init(sd);
	smtpd_auth_init(sd);
	smtpd_dns_start(sd);
	smtpd_anvil_setup(sd);
	metrics_client_start(sd->base, sd->cfg, "private/anvil", IPC_R_SMTPD,
	    NULL);
	smtpd_count_sessions(sd);
}

/* smtpd_stop - SIGTERM: no new sessions, idle ones get 421 */
static void
smtpd_stop(struct skel *sk)
{
	struct smtpd *sd = &smtpd_state;
	struct smtpd_sess *s, *next;

	smtpd_unlisten(sd);
	if (sd->nsess == 0) {
		skel_break(sk);
		return;
	}
	/* sessions inside a transaction finish it first */
	for (s = sd->sessions; s != NULL; s = next) {
		next = s->next;
		smtpd_idle_stop(s);
	}
}

/* smtpd_retire - SIGHUP (reload): no new sessions; open ones go on */
static void
smtpd_retire(struct skel *sk)
{
	struct smtpd *sd = &smtpd_state;

	smtpd_unlisten(sd);
	if (sd->nsess == 0)
		skel_break(sk);
}

static const struct skel_ops smtpd_ops = {
	.name = "smtpd",
	.pre_jail = smtpd_pre_jail,
	.post_jail = smtpd_post_jail,
	.stop = smtpd_stop,
	.retire = smtpd_retire,
};

/* main - run the smtpd process */
int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &smtpd_ops);
}
