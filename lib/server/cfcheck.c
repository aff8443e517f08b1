/*
 * cfcheck.c - configuration checks shared by mailctl check and master
 * (see cfcheck.h).
 *
 * Interface: cfcheck_init, cfcheck_add, cfcheck_config, cfcheck_free.
 * The checks of one effective configuration (main.cf, or main.cf plus a
 * service's -o settings) are the same for both; a service only reports
 * what main.cf does not already report, so a mistake in main.cf is shown
 * once however many services inherit it.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "cfcheck.h"
#include "cfg.h"
#include "maps.h"
#include "mcf.h"
#include "metrics.h"
#include "net.h"
#include "privdrop.h"
#include "restr.h"
#include "util.h"

#define CFCHECK_MAX	(1024 * 1024)	/* bytes of findings kept */

/* cfcheck_init - no findings */
void
cfcheck_init(struct cfcheck *ck)
{
	buf_init(&ck->out, CFCHECK_MAX);
	ck->nerr = ck->nwarn = 0;
}

/* cfcheck_free - release the findings */
void
cfcheck_free(struct cfcheck *ck)
{
	buf_free(&ck->out);
}

/* cfcheck_add - see cfcheck.h */
void
cfcheck_add(struct cfcheck *ck, int err, const char *fmt, ...)
{
	va_list	 ap;

	(void)buf_puts(&ck->out, err ? "error: " : "warning: ");
	va_start(ap, fmt);
	(void)buf_vprintf(&ck->out, fmt, ap);
	va_end(ap);
	(void)buf_putc(&ck->out, '\n');
	if (err)
		ck->nerr++;
	else
		ck->nwarn++;
}

/* one table finding, passed on with where the table is named */
struct cfcheck_mapctx {
	struct cfcheck	*ck;
	const char	*where;
};

/* cfcheck_map_finding - a finding of maps_check ("FILE:LINE: text") */
static void
cfcheck_map_finding(void *arg, int err, const char *text)
{
	struct cfcheck_mapctx *m = arg;

	cfcheck_add(m->ck, err, "%s: %s", m->where, text);
}

/*
 * cfcheck_tables - every table a list names (check_*_access): the type
 * known, the file there, its patterns compiled, a hash: .db not older
 * than its source, every value an access(5) action
 */
static void
cfcheck_tables(struct cfcheck *ck, char **v, size_t n,
    const char *const *classes, const char *where)
{
	struct cfcheck_mapctx m = { ck, where };
	struct maps_report r = { cfcheck_map_finding, &m, 0, 0, classes };
	const struct restr_def *d;
	size_t	 k;

	for (k = 0; k + 1 < n; k++) {
		if ((d = restr_find(v[k])) == NULL)
			continue;
		if (restr_arg_flags(d->id) & RESTR_F_TABLE)
			(void)maps_check(v[k + 1], MAPS_CHK_ACCESS, &r);
		k += (size_t)d->nargs;
	}
}

/*
 * cfcheck_maps_param - a parameter whose value is a list of tables
 * (smtpd_sender_login_maps, smtp_sasl_password_maps): each usable
 */
static void
cfcheck_maps_param(struct cfcheck *ck, const struct cfg *c,
    const char *name)
{
	char	 where[1024], **v;
	size_t	 n, k;
	struct cfcheck_mapctx m = { ck, where };
	struct maps_report r = { cfcheck_map_finding, &m, 0, 0, NULL };

	cfg_origin(c, name, where, sizeof(where));
	v = cfg_list(c, name, &n);
	for (k = 0; k < n; k++)
		(void)maps_check(v[k], 0, &r);
	cfg_list_free(v, n);
}

/*
 * cfcheck_rbl_reply - default_rbl_reply: a well-formed template with the
 * names smtpd gives (the rbl_reply_maps tables: cfcheck_maps_param)
 */
static void
cfcheck_rbl_reply(struct cfcheck *ck, const struct cfg *c)
{
	char	 where[1024], why[256];

	if (restr_check_rbl_reply(cfg_str(c, "default_rbl_reply"), why,
	    sizeof(why)) == -1) {
		cfg_origin(c, "default_rbl_reply", where, sizeof(where));
		cfcheck_add(ck, 1, "%s: %s", where, why);
	}
}

