/*
 * test_ipc_client.c - unit tests of lib/server/ipc_client.c against a scripted
 * service on a real SEQPACKET socket in a temporary directory, client and
 * service in one libevent loop.
 *
 * The service answers IPC_AUTH_RCPT requests (u32 id, str local, str
 * domain) as its mode says: at once, in reverse order of two, never, by
 * closing, with a payload without an id, with another reply type, or with
 * a result the client's done() refuses.  Checked: each answer reaches the
 * request with its id; a missing answer times out once and its late
 * answer is dropped; a close fails every waiting request and the next
 * request connects again; malformed answers close the connection; a
 * cancelled request never hears back; a notice (no pending) goes without
 * an id; a done() that sends a new request while the connection breaks
 * puts it on the new connection; an unreachable service is -1 at once.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "buf.h"
#include "ipc.h"
#include "ipc_client.h"
#include "log.h"
#include "qid.h"
#include "util.h"
#include "t.h"

#define TC_SOCK		"svc.sock"

enum { M_ANSWER, M_REVERSE, M_SILENT, M_CLOSE, M_NOID, M_WRONGTYPE,
	M_BADRESULT };

static struct event_base *base;
static int mode, lfd = -1, sfd = -1;
static struct event *lev, *sev;
static uint32_t held_id[2];		/* M_REVERSE: the first id waits */
static int nheld, naccepted, nnotice;
static char last_notice[QID_BUFSZ];

struct req {
	struct ipc_pending p;
	int	 calls, status;
	uint32_t result;
	int	 refuse;		/* done() returns -1 */
	struct ipc_client *resend;	/* done() sends again on this */
	struct req *next;		/* ... this request */
};

/* tc_reply - the service answers id with result (type t) */
static void
tc_reply(uint32_t type, uint32_t id, uint32_t result)
{
	struct ipc_out o;

	ipc_out_init(&o);
	ipc_put_u32(&o, id);
	ipc_put_u32(&o, result);
	(void)ipc_send_out(sfd, type, &o, -1);
	ipc_out_free(&o);
}

/* tc_raw_short - a frame too short to hold an id, past ipc_send's checks */
static void
tc_raw_short(void)
{
	unsigned char f[10];

	util_put_be(f, IPC_AUTH_RCPT_REPLY, 4);
	util_put_be(f + 4, 2, 4);
	f[8] = 'a';
	f[9] = 'b';
	(void)write(sfd, f, sizeof(f));
}

/* tc_reply3 - an answer with two u32 after the id */
static void
tc_reply3(uint32_t type, uint32_t id, uint32_t x, uint32_t y)
{
	struct ipc_out o;

	ipc_out_init(&o);
	ipc_put_u32(&o, id);
	ipc_put_u32(&o, x);
	ipc_put_u32(&o, y);
	(void)ipc_send_out(sfd, type, &o, -1);
	ipc_out_free(&o);
}

/* tc_close_svc - the service drops its connection */
static void
tc_close_svc(void)
{
	if (sev != NULL)
		event_free(sev);
	sev = NULL;
	if (sfd != -1)
		close(sfd);
	sfd = -1;
}

