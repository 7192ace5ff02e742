/*
 * gba/diameter_zh.h - Zh (TS 29.109 clause 4): the BSF asks the HSS for an
 * authentication vector with a Multimedia-Auth-Request and gets it in the
 * Multimedia-Auth-Answer, on application 16777221.
 *
 *   MAR: Session-Id, Vendor-Specific-Application-Id {10415, 16777221},
 *        Auth-Session-State NO_STATE_MAINTAINED, Origin-Host/Realm,
 *        Destination-Realm, [Destination-Host], User-Name = IMPI,
 *        SIP-Number-Auth-Items = 1,
 *        SIP-Auth-Data-Item { SIP-Authentication-Scheme "Digest-AKAv1-MD5",
 *                             [SIP-Authorization = RAND || AUTS] }
 *   MAA: Result-Code 2001, SIP-Number-Auth-Items = 1,
 *        SIP-Auth-Data-Item { SIP-Item-Number 1, SIP-Authentication-Scheme,
 *                             SIP-Authenticate = RAND || AUTN,
 *                             SIP-Authorization = XRES,
 *                             Confidentiality-Key = CK, Integrity-Key = IK },
 *        [GBA-UserSecSettings = the GUSS XML];
 *   or:  Experimental-Result {10415, 5401} for an unknown IMPI,
 *        Result-Code 5004 (Failed-AVP SIP-Authorization) for an AUTS whose
 *        MAC-S does not verify, 5004/5005 for a malformed MAR, 5012 when
 *        the HSS cannot serve it.
 *
 * Cx (TS 29.229 6.1.7/6.1.8, application 16777216) has the same command
 * and AVPs; its MAR adds Public-Identity (a SIP URI of the user) and
 * Server-Name, may ask for several vectors (SIP-Number-Auth-Items), and
 * its MAA answers an unknown user with Experimental-Result 5001
 * (DIAMETER_ERROR_USER_UNKNOWN).  For HSSs that offer Cx but not Zh.
 *
 * Both sides need a node opened with GBA_DIA_ZH (or GBA_DIA_CX) in its
 * applications.
 */
#ifndef GBA_DIAMETER_ZH_H
#define GBA_DIAMETER_ZH_H

#include <stddef.h>
#include <stdint.h>

#include <gba/aka.h>
#include <gba/diameter.h>
#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_ZH_SCHEME_AKAV1 "Digest-AKAv1-MD5"
#define GBA_ZH_SCHEME_AKAV2 "Digest-AKAv2-MD5"
#define GBA_ZH_IMPI_MAX 255      /* longest User-Name accepted (as GBA_IMPI_MAX) */
#define GBA_ZH_GUSS_MAX 16384    /* longest GBA-UserSecSettings handled (as GBA_GUSS_MAX) */
#define GBA_ZH_RESYNC_LEN 30     /* SIP-Authorization on resync: RAND (16) || AUTS (14) */
#define GBA_ZH_VECTORS_MAX 5     /* most SIP-Auth-Data-Items asked for or read (Cx) */
#define GBA_ZH_CX_NAME_MAX 255   /* longest Public-Identity or Server-Name sent */

/* ---- BSF side: send a MAR, wait for the MAA ---------------------------- */

struct gba_zh_request {
	const char *impi;          /* User-Name */
	const char *dest_realm;    /* Destination-Realm */
	const char *dest_host;     /* Destination-Host, the HSS's identity; NULL: none */
	const char *scheme;        /* NULL: GBA_ZH_SCHEME_AKAV1 */
	/* Resynchronisation: the RAND of the failed challenge and the AUTS; else NULL. */
	const uint8_t *resync_rand;
	const uint8_t *auts;
	/* Cx instead of Zh (zero for Zh): */
	uint32_t app;                /* 0 or GBA_DIA_APP_ZH: Zh; GBA_DIA_APP_CX: Cx */
	const char *public_identity; /* Cx's Public-Identity; NULL: "sip:" IMPI */
	const char *server_name;     /* Cx's Server-Name (required on Cx) */
	/* SIP-Number-Auth-Items: 0 or 1 on Zh; on Cx 1..GBA_ZH_VECTORS_MAX (0: 1) */
	unsigned vectors;
};

struct gba_zh_answer {
	struct gba_dia_result result;   /* what the HSS (or freeDiameter) answered */
	struct gba_av av;               /* secret: wipe after use.  av.sqn is 0 (not on Zh) */
	size_t guss_len;                /* GBA-UserSecSettings copied to the caller's buffer */
	/* Further vectors of the answer (an HSS that sent several SIP-Auth-
	 * Data-Items), in SIP-Item-Number order after av.  Secret: wipe. */
	struct gba_av spare[GBA_ZH_VECTORS_MAX - 1];
	size_t n_spare;
};

