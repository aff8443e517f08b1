/*
 * mailctl_doctor.h - shared by mailctl doctor's files: the findings list
 * (mailctl_doctor.c) and the checks that talk SMTP
 * (mailctl_doctor_smtp.c).
 */
#ifndef YOUJU_MAILCTL_DOCTOR_H
#define YOUJU_MAILCTL_DOCTOR_H

#include <stddef.h>

#include "mcf.h"

struct cfg;

#define DOC_OK		0
#define DOC_WARN	1
#define DOC_ERR		2

struct doc_item {
	int	 level;		/* DOC_* */
	char	*check;		/* "certificate", "listener", ... */
	char	*text;
	char	*fix;		/* one line, or NULL */
};

struct doc {
	const struct cfg *cfg;
	const char	*config_dir;
	int		 json;
	int		 network;	/* --network: may contact the outside */
	struct mcf	 mcf;		/* master.cf with the internal services */
	struct doc_item	*v;
	size_t		 n;
};

/* doc_add - one finding: level, check name, fix (NULL: none), text */
void	 doc_add(struct doc *, int, const char *, const char *, const char *,
	    ...) __attribute__((format(printf, 5, 6)));
/*
 * doc_service_cfg - main.cf with a master.cf service's -o settings; NULL
 * when one does not apply (the config check reports it)
 */
struct cfg *doc_service_cfg(struct doc *, const struct mcf_service *);

/* mailctl_doctor_smtp.c: every smtpd listener answers with 220, AUTH
 * is not offered in clear text, the open-relay self-test */
void	 doc_smtp(struct doc *);
/* mailctl_doctor_smtp.c: --network: outbound port 25 reachable */
void	 doc_outbound(struct doc *);

#endif
