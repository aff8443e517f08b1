/*
 * local.c - the local delivery process: main(), requests from qmgr,
 * aliases and the users file.
 *
 * Runs as root without chroot (master.cf: local unix - n n - - local): it
 * must write into every user's Maildir, which it does with the user's
 * effective ids (local_maildir.c).  One request at a time per process:
 * accept a connection on private/local, check it is qmgr (SO_PEERCRED +
 * HELLO), read one IPC_LOCAL_DELIVER with the queue file's descriptor,
 * deliver each recipient, answer IPC_LOCAL_RESULT, close.
 *
 * Per recipient (local@domain, domain in mydestination):
 *  1. aliases (unless the recipient is itself an alias result): expanded
 *     recursively; the final addresses go back to qmgr, which records them
 *     as new recipients (X records) and delivers each.
 *  2. the users file: unknown -> permanent failure 5.1.1.
 *  3. Delivered-To loop check, then Maildir delivery as the user's uid/gid
 *     (or mailbox_owner's for entries without them), to home/home_mailbox
 *     (home defaults to mailbox_base/DOMAIN/LOCAL).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "privdrop.h"
#include "qfile.h"
#include "skel.h"
#include "users.h"
#include "util.h"
#include "local.h"

#define LOCAL_MAX_RCPT		1000
#define LOCAL_ADDR_MAX		(QFILE_ADDR_MAX + 1)

struct local local;

struct local_req {
	int		 qfd;
	char		*qid;
	char		*sender;
	struct qfile_msg q;
	int		 have_q;
	struct ipc_out	 res;		/* results being built */
	uint32_t	 nres;
	struct ipc_out	 exp;		/* expansions: u32 parent, str addr */
	uint32_t	 nexp;
	char		**done;		/* Maildirs delivered to, this request */
	size_t		 ndone;
};

/* local_is_mydest - is a domain ours */
static int
local_is_mydest(void *arg, const char *domain)
{
	size_t	 i;

	if (domain == NULL || *domain == '\0')
		return 1;
	for (i = 0; i < local.nmydest; i++)
		if (util_strcasecmp_ascii(local.mydest[i], domain) == 0)
			return 1;
	return 0;
}

/* local_result - append one recipient's result */
static void
local_result(struct local_req *r, uint32_t idx, uint32_t st,
    const char *text)
{
	ipc_put_u32(&r->res, idx);
	ipc_put_u32(&r->res, st);
	ipc_put_str(&r->res, text);
	r->nres++;
}

/* local_split - local@domain into parts; the domain is lowercased */
static int
local_split(const char *addr, char *lp, size_t lplen, char *dom,
    size_t domlen)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL || (size_t)(at - addr) >= lplen ||
	    util_strlcpy(dom, at + 1, domlen) >= domlen)
		return -1;
	memcpy(lp, addr, (size_t)(at - addr));
	lp[at - addr] = '\0';
	util_lowercase(dom);
	return 0;
}

/* local_alias - expand an alias; 1 = expanded (results added), 0 = none */
static int
local_alias(struct local_req *r, uint32_t idx, const char *addr,
    const char *lp, const char *dom)
{
	char	**out = NULL;
	size_t	 nout = 0, i;
	int	 rc;

	if ((rc = aliases_resolve(&local.aq, lp, dom, &out, &nout)) == 0)
		return 0;
	if (rc == -1) {
		local_result(r, idx, IPC_DLV_PERMFAIL, errno == ELOOP ?
		    "5.4.6 alias expansion loop or too deep" :
		    "5.3.0 alias expands to too many recipients");
		return 1;
	}
	for (i = 0; i < nout; i++) {
		ipc_put_u32(&r->exp, idx);
		ipc_put_str(&r->exp, out[i]);
		r->nexp++;
	}
	aliases_list_free(out, nout);
	log_debug("%s: %s expanded to %zu addresses", r->qid, log_str(addr),
	    nout);
	local_result(r, idx, IPC_DLV_EXPANDED, "alias expanded");
	return 1;
}

