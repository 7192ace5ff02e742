/*
 * psk_id.c - parsing the psk_identity of TS 33.222 and of gba-naf's targets.
 */
#include <stdint.h>
#include <string.h>

#include <gba/kdf.h>

#include "psk_id.h"

/* TS 33.222's prefixes; the separator before the B-TID is '.', ',' or none. */
#define PFX_ME "3GPP-bootstrapping"
#define PFX_UICC "3GPP-bootstrapping-uicc"
#define PFX_DIGEST "3GPP-bootstrapping-digest"
#define PFX_TARGET "oneM2M-target,"

int psk_id_valid_name(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

static struct psk_id bad(const char *why)
{
	struct psk_id r = { .who = PSK_BAD, .why = why };
	return r;
}

static struct psk_id node(enum psk_who who, const char *btid)
{
	uint8_t rand[16];
	const char *domain;
	size_t domain_len, len = strlen(btid);
	if (len > GBA_BTID_MAX || gba_btid_parse(btid, len, rand, &domain, &domain_len))
		return bad("not a B-TID");
	struct psk_id r = { .who = who, .name = btid, .name_len = len };
	return r;
}

/*
 * identity starts with prefix; *rest gets what follows the prefix and its
 * separator ('.' as TS 36.508 Table 4.7H-5, ',' or none: base64 has
 * neither, so the three readings never clash).
 */
static int prefixed(const char *identity, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(identity, prefix, n))
		return 0;
	*rest = identity + n + (identity[n] == '.' || identity[n] == ',');
	return 1;
}

struct psk_id psk_id_parse(const char *identity)
{
	const char *rest;

	if (!identity || !*identity)
		return bad("empty identity");
	/* The longer prefixes first: "3GPP-bootstrapping" starts them all. */
	if (prefixed(identity, PFX_UICC, &rest))
		return node(PSK_NODE_UICC, rest);
	if (prefixed(identity, PFX_DIGEST, &rest))
		return bad("GBA_Digest is not supported");
	if (!strncmp(identity, PFX_TARGET, strlen(PFX_TARGET))) {
		const char *id = identity + strlen(PFX_TARGET);
		if (!psk_id_valid_name(id, strlen(id), 256))
			return bad("not a CSE-ID");
		struct psk_id r = { .who = PSK_TARGET, .name = id, .name_len = strlen(id) };
		return r;
	}
	if (prefixed(identity, PFX_ME, &rest))
		return node(PSK_NODE, rest);
	return node(PSK_NODE, identity);
}
