/*
 * fuzz_mcf.c - libFuzzer target for lib/conf/mcf: mcf_parse_buf() on a
 * master.cf, then mcf_add_defaults(), mcf_find() and mcf_free().
 *
 * Input: the master.cf text (an exact-size copy, not NUL-terminated:
 * the parser takes a length).
 *
 * Properties checked (abort when broken):
 *  - a failure leaves the table empty and says why (file:line);
 *  - every service is well formed: a name, type inet or unix, y/n flags
 *    0 or 1, wakeup and maxproc not negative, a command without '/',
 *    args NULL-terminated, -o names non-empty; inet services have a
 *    host and a port, unix services neither, and no '/' in the name;
 *  - no two services share name and type; after mcf_add_defaults() the
 *    internal services qmgr, local and auth (type unix) are there, and a
 *    second mcf_add_defaults() adds nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mcf.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MCF_DEFPROC	100

/* fuzz_mcf_svc - invariants of one parsed service */
static void
fuzz_mcf_svc(const struct mcf_service *s)
{
	size_t	 i;

	FZ_CHECK(s->name != NULL && s->name[0] != '\0');
	FZ_CHECK(s->type == MCF_INET || s->type == MCF_UNIX);
	FZ_CHECK(s->private_ == 0 || s->private_ == 1);
	FZ_CHECK(s->unpriv == 0 || s->unpriv == 1);
	FZ_CHECK(s->chroot == 0 || s->chroot == 1);
	FZ_CHECK(s->wakeup >= 0 && s->maxproc >= 0);
	FZ_CHECK(s->command != NULL && s->command[0] != '\0');
	FZ_CHECK(strchr(s->command, '/') == NULL);
	FZ_CHECK(s->args == NULL || s->args[s->nargs] == NULL);
	for (i = 0; i < s->nargs; i++)
		FZ_CHECK(s->args[i] != NULL);
	for (i = 0; i < s->nopts; i++) {
		FZ_CHECK(s->opts[i].name != NULL && s->opts[i].name[0] != '\0');
		FZ_CHECK(s->opts[i].value != NULL);
		FZ_CHECK(strchr(s->opts[i].name, '=') == NULL);
	}
	if (s->type == MCF_INET)
		FZ_CHECK(s->host != NULL && s->port != NULL &&
		    s->port[0] != '\0');
	else {
		FZ_CHECK(s->host == NULL && s->port == NULL);
		FZ_CHECK(strchr(s->name, '/') == NULL);
	}
}

/* fuzz_mcf_has - a service of this name and type */
static int
fuzz_mcf_has(const struct mcf *m, const char *name, int type)
{
	size_t	 i;

	for (i = 0; i < m->nsvc; i++)
		if (m->svc[i].type == type && strcmp(m->svc[i].name, name) == 0)
			return 1;
	return 0;
}

/* fuzz_mcf_table - invariants of the whole table */
static void
fuzz_mcf_table(const struct mcf *m)
{
	size_t	 i, j;

	for (i = 0; i < m->nsvc; i++) {
		fuzz_mcf_svc(&m->svc[i]);
		FZ_CHECK(mcf_find(m, m->svc[i].name) != NULL);
		for (j = 0; j < i; j++)
			FZ_CHECK(m->svc[j].type != m->svc[i].type ||
			    strcmp(m->svc[j].name, m->svc[i].name) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcf m;
	char	 err[512];
	char	*text;
	size_t	 n;
	int	 r;

	text = fz_memdup(data, size);
	memset(&m, 0xa5, sizeof(m));	/* mcf_parse_buf overwrites it */
	err[0] = '\0';
	r = mcf_parse_buf(text, size, "master.cf", FUZZ_MCF_DEFPROC, &m, err,
	    sizeof(err));
	fz_trace("mcf_parse_buf: %s, %zu services", r == 0 ? "ok" : err,
	    m.nsvc);
	if (r == -1) {
		FZ_CHECK(m.nsvc == 0 && m.svc == NULL);
		FZ_CHECK(strncmp(err, "master.cf:", 10) == 0);
	}
	fuzz_mcf_table(&m);
	mcf_add_defaults(&m, FUZZ_MCF_DEFPROC);
	fuzz_mcf_table(&m);
	FZ_CHECK(fuzz_mcf_has(&m, "qmgr", MCF_UNIX));
	FZ_CHECK(fuzz_mcf_has(&m, "local", MCF_UNIX));
	FZ_CHECK(fuzz_mcf_has(&m, "auth", MCF_UNIX));
	n = m.nsvc;
	mcf_add_defaults(&m, FUZZ_MCF_DEFPROC);
	FZ_CHECK(m.nsvc == n);
	(void)mcf_find(&m, "smtp");
	mcf_free(&m);
	FZ_CHECK(m.nsvc == 0 && m.svc == NULL);
	free(text);
	return 0;
}
