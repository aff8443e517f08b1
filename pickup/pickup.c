/*
 * pickup.c - local submission: the process, its connections and the
 * per-user limits.
 *
 * master.cf "pickup unix n - y - 1 pickup": one process as mail_owner,
 * chrooted to queue_directory, listening on public/pickup (mode 0666 in
 * a root directory of mode 0711: any local user may connect, and nobody
 * but root can put another socket there).  Who submits is the socket's
 * peer (SO_PEERCRED at accept), whatever the frames say; the name of the
 * user comes from the passwd database as pickup read it at start, so a
 * user added later is known after "mailctl reload".
 *
 * The message comes in IPC frames (PICKUP_DATA, at most 64 KiB each) that
 * pickup writes into the queue file as they come, never more than
 * message_size_limit: pickup reads no descriptor a user hands it (a pipe
 * that never ends, a file on a FUSE mount that blocks every read, a file
 * the user goes on changing), only bounded frames from a socket it polls.
 * sendmail spools its input first, so a slow producer never holds a
 * pickup connection open.
 *
 * Limits, each answered with a refusal and the connection closed:
 * PICKUP_SESSIONS connections in all, PICKUP_UID_SESSIONS of one user
 * (root: no limit), pickup_uid_message_rate_limit messages per user per
 * anvil_rate_time_unit (root: no limit), PICKUP_IDLE_MS between two
 * frames, message_size_limit, header_size_limit, smtpd_line_length_limit.
 * A frame the IPC table refuses drops that connection only.
 *
 * The frames each state takes are a table (pickup_cmds); the envelope and
 * the content are pickup_msg.c's.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "ipc.h"
#include "ipc_client.h"
#include "log.h"
#include "skel.h"
#include "util.h"
#include "pickup.h"

struct pickup pk;

/* a frame's handler: 0 go on, -1 close (the refusal is sent) */
struct pickup_cmd {
	uint32_t	 type;
	enum pickup_state state;	/* the state it is valid in */
	int		(*fn)(struct pickup_sess *, const struct ipc_msg *);
};

static int pickup_mail(struct pickup_sess *, const struct ipc_msg *);
static int pickup_rcpt(struct pickup_sess *, const struct ipc_msg *);
static int pickup_begin(struct pickup_sess *, const struct ipc_msg *);
static int pickup_data(struct pickup_sess *, const struct ipc_msg *);
static int pickup_end(struct pickup_sess *, const struct ipc_msg *);

static const struct pickup_cmd pickup_cmds[] = {
	{ IPC_PICKUP_MAIL, PICKUP_S_MAIL, pickup_mail },
	{ IPC_PICKUP_RCPT, PICKUP_S_RCPT, pickup_rcpt },
	{ IPC_PICKUP_BEGIN, PICKUP_S_RCPT, pickup_begin },
	{ IPC_PICKUP_DATA, PICKUP_S_DATA, pickup_data },
	{ IPC_PICKUP_END, PICKUP_S_DATA, pickup_end },
};

/* pickup_reply - send PICKUP_REPLY: code, "X.Y.Z text", sender (or "") */
int
pickup_reply(struct pickup_sess *s, unsigned code, const char *sender,
    const char *fmt, ...)
{
	struct ipc_out o;
	char	 text[1024];
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ipc_out_init(&o);
	ipc_put_u32(&o, code);
	ipc_put_str(&o, text);
	ipc_put_str(&o, sender != NULL ? sender : "");
	r = ipc_send_out(s->fd, IPC_PICKUP_REPLY, &o, -1);
	ipc_out_free(&o);
	if (code >= 400)
		s->state = PICKUP_S_DONE;
	return r;
}

