/*
 * mailctl_dkim.c - mailctl dkim keygen | list | rotate: the DKIM keys the
 * auth broker signs with, in the layout of mailctl_dkim.h.
 *
 *	mailctl dkim keygen DOMAIN [--selector S] [--algorithm rsa|ed25519|
 *	    both] [--bits 2048|3072|4096]
 *	mailctl dkim list [--check]
 *	mailctl dkim rotate DOMAIN [--activate] [--force]
 *
 * Interface: mailctl_dkim_main(cfg, control socket, argc, argv) with argv
 * starting at "dkim", returning the exit status (0 done, 1 failed, 2
 * usage).  The key files themselves: mailctl_dkim_keys.c.
 *
 * keygen never reloads: signing starts at the next reload or start, after
 * the records are published.  rotate stages new keys in next/; rotate
 * --activate (once their records are in DNS, unless --force) renames the
 * next/ keys into place first and then the old ones into retired/, so
 * that some key signs at every moment, and reloads a running system.
 *
 * Errors go to stderr as "mailctl: ..."; private keys are never printed.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "dkim.h"
#include "dns.h"
#include "ipc.h"
#include "log.h"
#include "mailctl.h"
#include "mailctl_dkim.h"
#include "mailctl_dns.h"
#include "util.h"

#define MD_O_DOMAIN	0x01	/* a DOMAIN argument (required) */
#define MD_O_KEYGEN	0x02	/* --selector, --algorithm, --bits */
#define MD_O_CHECK	0x04	/* --check */
#define MD_O_ROTATE	0x08	/* --activate, --force */

#define MD_RSA		0x01
#define MD_ED25519	0x02

struct mailctl_dkim_opts {
	char		 domain[256];
	const char	*selector;
	int		 algs;		/* MD_RSA | MD_ED25519 */
	int		 bits;		/* 0: not given */
	int		 check;
	int		 activate;
	int		 force;
};

struct mailctl_dkim_ctx {
	const struct cfg *cfg;
	const char	*sock;
	struct mailctl_dkim_opts o;
};

struct mailctl_dkim_cmd {
	const char	*name;
	int		 opts;
	int		(*fn)(struct mailctl_dkim_ctx *);
	const char	*usage;
};

static int	 mailctl_dkim_keygen(struct mailctl_dkim_ctx *);
static int	 mailctl_dkim_list(struct mailctl_dkim_ctx *);
static int	 mailctl_dkim_rotate(struct mailctl_dkim_ctx *);

static const struct mailctl_dkim_cmd mailctl_dkim_cmds[] = {
	{ "keygen", MD_O_DOMAIN | MD_O_KEYGEN, mailctl_dkim_keygen,
	    "dkim keygen DOMAIN [--selector S] [--algorithm rsa|ed25519|both] "
	    "[--bits 2048|3072|4096]" },
	{ "list", MD_O_CHECK, mailctl_dkim_list, "dkim list [--check]" },
	{ "rotate", MD_O_DOMAIN | MD_O_ROTATE, mailctl_dkim_rotate,
	    "dkim rotate DOMAIN [--activate] [--force]" },
};

/* mailctl_dkim_usage - all the dkim commands; exit status 2 */
static int
mailctl_dkim_usage(void)
{
	size_t	 i;

	for (i = 0; i < NELEM(mailctl_dkim_cmds); i++)
		fprintf(stderr, "%s mailctl [-c config_dir] %s\n",
		    i == 0 ? "usage:" : "      ", mailctl_dkim_cmds[i].usage);
	return 2;
}

/* mailctl_dkim_print_record - the TXT record of a key, as in a zone */
static void
mailctl_dkim_print_record(void *key, const char *sel, const char *domain)
{
	char	 name[512];
	struct buf rec;

	buf_init(&rec, 65536);
	if (dkim_key_record(key, &rec) == 0 && util_fmt(name, sizeof(name),
	    "%s._domainkey.%s", sel, domain) == 0)
		mailctl_dns_zone_txt(stdout, name, buf_cstr(&rec));
	buf_free(&rec);
}

/*
 * mailctl_dkim_pick - the selector of a new key of alg: the one given
 * (checked) or the default one, and not used before by the domain; -1
 * with a message
 */
