/*
 * sendmail.h - the Sendmail/Postfix command-line interface of youju:
 * sendmail, mailq, newaliases.
 *
 * An ordinary program of the user who runs it (no set-uid or set-gid
 * bit): a message goes to pickup(8) over the socket
 * queue_directory/public/pickup, and pickup, not this program, decides
 * what the user may do.  mailq, -q and newaliases are mailctl's requests
 * and need root.
 */
#ifndef YOUJU_SENDMAIL_H
#define YOUJU_SENDMAIL_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;

#define SENDMAIL_M_MAIL		0	/* -bm: a message on stdin */
#define SENDMAIL_M_QUEUE	1	/* -bp, mailq */
#define SENDMAIL_M_SMTP		2	/* -bs: SMTP on stdin and stdout */
#define SENDMAIL_M_FLUSH	3	/* -q */
#define SENDMAIL_M_ALIASES	4	/* -bi, -I, newaliases */

/* the command line (sendmail_args.c) */
struct sendmail_opts {
	int		 mode;		/* SENDMAIL_M_* */
	int		 extract;	/* -t */
	int		 dots;		/* a line "." ends the input (no -i) */
	int		 verbose;	/* -v */
	const char	*sender;	/* -f, -r */
	const char	*fullname;	/* -F */
	const char	*config_dir;	/* -C */
	const char	*site;		/* -qR, -qS */
	char		**rcpt;		/* the words after the options */
	int		 nrcpt;
	char		 cdir[4096];	/* -C's directory */
};

/*
 * sendmail_args - parse the command line (argv[0]'s name picks mailq or
 * newaliases): 0, or -1 with a message in err (a usage error)
 */
int	 sendmail_args(int, char **, struct sendmail_opts *, char *, size_t);

/* the message, spooled before pickup is asked (sendmail_spool.c) */
struct sendmail_spool {
	int		 fd;		/* an unnamed temporary file */
	uint64_t	 size;
	uint64_t	 limit;		/* message_size_limit, 0: none */
	int		 eight;		/* 8-bit bytes seen */
	int		 over;		/* more than limit */
	int		 bol;		/* at the start of a line */
	int		 dot;		/* ".", ".\r" held back at a line start */
};

int	 sendmail_spool_open(struct sendmail_spool *, uint64_t);
int	 sendmail_spool_put(struct sendmail_spool *, const void *, size_t);
/* sendmail_spool_stdin - the input up to EOF (or a "." line with dots):
 * 0, or -1 (errno) when reading or writing failed */
int	 sendmail_spool_input(struct sendmail_spool *, int, int);
int	 sendmail_spool_rewind(struct sendmail_spool *);
void	 sendmail_spool_close(struct sendmail_spool *);

/* one submission to pickup (sendmail_submit.c) */
struct sendmail_sub {
	const char	*queue_dir;
	unsigned	 flags;		/* IPC_PF_* */
	const char	*sender;	/* with IPC_PF_SENDER */
	const char	*fullname;
	char		**rcpt;
	size_t		 nrcpt;
	int		 fd;		/* the spooled content */
	/* the outcome */
	int		 down;		/* pickup could not be reached */
	unsigned	 code;		/* the last reply, 0 when none came */
	char		 text[1024];	/* its text, or what went wrong */
	char		 used[1024];	/* the sender pickup took (354) */
	char		 qid[64];	/* with 250 */
};

/* sendmail_submit - 0 when the message is queued; else -1, see sub */
int	 sendmail_submit(struct sendmail_sub *);
/* sendmail_exit - the sysexits status of a failed submission */
int	 sendmail_exit(const struct sendmail_sub *);
/* sendmail_sender_kept - did pickup take the sender asked for */
int	 sendmail_sender_kept(const struct cfg *, const char *, const char *);

/* the -bs session (sendmail_smtp.c) */
struct sendmail_user {
	struct cfg	*cfg;
	uid_t		 uid;
	const char	*login;
	const char	*fullname;
};
int	 sendmail_smtp(const struct sendmail_user *);

/* sendmail_addrs - command-line words as addr-specs (address lists) */
int	 sendmail_addrs(char **, int, char ***, size_t *, const char **);

#endif
