/*
 * testutil.h - helpers shared by the cmocka tests: hex in, hex out.
 * Include after <cmocka.h>.
 */
#ifndef GBA_TESTUTIL_H
#define GBA_TESTUTIL_H

#include <stdio.h>
#include <string.h>

#include <gba/util.h>

/* Decode a hex literal into buf, asserting it is exactly len octets. */
static inline void unhex(uint8_t *buf, size_t len, const char *hex)
{
	size_t n = 0;
	assert_int_equal(gba_hex_decode(buf, len, &n, hex, strlen(hex)), GBA_OK);
	assert_int_equal(n, len);
}

/* Assert that len octets at got are the hex string want. */
#define assert_hex_equal(got, len, want)                                        \
	do {                                                                     \
		char hex_[2 * 64 + 1];                                           \
		assert_true((len) <= 64);                                        \
		assert_int_equal(gba_hex_encode(hex_, sizeof(hex_), (got), (len)), GBA_OK); \
		assert_string_equal(hex_, (want));                               \
	} while (0)

#endif