static int
mailctl_dkim_pick(const struct mailctl_dkim_keys *ks, const char *d, int alg,
    const char *given, char *s, size_t size)
{
	if (given != NULL && (util_strlcpy(s, given, size) >= size ||
	    !mailctl_dkim_sel_ok(s))) {
		fprintf(stderr, "mailctl: \"%s\" is not a valid selector "
		    "(at most %d lower-case letters, digits, '-' and dots)\n",
		    log_str(given), MAILCTL_SEL_MAX);
		return -1;
	}
	if (given == NULL && mailctl_dkim_default_sel(ks, d, alg, s, size) ==
	    -1) {
		fprintf(stderr, "mailctl: no free selector for %s this month; "
		    "give one with --selector\n", d);
		return -1;
	}
	if (mailctl_dkim_taken(ks, d, s)) {
		fprintf(stderr, "mailctl: %s already has a key with selector "
		    "%s (a selector is never used twice)\n", d, s);
		return -1;
	}
	return 0;
}

/*
 * mailctl_dkim_make - a new key of alg (and bits) for the domain with
 * selector s in state's directory; the record printed.  0 or -1.
 */
static int
mailctl_dkim_make(struct mailctl_dkim_ctx *ctx, int alg, int bits,
    const char *s, int state)
{
	const char *d = ctx->o.domain;
	char	 dir[PATH_MAX];
	void	*key;
	int	 r;

	if ((key = dkim_key_generate(alg, bits)) == NULL) {
		fprintf(stderr, "mailctl: cannot generate a key\n");
		return -1;
	}
	r = mailctl_dkim_mkdirs(ctx->cfg, d, state) == -1 ||
	    mailctl_dkim_dir(ctx->cfg, d, state, dir, sizeof(dir)) == -1 ||
	    mailctl_dkim_write(dir, s, key) == -1 ? -1 : 0;
	if (r == 0 && alg == DKIM_RSA_SHA256)
		printf("; %s/%s.key: rsa-sha256, %d bits\n", dir, s, bits);
	else if (r == 0)
		printf("; %s/%s.key: ed25519-sha256\n", dir, s);
	if (r == 0)
		mailctl_dkim_print_record(key, s, d);
	dkim_key_free(key);
	return r;
}

/* mailctl_dkim_has_alg - the name of an active key of alg, or NULL */
static const char *
mailctl_dkim_has_alg(const struct mailctl_dkim_keys *ks, int state, int alg)
{
	size_t	 i;

	for (i = 0; i < ks->n; i++)
		if (ks->v[i].state == state && ks->v[i].alg == alg)
			return ks->v[i].selector;
	return NULL;
}

/* mailctl_dkim_keygen - the first keys of a domain */
static int
mailctl_dkim_keygen(struct mailctl_dkim_ctx *ctx)
{
	static const int algs[] = { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };
	static const int flags[] = { MD_RSA, MD_ED25519 };
	struct mailctl_dkim_keys ks;
	char	 given[MAILCTL_SEL_MAX + 2], sel[2][MAILCTL_SEL_MAX + 1];
	const char *have, *g;
	size_t	 i;
	int	 r = 0, both = ctx->o.algs == (MD_RSA | MD_ED25519);

	if (mailctl_dkim_scan(ctx->cfg, ctx->o.domain, &ks) == -1)
		return 1;
	/* every check first: no key is made unless all of them can be */
	for (i = 0; r == 0 && i < NELEM(algs); i++) {
		if (!(ctx->o.algs & flags[i]))
			continue;
		if ((have = mailctl_dkim_has_alg(&ks, MAILCTL_DKIM_ACTIVE,
		    algs[i])) != NULL) {
			fprintf(stderr, "mailctl: %s already has an active %s "
			    "key (%s); to replace it use: mailctl dkim rotate "
			    "%s\n", ctx->o.domain, mailctl_dkim_alg_name(
			    algs[i]), have, ctx->o.domain);
			r = 1;
			break;
		}
		/* two keys, one --selector: S r and S e, like the default */
		g = ctx->o.selector;
		if (g != NULL && both) {
			util_fmt(given, sizeof(given), "%s%c", g, i == 0 ? 'r' :
			    'e');
			g = given;
		}
		if (mailctl_dkim_pick(&ks, ctx->o.domain, algs[i], g, sel[i],
		    sizeof(sel[i])) == -1)
			r = 1;
	}
	for (i = 0; r == 0 && i < NELEM(algs); i++)
		if ((ctx->o.algs & flags[i]) && mailctl_dkim_make(ctx, algs[i],
		    ctx->o.bits, sel[i], MAILCTL_DKIM_ACTIVE) == -1)
			r = 1;
	if (r == 0)
		printf("; Publish the record%s above (\"mailctl dns records %s\" "
		    "shows every\n; record), then run \"mailctl reload\": "
		    "signing starts with the next reload\n; or start.\n",
		    both ? "s" : "", ctx->o.domain);
	mailctl_dkim_keys_free(&ks);
	return r;
}