/* local_done - was this Maildir delivered to in this request */
static int
local_done(const struct local_req *r, const char *md)
{
	size_t	 i;

	for (i = 0; i < r->ndone; i++)
		if (strcmp(r->done[i], md) == 0)
			return 1;
	return 0;
}

/* local_user - find the users-file entry (full, then without extension) */
static const struct users_ent *
local_user(const char *lp, const char *dom)
{
	const struct users_ent *u;
	char	 base[LOCAL_ADDR_MAX];

	if ((u = users_find(local.users, lp, dom)) != NULL)
		return u;
	if (addr_base_local(lp, local.delimiter, base, sizeof(base)) == -1)
		return NULL;
	return users_find(local.users, base, dom);
}

/*
 * local_mailbox - the users-file entry of local@domain and its Maildir:
 * ids, home and Maildir path filled in; 0, or -1 with a result text (no
 * such user: 5.1.1, else a 4xx)
 */
static int
local_mailbox(const char *lp, const char *dom, struct local_target *t,
    char *home, char *md, const char **why)
{
	const struct users_ent *u;

	if ((u = local_user(lp, dom)) == NULL) {
		*why = "5.1.1 unknown user in the users file";
		return -1;
	}
	t->uid = u->uid >= 0 ? (uid_t)u->uid : local.owner_uid;
	t->gid = u->gid >= 0 ? (gid_t)u->gid : local.owner_gid;
	if (t->uid == 0) {
		*why = "4.3.0 will not deliver as root (users file)";
		return -1;
	}
	if (u->home[0] != '\0')
		util_strlcpy(home, u->home, PATH_MAX);
	else
		snprintf(home, PATH_MAX, "%s/%s/%s", local.mailbox_base,
		    u->domain[0] != '\0' ? u->domain : dom, u->local);
	if (util_fmt(md, PATH_MAX, "%s/%s", home, local.home_mailbox) == -1) {
		*why = "4.3.0 mailbox path too long";
		return -1;
	}
	t->maildir = md;
	t->home = home;
	return 0;
}

/* local_done_add - this Maildir has the message now */
static void
local_done_add(struct local_req *r, const char *md)
{
	r->done = xreallocarray(r->done, r->ndone + 1, sizeof(*r->done));
	r->done[r->ndone++] = xstrdup(md);
}

/*
 * local_done_init - the Maildirs that earlier requests for this message
 * delivered to (its local recipients with a "delivered" D record), so an
 * alias result or a second name of a mailbox delivered to before is not
 * written again: one copy per mailbox per message
 */
static void
local_done_init(struct local_req *r)
{
	char	 lp[LOCAL_ADDR_MAX], dom[LOCAL_ADDR_MAX], home[PATH_MAX];
	char	 md[PATH_MAX];
	const char *why;
	struct local_target t;
	size_t	 i;

	for (i = 0; i < r->q.nrcpt; i++)
		if (r->q.rcpt[i].status == QFILE_ST_DELIVERED &&
		    local_split(r->q.rcpt[i].addr, lp, sizeof(lp), dom,
		    sizeof(dom)) == 0 && local_is_mydest(NULL, dom) &&
		    local_mailbox(lp, dom, &t, home, md, &why) == 0 &&
		    !local_done(r, md))
			local_done_add(r, md);
}

