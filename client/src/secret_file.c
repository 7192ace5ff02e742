/*
 * secret_file.c - reading a file that holds a secret (the soft card's K,
 * a PIN): it must be a regular file of ours with no group or world
 * access, checked on the open descriptor (no race with a rename).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

gba_client_err client_read_secret_file(const char *path, const char *what, char *buf,
				       size_t size, char *msg, size_t msg_size)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE, "%s: %s", path,
				   strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    st.st_uid != geteuid()) {
		close(fd);
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE,
				   "%s: refused: a %s file must be ours and mode 0600 (no group "
				   "or world access)", path, what);
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0 || (size_t)n >= size - 1) {
		if (n > 0)
			memset(buf, 0, (size_t)n);
		return client_fail(msg, msg_size, GBA_CLIENT_ERR_FILE,
				   "%s: unreadable or too large", path);
	}
	buf[n] = '\0';
	return GBA_CLIENT_OK;
}
