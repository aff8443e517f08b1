/*
 * auth_sender.c - who may use an envelope sender (IPC_AUTH_SENDER), for
 * smtpd's reject_sender_login_mismatch.
 *
 * With smtpd_sender_login_maps set, its tables (lib/maps: hash: built with
 * "mailctl map", texthash:, regexp:, pcre:, ...) are opened at start and
 * looked up as Postfix does: the address, the address without its
 * extension, "@domain"; the value is a list of logins.  A changed table
 * is read again where its path can be reached; from the chroot it cannot,
 * and "mailctl reload" (a new auth process) picks the change up.
 *
 * Without maps (the default), the owners come from the users file and the
 * aliases: the user whose address the sender is, and, when the sender is
 * an alias in one of our domains, every user it expands to.  An address in
 * a domain we do not serve has no owner.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "maps.h"
#include "users.h"
#include "util.h"
#include "auth.h"

#define AUTH_MAX_OWNERS	64

struct auth_owners {
	char		*v[AUTH_MAX_OWNERS];
	size_t		 n;
};

/* auth_owner_add - remember an owner once */
static void
auth_owner_add(struct auth_owners *o, const char *login)
{
	size_t	 i;

	for (i = 0; i < o->n; i++)
		if (util_strcasecmp_ascii(o->v[i], login) == 0)
			return;
	if (o->n < AUTH_MAX_OWNERS)
		o->v[o->n++] = xstrdup(login);
}

/*
 * auth_sender_init - open the smtpd_sender_login_maps tables (none: the
 * default owners); before the jail, as the tables are outside it
 */
int
auth_sender_init(const char *maps, char *err, size_t errlen)
{
	char	**v;
	size_t	 n, i;
	int	 r = 0;

	v = cfg_split_list(maps, &n);
	auth.login_maps = xcalloc(n + 1, sizeof(*auth.login_maps));
	for (i = 0; i < n && r == 0; i++) {
		if ((auth.login_maps[i] = maps_open(v[i], NULL, err,
		    errlen)) == NULL)
			r = -1;
		else
			auth.nlogin_maps++;
	}
	cfg_list_free(v, n);
	return r;
}

/*
 * auth_map_find - one table, in Postfix's order for this table
 * (mail_addr_find): user+ext@domain, user@domain, @domain; a pattern
 * table sees the whole address only.  MAPS_FOUND, _NOTFOUND, _TEMPFAIL.
 */
static int
auth_map_find(struct map *m, const char *sender, struct buf *val)
{
	const char *at = strrchr(sender, '@');
	char	 key[ADDR_TEXT_MAX + 2];
	size_t	 base;
	int	 r;

	if ((r = maps_lookup(m, sender, val)) != MAPS_NOTFOUND ||
	    maps_is_pattern(m) || at == NULL)
		return r;
	base = maps_split_ext(sender, (size_t)(at - sender), auth.delimiter);
	if (base > 0 && util_fmt(key, sizeof(key), "%.*s%s", (int)base,
	    sender, at) == 0 &&
	    (r = maps_lookup(m, key, val)) != MAPS_NOTFOUND)
		return r;
	return maps_lookup(m, at, val);
}

/*
 * auth_map_owners - owners from smtpd_sender_login_maps: the value of the
 * first table that has the sender, a list of logins ("alice, bob");
 * IPC_LOOKUP_OK or, when a table cannot answer, IPC_LOOKUP_TEMPFAIL
 */
static int
auth_map_owners(const char *sender, struct auth_owners *o)
{
	struct buf val;
	char	**v;
	size_t	 i, k, n;
	int	 r = MAPS_NOTFOUND;

	buf_init(&val, MAPS_VALUE_MAX + 1);
	for (i = 0; i < auth.nlogin_maps && r == MAPS_NOTFOUND; i++) {
		r = auth_map_find(auth.login_maps[i], sender, &val);
		if (r == MAPS_TEMPFAIL)
			log_warn("smtpd_sender_login_maps: %s: %s",
			    maps_spec(auth.login_maps[i]),
			    maps_error(auth.login_maps[i]));
		else if (maps_stale(auth.login_maps[i]))
			log_warn("%s has changed but cannot be read again "
			    "from the chroot: \"mailctl reload\" picks the "
			    "change up", maps_spec(auth.login_maps[i]));
	}
	if (r == MAPS_FOUND) {
		v = cfg_split_list(buf_cstr(&val), &n);
		for (k = 0; k < n; k++)
			auth_owner_add(o, v[k]);
		cfg_list_free(v, n);
	}
	buf_free(&val);
	return r == MAPS_TEMPFAIL ? IPC_LOOKUP_TEMPFAIL : IPC_LOOKUP_OK;
}

/* auth_default_owners - owners from the users file and aliases */
static void
auth_default_owners(const char *sender, struct auth_owners *o)
{
	struct addr a, t;
	const struct users_ent *u;
	const char *why;
	char	**out = NULL;
	size_t	 nout = 0, i;

	if (addr_parse_mailbox(sender, &a, &why) == -1 ||
	    !auth_is_mydest(a.domain))
		return;
	if ((u = users_find(auth.users, a.local, a.domain)) != NULL)
		auth_owner_add(o, u->name);
	if (aliases_resolve(&auth.aq, a.local, a.domain, &out, &nout) != 1)
		return;
	for (i = 0; i < nout; i++)
		if (addr_parse_mailbox(out[i], &t, &why) == 0 &&
		    (u = users_find(auth.users, t.local, t.domain)) != NULL)
			auth_owner_add(o, u->name);
	aliases_list_free(out, nout);
}

/* auth_sender - answer one IPC_AUTH_SENDER; -1 = malformed */
int
auth_sender(struct auth_conn *c, const struct ipc_msg *m)
{
	struct auth_owners o;
	struct ipc_in in;
	struct ipc_out out;
	char	*sender;
	uint32_t id, status;
	size_t	 i;
	int	 r;

	ipc_in_init(&in, m);
	id = ipc_get_u32(&in);
	if ((sender = ipc_get_str(&in, 1024)) == NULL ||
	    ipc_get_end(&in) == -1) {
		free(sender);
		return -1;
	}
	o.n = 0;
	status = IPC_LOOKUP_OK;
	if (auth.nlogin_maps > 0)
		status = auth_map_owners(sender, &o);
	else
		auth_default_owners(sender, &o);
	if (status != IPC_LOOKUP_OK)
		while (o.n > 0)
			free(o.v[--o.n]);
	ipc_out_init(&out);
	ipc_put_u32(&out, id);
	ipc_put_u32(&out, status);
	ipc_put_u32(&out, (uint32_t)o.n);
	for (i = 0; i < o.n; i++) {
		ipc_put_str(&out, o.v[i]);
		free(o.v[i]);
	}
	r = ipc_send_out(c->fd, IPC_AUTH_SENDER_REPLY, &out, -1);
	ipc_out_free(&out);
	free(sender);
	return r;
}
