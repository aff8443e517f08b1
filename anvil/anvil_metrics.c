/*
 * anvil_metrics.c - the metrics aggregator: what smtpd, qmgr and master
 * report (IPC_METRICS, lib/server/metrics.h), served over HTTP for
 * metrics_listen.
 *
 * DELTA series are added up in one set that lives as long as anvil; each
 * reporting connection's LEVEL series (gauges, master's counters) are kept
 * in a set of that connection, dropped when it closes.  A scrape renders
 * the sum of them all.
 *
 * HTTP is libevent's evhttp on the listening socket master opened for
 * metrics_listen (loopback only, checked by master and mailctl check):
 * GET or HEAD of /metrics, Prometheus text format 0.0.4, or OpenMetrics
 * 1.0 when the Accept header asks for application/openmetrics-text.
 * Anything else: 404 (another path) or 405 (another method).
 * Requests are bounded: headers METRICS_HTTP_HEADERS bytes, no body,
 * METRICS_HTTP_TIMEOUT seconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "anvil.h"

#define METRICS_HTTP_HEADERS	8192
#define METRICS_HTTP_TIMEOUT	10
#define METRICS_BODY_MAX	(4 * 1024 * 1024)

static struct {
	struct metrics	 total;
	struct metrics	**level;	/* one per reporting connection */
	size_t		 nlevel, caplevel;
	struct evhttp	*http;
} am;

/* anvil_metrics_report - see anvil.h */
int
anvil_metrics_report(struct metrics *level, unsigned role,
    const struct ipc_msg *m)
{
	struct ipc_in in;

	if (am.total.max == 0)
		metrics_init(&am.total, METRICS_TOTAL_MAX);
	if (level->max == 0) {
		metrics_init(level, METRICS_PRODUCER_MAX);
		if (am.nlevel == am.caplevel) {
			am.caplevel = am.caplevel ? am.caplevel * 2 : 16;
			am.level = xreallocarray(am.level, am.caplevel,
			    sizeof(*am.level));
		}
		am.level[am.nlevel++] = level;
	}
	ipc_in_init(&in, m);
	if (metrics_decode(&in, role, &am.total, level) == -1) {
		log_warn("metrics: malformed report; dropping the connection");
		return -1;
	}
	return 0;
}

/* anvil_metrics_forget - see anvil.h */
void
anvil_metrics_forget(struct metrics *level)
{
	size_t	 i;

	if (level->max == 0)
		return;
	for (i = 0; i < am.nlevel; i++)
		if (am.level[i] == level) {
			am.level[i] = am.level[--am.nlevel];
			break;
		}
	metrics_free(level);
}

/* anvil_metrics_method - GET and HEAD only: else 405; -1 when refused */
static int
anvil_metrics_method(struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
		return 0;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    "GET, HEAD");
	evhttp_send_error(req, 405, "Method Not Allowed");
	return -1;
}

/* anvil_metrics_get - GET /metrics: the exposition */
static void
anvil_metrics_get(struct evhttp_request *req, void *arg)
{
	const struct metrics **sets;
	struct evkeyvalq *h;
	struct evbuffer *out;
	struct buf b;
	size_t	 i, n = 0;
	int	 om, r;

	(void)arg;
	if (anvil_metrics_method(req) == -1)
		return;
	om = metrics_wants_openmetrics(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Accept"));
	sets = xcalloc(am.nlevel + 1, sizeof(*sets));
	if (am.total.max != 0)
		sets[n++] = &am.total;
	for (i = 0; i < am.nlevel; i++)
		sets[n++] = am.level[i];
	buf_init(&b, METRICS_BODY_MAX);
	r = metrics_render(&b, sets, n, om);
	free(sets);
	if (r == -1) {
		log_warn("metrics: the exposition exceeds %d bytes",
		    METRICS_BODY_MAX);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		buf_free(&b);
		return;
	}
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", metrics_content_type(om));
	evhttp_add_header(h, "Cache-Control", "no-store");
	out = evbuffer_new();
	if (out == NULL || evbuffer_add(out, b.data, b.len) == -1)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		evhttp_send_reply(req, HTTP_OK, "OK", out);
	if (out != NULL)
		evbuffer_free(out);
	buf_free(&b);
}

/* anvil_metrics_other - any other path */
static void
anvil_metrics_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* anvil_metrics_serve - see anvil.h */
void
anvil_metrics_serve(struct event_base *base, int fd)
{
	util_set_nonblock(fd, 1);
	if ((am.http = evhttp_new(base)) == NULL)
		log_fatal("metrics: cannot set up HTTP");
	/* every method reaches the handlers, which answer 405 (evhttp: 501) */
	evhttp_set_allowed_methods(am.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(am.http, METRICS_HTTP_HEADERS);
	evhttp_set_max_body_size(am.http, 0);
	evhttp_set_timeout(am.http, METRICS_HTTP_TIMEOUT);
	if (evhttp_set_cb(am.http, "/metrics", anvil_metrics_get, NULL) != 0)
		log_fatal("metrics: cannot set up HTTP");
	evhttp_set_gencb(am.http, anvil_metrics_other, NULL);
	if (evhttp_accept_socket(am.http, fd) == -1)
		log_fatal("metrics: cannot serve HTTP on the socket from "
		    "master: %s", strerror(errno));
	log_info("metrics: serving /metrics");
}
