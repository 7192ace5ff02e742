/*
 * gba/diameter.h - libgba-diameter: the process's Diameter node for Zh
 * (BSF <-> HSS) and Zn (NAF <-> BSF), TS 29.109, on freeDiameter.
 *
 * freeDiameter keeps one core per process (its configuration, dictionary,
 * peers and threads are process-wide), so there is one struct gba_dia per
 * process.  Every Diameter role a process plays - the BSF's Zh client and
 * Zn server, a NAF's Zn client, the HSS simulator's Zh server - hangs off
 * that one node:
 *
 *     gba_dia_open(&dia, &cfg);             core, dictionary, applications
 *     gba_zh_server_register(dia, ...);     roles that answer requests
 *     gba_dia_add_peer(dia, &hss);          peers to connect to
 *     gba_dia_start(dia);                   listen and connect
 *     gba_zh_mar_call(dia, ...);            requests, from any thread
 *     gba_dia_close(dia);                   stop everything
 *
 * Peers talk TLS (GnuTLS, from the first octet of the connection: RFC 6733
 * 13.1, freeDiameter's "secure port") with a certificate each, signed by
 * the node's CA, that must name the Diameter identity the peer claims in
 * its CER/CEA (subject CN or a dNSName, exactly): a peer that merely sends
 * a listed Origin-Host is refused.  Plain TCP only when asked for
 * (GBA_DIA_TCP: a lab, or a link protected by IPsec, NDS/IP TS 33.210).
 *
 * The node hides freeDiameter's configuration file (written to a private
 * 0600 file and removed once read), the TLS credentials freeDiameter insists
 * on even over plain TCP (an ephemeral self-signed ECDSA certificate) and
 * its message dumps, which would print CK, IK and XRES: the node replaces
 * them with one-line summaries that name no AVP value.
 *
 * Not installed: libgba-diameter is internal (linked statically into gba's
 * programs and libgba-naf); gba/dia_types.h, installed, holds the types
 * gba/naf.h names.
 */
#ifndef GBA_DIAMETER_H
#define GBA_DIAMETER_H

#include <stddef.h>
#include <stdint.h>

#include <gba/dia_types.h>
#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Numbers of TS 29.109 and RFC 6733 -------------------------------- */

#define GBA_DIA_VENDOR_3GPP        10415
#define GBA_DIA_APP_ZN             16777220u
#define GBA_DIA_APP_ZH             16777221u
#define GBA_DIA_APP_CX             16777216u   /* IMS Cx (TS 29.229): HSSs without Zh */
#define GBA_DIA_CMD_MULTIMEDIA_AUTH    303   /* MAR/MAA (Zh and Cx) */
#define GBA_DIA_CMD_BOOTSTRAPPING_INFO 310   /* BIR/BIA (Zn) */

/* AVP codes of vendor 10415 that Zh and Zn use (base AVPs: RFC 6733). */
enum gba_dia_avp {
	/* GAA, TS 29.109 6.3 */
	GBA_AVP_GBA_USERSECSETTINGS = 400,
	GBA_AVP_TRANSACTION_IDENTIFIER = 401,
	GBA_AVP_NAF_ID = 402,
	GBA_AVP_GAA_SERVICE_IDENTIFIER = 403,
	GBA_AVP_KEY_EXPIRYTIME = 404,
	GBA_AVP_ME_KEY_MATERIAL = 405,
	GBA_AVP_UICC_KEY_MATERIAL = 406,
	GBA_AVP_GBA_U_AWARENESS_INDICATOR = 407,
	GBA_AVP_BOOTSTRAPINFOCREATIONTIME = 408,
	GBA_AVP_GUSS_TIMESTAMP = 409,
	GBA_AVP_GBA_TYPE = 410,
	GBA_AVP_UE_ID = 411,
	GBA_AVP_UE_ID_TYPE = 412,
	GBA_AVP_UICC_APP_LABEL = 413,
	GBA_AVP_UICC_ME = 414,
	GBA_AVP_REQUESTED_KEY_LIFETIME = 415,
	GBA_AVP_PRIVATE_IDENTITY_REQUEST = 416,
	GBA_AVP_GBA_PUSH_INFO = 417,
	GBA_AVP_NAF_SA_IDENTIFIER = 418,
	GBA_AVP_SECURITY_FEATURE_REQUEST = 419,
	GBA_AVP_SECURITY_FEATURE_RESPONSE = 420,
	/* Cx AVPs reused by Zh, TS 29.229 */
	GBA_AVP_PUBLIC_IDENTITY = 601,
	GBA_AVP_SERVER_NAME = 602,          /* Cx only */
	GBA_AVP_SIP_NUMBER_AUTH_ITEMS = 607,
	GBA_AVP_SIP_AUTHENTICATION_SCHEME = 608,
	GBA_AVP_SIP_AUTHENTICATE = 609,
	GBA_AVP_SIP_AUTHORIZATION = 610,
	GBA_AVP_SIP_AUTHENTICATION_CONTEXT = 611,
	GBA_AVP_SIP_AUTH_DATA_ITEM = 612,
	GBA_AVP_SIP_ITEM_NUMBER = 613,
	GBA_AVP_CONFIDENTIALITY_KEY = 625,
	GBA_AVP_INTEGRITY_KEY = 626,
};

