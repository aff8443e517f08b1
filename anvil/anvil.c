/*
 * anvil.c - per-client connection and message counters (Postfix's anvil).
 *
 * One process for the host (master.cf "anvil unix - - y - 1 anvil"), as
 * mail_owner chrooted to the empty directory queue_directory/empty: it
 * only counts, smtpd decides.  Keys are "service/client address"; for each
 * it keeps the connections open now, and connections and messages in the
 * current window of anvil_rate_time_unit (a fixed window that starts with
 * the first event after the last one ended).
 *
 *	IPC_ANVIL_CONNECT	u32 id | str service | str client
 *		-> IPC_ANVIL_REPLY u32 id | u32 open connections (this one
 *		   included) | u32 connections in the window
 *	IPC_ANVIL_DISCONNECT	str service | str client (no answer)
 *	IPC_ANVIL_MESSAGE	u32 id | str service | str client
 *		-> IPC_ANVIL_REPLY u32 id | u32 messages in the window | u32 0
 *
 * The open connections are also counted per smtpd connection to anvil, so
 * when an smtpd process goes away (even killed) its clients are released.
 * Keys without open connections whose window has ended are dropped by a
 * sweep every anvil_rate_time_unit; at most ANVIL_MAX_KEYS keys are kept
 * (past that, a new client is answered as if it were the first: anvil
 * fails open, like smtpd when anvil is away).
 *
 * anvil also adds up what smtpd, qmgr and master report for metrics_listen
 * (IPC_METRICS on connections of their own) and, when master passed it a
 * second listening socket (metrics_listen set), serves them over HTTP:
 * anvil_metrics.c.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "metrics.h"
#include "skel.h"
#include "util.h"
#include "anvil.h"

#define ANVIL_HASH	4096
#define ANVIL_MAX_KEYS	100000
#define ANVIL_KEY_MAX	(64 + 1 + 64)	/* service / address */

struct anvil_key {
	char		 key[ANVIL_KEY_MAX + 1];
	uint32_t	 open;		/* connections now */
	uint32_t	 conns;		/* connections in the window */
	uint32_t	 msgs;		/* messages in the window */
	time_t		 window;	/* when the window started */
	struct anvil_key *next;
};

/* one client connection an smtpd holds: to release when it goes away */
struct anvil_hold {
	struct anvil_key *k;
	uint32_t	 n;
};

struct anvil_conn {
	int		 fd;
	unsigned	 role;
	struct event	*ev;
	struct anvil_hold *hold;
	size_t		 nhold, caphold;
	struct metrics	 level;		/* its LEVEL metrics (anvil_metrics.c) */
	struct anvil_conn *next;
};

static struct {
	struct event_base *base;
	uid_t		 peer_uid;
	time_t		 unit;
	struct anvil_key *hash[ANVIL_HASH];
	size_t		 nkeys;
	struct anvil_conn *conns;
} anvil;

/* anvil_hash - bucket of a key */
static unsigned
anvil_hash(const char *k)
{
	return util_hash(k) % ANVIL_HASH;
}

/* anvil_get - the record of "service/client", made when missing */
static struct anvil_key *
anvil_get(const char *service, const char *client)
{
	struct anvil_key *k;
	char	 key[ANVIL_KEY_MAX + 1];
	unsigned h;

	if (util_fmt(key, sizeof(key), "%s/%s", service, client) == -1)
		return NULL;
	h = anvil_hash(key);
	for (k = anvil.hash[h]; k != NULL; k = k->next)
		if (strcmp(k->key, key) == 0)
			return k;
	if (anvil.nkeys >= ANVIL_MAX_KEYS)
		return NULL;
	k = xcalloc(1, sizeof(*k));
	util_strlcpy(k->key, key, sizeof(k->key));
	k->next = anvil.hash[h];
	anvil.hash[h] = k;
	anvil.nkeys++;
	return k;
}

/* anvil_window - start a new window when the last one has ended */
static void
anvil_window(struct anvil_key *k, time_t now)
{
	if (now - k->window >= anvil.unit) {
		k->window = now;
		k->conns = 0;
		k->msgs = 0;
	}
}

/* anvil_hold - note that connection c holds one more of key k */
static void
anvil_hold(struct anvil_conn *c, struct anvil_key *k, int delta)
{
	size_t	 i;

	for (i = 0; i < c->nhold; i++)
		if (c->hold[i].k == k)
			break;
	if (i == c->nhold) {
		if (delta < 0)
			return;		/* not ours: ignore */
		if (c->nhold == c->caphold) {
			c->caphold = c->caphold ? c->caphold * 2 : 16;
			c->hold = xreallocarray(c->hold, c->caphold,
			    sizeof(*c->hold));
		}
		c->hold[c->nhold].k = k;
		c->hold[c->nhold++].n = 0;
	}
	if (delta > 0) {
		c->hold[i].n++;
		k->open++;
	} else if (c->hold[i].n > 0) {
		c->hold[i].n--;
		if (k->open > 0)
			k->open--;
		if (c->hold[i].n == 0)
			c->hold[i] = c->hold[--c->nhold];
	}
}

/* anvil_reply - IPC_ANVIL_REPLY */
static int
anvil_reply(struct anvil_conn *c, uint32_t id, uint32_t a, uint32_t b)
{
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	ipc_put_u32(&o, id);
	ipc_put_u32(&o, a);
	ipc_put_u32(&o, b);
	r = ipc_send_out(c->fd, IPC_ANVIL_REPLY, &o, -1);
	ipc_out_free(&o);
	return r;
}

