/*
 * fuzz_ubxml.c - libFuzzer target for the Ub BootstrappingInfo document
 * and xs:dateTime.
 *
 * Besides "no crash, no leak", it checks round trips, which is where a
 * builder and a parser written separately drift apart:
 * - a document that parses is rebuilt from the result, the rebuilt one
 *   parses to the same B-TID and lifetime, and rebuilding that gives the
 *   same bytes again;
 * - an xs:dateTime that parses prints, and reads back as the same time;
 *   a value already in our canonical form prints as itself;
 * - the input taken as a B-TID either builds into a document that parses
 *   back to it, or is refused by the builder.
 * Any difference is an abort(), which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gba/ubxml.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* First and last second of four-digit years, as the library sees them. */
#define T_MIN ((int64_t)-62135596800LL) /* 0001-01-01T00:00:00Z */
#define T_MAX ((int64_t)253402300799LL) /* 9999-12-31T23:59:59Z */

static void check(int ok)
{
	if (!ok)
		abort();
}

/*
 * Builds the document for (btid, lifetime), checks that the length the
 * builder needs is exact, and returns it in a malloc()ed buffer, or NULL
 * when the builder refuses the values with err.
 */
static char *build(const char *btid, size_t btid_len, time_t lifetime,
		   size_t *len, gba_err *err)
{
	static char big[GBA_UBXML_MAX];
	char *exact;

	*err = gba_ubxml_build(big, sizeof(big), len, btid, btid_len, lifetime);
	if (*err != GBA_OK)
		return NULL;
	check(strlen(big) == *len);
	/* Exactly len + 1 bytes on the heap: ASan sees any overrun. */
	exact = malloc(*len + 1);
	check(exact != NULL);
	check(gba_ubxml_build(exact, *len, NULL, btid, btid_len, lifetime) ==
	      GBA_ERR_BUFFER_TOO_SMALL);
	check(gba_ubxml_build(exact, *len + 1, NULL, btid, btid_len, lifetime) ==
	      GBA_OK);
	check(memcmp(exact, big, *len + 1) == 0);
	return exact;
}

static void fuzz_document(const uint8_t *data, size_t size)
{
	struct gba_bootstrapping_info info, again, third;
	char *doc, *doc2;
	size_t len, len2;
	gba_err err;

	if (gba_ubxml_parse((const char *)data, size, &info) != GBA_OK)
		return;
	check(memchr(info.btid, '\0', sizeof(info.btid)) != NULL);
	check((int64_t)info.lifetime >= T_MIN && (int64_t)info.lifetime <= T_MAX);

	/* Whatever the parser returns, the builder must take. */
	doc = build(info.btid, strlen(info.btid), info.lifetime, &len, &err);
	check(doc != NULL);
	check(gba_ubxml_parse(doc, len, &again) == GBA_OK);
	check(strcmp(again.btid, info.btid) == 0);
	check(again.lifetime == info.lifetime);

	/* Our own output is a fixed point. */
	doc2 = build(again.btid, strlen(again.btid), again.lifetime, &len2, &err);
	check(doc2 != NULL);
	check(len2 == len && memcmp(doc, doc2, len) == 0);
	check(gba_ubxml_parse(doc2, len2, &third) == GBA_OK);
	check(strcmp(third.btid, info.btid) == 0);
	check(third.lifetime == info.lifetime);
	free(doc);
	free(doc2);
}

static void fuzz_datetime(const uint8_t *data, size_t size)
{
	char buf[GBA_XS_DATETIME_MAX];
	time_t t, back;

	if (gba_xs_datetime_parse((const char *)data, size, &t) != GBA_OK)
		return;
	check((int64_t)t >= T_MIN && (int64_t)t <= T_MAX);
	check(gba_xs_datetime_format(buf, sizeof(buf), t) == GBA_OK);
	check(gba_xs_datetime_parse(buf, strlen(buf), &back) == GBA_OK);
	check(back == t);
	/* YYYY-MM-DDThh:mm:ssZ, hour below 24: printed as it came. */
	if (size == 20 && data[19] == 'Z' && memcmp(data + 11, "24", 2) != 0)
		check(memcmp(buf, data, 20) == 0);
}

/* The input as a B-TID, with a lifetime taken from its first octets. */
static void fuzz_build(const uint8_t *data, size_t size)
{
	struct gba_bootstrapping_info info;
	uint64_t v = 0;
	time_t lifetime;
	size_t len;
	gba_err err;
	char *doc;

	for (size_t i = 0; i < size && i < 8; i++)
		v = v << 8 | data[i];
	lifetime = (time_t)(T_MIN + (int64_t)(v % (uint64_t)(T_MAX - T_MIN + 1)));

	doc = build((const char *)data, size, lifetime, &len, &err);
	if (doc == NULL) {
		check(err == GBA_ERR_BAD_LENGTH || err == GBA_ERR_BAD_ENCODING);
		return;
	}
	check(gba_ubxml_parse(doc, len, &info) == GBA_OK);
	check(strlen(info.btid) == size && memcmp(info.btid, data, size) == 0);
	check(info.lifetime == lifetime);
	free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_document(data, size);
	fuzz_datetime(data, size);
	fuzz_build(data, size);
	return 0;
}
