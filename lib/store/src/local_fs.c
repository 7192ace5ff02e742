/* local_fs.c - see local_fs.h. */
#define _DEFAULT_SOURCE /* PATH_MAX, statfs */
#include <limits.h>
#include <string.h>
#include <sys/vfs.h>

#include "local_fs.h"

int store_fs_is_network(unsigned long f_type)
{
	/* f_type is a signed word on some ABIs: compare the low 32 bits. */
	switch (f_type & 0xFFFFFFFFUL) {
	case FS_MAGIC_NFS:
	case FS_MAGIC_SMB:
	case FS_MAGIC_SMB2:
	case FS_MAGIC_CIFS:
		return 1;
	default:
		return 0;
	}
}

gba_err store_check_local_fs(const char *path)
{
	struct statfs fs;
	char dir[PATH_MAX];
	const char *slash;

	if (statfs(path, &fs) == 0)
		return store_fs_is_network((unsigned long)fs.f_type) ? GBA_ERR_UNSUPPORTED : GBA_OK;
	/* Not there yet: the directory it will be created in. */
	slash = strrchr(path, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else
		return GBA_OK;
	if (statfs(dir, &fs) != 0)
		return GBA_OK;
	return store_fs_is_network((unsigned long)fs.f_type) ? GBA_ERR_UNSUPPORTED : GBA_OK;
}