/* pickup_login_cmp - order of the login table */
static int
pickup_login_cmp(const void *a, const void *b)
{
	const struct pickup_login *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* pickup_login - the first name of a uid in the passwd database, or NULL */
const char *
pickup_login(uid_t uid)
{
	size_t	 lo = 0, hi = pk.nlogins, mid;

	/* the first entry of the uid: its first name in the database */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pk.logins[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pk.nlogins && pk.logins[lo].uid == uid ?
	    pk.logins[lo].name : NULL;
}

/*
 * pickup_logins - read the passwd database before the jail (no
 * /etc/passwd in the chroot): uid -> login, in the order of the database
 * for one uid (its first name is the sender's)
 */
static void
pickup_logins(void)
{
	struct passwd *pw;
	size_t	 cap = 0;

	setpwent();
	while ((pw = getpwent()) != NULL && pk.nlogins < 1000000) {
		if (pw->pw_name == NULL || *pw->pw_name == '\0' ||
		    strlen(pw->pw_name) > ADDR_LOCAL_MAX)
			continue;
		if (pk.nlogins == cap) {
			cap = cap ? cap * 2 : 256;
			pk.logins = xreallocarray(pk.logins, cap,
			    sizeof(*pk.logins));
		}
		pk.logins[pk.nlogins].uid = pw->pw_uid;
		pk.logins[pk.nlogins].order = pk.nlogins;
		pk.logins[pk.nlogins++].name = xstrdup(pw->pw_name);
	}
	endpwent();
	if (pk.nlogins > 0)
		qsort(pk.logins, pk.nlogins, sizeof(*pk.logins),
		    pickup_login_cmp);
}

/* pickup_user_get - the record of a uid, made when missing */
static struct pickup_user *
pickup_user_get(uid_t uid)
{
	struct pickup_user *u;

	for (u = pk.users; u != NULL; u = u->next)
		if (u->uid == uid)
			return u;
	u = xcalloc(1, sizeof(*u));
	u->uid = uid;
	u->next = pk.users;
	pk.users = u;
	return u;
}

/*
 * pickup_user_message - one more message of this user: 0, or -1 when it
 * is over pickup_uid_message_rate_limit in the current window
 */
static int
pickup_user_message(struct pickup_user *u)
{
	time_t	 now = time(NULL);

	if (u->uid == 0 || pk.rate == 0)
		return 0;
	if (now - u->window >= pk.rate_unit) {
		u->window = now;
		u->msgs = 0;
	}
	if (u->msgs >= pk.rate)
		return -1;
	u->msgs++;
	return 0;
}

/* pickup_users_sweep - forget users with nothing open and an old window */
static void
pickup_users_sweep(void)
{
	struct pickup_user **pp, *u;
	time_t	 now = time(NULL);

	for (pp = &pk.users; (u = *pp) != NULL;) {
		if (u->conns == 0 && now - u->window >= pk.rate_unit) {
			*pp = u->next;
			free(u);
		} else
			pp = &u->next;
	}
}

/* pickup_close - end a connection; a message not committed is dropped */
static void
pickup_close(struct pickup_sess *s)
{
	pickup_msg_free(s);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		pk.sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	pk.nsess--;
	if (s->user != NULL && s->user->conns > 0)
		s->user->conns--;
	event_free(s->ev);
	event_free(s->timer);
	close(s->fd);
	free(s);
	if (pk.stopping && pk.nsess == 0)
		event_base_loopbreak(pk.base);
}

/* pickup_timer_set - the idle deadline from now */
static void
pickup_timer_set(struct pickup_sess *s)
{
	struct timeval tv = { PICKUP_IDLE_MS / 1000,
	    (PICKUP_IDLE_MS % 1000) * 1000 };

	evtimer_add(s->timer, &tv);
}

/*
 * pickup_drain - after the answer: read and drop what sendmail still
 * sends, close at its EOF
 */
static void
pickup_drain(struct pickup_sess *s)
{
	char	 b[4096];
	ssize_t	 n;

	while ((n = recv(s->fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		pickup_close(s);
}

/*
 * pickup_linger - the connection is answered (a refusal may come while
 * sendmail is still sending): no more writes, and the frames still on
 * the way are read before the close.  Closing with unread frames would
 * make Linux reset the connection, and sendmail would lose the answer
 * that waits in its receive queue.
 */
static void
pickup_linger(struct pickup_sess *s)
{
	struct timeval tv = { PICKUP_LINGER_MS / 1000,
	    (PICKUP_LINGER_MS % 1000) * 1000 };

	pickup_msg_free(s);
	shutdown(s->fd, SHUT_WR);
	s->linger = 1;
	evtimer_add(s->timer, &tv);
	pickup_drain(s);
}

/* pickup_timeout - no frame in PICKUP_IDLE_MS */
static void
pickup_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pickup_sess *s = arg;

	if (s->linger) {
		pickup_close(s);
		return;
	}

	log_warn("%s%suid=%ld: timeout after %d s without a frame",
	    s->qid[0] ? s->qid : "", s->qid[0] ? ": " : "", (long)s->uid,
	    PICKUP_IDLE_MS / 1000);
	pickup_reply(s, 421, NULL, "4.4.2 timeout: nothing came for %d s",
	    PICKUP_IDLE_MS / 1000);
	pickup_close(s);
}

/* pickup_mail - PICKUP_MAIL: flags, the sender asked for, the full name */
static int
pickup_mail(struct pickup_sess *s, const struct ipc_msg *m)
{
	struct ipc_in in;

	ipc_in_init(&in, m);
	s->flags = ipc_get_u32(&in);
	s->want = ipc_get_str(&in, QFILE_ADDR_MAX);
	s->fullname = ipc_get_str(&in, IPC_PICKUP_NAME_MAX);
	if (ipc_get_end(&in) == -1 || (s->flags & ~(unsigned)IPC_PF_ALL)) {
		pickup_reply(s, 501, NULL, "5.5.4 malformed envelope");
		return -1;
	}
	if (!(s->flags & IPC_PF_SENDER)) {
		free(s->want);
		s->want = NULL;
	}
	s->state = PICKUP_S_RCPT;
	return 0;
}

/* pickup_rcpt - PICKUP_RCPT: u32 n, n recipients */
static int
pickup_rcpt(struct pickup_sess *s, const struct ipc_msg *m)
{
	struct ipc_in in;
	uint32_t n, i;
	char	*a;
	int	 r = 0;

	ipc_in_init(&in, m);
	n = ipc_get_u32(&in);
	if (n == 0 || n > PICKUP_RCPT_MAX) {
		pickup_reply(s, 501, NULL, "5.5.4 malformed recipient list");
		return -1;
	}
	for (i = 0; i < n && r == 0; i++) {
		if ((a = ipc_get_str(&in, QFILE_ADDR_MAX)) == NULL)
			break;
		r = pickup_rcpt_add(s, a);
		free(a);
	}
	if (r == 0 && ipc_get_end(&in) == -1) {
		pickup_reply(s, 501, NULL, "5.5.4 malformed recipient list");
		return -1;
	}
	return r;
}

/* pickup_begin - PICKUP_BEGIN: the envelope is complete */
static int
pickup_begin(struct pickup_sess *s, const struct ipc_msg *m)
{
	if (s->nrcpt == 0 && !(s->flags & IPC_PF_EXTRACT)) {
		pickup_reply(s, 554, NULL, "5.5.1 no recipients");
		return -1;
	}
	if (pickup_sender(s) == -1)
		return -1;
	if (pickup_user_message(s->user) == -1) {
		log_warn("uid=%ld: message refused: more than "
		    "pickup_uid_message_rate_limit (%u per %lld s)",
		    (long)s->uid, pk.rate, (long long)pk.rate_unit);
		pickup_reply(s, 450, NULL, "4.7.1 too many messages from "
		    "user id %ld; try again later", (long)s->uid);
		return -1;
	}
	qid_new(s->qid);
	header_init(&s->hdr, (s->flags & IPC_PF_EXTRACT) ?
	    HEADER_F_EXTRACT : 0, pk.header_limit);
	s->in_hdr = 1;
	buf_init(&s->line, pk.line_limit + 1);
	s->state = PICKUP_S_DATA;
	return pickup_reply(s, 354, s->sender, "2.0.0 send the content");
}

/* pickup_data - PICKUP_DATA: content bytes */
static int
pickup_data(struct pickup_sess *s, const struct ipc_msg *m)
{
	return pickup_content(s, m->payload, m->len);
}

/* pickup_end - PICKUP_END: sign, commit, answer */
static int
pickup_end(struct pickup_sess *s, const struct ipc_msg *m)
{
	pickup_finish(s);
	return -1;	/* answered either way: the connection is done */
}

/* pickup_frame - one frame through the table */
static int
pickup_frame(struct pickup_sess *s, const struct ipc_msg *m)
{
	size_t	 i;

	for (i = 0; i < NELEM(pickup_cmds); i++) {
		if (pickup_cmds[i].type != m->type)
			continue;
		if (pickup_cmds[i].state != s->state)
			break;
		return pickup_cmds[i].fn(s, m);
	}
	log_warn("%s%suid=%ld: frame type %u out of order",
	    s->qid[0] ? s->qid : "", s->qid[0] ? ": " : "", (long)s->uid,
	    m->type);
	pickup_reply(s, 503, NULL, "5.5.1 protocol error: frame out of order");
	return -1;
}

/* pickup_read - frames from one sendmail, a few at a time */
static void
pickup_read(evutil_socket_t fd, short what, void *arg)
{
	struct pickup_sess *s = arg;
	struct ipc_msg m;
	int	 i, r;

	if (s->linger) {
		pickup_drain(s);
		return;
	}
	for (i = 0; i < PICKUP_FRAMES_PER_RUN; i++) {
		r = ipc_next(s->fd, &s->role, IPC_R_SENDMAIL, IPC_R_PICKUP,
		    &m);
		if (r == 0)
			break;
		if (r == -1) {
			if (s->state != PICKUP_S_MAIL)
				log_warn("%s%suid=%ld: connection lost; "
				    "nothing was queued", s->qid[0] ? s->qid :
				    "", s->qid[0] ? ": " : "", (long)s->uid);
			pickup_close(s);
			return;
		}
		pickup_timer_set(s);
		r = pickup_frame(s, &m);
		ipc_msg_free(&m);
		if (r == -1) {
			pickup_linger(s);
			return;
		}
	}
}

/* pickup_admit - may this user open one more connection */
static int
pickup_admit(uid_t uid, struct pickup_user **up)
{
	struct pickup_user *u;

	if (pk.nsess >= PICKUP_SESSIONS) {
		log_warn("uid=%ld: connection refused: %d connections open",
		    (long)uid, PICKUP_SESSIONS);
		return -1;
	}
	u = pickup_user_get(uid);
	if (uid != 0 && u->conns >= PICKUP_UID_SESSIONS) {
		log_warn("uid=%ld: connection refused: %d connections of this "
		    "user open", (long)uid, PICKUP_UID_SESSIONS);
		return -1;
	}
	u->conns++;
	*up = u;
	return 0;
}

/* pickup_accept - new connections: anyone may connect, SO_PEERCRED says who */
static void
pickup_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct pickup_sess *s;
	struct pickup_user *u;
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;
	int	 fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		if (ipc_peer_cred(fd, &uid, &gid, &pid) == -1 ||
		    pickup_admit(uid, &u) == -1) {
			close(fd);
			continue;
		}
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		s->uid = uid;
		s->pid = pid;
		s->user = u;
		s->ev = event_new(pk.base, fd, EV_READ | EV_PERSIST,
		    pickup_read, s);
		s->timer = evtimer_new(pk.base, pickup_timeout, s);
		if (s->ev == NULL || s->timer == NULL)
			log_fatal("event_new failed");
		event_add(s->ev, NULL);
		pickup_timer_set(s);
		s->next = pk.sessions;
		if (pk.sessions != NULL)
			pk.sessions->prev = s;
		pk.sessions = s;
		pk.nsess++;
	}
	pickup_users_sweep();
}

/* pickup_pre_jail - settings, and the passwd database */
static void
pickup_pre_jail(struct skel *sk)
{
	struct cfg *c = sk->cfg;

	pk.cfg = c;
	pk.owner_uid = sk->owner_uid;
	pk.hostname = cfg_str(c, "myhostname");
	pk.myorigin = cfg_str(c, "myorigin");
	pk.mail_name = cfg_str(c, "mail_name");
	pk.append_myorigin = cfg_bool(c, "append_at_myorigin");
	pk.size_limit = (uint64_t)cfg_int(c, "message_size_limit");
	pk.header_limit = (size_t)cfg_int(c, "header_size_limit");
	pk.line_limit = (size_t)cfg_int(c, "smtpd_line_length_limit");
	pk.rate = (unsigned)cfg_int(c, "pickup_uid_message_rate_limit");
	pk.rate_unit = (time_t)cfg_time(c, "anvil_rate_time_unit");
	if (pk.rate_unit < 1)
		pk.rate_unit = 1;
	pk.hash_depth = (int)cfg_int(c, "hash_queue_depth");
	pk.dup_limit = (size_t)cfg_int(c, "duplicate_filter_limit");
	pk.dkim_on = cfg_bool(c, "dkim_signing");
	dkim_client_init(&pk.dkim, IPC_R_PICKUP, PICKUP_DKIM_PAUSE,
	    "local mail is refused");
	tzset();	/* Date: in local time; no zoneinfo in the jail */
	pickup_logins();
}

/* pickup_post_jail - serve */
static void
pickup_post_jail(struct skel *sk)
{
	pk.base = sk->base;
	if (sk->nlisten != 1)
		log_fatal("expected one listening socket from master");
	pk.listen_fd = sk->listen_fd[0];
	util_set_nonblock(pk.listen_fd, 1);
	pk.listen_ev = event_new(pk.base, pk.listen_fd, EV_READ | EV_PERSIST,
	    pickup_accept, NULL);
	if (pk.listen_ev == NULL || event_add(pk.listen_ev, NULL) == -1)
		log_fatal("cannot watch the pickup socket");
	pk.qmgr = ipc_client_new(pk.base, "private/qmgr", IPC_R_PICKUP,
	    IPC_R_QMGR, "qmgr");
	log_info("started: %zu login names known", pk.nlogins);
}

/*
 * pickup_stop - take no new connection (master keeps the socket for the
 * next pickup); leave once the open ones are answered
 */
static void
pickup_stop(struct skel *sk)
{
	pk.stopping = 1;
	if (pk.listen_ev != NULL) {
		event_del(pk.listen_ev);
		close(pk.listen_fd);
	}
	if (pk.nsess == 0)
		skel_break(sk);
}

static const struct skel_ops pickup_ops = {
	.name = "pickup",
	.pre_jail = pickup_pre_jail,
	.post_jail = pickup_post_jail,
	.stop = pickup_stop,
};

/* main - run local submission */
int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &pickup_ops);
}
