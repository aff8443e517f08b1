/*
 * smtpd.h - the SMTP server: shared state of one smtpd process.
 *
 * One process serves many sessions with libevent.  A session reads lines
 * from its bufferevent, runs one command at a time (pipelined commands wait
 * in the input buffer), and may pause for an asynchronous answer (the auth
 * broker's address lookup) before going on with the rest of its input.
 */
#ifndef YOUJU_SMTPD_H
#define YOUJU_SMTPD_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "net.h"
#include "buf.h"
#include "ipc_client.h"
#include "qfile.h"

struct event_base;
struct event;
struct bufferevent;
struct skel;
struct cfg;
struct dns;
struct map;
struct dns_aq;
struct smtpd_dnsent;
struct smtpd_preq;
struct smtpd_psvc;

#define SMTPD_CMD_MAX		2048	/* a command line, CRLF included */
#define SMTPD_MAX_SESSIONS	100000
#define SMTPD_DNS_MAX		16	/* DNS answers a session keeps */
#define SMTPD_PREPEND_MAX	(64 * 1024)	/* PREPEND headers of a message */

/* kinds of DNS entries, and what a session waits for (smtpd_dns.c) */
#define SMTPD_DNS_RBL		1
#define SMTPD_DNS_DOMAIN	2
#define SMTPD_DNS_RHSBL		3
#define SMTPD_DNS_HOST		4
#define SMTPD_DW_MAIL		1
#define SMTPD_DW_RCPT		2
#define SMTPD_DW_CONNECT	3	/* the banner (smtpd_delay_reject = no) */
/* what a session waits for from anvil (smtpd_anvil.c) */
#define SMTPD_AW_CONNECT	1
#define SMTPD_AW_MAIL		2

/* the status of a client name (Postfix's SMTPD_PEER_CODE_*, smtpd_peer.c) */
#define SMTPD_PEER_OK		2	/* found (and confirmed) */
#define SMTPD_PEER_TEMP		4	/* a lookup failed temporarily */
#define SMTPD_PEER_PERM		5	/* no name (NXDOMAIN, no PTR, off) */
#define SMTPD_PEER_FORGED	6	/* the name does not list the address */
#define SMTPD_NAME_MAX		256	/* a host name and its NUL */
#define SMTPD_HOSTS_FILE	"/etc/hosts"	/* read before the jail */

/* smtpd_greet_action */
#define SMTPD_GREET_IGNORE	0
#define SMTPD_GREET_ENFORCE	1
#define SMTPD_GREET_DROP	2

/* three-way result of checks: decides 2xx / 4xx / 5xx */
enum smtpd_res {
	SMTPD_OK = 0,
	SMTPD_TEMPFAIL,
	SMTPD_PERMFAIL,
	SMTPD_WAIT,		/* a restriction waits for DNS answers */
	SMTPD_SLEEP		/* a sleep restriction: pause, run again */
};


/* a defer_if_permit / defer_if_reject armed, with the reply it gives */
struct smtpd_defer {
	int		 active;
	char		 msg[512];
};

/*
 * what access tables asked for beside the reply (HOLD, DISCARD,
 * PREPEND): for the session (at CONNECT and HELO without
 * smtpd_delay_reject) or for the transaction
 */
struct smtpd_acts {
	int		 hold;
	int		 discard;
	char		*prepend;	/* header lines, each ending in CRLF */
	size_t		 prepend_len;
	char		*redirect;	/* REDIRECT: the one recipient, or NULL */
	char		*bcc;		/* BCC: one more recipient, or NULL */
};

/* a restriction class (smtpd_restriction_classes) */
struct smtpd_class {
	char		*name;
	char		**v;
	size_t		 n;
};

/* a lookup table a restriction list names, opened before the jail */
struct smtpd_map {
	char		*spec;
	struct map	*m;
};

/* what a session waits for in a sleep restriction */
#define SMTPD_SW_CONNECT	1
#define SMTPD_SW_LINE		2	/* HELO, EHLO, RCPT, DATA: run again */
#define SMTPD_SW_MAIL		3
#define SMTPD_SW_EOD		4