/*
 * Send a MAR and wait (blocking this thread only) for the MAA, at most
 * timeout_ms.  Safe from many threads at once.  Returns:
 *   GBA_OK                 ans->av holds the vector, the GUSS is in guss
 *                          (NUL-terminated when room allows; guss may be NULL)
 *   GBA_ERR_NOT_FOUND      5401: the HSS does not know the IMPI (on Cx
 *                          also 5001 USER_UNKNOWN and 5002
 *                          IDENTITIES_DONT_MATCH)
 *   GBA_ERR_AUTS_INVALID   the HSS refused the AUTS of a resynchronisation
 *   GBA_ERR_UNAVAILABLE    no open connection to the HSS, or it said busy
 *   GBA_ERR_TIMEOUT        no answer in time (a late answer is dropped)
 *   GBA_ERR_PARSE          the MAA lacks the vector or has wrong lengths
 *   GBA_ERR_TOO_LARGE      the GUSS does not fit in guss_size
 *   GBA_ERR_UNSUPPORTED    another failure result (see ans->result)
 *   GBA_ERR_INVALID_ARG    a bad request (no IMPI, half a resync, ...)
 * ans->result is filled whenever an answer came.
 */
gba_err gba_zh_mar_call(struct gba_dia *dia, const struct gba_zh_request *req,
			unsigned timeout_ms, struct gba_zh_answer *ans,
			char *guss, size_t guss_size);

/* ---- BSF side without a waiting thread: the MAA comes to a callback ------ */

struct gba_zh_maa;   /* a received MAA */

/*
 * The caller's record of one MAR in flight (embed it in the caller's own
 * and find that from call): it must live until done is called.
 */
struct gba_zh_async {
	/*
	 * Called exactly once for a MAR that gba_zh_mar_send sent, on one of
	 * freeDiameter's threads (do little there): with the MAA, or with NULL
	 * when none came within the timeout.  Not called for a MAR still in
	 * flight when the node closes.  The callee owns maa: read it with
	 * gba_zh_maa_read, free it with gba_zh_maa_free, on any thread.
	 */
	void (*done)(struct gba_zh_async *call, struct gba_zh_maa *maa);
};

/*
 * Send a MAR and return at once: the MAA (or its absence after timeout_ms)
 * comes to call->done.  On an error nothing was sent and done is not
 * called: GBA_ERR_UNAVAILABLE (no open connection to the HSS),
 * GBA_ERR_INVALID_ARG, GBA_ERR_NO_MEMORY.  Safe from many threads at once;
 * MARs in flight share freeDiameter's threads, which carry several
 * messages per wake-up (docs/zh.md, Figures).
 */
gba_err gba_zh_mar_send(struct gba_dia *dia, const struct gba_zh_request *req,
			unsigned timeout_ms, struct gba_zh_async *call);

/*
 * What maa says to the MAR req (the same request, or one with the same
 * app, auts and resync_rand): the outcomes of gba_zh_mar_call, and
 * GBA_ERR_TIMEOUT for maa NULL.  maa stays the caller's.
 */
gba_err gba_zh_maa_read(struct gba_zh_maa *maa, const struct gba_zh_request *req,
			struct gba_zh_answer *ans, char *guss, size_t guss_size);

/* Wipe the MAA's keys and free it (NULL: nothing). */
void gba_zh_maa_free(struct gba_zh_maa *maa);

/* ---- HSS side: answer MARs ----------------------------------------------- */

/* A received, well-formed MAR. */
struct gba_zh_mar {
	const char *impi;            /* User-Name, NUL-terminated, printable */
	size_t impi_len;
	const char *scheme;          /* the requested scheme, or GBA_ZH_SCHEME_AKAV1 */
	const uint8_t *resync_rand;  /* with auts: a resynchronisation; else NULL */
	const uint8_t *auts;
	const char *origin_host;     /* the requester, for logs */
	uint32_t app;                /* GBA_DIA_APP_ZH or GBA_DIA_APP_CX */
	unsigned index;              /* 0, or 1.. for the further vectors of a Cx MAR */
};

/*
 * The HSS's answer to one MAR: fill av (and the GUSS into guss, up to
 * guss_size, its length in *guss_len) and return GBA_OK; or return
 * GBA_ERR_NOT_FOUND (unknown IMPI: 5401), GBA_ERR_AUTS_INVALID (5004), or
 * any other error (5012).  Called from freeDiameter's threads, several at
 * once.  The library wipes av after sending.
 */
typedef gba_err gba_zh_mar_handler(void *arg, const struct gba_zh_mar *mar, struct gba_av *av,
				   char *guss, size_t guss_size, size_t *guss_len);

/*
 * Answer the node's MARs with fn: Zh's when the node has GBA_DIA_ZH, Cx's
 * when it has GBA_DIA_CX.  Malformed MARs are answered by the library
 * (5004/5005, Failed-AVP) without calling fn; a Cx MAR without
 * Public-Identity or Server-Name is malformed (5005).  A Cx MAR that asks
 * for n vectors (at most GBA_ZH_VECTORS_MAX) calls fn up to n times (index
 * 0.., the resynchronisation, if any, on the first only; the GUSS of the
 * first only is sent) and answers the vectors it got; Zh answers one.
 * An unknown user on Cx is answered 5001.  Call before gba_dia_start(),
 * once per node.
 */
gba_err gba_zh_server_register(struct gba_dia *dia, gba_zh_mar_handler *fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif /* GBA_DIAMETER_ZH_H */
