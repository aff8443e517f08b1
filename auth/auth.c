/*
 * auth.c - the credentials and address-lookup broker.
 *
 * Owns the users file and the aliases (read before the jail; master.cf
 * "auth unix - - y - 1 auth" runs it as mail_owner, chrooted to the empty
 * directory queue_directory/empty, so after start-up it can open nothing).
 * A reload restarts it (master), which re-reads both files.
 *
 * Lookups (IPC_AUTH_RCPT: u32 id | str local | str domain):
 *	domain not in mydestination		-> IPC_LOOKUP_NOTLOCAL
 *	an alias (full address or bare local part; with recipient_delimiter
 *	also without the extension) whose every local result is a user, or
 *	else local@domain in the users file	-> IPC_LOOKUP_OK
 *	otherwise (an alias with a local result that is no user: logged)
 *						-> IPC_LOOKUP_NOUSER
 * Answer: IPC_AUTH_RCPT_REPLY u32 id | u32 result.
 *
 * Logins (IPC_AUTH_LOGIN) are checked in worker threads (auth_login.c);
 * sender ownership for reject_sender_login_mismatch is auth_sender.c; the
 * DKIM keys and their signatures (IPC_DKIM_KEYS, IPC_DKIM_SIGN, from
 * smtpd, qmgr and pickup) are auth_dkim.c.
 * smtpd never sees a password hash.  With smtpd_sasl_auth_backend = pam
 * the broker stays root without chroot (PAM modules read /etc/shadow);
 * otherwise it drops to mail_owner in queue_directory/empty.
 *
 * A peer that is not smtpd, qmgr or pickup (SO_PEERCRED: root or
 * mail_owner; HELLO) or sends a bad frame is dropped; the process
 * carries on.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "aliases.h"
#include "addr.h"
#include "ipc.h"
#include "log.h"
#include "passwd.h"
#include "skel.h"
#include "users.h"
#include "util.h"
#include "auth.h"

struct auth auth;
static struct auth_conn *auth_conns;
static uint64_t auth_serial;

/* auth_is_mydest - is a domain ours */
int
auth_is_mydest(const char *domain)
{
	size_t	 i;

	for (i = 0; i < auth.nmydest; i++)
		if (util_strcasecmp_ascii(auth.mydest[i], domain) == 0)
			return 1;
	return 0;
}

/* auth_mydest_cb - aliases_expand's "is this domain ours" */
int
auth_mydest_cb(void *arg, const char *domain)
{
	return domain == NULL || *domain == '\0' || auth_is_mydest(domain);
}

/* auth_user - the users-file entry of local@domain (or of its base) */
const struct users_ent *
auth_user(const char *lp, const char *domain)
{
	const struct users_ent *u;
	char	 base[ADDR_LOCAL_MAX + 1];

	if ((u = users_find(auth.users, lp, domain)) != NULL)
		return u;
	if (addr_base_local(lp, auth.delimiter, base, sizeof(base)) == -1)
		return NULL;
	return users_find(auth.users, base, domain);
}

/*
 * auth_alias_ok - local@domain is an alias (1: every address it expands
 * to can be delivered; -1: one cannot, logged), or not one (0).  A local
 * target that is no user would be accepted and then bounced: backscatter
 * (DESIGN rule 10), so the alias itself is refused at RCPT.
 */
static int
auth_alias_ok(const char *lp, const char *domain)
{
	struct addr a;
	const char *why;
	char	**out;
	size_t	 nout, i;
	int	 rc;

	if ((rc = aliases_resolve(&auth.aq, lp, domain, &out, &nout)) == 0)
		return 0;
	if (rc == -1) {
		log_warn("alias %s@%s: %s; mail to it is refused", log_str(lp),
		    log_str(domain), errno == ELOOP ? "expansion loop or too "
		    "deep" : "expands to too many recipients");
		return -1;
	}
	for (i = 0; i < nout && rc == 1; i++) {
		if (addr_parse_mailbox(out[i], &a, &why) == -1 ||
		    !auth_is_mydest(a.domain) ||
		    auth_user(a.local, a.domain) != NULL)
			continue;
		log_warn("alias %s@%s: %s is not in the users file; mail to "
		    "the alias is refused", log_str(lp), log_str(domain),
		    log_str(out[i]));
		rc = -1;
	}
	aliases_list_free(out, nout);
	return rc;
}