/* mailctl_dkim_date - a time as YYYY-MM-DD HH:MM UTC */
static const char *
mailctl_dkim_date(long long t, char *out, size_t size)
{
	time_t	 tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, size,
	    "%Y-%m-%d %H:%M UTC", &tm) == 0)
		util_strlcpy(out, "?", size);
	return out;
}

/* mailctl_dkim_state - "active", "next", "retired ..." of a key */
static void
mailctl_dkim_state(const struct mailctl_dkim_key *k, char *out, size_t size)
{
	char	 when[64], until[64];

	if (k->state == MAILCTL_DKIM_ACTIVE)
		util_strlcpy(out, "active", size);
	else if (k->state == MAILCTL_DKIM_NEXT)
		util_strlcpy(out, "next (publish, then rotate --activate)",
		    size);
	else if (time(NULL) < k->mtime + MAILCTL_DKIM_GRACE)
		snprintf(out, size, "retired %s, keep published until %s",
		    mailctl_dkim_date(k->mtime, when, sizeof(when)),
		    mailctl_dkim_date(k->mtime + MAILCTL_DKIM_GRACE, until,
		    sizeof(until)));
	else
		snprintf(out, size, "retired %s, grace over: remove its "
		    "record, then the file", mailctl_dkim_date(k->mtime, when,
		    sizeof(when)));
}

/* mailctl_dkim_list - every key with its state (and its DNS record) */
static int
mailctl_dkim_list(struct mailctl_dkim_ctx *ctx)
{
	struct mailctl_dkim_keys ks;
	struct dns *dns = NULL;
	char	 state[256], got[512], bits[16];
	const char *dnsst;
	size_t	 i;
	int	 r = 0, st;

	if (mailctl_dkim_scan(ctx->cfg, NULL, &ks) == -1)
		return 1;
	if (ks.n == 0)
		printf("no DKIM keys (make them with: mailctl dkim keygen "
		    "DOMAIN)\n");
	if (ctx->o.check && ks.n > 0 &&
	    (dns = mailctl_dns_resolver(ctx->cfg)) == NULL)
		r = 1;
	for (i = 0; i < ks.n; i++) {
		const struct mailctl_dkim_key *k = &ks.v[i];

		mailctl_dkim_state(k, state, sizeof(state));
		snprintf(bits, sizeof(bits), "%d", k->bits);
		dnsst = "";
		if (dns != NULL && k->alg != 0) {
			st = mailctl_dns_dkim(dns, k, got, sizeof(got));
			dnsst = st == MAILCTL_DNS_OK ? "  dns: ok" :
			    st == MAILCTL_DNS_MISSING ? "  dns: MISSING" :
			    st == MAILCTL_DNS_WRONG ? "  dns: WRONG" :
			    "  dns: ERROR";
			if (st != MAILCTL_DNS_OK && k->state !=
			    MAILCTL_DKIM_RETIRED)
				r = 1;
		}
		printf("%s %s %s %s %s  %s%s\n", k->domain, k->selector,
		    mailctl_dkim_alg_name(k->alg), k->alg != 0 ? bits : "-",
		    k->path, state, dnsst);
		if (k->problem[0] != '\0') {
			fprintf(stderr, "mailctl: warning: %s: %s\n", k->path,
			    k->problem);
			if (k->state != MAILCTL_DKIM_RETIRED)
				r = 1;
		}
	}
	dns_free(dns);
	mailctl_dkim_keys_free(&ks);
	return r;
}

/* mailctl_dkim_reload - a running mail system re-reads the files */
static int
mailctl_dkim_reload(struct mailctl_dkim_ctx *ctx)
{
	return mailctl_reload_after(ctx->sock, "the keys are changed",
	    "the new keys sign when it starts");
}