/* anvil_request - one frame from smtpd; -1 drops the connection */
static int
anvil_request(struct anvil_conn *c, const struct ipc_msg *m)
{
	struct ipc_in in;
	struct anvil_key *k;
	char	*service, *client;
	uint32_t id = 0;
	time_t	 now = time(NULL);
	int	 r = 0;

	ipc_in_init(&in, m);
	if (m->type != IPC_ANVIL_DISCONNECT)
		id = ipc_get_u32(&in);
	service = ipc_get_str(&in, 64);
	client = ipc_get_str(&in, 64);
	if (service == NULL || client == NULL || ipc_get_end(&in) == -1) {
		free(service);
		free(client);
		return -1;
	}
	k = anvil_get(service, client);
	switch (m->type) {
	case IPC_ANVIL_CONNECT:
		if (k == NULL) {
			r = anvil_reply(c, id, 1, 1);
			break;
		}
		anvil_window(k, now);
		k->conns++;
		anvil_hold(c, k, 1);
		r = anvil_reply(c, id, k->open, k->conns);
		break;
	case IPC_ANVIL_DISCONNECT:
		if (k != NULL)
			anvil_hold(c, k, -1);
		break;
	case IPC_ANVIL_MESSAGE:
		if (k == NULL) {
			r = anvil_reply(c, id, 1, 0);
			break;
		}
		anvil_window(k, now);
		k->msgs++;
		r = anvil_reply(c, id, k->msgs, 0);
		break;
	default:
		r = -1;
	}
	free(service);
	free(client);
	return r;
}

/* anvil_drop - an smtpd went away: release what it held */
static void
anvil_drop(struct anvil_conn *c)
{
	struct anvil_conn **pp;
	size_t	 i;

	for (i = 0; i < c->nhold; i++)
		c->hold[i].k->open -= c->hold[i].n <= c->hold[i].k->open ?
		    c->hold[i].n : c->hold[i].k->open;
	for (pp = &anvil.conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	anvil_metrics_forget(&c->level);
	event_free(c->ev);
	close(c->fd);
	free(c->hold);
	free(c);
}

/* anvil_read - frames: smtpd's counts, metrics from smtpd, qmgr, master */
static void
anvil_read(evutil_socket_t fd, short what, void *arg)
{
	struct anvil_conn *c = arg;
	struct ipc_msg m;
	int	 r;

	for (;;) {
		if ((r = ipc_next(c->fd, &c->role, IPC_R_SMTPD | IPC_R_QMGR |
		    IPC_R_MASTER, IPC_R_ANVIL, &m)) <= 0) {
			if (r == -1)
				anvil_drop(c);
			return;
		}
		if (m.type == IPC_METRICS)
			r = anvil_metrics_report(&c->level, c->role, &m);
		else
			r = anvil_request(c, &m);
		ipc_msg_free(&m);
		if (r == -1) {
			anvil_drop(c);
			return;
		}
	}
}

/* anvil_accept - a new connection (root or mail_owner) */
static void
anvil_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct anvil_conn *c;
	int	 fd;

	while ((fd = ipc_accept(lfd, anvil.peer_uid, "connection")) != -1) {
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->ev = event_new(anvil.base, fd, EV_READ | EV_PERSIST,
		    anvil_read, c);
		event_add(c->ev, NULL);
		c->next = anvil.conns;
		anvil.conns = c;
	}
}

/* anvil_sweep - drop keys with nothing open whose window has ended */
static void
anvil_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct anvil_key **pp, *k;
	time_t	 now = time(NULL);
	size_t	 h;

	for (h = 0; h < ANVIL_HASH; h++)
		for (pp = &anvil.hash[h]; (k = *pp) != NULL;) {
			if (k->open > 0 || now - k->window < anvil.unit) {
				pp = &k->next;
				continue;
			}
			/* open is 0: no connection holds it (each hold counts
			 * at least one in open) */
			*pp = k->next;
			free(k);
			anvil.nkeys--;
		}
}

/* anvil_pre_jail - settings */
static void
anvil_pre_jail(struct skel *sk)
{
	anvil.peer_uid = sk->owner_uid;
	anvil.unit = cfg_time(sk->cfg, "anvil_rate_time_unit");
	if (anvil.unit < 1)
		anvil.unit = 1;
}

/* anvil_post_jail - serve */
static void
anvil_post_jail(struct skel *sk)
{
	struct timeval tv = { 0, 0 };
	struct event *ev;

	anvil.base = sk->base;
	if (sk->nlisten != 1 && sk->nlisten != 2)
		log_fatal("expected one listening socket from master (two "
		    "with metrics_listen)");
	if (sk->nlisten == 2)
		anvil_metrics_serve(sk->base, sk->listen_fd[1]);
	util_set_nonblock(sk->listen_fd[0], 1);
	ev = event_new(sk->base, sk->listen_fd[0], EV_READ | EV_PERSIST,
	    anvil_accept, NULL);
	event_add(ev, NULL);
	tv.tv_sec = anvil.unit;
	ev = event_new(sk->base, -1, EV_PERSIST, anvil_sweep, NULL);
	event_add(ev, &tv);
}

static const struct skel_ops anvil_ops = {
	.name = "anvil",
	.flags = SKEL_F_CHROOT_EMPTY,
	.pre_jail = anvil_pre_jail,
	.post_jail = anvil_post_jail,
};

/* main - run the counters */
int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &anvil_ops);
}
