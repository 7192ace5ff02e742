/*
 * error.c - names and messages of the gba_err codes.
 */
#include <gba/error.h>

struct err_text {
	const char *name;
	const char *message;
};

/* Indexed by gba_err: keep in the order of the enum in gba/error.h. */
static const struct err_text err_texts[GBA_ERR__COUNT] = {
	[GBA_OK] = { "GBA_OK", "success" },
	[GBA_ERR_INVALID_ARG] = { "GBA_ERR_INVALID_ARG", "invalid argument" },
	[GBA_ERR_BUFFER_TOO_SMALL] = { "GBA_ERR_BUFFER_TOO_SMALL", "output buffer too small" },
	[GBA_ERR_BAD_LENGTH] = { "GBA_ERR_BAD_LENGTH", "input has a length the specification does not allow" },
	[GBA_ERR_UNSUPPORTED] = { "GBA_ERR_UNSUPPORTED", "algorithm or option not supported" },
	[GBA_ERR_BAD_HEX] = { "GBA_ERR_BAD_HEX", "invalid hex string" },
	[GBA_ERR_BAD_BASE64] = { "GBA_ERR_BAD_BASE64", "invalid base64" },
	[GBA_ERR_BAD_ENCODING] = { "GBA_ERR_BAD_ENCODING", "NUL byte, control character or invalid UTF-8" },
	[GBA_ERR_MAC_FAILURE] = { "GBA_ERR_MAC_FAILURE", "AUTN MAC failure: the network is not authentic" },
	[GBA_ERR_SYNC_FAILURE] = { "GBA_ERR_SYNC_FAILURE", "synchronisation failure: SQN not fresh" },
	[GBA_ERR_AUTS_INVALID] = { "GBA_ERR_AUTS_INVALID", "AUTS MAC-S failure: resynchronisation refused" },
	[GBA_ERR_SQN_RANGE] = { "GBA_ERR_SQN_RANGE", "sequence number out of range" },
	[GBA_ERR_PARSE] = { "GBA_ERR_PARSE", "malformed input" },
	[GBA_ERR_DUPLICATE_PARAM] = { "GBA_ERR_DUPLICATE_PARAM", "parameter given more than once" },
	[GBA_ERR_MISSING_PARAM] = { "GBA_ERR_MISSING_PARAM", "required parameter missing" },
	[GBA_ERR_TOO_LARGE] = { "GBA_ERR_TOO_LARGE", "input exceeds the size limit" },
	[GBA_ERR_BAD_TIME] = { "GBA_ERR_BAD_TIME", "invalid xs:dateTime" },
	[GBA_ERR_NO_MEMORY] = { "GBA_ERR_NO_MEMORY", "out of memory" },
	[GBA_ERR_AUTH_FAILED] = { "GBA_ERR_AUTH_FAILED", "authentication failed" },
	[GBA_ERR_NOT_FOUND] = { "GBA_ERR_NOT_FOUND", "not found" },
	[GBA_ERR_EXISTS] = { "GBA_ERR_EXISTS", "already exists" },
	[GBA_ERR_STORE] = { "GBA_ERR_STORE", "store or database failure" },
	[GBA_ERR_UNAVAILABLE] = { "GBA_ERR_UNAVAILABLE", "peer unavailable" },
	[GBA_ERR_TIMEOUT] = { "GBA_ERR_TIMEOUT", "peer did not answer in time" },
	[GBA_ERR_NOT_AUTHORIZED] = { "GBA_ERR_NOT_AUTHORIZED", "not authorized" },
	[GBA_ERR_STORE_UNWRITABLE] = { "GBA_ERR_STORE_UNWRITABLE", "the store cannot write now (disk full or write error)" },
};

static const struct err_text *lookup(gba_err err)
{
	if ((unsigned)err >= GBA_ERR__COUNT || !err_texts[err].name)
		return 0;
	return &err_texts[err];
}

const char *gba_strerror(gba_err err)
{
	const struct err_text *t = lookup(err);
	return t ? t->message : "unknown error";
}

const char *gba_err_name(gba_err err)
{
	const struct err_text *t = lookup(err);
	return t ? t->name : "GBA_ERR_UNKNOWN";
}
