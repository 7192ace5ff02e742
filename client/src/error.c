/* error.c - messages of libgba-client's error codes, and client_fail(). */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

const char *gba_client_strerror(gba_client_err err)
{
	static const char *const text[GBA_CLIENT_ERR__COUNT] = {
		[GBA_CLIENT_OK] = "success",
		[GBA_CLIENT_ERR_INVALID_ARG] = "invalid argument",
		[GBA_CLIENT_ERR_NO_MEMORY] = "out of memory",
		[GBA_CLIENT_ERR_TRANSPORT] = "card transport failure",
		[GBA_CLIENT_ERR_NO_CARD] = "no card (or the card was removed)",
		[GBA_CLIENT_ERR_TIMEOUT] = "timeout",
		[GBA_CLIENT_ERR_CARD] = "the card refused the command",
		[GBA_CLIENT_ERR_CARD_DATA] = "the card answered malformed data",
		[GBA_CLIENT_ERR_MAC_FAILURE] = "network authentication failed (AUTN MAC)",
		[GBA_CLIENT_ERR_SYNC_FAILURE] = "synchronisation failure persists after resync",
		[GBA_CLIENT_ERR_NETWORK] = "cannot reach the BSF",
		[GBA_CLIENT_ERR_PROTOCOL] = "the BSF broke the Ub protocol",
		[GBA_CLIENT_ERR_REJECTED] = "the BSF refused the authentication",
		[GBA_CLIENT_ERR_RSPAUTH] = "rspauth does not verify: BSF not authentic",
		[GBA_CLIENT_ERR_FILE] = "file error",
		[GBA_CLIENT_ERR_NOT_FOUND] = "no valid bootstrapping context",
		[GBA_CLIENT_ERR_UNSUPPORTED] = "not supported",
		[GBA_CLIENT_ERR_PIN] = "PIN1 needed, wrong or blocked",
	};
	if ((unsigned)err < GBA_CLIENT_ERR__COUNT && text[err])
		return text[err];
	return "unknown error";
}

const char *gba_client_err_name(gba_client_err err)
{
	static const char *const names[GBA_CLIENT_ERR__COUNT] = {
		[GBA_CLIENT_OK] = "ok", [GBA_CLIENT_ERR_INVALID_ARG] = "invalid_arg",
		[GBA_CLIENT_ERR_NO_MEMORY] = "no_memory", [GBA_CLIENT_ERR_TRANSPORT] = "transport",
		[GBA_CLIENT_ERR_NO_CARD] = "no_card", [GBA_CLIENT_ERR_TIMEOUT] = "timeout",
		[GBA_CLIENT_ERR_CARD] = "card", [GBA_CLIENT_ERR_CARD_DATA] = "card_data",
		[GBA_CLIENT_ERR_MAC_FAILURE] = "mac_failure",
		[GBA_CLIENT_ERR_SYNC_FAILURE] = "sync_failure",
		[GBA_CLIENT_ERR_NETWORK] = "network", [GBA_CLIENT_ERR_PROTOCOL] = "protocol",
		[GBA_CLIENT_ERR_REJECTED] = "rejected", [GBA_CLIENT_ERR_RSPAUTH] = "rspauth",
		[GBA_CLIENT_ERR_FILE] = "file", [GBA_CLIENT_ERR_NOT_FOUND] = "no_context",
		[GBA_CLIENT_ERR_UNSUPPORTED] = "unsupported", [GBA_CLIENT_ERR_PIN] = "pin",
	};
	if ((unsigned)err < GBA_CLIENT_ERR__COUNT && names[err])
		return names[err];
	return "unknown";
}

gba_client_err client_fail(char *msg, size_t msg_size, gba_client_err err,
			   const char *fmt, ...)
{
	va_list ap;

	if (msg && msg_size) {
		va_start(ap, fmt);
		vsnprintf(msg, msg_size, fmt, ap);
		va_end(ap);
	}
	return err;
}
