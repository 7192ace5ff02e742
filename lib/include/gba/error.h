/*
 * gba/error.h - error codes of libgba.
 *
 * Every libgba function that can fail returns a gba_err: GBA_OK (0) on
 * success, one of the codes below otherwise.  The codes are stable: new
 * ones are only ever appended.  No message text ever carries key material.
 */
#ifndef GBA_ERROR_H
#define GBA_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gba_err {
	GBA_OK = 0,
	/* Caller errors */
	GBA_ERR_INVALID_ARG,      /* NULL pointer or a value out of range */
	GBA_ERR_BUFFER_TOO_SMALL, /* the output buffer cannot hold the result */
	GBA_ERR_BAD_LENGTH,       /* an input has a length the spec does not allow */
	GBA_ERR_UNSUPPORTED,      /* algorithm or option not supported */
	/* Encodings */
	GBA_ERR_BAD_HEX,          /* not a valid hex string */
	GBA_ERR_BAD_BASE64,       /* not valid base64 */
	GBA_ERR_BAD_ENCODING,     /* NUL byte, control character or invalid UTF-8 */
	/* AKA outcomes */
	GBA_ERR_MAC_FAILURE,      /* AUTN's MAC-A is wrong: the network is not authentic */
	GBA_ERR_SYNC_FAILURE,     /* AUTN's SQN is not fresh: AUTS was produced */
	GBA_ERR_AUTS_INVALID,     /* AUTS's MAC-S is wrong: resynchronisation refused */
	GBA_ERR_SQN_RANGE,        /* SQN would leave its 48-bit range */
	/* Parsers */
	GBA_ERR_PARSE,            /* malformed syntax */
	GBA_ERR_DUPLICATE_PARAM,  /* a parameter appears twice */
	GBA_ERR_MISSING_PARAM,    /* a required parameter is absent */
	GBA_ERR_TOO_LARGE,        /* input over the configured size limit */
	GBA_ERR_BAD_TIME,         /* not a valid xs:dateTime */
	/* Runtime */
	GBA_ERR_NO_MEMORY,        /* an allocation failed */
	GBA_ERR_AUTH_FAILED,      /* a digest response or rspauth does not verify */
	/* Stores and peers */
	GBA_ERR_NOT_FOUND,        /* unknown user, B-TID or key (or expired) */
	GBA_ERR_EXISTS,           /* the record is there already */
	GBA_ERR_STORE,            /* the database or store failed (I/O, corrupt) */
	GBA_ERR_UNAVAILABLE,      /* a peer (HSS, BSF, Redis) is down or refused */
	GBA_ERR_TIMEOUT,          /* a peer did not answer in time */
	GBA_ERR_NOT_AUTHORIZED,   /* the requester may not have this */
	GBA_ERR_STORE_UNWRITABLE, /* the store cannot write now (disk full, write error):
				     nothing was stored; retry later */
	GBA_ERR__COUNT            /* not an error: the number of codes */
} gba_err;

/*
 * A short English description of an error code, e.g. "AUTN MAC failure".
 * Never NULL; unknown codes give "unknown error".  The string is static.
 */
const char *gba_strerror(gba_err err);

/* The enumerator's name, e.g. "GBA_ERR_MAC_FAILURE", for logs and tests. */
const char *gba_err_name(gba_err err);

#ifdef __cplusplus
}
#endif
#endif /* GBA_ERROR_H */
