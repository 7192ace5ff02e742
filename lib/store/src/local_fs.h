/*
 * local_fs.h - refusing a SQLite database on a network file system.
 *
 * Several BSFs may share one subscriber database only on one host: SQLite
 * relies on POSIX locks and, in WAL mode, on a shared-memory index (the
 * -shm file mapped by every process).  Over NFS or SMB/CIFS the locks are
 * advisory or emulated and the mapping is not shared between hosts, so two
 * BSFs on two hosts could both read the same last SQN and issue it twice.
 * The database is refused there, by the statfs magic of the directory
 * that holds it.  Internal to lib/store.
 */
#ifndef GBA_STORE_LOCAL_FS_H
#define GBA_STORE_LOCAL_FS_H

#include <gba/error.h>

/* statfs f_type magics (linux/magic.h; SMB2 and CIFS from fs/smb). */
#define FS_MAGIC_NFS  0x6969UL
#define FS_MAGIC_SMB  0x517BUL
#define FS_MAGIC_SMB2 0xFE534D42UL
#define FS_MAGIC_CIFS 0xFF534D42UL

/* 1 when f_type names a network file system (NFS, SMB, SMB2, CIFS). */
int store_fs_is_network(unsigned long f_type);

/*
 * GBA_OK when path (or, before it exists, its directory) is on a local
 * file system or cannot be checked (opening will say why);
 * GBA_ERR_UNSUPPORTED on NFS/SMB/CIFS.
 */
gba_err store_check_local_fs(const char *path);

#endif /* GBA_STORE_LOCAL_FS_H */