/* cfcheck_one_list - one list or class: names, arguments, tables */
static void
cfcheck_one_list(struct cfcheck *ck, const struct cfg *c, const char *name,
    const char *value, const char *const *classes)
{
	char	 why[512], where[1024], **v;
	size_t	 n;

	cfg_origin(c, name, where, sizeof(where));
	v = cfg_split_list(value, &n);
	if (restr_check_list_cls(v, n, classes, why, sizeof(why)) == -1)
		cfcheck_add(ck, 1, "%s: %s", where, why);
	else
		cfcheck_tables(ck, v, n, classes, where);
	cfg_list_free(v, n);
}

/*
 * cfcheck_lists - restriction lists and classes (smtpd_restriction_
 * classes): every name known, with its arguments, every table usable,
 * every class defined
 */
static void
cfcheck_lists(struct cfcheck *ck, const struct cfg *c)
{
	char	 where[1024], **cls;
	const char *val;
	size_t	 i, n;

	cls = cfg_list(c, "smtpd_restriction_classes", &n);
	cls = xreallocarray(cls, n + 1, sizeof(*cls));
	cls[n] = NULL;
	for (i = 0; i < n; i++) {
		if (restr_find(cls[i]) != NULL || cfg_param_find(cls[i]) !=
		    NULL) {
			cfg_origin(c, "smtpd_restriction_classes", where,
			    sizeof(where));
			cfcheck_add(ck, 1, "%s: class name \"%s\" is a "
			    "restriction or parameter name", where, cls[i]);
		} else if ((val = cfg_lookup(c, cls[i])) == NULL) {
			cfg_origin(c, "smtpd_restriction_classes", where,
			    sizeof(where));
			cfcheck_add(ck, 1, "%s: class \"%s\" is not defined "
			    "(smtpd would not start)", where, cls[i]);
		} else
			cfcheck_one_list(ck, c, cls[i], val,
			    (const char *const *)cls);
	}
	for (i = 0; i < RESTR_NLISTS; i++)
		cfcheck_one_list(ck, c, restr_lists[i], cfg_str(c,
		    restr_lists[i]), (const char *const *)cls);
	cfg_list_free(cls, n);
}

/* cfcheck_nets - the network lists smtpd parses at start */
static void
cfcheck_nets(struct cfcheck *ck, const struct cfg *c)
{
	static const char *lists[] = { "mynetworks",
	    "smtpd_client_event_limit_exceptions" };
	char	 why[512], where[1024];
	struct net *v;
	size_t	 i, n;

	for (i = 0; i < NELEM(lists); i++) {
		if (net_parse_list(cfg_str(c, lists[i]), &v, &n, why,
		    sizeof(why)) == 0) {
			free(v);
			continue;
		}
		cfg_origin(c, lists[i], where, sizeof(where));
		cfcheck_add(ck, 1, "%s: %s (smtpd would not start)", where,
		    why);
	}
}

/* cfcheck_tls - the certificate and key exist and can be read */
static void
cfcheck_tls(struct cfcheck *ck, const struct cfg *c)
{
	static const char *files[] = { "smtpd_tls_cert_file",
	    "smtpd_tls_key_file" };
	const char *path;
	char	 where[1024];
	size_t	 i;

	if (!cfg_tls_wanted(c))
		return;
	for (i = 0; i < NELEM(files); i++) {
		path = cfg_str(c, files[i]);
		if (*path == '\0' || access(path, R_OK) == 0)
			continue;	/* empty: cfg_check says so */
		cfg_origin(c, files[i], where, sizeof(where));
		cfcheck_add(ck, 1, "%s: %s: %s (TLS would not work)", where,
		    path, strerror(errno));
	}
}

/* cfcheck_smtp - what smtp reads at start: the source addresses */
static void
cfcheck_smtp(struct cfcheck *ck, const struct cfg *c)
{
	static const struct {
		const char	*name;
		int		 family;
	} bind[] = { { "smtp_bind_address", AF_INET },
	    { "smtp_bind_address6", AF_INET6 } };
	unsigned char a[16];
	char	 where[1024];
	const char *v;
	size_t	 i;

	for (i = 0; i < NELEM(bind); i++) {
		v = cfg_str(c, bind[i].name);
		if (*v == '\0' || inet_pton(bind[i].family, v, a) == 1)
			continue;
		cfg_origin(c, bind[i].name, where, sizeof(where));
		cfcheck_add(ck, 1, "%s: \"%s\" is not an IPv%d address", where,
		    v, bind[i].family == AF_INET ? 4 : 6);
	}
}