/* Result-Code values (RFC 6733) and Experimental-Result-Code values
 * (vendor 10415, TS 29.109 6.2) the stack sends or treats specially. */
#define GBA_DIA_SUCCESS                 2001
#define GBA_DIA_UNABLE_TO_DELIVER       3002
#define GBA_DIA_TOO_BUSY                3004
#define GBA_DIA_INVALID_AVP_VALUE       5004
#define GBA_DIA_MISSING_AVP             5005
#define GBA_DIA_UNABLE_TO_COMPLY        5012
#define GBA_DIA_ERROR_IDENTITY_UNKNOWN  5401
#define GBA_DIA_ERROR_NOT_AUTHORIZED    5402
#define GBA_DIA_ERROR_TRANSACTION_IDENTIFIER_INVALID 5403
/* Experimental-Result-Code values of Cx (vendor 10415, TS 29.229 6.2.2). */
#define GBA_DIA_CX_ERROR_USER_UNKNOWN   5001
#define GBA_DIA_CX_ERROR_IDENTITIES_DONT_MATCH 5002

/* ---- The node ------------------------------------------------------------ */

/* Applications the node advertises in its CER/CEA (a bit set). */
enum gba_dia_apps {
	GBA_DIA_ZH = 1 << 0,
	GBA_DIA_ZN = 1 << 1,
	GBA_DIA_CX = 1 << 2,   /* Cx's MAR/MAA (application 16777216) */
};

/* enum gba_dia_log_level, gba_dia_log_fn: gba/dia_types.h */

/* "debug", "info", "warn", "error" */
const char *gba_dia_log_level_name(enum gba_dia_log_level level);

#define GBA_DIA_ACCEPT_PEERS_MAX 4096

/* enum gba_dia_transport: gba/dia_types.h */

/* "tls", "tcp" */
const char *gba_dia_transport_name(enum gba_dia_transport t);
/* Parse "tls" or "tcp": 0, or -1 for anything else. */
int gba_dia_transport_parse(const char *s, enum gba_dia_transport *out);

struct gba_dia_config {
	const char *identity;        /* our Diameter identity (Origin-Host), an FQDN */
	const char *realm;           /* our realm (Origin-Realm) */
	/*
	 * The IP address (numeric) to listen on and to advertise as
	 * Host-IP-Address; NULL: 127.0.0.1.
	 */
	const char *address;
	uint16_t port;               /* TCP port to listen on; 0: do not listen */
	unsigned apps;               /* enum gba_dia_apps; 0: GBA_DIA_ZH */
	/*
	 * GBA_DIA_TLS (0, the default): every connection is TLS; tls_cert,
	 * tls_key and tls_ca are required.  GBA_DIA_TCP: plain TCP.
	 */
	enum gba_dia_transport transport;
	/*
	 * Connections from peers that were not added with gba_dia_add_peer:
	 * refused (0, the default), or accepted (1) - over TLS only when the
	 * peer's certificate names the identity of its CER.
	 */
	int accept_unknown_peers;
	/*
	 * Peers that may connect without gba_dia_add_peer: the Diameter
	 * identities (as sent in CER, compared without regard to case)
	 * separated by spaces; an entry "*.example.org" admits every identity
	 * that ends in ".example.org".  Over TLS the peer's certificate must
	 * name the identity it claims as well.  NULL or "": none.  When given,
	 * it is the whole list: accept_unknown_peers is then not looked at.
	 * At most GBA_DIA_ACCEPT_PEERS_MAX octets, each entry a valid name.
	 */
	const char *accept_peers;
	/*
	 * TLS (PEM files): the node's certificate (chain), which must name
	 * identity (CN or dNSName) and verify against tls_ca; its key; the CA
	 * (bundle) that signs the peers' certificates.  Required with
	 * GBA_DIA_TLS, not used with GBA_DIA_TCP.
	 */
	const char *tls_cert;
	const char *tls_key;
	const char *tls_ca;
	unsigned reconnect_s;        /* Tc: seconds between connection attempts; 0: 5 */
	unsigned watchdog_s;         /* Tw: device watchdog interval (>= 6); 0: 30 */
	unsigned threads;            /* threads handling received messages; 0: 4 */
	gba_dia_log_fn *log;         /* NULL: stderr */
	void *log_arg;
	enum gba_dia_log_level log_level;   /* least severe level passed on (0 is debug) */
};