/* tc_svc_read - a frame at the service */
static void
tc_svc_read(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_msg m;
	struct ipc_in in;
	uint32_t id;
	char	*local;
	int	 r;

	(void)fd;
	(void)what;
	(void)arg;
	while (sfd != -1 && (r = ipc_recv(sfd, IPC_R_SMTPD, &m)) == 1) {
		if (m.type == IPC_HELLO) {
			(void)ipc_hello_reply(sfd, IPC_R_AUTH);
			ipc_msg_free(&m);
			continue;
		}
		ipc_in_init(&in, &m);
		if (m.type == IPC_QMGR_NEW) {	/* a notice: no id */
			local = ipc_get_str(&in, 63);
			if (local != NULL)
				util_strlcpy(last_notice, local,
				    sizeof(last_notice));
			free(local);
			nnotice++;
			ipc_msg_free(&m);
			continue;
		}
		id = ipc_get_u32(&in);
		ipc_msg_free(&m);
		switch (mode) {
		case M_ANSWER:
			tc_reply(IPC_AUTH_RCPT_REPLY, id, id * 10);
			break;
		case M_REVERSE:
			held_id[nheld++] = id;
			if (nheld == 2) {
				tc_reply(IPC_AUTH_RCPT_REPLY, held_id[1], 2);
				tc_reply(IPC_AUTH_RCPT_REPLY, held_id[0], 1);
				nheld = 0;
			}
			break;
		case M_SILENT:
			held_id[0] = id;
			break;
		case M_CLOSE:
			tc_close_svc();
			return;
		case M_NOID:
			tc_raw_short();
			break;
		case M_WRONGTYPE:	/* AUTH_SENDER_REPLY, no owners */
			tc_reply3(IPC_AUTH_SENDER_REPLY, id, 0, 0);
			break;
		case M_BADRESULT:
			tc_reply(IPC_AUTH_RCPT_REPLY, id, 99);
			break;
		}
	}
	if (sfd != -1 && r == 0)
		tc_close_svc();
}

/* tc_accept - the service takes a connection (the newest only) */
static void
tc_accept(evutil_socket_t fd, short what, void *arg)
{
	int	 c;

	(void)fd;
	(void)what;
	(void)arg;
	while ((c = ipc_accept(lfd, getuid(), "test connection")) != -1) {
		tc_close_svc();
		sfd = c;
		naccepted++;
		sev = event_new(base, sfd, EV_READ | EV_PERSIST, tc_svc_read,
		    NULL);
		event_add(sev, NULL);
	}
}

/* tc_done - a request's done(): record, maybe refuse, maybe send again */
static int
tc_done(struct ipc_pending *p, int status, struct ipc_in *in)
{
	struct req *r = (struct req *)(void *)((char *)p -
	    offsetof(struct req, p));
	struct ipc_out o;

	r->calls++;
	r->status = status;
	if (status == IPC_CLIENT_OK) {
		r->result = ipc_get_u32(in);
		if (ipc_get_end(in) == -1 || r->result == 99)
			return -1;
	}
	if (r->resend != NULL) {
		ipc_out_init(&o);
		ipc_put_str(&o, "again");
		ipc_put_str(&o, "example.com");
		(void)ipc_client_send(r->resend, IPC_AUTH_RCPT, &o, &r->next->p,
		    IPC_AUTH_RCPT_REPLY, 2000, tc_done);
		ipc_out_free(&o);
		r->resend = NULL;
	}
	return r->refuse ? -1 : 0;
}

/* tc_send - one request */
static int
tc_send(struct ipc_client *c, struct req *r, uint64_t wait_ms)
{
	struct ipc_out o;
	int	 rc;

	ipc_out_init(&o);
	ipc_put_str(&o, "alice");
	ipc_put_str(&o, "example.com");
	rc = ipc_client_send(c, IPC_AUTH_RCPT, &o, &r->p, IPC_AUTH_RCPT_REPLY,
	    wait_ms, tc_done);
	ipc_out_free(&o);
	return rc;
}