struct smtpd_rcpt {
	char		*addr;		/* canonical local@domain */
	char		*orcpt;		/* ORCPT= as received, or NULL */
	unsigned	 notify;	/* NOTIFY= as QFILE_NOTIFY_*, or 0 */
};

enum smtpd_phase {
	SMTPD_PH_CMD = 0,	/* reading commands */
	SMTPD_PH_DATA,		/* reading message content */
	SMTPD_PH_WAIT,		/* waiting for an asynchronous answer */
	SMTPD_PH_SLEEP,		/* error sleep before the next command */
	SMTPD_PH_TLS_START,	/* 220 to STARTTLS being flushed */
	SMTPD_PH_CLOSING	/* reply being flushed, then close */
};

struct smtpd_sess {
	struct smtpd	*sd;
	struct bufferevent *bev;
	struct event	*timer;
	struct event	*pause;		/* error sleep (tarpit) */
	uint64_t	 id;
	char		 client_addr[64];
	int		 client_port;
	/*
	 * The client's name (smtpd_peer.c), Postfix's client_name and
	 * reverse_client_name: the forward-confirmed PTR name and the PTR
	 * name, each "unknown" when there is none; their status SMTPD_PEER_*
	 */
	char		 client_name[SMTPD_NAME_MAX];
	char		 reverse_name[SMTPD_NAME_MAX];
	int		 name_status;
	int		 reverse_status;
	struct dns_aq	*peer_q;	/* the PTR or A/AAAA lookup running */
	struct event	*peer_timer;
	uint64_t	 connect_ms;	/* util_mono_ms() at accept */
	uint64_t	 greet_at;	/* banner not before (smtpd_greet_wait) */
	uint64_t	 peer_deadline;	/* the name lookup gives up */
	int		 named;		/* the name lookup is over */
	int		 greeted;	/* the banner went out */
	uint64_t	 pregreet_ms;	/* 1 + ms after connect of the first
					   input before the banner, or 0 */
	int		 pregreet_enforce;	/* its RCPTs get 550 5.5.1 */
	int		 mynetworks;	/* client in mynetworks */
	enum smtpd_phase phase;
	int		 esmtp;
	char		*helo;
	int		 errors;
	int		 junk;
	/* transaction */
	int		 in_mail;
	char		*sender;	/* "" = null sender */
	int		 body_8bit;
	uint64_t	 declared_size;
	char		*envid;		/* ENVID= as received (xtext), or NULL */
	const char	*ret;		/* RET=: "FULL", "HDRS" or NULL */
	struct smtpd_rcpt *rcpt;
	size_t		 nrcpt;
	size_t		 rcpt_cap;
	/* RCPT/VRFY waiting for the auth broker */
	struct addr	 pend;
	char		*pend_orcpt;	/* the RCPT's ORCPT= and NOTIFY= */
	unsigned	 pend_notify;
	int		 pend_vrfy;
	int		 pend_kind;	/* SMTPD_REQ_* */
	struct ipc_pending auth_pend;	/* waiting for the broker */
	/* DATA */
	struct smtpd_dkim *dkim;	/* DKIM signing state, or NULL */
	struct qfile_writer qw;
	int		 qw_open;
	struct buf	 line;
	uint64_t	 data_size;
	int		 data_flags;
	int		 data_crlf;	/* the previous content line ended in CRLF */
	int		 skip_line;
	int		 cmd_crlf;	/* the last command line ended in CRLF */	/* rest of an over-long command line */
	struct smtpd_sess *prev, *next;	/* all sessions */
	/* TLS */
	int		 tls;		/* 0 plain, 1 handshake, 2 established */
	char		*tls_info;	/* "TLSv1.3 with cipher X (256/256 bits)" */
	char		*tls_proto;	/* "TLSv1.3" */
	/* SASL */
	int		 sasl_step;	/* SMTPD_SASL_* while an exchange runs */
	const char	*sasl_mech;	/* "PLAIN" / "LOGIN" once logged in */
	char		*sasl_user;	/* canonical login, NULL = not logged in */
	char		*sasl_login;	/* LOGIN: the user name so far */
	const char	*sasl_try;	/* mechanism of the exchange */
	/* reject_sender_login_mismatch: owners of the MAIL FROM address */
	char		**owners;
	size_t		 nowners;
	int		 owners_known;
	char		*pend_mail;	/* MAIL parameters while owners are asked */
	/* DNS restrictions (smtpd_dns.c) */
	struct smtpd_dnsent *dns[SMTPD_DNS_MAX];
	int		 rbl_started;
	int		 dns_wait;	/* SMTPD_DW_* while waiting */
	char		*dns_line;	/* the RCPT line to run again */
	struct event	*dns_timer;
	/* client limits (smtpd_anvil.c) */
	int		 anvil_wait;	/* SMTPD_AW_* while waiting */
	struct ipc_pending anvil_pend;
	int		 anvil_counted;	/* anvil counts this connection */
	int		 anvil_mail_ok;	/* MAIL running again after the count */
	char		*anvil_line;	/* the MAIL line to run again */
	/* policy delegation (smtpd_policy.c) */
	struct smtpd_preq *policy;	/* the question and answers, or NULL */
	unsigned	 txn_seq;	/* counts transactions: "instance" */
	/* restrictions (smtpd_check.c, smtpd_access.c) */
	int		 access_denied;	/* client restrictions refused it at
					   connect: 503 to every command */
	int		 client_later;	/* connect/HELO checks waited for DNS:
					   they run at MAIL */
	int		 helo_later;
	struct smtpd_defer dip_stage[3];	/* defer_if_permit of the
					   client, helo, sender lists */
	struct smtpd_acts acts_sess;
	struct smtpd_acts acts_txn;
	int		 ill_pipelining;	/* input came ahead of time */
	int		 sleep_done;	/* sleeps done in this command */
	int		 sleep_secs;	/* of the sleep that asked for a pause */
	int		 sender_listed;	/* reject_unlisted_sender: 0 not asked,
					   1 listed, 2 unknown, 3 lookup failed */
	int		 sleep_kind;	/* SMTPD_SW_* while sleeping */
	char		*sleep_line;
	struct event	*sleep_ev;
};

