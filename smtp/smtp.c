/*
 * smtp.c - the outbound SMTP client process: main(), requests from qmgr.
 *
 * Runs as mail_owner, chrooted to queue_directory (master.cf "smtp unix -
 * - y - - smtp").  Before the jail it makes the DNS resolver, the TLS
 * client context (smtp_tls_CAfile), reads smtp_sasl_password_maps and the
 * source addresses (smtp_bind_address, smtp_bind_address6).
 * Then, one request at a time: accept a connection on private/smtp, check
 * it is qmgr (SO_PEERCRED + HELLO), read IPC_SMTP_DELIVER with the queue
 * file's descriptor, deliver (smtp_proto.c), answer IPC_SMTP_RESULT.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "maps.h"
#include "qfile.h"
#include "skel.h"
#include "tls.h"
#include "util.h"
#include "smtp.h"

#define SMTP_MAX_RCPT	1000

struct smtp smtp;
static struct event *smtp_cache_ev;

/* smtp_job_free - release a request */
static void
smtp_job_free(struct smtp_job *j, int have_q)
{
	size_t	 i;

	for (i = 0; i < j->nrcpt; i++)
		free(j->rcpt[i].addr);
	free(j->rcpt);
	if (have_q)
		qfile_msg_free(&j->q);
	free(j->qid);
	free(j->sender);
	free(j->nexthop);
}

/* smtp_decode - an IPC_SMTP_DELIVER into a job; -1 = malformed */
static int
smtp_decode(const struct ipc_msg *m, struct smtp_job *j)
{
	struct ipc_in in;
	uint32_t n, i;

	ipc_in_init(&in, m);
	j->qfd = m->fd;
	if ((j->qid = ipc_get_str(&in, QID_LEN)) == NULL ||
	    (j->sender = ipc_get_str(&in, QFILE_ADDR_MAX)) == NULL ||
	    (j->nexthop = ipc_get_str(&in, DNS_NAME_MAX + 8)) == NULL)
		return -1;
	n = ipc_get_u32(&in);
	if (n == 0 || n > SMTP_MAX_RCPT)
		return -1;
	j->rcpt = xcalloc(n, sizeof(*j->rcpt));
	for (i = 0; i < n; i++, j->nrcpt++) {
		j->rcpt[i].idx = ipc_get_u32(&in);
		if ((j->rcpt[i].addr = ipc_get_str(&in, QFILE_ADDR_MAX)) ==
		    NULL)
			return -1;
		j->rcpt[i].status = IPC_DLV_TEMPFAIL;
	}
	return ipc_get_end(&in);
}

/* smtp_answer - the RESULT frame */
static int
smtp_answer(int fd, const struct smtp_job *j)
{
	struct ipc_out o;
	size_t	 i;
	int	 r;

	ipc_out_init(&o);
	ipc_put_str(&o, j->qid);
	ipc_put_u32(&o, (uint32_t)j->nrcpt);
	for (i = 0; i < j->nrcpt; i++) {
		ipc_put_u32(&o, j->rcpt[i].idx);
		ipc_put_u32(&o, (uint32_t)j->rcpt[i].status);
		ipc_put_str(&o, j->rcpt[i].text);
	}
	ipc_put_str(&o, j->relay[0] != '\0' ? j->relay : "none");
	r = ipc_send_out(fd, IPC_SMTP_RESULT, &o, -1);
	ipc_out_free(&o);
	return r;
}

/* smtp_cache_timeout - the idle session has waited long enough */
static void
smtp_cache_timeout(evutil_socket_t fd, short ev, void *arg)
{
	smtp_cache_drop(1);
}

