/*
 * mailctl_dkim.h - DKIM key files, shared by mailctl dkim (mailctl_dkim.c,
 * mailctl_dkim_keys.c) and mailctl dns (mailctl_dns.c,
 * mailctl_dns_check.c).
 */
#ifndef YOUJU_MAILCTL_DKIM_H
#define YOUJU_MAILCTL_DKIM_H

#include <stddef.h>

struct cfg;

/*
 * The key layout the auth broker signs with:
 *	$config_directory/dkim/DOMAIN/SELECTOR.key		active: signs
 *	$config_directory/dkim/DOMAIN/next/SELECTOR.key		staged by rotate
 *	$config_directory/dkim/DOMAIN/retired/SELECTOR.key	retired by
 *	    rotate --activate; the file's mtime is when, and its record stays
 *	    published for MAILCTL_DKIM_GRACE after that
 */
#define MAILCTL_DKIM_ACTIVE	0
#define MAILCTL_DKIM_NEXT	1
#define MAILCTL_DKIM_RETIRED	2
#define MAILCTL_DKIM_GRACE	(7 * 86400)
#define MAILCTL_SEL_MAX		63

struct mailctl_dkim_key {
	char		 domain[256];
	char		 selector[MAILCTL_SEL_MAX + 1];
	int		 state;		/* MAILCTL_DKIM_* */
	char		*path;
	int		 alg;		/* DKIM_*; 0: no usable key */
	int		 bits;
	long long	 mtime;		/* RETIRED: when it was retired */
	char		 problem[1024]; /* why the broker refuses it, or "" */
	void		*key;		/* the loaded key, NULL when unusable */
};

struct mailctl_dkim_keys {
	struct mailctl_dkim_key	*v;
	size_t			 n;
};

/*
 * mailctl_dkim_scan - the key files of one domain (all domains when NULL)
 * loaded, sorted by domain, state and selector; problems are noted in
 * each key, never fatal.  -1 only when the dkim directory cannot be read
 * (a missing one is no keys).
 */
int	 mailctl_dkim_scan(const struct cfg *, const char *,
	    struct mailctl_dkim_keys *);
void	 mailctl_dkim_keys_free(struct mailctl_dkim_keys *);
/*
 * mailctl_dkim_signer - the domain whose keys sign mail from domain: the
 * domain itself or its closest parent with an active key; NULL: none
 */
const char *mailctl_dkim_signer(const struct mailctl_dkim_keys *,
	    const char *);
/* mailctl_dkim_alg_name - "rsa" / "ed25519" */
const char *mailctl_dkim_alg_name(int);
/* mailctl_domain_arg - a DOMAIN argument checked and lowercased; -1 */
int	 mailctl_domain_arg(const char *, char *, size_t);

/* for mailctl_dkim.c */
/* mailctl_dkim_sel_ok - a selector: dot-separated LDH labels, lower case */
int	 mailctl_dkim_sel_ok(const char *);
/* mailctl_dkim_dir - $config_directory/dkim[/DOMAIN[/next|/retired]] */
int	 mailctl_dkim_dir(const struct cfg *, const char *, int, char *,
	    size_t);
/* mailctl_dkim_taken - a selector the domain has used, in any state */
int	 mailctl_dkim_taken(const struct mailctl_dkim_keys *, const char *,
	    const char *);
/*
 * mailctl_dkim_default_sel - y<YYYY>m<MM><r|e> (UTC), with a digit 2..99
 * when taken; -1 when all are
 */
int	 mailctl_dkim_default_sel(const struct mailctl_dkim_keys *,
	    const char *, int, char *, size_t);
/* mailctl_dkim_mkdirs - dkim/, dkim/DOMAIN and a state's directory, 0700 */
int	 mailctl_dkim_mkdirs(const struct cfg *, const char *, int);
/* mailctl_dkim_write - a key as DIR/SELECTOR.key, never over another */
int	 mailctl_dkim_write(const char *, const char *, void *);

#endif
