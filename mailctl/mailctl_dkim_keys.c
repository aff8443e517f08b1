/*
 * mailctl_dkim_keys.c - the DKIM key files of mailctl dkim and mailctl
 * dns: where they are, what is in them, whether the auth broker would use
 * them, and how a new one is written.
 *
 * Interface: mailctl_dkim.h.  The layout (mailctl_dkim.h) is the one the
 * broker (auth/auth_dkim.c) reads, with its rules: domain directories and
 * selectors are LDH names in any case; a key it would refuse (a group- or
 * world-readable file, another owner, a link, no key in it, RSA under
 * 2048 bits) is listed with the reason and never counted as a signing
 * key or published.
 *
 * A key file is written as a temporary file (0600, O_EXCL, never through
 * a link) in its directory, synced, linked to SELECTOR.key (which must
 * not exist: a selector is never reused) and the directory synced; the
 * PEM text is wiped from memory.  Directories are made 0700.
 *
 * Errors: -1 with a message on stderr ("mailctl: ...").
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "cfg.h"
#include "dkim.h"
#include "dns.h"
#include "log.h"
#include "mailctl_dkim.h"
#include "util.h"

static const char *const mailctl_dkim_states[] = { "", "next", "retired" };

/* mailctl_dkim_alg_name - see mailctl_dkim.h */
const char *
mailctl_dkim_alg_name(int alg)
{
	return alg == DKIM_RSA_SHA256 ? "rsa" : alg == DKIM_ED25519_SHA256 ?
	    "ed25519" : "?";
}

/* mailctl_domain_arg - see mailctl_dkim.h */
int
mailctl_domain_arg(const char *in, char *out, size_t size)
{
	size_t	 len = strnlen(in, size);

	if (len > 0 && len < size && in[len - 1] == '.')
		len--;
	if (len == 0 || len >= size)
		return -1;
	memcpy(out, in, len);
	out[len] = '\0';
	util_lowercase(out);
	return dns_valid_name(out) ? 0 : -1;
}

/* mailctl_dkim_sel_ok - a selector: dot-separated LDH labels, lower case */
int
mailctl_dkim_sel_ok(const char *s)
{
	size_t	 len = strlen(s), i, start;

	if (len == 0 || len > MAILCTL_SEL_MAX)
		return 0;
	for (i = start = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if ((s[i] < 'a' || s[i] > 'z') &&
			    (s[i] < '0' || s[i] > '9') && s[i] != '-')
				return 0;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	return 1;
}

/* mailctl_dkim_dir - $config_directory/dkim[/DOMAIN[/next|/retired]] */
int
mailctl_dkim_dir(const struct cfg *cfg, const char *domain, int state,
    char *out, size_t size)
{
	const char *top = cfg_str(cfg, "config_directory");

	if (domain == NULL)
		return util_fmt(out, size, "%s/dkim", top);
	return util_fmt(out, size, "%s/dkim/%s%s%s", top, domain,
	    state == MAILCTL_DKIM_ACTIVE ? "" : "/",
	    mailctl_dkim_states[state]);
}

/* mailctl_dkim_inspect - is the file one the broker signs with; load it */
static void
mailctl_dkim_inspect(struct mailctl_dkim_key *k)
{
	struct stat st;
	char	 err[512];

	if (lstat(k->path, &st) == -1) {
		snprintf(k->problem, sizeof(k->problem), "%s",
		    strerror(errno));
		return;
	}
	k->mtime = (long long)st.st_mtime;
	if (!S_ISREG(st.st_mode))
		snprintf(k->problem, sizeof(k->problem), "not a regular file "
		    "(a symbolic link or a directory): the broker refuses it");
	else if ((st.st_mode & 077) != 0)
		snprintf(k->problem, sizeof(k->problem), "mode %04o: readable "
		    "by group or others, the broker refuses it (chmod 600 %s)",
		    (unsigned)(st.st_mode & 07777), k->path);
	else if (st.st_uid != geteuid())
		snprintf(k->problem, sizeof(k->problem), "owned by uid %lu, "
		    "not %s: the broker refuses it", (unsigned long)st.st_uid,
		    geteuid() == 0 ? "root" : "the user running mailctl");
	else if (!addr_valid_domain(k->selector))
		snprintf(k->problem, sizeof(k->problem), "\"%s\" is not a valid "
		    "selector (letters, digits, '-' and dots): the broker "
		    "ignores it", log_str(k->selector));
	if ((k->key = dkim_key_load(k->path, &k->alg, &k->bits, err,
	    sizeof(err))) == NULL) {
		k->alg = 0;
		if (k->problem[0] == '\0')
			snprintf(k->problem, sizeof(k->problem), "not a usable "
			    "key: %s", err);
	} else if (k->alg == DKIM_RSA_SHA256 && k->bits < 2048 &&
	    k->problem[0] == '\0')
		snprintf(k->problem, sizeof(k->problem), "RSA key of %d bits: "
		    "the broker needs at least 2048", k->bits);
}

/* mailctl_dkim_scan_dir - the *.key files of one directory */
static void
mailctl_dkim_scan_dir(struct mailctl_dkim_keys *ks, const char *dir,
    const char *domain, int state)
{
	struct mailctl_dkim_key *k;
	struct dirent *de;
	size_t	 len;
	DIR	*d;

	if ((d = opendir(dir)) == NULL)
		return;		/* none: no keys in this state */
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 4 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 4, ".key") != 0 ||
		    len - 4 > MAILCTL_SEL_MAX)
			continue;
		ks->v = xreallocarray(ks->v, ks->n + 1, sizeof(*ks->v));
		k = &ks->v[ks->n++];
		memset(k, 0, sizeof(*k));
		util_strlcpy(k->domain, domain, sizeof(k->domain));
		memcpy(k->selector, de->d_name, len - 4);
		k->selector[len - 4] = '\0';
		k->state = state;
		k->path = xmalloc(strlen(dir) + len + 2);
		memcpy(k->path, dir, strlen(dir));
		k->path[strlen(dir)] = '/';
		memcpy(k->path + strlen(dir) + 1, de->d_name, len + 1);
		mailctl_dkim_inspect(k);
	}
	closedir(d);
}