/* smtp_serve - one request from qmgr */
static void
smtp_serve(int fd)
{
	struct smtp_job j;
	struct ipc_msg m;
	char	 err[256];
	int	 have_q = 0;

	if (ipc_serve_request(fd, smtp.peer_uid, IPC_R_SMTP, &m) == -1)
		return;
	memset(&j, 0, sizeof(j));
	if (m.type != IPC_SMTP_DELIVER || smtp_decode(&m, &j) == -1) {
		log_warn("malformed delivery request from qmgr");
	} else if (qfile_read(j.qfd, &j.q, err, sizeof(err)) != QFILE_OK) {
		log_err("%s: cannot read the queue file: %s", j.qid, err);
	} else {
		have_q = 1;
		smtp_deliver(&j);
		if (smtp_answer(fd, &j) == -1)
			log_warn("%s: cannot answer qmgr: %s", j.qid,
			    strerror(errno));
	}
	smtp_job_free(&j, have_q);
	ipc_msg_free(&m);
}

/* smtp_accept - the listening socket is readable */
static void
smtp_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval tv = { SMTP_CACHE_SECONDS, 0 };
	int	 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	smtp_serve(fd);
	close(fd);
	if (smtp.cache != NULL)
		evtimer_add(smtp_cache_ev, &tv);
}

/*
 * smtp_passwords - open the smtp_sasl_password_maps tables (lib/maps:
 * hash: built with "mailctl map", texthash:, ...) before the jail
 */
static void
smtp_passwords(struct skel *sk)
{
	char	**v, err[512];
	size_t	 n, i;

	v = cfg_list(sk->cfg, "smtp_sasl_password_maps", &n);
	smtp.pw_maps = xcalloc(n + 1, sizeof(*smtp.pw_maps));
	for (i = 0; i < n; i++) {
		if ((smtp.pw_maps[i] = maps_open(v[i], NULL, err,
		    sizeof(err))) == NULL)
			log_fatal("smtp_sasl_password_maps: %s", err);
		smtp.npw++;
	}
	cfg_list_free(v, n);
}

/*
 * smtp_tls_setup - the client TLS context (lib/tls/tls.c: TLS 1.2+) with the
 * CA file.  Made before the jail when certificates are verified (the CA
 * files are outside it), else on the first STARTTLS: an idle process does
 * not carry OpenSSL's state.
 */
void
smtp_tls_setup(struct skel *sk)
{
	const char *ca = cfg_str(sk->cfg, "smtp_tls_CAfile");
	const char *capath = cfg_str(sk->cfg, "smtp_tls_CApath");
	char	 err[512];
	SSL_CTX	*ctx;

	if ((ctx = tls_client_ctx(TLS1_2_VERSION, 0, err, sizeof(err))) ==
	    NULL)
		log_fatal("%s", err);
	if ((*ca != '\0' || *capath != '\0') &&
	    SSL_CTX_load_verify_locations(ctx, *ca ? ca : NULL,
	    *capath ? capath : NULL) != 1)
		log_fatal("smtp_tls_CAfile %s: %s", ca,
		    ERR_reason_error_string(ERR_get_error()));
	/* the system's CA bundle costs megabytes: only when it is used */
	if (*ca == '\0' && *capath == '\0' && (strcmp(smtp.level,
	    "verify") == 0 || strcmp(smtp.level, "secure") == 0))
		SSL_CTX_set_default_verify_paths(ctx);
	smtp.tls_ctx = ctx;
}

/* smtp_families - inet_protocols as the address families to look up */
static int
smtp_families(const struct cfg *cfg)
{
	char	**v;
	size_t	 n, i;
	int	 f = 0;

	v = cfg_list(cfg, "inet_protocols", &n);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i], "all") == 0)
			f |= DNS_IPV4 | DNS_IPV6;
		else if (strcmp(v[i], "ipv4") == 0)
			f |= DNS_IPV4;
		else if (strcmp(v[i], "ipv6") == 0)
			f |= DNS_IPV6;
	}
	cfg_list_free(v, n);
	return f;
}

/* smtp_bind_addr - smtp_bind_address(6): family 0 when not set */
static void
smtp_bind_addr(const struct cfg *cfg, const char *name, int family,
    struct dns_addr *a)
{
	const char *v = cfg_str(cfg, name);

