/*
 * internal.h - what the parts of libgba-diameter share: the node, the
 * dictionary objects, AVP helpers and the blocking request/answer call.
 * Not installed.
 */
#ifndef GBA_DIA_INTERNAL_H
#define GBA_DIA_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include <gba/diameter.h>
#include <gba/diameter_zh.h>
#include <gba/diameter_zn.h>

#define GAA_AVP_FIRST 400
#define GAA_AVP_LAST 420
#define GAA_AVP_COUNT (GAA_AVP_LAST - GAA_AVP_FIRST + 1)

/* The dictionary objects the roles use, looked up once at start. */
struct dia_dict {
	struct dict_object *vendor_3gpp;
	struct dict_object *app_zh, *app_zn, *app_cx;
	struct dict_object *cmd_mar, *cmd_maa, *cmd_bir, *cmd_bia;
	/* RFC 6733 base AVPs */
	struct dict_object *session_id, *origin_host, *origin_realm;
	struct dict_object *dest_host, *dest_realm, *user_name;
	struct dict_object *auth_session_state, *vsai, *vendor_id, *auth_app_id;
	struct dict_object *result_code, *exp_result, *exp_result_code;
	struct dict_object *failed_avp, *error_message, *proxy_info, *route_record;
	/* Zh (Cx AVPs); server_name is Cx's own */
	struct dict_object *public_identity, *server_name, *sip_number_auth_items, *sip_auth_scheme;
	struct dict_object *sip_authenticate, *sip_authorization, *sip_auth_context;
	struct dict_object *sip_auth_data_item, *sip_item_number, *conf_key, *integ_key;
	/* GAA AVPs 400..420, by code - 400 */
	struct dict_object *gaa[GAA_AVP_COUNT];
};

/* files.c: freeDiameter's configuration file and the TLS files it insists
 * on, in a private directory removed once freeDiameter has read them. */
struct dia_files {
	char dir[256];
	char conf[300], cert[300], key[300], dh[300];
	int made_cert;   /* cert/key are ours (ephemeral), not the caller's */
};
int dia_files_prepare(struct dia_files *f, const char *identity, int make_cert);
void dia_files_remove(struct dia_files *f);

/* shutdown.c: freeDiameter's shutdown, its queues empty of threads first. */
void dia_core_stop(void);

/* listen_wait.c: 0 once a socket listens on TCP port (waits up to timeout_ms), else -1. */
int dia_wait_listening(uint16_t port, unsigned timeout_ms);

/* A role's handler of received requests (see zh_server.c). */
struct dia_zh_server {
	gba_zh_mar_handler *fn;
	void *arg;
	struct disp_hdl *hdl, *hdl_cx;
};

/* The BSF's handler of BIRs (see zn_server.c). */
struct dia_zn_server {
	gba_zn_bir_handler *fn;
	void *arg;
	struct disp_hdl *hdl;
};

/* A peer added with gba_dia_add_peer, and whether the certificate of its
 * open connection names it (peer_auth.c; TLS only). */
#define DIA_CONF_PEERS_MAX 16
struct dia_conf_peer {
	char identity[256];
	atomic_int proven;
};

/*
 * stats.c: messages on the peer connections by peer, direction, command
 * (0: other) and result (answers), for gba/diameter_metrics.h.
 */
#define DIA_STATS_PEERS 64
#define DIA_STATS_SERIES 512
struct dia_series {
	uint16_t peer;       /* index into peers */
	uint8_t out, request;
	uint32_t command, result;
	uint64_t n;
};
struct dia_stats {
	pthread_mutex_t mtx;
	char peers[DIA_STATS_PEERS][256];
	unsigned n_peers, n_series;
	struct dia_series series[DIA_STATS_SERIES];
	uint64_t untracked;   /* a table was full */
};
void dia_stats_init(struct dia_stats *st);
void dia_stats_destroy(struct dia_stats *st);
/* From the node's hook: a message sent (out) to or received from peer. */
void dia_stats_message(struct gba_dia *dia, struct msg *msg, struct peer_hdr *peer, int out);

struct gba_dia {
	struct dia_dict dict;
	struct dia_files files;
	char identity[256];
	char realm[256];
	unsigned apps;
	int accept_unknown_peers;
	char accept_peers[GBA_DIA_ACCEPT_PEERS_MAX + 1];   /* "" or the config's list */
	enum gba_dia_transport transport;
	uint16_t listen_port;   /* 0: no server */
	struct dia_conf_peer conf_peers[DIA_CONF_PEERS_MAX];
	unsigned n_conf_peers;   /* written before gba_dia_start() only */
	struct fd_rt_out_hdl *rt_out;
	int started;
	gba_dia_log_fn *log;
	void *log_arg;
	enum gba_dia_log_level log_level;
	struct fd_hook_hdl *hook;
	struct dia_zh_server zh_server;
	struct dia_zn_server zn_server;
	struct dia_stats stats;
};

/*
 * peer_auth.c: the peer's certificate must name its Diameter identity.
 * dia_cert_names: 1 when certs[0] (DER) has a subject CN or a dNSName
 * equal to id (len octets, case ignored, no wildcards).
 * dia_peer_info_proven: the same for a peer's runtime certificate list.
 * dia_peer_opened: from HOOK_PEER_CONNECT_SUCCESS, before the peer is OPEN.
 * dia_peer_trusted: 0 for a configured peer whose connection failed that
 * check (TLS nodes); requests from it are refused, none are routed to it.
 */
