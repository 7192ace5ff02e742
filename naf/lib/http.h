/*
 * http.h - libgba-naf's second transport: Zn as Nbsp_GBA (TS 29.309) over
 * HTTPS with a client certificate (the BSF side is bsf/zn/zn_http.h,
 * which describes the exchange).  Not installed.
 */
#ifndef GBA_NAF_HTTP_H
#define GBA_NAF_HTTP_H

#include <gba/naf.h>

#define NAF_HTTP_PATH "/nbsp-gba/v1/bootstrapping-info-retrieval"

struct naf_http;

/*
 * GBA_ERR_INVALID_ARG without the three TLS files (an https:// URL) or
 * with an http:// URL and no prior-knowledge HTTP/2; GBA_ERR_NO_MEMORY.
 */
gba_err naf_http_open(struct naf_http **out, const struct gba_naf_config *cfg);
void naf_http_close(struct naf_http *h);

/*
 * One request, as gba_naf_fetch_key describes (same errors); out->uss is
 * filled up to its size; *version (may be NULL) gets the HTTP version the
 * answer came over (20: HTTP/2, 11: HTTP/1.1; 0 when none came).
 * Thread-safe: each call takes a curl handle of its own from a small pool,
 * and so its connection (kept open for the next call on that handle).
 */
gba_err naf_http_fetch(struct naf_http *h, const char *btid, const uint8_t *naf_id,
		       size_t naf_id_len, struct gba_naf_key *out, int *version);

/*
 * The BSF's 200 answer (a BootstrappingInfoResponse of len octets) into
 * out, its ussList turned back into the <ussList> XML the rest of the
 * library reads: GBA_OK, or GBA_ERR_PARSE (out's keys may be written: the
 * caller wipes them).
 * Apart from the network for the fuzz target (tests/fuzz/fuzz_zn_json.c).
 */
gba_err naf_http_read_answer(const char *data, size_t len, struct gba_naf_key *out);

#endif /* GBA_NAF_HTTP_H */