/* auth_lookup - the answer for one address */
static uint32_t
auth_lookup(const char *lp, const char *domain)
{
	if (!auth_is_mydest(domain))
		return IPC_LOOKUP_NOTLOCAL;
	switch (auth_alias_ok(lp, domain)) {
	case 1:
		return IPC_LOOKUP_OK;
	case -1:
		return IPC_LOOKUP_NOUSER;
	default:
		break;
	}
	return auth_user(lp, domain) != NULL ? IPC_LOOKUP_OK :
	    IPC_LOOKUP_NOUSER;
}

/* auth_rcpt - decode and answer one lookup; -1 = malformed */
static int
auth_rcpt(struct auth_conn *c, const struct ipc_msg *m)
{
	struct ipc_in in;
	struct ipc_out o;
	char	*lp = NULL, *domain = NULL;
	uint32_t id, result;
	int	 r = -1;

	ipc_in_init(&in, m);
	id = ipc_get_u32(&in);
	if ((lp = ipc_get_str(&in, ADDR_LOCAL_MAX)) == NULL ||
	    (domain = ipc_get_str(&in, ADDR_DOMAIN_MAX)) == NULL ||
	    ipc_get_end(&in) == -1)
		goto out;
	result = auth_lookup(lp, domain);
	ipc_out_init(&o);
	ipc_put_u32(&o, id);
	ipc_put_u32(&o, result);
	r = ipc_send_out(c->fd, IPC_AUTH_RCPT_REPLY, &o, -1);
	ipc_out_free(&o);
out:
	free(lp);
	free(domain);
	return r;
}

/* auth_conn_find - a live connection by serial (workers' answers) */
struct auth_conn *
auth_conn_find(uint64_t serial)
{
	struct auth_conn *c;

	for (c = auth_conns; c != NULL; c = c->next)
		if (c->serial == serial)
			return c;
	return NULL;
}

/* auth_drop - close one peer */
static void
auth_drop(struct auth_conn *c)
{
	struct auth_conn **pp;

	for (pp = &auth_conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	event_free(c->ev);
	close(c->fd);
	free(c);
}

/* the requests the broker answers (ipc_defs[] says who may send which) */
static const struct auth_handler {
	uint32_t	 type;
	int		(*fn)(struct auth_conn *, const struct ipc_msg *);
} auth_handlers[] = {
	{ IPC_AUTH_RCPT, auth_rcpt },
	{ IPC_AUTH_LOGIN, auth_login },
	{ IPC_AUTH_SENDER, auth_sender },
	{ IPC_DKIM_KEYS, auth_dkim_keys_req },
	{ IPC_DKIM_SIGN, auth_dkim_sign_req },
};

/* auth_dispatch - one request to its handler; -1 = drop the peer */
static int
auth_dispatch(struct auth_conn *c, const struct ipc_msg *m)
{
	size_t	 i;

	for (i = 0; i < NELEM(auth_handlers); i++)
		if (auth_handlers[i].type == m->type)
			return auth_handlers[i].fn(c, m);
	return -1;
}

/* auth_read - frames from a peer */
static void
auth_read(evutil_socket_t fd, short what, void *arg)
{
	struct auth_conn *c = arg;
	struct ipc_msg m;
	int	 r;

	for (;;) {
		if ((r = ipc_next(c->fd, &c->role, IPC_R_SMTPD | IPC_R_QMGR |
		    IPC_R_PICKUP, IPC_R_AUTH, &m)) <= 0) {
			if (r == -1)
				auth_drop(c);
			return;
		}
		r = auth_dispatch(c, &m);
		ipc_msg_free(&m);
		if (r == -1) {
			log_warn("dropping peer after a bad request");
			auth_drop(c);
			return;
		}
	}
}

/* auth_accept - a new peer */
static void
auth_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct auth_conn *c;
	int	 fd;

	while ((fd = ipc_accept(lfd, auth.peer_uid, "connection")) != -1) {
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->serial = ++auth_serial;
		c->ev = event_new(auth.base, fd, EV_READ | EV_PERSIST,
		    auth_read, c);
		event_add(c->ev, NULL);
		c->next = auth_conns;
		auth_conns = c;
	}
}