/* local_one - deliver to one recipient and record its result */
static void
local_one(struct local_req *r, uint32_t idx, uint32_t flags,
    const char *addr)
{
	char	 lp[LOCAL_ADDR_MAX], dom[LOCAL_ADDR_MAX], home[PATH_MAX];
	char	 md[PATH_MAX], why[PATH_MAX + 128];
	const char *text;
	struct local_target t;
	int	 st;

	if (local_split(addr, lp, sizeof(lp), dom, sizeof(dom)) == -1 ||
	    !local_is_mydest(NULL, dom)) {
		local_result(r, idx, IPC_DLV_TEMPFAIL,
		    "4.3.5 not a local address (configuration mismatch)");
		return;
	}
	if (!(flags & IPC_RF_NOALIAS) && local_alias(r, idx, addr, lp, dom))
		return;
	memset(&t, 0, sizeof(t));
	if (local_mailbox(lp, dom, &t, home, md, &text) == -1) {
		if (t.uid == 0 && text[0] == '4')
			log_err("%s: refusing to deliver to %s as root: give "
			    "the user a uid in the users file", r->qid,
			    log_str(addr));
		local_result(r, idx, text[0] == '5' ? IPC_DLV_PERMFAIL :
		    IPC_DLV_TEMPFAIL, text);
		return;
	}
	if (local_has_delivered_to(r->qfd, &r->q, addr)) {
		local_result(r, idx, IPC_DLV_PERMFAIL,
		    "5.4.6 mail forwarding loop (Delivered-To: already "
		    "present)");
		return;
	}
	if (local_done(r, md)) {
		/* one copy per mailbox: alice and alice+ext, two aliases */
		local_result(r, idx, IPC_DLV_OK, "2.0.0 delivered to maildir "
		    "(once for several recipients of this mailbox)");
		return;
	}
	t.rcpt = addr;
	t.sender = r->sender;
	st = local_maildir_deliver(r->qfd, &r->q, &t, why, sizeof(why));
	if (st == LOCAL_OK)
		local_done_add(r, md);
	local_result(r, idx, st == LOCAL_OK ? IPC_DLV_OK : st == LOCAL_PERM ?
	    IPC_DLV_PERMFAIL : IPC_DLV_TEMPFAIL, why);
}

/* local_request - decode a DELIVER and run it; -1 = malformed */
static int
local_request(struct local_req *r, const struct ipc_msg *m)
{
	struct ipc_in in;
	char	 err[256];
	char	*addr;
	uint32_t n, i, idx, flags;

	ipc_in_init(&in, m);
	r->qfd = m->fd;
	if ((r->qid = ipc_get_str(&in, QID_LEN)) == NULL ||
	    (r->sender = ipc_get_str(&in, QFILE_ADDR_MAX)) == NULL)
		return -1;
	n = ipc_get_u32(&in);
	if (n == 0 || n > LOCAL_MAX_RCPT)
		return -1;
	if (qfile_read(r->qfd, &r->q, err, sizeof(err)) != QFILE_OK) {
		log_err("%s: cannot read the queue file: %s", r->qid, err);
		return -1;
	}
	r->have_q = 1;
	local_done_init(r);
	for (i = 0; i < n; i++) {
		idx = ipc_get_u32(&in);
		flags = ipc_get_u32(&in);
		if ((addr = ipc_get_str(&in, QFILE_ADDR_MAX)) == NULL)
			return -1;
		local_one(r, idx, flags, addr);
		free(addr);
	}
	return ipc_get_end(&in);
}

/* local_answer - send the RESULT frame */
static int
local_answer(int fd, struct local_req *r)
{
	struct ipc_out o;
	int	 rc;

	ipc_out_init(&o);
	ipc_put_str(&o, r->qid);
	ipc_put_u32(&o, r->nres);
	if (r->res.b.len > 0)
		buf_append(&o.b, r->res.b.data, r->res.b.len);
	ipc_put_u32(&o, r->nexp);
	if (r->exp.b.len > 0)
		buf_append(&o.b, r->exp.b.data, r->exp.b.len);
	rc = ipc_send_out(fd, IPC_LOCAL_RESULT, &o, -1);
	ipc_out_free(&o);
	return rc;
}

