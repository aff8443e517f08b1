/*
 * auth_login.c - SASL credential checks (IPC_AUTH_LOGIN).
 *
 * Password hashing is slow by design (ARGON2ID takes tens of milliseconds
 * and 64 MB), so it runs in AUTH_WORKERS threads; the event loop goes on
 * answering address lookups.  A job carries copies of the user name, the
 * password (wiped when done) and the stored hash; results come back through
 * a pipe.  At most AUTH_MAX_JOBS wait: beyond that a request is answered
 * "temporary failure" at once (fail closed, never "ok").
 *
 * An unknown user costs one dummy verification with the scheme most users
 * of the file have, so that "no such user" and "wrong password" take the
 * same time and get the same answer.  A user whose password field can
 * never verify (clear text, unknown scheme, broken hash) fails like a
 * wrong password; the first such failure per user logs why.
 *
 * Brute force: failures are counted per client address and per login name.
 * From the AUTH_FREE_FAILS+1-th failure on, answers to that client or for
 * that name are held back 250 ms, doubling per failure up to
 * AUTH_MAX_DELAY_MS (below smtpd's 30 s wait for a login answer, so the
 * right password is only ever slowed, never refused).  A count is forgotten AUTH_FORGET_MS after its last
 * failure; a success clears the name's count.  Nothing is ever locked out:
 * the right password always works, only later.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <security/pam_appl.h>
#include <sodium.h>

#include "ipc.h"
#include "log.h"
#include "passwd.h"
#include "sasl.h"
#include "users.h"
#include "util.h"
#include "auth.h"

#define AUTH_WORKERS		2
#define AUTH_MAX_JOBS		256
#define AUTH_FREE_FAILS		3
#define AUTH_BASE_DELAY_MS	250
#define AUTH_MAX_DELAY_MS	8000	/* well below smtpd's 30 s for logins */
#define AUTH_FORGET_MS		(15 * 60 * 1000)
#define AUTH_THR_SLOTS		4096

struct auth_job {
	uint64_t	 serial;	/* connection */
	uint32_t	 id;		/* request */
	char		 client[64];
	char		 user[SASL_USER_MAX + 1];
	char		 canon[SASL_USER_MAX + 1];
	char		 pass[PASSWD_MAX + 1];
	size_t		 passlen;
	char		*stored;	/* NULL: unknown user (dummy check) */
	int		 result;	/* IPC_LOGIN_* */
	int		 unusable;	/* the stored value can never verify */
	struct auth_job	*next;
};

struct auth_thr {
	char		 key[SASL_USER_MAX + 8];
	unsigned	 fails;
	uint64_t	 last_ms;
};

static pthread_mutex_t auth_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t auth_pam_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_cv = PTHREAD_COND_INITIALIZER;
static struct auth_job *auth_todo, *auth_done;
static int auth_njobs;
static int auth_pipe[2] = { -1, -1 };
static struct auth_thr auth_thr[AUTH_THR_SLOTS];
static unsigned char *auth_told;	/* per users-file entry: logged why
					   it cannot log in */