/* kinds of broker requests a session can wait for */
#define SMTPD_REQ_RCPT		1
#define SMTPD_REQ_LOGIN		2
#define SMTPD_REQ_SENDER	3
#define SMTPD_REQ_DKIM_KEYS	4
#define SMTPD_REQ_DKIM_SIGN	5
#define SMTPD_REQ_LISTED	6	/* reject_unlisted_sender */

/* an answer of the broker, decoded (smtpd_auth.c) */
struct smtpd_answer {
	int		 result;	/* IPC_LOOKUP_/LOGIN_/DKIM_* */
	char		*canon;		/* LOGIN: the user's name */
	char		**owners;	/* SENDER */
	size_t		 nowners;
	struct dkim_keyref *keys;	/* DKIM_KEYS */
	size_t		 nkeys;
	const unsigned char *sig;	/* DKIM_SIGN: view into the frame */
	size_t		 siglen;
};

struct smtpd_dkim;

#define SMTPD_SASL_NONE		0
#define SMTPD_SASL_PLAIN	1	/* 334 sent, waiting for the response */
#define SMTPD_SASL_LOGIN_USER	2
#define SMTPD_SASL_LOGIN_PASS	3

#define SMTPD_DF_TOOBIG		0x01
#define SMTPD_DF_LONGLINE	0x02
#define SMTPD_DF_NUL		0x04
#define SMTPD_DF_BARELF		0x08
#define SMTPD_DF_WRITEERR	0x10
#define SMTPD_DF_BARECR		0x20