/* local_serve - one connection from qmgr */
static void
local_serve(int fd)
{
	struct local_req r;
	struct ipc_msg m;

	if (ipc_serve_request(fd, local.peer_uid, IPC_R_LOCAL, &m) == -1)
		return;
	memset(&r, 0, sizeof(r));
	r.qfd = -1;
	ipc_out_init(&r.res);
	ipc_out_init(&r.exp);
	if (m.type != IPC_LOCAL_DELIVER || local_request(&r, &m) == -1)
		log_warn("malformed delivery request from qmgr");
	else if (local_answer(fd, &r) == -1)
		log_warn("%s: cannot answer qmgr: %s", r.qid, strerror(errno));
	if (r.have_q)
		qfile_msg_free(&r.q);
	free(r.qid);
	free(r.sender);
	ipc_out_free(&r.res);
	ipc_out_free(&r.exp);
	for (size_t i = 0; i < r.ndone; i++)
		free(r.done[i]);
	free(r.done);
	ipc_msg_free(&m);
}

/* local_accept - the listening socket is readable */
static void
local_accept(evutil_socket_t lfd, short what, void *arg)
{
	int	 fd;

	/* the accepted socket is blocking (SOCK_NONBLOCK not given) */
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	local_serve(fd);
	close(fd);
}

/* local_pre_jail - tables and settings (local stays root, no chroot) */
static void
local_pre_jail(struct skel *sk)
{
	char	 err[512], **v;
	size_t	 i, n;

	local.cfg = sk->cfg;
	if ((local.users = users_load(cfg_str(sk->cfg, "users_file"), err,
	    sizeof(err))) == NULL)
		log_fatal("users_file: %s", err);
	for (i = 0; i < local.users->nwarn; i++)
		log_warn("%s", local.users->warn[i]);
	v = cfg_list(sk->cfg, "alias_maps", &n);
	if ((local.aliases = aliases_load_maps(v, n, &local.naliases, err,
	    sizeof(err))) == NULL)
		log_fatal("alias_maps: %s", err);
	cfg_list_free(v, n);
	local.mydest = cfg_list(sk->cfg, "mydestination", &local.nmydest);
	local.home_mailbox = cfg_str(sk->cfg, "home_mailbox");
	local.mailbox_base = cfg_str(sk->cfg, "mailbox_base");
	local.size_limit = (uint64_t)cfg_int(sk->cfg, "mailbox_size_limit");
	local.delimiter = cfg_str(sk->cfg, "recipient_delimiter");
	local.myorigin = xstrdup(cfg_str(sk->cfg, "myorigin"));
	util_lowercase(local.myorigin);
	local.aq.tabs = local.aliases;
	local.aq.ntabs = local.naliases;
	local.aq.delims = local.delimiter;
	local.aq.origin = cfg_bool(sk->cfg, "append_at_myorigin") ?
	    local.myorigin : NULL;
	local.aq.is_local = local_is_mydest;
	if (privdrop_lookup(cfg_str(sk->cfg, "mailbox_owner"),
	    &local.owner_uid, &local.owner_gid) == -1)
		log_fatal("mailbox_owner %s: no such user",
		    log_str(cfg_str(sk->cfg, "mailbox_owner")));
	local.peer_uid = sk->owner_uid;
	if (gethostname(local.hostname, sizeof(local.hostname) - 1) == -1)
		util_strlcpy(local.hostname, "localhost",
		    sizeof(local.hostname));
}

/* local_post_jail - wait for requests */
static void
local_post_jail(struct skel *sk)
{
	struct event *ev;

	if (sk->nlisten != 1)
		log_fatal("expected one listening socket from master");
	/* workers share the socket: the ones that lose a race must not block */
	util_set_nonblock(sk->listen_fd[0], 1);
	ev = event_new(sk->base, sk->listen_fd[0], EV_READ | EV_PERSIST,
	    local_accept, NULL);
	event_add(ev, NULL);
}

static const struct skel_ops local_ops = {
	.name = "local",
	.flags = SKEL_F_STAY_ROOT | SKEL_F_NO_CHROOT,
	.pre_jail = local_pre_jail,
	.post_jail = local_post_jail,
};

/* main - run a local delivery process */
int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &local_ops);
}
