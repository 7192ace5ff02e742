/*
 * full_disk.h - a "full disk" for cmocka tests of the stores: with
 * RLIMIT_FSIZE at 4 KiB, every write the process makes past the first
 * 4 KiB of a file is refused (EFBIG; SIGXFSZ ignored), on any file system
 * and without privileges.  SQLite sees what it sees on a full disk: a write
 * that fails, nothing committed.  The end-to-end tests fill a real tmpfs
 * (tests/bsf/test_bsf_full_disk.py, tests/naf/test_naf_full_disk.py).
 * Include after <cmocka.h>.
 */
#ifndef GBA_TEST_FULL_DISK_H
#define GBA_TEST_FULL_DISK_H

#include <signal.h>
#include <sys/resource.h>

static struct rlimit full_disk_saved;

static inline void disk_fill(void)
{
	struct rlimit r;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &full_disk_saved), 0);
	r = full_disk_saved;
	r.rlim_cur = 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
}

static inline void disk_free(void)
{
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &full_disk_saved), 0);
}

#endif
