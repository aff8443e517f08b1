/*
 * auth.h - the credentials and address broker's shared state.
 */
#ifndef YOUJU_AUTH_H
#define YOUJU_AUTH_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "aliases.h"

struct event_base;
struct event;
struct users;
struct users_ent;
struct map;

struct auth {
	struct users	*users;
	struct aliases	**aliases;
	size_t		 naliases;
	struct map	**login_maps;	/* smtpd_sender_login_maps */
	size_t		 nlogin_maps;
	char		**mydest;
	size_t		 nmydest;
	const char	*delimiter;
	char		*myorigin;	/* lower case */
	struct aliases_query aq;	/* alias_maps and how to resolve */
	uid_t		 peer_uid;
	struct event_base *base;
	int		 pam;		/* smtpd_sasl_auth_backend = pam */
	const char	*pam_service;
	char		 dummy_scheme[32];	/* for unknown users */
};

struct auth_conn {
	int		 fd;
	unsigned	 role;
	uint64_t	 serial;	/* identifies the connection to workers */
	struct event	*ev;
	struct auth_conn *next;
};

extern struct auth auth;

/* auth.c */
struct auth_conn *auth_conn_find(uint64_t);
int	 auth_is_mydest(const char *);
int	 auth_mydest_cb(void *, const char *);
const struct users_ent *auth_user(const char *, const char *);

/* auth_login.c: IPC_AUTH_LOGIN, verified in worker threads */
void	 auth_login_init(void);
int	 auth_login(struct auth_conn *, const struct ipc_msg *);

/* auth_dkim.c: the DKIM keys, IPC_DKIM_KEYS and IPC_DKIM_SIGN */
void	 auth_dkim_load(const char *, uid_t);
int	 auth_dkim_keys_req(struct auth_conn *, const struct ipc_msg *);
int	 auth_dkim_sign_req(struct auth_conn *, const struct ipc_msg *);

/* auth_sender.c: IPC_AUTH_SENDER, who may use a sender address */
int	 auth_sender_init(const char *, char *, size_t);
int	 auth_sender(struct auth_conn *, const struct ipc_msg *);

#endif
