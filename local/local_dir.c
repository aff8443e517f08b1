/*
 * local_dir.c - open (and create) a recipient's home and Maildir without
 * following a path that someone else controls.
 *
 * local is root while it walks to a home, and a home's parent may be
 * writable by the recipient (mailbox_base owned by vmail, a home inside a
 * user's own tree) or by others.  Path names checked first and used later
 * could then be swapped for a symbolic link between the check and the use
 * (a chown as root that gives /etc/shadow away).  So nothing here uses a
 * path twice: every component is opened relative to its parent's
 * descriptor with O_NOFOLLOW | O_DIRECTORY, checked with fstat on the
 * descriptor, and only descriptors are changed (fchown).
 *
 * The rules, for each directory from "/" to the home:
 *  - a symbolic link anywhere is refused (ELOOP);
 *  - it must belong to root or to the recipient, and when it belongs to
 *    the recipient it must not be writable by group or others;
 *  - a missing one is created: by root (mode 0755 above the home, 0700
 *    and then fchown to the recipient for the home itself) only where
 *    nobody but root can rename entries (a root-owned parent not writable
 *    by group or others, or with the sticky bit); in a parent that
 *    belongs to the recipient, with the recipient's ids (no chown); in any
 *    other parent not at all.
 * Below the home, the Maildir's directories and file are opened the same
 * way with the recipient's effective ids (local_maildir.c).
 *
 * Errors: -1 with errno and a "X.Y.Z text" reason in why (4.x.x: the
 * message waits, the admin can fix the directory).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "local.h"

#define LOCAL_DIR_OPEN	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* local_dir_why - the reason for a refused or failed component */
static int
local_dir_why(char *why, size_t whylen, const char *path, size_t plen,
    const char *what, int err)
{
	snprintf(why, whylen, "4.2.0 unsafe or unusable directory %.*s: %s",
	    (int)plen, path, what != NULL ? what : strerror(err));
	errno = err;
	return -1;
}

/* local_dir_trusted - may a directory we hold be used for uid's mail */
static const char *
local_dir_trusted(const struct stat *st, uid_t uid)
{
	if (!S_ISDIR(st->st_mode))
		return "not a directory";
	if (st->st_uid != 0 && st->st_uid != uid)
		return "owned by another user";
	if (st->st_uid != 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return "writable by group or others";
	return NULL;
}

/*
 * local_dir_islink - did an open with O_NOFOLLOW | O_DIRECTORY fail on a
 * symbolic link (Linux says ENOTDIR for it, not ELOOP)
 */
static int
local_dir_islink(int dfd, const char *name)
{
	struct stat st;
	int	 saved = errno;

	if (saved != ELOOP && saved != ENOTDIR)
		return 0;
	if (saved == ELOOP)
		return 1;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return 1;
	errno = saved;
	return 0;
}

/* local_dir_rootsafe - can only root rename entries of this directory */
static int
local_dir_rootsafe(const struct stat *st)
{
	return st->st_uid == 0 && ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0 ||
	    (st->st_mode & S_ISVTX) != 0);
}

/* local_become - switch effective ids to the recipient (or back to root) */
int
local_become(uid_t uid, gid_t gid)
{
	if (seteuid(0) == -1)
		return -1;
	if (setgroups(1, &gid) == -1 || setegid(gid) == -1 ||
	    (uid != 0 && seteuid(uid) == -1))
		return -1;
	return 0;
}

/* local_unbecome - back to root */
void
local_unbecome(void)
{
	gid_t	 g = 0;

	if (seteuid(0) == -1 || setegid(0) == -1 || setgroups(1, &g) == -1)
		log_fatal("cannot return to root privileges: %s",
		    strerror(errno));
}

/*
 * local_dir_next - the next component of the path at *p into name, *p
 * then past it: 1, or 0 at the end, or -1 when it is longer than NAME_MAX
 * (*p at its start, *len its length)
 */
static int
local_dir_next(const char **p, char name[NAME_MAX + 1], size_t *len)
{
	const char *end;

	while (**p == '/')
		(*p)++;
	if (**p == '\0')
		return 0;
	end = strchr(*p, '/');
	*len = end != NULL ? (size_t)(end - *p) : strlen(*p);
	if (*len > NAME_MAX)
		return -1;
	memcpy(name, *p, *len);
	name[*len] = '\0';
	*p += *len;
	return 1;
}

/*
 * local_dir_make - create name in the directory dfd (whose stat is pst)
 * for the recipient; home: the last component (0700, the recipient's).
 * 1: root made it (it still needs its fchown), 0: the recipient made it
 * or it appeared meanwhile, -1 with errno (and a reason in *what)
 */
