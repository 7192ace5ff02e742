/*
 * subscriber_check.c - what makes a subscriber record acceptable, checked
 * once for gba_subdb_add() and for every CSV line.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <string.h>

#include <gba/tuak.h>

#include "subscriber_internal.h"

/* Printable ASCII without space: what NAIs and SIP/tel URIs are made of. */
static int printable(char c)
{
	return c > 0x20 && c < 0x7f;
}

int subscriber_impi_ok(const char *impi, size_t len)
{
	if (len == 0 || len > GBA_IMPI_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!printable(impi[i]) || impi[i] == ',')
			return 0;
	return 1;
}

int subscriber_imsi_ok(const char *imsi, size_t len)
{
	if (len == 0)
		return 1;
	if (len < 6 || len > GBA_IMSI_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (imsi[i] < '0' || imsi[i] > '9')
			return 0;
	return 1;
}

int subscriber_impus_ok(const char *impus, size_t len)
{
	if (len > GBA_IMPU_LIST_MAX)
		return 0;
	if (len && (impus[0] == ',' || impus[len - 1] == ','))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!printable(impus[i]) || (impus[i] == ',' && impus[i + 1] == ','))
			return 0;
	}
	return 1;
}

static gba_err key_check(const struct gba_aka_key *key)
{
	switch (key->algo) {
	case GBA_AKA_MILENAGE:
		return key->k_len == 16 && key->res_len == 8 ? GBA_OK : GBA_ERR_BAD_LENGTH;
	case GBA_AKA_TUAK:
		if ((key->k_len != 16 && key->k_len != 32) || key->tuak_iterations == 0 ||
		    key->tuak_iterations > GBA_TUAK_ITERATIONS_MAX ||
		    (key->res_len != 4 && key->res_len != 8 && key->res_len != 16))
			return GBA_ERR_BAD_LENGTH;
		return GBA_OK;
	default:
		return GBA_ERR_UNSUPPORTED;
	}
}

static gba_err fail(const char **field, const char *name, gba_err err)
{
	if (field)
		*field = name;
	return err;
}

gba_err gba_subdb_check(const struct gba_subscriber *sub, const char **field)
{
	size_t impi_len, imsi_len, impus_len;
	gba_err err;

	if (field)
		*field = NULL;
	if (!sub)
		return GBA_ERR_INVALID_ARG;
	impi_len = strnlen(sub->impi, sizeof(sub->impi));
	imsi_len = strnlen(sub->imsi, sizeof(sub->imsi));
	impus_len = strnlen(sub->impus, sizeof(sub->impus));
	if (impi_len == sizeof(sub->impi) || !subscriber_impi_ok(sub->impi, impi_len))
		return fail(field, "impi", GBA_ERR_INVALID_ARG);
	if (imsi_len == sizeof(sub->imsi) || !subscriber_imsi_ok(sub->imsi, imsi_len))
		return fail(field, "imsi", GBA_ERR_INVALID_ARG);
	if (impus_len == sizeof(sub->impus) || !subscriber_impus_ok(sub->impus, impus_len))
		return fail(field, "impus", GBA_ERR_INVALID_ARG);
	err = key_check(&sub->key);
	if (err)
		return fail(field, "key", err);
	if (sub->sqn > GBA_SQN_MAX)
		return fail(field, "sqn", GBA_ERR_INVALID_ARG);
	if (sub->ind_bits > SUBDB_IND_BITS_MAX)
		return fail(field, "ind_bits", GBA_ERR_INVALID_ARG);
	if (!sub->guss && sub->guss_len)
		return fail(field, "guss", GBA_ERR_INVALID_ARG);
	if (sub->guss_len > GBA_GUSS_MAX)
		return fail(field, "guss", GBA_ERR_TOO_LARGE);
	if (sub->guss_len && memchr(sub->guss, '\0', sub->guss_len))
		return fail(field, "guss", GBA_ERR_BAD_ENCODING);
	return GBA_OK;
}