/* mailctl_dkim_cmp - by domain, state, selector */
static int
mailctl_dkim_cmp(const void *a, const void *b)
{
	const struct mailctl_dkim_key *x = a, *y = b;
	int	 r;

	if ((r = strcmp(x->domain, y->domain)) != 0)
		return r;
	if (x->state != y->state)
		return x->state - y->state;
	return strcmp(x->selector, y->selector);
}

/* mailctl_dkim_scan - see mailctl_dkim.h */
int
mailctl_dkim_scan(const struct cfg *cfg, const char *domain,
    struct mailctl_dkim_keys *ks)
{
	char	 top[PATH_MAX], dir[PATH_MAX], name[256];
	struct dirent *de;
	DIR	*d;
	int	 st;

	memset(ks, 0, sizeof(*ks));
	if (mailctl_dkim_dir(cfg, NULL, 0, top, sizeof(top)) == -1)
		return -1;
	if ((d = opendir(top)) == NULL) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "mailctl: %s: %s\n", top, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		/* the directories the broker reads: domains, any case */
		if (de->d_name[0] == '.' || strlen(de->d_name) >=
		    sizeof(name) || !addr_valid_domain(de->d_name))
			continue;
		util_strlcpy(name, de->d_name, sizeof(name));
		util_lowercase(name);
		if (domain != NULL && strcmp(name, domain) != 0)
			continue;
		for (st = MAILCTL_DKIM_ACTIVE; st <= MAILCTL_DKIM_RETIRED;
		    st++)
			if (mailctl_dkim_dir(cfg, de->d_name, st, dir,
			    sizeof(dir)) == 0)
				mailctl_dkim_scan_dir(ks, dir, name, st);
	}
	closedir(d);
	if (ks->n > 1)
		qsort(ks->v, ks->n, sizeof(*ks->v), mailctl_dkim_cmp);
	return 0;
}

/* mailctl_dkim_keys_free - the list and the loaded keys */
void
mailctl_dkim_keys_free(struct mailctl_dkim_keys *ks)
{
	size_t	 i;

	for (i = 0; i < ks->n; i++) {
		dkim_key_free(ks->v[i].key);
		free(ks->v[i].path);
	}
	free(ks->v);
	memset(ks, 0, sizeof(*ks));
}

/* mailctl_dkim_signer - see mailctl_dkim.h */
const char *
mailctl_dkim_signer(const struct mailctl_dkim_keys *ks, const char *domain)
{
	const char *d;
	size_t	 i;

	for (d = domain; d != NULL; d = strchr(d, '.') != NULL ?
	    strchr(d, '.') + 1 : NULL)
		for (i = 0; i < ks->n; i++)
			if (ks->v[i].state == MAILCTL_DKIM_ACTIVE &&
			    ks->v[i].alg != 0 && ks->v[i].problem[0] == '\0' &&
			    strcmp(ks->v[i].domain, d) == 0)
				return ks->v[i].domain;
	return NULL;
}

