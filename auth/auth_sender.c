/*
 * auth_sender.c - who may use an envelope sender (IPC_AUTH_SENDER), for
 * smtpd's reject_sender_login_mismatch.
 *
 * With smtpd_sender_login_maps set, its files are read at start: lines
 * "address  login, login ..." ('#' comments; "@domain" as a catch-all for a
 * domain; "type:" prefixes like "hash:" are ignored).  The owners of a
 * sender are those of the full address, else those of "@domain".
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
#include "users.h"
#include "util.h"
#include "auth.h"

#define AUTH_MAX_OWNERS	64
#define AUTH_MAP_MAX	(16 * 1024 * 1024)

struct auth_map_ent {
	char	 *key;		/* lowercased address or @domain */
	char	**owners;
	size_t	  nowners;
};

struct auth_map {
	struct auth_map_ent *ent;
	size_t		 n;
};

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

/* auth_map_line - one "key value, value" line */
static int
auth_map_line(struct auth_map *m, char *line)
{
	struct auth_map_ent *e;
	char	*key, *rest, **v;
	size_t	 n;

	line = util_trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	key = line;
	rest = key + strcspn(key, " \t");
	if (*rest == '\0')
		return -1;
	*rest++ = '\0';
	v = cfg_split_list(rest, &n);
	if (n == 0) {
		cfg_list_free(v, n);
		return -1;
	}
	m->ent = xreallocarray(m->ent, m->n + 1, sizeof(*m->ent));
	e = &m->ent[m->n++];
	e->key = xstrdup(key);
	util_lowercase(e->key);
	e->owners = v;
	e->nowners = n;
	return 0;
}

/* auth_map_load - read one map file into m */
static int
auth_map_load(struct auth_map *m, const char *path, char *err,
    size_t errlen)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0, total = 0;
	ssize_t	 len;
	int	 lineno = 0;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		total += (size_t)len;
		if (total > AUTH_MAP_MAX) {
			snprintf(err, errlen, "%s: file too large", path);
			break;
		}
		if (len > 65536) {
			log_warn("%s:%d: line longer than 65536 bytes; line "
			    "ignored", path, lineno);
			continue;
		}
		if (auth_map_line(m, line) == -1)
			log_warn("%s:%d: expected \"address login, ...\"; "
			    "line ignored", path, lineno);
	}
	free(line);
	fclose(f);
	return total > AUTH_MAP_MAX ? -1 : 0;
}

/* auth_sender_init - load smtpd_sender_login_maps (may be empty) */
int
auth_sender_init(const char *maps, char *err, size_t errlen)
{
	char	**v;
	const char *p;
	size_t	 n, i;
	int	 r = 0;

	v = cfg_split_list(maps, &n);
	if (n > 0)
		auth.login_map = xcalloc(1, sizeof(*auth.login_map));
	for (i = 0; i < n && r == 0; i++) {
		p = strchr(v[i], ':');
		p = (p != NULL && p[1] == '/') ? p + 1 : v[i];
		r = auth_map_load(auth.login_map, p, err, errlen);
	}
	cfg_list_free(v, n);
	return r;
}

/* auth_map_owners - owners from the login map */
static void
auth_map_owners(const char *sender, struct auth_owners *o)
{
	const struct auth_map *m = auth.login_map;
	const char *at = strrchr(sender, '@');
	size_t	 i, k;
	int	 pass;

	for (pass = 0; pass < 2 && o->n == 0; pass++) {
		const char *key = pass == 0 ? sender : at;

		if (key == NULL)
			continue;
		for (i = 0; i < m->n; i++)
			if (util_strcasecmp_ascii(m->ent[i].key, key) == 0)
				for (k = 0; k < m->ent[i].nowners; k++)
					auth_owner_add(o, m->ent[i].owners[k]);
	}
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
	uint32_t id;
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
	if (auth.login_map != NULL)
		auth_map_owners(sender, &o);
	else
		auth_default_owners(sender, &o);
	ipc_out_init(&out);
	ipc_put_u32(&out, id);
	ipc_put_u32(&out, IPC_LOOKUP_OK);
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