static int
local_dir_make(int dfd, const struct stat *pst, const char *name, int home,
    const struct local_target *t, const char **what)
{
	int	 r, saved;

	*what = NULL;
	if (local_dir_rootsafe(pst)) {
		/* root creates; nobody else can rename it before the fchown */
		if (mkdirat(dfd, name, home ? 0700 : 0755) == 0)
			return 1;
		return errno == EEXIST ? 0 : -1;
	}
	if (pst->st_uid != t->uid) {
		*what = "cannot create below a directory that others can write";
		errno = EACCES;
		return -1;
	}
	/* the recipient's own directory: create it as the recipient */
	if (local_become(t->uid, t->gid) == -1) {
		saved = errno;
		local_unbecome();
		errno = saved;
		return -1;
	}
	r = mkdirat(dfd, name, home ? 0700 : 0755);
	saved = errno;
	local_unbecome();
	if (r == -1 && saved != EEXIST) {
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * local_dir_home - as root: open t->home (creating it and its parents as
 * described above); the descriptor (O_RDONLY, close-on-exec), or -1.
 * (Long: the walk from / keeps one descriptor per step and decides at each
 * component whether root or the recipient creates the next; the checks
 * must sit next to the openat they guard.)
 */
int
local_dir_home(const struct local_target *t, char *why, size_t whylen)
{
	const char *p = t->home, *what;
	char	 name[NAME_MAX + 1];
	struct stat pst, st;
	size_t	 len;
	int	 dfd, fd, last, made, r;

	if (!util_path_clean(t->home))
		return local_dir_why(why, whylen, t->home, strlen(t->home),
		    "not an absolute path without . or .. components", EINVAL);
	if ((dfd = open("/", LOCAL_DIR_OPEN)) == -1 || fstat(dfd, &pst) == -1)
		return local_dir_why(why, whylen, "/", 1, NULL, errno);
	while ((r = local_dir_next(&p, name, &len)) != 0) {
		if (r == -1) {
			close(dfd);
			return local_dir_why(why, whylen, t->home,
			    (size_t)(p - t->home) + len, NULL, ENAMETOOLONG);
		}
		last = strspn(p, "/") == strlen(p);
		what = NULL;
		made = 0;
		if ((fd = openat(dfd, name, LOCAL_DIR_OPEN)) == -1 &&
		    errno == ENOENT) {
			if ((made = local_dir_make(dfd, &pst, name, last, t,
			    &what)) == -1) {
				close(dfd);
				return local_dir_why(why, whylen, t->home,
				    (size_t)(p - t->home), what, errno);
			}
			fd = openat(dfd, name, LOCAL_DIR_OPEN);
		}
		if (fd == -1 && local_dir_islink(dfd, name))
			errno = ELOOP;
		close(dfd);
		if (fd == -1)
			return local_dir_why(why, whylen, t->home,
			    (size_t)(p - t->home), errno == ELOOP ?
			    "symbolic link" : NULL, errno == ELOOP ? EPERM :
			    errno);
		if (fstat(fd, &st) == -1) {
			close(fd);
			return local_dir_why(why, whylen, t->home,
			    (size_t)(p - t->home), NULL, errno);
		}
		/* a home root just made is the recipient's from here on */
		if (made == 1 && last && st.st_uid == 0) {
			if (fchown(fd, t->uid, t->gid) == -1) {
				close(fd);
				return local_dir_why(why, whylen, t->home,
				    (size_t)(p - t->home), NULL, errno);
			}
			st.st_uid = t->uid;
		}
		if ((what = local_dir_trusted(&st, t->uid)) != NULL) {
			close(fd);
			return local_dir_why(why, whylen, t->home,
			    (size_t)(p - t->home), what, EPERM);
		}
		dfd = fd;
		pst = st;
	}
	return dfd;
}

/*
 * local_dir_sub - with the recipient's ids: open (creating, 0700) the
 * relative path rel below dfd, component by component, no symbolic links;
 * the descriptor or -1 with errno
 */
int
local_dir_sub(int dfd, const char *rel)
{
	const char *p = rel;
	char	 name[NAME_MAX + 1];
	size_t	 len;
	int	 fd, r, cur = dfd;

	while ((r = local_dir_next(&p, name, &len)) != 0) {
		if (r == -1 || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0) {
			errno = r == -1 ? ENAMETOOLONG : EINVAL;
			goto fail;
		}
		if ((fd = openat(cur, name, LOCAL_DIR_OPEN)) == -1 &&
		    errno == ENOENT) {
			if (mkdirat(cur, name, 0700) == -1 && errno != EEXIST)
				goto fail;
			fd = openat(cur, name, LOCAL_DIR_OPEN);
		}
		if (fd == -1) {
			if (local_dir_islink(cur, name))
				errno = ELOOP;
			goto fail;
		}
		if (cur != dfd)
			close(cur);
		cur = fd;
	}
	return cur == dfd ? fcntl(dfd, F_DUPFD_CLOEXEC, 0) : cur;
fail:
	if (cur != dfd) {
		int	 saved = errno;

		close(cur);
		errno = saved;
	}
	return -1;
}
