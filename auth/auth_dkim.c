/*
 * auth_dkim.c - the DKIM keys: read before the jail, used only here.
 *
 * Keys are $config_directory/dkim/DOMAIN/SELECTOR.key: PEM private keys,
 * RSA (at least 2048 bits) or Ed25519.  Like ssh with its host keys, a key
 * file that is not the owner's alone (group or others may read or write
 * it), or that does not belong to root (the user running youju in
 * development mode), is refused with a log line; so is one that does not
 * parse.  The keys never leave this process: smtpd and qmgr ask which
 * keys exist (IPC_DKIM_KEYS: domain, selector, algorithm - public
 * information, it is in the DNS) and send the SHA-256 digest of what a
 * signature covers (IPC_DKIM_SIGN); the answer is the signature.  A
 * compromised smtpd can have digests signed, never read a key.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "dkim.h"
#include "ipc.h"
#include "log.h"
#include "util.h"
#include "auth.h"

struct auth_dkim_key {
	char	 domain[256];
	char	 selector[64];
	int	 alg;
	void	*key;
};

static struct auth_dkim_key *auth_dkim_keys;
static size_t auth_dkim_nkeys;

/* auth_dkim_selector_ok - a selector: dot-separated LDH labels */
static int
auth_dkim_selector_ok(const char *s, size_t len)
{
	char	 tmp[64];

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return addr_valid_domain(tmp);
}

/*
 * auth_dkim_open - a key file opened without following a link and checked
 * on the open descriptor (no race with a rename): a regular file of
 * owner's that group and others cannot access; NULL (logged) otherwise
 */
static FILE *
auth_dkim_open(int dfd, const char *name, const char *path, uid_t owner)
{
	struct stat st;
	FILE	*fp;
	int	 fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1 || fstat(fd, &st) == -1) {
		log_warn("DKIM key %s: %s; not used", log_str(path),
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != owner ||
	    (st.st_mode & 077) != 0) {
		log_warn("DKIM key %s: must be a file owned by %s that "
		    "group and others cannot access, mode 0600 or 0400 (it "
		    "is %04o, uid %ld); not used", log_str(path),
		    owner == 0 ? "root" : "the user running youju",
		    (unsigned)(st.st_mode & 07777), (long)st.st_uid);
		close(fd);
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		log_warn("DKIM key %s: %s; not used", log_str(path),
		    strerror(errno));
		close(fd);
	}
	return fp;
}

