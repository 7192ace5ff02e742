/*
 * test_local_fs.c - the subscriber database's network file system check
 * (lib/store/src/local_fs.c): the statfs magics of NFS, SMB, SMB2 and CIFS
 * are refused, local ones (ext4, tmpfs, xfs, btrfs, overlayfs) are not,
 * also when f_type comes sign-extended; and the check on real local paths
 * (an existing file, a file not created yet, one in the current directory).
 * No NFS or SMB server runs here, so the refusal itself is checked through
 * the classifier only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "local_fs.h"

static void test_network_magics(void **state)
{
	(void)state;
	assert_true(store_fs_is_network(0x6969));          /* NFS */
	assert_true(store_fs_is_network(0x517B));          /* SMB */
	assert_true(store_fs_is_network(0xFE534D42UL));    /* SMB2 */
	assert_true(store_fs_is_network(0xFF534D42UL));    /* CIFS */
	/* A 64-bit signed f_type holding CIFS's magic, sign-extended. */
	assert_true(store_fs_is_network((unsigned long)(long)(int32_t)0xFF534D42UL));
}

static void test_local_magics(void **state)
{
	static const unsigned long local[] = {
		0xEF53,      /* ext2/3/4 */
		0x01021994,  /* tmpfs */
		0x58465342,  /* xfs */
		0x9123683E,  /* btrfs */
		0x794C7630,  /* overlayfs */
		0,
	};
	(void)state;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		assert_false(store_fs_is_network(local[i]));
}

static void test_local_paths(void **state)
{
	char path[64];
	FILE *f;
	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_local_fs_%d", (int)getpid());
	assert_int_equal(store_check_local_fs(path), GBA_OK);   /* not there yet */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(store_check_local_fs(path), GBA_OK);
	unlink(path);
	assert_int_equal(store_check_local_fs("relative.db"), GBA_OK);
	assert_int_equal(store_check_local_fs("/nonexistent-dir/x/s.db"), GBA_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_magics),
		cmocka_unit_test(test_local_magics),
		cmocka_unit_test(test_local_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
