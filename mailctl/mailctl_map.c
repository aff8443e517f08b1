/*
 * mailctl_map.c - "mailctl map": Postfix's postmap(1) for youju's lookup
 * tables (lib/maps/maps.c, youju-tables(5)).
 *
 *	mailctl map FILE...			build FILE.db from FILE
 *	mailctl map -q KEY [type:]FILE...	look KEY up, as given
 *	mailctl map -q - [type:]FILE...		keys from stdin, one a line
 *	mailctl map -n [-a] [type:]FILE...	check the tables
 *
 * A FILE without "type:" is a hash: table.  Building writes the new
 * FILE.db beside the old one and renames it over (maps_build); a source
 * with an error changes nothing.  -q prints the first value found in the
 * tables, in the order given (with "-q -": "key value" for each key
 * found); the key is not split into parts (no access(5) lookup order),
 * as with postmap -q.  -n says whether each table is usable as the
 * daemons will use it: it opens, its .db is not older than its source,
 * and with -a every value is an access(5) action.
 *
 * Findings go to stderr as "mailctl: error: FILE:LINE: text" or
 * "mailctl: warning: ...".
 * Exit status: 0 built / found / usable, 1 an error or (for -q) nothing
 * found, 2 a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "mailctl.h"
#include "maps.h"
#include "util.h"

/* mm_usage - the map commands */
static int
mm_usage(void)
{
	fprintf(stderr, "usage: mailctl map FILE...\n"
	    "       mailctl map -q KEY [type:]FILE...\n"
	    "       mailctl map -q - [type:]FILE... <keys\n"
	    "       mailctl map -n [-a] [type:]FILE...\n");
	return 2;
}

/* mm_report - a finding on stderr */
static void
mm_report(void *arg, int error, const char *text)
{
	(void)arg;
	fprintf(stderr, "mailctl: %s: %s\n", error ? "error" : "warning", text);
}

/* mm_spec - "type:FILE" as given, or "hash:FILE"; free it */
static char *
mm_spec(const char *arg)
{
	size_t	 n = strlen(arg) + 6;
	char	*s = xmalloc(n);

	if (strchr(arg, ':') == NULL || arg[0] == '/' || arg[0] == '.')
		snprintf(s, n, "hash:%s", arg);
	else
		snprintf(s, n, "%s", arg);
	return s;
}

/* mm_build - build each FILE.db */
static int
mm_build(int argc, char **argv)
{
	struct maps_report r = { mm_report, NULL, 0, 0, NULL };
	char	 err[1024];
	int	 i, rc = 0;

	for (i = 0; i < argc; i++)
		if (maps_build(argv[i], &r, err, sizeof(err)) == -1) {
			fprintf(stderr, "mailctl: error: %s\n", err);
			rc = 1;
		}
	return rc;
}

/* mm_query - one key in the tables: 0 found (printed), 1 not, -1 error */
static int
mm_query(struct map **m, int n, const char *key, int with_key,
    struct buf *val)
{
	int	 i, r;

	for (i = 0; i < n; i++) {
		if ((r = maps_lookup(m[i], key, val)) == MAPS_TEMPFAIL) {
			fprintf(stderr, "mailctl: error: %s: lookup of %s: %s\n",
			    maps_spec(m[i]), key, maps_error(m[i]));
			return -1;
		}
		if (r == MAPS_FOUND) {
			if (with_key)
				printf("%s\t", key);
			printf("%s\n", buf_cstr(val));
			return 0;
		}
	}
	return 1;
}

/* mm_keys - "-q -": each line of stdin is a key */
static int
mm_keys(struct map **m, int n, struct buf *val)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 len;
	int	 found = 0, r;

	while ((len = getline(&line, &cap, stdin)) != -1) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((r = mm_query(m, n, line, 1, val)) == -1) {
			free(line);
			return 1;
		}
		found |= r == 0;
	}
	free(line);
	return found ? 0 : 1;
}

/* mm_lookup - -q KEY: open every table, then ask them in order */
static int
mm_lookup(const char *key, int argc, char **argv)
{
	struct maps_report r = { mm_report, NULL, 0, 0, NULL };
	struct map **m;
	struct buf val;
	char	 err[1024], *spec;
	int	 i, rc = 1;

	m = xcalloc((size_t)argc, sizeof(*m));
	buf_init(&val, MAPS_VALUE_MAX);
	for (i = 0; i < argc; i++) {
		spec = mm_spec(argv[i]);
		m[i] = maps_open(spec, &r, err, sizeof(err));
		free(spec);
		if (m[i] == NULL)
			goto out;
	}
	if (strcmp(key, "-") == 0)
		rc = mm_keys(m, argc, &val);
	else
		rc = mm_query(m, argc, key, 0, &val) == 0 ? 0 : 1;
out:
	for (i = 0; i < argc; i++)
		maps_close(m[i]);
	free(m);
	buf_free(&val);
	fflush(stdout);
	return rc;
}

/* mm_check - -n: is each table usable */
static int
mm_check(int access, int argc, char **argv)
{
	struct maps_report r = { mm_report, NULL, 0, 0, NULL };
	char	*spec;
	int	 i;

	for (i = 0; i < argc; i++) {
		spec = mm_spec(argv[i]);
		(void)maps_check(spec, access ? MAPS_CHK_ACCESS : 0, &r);
		free(spec);
	}
	if (r.nerr == 0)
		printf("%d table%s usable%s\n", argc, argc == 1 ? "" : "s",
		    r.nwarn > 0 ? " (with warnings)" : "");
	return r.nerr > 0;
}

/* mailctl_map_main - see mailctl.h */
int
mailctl_map_main(const struct cfg *cfg, int argc, char **argv)
{
	const char *key = NULL;
	int	 c, check = 0, access = 0;

	(void)cfg;
	optind = 1;
	while ((c = getopt(argc, argv, "+anq:")) != -1) {
		switch (c) {
		case 'a':
			access = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'q':
			key = optarg;
			break;
		default:
			return mm_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || (key != NULL && check) || (access && !check))
		return mm_usage();
	if (check)
		return mm_check(access, argc, argv);
	if (key != NULL)
		return mm_lookup(key, argc, argv);
	return mm_build(argc, argv);
}