struct smtpd {
	struct skel	*sk;
	struct cfg	*cfg;
	struct event_base *base;
	struct event	*lev[16];	/* the listening sockets */
	int		 nlev;
	size_t		 nsess;
	struct smtpd_sess *sessions;
	uint64_t	 next_id;
	/* settings cached at start */
	char		*hostname;
	char		*banner;
	char		**mydest;
	size_t		 nmydest;
	char		*myorigin;	/* lower case; completes "<alice>" */
	/* DKIM (smtpd_dkim.c): the broker's key table, asked for once */
	int		 dkim_on;	/* dkim_signing */
	int		 dkim_known;
	struct dkim_keyref *dkim_keys;
	size_t		 dkim_nkeys;
	size_t		 dup_limit;	/* duplicate_filter_limit */
	int		 append_myorigin;	/* append_at_myorigin */
	struct net	*mynet;
	size_t		 nmynet;
	uint64_t	 size_limit;
	size_t		 rcpt_limit;
	size_t		 line_limit;
	int		 timeout;
	int		 helo_required;
	int		 delay_reject;
	int		 bare_lf;	/* SMTPD_BARELF_* */
	int		 vrfy;		/* 0 disabled (502), 1 252, 2 lookup */
	int		 hard_errors;
	int		 soft_errors;
	int		 error_sleep;	/* seconds, after soft_errors */
	int		 junk_limit;
	size_t		 session_limit;
	int		 hash_depth;
	int		 tls_required;	/* smtpd_tls_security_level = encrypt */
	int		 tls_wrapper;	/* smtpd_tls_wrappermode = yes */
	int		 tls_offer;	/* STARTTLS may be offered */
	int		 tls_broken;	/* TLS wanted but not set up (454) */
	void		*tls_ctx;	/* SSL_CTX, NULL without certificate */
	int		 sasl_enable;	/* smtpd_sasl_auth_enable */
	int		 sasl_tls_only;	/* smtpd_tls_auth_only */
	int		 sender_owners;	/* a list has reject_*sender_login_mismatch */
	char		**restr[7];	/* restr_lists[]: client, helo, sender,
					   relay, recipient, data, end of data */
	size_t		 nrestr[7];
	struct smtpd_class *classes;	/* smtpd_restriction_classes */
	size_t		 nclasses;
	const char	**class_names;	/* NULL-terminated */
	struct smtpd_map *maps;		/* tables of check_*_access */
	size_t		 nmaps;
	int		 maps_stale;	/* a table changed and cannot be read
					   again here: retire */
	int		 reject_code, defer_code;
	int		 access_reject_code, access_defer_code;
	int		 plaintext_code, mul_rcpt_code, local_rcpt_code;
	int		 parent_access;	/* parent_domain_matches_subdomains
					   has smtpd_access_maps */
	char		*null_key;	/* smtpd_null_access_lookup_key */
	char		*delims;	/* recipient_delimiter */
	/* the internal services (lib/server/ipc_client) */
	struct ipc_client *qmgr;	/* notices (smtpd_qmgr.c) */
	struct ipc_client *auth;	/* the broker (smtpd_auth.c) */
	/* DNS restrictions */
	struct dns	*dns;		/* NULL when no restriction needs it */
	struct event	*dns_ev;
	struct dns	*peer_dns;	/* client names: /etc/hosts, then DNS */
	struct event	*peer_dns_ev;
	char		**rbl;		/* zones of reject_rbl_client */
	size_t		 nrbl;
	int		 unk_sender;	/* reject_unknown_sender_domain */
	int		 unk_rcpt;	/* reject_unknown_recipient_domain */
	int		 rbl_code;	/* maps_rbl_reject_code */
	const char	*rbl_reply;	/* default_rbl_reply */
	struct map	**rbl_maps;	/* rbl_reply_maps */
	size_t		 nrbl_maps;
	int		 unknown_code;	/* unknown_address_reject_code */
	int		 unk_client_code;	/* unknown_client_reject_code */
	int		 unk_name_code;	/* unknown_hostname_reject_code */
	int		 peername_lookup;	/* smtpd_peername_lookup */
	int		 greet_wait;	/* smtpd_greet_wait, seconds */
	int		 greet_action;	/* smtpd_greet_action: SMTPD_GREET_* */
	/* client limits (anvil) */
	uint32_t	 conn_limit, conn_rate, msg_rate;
	struct net	*exempt;	/* smtpd_client_event_limit_exceptions */
	size_t		 nexempt;
	struct ipc_client *anvil;
	/* check_policy_service uses (smtpd_policy.c) */
	struct smtpd_psvc *policy;
	size_t		 npolicy;
};

#define SMTPD_BARELF_NORMALIZE	0
#define SMTPD_BARELF_REJECT	1

