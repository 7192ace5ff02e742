/*
 * zn_http.c - Zn as Nbsp_GBA over HTTPS (zn_http.h): libmicrohttpd with
 * mutual TLS, the BootstrappingInfoRequest parsed with jansson, the answer
 * from zn_server_answer() written by hand so that every buffer that held
 * a key is wiped: the response body is ours until libmicrohttpd hands it
 * back to a callback that wipes it.  (The USS list holds no key: jansson
 * writes it.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <microhttpd.h>

#include <gba/diameter_zn.h>
#include <gba/ubxml.h>
#include <gba/util.h>

#include "../config.h"
#include "gba_http.h"
#include "zn_http.h"
#include "zn_nbsp_uss.h"

#define BODY_MAX 4096
#define REPLY_MAX (8 * GBA_ZN_USS_MAX + 4096)   /* the USS list, escaped, and the rest */

struct zn_http {
	struct gba_http http;
	struct zn_server *zn;
	const struct gba_log *log;
	char *cert, *key, *ca;
};

/* One request's body as it arrives. */
struct upload {
	char data[BODY_MAX];
	size_t len;
	int too_large;
};

/* A response body that is wiped when libmicrohttpd is done with it. */
struct reply {
	size_t cap, len;
	char data[];
};

static char *read_pem(const char *path, char *err, size_t err_size)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f) {
		snprintf(err, err_size, "zn: %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && n < (1L << 20) &&
	    !fseek(f, 0, SEEK_SET) && (buf = calloc(1, (size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (!buf)
		snprintf(err, err_size, "zn: %s: cannot read it", path);
	return buf;
}

/* ---- Writing the JSON answer ----------------------------------------------------- */

static void put(struct reply *r, const char *s, size_t n)
{
	if (r->len + n < r->cap) {
		memcpy(r->data + r->len, s, n);
		r->len += n;
	} else {
		r->len = r->cap;   /* overflow: noticed by the caller */
	}
}

static void put_str(struct reply *r, const char *s, size_t n)
{
	put(r, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(r, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(r, esc, 6);
		} else {
			put(r, (const char *)&c, 1);
		}
	}
	put(r, "\"", 1);
}

static void put_field(struct reply *r, const char *name, const char *v, size_t n, int first)
{
	if (!first)
		put(r, ",", 1);
	put_str(r, name, strlen(name));
	put(r, ":", 1);
	put_str(r, v, n);
}

/* A key as 64 hex digits (TS 29.309's KeyMaterial). */
static void put_key(struct reply *r, const char *name, const uint8_t key[32])
{
	char hex[65];

	if (gba_hex_encode(hex, sizeof(hex), key, 32))
		hex[0] = '\0';
	put_field(r, name, hex, strlen(hex), 0);
	gba_wipe(hex, sizeof(hex));
}

static void put_time(struct reply *r, const char *name, int64_t t)
{
	char when[GBA_XS_DATETIME_MAX];

	if (gba_xs_datetime_format(when, sizeof(when), (time_t)t))
		strcpy(when, "");
	put_field(r, name, when, strlen(when), 0);
}

/* The USS list as JSON (no key in it); -1 when the BIA's list is not XML. */
static int put_uss_list(struct reply *r, const struct gba_zn_bia *bia)
{
	json_t *list = NULL;
	char *text;

	if (!bia->uss_len)
		return 0;
	if (zn_nbsp_uss_list(bia->uss, bia->uss_len, &list))
		return -1;
	text = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	if (!text)
		return -1;
	put(r, ",\"ussList\":", 11);
	put(r, text, strlen(text));
	free(text);
	return 0;
}

/* BootstrappingInfoResponse; -1 when it cannot be written. */
static int write_keys(struct reply *r, const struct gba_zn_bia *bia)
{
	put(r, "{", 1);
	put_field(r, "impi", bia->impi, strlen(bia->impi), 1);
	put_key(r, "meKeyMaterial", bia->me_key);
	if (bia->has_uicc_key)
		put_key(r, "uiccKeyMaterial", bia->uicc_key);
	put_time(r, "keyExpiryTime", bia->expiry);
	put_time(r, "bootstrappingInfoCreationTime", bia->created);
	put_field(r, "gbaType", "3G_GBA", 6, 0);
	if (put_uss_list(r, bia))
		return -1;
	put(r, "}", 1);
	return 0;
}

static struct reply *reply_of(void *data)
{
	return (struct reply *)((char *)data - offsetof(struct reply, data));
}

static void free_reply(void *data)
{
	struct reply *r = reply_of(data);

	gba_wipe(r->data, r->cap);
	free(r);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, unsigned status, struct reply *r)
{
	const char *type = status == 200 ? "application/json" : ZN_HTTP_PROBLEM;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer_with_free_callback(r->len, r->data, free_reply);
	if (!resp) {
		free_reply(r->data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static struct reply *reply_new(size_t cap)
{
	struct reply *r = malloc(sizeof(*r) + cap);

	if (r) {
		r->cap = cap;
		r->len = 0;
	}
	return r;
}

/* TS 29.571 ProblemDetails: {"status", "cause", "detail"} (the fields used). */
static struct reply *problem(unsigned status, const char *cause, const char *detail)
{
	struct reply *r = reply_new(512);
	char num[16];

	if (!r)
		return NULL;
	snprintf(num, sizeof(num), "%u", status);
	put(r, "{\"status\":", 10);
	put(r, num, strlen(num));
	put_field(r, "cause", cause, strlen(cause), 0);
	if (detail)
		put_field(r, "detail", detail, strlen(detail), 0);
	put(r, "}", 1);
	return r;
}

static enum MHD_Result send_problem(struct MHD_Connection *conn, unsigned status,
				    const char *cause, const char *detail)
{
	struct reply *r = problem(status, cause, detail);

	return r ? send_reply(conn, status, r) : MHD_NO;
}

/* ---- The requester: its client certificate ------------------------------------------- */

static int client_identity(struct MHD_Connection *conn, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);

	return zn_http_peer(ci ? (gnutls_session_t)ci->tls_session : NULL, out, size);
}

int zn_http_peer(gnutls_session_t tls, char *out, size_t size)
{
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;
	unsigned status = 1, n = 0;
	int ret = -1;

	if (!tls || gnutls_certificate_verify_peers2(tls, &status) || status)
		return -1;
	certs = gnutls_certificate_get_peers(tls, &n);
	if (!certs || !n || gnutls_x509_crt_init(&crt))
		return -1;
	if (!gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER)) {
		for (unsigned i = 0; ret && i < 16; i++) {
			size_t len = size - 1;
			int type = gnutls_x509_crt_get_subject_alt_name(crt, i, out, &len, NULL);
			if (type < 0)
				break;
			if (type == GNUTLS_SAN_DNSNAME) {
				out[len] = '\0';
				ret = 0;
			}
		}
		if (ret) {
			size_t len = size;
			ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
							   out, &len) ? -1 : 0;
		}
	}
	gnutls_x509_crt_deinit(crt);
	return ret;
}

/* ---- The request --------------------------------------------------------------------- */

struct http_bir {
	struct gba_zn_bir bir;
	char btid[GBA_ZN_BTID_MAX + 1];
	uint8_t naf_id[GBA_ZN_NAF_ID_MAX + 3];
	char service[256];
	char peer[256];
};

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* nafId {nafFqdn, uaSecProtId} as NAF_Id = FQDN || Ua id; NULL or what is wrong. */
static const char *parse_naf_id(json_t *naf, struct http_bir *b)
{
	const char *fqdn = NULL, *ua = NULL;
	size_t n = 0, fqdn_len;

	if (json_unpack(naf, "{s:s, s:s}", "nafFqdn", &fqdn, "uaSecProtId", &ua))
		return "nafId needs nafFqdn and uaSecProtId (strings)";
	fqdn_len = strlen(fqdn);
	if (!fqdn_len || fqdn_len > GBA_ZN_NAF_ID_MAX - 5 || !printable(fqdn) ||
	    fqdn_len != json_string_length(json_object_get(naf, "nafFqdn")))
		return "nafId.nafFqdn is not an FQDN";
	if (strlen(ua) != 10 || gba_hex_decode(b->naf_id + fqdn_len, 5, &n, ua, 10) || n != 5)
		return "nafId.uaSecProtId is not 10 hex digits";
	memcpy(b->naf_id, fqdn, fqdn_len);
	b->bir.naf_id = b->naf_id;
	b->bir.naf_id_len = fqdn_len + 5;
	return NULL;
}

/* gsIds [uint32, ...]: the first is the GAA-Service-Identifier. */
static const char *parse_gs_ids(json_t *ids, struct http_bir *b)
{
	size_t i;
	json_t *v;

	if (!json_is_array(ids))
		return "gsIds is not an array";
	json_array_foreach(ids, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)UINT32_MAX)
			return "gsIds holds an item that is not a uint32";
	}
	if (json_array_size(ids)) {
		snprintf(b->service, sizeof(b->service), "%lld",
			 (long long)json_integer_value(json_array_get(ids, 0)));
		b->bir.gaa_service_id = b->service;
	}
	return NULL;
}

/*
 * The BootstrappingInfoRequest as a BIR; NULL or what is wrong with it
 * (*missing: a required member is absent).
 */
static const char *parse_body(const char *data, size_t len, struct http_bir *b, int *missing)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *btid, *naf, *aware, *ids;
	const char *why = NULL;

	*missing = 0;
	if (!json_is_object(root)) {
		json_decref(root);
		return "body is not a JSON object";
	}
	btid = json_object_get(root, "btId");
	naf = json_object_get(root, "nafId");
	aware = json_object_get(root, "gbaUAware");
	ids = json_object_get(root, "gsIds");
	if (!btid || !naf) {
		*missing = 1;
		why = "btId and nafId are required";
	} else if (!json_is_string(btid) || !json_string_length(btid) ||
		   json_string_length(btid) > GBA_ZN_BTID_MAX || !printable(json_string_value(btid)) ||
		   strlen(json_string_value(btid)) != json_string_length(btid)) {
		why = "btId is not a B-TID";
	} else if (aware && !json_is_boolean(aware)) {
		why = "gbaUAware is not a boolean";
	} else if (!json_is_object(naf)) {
		why = "nafId is not a NafId object";
	} else {
		why = parse_naf_id(naf, b);
	}
	if (!why && ids)
		why = parse_gs_ids(ids, b);
	if (!why) {
		strcpy(b->btid, json_string_value(btid));
		b->bir.btid = b->btid;
		b->bir.btid_len = strlen(b->btid);
		b->bir.gba_u_aware = aware && json_is_true(aware);
	}
	json_decref(root);
	return why;
}

/* The answer to a parsed BIR: its status, and its body in *out (NULL: no memory). */
static unsigned answer(struct zn_server *zn, struct http_bir *b, struct reply **out)
{
	static __thread char uss[GBA_ZN_USS_MAX + 1];
	struct gba_zn_bia bia;
	struct reply *r;
	gba_err err;

	b->bir.origin_host = b->peer;
	b->bir.peer = b->peer;
	memset(&bia, 0, sizeof(bia));
	bia.uss = uss;
	bia.uss_size = sizeof(uss);
	err = zn_server_answer(zn, &b->bir, &bia);
	if (err == GBA_ERR_NOT_FOUND) {
		*out = problem(404, "BTID_NOT_FOUND", "no live session for btId");
		return 404;
	}
	if (err == GBA_ERR_NOT_AUTHORIZED) {
		*out = problem(403, "NAF_NOT_AUTHORIZED", "this NAF may not have keys for btId");
		return 403;
	}
	r = err ? NULL : reply_new(REPLY_MAX);
	if (r && write_keys(r, &bia))
		r->len = r->cap;
	gba_wipe(&bia, sizeof(bia));
	if (!r || r->len >= r->cap) {
		if (r)
			free_reply(r->data);
		*out = problem(500, "SYSTEM_FAILURE", NULL);
		return 500;
	}
	*out = r;
	return 200;
}

unsigned zn_http_answer(struct zn_server *zn, const char *peer, const char *body, size_t len,
			char **reply, size_t *reply_len)
{
	struct http_bir b;
	struct reply *r = NULL;
	const char *why;
	unsigned status;
	int missing;

	memset(&b, 0, sizeof(b));
	snprintf(b.peer, sizeof(b.peer), "%s", peer);
	why = parse_body(body, len, &b, &missing);
	if (why) {
		r = problem(400, missing ? "MANDATORY_IE_MISSING" : "MANDATORY_IE_INCORRECT", why);
		status = 400;
	} else {
		status = answer(zn, &b, &r);
	}
	*reply = r ? r->data : NULL;
	*reply_len = r ? r->len : 0;
	return r ? status : 0;
}

char *zn_http_problem(unsigned status, const char *cause, const char *detail, size_t *len)
{
	struct reply *r = problem(status, cause, detail);

	*len = r ? r->len : 0;
	return r ? r->data : NULL;
}

void zn_http_reply_free(char *reply)
{
	if (reply)
		free_reply(reply);
}

/* application/json, parameters allowed (TS 29.500 5.4). */
static int content_type_ok(struct MHD_Connection *conn)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	size_t n = strlen("application/json");

	return ct && !strncasecmp(ct, "application/json", n) &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum MHD_Result serve(struct zn_http *h, struct MHD_Connection *conn,
			     const struct upload *u)
{
	char peer[256], *body;
	size_t len;
	unsigned status;

	if (client_identity(conn, peer, sizeof(peer)))
		return send_problem(conn, 403, "NAF_NOT_AUTHORIZED",
				    "no verified client certificate");
	if (u->too_large)
		return send_problem(conn, 413, "MANDATORY_IE_INCORRECT", "body too large");
	if (!content_type_ok(conn))
		return send_problem(conn, 415, "UNSUPPORTED_MEDIA_TYPE",
				    "Content-Type must be application/json");
	status = zn_http_answer(h->zn, peer, u->data, u->len, &body, &len);
	if (!status)
		return MHD_NO;
	return send_reply(conn, status, reply_of(body));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct upload *u = *con_cls;

	(void)version;
	if (!u) {
		if (strcmp(url, ZN_HTTP_PATH))
			return send_problem(conn, 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND", url);
		if (strcmp(method, "POST"))
			return send_problem(conn, 405, "METHOD_NOT_ALLOWED", method);
		u = calloc(1, sizeof(*u));
		if (!u)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (u->len + *upload_data_size > sizeof(u->data))
			u->too_large = 1;
		else
			memcpy(u->data + u->len, upload_data, *upload_data_size);
		if (!u->too_large)
			u->len += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return serve(cls, conn, u);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static void free_http(struct zn_http *h)
{
	free(h->cert);
	if (h->key) {
		gba_wipe(h->key, strlen(h->key));
		free(h->key);
	}
	free(h->ca);
	free(h);
}

/*
 * Two threads, each polling (lib/http/gba_http.h).  Its TLS errors (a NAF
 * with a wrong certificate) stay warnings once running: they are how an
 * operator finds a misconfigured NAF.
 */
static int start_daemon(struct zn_http *h, const struct sockaddr_storage *addr,
			socklen_t addr_len)
{
	const struct MHD_OptionItem more[] = {
		GBA_HTTP_OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL),
		GBA_HTTP_OPT(MHD_OPTION_END, 0, NULL),
	};
	struct gba_http_opts o = {
		.name = "zn http", .log = h->log, .run_level = GBA_LOG_WARN,
		.addr = (const struct sockaddr *)addr, .addr_len = addr_len,
		.threads = 2, .max_connections = 1024, .connection_timeout = 30,
		.tls_cert = h->cert, .tls_key = h->key, .tls_trust = h->ca,
		.options = more, .handler = on_request, .handler_cls = h,
	};

	return gba_http_start(&h->http, &o);
}

int zn_http_start(struct zn_http **out, const struct zn_http_config *cfg, struct zn_server *zn,
		  const struct gba_log *log, char *err, size_t err_size)
{
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct zn_http *h;

	*out = NULL;
	if (gba_conf_listen_addr(cfg->listen, &addr, &addr_len, err, err_size))
		return -1;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, err_size, "zn: out of memory");
		return -1;
	}
	h->zn = zn;
	h->log = log;
	if (!(h->cert = read_pem(cfg->tls_cert, err, err_size)) ||
	    !(h->key = read_pem(cfg->tls_key, err, err_size)) ||
	    !(h->ca = read_pem(cfg->tls_ca, err, err_size))) {
		free_http(h);
		return -1;
	}
	if (start_daemon(h, &addr, addr_len)) {
		snprintf(err, err_size, "zn: cannot start HTTPS on %s (see the log above)",
			 cfg->listen);
		free_http(h);
		return -1;
	}
	*out = h;
	return 0;
}

void zn_http_stop(struct zn_http *h)
{
	if (!h)
		return;
	gba_http_stop(&h->http);
	free_http(h);
}