/* auth_dummy_scheme - the scheme most users have (unknown-user checks) */
static void
auth_dummy_scheme(void)
{
	static const char *schemes[] = { "ARGON2ID", "SHA512-CRYPT",
	    "SHA256-CRYPT", "BLF-CRYPT" };
	size_t	 count[NELEM(schemes)] = { 0 }, i, k, best = 0;
	char	 sch[32];

	for (i = 0; i < auth.users->n; i++) {
		users_scheme(auth.users->ent[i].pass, sch, sizeof(sch));
		for (k = 0; k < NELEM(schemes); k++)
			if (strcmp(sch, schemes[k]) == 0)
				count[k]++;
	}
	for (k = 1; k < NELEM(schemes); k++)
		if (count[k] > count[best])
			best = k;
	util_strlcpy(auth.dummy_scheme, schemes[best],
	    sizeof(auth.dummy_scheme));
}

/* auth_pre_jail - read the users file and aliases */
static void
auth_pre_jail(struct skel *sk)
{
	char	**v, err[512];
	size_t	 n, i;

	if ((auth.users = users_load(cfg_str(sk->cfg, "users_file"), err,
	    sizeof(err))) == NULL)
		log_fatal("users_file: %s", err);
	for (i = 0; i < auth.users->nwarn; i++)
		log_warn("%s", auth.users->warn[i]);
	v = cfg_list(sk->cfg, "alias_maps", &n);
	if ((auth.aliases = aliases_load_maps(v, n, &auth.naliases, err,
	    sizeof(err))) == NULL)
		log_fatal("alias_maps: %s", err);
	cfg_list_free(v, n);
	for (i = 0; i < auth.naliases; i++)
		for (size_t k = 0; k < auth.aliases[i]->nwarn; k++)
			log_warn("%s", auth.aliases[i]->warn[k]);
	auth.mydest = cfg_list(sk->cfg, "mydestination", &auth.nmydest);
	auth.delimiter = cfg_str(sk->cfg, "recipient_delimiter");
	auth.myorigin = xstrdup(cfg_str(sk->cfg, "myorigin"));
	util_lowercase(auth.myorigin);
	auth.aq.tabs = auth.aliases;
	auth.aq.ntabs = auth.naliases;
	auth.aq.delims = auth.delimiter;
	auth.aq.origin = cfg_bool(sk->cfg, "append_at_myorigin") ?
	    auth.myorigin : NULL;
	auth.aq.is_local = auth_mydest_cb;
	auth.peer_uid = sk->owner_uid;
	if (auth_sender_init(cfg_str(sk->cfg, "smtpd_sender_login_maps"), err,
	    sizeof(err)) == -1)
		log_fatal("smtpd_sender_login_maps: %s", err);
	auth_dummy_scheme();
	auth_dkim_load(cfg_str(sk->cfg, "config_directory"), geteuid());
	auth.pam = strcmp(cfg_str(sk->cfg, "smtpd_sasl_auth_backend"),
	    "pam") == 0;
	auth.pam_service = cfg_str(sk->cfg, "smtpd_sasl_pam_service");
	if (auth.pam) {
		/* PAM modules read /etc/shadow: stay root, no chroot */
		sk->unpriv = 0;
		sk->chroot = 0;
		log_info("password checks by PAM service \"%s\": running as "
		    "root without chroot", log_str(auth.pam_service));
	}
}

/* auth_post_jail - serve */
static void
auth_post_jail(struct skel *sk)
{
	struct event *ev;

	auth.base = sk->base;
	auth_login_init();
	if (sk->nlisten != 1)
		log_fatal("expected one listening socket from master");
	util_set_nonblock(sk->listen_fd[0], 1);
	ev = event_new(sk->base, sk->listen_fd[0], EV_READ | EV_PERSIST,
	    auth_accept, NULL);
	event_add(ev, NULL);
	log_debug("%zu users, %zu alias tables", auth.users->n,
	    auth.naliases);
}

static const struct skel_ops auth_ops = {
	.name = "auth",
	.flags = SKEL_F_CHROOT_EMPTY,
	.pre_jail = auth_pre_jail,
	.post_jail = auth_post_jail,
};

/* main - run the broker */
int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &auth_ops);
}
