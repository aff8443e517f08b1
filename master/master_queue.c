/*
 * master_queue.c - create or repair the queue directory tree at start.
 *
 * Like "postfix check": every directory exists with the owner and mode
 * below (the table is qfile_dirs[], which "mailctl doctor" checks too), message files and hash directories belong to mail_owner.  Files
 * left in incoming/ by a crash were never acknowledged (the commit point is
 * the rename into queue/), so they are removed at start.
 *
 *	queue_directory		root	0755
 *	  incoming/		owner	0700	smtpd and pickup write new files here
 *	  queue/		owner	0700	committed messages, hashed
 *	  corrupt/		owner	0700	damaged files, for the admin
 *	  hold/			owner	0700	messages on hold (mailctl queue)
 *	  index/		owner	0700	qmgr's Berkeley DB index
 *	  private/		owner	0700	internal sockets
 *	  public/		root	0711	pickup's socket (0666): every
 *						local user connects to it
 *	  pid/			root	0755	master.pid, control socket
 *	  empty/		root	0555	auth's chroot
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* O_PATH, AT_EMPTY_PATH */
#endif

#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "qfile.h"
#include "util.h"
#include "master.h"

/* master_queue_fix - make path a directory with this owner and mode */
static int
master_queue_fix(const char *path, uid_t uid, gid_t gid, mode_t mode,
    int privileged, char *err, size_t errlen)
{
	struct stat st;
	int	 created = 1;

	if (mkdir(path, mode) == -1) {
		if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path,
			    strerror(errno));
			return -1;
		}
		created = 0;
	}
	if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", path);
		return -1;
	}
	if (privileged && (st.st_uid != uid || st.st_gid != gid)) {
		if (chown(path, uid, gid) == -1) {
			snprintf(err, errlen, "chown %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (!created)
			log_warn("fixed the owner of %s", path);
	}
	if ((st.st_mode & 07777) != mode) {
		if (chmod(path, mode) == -1) {
			snprintf(err, errlen, "chmod %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (!created)
			log_warn("fixed the mode of %s", path);
	}
	return 0;
}

/*
 * master_queue_walk - give everything below the directory dfd (named dir,
 * for the log) to mail_owner.  mail_owner can change these directories
 * while root walks them, so each entry is opened once without following
 * links (O_PATH | O_NOFOLLOW), checked on its descriptor, and changed
 * through it: a link swapped in is never followed, and a file with a
 * second name (a hard link to a file elsewhere) is left alone.
 */
static void
master_queue_walk(int dfd, const char *dir, uid_t uid, gid_t gid, int depth)
{
	DIR	*d;
	struct dirent *de;
	struct stat st;
	char	 path[4096];
	int	 fd, sub, lfd;

	if (depth > 8 || (lfd = dup(dfd)) == -1)
		return;
	if ((d = fdopendir(lfd)) == NULL) {
		close(lfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || util_fmt(path, sizeof(path),
		    "%s/%s", dir, de->d_name) == -1)
			continue;
		if ((fd = openat(dfd, de->d_name, O_PATH | O_NOFOLLOW |
		    O_CLOEXEC)) == -1)
			continue;
		if (fstat(fd, &st) == -1 ||
		    (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) ||
		    (S_ISREG(st.st_mode) && st.st_nlink != 1)) {
			log_warn("%s: not a directory or a file with one name "
			    "in the queue, left alone", log_str(path));
			close(fd);
			continue;
		}
		if ((st.st_uid != uid || st.st_gid != gid) &&
		    fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == 0)
			log_warn("fixed the owner of %s", log_str(path));
		if (S_ISDIR(st.st_mode) && (sub = openat(fd, ".", O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) != -1) {
			master_queue_walk(sub, path, uid, gid, depth + 1);
			close(sub);
		}
		close(fd);
	}
	closedir(d);
}

/* master_queue_setup - create/repair the queue tree; 0 or -1 with err */
int
master_queue_setup(struct master *m, char *err, size_t errlen)
{
	char	 path[4096];
	size_t	 i;
	uid_t	 ruid = m->privileged ? 0 : m->owner_uid;
	gid_t	 rgid = m->privileged ? 0 : m->owner_gid;
	int	 dfd;

	if (util_mkdir_p(m->queue_dir, 0755) == -1) {
		snprintf(err, errlen, "cannot create queue_directory %s: %s",
		    m->queue_dir, strerror(errno));
		return -1;
	}
	if (master_queue_fix(m->queue_dir, ruid, rgid, 0755, m->privileged,
	    err, errlen) == -1)
		return -1;
	for (i = 0; i < qfile_ndirs; i++) {
		if (util_fmt(path, sizeof(path), "%s/%s", m->queue_dir,
		    qfile_dirs[i].name) == -1) {
			snprintf(err, errlen, "queue_directory: path too long");
			return -1;
		}
		if (master_queue_fix(path,
		    qfile_dirs[i].owned ? m->owner_uid : ruid,
		    qfile_dirs[i].owned ? m->owner_gid : rgid,
		    qfile_dirs[i].mode, m->privileged, err, errlen) == -1)
			return -1;
	}
	if (m->privileged) {
		for (i = 0; i < qfile_ndirs; i++) {
			if (!qfile_dirs[i].owned ||
			    strcmp(qfile_dirs[i].name, "private") == 0)
				continue;
			if (util_fmt(path, sizeof(path), "%s/%s", m->queue_dir,
			    qfile_dirs[i].name) == -1 ||
			    (dfd = open(path, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC)) == -1)
				continue;
			master_queue_walk(dfd, path, m->owner_uid,
			    m->owner_gid, 0);
			close(dfd);
		}
	}
	return 0;
}

/* master_queue_clean_incoming - drop files that were never committed */
void
master_queue_clean_incoming(struct master *m)
{
	DIR	*d;
	struct dirent *de;
	char	 path[4096];
	int	 dfd;

	if (util_fmt(path, sizeof(path), "%s/incoming", m->queue_dir) == -1 ||
	    (dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			log_info("removed uncommitted file incoming/%s",
			    log_str(de->d_name));
	}
	closedir(d);
}