/* mailctl_dkim_stage - rotate: a new key per algorithm in next/ */
static int
mailctl_dkim_stage(struct mailctl_dkim_ctx *ctx,
    const struct mailctl_dkim_keys *ks)
{
	static const int algs[] = { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };
	const char *d = ctx->o.domain;
	char	 sel[MAILCTL_SEL_MAX + 1];
	size_t	 i, k;
	int	 bits;

	if (mailctl_dkim_has_alg(ks, MAILCTL_DKIM_NEXT, DKIM_RSA_SHA256) ||
	    mailctl_dkim_has_alg(ks, MAILCTL_DKIM_NEXT, DKIM_ED25519_SHA256)) {
		fprintf(stderr, "mailctl: %s already has new keys in next/: "
		    "publish their records (mailctl dns records %s) and run "
		    "mailctl dkim rotate %s --activate\n", d, d, d);
		return 1;
	}
	if (mailctl_dkim_signer(ks, d) == NULL ||
	    strcmp(mailctl_dkim_signer(ks, d), d) != 0) {
		fprintf(stderr, "mailctl: %s has no active keys to rotate "
		    "(make them with: mailctl dkim keygen %s)\n", d, d);
		return 1;
	}
	for (i = 0; i < NELEM(algs); i++) {
		if (mailctl_dkim_has_alg(ks, MAILCTL_DKIM_ACTIVE, algs[i]) ==
		    NULL)
			continue;
		/* the largest active RSA key's size, at least 2048 */
		for (k = 0, bits = 2048; k < ks->n; k++)
			if (ks->v[k].state == MAILCTL_DKIM_ACTIVE &&
			    ks->v[k].alg == algs[i] && ks->v[k].bits > bits &&
			    ks->v[k].bits <= 4096)
				bits = ks->v[k].bits;
		if (mailctl_dkim_pick(ks, d, algs[i], NULL, sel,
		    sizeof(sel)) == -1 || mailctl_dkim_make(ctx, algs[i],
		    algs[i] == DKIM_RSA_SHA256 ? bits : 0, sel,
		    MAILCTL_DKIM_NEXT) == -1)
			return 1;
	}
	printf("; Publish these records now; signing does not change yet.\n"
	    "; Once \"mailctl dns check %s\" finds them, run: mailctl dkim "
	    "rotate %s --activate\n", d, d);
	return 0;
}

/* mailctl_dkim_published - every next/ key's record is in DNS */
static int
mailctl_dkim_published(struct mailctl_dkim_ctx *ctx,
    const struct mailctl_dkim_keys *ks)
{
	struct dns *dns;
	char	 got[512];
	size_t	 i;
	int	 st, ok = 1;

	if ((dns = mailctl_dns_resolver(ctx->cfg)) == NULL)
		return 0;
	for (i = 0; i < ks->n; i++) {
		if (ks->v[i].state != MAILCTL_DKIM_NEXT)
			continue;
		st = mailctl_dns_dkim(dns, &ks->v[i], got, sizeof(got));
		if (st != MAILCTL_DNS_OK) {
			fprintf(stderr, "mailctl: %s._domainkey.%s: %s%s%s\n",
			    ks->v[i].selector, ks->v[i].domain,
			    st == MAILCTL_DNS_MISSING ? "MISSING" :
			    st == MAILCTL_DNS_WRONG ? "WRONG" : "ERROR",
			    got[0] != '\0' ? " " : "", got);
			ok = 0;
		}
	}
	dns_free(dns);
	return ok;
}

/*
 * mailctl_dkim_move - rename one key file into another state's
 * directory; a retired key's mtime becomes now (set before the rename,
 * so a crash cannot leave an old time on a retired key)
 */
static int
mailctl_dkim_move(struct mailctl_dkim_ctx *ctx,
    const struct mailctl_dkim_key *k, int to)
{
	char	 dir[PATH_MAX], path[PATH_MAX];

	if (mailctl_dkim_dir(ctx->cfg, k->domain, to, dir, sizeof(dir)) ==
	    -1 || util_fmt(path, sizeof(path), "%s/%s.key", dir,
	    k->selector) == -1)
		return -1;
	if (to == MAILCTL_DKIM_RETIRED && utimensat(AT_FDCWD, k->path, NULL,
	    AT_SYMLINK_NOFOLLOW) == -1)
		fprintf(stderr, "mailctl: warning: %s: cannot set the time: "
		    "%s\n", k->path, strerror(errno));
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "mailctl: cannot move %s: %s exists\n",
		    k->path, path);
		return -1;
	}
	if (rename(k->path, path) == -1) {
		fprintf(stderr, "mailctl: cannot move %s to %s: %s\n",
		    k->path, path, strerror(errno));
		return -1;
	}
	printf("%s -> %s\n", k->path, path);
	return 0;
}

