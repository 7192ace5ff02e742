/* test_util.c - hex, base64, constant-time compare, wipe, error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <gba/error.h>
#include <gba/util.h>
#include <gba/version.h>

#include "testutil.h"

static void test_hex(void **state)
{
	(void)state;
	uint8_t b[4];
	size_t n;
	char s[9];
	assert_int_equal(gba_hex_decode(b, sizeof(b), &n, "00fFa5", 6), GBA_OK);
	assert_int_equal(n, 3);
	assert_int_equal(gba_hex_encode(s, sizeof(s), b, 3), GBA_OK);
	assert_string_equal(s, "00ffa5");
	assert_int_equal(gba_hex_encode(s, 6, b, 3), GBA_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(gba_hex_decode(b, sizeof(b), &n, "abc", 3), GBA_ERR_BAD_HEX);
	assert_int_equal(gba_hex_decode(b, sizeof(b), &n, "zz", 2), GBA_ERR_BAD_HEX);
	assert_int_equal(gba_hex_decode(b, sizeof(b), &n, "0\0", 2), GBA_ERR_BAD_HEX);
	assert_int_equal(gba_hex_decode(b, 2, &n, "001122", 6), GBA_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(gba_hex_decode(b, sizeof(b), &n, "", 0), GBA_OK);
	assert_int_equal(n, 0);
}

/* RFC 4648 section 10 test vectors. */
static void test_base64_rfc4648(void **state)
{
	(void)state;
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		char out[16];
		uint8_t back[8];
		size_t n, m;
		assert_int_equal(gba_base64_encode(out, sizeof(out), &n,
						   (const uint8_t *)plain[i], strlen(plain[i])), GBA_OK);
		assert_string_equal(out, enc[i]);
		assert_int_equal(n, strlen(enc[i]));
		assert_int_equal(gba_base64_decode(back, sizeof(back), &m, enc[i], n), GBA_OK);
		assert_int_equal(m, strlen(plain[i]));
		assert_memory_equal(back, plain[i], m);
	}
}

static void test_base64_bad(void **state)
{
	(void)state;
	uint8_t b[32];
	size_t n;
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "Zm9v\n", " Zm9", "Zm9v====", "Zm=v", "Zm9-", "Zm9_", "Zg==Zg==",
		"=Zg=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gba_base64_decode(b, sizeof(b), &n, bad[i], strlen(bad[i])),
				 GBA_ERR_BAD_BASE64);
	/* NUL inside */
	assert_int_equal(gba_base64_decode(b, sizeof(b), &n, "Zm\0v", 4), GBA_ERR_BAD_BASE64);
	/* output too small: "Zm9vYmFy" is 6 octets */
	assert_int_equal(gba_base64_decode(b, 5, &n, "Zm9vYmFy", 8), GBA_ERR_BUFFER_TOO_SMALL);
	char s[8];
	assert_int_equal(gba_base64_encode(s, 8, NULL, (const uint8_t *)"foobar", 6),
			 GBA_ERR_BUFFER_TOO_SMALL);
}

static void test_ct_equal_and_wipe(void **state)
{
	(void)state;
	uint8_t a[32], b[32];
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(gba_ct_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	assert_false(gba_ct_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	b[0] ^= 0x80;
	assert_false(gba_ct_equal(a, b, sizeof(a)));
	assert_true(gba_ct_equal(a, b, 0));
	gba_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0);
	gba_wipe(NULL, 0);
}

static void test_random(void **state)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 }, big[1000];
	const uint8_t zero[16] = { 0 };

	(void)state;
	assert_int_equal(gba_random(a, sizeof(a)), GBA_OK);
	assert_int_equal(gba_random(b, sizeof(b)), GBA_OK);
	/* 128 random bits are all zero, or repeat, with probability 2^-128. */
	assert_false(gba_ct_equal(a, zero, sizeof(a)));
	assert_false(gba_ct_equal(a, b, sizeof(a)));
	assert_int_equal(gba_random(big, sizeof(big)), GBA_OK);
	assert_int_equal(gba_random(NULL, 0), GBA_OK);
	assert_int_equal(gba_random(NULL, 1), GBA_ERR_INVALID_ARG);
}

/*
 * gba_random_rand: 200 RANDs (past three refills of the 64-RAND buffer)
 * all differ; and a child forked with a half-used buffer does not hand
 * out the RAND its parent hands out next.
 */
static void test_random_rand(void **state)
{
	uint8_t r[200][16], parent[16], child[16];
	int fd[2], status = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(gba_random_rand(NULL), GBA_ERR_INVALID_ARG);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(gba_random_rand(r[i]), GBA_OK);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(r[i], r[j], 16);
	}
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t c[16];
		_exit(gba_random_rand(c) == GBA_OK && write(fd[1], c, 16) == 16 ? 0 : 1);
	}
	close(fd[1]);
	assert_int_equal(read(fd[0], child, 16), 16);
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(gba_random_rand(parent), GBA_OK);
	assert_memory_not_equal(parent, child, 16);
}

static void test_errors(void **state)
{
	(void)state;
	for (int e = 0; e < GBA_ERR__COUNT; e++) {
		assert_non_null(gba_strerror((gba_err)e));
		assert_string_not_equal(gba_strerror((gba_err)e), "unknown error");
		assert_memory_equal(gba_err_name((gba_err)e), "GBA_", 4);
	}
	assert_string_equal(gba_strerror(GBA_ERR__COUNT), "unknown error");
	assert_string_equal(gba_strerror((gba_err)-1), "unknown error");
	assert_string_equal(gba_err_name(GBA_ERR_MAC_FAILURE), "GBA_ERR_MAC_FAILURE");
}

/* The library's version is the headers' and reads MAJOR.MINOR.PATCH. */
static void test_version(void **state)
{
	char want[32];

	(void)state;
	snprintf(want, sizeof(want), "%d.%d.%d", GBA_VERSION_MAJOR, GBA_VERSION_MINOR,
		 GBA_VERSION_PATCH);
	assert_string_equal(GBA_VERSION, want);
	assert_string_equal(gba_version(), GBA_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_base64_bad),
		cmocka_unit_test(test_ct_equal_and_wipe),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_random_rand),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
