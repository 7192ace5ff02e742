/*
 * fuzz_encoding.c - libFuzzer target for the small parsers of outside
 * input: base64 (Ub nonces, AUTS), hex, and the B-TID.  Whatever parses
 * must re-encode to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gba/kdf.h>
#include <gba/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_base64(const char *in, size_t len)
{
	uint8_t out[512];
	char back[700];
	size_t n, m;
	if (len > 680 || gba_base64_decode(out, sizeof(out), &n, in, len) != GBA_OK)
		return;
	if (gba_base64_encode(back, sizeof(back), &m, out, n) != GBA_OK)
		abort();
	/* The decoder is strict, so only the canonical text decodes... */
	if (m != len)
		abort();
	/* ...except for non-zero unused bits in the last group. */
	if (len >= 4 && memcmp(back, in, len - 4))
		abort();
}

static void check_hex(const char *in, size_t len)
{
	uint8_t out[256];
	char back[513];
	size_t n;
	if (gba_hex_decode(out, sizeof(out), &n, in, len) != GBA_OK)
		return;
	if (gba_hex_encode(back, sizeof(back), out, n) != GBA_OK || 2 * n != len)
		abort();
	for (size_t i = 0; i < len; i++)
		if ((in[i] | 0x20) != back[i])
			abort();
}

static void check_btid(const char *in, size_t len)
{
	uint8_t rand[16];
	const char *dom;
	size_t dom_len;
	char back[GBA_BTID_MAX + 1];
	if (gba_btid_parse(in, len, rand, &dom, &dom_len) != GBA_OK)
		return;
	if (gba_btid(back, sizeof(back), rand, dom, dom_len) != GBA_OK)
		abort();
	if (strlen(back) != len || memcmp(back + 24, in + 24, len - 24))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	check_base64(s, size);
	check_hex(s, size);
	check_btid(s, size);
	return 0;
}