struct gba_dia_peer {
	const char *identity;   /* its Diameter identity: the Origin-Host of its CER/CEA */
	const char *address;    /* IP address or host name to connect to */
	uint16_t port;          /* 0: 3868 */
	const char *realm;      /* its realm, checked in its CEA; NULL: not checked */
	/* TLS or plain TCP as the node's transport; over TLS its certificate
	 * must name identity. */
};

/* struct gba_dia: gba/dia_types.h */

/*
 * Initialise the process's Diameter node: freeDiameter's core, the
 * dictionaries of Zh and Zn, the applications to advertise.  Nothing is
 * sent or listened to before gba_dia_start().
 * GBA_ERR_INVALID_ARG for a bad identity, realm or address;
 * GBA_ERR_EXISTS when the process already has a node (even a closed one:
 * freeDiameter cannot be initialised twice in one process);
 * GBA_ERR_UNAVAILABLE when freeDiameter refuses to start.
 * A process whose SIGPIPE is at its default gets it ignored (freeDiameter's
 * TLS writes to a peer that hung up would otherwise kill it).
 */
gba_err gba_dia_open(struct gba_dia **out, const struct gba_dia_config *cfg);

/* Add a peer to connect to (and to keep reconnecting to); at most 16. */
gba_err gba_dia_add_peer(struct gba_dia *dia, const struct gba_dia_peer *peer);

/* Listen (if a port was given) and connect to the peers. */
gba_err gba_dia_start(struct gba_dia *dia);

/* 1 when the connection to the peer with that identity is open. */
int gba_dia_peer_is_open(struct gba_dia *dia, const char *identity);

/*
 * Wait up to timeout_ms for the connection to that peer to open:
 * GBA_OK, or GBA_ERR_UNAVAILABLE.
 */
gba_err gba_dia_wait_peer(struct gba_dia *dia, const char *identity, unsigned timeout_ms);

/* Stop the node: close connections (DPR), stop the threads, free it. */
void gba_dia_close(struct gba_dia *dia);

/*
 * The numeric local address this host uses to reach host:port (port 0:
 * 3868), into out: what a client node should advertise as its
 * Host-IP-Address.  Nothing is sent.  GBA_ERR_UNAVAILABLE when the name
 * does not resolve or there is no route.
 */
gba_err gba_dia_local_address(const char *host, uint16_t port, char *out, size_t size);

/* The node's own identity and realm, as configured. */
const char *gba_dia_identity(const struct gba_dia *dia);
const char *gba_dia_realm(const struct gba_dia *dia);

/* Log a line through the node's log function (for the roles built on it). */
void gba_dia_log(const struct gba_dia *dia, enum gba_dia_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- Results ------------------------------------------------------------- */

/* The outcome an answer carries. */
struct gba_dia_result {
	uint32_t result_code;   /* Result-Code, 0 when absent */
	uint32_t exp_vendor;    /* Experimental-Result's Vendor-Id, 0 when absent */
	uint32_t exp_code;      /* Experimental-Result-Code, 0 when absent */
};

/* The code that decides: Result-Code, or else Experimental-Result-Code. */
static inline uint32_t gba_dia_result_value(const struct gba_dia_result *r)
{
	return r->result_code ? r->result_code : r->exp_code;
}

/*
 * What an answer's outcome means to the requester:
 *   2xxx                                  GBA_OK
 *   5401 (3GPP) DIAMETER_ERROR_IDENTITY_UNKNOWN,
 *   5403 (3GPP) ..._TRANSACTION_IDENTIFIER_INVALID   GBA_ERR_NOT_FOUND
 *   5402 (3GPP) DIAMETER_ERROR_NOT_AUTHORIZED        GBA_ERR_NOT_AUTHORIZED
 *   3002 UNABLE_TO_DELIVER, 3004 TOO_BUSY, 4xxx      GBA_ERR_UNAVAILABLE
 *   any other (permanent) failure                    GBA_ERR_UNSUPPORTED
 *   no result at all                                 GBA_ERR_PARSE
 * Roles refine this where the request gives a code more meaning (a 5004
 * answer to a resynchronisation MAR is GBA_ERR_AUTS_INVALID).
 */
gba_err gba_dia_result_err(const struct gba_dia_result *r);

/* "DIAMETER_SUCCESS", "DIAMETER_ERROR_IDENTITY_UNKNOWN", ...; "?" if unknown. */
const char *gba_dia_result_name(uint32_t code);

#ifdef __cplusplus
}
#endif
#endif /* GBA_DIAMETER_H */
