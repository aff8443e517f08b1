/*
 * privdrop.c - the privilege drop, written once (see privdrop.h).
 *
 * Interface: privdrop_lookup() before the jail, privdrop() to enter it and
 * become the unprivileged user, privdrop_harden() for no new privileges and
 * no core dumps.  privdrop() calls privdrop_harden() itself at the end.
 *
 * Errors: none returned.  A step that fails is fatal (log_fatal): a process
 * must never go on half-dropped.  Started by a non-root user (development),
 * privdrop() keeps that user, skips the chroot and says so once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* setresuid, getresuid */
#endif

#include <sys/types.h>
#include <sys/prctl.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"
#include "util.h"

#define PRIVDROP_PWBUF_MAX	(1024 * 1024)

/* privdrop_lookup - uid and gid of a user name; -1 (errno) when unknown */
int
privdrop_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char	*buf;
	size_t	 size = 4096;
	int	 r;

	for (;;) {
		buf = xmalloc(size);
		r = getpwnam_r(name, &pw, buf, size, &res);
		if (r != ERANGE || size >= PRIVDROP_PWBUF_MAX)
			break;
		free(buf);
		size *= 2;
	}
	if (r == 0 && res != NULL) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(buf);
	if (r != 0) {
		errno = r;
		return -1;
	}
	if (res == NULL) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* privdrop_unprivileged - development run: stay who we are, say so once */
static void
privdrop_unprivileged(uid_t uid, gid_t gid)
{
	static int said;

	if (uid != getuid() || uid != geteuid() || gid != getgid() ||
	    gid != getegid())
		log_fatal("privdrop: cannot switch to uid %lu gid %lu: "
		    "not running as root", (unsigned long)uid,
		    (unsigned long)gid);
	if (!said)
		log_info("running as uid %lu without privilege separation",
		    (unsigned long)uid);
	said = 1;
}

/* privdrop_verify - all ids are the target and root cannot come back */
static void
privdrop_verify(uid_t uid, gid_t gid)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg, groups[2];
	int	 n;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		log_fatal("privdrop: getresuid/getresgid: %s", strerror(errno));
	if (ru != uid || eu != uid || su != uid)
		log_fatal("privdrop: uids are %lu/%lu/%lu, not %lu",
		    (unsigned long)ru, (unsigned long)eu, (unsigned long)su,
		    (unsigned long)uid);
	if (rg != gid || eg != gid || sg != gid)
		log_fatal("privdrop: gids are %lu/%lu/%lu, not %lu",
		    (unsigned long)rg, (unsigned long)eg, (unsigned long)sg,
		    (unsigned long)gid);
	n = getgroups((int)NELEM(groups), groups);
	if (n < 0 || n > 1 || (n == 1 && groups[0] != gid))
		log_fatal("privdrop: supplementary groups were not dropped");
	if (setuid(0) != -1 || seteuid(0) != -1)
		log_fatal("privdrop: uid 0 can be regained");
	if (gid != 0 && (setgid(0) != -1 || setegid(0) != -1))
		log_fatal("privdrop: gid 0 can be regained");
}

/*
 * privdrop - enter chroot_dir (NULL: none) and become uid/gid for good.
 * The order is the one in DESIGN section 1; uid 0 is refused because a
 * "drop" to root could not be verified.
 */
void
privdrop(const char *chroot_dir, uid_t uid, gid_t gid)
{
	if (geteuid() != 0) {
		privdrop_unprivileged(uid, gid);
		return;
	}
	if (uid == 0)
		log_fatal("privdrop: refusing to drop privileges to uid 0");
	if (chroot_dir != NULL) {
		if (chroot(chroot_dir) == -1)
			log_fatal("privdrop: chroot %s: %s", chroot_dir,
			    strerror(errno));
		if (chdir("/") == -1)
			log_fatal("privdrop: chdir /: %s", strerror(errno));
	}
	if (setgroups(1, &gid) == -1)
		log_fatal("privdrop: setgroups: %s", strerror(errno));
	if (setresgid(gid, gid, gid) == -1)
		log_fatal("privdrop: setresgid %lu: %s", (unsigned long)gid,
		    strerror(errno));
	if (setresuid(uid, uid, uid) == -1)
		log_fatal("privdrop: setresuid %lu: %s", (unsigned long)uid,
		    strerror(errno));
	privdrop_verify(uid, gid);
	privdrop_harden();
}

/* privdrop_harden - no new privileges (setuid bits, file caps), no cores */
void
privdrop_harden(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_fatal("privdrop: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_fatal("privdrop: PR_SET_DUMPABLE: %s", strerror(errno));
}