/* auth_dkim_file - one key file of a domain directory: its key, if good */
static void
auth_dkim_file(int dfd, const char *dir, const char *domain,
    const char *name, uid_t owner)
{
	struct auth_dkim_key *k;
	char	 path[4096], err[512];
	size_t	 len = strlen(name);
	int	 alg, bits;
	void	*key;
	FILE	*fp;

	if (len <= 4 || strcmp(name + len - 4, ".key") != 0)
		return;
	if (util_fmt(path, sizeof(path), "%s/%s", dir, name) == -1)
		return;
	if (!auth_dkim_selector_ok(name, len - 4)) {
		log_warn("DKIM key %s: the file name is not SELECTOR.key "
		    "with a valid selector; ignored", log_str(path));
		return;
	}
	if ((fp = auth_dkim_open(dfd, name, path, owner)) == NULL)
		return;
	key = dkim_key_read(fp, &alg, &bits, err, sizeof(err));
	fclose(fp);
	if (key == NULL) {
		log_warn("DKIM key %s: %s; not used", log_str(path), err);
		return;
	}
	if (alg == DKIM_RSA_SHA256 && bits < 2048) {
		log_warn("DKIM key %s: RSA with %d bits, at least 2048 are "
		    "needed; not used", log_str(path), bits);
		dkim_key_free(key);
		return;
	}
	auth_dkim_keys = xreallocarray(auth_dkim_keys, auth_dkim_nkeys + 1,
	    sizeof(*auth_dkim_keys));
	k = &auth_dkim_keys[auth_dkim_nkeys++];
	util_strlcpy(k->domain, domain, sizeof(k->domain));
	memcpy(k->selector, name, len - 4);
	k->selector[len - 4] = '\0';
	k->alg = alg;
	k->key = key;
	log_info("DKIM key for %s, selector %s: %s", k->domain, k->selector,
	    alg == DKIM_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256");
}

/* auth_dkim_domain - the keys of one domain directory */
static void
auth_dkim_domain(int top, const char *base, const char *domain, uid_t owner)
{
	char	 dir[4096], lower[256];
	struct dirent *de;
	DIR	*d;
	int	 dfd;

	if (strlen(domain) >= sizeof(lower) || !addr_valid_domain(domain))
		return;
	util_strlcpy(lower, domain, sizeof(lower));
	util_lowercase(lower);
	if (util_fmt(dir, sizeof(dir), "%s/%s", base, domain) == -1 ||
	    (dfd = openat(top, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			auth_dkim_file(dfd, dir, lower, de->d_name, owner);
	closedir(d);
}

/* auth_dkim_load - before the jail: every key of every domain */
void
auth_dkim_load(const char *confdir, uid_t owner)
{
	char	 base[4096];
	struct dirent *de;
	DIR	*d;
	int	 top;

	if (util_fmt(base, sizeof(base), "%s/dkim", confdir) == -1 ||
	    (top = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;		/* no keys: nothing is signed */
	if ((d = fdopendir(top)) == NULL) {
		close(top);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strcmp(de->d_name, "next") != 0 &&
		    strcmp(de->d_name, "retired") != 0)
			auth_dkim_domain(top, base, de->d_name, owner);
	closedir(d);
}

/* auth_dkim_keys_req - IPC_DKIM_KEYS: the table; -1 = malformed */
int
auth_dkim_keys_req(struct auth_conn *c, const struct ipc_msg *m)
{
	struct ipc_in in;
	struct ipc_out o;
	uint32_t id;
	size_t	 i, n;
	int	 r;

	ipc_in_init(&in, m);
	id = ipc_get_u32(&in);
	if (ipc_get_end(&in) == -1)
		return -1;
	n = auth_dkim_nkeys < IPC_DKIM_KEYS_MAX ? auth_dkim_nkeys :
	    IPC_DKIM_KEYS_MAX;
	ipc_out_init(&o);
	ipc_put_u32(&o, id);
	ipc_put_u32(&o, (uint32_t)n);
	for (i = 0; i < n; i++) {
		ipc_put_str(&o, auth_dkim_keys[i].domain);
		ipc_put_str(&o, auth_dkim_keys[i].selector);
		ipc_put_u32(&o, (uint32_t)auth_dkim_keys[i].alg);
	}
	r = ipc_send_out(c->fd, IPC_DKIM_KEYS_REPLY, &o, -1);
	ipc_out_free(&o);
	return r;
}

/* auth_dkim_sign_req - IPC_DKIM_SIGN: one signature; -1 = malformed */
int
auth_dkim_sign_req(struct auth_conn *c, const struct ipc_msg *m)
{
	struct ipc_in in;
	struct ipc_out o;
	const unsigned char *d;
	unsigned char sig[DKIM_SIG_MAX];
	char	*domain = NULL, *sel = NULL;
	uint32_t id, alg, st = IPC_DKIM_FAIL;
	size_t	 dlen, slen = 0, i;
	int	 r = -1;

	ipc_in_init(&in, m);
	id = ipc_get_u32(&in);
	domain = ipc_get_str(&in, 255);
	sel = ipc_get_str(&in, 63);
	alg = ipc_get_u32(&in);
	d = ipc_get_bytes(&in, DKIM_DIGEST, &dlen);
	if (domain == NULL || sel == NULL || d == NULL ||
	    dlen != DKIM_DIGEST || ipc_get_end(&in) == -1)
		goto out;
	for (i = 0; i < auth_dkim_nkeys; i++) {
		if (auth_dkim_keys[i].alg != (int)alg ||
		    util_strcasecmp_ascii(auth_dkim_keys[i].domain, domain) !=
		    0 || strcmp(auth_dkim_keys[i].selector, sel) != 0)
			continue;
		slen = sizeof(sig);
		if (dkim_sign_raw(auth_dkim_keys[i].key, (int)alg, d, sig,
		    &slen) == 0)
			st = IPC_DKIM_OK;
		else
			log_err("DKIM key %s/%s cannot sign", log_str(domain),
			    log_str(sel));
		break;
	}
	ipc_out_init(&o);
	ipc_put_u32(&o, id);
	ipc_put_u32(&o, st);
	ipc_put_bytes(&o, sig, st == IPC_DKIM_OK ? slen : 0);
	r = ipc_send_out(c->fd, IPC_DKIM_SIGN_REPLY, &o, -1);
	ipc_out_free(&o);
out:
	free(domain);
	free(sel);
	return r;
}
