/*
 * ipc_client.c - a client's connection to an internal service, with
 * requests waiting for their answers (see ipc_client.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "ipc.h"
#include "ipc_client.h"
#include "log.h"
#include "util.h"

struct ipc_client {
	struct event_base *base;
	char		*path;
	char		*name;		/* for the log: "auth" */
	unsigned	 me, peer;	/* IPC_R_* roles */
	int		 fd;
	uint64_t	 gen;		/* counts connections: a close shows */
	struct event	*ev;
	struct event	*timer;
	uint32_t	 next_id;
	struct ipc_pending *head;	/* waiting, oldest first */
};

static void ipc_client_arm(struct ipc_client *);

/* ipc_client_unlink - take p off its client's list */
static void
ipc_client_unlink(struct ipc_pending *p)
{
	struct ipc_pending **pp;

	if (p->c == NULL)
		return;
	for (pp = &p->c->head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	p->next = NULL;
	p->c = NULL;
}

/* ipc_client_finish - p is answered or failed: off the list, done() */
static int
ipc_client_finish(struct ipc_pending *p, int status, struct ipc_in *in)
{
	ipc_client_unlink(p);
	return p->done(p, status, in);
}

/*
 * ipc_client_close - drop the connection; every request waiting on it
 * fails.  The list is taken whole first: a done() may send a new request,
 * which goes on a new connection and a new list.
 */
static void
ipc_client_close(struct ipc_client *c)
{
	struct ipc_pending *p, *old;

	if (c->ev != NULL)
		event_free(c->ev);
	c->ev = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	old = c->head;
	c->head = NULL;
	while ((p = old) != NULL) {
		old = p->next;
		p->next = NULL;
		p->c = NULL;
		(void)p->done(p, IPC_CLIENT_GONE, NULL);
	}
	ipc_client_arm(c);
}

/* ipc_client_answer - one frame that is not HELLO; -1 = malformed */
static int
ipc_client_answer(struct ipc_client *c, const struct ipc_msg *m)
{
	struct ipc_pending *p;
	struct ipc_in in;
	uint32_t id;

	ipc_in_init(&in, m);
	id = ipc_get_u32(&in);
	if (in.err)
		return -1;
	for (p = c->head; p != NULL; p = p->next)
		if (p->id == id)
			break;
	if (p == NULL)
		return 0;	/* its request timed out or was cancelled */
	if (p->reply != m->type)
		return -1;
	return ipc_client_finish(p, IPC_CLIENT_OK, &in);
}

/* ipc_client_read - frames from the service */
static void
ipc_client_read(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_client *c = arg;
	struct ipc_msg m;
	uint64_t gen = c->gen;
	int	 r;

	(void)fd;
	(void)what;
	while (c->fd != -1 && c->gen == gen) {
		r = ipc_recv(c->fd, c->peer, &m);
		if (r == -1 && errno == EAGAIN)
			break;
		if (r <= 0) {
			ipc_client_close(c);
			break;
		}
		if (m.type == IPC_HELLO)
			r = ipc_hello_check(&m, c->peer) == -1 ? -1 : 0;
		else if ((r = ipc_client_answer(c, &m)) == -1)
			log_warn("%s: malformed answer (type %u)", c->name,
			    m.type);
		ipc_msg_free(&m);
		if (r == -1 && c->gen == gen) {
			ipc_client_close(c);
			break;
		}
	}
	ipc_client_arm(c);
}

/* ipc_client_tick - requests past their deadline fail, one at a time */
static void
ipc_client_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_client *c = arg;
	struct ipc_pending *p;
	uint64_t now = util_mono_ms();

	(void)fd;
	(void)what;
	for (;;) {
		for (p = c->head; p != NULL; p = p->next)
			if (p->deadline <= now)
				break;
		if (p == NULL)
			break;
		(void)ipc_client_finish(p, IPC_CLIENT_TIMEOUT, NULL);
	}
	ipc_client_arm(c);
}