/* mailctl_dkim_taken - a selector the domain has used, in any state */
int
mailctl_dkim_taken(const struct mailctl_dkim_keys *ks, const char *domain,
    const char *sel)
{
	size_t	 i;

	for (i = 0; i < ks->n; i++)
		if (strcmp(ks->v[i].domain, domain) == 0 &&
		    util_strcasecmp_ascii(ks->v[i].selector, sel) == 0)
			return 1;
	return 0;
}

/*
 * mailctl_dkim_default_sel - y<YYYY>m<MM><r|e>, with a digit 2..99 when
 * that is taken (selectors are never reused: caches keep old records)
 */
int
mailctl_dkim_default_sel(const struct mailctl_dkim_keys *ks,
    const char *domain, int alg, char *out, size_t size)
{
	time_t	 now = time(NULL);
	struct tm tm;
	int	 n;

	gmtime_r(&now, &tm);
	/* "%.0d" prints nothing for 0: the first name has no digit */
	for (n = 1; n < 100; n++) {
		if (util_fmt(out, size, "y%04dm%02d%c%.0d", tm.tm_year + 1900,
		    tm.tm_mon + 1, alg == DKIM_RSA_SHA256 ? 'r' : 'e',
		    n > 1 ? n : 0) == -1)
			return -1;
		if (!mailctl_dkim_taken(ks, domain, out))
			return 0;
	}
	return -1;
}

/* mailctl_dkim_mkdir - a 0700 directory (an existing one must be one) */
static int
mailctl_dkim_mkdir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "mailctl: cannot create %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "mailctl: %s is not a directory\n", dir);
		return -1;
	}
	return 0;
}

/* mailctl_dkim_mkdirs - dkim/, dkim/DOMAIN and the state's directory */
int
mailctl_dkim_mkdirs(const struct cfg *cfg, const char *domain, int state)
{
	char	 dir[PATH_MAX];

	if (mailctl_dkim_dir(cfg, NULL, 0, dir, sizeof(dir)) == -1 ||
	    mailctl_dkim_mkdir(dir) == -1 ||
	    mailctl_dkim_dir(cfg, domain, MAILCTL_DKIM_ACTIVE, dir,
	    sizeof(dir)) == -1 || mailctl_dkim_mkdir(dir) == -1)
		return -1;
	if (state == MAILCTL_DKIM_ACTIVE)
		return 0;
	if (mailctl_dkim_dir(cfg, domain, state, dir, sizeof(dir)) == -1)
		return -1;
	return mailctl_dkim_mkdir(dir);
}

/*
 * mailctl_dkim_write - the key as DIR/SEL.key: a temporary file, synced,
 * linked to its name (which must not exist), the directory synced
 */
int
mailctl_dkim_write(const char *dir, const char *sel, void *key)
{
	char	 tmp[PATH_MAX], path[PATH_MAX];
	struct buf pem;
	int	 fd = -1, r = -1;

	buf_init(&pem, 65536);
	if (util_fmt(tmp, sizeof(tmp), "%s/.%s.key.%ld", dir, sel,
	    (long)getpid()) == -1 || util_fmt(path, sizeof(path), "%s/%s.key",
	    dir, sel) == -1 || dkim_key_pem(key, &pem) == -1) {
		fprintf(stderr, "mailctl: %s/%s.key: cannot encode the key\n",
		    dir, sel);
		goto out;
	}
	(void)unlink(tmp);	/* a dead mailctl's, with our pid */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || fchmod(fd, 0600) == -1 ||
	    util_write_full(fd, pem.data, pem.len) == -1 || fsync(fd) == -1) {
		fprintf(stderr, "mailctl: cannot write %s: %s\n", tmp,
		    strerror(errno));
		goto out;
	}
	if (link(tmp, path) == -1) {
		fprintf(stderr, "mailctl: cannot create %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	if (util_fsync_dir(dir) == -1)
		fprintf(stderr, "mailctl: warning: fsync of %s: %s\n", dir,
		    strerror(errno));
	r = 0;
out:
	if (fd != -1) {
		close(fd);
		(void)unlink(tmp);
	}
	if (pem.data != NULL)
		explicit_bzero(pem.data, pem.cap);
	buf_free(&pem);
	return r;
}