/* tc_run - turn the loop until cond or about ms have passed */
static void
tc_run(int (*cond)(void), uint64_t ms)
{
	struct timeval tv = { 0, 10000 };
	uint64_t end = util_mono_ms() + ms;

	while (util_mono_ms() < end && (cond == NULL || !cond())) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static struct req *watch[4];
static int nwatch;

/* tc_all_called - every watched request heard back */
static int
tc_all_called(void)
{
	int	 i;

	for (i = 0; i < nwatch; i++)
		if (watch[i]->calls == 0)
			return 0;
	return 1;
}

/* tc_wait - run until the requests heard back */
static void
tc_wait(struct req *a, struct req *b, uint64_t ms)
{
	nwatch = 0;
	watch[nwatch++] = a;
	if (b != NULL)
		watch[nwatch++] = b;
	tc_run(tc_all_called, ms);
}

int
main(void)
{
	char	 dir[] = "/tmp/test_ipc_client.XXXXXX";
	struct ipc_client *c, *none;
	struct req a, b, d, e;
	struct ipc_out o;
	char	 qid[QID_BUFSZ];
	uint64_t t0;

	t_plan(48);
	log_open("test_ipc_client", LOG_TO_STDERR, NULL);
	if (sodium_init() == -1)
		return 1;
	if (mkdtemp(dir) == NULL || chdir(dir) == -1) {
		perror(dir);
		return 1;
	}
	base = event_base_new();
	lfd = ipc_listen(TC_SOCK, 0600, 16);
	T_OK(lfd != -1, "the service listens");
	util_set_nonblock(lfd, 1);
	lev = event_new(base, lfd, EV_READ | EV_PERSIST, tc_accept, NULL);
	event_add(lev, NULL);
	c = ipc_client_new(base, TC_SOCK, IPC_R_SMTPD, IPC_R_AUTH, "svc");

	/* an answer */
	memset(&a, 0, sizeof(a));
	mode = M_ANSWER;
	T_EQ_INT(tc_send(c, &a, 2000), 0, "request sent");
	T_OK(ipc_client_waiting(&a.p), "it waits");
	tc_wait(&a, NULL, 2000);
	T_EQ_INT(a.calls, 1, "done once");
	T_EQ_INT(a.status, IPC_CLIENT_OK, "answered");
	T_EQ_INT(a.result, a.p.id * 10, "its own answer");
	T_OK(!ipc_client_waiting(&a.p), "no longer waiting");
	T_OK(ipc_client_connected(c), "connected");

	/* two answers in reverse order: each to its request */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	mode = M_REVERSE;
	T_EQ_INT(tc_send(c, &a, 2000), 0, "first sent");
	T_EQ_INT(tc_send(c, &b, 2000), 0, "second sent");
	tc_wait(&a, &b, 2000);
	T_EQ_INT(a.result, 1, "the first got the first's answer");
	T_EQ_INT(b.result, 2, "the second got the second's answer");
	T_OK(a.calls == 1 && b.calls == 1, "each done once");

	/* no answer: a timeout, once; the late answer is dropped */
	memset(&a, 0, sizeof(a));
	mode = M_SILENT;
	t0 = util_mono_ms();
	T_EQ_INT(tc_send(c, &a, 150), 0, "sent to a silent service");
	tc_wait(&a, NULL, 3000);
	T_EQ_INT(a.status, IPC_CLIENT_TIMEOUT, "timed out");
	T_OK(util_mono_ms() - t0 >= 150 && util_mono_ms() - t0 < 2000,
	    "after its wait (%llu ms)", (unsigned long long)(util_mono_ms() -
	    t0));
	tc_reply(IPC_AUTH_RCPT_REPLY, held_id[0], 7);
	tc_run(NULL, 200);
	T_EQ_INT(a.calls, 1, "the late answer is dropped");
	T_OK(ipc_client_connected(c), "and the connection stays");

	/* the service closes: every waiter fails; the next one reconnects */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	mode = M_SILENT;
	T_EQ_INT(tc_send(c, &a, 5000), 0, "waiter 1");
	T_EQ_INT(tc_send(c, &b, 5000), 0, "waiter 2");
	tc_run(NULL, 100);
	tc_close_svc();
	tc_wait(&a, &b, 2000);
	T_OK(a.status == IPC_CLIENT_GONE && b.status == IPC_CLIENT_GONE,
	    "both failed: gone");
	T_OK(!ipc_client_connected(c), "disconnected");
	memset(&a, 0, sizeof(a));
	mode = M_ANSWER;
	T_EQ_INT(tc_send(c, &a, 2000), 0, "sent again");
	tc_wait(&a, NULL, 2000);
	T_EQ_INT(a.status, IPC_CLIENT_OK, "answered on a new connection");
	T_EQ_INT(naccepted, 2, "the service saw a second connection");

	/* malformed answers close the connection */
	mode = M_NOID;
	memset(&a, 0, sizeof(a));
	T_EQ_INT(tc_send(c, &a, 2000), 0, "sent (answer without an id)");
	tc_wait(&a, NULL, 2000);
	T_EQ_INT(a.status, IPC_CLIENT_GONE, "no id: gone");
	mode = M_WRONGTYPE;
	memset(&a, 0, sizeof(a));
	T_EQ_INT(tc_send(c, &a, 2000), 0, "sent (wrong answer type)");
	tc_wait(&a, NULL, 2000);
	T_EQ_INT(a.status, IPC_CLIENT_GONE, "wrong type: gone");
	/* done() refuses the payload: it was answered, the others fail */
	mode = M_SILENT;
	memset(&b, 0, sizeof(b));
	T_EQ_INT(tc_send(c, &b, 5000), 0, "a bystander waits");
	tc_run(NULL, 100);
	mode = M_BADRESULT;
	memset(&a, 0, sizeof(a));
	T_EQ_INT(tc_send(c, &a, 2000), 0, "sent (refused payload)");
	tc_wait(&a, &b, 2000);
	T_EQ_INT(a.status, IPC_CLIENT_OK, "the refused one saw its answer");
	T_EQ_INT(b.status, IPC_CLIENT_GONE, "the bystander failed");
	T_OK(!ipc_client_connected(c), "and the connection closed");

	/* cancel: never hears back */
	mode = M_ANSWER;
	memset(&a, 0, sizeof(a));
	T_EQ_INT(tc_send(c, &a, 2000), 0, "sent, then cancelled");
	ipc_client_cancel(&a.p);
	T_OK(!ipc_client_waiting(&a.p), "not waiting after cancel");
	tc_run(NULL, 200);
	T_EQ_INT(a.calls, 0, "no done() after cancel");

	/* a notice has no id */
	qid_new(qid);
	ipc_out_init(&o);
	ipc_put_str(&o, qid);
	T_EQ_INT(ipc_client_send(c, IPC_QMGR_NEW, &o, NULL, 0, 0, NULL), 0,
	    "notice sent");
	ipc_out_free(&o);
	tc_run(NULL, 200);
	T_EQ_INT(nnotice, 1, "notice arrived");
	T_EQ_STR(last_notice, qid, "as it was sent, no id in front");

	/* a done() that sends while the connection breaks */
	memset(&a, 0, sizeof(a));
	memset(&d, 0, sizeof(d));
	mode = M_SILENT;
	a.resend = c;
	a.next = &d;
	T_EQ_INT(tc_send(c, &a, 5000), 0, "waiter that resends");
	tc_run(NULL, 100);
	mode = M_ANSWER;
	tc_close_svc();
	tc_wait(&a, &d, 3000);
	T_EQ_INT(a.status, IPC_CLIENT_GONE, "the first failed");
	T_EQ_INT(d.status, IPC_CLIENT_OK, "its follow-up went on a new "
	    "connection and was answered");

	/* an unreachable service */
	none = ipc_client_new(base, "nothing-here.sock", IPC_R_SMTPD,
	    IPC_R_AUTH, "none");
	memset(&e, 0, sizeof(e));
	errno = 0;
	T_EQ_INT(tc_send(none, &e, 1000), -1, "unreachable: -1");
	T_OK(errno == ENOENT, "with errno ENOENT (%d)", errno);
	T_OK(!ipc_client_waiting(&e.p), "nothing waits");
	ipc_client_free(none);

	/* free: what waits fails */
	memset(&a, 0, sizeof(a));
	mode = M_SILENT;
	T_EQ_INT(tc_send(c, &a, 5000), 0, "a last waiter");
	ipc_client_free(c);
	T_EQ_INT(a.status, IPC_CLIENT_GONE, "freeing fails it");

	tc_close_svc();
	event_free(lev);
	close(lfd);
	unlink(TC_SOCK);
	event_base_free(base);
	if (chdir("/") == 0)
		(void)rmdir(dir);
	return t_done();
}
