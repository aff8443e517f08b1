/*
 * smtp.h - the outbound SMTP client's shared state.
 *
 * One delivery request at a time per process (qmgr runs several smtp
 * processes for concurrency): find the hosts of the next hop (DNS MX or
 * relayhost), connect, EHLO, STARTTLS when offered (or required), AUTH to
 * a relayhost with a password, MAIL/RCPT/DATA with pipelining, per
 * recipient results.  A session whose delivery went well is kept open for
 * SMTP_CACHE_SECONDS for the next request to the same next hop.
 */
#ifndef YOUJU_SMTP_H
#define YOUJU_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "qfile.h"
#include "qid.h"
#include "smtpreply.h"

struct cfg;
struct dns;

#define SMTP_CACHE_SECONDS	2
#define SMTP_RBUF		16384

/* a connection to a remote SMTP server, plain or TLS, with deadlines */
struct smtp_conn {
	int		 fd;
	void		*ssl;			/* SSL *, NULL in clear */
	char		 host[DNS_NAME_MAX + 1];
	char		 addr[64];
	int		 port;
	char		 rbuf[SMTP_RBUF];
	size_t		 rlen;
	struct smtpreply ehlo;			/* the last EHLO reply */
	int		 esmtp;
	int		 tls;
	char		 nexthop[DNS_NAME_MAX + 16];
	char		 err[512];		/* why the last I/O failed */
	char		 qid[QID_BUFSZ];	/* the job using it, for logs */
	int		 garbled;		/* a garbled reply was taken:
						   the session is not reused */
};

struct smtp_rcpt {
	uint32_t	 idx;
	char		*addr;
	int		 status;		/* IPC_DLV_* */
	char		 text[SMTPREPLY_TEXT_MAX + 128];
	int		 done;
};

struct smtp_job {
	char		*qid;
	char		*sender;
	char		*nexthop;
	int		 qfd;
	struct qfile_msg q;
	struct smtp_rcpt *rcpt;
	size_t		 nrcpt;
	char		 relay[DNS_NAME_MAX + 80];
};

struct smtp {
	struct cfg	*cfg;
	struct dns	*dns;
	void		*tls_ctx;		/* SSL_CTX */
	const char	*helo_name;
	const char	*level;			/* none, may, encrypt, verify */
	int		 tls_loglevel;		/* smtp_tls_loglevel */
	const char	*relayhost;
	int		 port;
	struct dns_addr	 bind4;			/* smtp_bind_address */
	struct dns_addr	 bind6;			/* smtp_bind_address6 */
	int		 t_connect, t_helo, t_mail, t_rcpt, t_data_init;
	int		 t_data_xfer, t_data_done, t_quit;
	int		 sasl;
	struct map	**pw_maps;		/* smtp_sasl_password_maps */
	size_t		 npw;
	struct smtp_conn *cache;		/* idle session for reuse */
	uid_t		 peer_uid;
	struct skel	*sk;
};

extern struct smtp smtp;

/* smtp.c */
struct skel;
void	 smtp_tls_setup(struct skel *);

/* smtp_conn.c */
int	 smtp_conn_open(struct smtp_conn *, const struct dns_addr *, int, int);
int	 smtp_conn_write(struct smtp_conn *, const void *, size_t, int);
int	 smtp_conn_printf(struct smtp_conn *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	 smtp_conn_reply(struct smtp_conn *, struct smtpreply *, int);
int	 smtp_conn_starttls(struct smtp_conn *, int, int);
void	 smtp_conn_close(struct smtp_conn *);

/* smtp_proto.c */
void	 smtp_deliver(struct smtp_job *);
void	 smtp_cache_drop(int);

#endif