	memset(a, 0, sizeof(*a));
	if (*v == '\0')
		return;
	/* master and mailctl check refuse a bad one (cfcheck_smtp) */
	if (inet_pton(family, v, a->addr) != 1)
		log_fatal("%s = %s: not an IPv%d address", name, v,
		    family == AF_INET ? 4 : 6);
	a->family = family;
}

/* smtp_pre_jail - resolver, TLS and passwords before the jail */
static void
smtp_pre_jail(struct skel *sk)
{
	char	 err[512];

	smtp.cfg = sk->cfg;
	if ((smtp.dns = dns_new(cfg_str(sk->cfg, "dns_server_address"), err,
	    sizeof(err))) == NULL)
		log_fatal("DNS resolver: %s", err);
	dns_set_families(smtp.dns, smtp_families(sk->cfg));
	smtp.level = cfg_str(sk->cfg, "smtp_tls_security_level");
	smtp.tls_loglevel = (int)cfg_int(sk->cfg, "smtp_tls_loglevel");
	smtp.sk = sk;
	/* CA files live outside the jail: read them now when they are used */
	if (strcmp(smtp.level, "verify") == 0 ||
	    strcmp(smtp.level, "secure") == 0 ||
	    *cfg_str(sk->cfg, "smtp_tls_CAfile") != '\0' ||
	    *cfg_str(sk->cfg, "smtp_tls_CApath") != '\0')
		smtp_tls_setup(sk);
	smtp_passwords(sk);
	smtp.helo_name = cfg_str(sk->cfg, "smtp_helo_name");
	smtp.relayhost = cfg_str(sk->cfg, "relayhost");
	smtp.port = (int)cfg_int(sk->cfg, "smtp_tcp_port");
	smtp_bind_addr(sk->cfg, "smtp_bind_address", AF_INET, &smtp.bind4);
	smtp_bind_addr(sk->cfg, "smtp_bind_address6", AF_INET6, &smtp.bind6);
	smtp.sasl = cfg_bool(sk->cfg, "smtp_sasl_auth_enable");
	smtp.t_connect = (int)cfg_time(sk->cfg, "smtp_connect_timeout");
	smtp.t_helo = (int)cfg_time(sk->cfg, "smtp_helo_timeout");
	smtp.t_mail = (int)cfg_time(sk->cfg, "smtp_mail_timeout");
	smtp.t_rcpt = (int)cfg_time(sk->cfg, "smtp_rcpt_timeout");
	smtp.t_data_init = (int)cfg_time(sk->cfg, "smtp_data_init_timeout");
	smtp.t_data_xfer = (int)cfg_time(sk->cfg, "smtp_data_xfer_timeout");
	smtp.t_data_done = (int)cfg_time(sk->cfg, "smtp_data_done_timeout");
	smtp.t_quit = (int)cfg_time(sk->cfg, "smtp_quit_timeout");
	smtp.peer_uid = sk->owner_uid;
}

/* smtp_post_jail - wait for requests */
static void
smtp_post_jail(struct skel *sk)
{
	struct event *ev;

	if (sk->nlisten != 1)
		log_fatal("expected one listening socket from master");
	util_set_nonblock(sk->listen_fd[0], 1);
	ev = event_new(sk->base, sk->listen_fd[0], EV_READ | EV_PERSIST,
	    smtp_accept, NULL);
	smtp_cache_ev = evtimer_new(sk->base, smtp_cache_timeout, NULL);
	if (ev == NULL || smtp_cache_ev == NULL || event_add(ev, NULL) == -1)
		log_fatal("cannot set up events");
}

/* smtp_stop - SIGTERM: close the cached session and leave */
static void
smtp_stop(struct skel *sk)
{
	smtp_cache_drop(1);
	skel_break(sk);
}

static const struct skel_ops smtp_ops = {
	.name = "smtp",
	.pre_jail = smtp_pre_jail,
	.post_jail = smtp_post_jail,
	.stop = smtp_stop,
};

/* main - run an outbound SMTP client process */
int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &smtp_ops);
}
