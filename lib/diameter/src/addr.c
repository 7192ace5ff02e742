/*
 * addr.c - the local address a node should advertise toward a peer.
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gba/diameter.h>

/* Connecting a UDP socket sends nothing: the kernel only picks the route,
 * and with it the source address it would use. */
gba_err gba_dia_local_address(const char *host, uint16_t port, char *out, size_t size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char portstr[12];
	gba_err err = GBA_ERR_UNAVAILABLE;
	int fd;

	if (!host || !*host || !out || !size)
		return GBA_ERR_INVALID_ARG;
	snprintf(portstr, sizeof(portstr), "%u", port ? port : 3868u);
	if (getaddrinfo(host, portstr, &hints, &ai) || !ai)
		return GBA_ERR_UNAVAILABLE;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, ai->ai_addr, ai->ai_addrlen) &&
	    !getsockname(fd, (struct sockaddr *)&ss, &len) &&
	    !getnameinfo((struct sockaddr *)&ss, len, out, (socklen_t)size, NULL, 0,
			 NI_NUMERICHOST)) {
		/* An IPv6 link-local address carries a %zone freeDiameter rejects. */
		out[strcspn(out, "%")] = '\0';
		err = GBA_OK;
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return err;
}