/* smtpd.c */
void	 smtpd_reply(struct smtpd_sess *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 smtpd_reject(struct smtpd_sess *, const char *, const char *,
	    const char *, const char *, ...)
	    __attribute__((format(printf, 5, 6)));
void	 smtpd_close(struct smtpd_sess *);
void	 smtpd_resume(struct smtpd_sess *);
uint64_t smtpd_wait_limit(const struct smtpd *, uint64_t);
void	 smtpd_reset_timer(struct smtpd_sess *);
void	 smtpd_session_cb(struct smtpd_sess *);
void	 smtpd_addr_text(const struct sockaddr *, char *, size_t, int *);

/* smtpd_proto.c */
void	 smtpd_greet(struct smtpd_sess *);
void	 smtpd_command(struct smtpd_sess *, char *, size_t);
void	 smtpd_txn_reset(struct smtpd_sess *);
void	 smtpd_rcpt_lookup_done(struct smtpd_sess *, int);
void	 smtpd_mail_finish(struct smtpd_sess *);
int	 smtpd_in_mynetworks(struct smtpd *, const char *);
int	 smtpd_is_mydest(struct smtpd *, const char *);
void	 smtpd_rerun(struct smtpd_sess *, int, const char *);

/* smtpd_check.c */
enum smtpd_res smtpd_check_rcpt(struct smtpd_sess *, const struct addr *,
	    int, char *, size_t);
enum smtpd_res smtpd_check_mail(struct smtpd_sess *, char *, size_t);
enum smtpd_res smtpd_check_connect(struct smtpd_sess *, char *, size_t);
enum smtpd_res smtpd_check_helo(struct smtpd_sess *, const char *, char *,
	    size_t);
enum smtpd_res smtpd_check_data(struct smtpd_sess *, char *, size_t);
enum smtpd_res smtpd_check_eod(struct smtpd_sess *, char *, size_t);
int	 smtpd_check_uses(struct smtpd *, const char *);
int	 smtpd_check_config(struct smtpd *, char *, size_t);
int	 smtpd_check_wait(struct smtpd_sess *, int, const char *);

/* smtpd_policy.c: check_policy_service */
void	 smtpd_policy_setup(struct smtpd *);
/*
 * smtpd_policy_ask - the answer for the list word (an action), 0 with
 * *action set (NULL: the word is no check_policy_service of the lists),
 * or -1 while the question is out (the restriction waits)
 */
int	 smtpd_policy_ask(struct smtpd_sess *, const char *, const char *,
	    const char *, const char **);
/* smtpd_policy_wait - wait for the answer, then smtpd_rerun; 1 waiting */
int	 smtpd_policy_wait(struct smtpd_sess *, int, const char *);
/* smtpd_policy_clear - forget the answers (the lists reached a verdict) */
void	 smtpd_policy_clear(struct smtpd_sess *);
void	 smtpd_policy_forget(struct smtpd_sess *);
/* smtpd_check_open - classes and tables, before the jail; -1 with why */
int	 smtpd_check_open(struct smtpd *, char *, size_t);
/* smtpd_check_maps_changed - a table changed that cannot be read again */
int	 smtpd_check_maps_changed(struct smtpd *);
void	 smtpd_check_txn_reset(struct smtpd_sess *);
void	 smtpd_check_forget(struct smtpd_sess *);
/* smtpd_check_sleep - a sleep restriction asked for a pause: 1 if paused */
int	 smtpd_check_sleep(struct smtpd_sess *, int, const char *);
/* smtpd_check_listed - reject_unlisted_sender's lookup: 1 if waiting */
int	 smtpd_check_listed(struct smtpd_sess *);
void	 smtpd_check_listed_done(struct smtpd_sess *, int);
/* smtpd_check_pipelining - note input that came ahead of time */
void	 smtpd_check_pipelining(struct smtpd_sess *, const char *, int);
/* smtpd_whatsup - log a policy event as Postfix does (see smtpd_reject) */
void	 smtpd_whatsup(struct smtpd_sess *, const char *, const char *,
	    const char *, const char *, const char *);

/* smtpd_dns.c */
void	 smtpd_dns_setup(struct smtpd *);
void	 smtpd_dns_start(struct smtpd *);
void	 smtpd_dns_rbl(struct smtpd_sess *);
void	 smtpd_dns_domain(struct smtpd_sess *, const char *);
void	 smtpd_dns_rhsbl(struct smtpd_sess *, const char *, const char *);
void	 smtpd_dns_host(struct smtpd_sess *, const char *);
int	 smtpd_dns_lookup(struct smtpd_sess *, int, const char *);
int	 smtpd_dns_wait(struct smtpd_sess *, int, const char *);
void	 smtpd_dns_forget(struct smtpd_sess *);
const struct smtpd_dnsent *smtpd_dns_entry(const struct smtpd_sess *, int,
	    const char *);
int	 smtpd_dns_status(const struct smtpd_dnsent *);
int	 smtpd_dns_rbl_match(const struct smtpd_dnsent *, const char *,
	    const char **, const char **);
/* smtpd_peer.c */
void	 smtpd_peer_start(struct smtpd_sess *);
void	 smtpd_peer_input(struct smtpd_sess *);
int	 smtpd_peer_pregreet(struct smtpd_sess *);
void	 smtpd_peer_forget(struct smtpd_sess *);
/* smtpd_anvil.c */
void	 smtpd_anvil_setup(struct smtpd *);
int	 smtpd_anvil_connect(struct smtpd_sess *);
int	 smtpd_anvil_mail(struct smtpd_sess *, const char *);
void	 smtpd_anvil_forget(struct smtpd_sess *);
/* smtpd_tls.c */
int	 smtpd_tls_setup(struct smtpd *, char *, size_t);
void	 smtpd_starttls(struct smtpd_sess *, char *);
void	 smtpd_tls_switch(struct smtpd_sess *);
struct bufferevent *smtpd_tls_wrap(struct smtpd *, int);
void	 smtpd_tls_done(struct smtpd_sess *);
void	 smtpd_tls_error(struct smtpd_sess *);

/* smtpd_sasl.c */
void	 smtpd_auth_cmd(struct smtpd_sess *, char *);
void	 smtpd_sasl_line(struct smtpd_sess *, char *, size_t);
void	 smtpd_sasl_done(struct smtpd_sess *, int, const char *);
void	 smtpd_sasl_forget(struct smtpd_sess *);
int	 smtpd_sender_lookup(struct smtpd_sess *);
void	 smtpd_sender_done(struct smtpd_sess *, int, char **, size_t);
void	 smtpd_owners_forget(struct smtpd_sess *);

/* smtpd_data.c */
int	 smtpd_data_begin(struct smtpd_sess *);
void	 smtpd_data_commit(struct smtpd_sess *);
void	 smtpd_data_eod(struct smtpd_sess *);
void	 smtpd_data_fail(struct smtpd_sess *, const char *);
int	 smtpd_data_input(struct smtpd_sess *, const unsigned char *, size_t,
	    size_t *);
void	 smtpd_data_abort(struct smtpd_sess *);

/* smtpd_qmgr.c */
void	 smtpd_qmgr_init(struct smtpd *);
void	 smtpd_qmgr_notify(struct smtpd *, const char *);

/* smtpd_dkim.c: DKIM-signing of outbound mail at the end of DATA */
#define SMTPD_DKIM_FAIL	"451 4.3.0 Error: cannot DKIM-sign the message " \
			    "now, try again later"
void	 smtpd_dkim_start(struct smtpd_sess *);
void	 smtpd_dkim_line(struct smtpd_sess *, const unsigned char *, size_t);
int	 smtpd_dkim_end(struct smtpd_sess *);
void	 smtpd_dkim_forget(struct smtpd_sess *);
void	 smtpd_dkim_keys_answer(struct smtpd_sess *,
	    const struct smtpd_answer *);
void	 smtpd_dkim_sign_answer(struct smtpd_sess *,
	    const struct smtpd_answer *);
/* smtpd_auth.c: requests to the auth broker */
int	 smtpd_auth_request(struct smtpd_sess *, int, uint32_t,
	    const struct ipc_out *);
int	 smtpd_auth_lookup(struct smtpd_sess *, const struct addr *);
int	 smtpd_auth_lookup_kind(struct smtpd_sess *, const struct addr *, int);
void	 smtpd_auth_forget(struct smtpd_sess *);
void	 smtpd_auth_init(struct smtpd *);

#endif