/* cfcheck_policy - the default action of check_policy_service */
static void
cfcheck_policy(struct cfcheck *ck, const struct cfg *c)
{
	struct access_action a;
	char	 why[512], where[1024];

	if (access_parse(cfg_str(c, "smtpd_policy_service_default_action"),
	    NULL, &a, why, sizeof(why)) == 0) {
		access_free(&a);
		return;
	}
	cfg_origin(c, "smtpd_policy_service_default_action", where,
	    sizeof(where));
	cfcheck_add(ck, 1, "%s: %s (smtpd would not start)", where, why);
}

/* cfcheck_smtpd - what smtpd reads at start, from one configuration */
static void
cfcheck_smtpd(struct cfcheck *ck, const struct cfg *c)
{
	char	*text;
	int	 n, nerr;

	text = xmalloc(CFCHECK_MAX);
	n = cfg_check(c, text, CFCHECK_MAX, &nerr);
	(void)buf_puts(&ck->out, text);
	ck->nerr += nerr;
	ck->nwarn += n - nerr;
	free(text);
	cfcheck_lists(ck, c);
	cfcheck_maps_param(ck, c, "smtpd_sender_login_maps");
	cfcheck_maps_param(ck, c, "rbl_reply_maps");
	cfcheck_rbl_reply(ck, c);
	cfcheck_policy(ck, c);
	cfcheck_nets(ck, c);
	cfcheck_tls(ck, c);
}

/* cfcheck_text - the text of a finding line (after its label) */
static const char *
cfcheck_text(const char *line)
{
	return line + (strncmp(line, "error: ", 7) == 0 ? 7 : 9);
}

/* cfcheck_has_line - is a finding with this text (len bytes) in base */
static int
cfcheck_has_line(const char *base, const char *text, size_t len)
{
	const char *p, *nl, *t;

	for (p = base; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		t = cfcheck_text(p);
		if ((size_t)(nl - t) == len && memcmp(t, text, len) == 0)
			return 1;
	}
	return 0;
}

/*
 * cfcheck_service - the findings of one service's configuration (sk)
 * that main.cf's (base) lack, with the service named
 */
