/*
 * conf_demo.h - a table of every kind of key for the shared reader
 * (lib/conf), for its unit test (tests/unit/test_conf.c) and its fuzz
 * target (tests/fuzz/fuzz_config.c): [main] and [keys] sections, the
 * name -> value section [peers], and a file without sections.
 */
#ifndef GBA_TEST_CONF_DEMO_H
#define GBA_TEST_CONF_DEMO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gba_conf.h>

struct demo {
	char name[16];
	char digits[8];
	unsigned port, ttl;
	uint64_t big;
	int on, mode;
	uint8_t key[32];
	size_t key_len;
	uint8_t rand[4];
	char pin[9];
	unsigned n_extra, n_peers;
};

static int set_extra(void *obj, const struct gba_conf_key *k, const char *v, char *why,
		     size_t why_size)
{
	(void)k;
	if (strcmp(v, "more"))
		return snprintf(why, why_size, "only 'more'"), -1;
	((struct demo *)obj)->n_extra++;
	return 0;
}

static int set_peer(void *obj, const char *name, const char *v, char *why, size_t why_size)
{
	(void)name;
	if (strlen(v) != 6)
		return snprintf(why, why_size, "6 characters expected"), -1;
	((struct demo *)obj)->n_peers++;
	return 0;
}

static const struct gba_conf_name mode_names[] = {
	{ "fast", 0 },
	{ "slow", 1 },
	{ NULL, 0 },
};

#define OFF(f) offsetof(struct demo, f)
#define SZ(f) sizeof(((struct demo *)0)->f)

static const struct gba_conf_key keys[] = {
	{ .section = "main", .key = "name", .type = GBA_CONF_STR, .off = OFF(name),
	  .size = SZ(name), .min = 1, .max = 10, .def = "demo", .help = "a name" },
	{ .section = "main", .key = "digits", .type = GBA_CONF_DIGITS, .off = OFF(digits),
	  .size = SZ(digits), .min = 3, .max = 6, .def = "123", .help = "3 to 6 digits" },
	{ .section = "main", .key = "port", .type = GBA_CONF_UINT, .off = OFF(port), .min = 1,
	  .max = 65535, .def = "80", .help = "a port" },
	{ .section = "main", .key = "big", .type = GBA_CONF_U64, .off = OFF(big), .min = 0,
	  .max = (UINT64_C(1) << 48) - 1, .def = "0", .help = "48 bits" },
	{ .section = "main", .key = "ttl", .type = GBA_CONF_DURATION, .off = OFF(ttl), .min = 1,
	  .max = 86400, .def = "30s", .help = "a duration" },
	{ .section = "main", .key = "on", .type = GBA_CONF_BOOL, .off = OFF(on), .def = "no",
	  .help = "a switch" },
	{ .section = "main", .key = "mode", .type = GBA_CONF_ENUM, .off = OFF(mode),
	  .names = mode_names, .def = "fast", .help = "fast or slow" },
	{ .section = "keys", .key = "key", .type = GBA_CONF_HEX, .off = OFF(key), .size = SZ(key),
	  .min = 16, .max = 32, .len_off = OFF(key_len), .flags = GBA_CONF_SECRET,
	  .help = "16 or 32 octets" },
	{ .section = "keys", .key = "rand", .type = GBA_CONF_HEX, .off = OFF(rand),
	  .size = SZ(rand), .min = 4, .max = 4, .len_off = GBA_CONF_NO_LEN, .help = "4 octets" },
	{ .section = "keys", .key = "pin", .type = GBA_CONF_DIGITS, .off = OFF(pin),
	  .size = SZ(pin), .min = 4, .max = 8, .flags = GBA_CONF_SECRET, .help = "a PIN" },
	{ .section = "keys", .key = "extra", .type = GBA_CONF_FUNC, .set = set_extra,
	  .flags = GBA_CONF_REPEAT, .help = "may repeat" },
};

static const struct gba_conf_map maps[] = {
	{ "peers", set_peer, GBA_CONF_SECRET },
};

static const struct gba_conf_spec spec = {
	.keys = keys, .n_keys = sizeof(keys) / sizeof(keys[0]),
	.maps = maps, .n_maps = 1, .flags = GBA_CONF_WIPE,
};

/* A file without sections, names in any case, one key required. */
static const struct gba_conf_key flat_keys[] = {
	{ .section = "", .key = "k", .type = GBA_CONF_HEX, .off = OFF(key), .size = SZ(key),
	  .min = 16, .max = 32, .len_off = OFF(key_len),
	  .flags = GBA_CONF_SECRET | GBA_CONF_REQUIRED },
	{ .section = "", .key = "name", .type = GBA_CONF_STR, .off = OFF(name), .size = SZ(name) },
};

static const struct gba_conf_spec flat = {
	.keys = flat_keys, .n_keys = 2, .flags = GBA_CONF_NOCASE | GBA_CONF_WIPE,
};

#endif /* GBA_TEST_CONF_DEMO_H */
