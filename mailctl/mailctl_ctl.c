/*
 * mailctl_ctl.c - the client side of the control sockets: a request to
 * master (pid/master.sock) or qmgr (private/control) and its answer.
 *
 * Interface: mailctl_request, mailctl_call, mailctl_talk,
 * mailctl_errlines (mailctl.h).  Shared by mailctl and sendmail(1), whose
 * mailq, -q and newaliases are the same requests.
 * Errors: -1 when the daemon is not there or the exchange failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "mailctl.h"

/* mailctl_connect - a control socket; -1 when its daemon is not running */
static int
mailctl_connect(const char *sock, unsigned peer)
{
	int	 fd;

	if ((fd = ipc_connect(sock)) == -1)
		return -1;
	if (ipc_hello_client(fd, IPC_R_MAILCTL, peer) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* mailctl_errlines - see mailctl.h */
void
mailctl_errlines(const void *text, size_t len)
{
	const char *p = text, *end = p + len, *nl;
	size_t	 n;

	for (; p < end; p += n) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		fprintf(stderr, "mailctl: %.*s%s", (int)n, p, nl != NULL ? "" :
		    "\n");
	}
}

/* mailctl_talk - see mailctl.h */
int
mailctl_talk(int fd, unsigned peer, int argc, char **argv, FILE *stream,
    struct buf *out)
{
	const unsigned char *text;
	struct ipc_out o;
	struct ipc_msg m;
	struct ipc_in in;
	uint32_t status;
	size_t	 n;
	int	 i, r;

	ipc_out_init(&o);
	ipc_put_u32(&o, (uint32_t)argc);
	for (i = 0; i < argc; i++)
		ipc_put_str(&o, argv[i]);
	r = ipc_send_out(fd, IPC_CTL_REQUEST, &o, -1);
	ipc_out_free(&o);
	for (status = IPC_CTL_MORE; r != -1 && (status == IPC_CTL_MORE ||
	    status == IPC_CTL_WARN);) {
		if (ipc_recv(fd, peer, &m) != 1) {
			r = -1;
			break;
		}
		ipc_in_init(&in, &m);
		status = ipc_get_u32(&in);
		text = ipc_get_bytes(&in, IPC_MAX_PAYLOAD, &n);
		if (text == NULL || ipc_get_end(&in) == -1 ||
		    m.type != IPC_CTL_REPLY)
			r = -1;
		else if (status == IPC_CTL_WARN) {
			if (stream != NULL)
				fflush(stream);
			mailctl_errlines(text, n);
		} else if (stream != NULL && fwrite(text, 1, n, stream) != n)
			r = -1;
		else if (stream == NULL)
			buf_append(out, text, n);
		ipc_msg_free(&m);
	}
	close(fd);
	return r == -1 ? -1 : (int)status;
}

/* mailctl_call - see mailctl.h */
int
mailctl_call(const char *sock, unsigned peer, int argc, char **argv,
    FILE *stream, struct buf *out)
{
	int	 fd;

	if ((fd = mailctl_connect(sock, peer)) == -1)
		return -1;
	return mailctl_talk(fd, peer, argc, argv, stream, out);
}

/* mailctl_request - see mailctl.h */
int
mailctl_request(const char *sock, const char *what, struct buf *out)
{
	char	*argv[1];

	argv[0] = (char *)(uintptr_t)what;
	return mailctl_call(sock, IPC_R_MASTER, 1, argv, NULL, out);
}