static void
cfcheck_service(struct cfcheck *ck, const char *base, struct cfcheck *sk,
    const char *mcfpath, const struct mcf_service *svc)
{
	const char *p, *nl, *text;
	int	 err;

	for (p = buf_cstr(&sk->out); (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1) {
		err = strncmp(p, "error: ", 7) == 0;
		text = cfcheck_text(p);
		if (cfcheck_has_line(base, text, (size_t)(nl - text)))
			continue;
		cfcheck_add(ck, err, "%s:%d: service %s: %.*s", mcfpath,
		    svc->line, svc->name, (int)(nl - text), text);
	}
}

/* cfcheck_metrics - metrics_listen: a loopback address master can bind */
static void
cfcheck_metrics(struct cfcheck *ck, const struct cfg *c)
{
	const char *v = cfg_str(c, "metrics_listen");
	char	 host[METRICS_HOST_MAX], why[512], where[1024];
	int	 port;

	if (*v == '\0' ||
	    metrics_listen_parse(v, host, sizeof(host), &port, why,
	    sizeof(why)) == 0)
		return;
	cfg_origin(c, "metrics_listen", where, sizeof(where));
	cfcheck_add(ck, 1, "%s: \"%s\": %s", where, v, why);
}

/*
 * cfcheck_spawn - a spawn service's command attributes (spawn(8) refuses
 * the same at start) and its NAME_time_limit, which counts as used
 */
static void
cfcheck_spawn(struct cfcheck *ck, struct cfg *c, const char *mcfpath,
    const struct mcf_service *svc)
{
	char	 name[300], user[256];
	const char *v, *why = NULL;
	long long t;
	uid_t	 uid;
	gid_t	 gid;
	size_t	 i, n;
	int	 have_argv = 0;

	snprintf(name, sizeof(name), "%s_time_limit", svc->name);
	cfg_mark_name(c, name);
	if ((v = cfg_lookup(c, name)) != NULL && *v != '\0' &&
	    (cfg_parse_time(v, 's', &t) == -1 || t < 1))
		cfcheck_add(ck, 1, "%s: \"%s\" is not a time", name, v);
	for (i = 0; i < svc->nargs && !have_argv && why == NULL; i++) {
		if (strncmp(svc->args[i], "argv=", 5) == 0) {
			have_argv = 1;
			if (svc->args[i][5] != '/')
				why = "argv= needs the command's absolute path";
		} else if (strncmp(svc->args[i], "user=", 5) == 0) {
			n = strcspn(svc->args[i] + 5, ":");
			snprintf(user, sizeof(user), "%.*s", (int)n,
			    svc->args[i] + 5);
			if (privdrop_lookup(user, &uid, &gid) == -1)
				why = "user= names an unknown user";
			else if (uid == 0 || strcmp(user, cfg_str(c,
			    "mail_owner")) == 0)
				why = "user= must be neither root nor "
				    "mail_owner";
		} else
			why = "unknown command attribute (user= and argv=, "
			    "argv= last)";
	}
	if (why == NULL && !have_argv)
		why = "missing argv=";
	if (why == NULL && (svc->unpriv || svc->chroot))
		why = "spawn needs unpriv n and chroot n";
	if (why != NULL)
		cfcheck_add(ck, 1, "%s:%d: service %s: %s", mcfpath,
		    svc->line, svc->name, why);
}

/* cfcheck_mark_classes - class names are used: no "unused" warning */
static void
cfcheck_mark_classes(struct cfg *c, const char *list)
{
	char	**v, ref[256];
	size_t	 n, i;

	v = cfg_split_list(list, &n);
	for (i = 0; i < n; i++)
		if (util_fmt(ref, sizeof(ref), "${%s}", v[i]) == 0)
			cfg_mark_used(c, ref);
	cfg_list_free(v, n);
}

/* cfcheck_config - see cfcheck.h */
void
cfcheck_config(struct cfcheck *ck, struct cfg *main_cfg,
    const struct mcf *mcf, const char *mcfpath)
{
	struct cfcheck sk;
	struct cfg *c;
	char	 err[1024], *base;
	const struct mcf_service *svc;
	size_t	 i, k;

	for (i = 0; i < mcf->nsvc; i++)
		for (k = 0; k < mcf->svc[i].nopts; k++) {
			cfg_mark_used(main_cfg, mcf->svc[i].opts[k].value);
			if (strcmp(mcf->svc[i].opts[k].name,
			    "smtpd_restriction_classes") == 0)
				cfcheck_mark_classes(main_cfg,
				    mcf->svc[i].opts[k].value);
		}
	cfcheck_mark_classes(main_cfg, cfg_str(main_cfg,
	    "smtpd_restriction_classes"));
	for (i = 0; i < mcf->nsvc; i++)
		if (strcmp(mcf->svc[i].command, "spawn") == 0)
			cfcheck_spawn(ck, main_cfg, mcfpath, &mcf->svc[i]);
	cfcheck_smtpd(ck, main_cfg);
	cfcheck_smtp(ck, main_cfg);
	cfcheck_metrics(ck, main_cfg);
	base = xstrdup(buf_cstr(&ck->out));
	for (i = 0; i < mcf->nsvc; i++) {
		svc = &mcf->svc[i];
		if (svc->nopts == 0)
			continue;
		c = cfg_dup(main_cfg);
		cfcheck_init(&sk);
		for (k = 0; k < svc->nopts; k++)
			if (cfg_set(c, svc->opts[k].name, svc->opts[k].value,
			    err, sizeof(err)) == -1)
				cfcheck_add(&sk, 1, "-o %s: %s",
				    svc->opts[k].name, err);
		/* only smtpd reads the lists, the networks and the TLS files */
		if (strcmp(svc->command, "smtpd") == 0)
			cfcheck_smtpd(&sk, c);
		if (strcmp(svc->command, "smtp") == 0)
			cfcheck_smtp(&sk, c);
		cfcheck_service(ck, base, &sk, mcfpath, svc);
		cfcheck_free(&sk);
		cfg_free(c);
	}
	free(base);
}