/* mailctl_dkim_activate - next/ keys become active, active ones retire */
static int
mailctl_dkim_activate(struct mailctl_dkim_ctx *ctx,
    const struct mailctl_dkim_keys *ks)
{
	const char *d = ctx->o.domain;
	char	 dir[PATH_MAX];
	size_t	 i, n = 0;
	int	 st;

	for (i = 0; i < ks->n; i++)
		n += ks->v[i].state == MAILCTL_DKIM_NEXT && ks->v[i].alg != 0;
	if (n == 0) {
		fprintf(stderr, "mailctl: nothing to activate: %s has no keys "
		    "in next/ (run mailctl dkim rotate %s first)\n", d, d);
		return 1;
	}
	if (!ctx->o.force && !mailctl_dkim_published(ctx, ks)) {
		fprintf(stderr, "mailctl: the new keys' records are not in "
		    "DNS yet: publish them (mailctl dns records %s), or use "
		    "--force to sign with selectors receivers cannot find\n",
		    d);
		return 1;
	}
	if (mailctl_dkim_mkdirs(ctx->cfg, d, MAILCTL_DKIM_RETIRED) == -1)
		return 1;
	/* first the new keys: from here on some key always signs */
	for (st = MAILCTL_DKIM_NEXT; st >= MAILCTL_DKIM_ACTIVE; st--)
		for (i = 0; i < ks->n; i++)
			if (ks->v[i].state == st && (st == MAILCTL_DKIM_ACTIVE ||
			    ks->v[i].alg != 0) && mailctl_dkim_move(ctx,
			    &ks->v[i], st == MAILCTL_DKIM_NEXT ?
			    MAILCTL_DKIM_ACTIVE : MAILCTL_DKIM_RETIRED) == -1)
				return 1;
	for (st = MAILCTL_DKIM_ACTIVE; st <= MAILCTL_DKIM_RETIRED; st++)
		if (mailctl_dkim_dir(ctx->cfg, d, st, dir, sizeof(dir)) == 0 &&
		    util_fsync_dir(dir) == -1)
			fprintf(stderr, "mailctl: warning: fsync of %s: %s\n",
			    dir, strerror(errno));
	printf("; The retired keys' records must stay published until %d "
	    "days from now, for mail signed with them that is still on its "
	    "way.\n", MAILCTL_DKIM_GRACE / 86400);
	return mailctl_dkim_reload(ctx);
}

/* mailctl_dkim_rotate - stage new keys, or activate the staged ones */
static int
mailctl_dkim_rotate(struct mailctl_dkim_ctx *ctx)
{
	struct mailctl_dkim_keys ks;
	int	 r;

	if (mailctl_dkim_scan(ctx->cfg, ctx->o.domain, &ks) == -1)
		return 1;
	r = ctx->o.activate ? mailctl_dkim_activate(ctx, &ks) :
	    mailctl_dkim_stage(ctx, &ks);
	mailctl_dkim_keys_free(&ks);
	return r;
}

/* mailctl_dkim_value - the argument of an option, or NULL (usage) */
static const char *
mailctl_dkim_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "mailctl: %s needs a value\n", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

/* mailctl_dkim_keyopt - --selector, --algorithm, --bits: 0, 1, 2 */
static int
mailctl_dkim_keyopt(int argc, char **argv, int *i,
    struct mailctl_dkim_opts *o)
{
	const char *opt = argv[*i], *v;
	long long b;