/* auth_pam_conv - hand the password to PAM, nothing else */
static int
auth_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *arg)
{
	struct auth_job *j = arg;
	struct pam_response *r;
	int	 i;

	if (n <= 0 || n > 8)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF)
			continue;
		if ((r[i].resp = strdup(j->pass)) == NULL) {
			while (i-- > 0)
				free(r[i].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* auth_pam - check a system account; IPC_LOGIN_* */
static int
auth_pam(struct auth_job *j)
{
	struct pam_conv conv = { auth_pam_conv, j };
	pam_handle_t *h = NULL;
	int	 r;

	pthread_mutex_lock(&auth_pam_mu);
	r = pam_start(auth.pam_service, j->user, &conv, &h);
	if (r == PAM_SUCCESS)
		r = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(h, PAM_SILENT);
	if (h != NULL)
		pam_end(h, r);
	pthread_mutex_unlock(&auth_pam_mu);
	if (r == PAM_SUCCESS)
		return IPC_LOGIN_OK;
	if (r == PAM_AUTH_ERR || r == PAM_USER_UNKNOWN ||
	    r == PAM_ACCT_EXPIRED || r == PAM_PERM_DENIED ||
	    r == PAM_NEW_AUTHTOK_REQD || r == PAM_MAXTRIES)
		return IPC_LOGIN_FAIL;
	return IPC_LOGIN_TEMPFAIL;
}

/* auth_check - the work of one job (in a worker thread) */
static void
auth_check(struct auth_job *j)
{
	int	 r;

	if (auth.pam) {
		j->result = auth_pam(j);
		return;
	}
	if (j->stored == NULL) {
		passwd_dummy(auth.dummy_scheme, j->pass, j->passlen);
		j->result = IPC_LOGIN_FAIL;
		return;
	}
	r = passwd_verify(j->stored, j->pass, j->passlen);
	if (r == -1)	/* an unusable stored value costs what a check costs */
		passwd_dummy(auth.dummy_scheme, j->pass, j->passlen);
	j->unusable = r == -1;
	j->result = r == 1 ? IPC_LOGIN_OK : IPC_LOGIN_FAIL;
}

/* auth_worker - take jobs, check them, hand them back */
static void *
auth_worker(void *arg)
{
	struct auth_job *j, **pp;
	char	 c = 'x';

	for (;;) {
		pthread_mutex_lock(&auth_mu);
		while (auth_todo == NULL)
			pthread_cond_wait(&auth_cv, &auth_mu);
		j = auth_todo;
		auth_todo = j->next;
		pthread_mutex_unlock(&auth_mu);
		auth_check(j);
		sodium_memzero(j->pass, sizeof(j->pass));
		pthread_mutex_lock(&auth_mu);
		for (pp = &auth_done; *pp != NULL; pp = &(*pp)->next)
			;
		j->next = NULL;
		*pp = j;
		pthread_mutex_unlock(&auth_mu);
		(void)!write(auth_pipe[1], &c, 1);
	}
	return arg;
}

/* auth_thr_slot - the throttle record of a key (created when asked) */
static struct auth_thr *
auth_thr_slot(const char *kind, const char *name, int create)
{
	char	 key[sizeof(auth_thr[0].key)];
	uint64_t now = util_mono_ms();
	unsigned char h[8];
	size_t	 i, k, start;

	snprintf(key, sizeof(key), "%s:%s", kind, name);
	util_lowercase(key);	/* logins match without regard to case */
	crypto_generichash(h, sizeof(h), (const unsigned char *)key,
	    strlen(key), NULL, 0);
	start = ((size_t)h[0] << 8 | h[1]) % AUTH_THR_SLOTS;
	for (k = 0; k < 16; k++) {
		i = (start + k) % AUTH_THR_SLOTS;
		if (auth_thr[i].fails > 0 &&
		    now - auth_thr[i].last_ms > AUTH_FORGET_MS)
			auth_thr[i].fails = 0;
		if (auth_thr[i].fails > 0 && strcmp(auth_thr[i].key, key) == 0)
			return &auth_thr[i];
	}
	if (!create)
		return NULL;
	for (k = 0; k < 16; k++) {
		i = (start + k) % AUTH_THR_SLOTS;
		if (auth_thr[i].fails == 0)
			break;
	}
	if (k == 16)		/* table crowded: reuse the first slot */
		i = start;
	util_strlcpy(auth_thr[i].key, key, sizeof(auth_thr[i].key));
	auth_thr[i].fails = 0;
	auth_thr[i].last_ms = now;
	return &auth_thr[i];
}

/* auth_thr_delay - how long to hold back an answer for client/user */
static uint64_t
auth_thr_delay(const char *client, const char *user)
{
	struct auth_thr *t;
	unsigned fails = 0;
	uint64_t d;

	if ((t = auth_thr_slot("ip", client, 0)) != NULL)
		fails = t->fails;
	if ((t = auth_thr_slot("user", user, 0)) != NULL && t->fails > fails)
		fails = t->fails;
	if (fails <= AUTH_FREE_FAILS)
		return 0;
	d = AUTH_BASE_DELAY_MS;
	while (fails-- > AUTH_FREE_FAILS + 1 && d < AUTH_MAX_DELAY_MS)
		d *= 2;
	return d < AUTH_MAX_DELAY_MS ? d : AUTH_MAX_DELAY_MS;
}

/* auth_thr_note - count a failure (or clear the name after a success) */
static void
auth_thr_note(const struct auth_job *j)
{
	struct auth_thr *ip, *user;

	if (j->result == IPC_LOGIN_TEMPFAIL)
		return;
	if (j->result == IPC_LOGIN_OK) {
		if ((user = auth_thr_slot("user", j->user, 0)) != NULL)
			user->fails = 0;
		return;
	}
	ip = auth_thr_slot("ip", j->client, 1);
	ip->fails++;
	ip->last_ms = util_mono_ms();
	user = auth_thr_slot("user", j->user, 1);
	user->fails++;
	user->last_ms = ip->last_ms;
	if (ip->fails > AUTH_FREE_FAILS || user->fails > AUTH_FREE_FAILS)
		log_warn("authentication failures: %u from client %s, %u for "
		    "user %s; answers are delayed", ip->fails,
		    log_str(j->client), user->fails, log_str(j->user));
}

/*
 * auth_told_why - the first failed login of a user whose password field
 * can never verify: say why, once per user and process (the admin sees
 * the cause next to smtpd's "authentication failed" lines, and a client
 * that keeps trying does not flood the log)
 */
static void
auth_told_why(const struct auth_job *j)
{
	const struct users_ent *e;
	const char *why;
	char	 buf[256];
	size_t	 i;

	if (!j->unusable || j->result != IPC_LOGIN_FAIL ||
	    (e = users_find(auth.users, j->canon, NULL)) == NULL)
		return;
	if (auth_told == NULL)
		auth_told = xcalloc(auth.users->n, 1);
	i = (size_t)(e - auth.users->ent);
	if (auth_told[i])
		return;
	auth_told[i] = 1;
	if ((why = users_login_problem(e, buf, sizeof(buf))) == NULL)
		why = "the stored hash is refused by libcrypt or libsodium";
	log_warn("user %s cannot log in: %s (users file line %d)",
	    log_str(e->name), why, e->line);
}

/* auth_reply - send a job's answer to its connection, free the job */
static void
auth_reply(evutil_socket_t fd, short ev, void *arg)
{
	struct auth_job *j = arg;
	struct auth_conn *c;
	struct ipc_out o;

	if ((c = auth_conn_find(j->serial)) != NULL) {
		ipc_out_init(&o);
		ipc_put_u32(&o, j->id);
		ipc_put_u32(&o, (uint32_t)j->result);
		ipc_put_str(&o, j->result == IPC_LOGIN_OK ? j->canon : "");
		if (ipc_send_out(c->fd, IPC_AUTH_LOGIN_REPLY, &o, -1) == -1)
			log_warn("cannot answer smtpd: %s", strerror(errno));
		ipc_out_free(&o);
	}
	free(j->stored);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* auth_finished - results from the workers (pipe readable) */
static void
auth_finished(evutil_socket_t fd, short ev, void *arg)
{
	struct auth_job *j, *list;
	struct timeval tv;
	char	 buf[64];
	uint64_t d;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&auth_mu);
	list = auth_done;
	auth_done = NULL;
	pthread_mutex_unlock(&auth_mu);
	while ((j = list) != NULL) {
		list = j->next;
		auth_njobs--;
		d = auth_thr_delay(j->client, j->user);
		auth_thr_note(j);
		auth_told_why(j);
		if (j->result == IPC_LOGIN_OK)
			log_info("login ok: user %s from client %s",
			    log_str(j->canon), log_str(j->client));
		if (d == 0) {
			auth_reply(-1, 0, j);
			continue;
		}
		tv.tv_sec = (time_t)(d / 1000);
		tv.tv_usec = (suseconds_t)(d % 1000) * 1000;
		if (event_base_once(auth.base, -1, EV_TIMEOUT, auth_reply, j,
		    &tv) == -1)
			auth_reply(-1, 0, j);
	}
}

/* auth_login_init - pipe and worker threads (after the jail) */
void
auth_login_init(void)
{
	pthread_t t;
	struct event *ev;
	int	 i;

	if (pipe2(auth_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		log_fatal("pipe: %s", strerror(errno));
	ev = event_new(auth.base, auth_pipe[0], EV_READ | EV_PERSIST,
	    auth_finished, NULL);
	if (ev == NULL || event_add(ev, NULL) == -1)
		log_fatal("cannot watch the worker pipe");
	for (i = 0; i < AUTH_WORKERS; i++)
		if (pthread_create(&t, NULL, auth_worker, NULL) != 0 ||
		    pthread_detach(t) != 0)
			log_fatal("cannot start a worker thread");
}

/* auth_login_fill - decode a request into a job; -1 = malformed */
static int
auth_login_fill(struct auth_job *j, const struct ipc_msg *m)
{
	struct ipc_in in;
	const unsigned char *p;
	char	*client, *mech, *user;
	size_t	 n;
	int	 r = -1;

	ipc_in_init(&in, m);
	j->id = ipc_get_u32(&in);
	client = ipc_get_str(&in, sizeof(j->client) - 1);
	mech = ipc_get_str(&in, 32);
	user = ipc_get_str(&in, SASL_USER_MAX);
	p = ipc_get_bytes(&in, PASSWD_MAX, &n);
	if (client != NULL && mech != NULL && user != NULL && p != NULL &&
	    ipc_get_end(&in) == 0 && *user != '\0' && n > 0) {
		util_strlcpy(j->client, client, sizeof(j->client));
		util_strlcpy(j->user, user, sizeof(j->user));
		memcpy(j->pass, p, n);
		j->pass[n] = '\0';
		j->passlen = n;
		r = memchr(j->pass, '\0', n) != NULL ? -1 : 0;
	}
	free(client);
	free(mech);
	free(user);
	return r;
}

/* auth_login - a login request: queue it for a worker; -1 = bad frame */
int
auth_login(struct auth_conn *c, const struct ipc_msg *m)
{
	const struct users_ent *u;
	struct auth_job *j, **pp;

	j = xcalloc(1, sizeof(*j));
	j->serial = c->serial;
	if (auth_login_fill(j, m) == -1) {
		sodium_memzero(j, sizeof(*j));
		free(j);
		return -1;
	}
	if (auth.pam)
		util_strlcpy(j->canon, j->user, sizeof(j->canon));
	else if ((u = users_find(auth.users, j->user, NULL)) != NULL) {
		j->stored = xstrdup(u->pass);
		util_strlcpy(j->canon, u->name, sizeof(j->canon));
	}
	if (auth_njobs >= AUTH_MAX_JOBS) {
		log_warn("%d logins waiting: answering temporary failure",
		    auth_njobs);
		j->result = IPC_LOGIN_TEMPFAIL;
		auth_reply(-1, 0, j);
		return 0;
	}
	auth_njobs++;
	pthread_mutex_lock(&auth_mu);
	for (pp = &auth_todo; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = j;
	pthread_cond_signal(&auth_cv);
	pthread_mutex_unlock(&auth_mu);
	return 0;
}