/* ipc_client_arm - the timer for the nearest deadline, or none */
static void
ipc_client_arm(struct ipc_client *c)
{
	struct ipc_pending *p;
	struct timeval tv;
	uint64_t first = UINT64_MAX, now = util_mono_ms(), ms;

	for (p = c->head; p != NULL; p = p->next)
		if (p->deadline < first)
			first = p->deadline;
	if (first == UINT64_MAX) {
		evtimer_del(c->timer);
		return;
	}
	ms = first > now ? first - now : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000 + 1000;
	evtimer_add(c->timer, &tv);
}

/* ipc_client_new - see ipc_client.h */
struct ipc_client *
ipc_client_new(struct event_base *base, const char *path, unsigned me,
    unsigned peer, const char *name)
{
	struct ipc_client *c;

	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->path = xstrdup(path);
	c->name = xstrdup(name);
	c->me = me;
	c->peer = peer;
	c->fd = -1;
	if ((c->timer = evtimer_new(base, ipc_client_tick, c)) == NULL)
		log_fatal("%s: cannot make a timer", name);
	return c;
}

/* ipc_client_open - connect when there is no connection; -1 = cannot */
static int
ipc_client_open(struct ipc_client *c)
{
	if (c->fd != -1)
		return 0;
	if ((c->fd = ipc_open(c->path, c->me)) == -1)
		return -1;
	c->gen++;
	c->ev = event_new(c->base, c->fd, EV_READ | EV_PERSIST,
	    ipc_client_read, c);
	if (c->ev == NULL || event_add(c->ev, NULL) == -1) {
		ipc_client_close(c);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* ipc_client_send - see ipc_client.h */
int
ipc_client_send(struct ipc_client *c, uint32_t type, const struct ipc_out *body,
    struct ipc_pending *p, uint32_t reply, uint64_t wait_ms,
    int (*done)(struct ipc_pending *, int, struct ipc_in *))
{
	struct ipc_pending **pp;
	struct ipc_out o;
	int	 r, e;

	if (ipc_client_open(c) == -1)
		return -1;
	if (p == NULL)
		r = ipc_send_out(c->fd, type, body, -1);
	else {
		ipc_client_cancel(p);
		p->id = ++c->next_id;
		ipc_out_init(&o);
		ipc_put_u32(&o, p->id);
		if (body->err != 0)
			o.err = body->err;
		else if (body->b.len > 0)
			buf_append(&o.b, body->b.data, body->b.len);
		r = ipc_send_out(c->fd, type, &o, -1);
		ipc_out_free(&o);
	}
	if (r == -1) {
		e = errno;
		ipc_client_close(c);
		errno = e;
		return -1;
	}
	if (p == NULL)
		return 0;
	p->reply = reply;
	p->wait_ms = wait_ms;
	p->deadline = util_mono_ms() + wait_ms;
	p->done = done;
	p->c = c;
	p->next = NULL;
	for (pp = &c->head; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = p;
	ipc_client_arm(c);
	return 0;
}

/* ipc_client_cancel - see ipc_client.h */
void
ipc_client_cancel(struct ipc_pending *p)
{
	struct ipc_client *c = p->c;

	if (c == NULL)
		return;
	ipc_client_unlink(p);
	ipc_client_arm(c);
}

/* ipc_client_waiting - see ipc_client.h */
int
ipc_client_waiting(const struct ipc_pending *p)
{
	return p->c != NULL;
}

/* ipc_client_connected - see ipc_client.h */
int
ipc_client_connected(const struct ipc_client *c)
{
	return c->fd != -1;
}

/* ipc_client_free - see ipc_client.h */
void
ipc_client_free(struct ipc_client *c)
{
	if (c == NULL)
		return;
	ipc_client_close(c);
	event_free(c->timer);
	free(c->path);
	free(c->name);
	free(c);
}
