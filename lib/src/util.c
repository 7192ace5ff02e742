/*
 * util.c - wiping, constant-time comparison, hex and base64.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/base64.h>
#include <nettle/memops.h>

#include <gba/util.h>

void gba_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

gba_err gba_random(uint8_t *out, size_t n)
{
	size_t got = 0;

	if (!out && n)
		return GBA_ERR_INVALID_ARG;
	/* A signal may cut a large request short: ask for the rest. */
	while (got < n) {
		ssize_t r = getrandom(out + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return GBA_ERR_UNAVAILABLE;
		}
		got += (size_t)r;
	}
	return GBA_OK;
}

/* gba_random_rand()'s per-thread buffer: 64 RANDs, `used` octets taken. */
#define RAND_POOL_SIZE (64 * 16)
static _Thread_local struct {
	uint8_t buf[RAND_POOL_SIZE];
	size_t used;
	int filled;
} rand_pool;
static pthread_once_t rand_pool_once = PTHREAD_ONCE_INIT;

/* In a forked child (only the forking thread lives on): start empty. */
static void rand_pool_forked(void)
{
	gba_wipe(rand_pool.buf, sizeof(rand_pool.buf));
	rand_pool.filled = 0;
}

static void rand_pool_init(void)
{
	(void)pthread_atfork(NULL, NULL, rand_pool_forked);
}

gba_err gba_random_rand(uint8_t rand[16])
{
	if (!rand)
		return GBA_ERR_INVALID_ARG;
	(void)pthread_once(&rand_pool_once, rand_pool_init);
	if (!rand_pool.filled || rand_pool.used == RAND_POOL_SIZE) {
		gba_err err = gba_random(rand_pool.buf, RAND_POOL_SIZE);
		if (err)
			return err;
		rand_pool.used = 0;
		rand_pool.filled = 1;
	}
	memcpy(rand, rand_pool.buf + rand_pool.used, 16);
	gba_wipe(rand_pool.buf + rand_pool.used, 16);
	rand_pool.used += 16;
	return GBA_OK;
}

int gba_ct_equal(const void *a, const void *b, size_t n)
{
	return memeql_sec(a, b, n);
}

static const char hex_digits[] = "0123456789abcdef";

gba_err gba_hex_encode(char *out, size_t out_size, const uint8_t *in, size_t len)
{
	if (!out || (!in && len))
		return GBA_ERR_INVALID_ARG;
	if (len > (SIZE_MAX - 1) / 2 || out_size < 2 * len + 1)
		return GBA_ERR_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return GBA_OK;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

gba_err gba_hex_decode(uint8_t *out, size_t out_size, size_t *out_len,
		       const char *hex, size_t hex_len)
{
	if (!out_len || (!hex && hex_len) || (!out && out_size))
		return GBA_ERR_INVALID_ARG;
	if (hex_len % 2)
		return GBA_ERR_BAD_HEX;
	if (hex_len / 2 > out_size)
		return GBA_ERR_BUFFER_TOO_SMALL;
	for (size_t i = 0; i < hex_len / 2; i++) {
		int hi = hex_value(hex[2 * i]);
		int lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return GBA_ERR_BAD_HEX;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = hex_len / 2;
	return GBA_OK;
}

gba_err gba_base64_encode(char *out, size_t out_size, size_t *out_len,
			  const uint8_t *in, size_t len)
{
	if (!out || (!in && len))
		return GBA_ERR_INVALID_ARG;
	if (len > (SIZE_MAX - 3) / 4 * 3 - 3 || out_size < GBA_BASE64_LEN(len) + 1)
		return GBA_ERR_BUFFER_TOO_SMALL;
	size_t n = BASE64_ENCODE_RAW_LENGTH(len);
	base64_encode_raw(out, len, in);
	out[n] = '\0';
	if (out_len)
		*out_len = n;
	return GBA_OK;
}

static int is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * nettle's decoder skips whitespace and tolerates missing padding; we want
 * the strict RFC 4648 form on the wire, so check the shape first.
 */
static gba_err base64_check_shape(const char *in, size_t in_len)
{
	if (in_len % 4)
		return GBA_ERR_BAD_BASE64;
	size_t pad = 0;
	if (in_len >= 1 && in[in_len - 1] == '=')
		pad++;
	if (in_len >= 2 && in[in_len - 2] == '=')
		pad++;
	for (size_t i = 0; i < in_len - pad; i++)
		if (!is_base64_char(in[i]))
			return GBA_ERR_BAD_BASE64;
	return GBA_OK;
}

gba_err gba_base64_decode(uint8_t *out, size_t out_size, size_t *out_len,
			  const char *in, size_t in_len)
{
	if (!out_len || (!in && in_len) || (!out && out_size))
		return GBA_ERR_INVALID_ARG;
	gba_err err = base64_check_shape(in, in_len);
	if (err)
		return err;
	if (in_len == 0) {
		*out_len = 0;
		return GBA_OK;
	}
	/* The decoded length, from the shape: the padding tells the tail. */
	size_t pad = (in[in_len - 1] == '=') + (in[in_len - 2] == '=');
	size_t need = in_len / 4 * 3 - pad;
	if (need > out_size)
		return GBA_ERR_BUFFER_TOO_SMALL;

	struct base64_decode_ctx ctx;
	uint8_t tmp[3];
	size_t done = 0;
	base64_decode_init(&ctx);
	/*
	 * Decode in 4-character groups into a small buffer so that nettle
	 * never writes past out_size, whatever the padding says.
	 */
	for (size_t i = 0; i < in_len; i += 4) {
		size_t n = sizeof(tmp);
		if (!base64_decode_update(&ctx, &n, tmp, 4, in + i) || done + n > need) {
			gba_wipe(tmp, sizeof(tmp));
			return GBA_ERR_BAD_BASE64;
		}
		memcpy(out + done, tmp, n);
		done += n;
	}
	gba_wipe(tmp, sizeof(tmp));
	if (!base64_decode_final(&ctx) || done != need)
		return GBA_ERR_BAD_BASE64;
	*out_len = done;
	return GBA_OK;
}
