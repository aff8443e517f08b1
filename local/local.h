/*
 * local.h - local delivery: aliases, users, Maildir.
 */
#ifndef YOUJU_LOCAL_H
#define YOUJU_LOCAL_H

#include <sys/types.h>
#include <stdint.h>

#include "aliases.h"
#include "qfile.h"

struct users;
struct cfg;

struct local {
	struct cfg	*cfg;
	struct users	*users;
	struct aliases	**aliases;
	size_t		 naliases;
	char		**mydest;
	size_t		 nmydest;
	const char	*home_mailbox;
	const char	*mailbox_base;
	uid_t		 owner_uid;	/* mailbox_owner */
	gid_t		 owner_gid;
	uint64_t	 size_limit;	/* mailbox_size_limit, 0 = none */
	char		 hostname[256];	/* for Maildir file names */
	const char	*delimiter;	/* recipient_delimiter */
	struct aliases_query aq;	/* alias_maps and how to resolve */
	char		*myorigin;	/* lower case */
	uid_t		 peer_uid;	/* mail_owner: who may ask */
	unsigned	 count;		/* deliveries by this process */
};

extern struct local local;

/* one delivery, as local_maildir_deliver needs it */
struct local_target {
	const char	*rcpt;		/* the recipient as addressed */
	const char	*sender;
	const char	*maildir;	/* absolute path ending in '/' */
	const char	*home;
	uid_t		 uid;
	gid_t		 gid;
};

/* three-way result; text is "X.Y.Z text" */
#define LOCAL_OK	0
#define LOCAL_TEMP	1
#define LOCAL_PERM	2

/* local_dir.c */
int	 local_become(uid_t, gid_t);
void	 local_unbecome(void);
int	 local_dir_home(const struct local_target *, char *, size_t);
int	 local_dir_sub(int, const char *);

int	 local_maildir_deliver(int, const struct qfile_msg *,
	    const struct local_target *, char *, size_t);
int	 local_has_delivered_to(int, const struct qfile_msg *, const char *);

#endif
