/*
 * ub_net.c - connecting and the blocking driver of a Ub session.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ub_net.h"

gba_err ub_net_resolve(const struct ub_url *url, struct ub_addr *out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;

	if (getaddrinfo(url->host, url->port, &hints, &res) != 0 || !res)
		return GBA_ERR_NOT_FOUND;
	if (res->ai_addrlen > sizeof(out->ss)) {
		freeaddrinfo(res);
		return GBA_ERR_UNSUPPORTED;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return GBA_OK;
}

int ub_net_connect_start(const struct ub_addr *addr)
{
	int one = 1;
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* Requests are small and whole: send them at once. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int ub_net_connect_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long ts_ms(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline; 0 on timeout. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static void drop(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int do_connect(struct ub_session *s, const struct ub_addr *addr, int *fd,
		      long long deadline)
{
	char msg[96];

	drop(fd);
	*fd = ub_net_connect_start(addr);
	if (*fd >= 0 && wait_fd(*fd, POLLOUT, deadline) > 0) {
		int e = ub_net_connect_error(*fd);
		if (e == 0)
			return 0;
		errno = e;
	} else if (*fd >= 0) {
		errno = ETIMEDOUT;
	}
	snprintf(msg, sizeof(msg), "cannot connect: %s", strerror(errno));
	drop(fd);
	ub_session_fail(s, errno == ETIMEDOUT ? UB_FAIL_TIMEOUT : UB_FAIL_CONNECT, "connect", msg);
	return -1;
}

static void do_write(struct ub_session *s, int fd, long long deadline)
{
	size_t len;
	const char *p = ub_session_out(s, &len);
	ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

	if (n >= 0) {
		ub_session_wrote(s, (size_t)n);
	} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
		if (wait_fd(fd, POLLOUT, deadline) == 0)
			ub_session_fail(s, UB_FAIL_TIMEOUT, NULL, "timed out sending");
	} else if (errno != EINTR) {
		ub_session_conn_lost(s);
	}
}

static void do_read(struct ub_session *s, int fd, long long deadline, int timeout_ms)
{
	size_t room;
	char *p = ub_session_in(s, &room);
	ssize_t n = recv(fd, p, room, 0);

	if (n >= 0) {
		ub_session_read(s, (size_t)n);
	} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
		if (wait_fd(fd, POLLIN, deadline) == 0) {
			char msg[64];
			snprintf(msg, sizeof(msg), "no answer within %d ms", timeout_ms);
			ub_session_fail(s, UB_FAIL_TIMEOUT, NULL, msg);
		}
	} else if (errno != EINTR) {
		ub_session_conn_lost(s);
	}
}

void ub_net_run(struct ub_session *s, const struct ub_addr *addr, int *fd, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	if (*fd < 0 && ub_session_want(s) == UB_WANT_WRITE) {
		if (do_connect(s, addr, fd, deadline))
			return;
		ub_session_reconnected(s);
	}
	for (;;) {
		switch (ub_session_want(s)) {
		case UB_WANT_WRITE:
			do_write(s, *fd, deadline);
			break;
		case UB_WANT_READ:
			do_read(s, *fd, deadline, timeout_ms);
			break;
		case UB_WANT_WAIT: {
			long long until = ts_ms(&s->wait_until), left = until - now_ms();
			if (left > 0) {
				struct timespec ts = { left / 1000, (left % 1000) * 1000000 };
				while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
					;
				deadline += left;  /* the wait was ours, not the BSF's */
			}
			ub_session_wait_over(s);
			break;
		}
		case UB_WANT_RECONNECT:
			if (do_connect(s, addr, fd, deadline))
				return;
			ub_session_reconnected(s);
			break;
		case UB_WANT_DONE:
			if (s->conn_closed)
				drop(fd);
			return;
		}
	}
}

/* Send all of buf before the deadline. */
static gba_err send_all(int fd, const char *p, size_t len, long long deadline)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) <= 0)
				return GBA_ERR_TIMEOUT;
		} else if (n < 0 && errno != EINTR) {
			return GBA_ERR_UNAVAILABLE;
		}
	}
	return GBA_OK;
}

/* Read until a whole response is in buf. */
static gba_err recv_response(int fd, char *buf, size_t cap, struct ub_http_response *r,
			     long long deadline)
{
	size_t len = 0, consumed = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLIN, deadline) <= 0)
				return GBA_ERR_TIMEOUT;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return GBA_ERR_UNAVAILABLE;
		len += (size_t)n;
		gba_err err = ub_http_parse_response(buf, len, cap, n == 0, r, &consumed);
		if (err || consumed)
			return err;
	}
}

gba_err ub_net_get(const struct ub_url *url, char *buf, size_t cap,
		   struct ub_http_response *r, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct ub_http_request req = {
		.method = "GET", .path = url->path, .host = url->host_header,
		.user_agent = "gba-ub-client",
	};
	struct ub_addr addr;
	char out[UB_URL_PATH_MAX + UB_URL_HOST_MAX + 128];
	size_t out_len;
	gba_err err;

	err = ub_net_resolve(url, &addr);
	if (err)
		return err;
	err = ub_http_write_request(out, sizeof(out), &out_len, &req);
	if (err)
		return err;
	int fd = ub_net_connect_start(&addr);
	if (fd < 0)
		return GBA_ERR_UNAVAILABLE;
	if (wait_fd(fd, POLLOUT, deadline) <= 0)
		err = GBA_ERR_TIMEOUT;
	else if (ub_net_connect_error(fd))
		err = GBA_ERR_UNAVAILABLE;
	if (!err)
		err = send_all(fd, out, out_len, deadline);
	if (!err)
		err = recv_response(fd, buf, cap, r, deadline);
	close(fd);
	return err;
}

gba_err ub_net_bootstrap_fresh(struct ub_session *s, const char *bsf_url, const char *impi,
			       const uint8_t k[16], const uint8_t opc[16], int timeout_ms)
{
	struct ub_url url;
	struct ub_addr addr;
	struct gba_usim_sqn sqn;
	struct gba_aka_key key;
	int fd = -1;
	gba_err err;

	if (ub_url_parse(bsf_url, &url))
		return GBA_ERR_INVALID_ARG;
	err = ub_net_resolve(&url, &addr);
	if (err)
		return err;
	gba_usim_sqn_init(&sqn, 5, UINT64_C(1) << 28);
	gba_aka_key_milenage(&key, k, opc, 0);
	struct ub_params p = { .impi = impi, .key = &key, .sqn = &sqn, .host = url.host_header,
			       .uri = url.path, .realm = url.host };
	ub_session_begin(s, &p, 0);
	ub_net_run(s, &addr, &fd, timeout_ms);
	if (fd >= 0)
		close(fd);
	gba_wipe(&key, sizeof(key));
	/* The parameters pointed at this function's locals: none outlive it. */
	memset(&s->p, 0, sizeof(s->p));
	return GBA_OK;
}
