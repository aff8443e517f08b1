/*
 * master_ctl.c - the control socket mailctl talks to.
 *
 * queue_directory/pid/master.sock, SEQPACKET, mode 0600, owned by root.
 * Only root (or, in a development run, master's own uid) may connect
 * (SO_PEERCRED).  Protocol: IPC_HELLO from mailctl, then IPC_CTL_REQUEST
 * frames, each answered by IPC_CTL_REPLY (status 0 = ok, 1 = failed, text).
 * Requests: ping, status, reload, stop.  A connection that sends nothing
 * for 10 seconds, or a bad frame, is dropped.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "util.h"
#include "master.h"

#define MASTER_CTL_ARGS	16

struct master_conn {
	int		 fd;
	int		 hello;
	struct event	*ev;
};

/* master_ctl_drop - close one control connection */
static void
master_ctl_drop(struct master_conn *c)
{
	event_free(c->ev);
	close(c->fd);
	free(c);
}

/* master_ctl_reply - send an answer */
static int
master_ctl_reply(struct master_conn *c, uint32_t status, const char *text)
{
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	if (ipc_put_u32(&o, status) == -1 || ipc_put_str(&o, text) == -1) {
		ipc_out_free(&o);
		return -1;
	}
	r = ipc_send_out(c->fd, IPC_CTL_REPLY, &o, -1);
	ipc_out_free(&o);
	return r;
}

/* the requests' handlers: each answers on c */
static void
master_ctl_ping(struct master_conn *c)
{
	master_ctl_reply(c, 0, "ok");
}

static void
master_ctl_status(struct master_conn *c)
{
	struct buf out;

	buf_init(&out, IPC_MAX_PAYLOAD - 64);
	master_status(&master, &out);
	master_ctl_reply(c, 0, buf_cstr(&out));
	buf_free(&out);
}

static void
master_ctl_reload(struct master_conn *c)
{
	char	 err[1024];

	if (master_reload(&master, err, sizeof(err)) == -1) {
		log_err("reload failed: %s", err);
		master_ctl_reply(c, 1, err);
	} else
		master_ctl_reply(c, 0, "reloaded");
}

static void
master_ctl_stop(struct master_conn *c)
{
	master_ctl_reply(c, 0, "stopping");
	master_begin_stop(&master);
}

/* the requests, each a word without arguments, and their handlers */
static const struct {
	const char	*name;
	void		(*run)(struct master_conn *);
} master_ctl_reqs[] = {
	{ "ping",	master_ctl_ping },
	{ "status",	master_ctl_status },
	{ "reload",	master_ctl_reload },
	{ "stop",	master_ctl_stop },
};

/* master_ctl_do - run one request */
static void
master_ctl_do(struct master_conn *c, char **argv, uint32_t argc)
{
	size_t	 i;

	for (i = 0; argc == 1 && i < NELEM(master_ctl_reqs); i++)
		if (strcmp(argv[0], master_ctl_reqs[i].name) == 0) {
			master_ctl_reqs[i].run(c);
			return;
		}
	master_ctl_reply(c, 1, "unknown request");
}

/* master_ctl_request - decode a CTL_REQUEST frame */
static int
master_ctl_request(struct master_conn *c, const struct ipc_msg *msg)
{
	struct ipc_in in;
	char	*argv[MASTER_CTL_ARGS];
	uint32_t argc, i;
	int	 r = -1;

	ipc_in_init(&in, msg);
	argc = ipc_get_u32(&in);
	if (argc == 0 || argc > MASTER_CTL_ARGS)
		return -1;
	for (i = 0; i < argc; i++)
		if ((argv[i] = ipc_get_str(&in, 1024)) == NULL)
			break;
	if (i == argc && ipc_get_end(&in) == 0) {
		master_ctl_do(c, argv, argc);
		r = 0;
	}
	while (i > 0)
		free(argv[--i]);
	return r;
}

/* master_ctl_read - a frame (or timeout) on a control connection */
static void
master_ctl_read(evutil_socket_t fd, short what, void *arg)
{
	struct master_conn *c = arg;
	struct ipc_msg msg;
	int	 r;

	if (what & EV_TIMEOUT) {
		master_ctl_drop(c);
		return;
	}
	r = ipc_recv(c->fd, c->hello ? IPC_R_MAILCTL : 0, &msg);
	if (r == -1 && errno == EAGAIN)
		return;
	if (r <= 0) {
		if (r == -1)
			log_warn("control connection: bad frame: %s",
			    strerror(errno));
		master_ctl_drop(c);
		return;
	}
	if (!c->hello) {
		if (ipc_hello_check(&msg, IPC_R_MAILCTL) == -1 ||
		    ipc_hello_reply(c->fd, IPC_R_MASTER) == -1) {
			ipc_msg_free(&msg);
			master_ctl_drop(c);
			return;
		}
		c->hello = 1;
	} else if (msg.type != IPC_CTL_REQUEST ||
	    master_ctl_request(c, &msg) == -1) {
		ipc_msg_free(&msg);
		master_ctl_drop(c);
		return;
	}
	ipc_msg_free(&msg);
}

/* master_ctl_accept - a new control connection */
static void
master_ctl_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct master *m = arg;
	struct master_conn *c;
	struct timeval tv = { 10, 0 };
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;
	int	 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) ==
	    -1)
		return;
	if (ipc_peer_cred(fd, &uid, &gid, &pid) == -1 ||
	    (uid != 0 && uid != geteuid())) {
		log_warn("control connection from uid %ld refused",
		    (long)uid);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->ev = event_new(m->base, fd, EV_READ | EV_PERSIST, master_ctl_read,
	    c);
	event_add(c->ev, &tv);
}

/* master_ctl_open - create the control socket */
int
master_ctl_open(struct master *m, char *err, size_t errlen)
{
	char	 path[4096];

	if (util_fmt(path, sizeof(path), "%s/pid/master.sock",
	    m->queue_dir) == -1 ||
	    (m->ctl_fd = ipc_listen(path, 0600, 16)) == -1) {
		snprintf(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	util_set_nonblock(m->ctl_fd, 1);
	m->ctl_ev = event_new(m->base, m->ctl_fd, EV_READ | EV_PERSIST,
	    master_ctl_accept, m);
	event_add(m->ctl_ev, NULL);
	return 0;
}

/* master_ctl_close - stop answering */
void
master_ctl_close(struct master *m)
{
	char	 path[4096];

	if (m->ctl_ev != NULL)
		event_free(m->ctl_ev);
	m->ctl_ev = NULL;
	if (m->ctl_fd != -1)
		close(m->ctl_fd);
	m->ctl_fd = -1;
	if (util_fmt(path, sizeof(path), "%s/pid/master.sock",
	    m->queue_dir) == 0)
		unlink(path);
}