	if ((v = mailctl_dkim_value(argc, argv, i)) == NULL)
		return 2;
	if (strcmp(opt, "--selector") == 0)
		o->selector = v;
	else if (strcmp(opt, "--algorithm") == 0) {
		o->algs = strcmp(v, "rsa") == 0 ? MD_RSA :
		    strcmp(v, "ed25519") == 0 ? MD_ED25519 :
		    strcmp(v, "both") == 0 ? MD_RSA | MD_ED25519 : 0;
		if (o->algs == 0) {
			fprintf(stderr, "mailctl: --algorithm: \"%s\": use "
			    "rsa, ed25519 or both\n", log_str(v));
			return 1;
		}
	} else if (util_parse_ll(v, 0, 1 << 20, &b) == 0 && b == 1024) {
		fprintf(stderr, "mailctl: --bits 1024 refused: receivers "
		    "treat RSA-1024 signatures as weak or fail them; use "
		    "2048, 3072 or 4096\n");
		return 1;
	} else if (util_parse_ll(v, 0, 1 << 20, &b) == -1 ||
	    (b != 2048 && b != 3072 && b != 4096)) {
		fprintf(stderr, "mailctl: --bits: \"%s\": use 2048, 3072 or "
		    "4096\n", log_str(v));
		return 1;
	} else
		o->bits = (int)b;
	return 0;
}

/* mailctl_dkim_parse - options in any order and DOMAIN; 0, 1 or 2 */
static int
mailctl_dkim_parse(const struct mailctl_dkim_cmd *cmd, int argc,
    char **argv, struct mailctl_dkim_opts *o)
{
	const char *dom = NULL, *a;
	int	 i, r;

	for (i = 2; i < argc; i++) {
		a = argv[i];
		if ((cmd->opts & MD_O_KEYGEN) && (strcmp(a, "--selector") ==
		    0 || strcmp(a, "--algorithm") == 0 ||
		    strcmp(a, "--bits") == 0)) {
			if ((r = mailctl_dkim_keyopt(argc, argv, &i, o)) != 0)
				return r;
		} else if ((cmd->opts & MD_O_CHECK) &&
		    strcmp(a, "--check") == 0)
			o->check = 1;
		else if ((cmd->opts & MD_O_ROTATE) &&
		    strcmp(a, "--activate") == 0)
			o->activate = 1;
		else if ((cmd->opts & MD_O_ROTATE) && strcmp(a, "--force") == 0)
			o->force = 1;
		else if (a[0] == '-' || dom != NULL ||
		    !(cmd->opts & MD_O_DOMAIN)) {
			fprintf(stderr, "mailctl: dkim %s: unexpected argument "
			    "\"%s\"\n", cmd->name, log_str(a));
			return 2;
		} else
			dom = a;
	}
	if ((cmd->opts & MD_O_DOMAIN) && dom == NULL) {
		fprintf(stderr, "mailctl: dkim %s: no domain given\n",
		    cmd->name);
		return 2;
	}
	if (dom != NULL && mailctl_domain_arg(dom, o->domain,
	    sizeof(o->domain)) == -1) {
		fprintf(stderr, "mailctl: \"%s\" is not a valid domain name\n",
		    log_str(dom));
		return 1;
	}
	if (o->bits != 0 && o->algs == MD_ED25519) {
		fprintf(stderr, "mailctl: --bits is for RSA keys; Ed25519 keys "
		    "have one size\n");
		return 2;
	}
	if (o->force && !o->activate) {
		fprintf(stderr, "mailctl: --force goes with --activate\n");
		return 2;
	}
	return 0;
}

/* mailctl_dkim_main - argv[0] is "dkim", argv[1] the subcommand */
int
mailctl_dkim_main(const struct cfg *cfg, const char *sock, int argc,
    char **argv)
{
	const struct mailctl_dkim_cmd *cmd = NULL;
	struct mailctl_dkim_ctx ctx;
	size_t	 i;
	int	 r;

	if (argc < 2)
		return mailctl_dkim_usage();
	for (i = 0; i < NELEM(mailctl_dkim_cmds); i++)
		if (strcmp(argv[1], mailctl_dkim_cmds[i].name) == 0)
			cmd = &mailctl_dkim_cmds[i];
	if (cmd == NULL) {
		fprintf(stderr, "mailctl: unknown dkim command \"%s\"\n",
		    log_str(argv[1]));
		return mailctl_dkim_usage();
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.sock = sock;
	ctx.o.algs = MD_RSA | MD_ED25519;
	if ((r = mailctl_dkim_parse(cmd, argc, argv, &ctx.o)) != 0)
		return r == 2 ? mailctl_dkim_usage() : r;
	if (ctx.o.bits == 0)
		ctx.o.bits = 2048;
	return cmd->fn(&ctx);
}
