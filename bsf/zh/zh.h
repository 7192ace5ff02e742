/*
 * zh.h - the BSF's AV source over Zh: vectors from an HSS by Diameter
 * Multimedia-Auth-Request/Answer (TS 29.109, application 16777221), on
 * libgba-diameter; or over Cx (TS 29.229, application 16777216) for an
 * IMS HSS that offers no Zh.  See docs/zh.md.
 *
 * fetch() sends one MAR and waits for its MAA, at most timeout_ms:
 *   5401 (IDENTITY_UNKNOWN), on Cx
 *   5001 (USER_UNKNOWN) or 5002       -> GBA_ERR_NOT_FOUND
 *   AUTS refused (5004 on a resync)   -> GBA_ERR_AUTS_INVALID
 *   no connection to the HSS, 3002,
 *   3004 or a 4xxx result             -> GBA_ERR_UNAVAILABLE
 *   no answer in time                 -> GBA_ERR_TIMEOUT
 *   an MAA without a usable vector    -> GBA_ERR_PARSE
 *   any other result                  -> GBA_ERR_UNSUPPORTED
 */
#ifndef GBA_BSF_ZH_H
#define GBA_BSF_ZH_H

#include <gba/diameter.h>

#include "../av_source.h"

struct zh_config {
	const char *origin_host;    /* this BSF's Diameter identity (Origin-Host), an FQDN */
	const char *origin_realm;   /* this BSF's realm (Origin-Realm) */
	const char *hss_host;       /* the HSS's address (IP or host name) */
	unsigned hss_port;          /* its Diameter port; 0: 3868 */
	const char *hss_realm;      /* Destination-Realm of the MARs */
	/*
	 * The HSS's Diameter identity: the Origin-Host of its CEA, and the
	 * Destination-Host of the MARs.  NULL: hss_host (right when that is
	 * the HSS's FQDN).
	 */
	const char *hss_identity;
	unsigned timeout_ms;        /* wait for an MAA at most this long; 0: 2000 */
	/*
	 * The own node's transport and TLS files (struct gba_dia_config):
	 * GBA_DIA_TLS (the default) needs all three; the HSS's certificate
	 * must name hss_identity.  A shared node (dia) has its own.
	 */
	enum gba_dia_transport transport;
	const char *tls_cert;
	const char *tls_key;
	const char *tls_ca;

	/* Optional (zero is fine): */
	/*
	 * The local IP address advertised in the CER (Host-IP-Address).
	 * NULL: the address this host uses to reach hss_host.
	 */
	const char *local_address;
	unsigned reconnect_s;       /* seconds between connection attempts; 0: 5 */
	gba_dia_log_fn *log;        /* the Diameter node's lines; NULL: stderr */
	void *log_arg;
	enum gba_dia_log_level log_level;   /* least severe level logged (0 is debug) */
	/*
	 * A node the process opened already (when the BSF also serves Zn, one
	 * node carries both, with GBA_DIA_ZH, or GBA_DIA_CX for cx, among its
	 * applications); NULL: the source opens, starts and closes its own.
	 */
	struct gba_dia *dia;

	/* Cx instead of Zh (av.source = cx): */
	int cx;
	const char *server_name;    /* Server-Name (required with cx) */
	unsigned vectors;           /* SIP-Number-Auth-Items, 1..GBA_ZH_VECTORS_MAX; 0: 1 */
	/*
	 * Seconds the further vectors of an MAA are kept for that IMPI and
	 * handed out before the next MAR (bsf/av_spare.h); 0: not kept.  An
	 * MAA that carries a GUSS keeps none (a spare would go without it).
	 */
	unsigned spare_ttl;
	unsigned spare_users;       /* users with spares at once (av_spare_new); 0: default */
	/*
	 * The Public-Identity of impi into out (size octets): 0, or non-zero
	 * for the default "sip:" IMPI.  NULL: always the default.  Called
	 * from the Ub threads, several at once.
	 */
	int (*public_identity)(void *arg, const char *impi, char *out, size_t size);
	void *public_identity_arg;
};

/*
 * Open the source: start the Diameter node and connect to the HSS, waiting
 * up to timeout_ms for the connection.  An HSS that is not up yet is not
 * an error (the node keeps trying every reconnect_s; fetch() meanwhile
 * says GBA_ERR_UNAVAILABLE).  GBA_ERR_INVALID_ARG for a bad configuration,
 * GBA_ERR_EXISTS when the process already has its own Diameter node.
 */
gba_err av_source_zh_open(struct av_source **out, const struct zh_config *cfg);

/* The Diameter node the source uses (its own or the shared one): for the
 * node's metrics.  src must be a Zh source. */
struct gba_dia *av_source_zh_dia(struct av_source *src);

#endif /* GBA_BSF_ZH_H */