int dia_cert_names(const gnutls_datum_t *certs, unsigned count, const char *id, size_t len);
int dia_peer_info_proven(const struct peer_info *info);
void dia_peer_opened(struct gba_dia *dia, struct peer_hdr *peer);
int dia_peer_trusted(struct gba_dia *dia, const char *id, size_t len);
int dia_peer_auth_register(struct gba_dia *dia);

/* dict.c: define what freeDiameter lacks and look up what the roles use. */
int dia_dict_load(struct dia_dict *d);

/* avp.c: building and reading AVPs. */
int avp_add_os(msg_or_avp *parent, struct dict_object *model, const uint8_t *data, size_t len);
int avp_add_str(msg_or_avp *parent, struct dict_object *model, const char *s);
int avp_add_u32(msg_or_avp *parent, struct dict_object *model, uint32_t v);
int avp_add_group(msg_or_avp *parent, struct dict_object *model, struct avp **group);
int avp_add_vsai(struct gba_dia *dia, msg_or_avp *parent, uint32_t app_id);
/* The header of the first child of parent with that code and vendor (0:
 * none), or NULL; *avp (may be NULL) gets the child, *count (may be NULL)
 * how many there are.  A grouped AVP's header has no value. */
struct avp_hdr *avp_find(msg_or_avp *parent, uint32_t code, uint32_t vendor, struct avp **avp,
			 unsigned *count);
/* Overwrite the values of the secret AVPs (CK, IK, SIP-Authorization,
 * SIP-Authenticate, key material) anywhere in a message. */
void avp_wipe_secrets(struct msg *msg);

/* result.c: the outcome of an answer. */
void dia_result_read(struct msg *answer, struct gba_dia_result *r);

/*
 * call.c: send a request and wait for its answer, at most timeout_ms.
 * On GBA_OK *answer is the answer (free it with fd_msg_free after
 * wiping); the request is consumed in every case.  GBA_ERR_UNAVAILABLE
 * when it could not be sent, GBA_ERR_TIMEOUT when no answer came.
 */
gba_err dia_call(struct gba_dia *dia, struct msg **request, unsigned timeout_ms,
		 struct msg **answer);

/*
 * call.c: send a request and return; freeDiameter then calls exactly one
 * of anscb (the answer came) and expirecb (none within timeout_ms; the
 * callback frees the request), on one of its threads, with data.  The
 * request is consumed in every case; on an error (GBA_ERR_UNAVAILABLE:
 * not sent) neither is called.
 */
gba_err dia_send(struct gba_dia *dia, struct msg **request, unsigned timeout_ms,
		 void (*anscb)(void *, struct msg **),
		 void (*expirecb)(void *, DiamId_t, size_t, struct msg **), void *data);

/* answer.c: what the servers' answers share. */

/* Why a received request is refused: the AVP to show in Failed-AVP (its
 * value) and its dictionary model, or missing_vsai for a request without
 * Vendor-Specific-Application-Id (5005 instead of 5004). */
struct dia_reject {
	int missing_vsai;
	struct avp_hdr *bad;
	struct dict_object *bad_model;
	const char *why;
};

/* 1 when s holds no control character. */
int dia_printable(const uint8_t *s, size_t n);
/* A NUL-terminated copy, cut to size - 1 octets. */
void dia_copy_text(char *dst, size_t size, const uint8_t *s, size_t len);
/* Record the refusal in r; returns -1, so that checks can `return dia_reject(...)`. */
int dia_reject(struct dia_reject *r, struct avp_hdr *h, struct dict_object *model,
	       const char *why);
/* Fill ans: Vendor-Specific-Application-Id {app}, Result-Code or
 * Experimental-Result {10415, code}, Auth-Session-State, Origin-Host/Realm.
 * Non-zero (an errno) when an AVP cannot be added. */
int dia_answer_result(struct gba_dia *dia, struct msg *ans, uint32_t app, uint32_t code);
int dia_answer_experimental(struct gba_dia *dia, struct msg *ans, uint32_t app, uint32_t code);
/* 5004 with r->why as Error-Message; *failed is an empty Failed-AVP for the
 * caller to put the bad value in (how depends on the AVP), or NULL when r
 * names no value. */
int dia_answer_bad_value(struct gba_dia *dia, struct msg *ans, uint32_t app,
			 const struct dia_reject *r, struct avp **failed);
/* 5005 for a missing Vendor-Specific-Application-Id, shown in Failed-AVP. */
int dia_answer_missing_vsai(struct gba_dia *dia, struct msg *ans, uint32_t app,
			    const struct dia_reject *r);

/* zh_client.c and zh_server.c, apart from the network (for the tests). */
int dia_zh_build_mar(struct gba_dia *dia, const struct gba_zh_request *req, struct msg **out);
gba_err dia_zh_read_maa(struct msg *maa, const struct gba_zh_request *req,
			struct gba_zh_answer *ans, char *guss, size_t guss_size);
/* Turn the request *msg into its answer (the handler's vector, 5401, or
 * 5004 for a bad value). */
int dia_zh_answer_mar(struct gba_dia *dia, struct msg **msg);

/* zn_client.c and zn_server.c, apart from the network (for the tests). */
int dia_zn_build_bir(struct gba_dia *dia, const struct gba_zn_request *req, struct msg **out);
gba_err dia_zn_read_bia(struct msg *bia, struct gba_zn_answer *ans, char *uss, size_t uss_size);
/* Turn the request *msg into its answer (the handler's keys, 5402, 5403,
 * or 5004/5005 for a malformed BIR). */
int dia_zn_answer_bir(struct gba_dia *dia, struct msg **msg);

#endif /* GBA_DIA_INTERNAL_H */
