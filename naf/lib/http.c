/*
 * http.c - Zn over HTTPS/JSON from the NAF: one libcurl easy handle per
 * request (so any thread may fetch), the answer read with jansson.  The
 * buffers that held key material - the response body and jansson's copies
 * of the two base64 strings - are wiped before they are freed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include <gba/ubxml.h>
#include <gba/util.h>

#include "http.h"

#define RESPONSE_MAX (8 * GBA_NAF_USS_MAX + 4096)

struct naf_http {
	char url[1024];
	char *cert, *key, *ca;
	char *service;
	unsigned timeout_ms;
	int aware;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

gba_err naf_http_open(struct naf_http **out, const struct gba_naf_config *cfg)
{
	struct naf_http *h;

	*out = NULL;
	if (!cfg->tls_cert || !cfg->tls_key || !cfg->tls_ca ||
	    strncmp(cfg->bsf_url, "https://", 8) ||
	    strlen(cfg->bsf_url) + sizeof(NAF_HTTP_PATH) > sizeof(h->url))
		return GBA_ERR_INVALID_ARG;
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc)
		return GBA_ERR_UNAVAILABLE;
	h = calloc(1, sizeof(*h));
	if (!h)
		return GBA_ERR_NO_MEMORY;
	snprintf(h->url, sizeof(h->url), "%.*s%s", (int)strcspn(cfg->bsf_url + 8, "/") + 8,
		 cfg->bsf_url, NAF_HTTP_PATH);
	h->cert = strdup(cfg->tls_cert);
	h->key = strdup(cfg->tls_key);
	h->ca = strdup(cfg->tls_ca);
	h->service = cfg->gaa_service_id ? strdup(cfg->gaa_service_id) : NULL;
	h->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : GBA_NAF_DEFAULT_TIMEOUT_MS;
	h->aware = cfg->gba_u_aware ? 1 : 0;
	if (!h->cert || !h->key || !h->ca || (cfg->gaa_service_id && !h->service)) {
		naf_http_close(h);
		return GBA_ERR_NO_MEMORY;
	}
	*out = h;
	return GBA_OK;
}

void naf_http_close(struct naf_http *h)
{
	if (!h)
		return;
	free(h->cert);
	free(h->key);
	free(h->ca);
	free(h->service);
	free(h);
}

/* ---- The exchange ------------------------------------------------------------------ */

struct body {
	char *data;
	size_t len, cap;
	int too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;

	if (b->len + len >= b->cap) {
		b->too_large = 1;
		return 0;   /* stops the transfer */
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static char *request_json(const struct naf_http *h, const char *btid, const uint8_t *naf_id,
			  size_t naf_id_len)
{
	char b64[GBA_NAF_ID_MAX * 2];
	size_t n = 0;
	json_t *o;
	char *text = NULL;

	if (gba_base64_encode(b64, sizeof(b64), &n, naf_id, naf_id_len))
		return NULL;
	o = json_pack("{s:s, s:s, s:b}", "btid", btid, "nafId", b64, "gbaUAwareness", h->aware);
	if (o && h->service && json_object_set_new(o, "gaaServiceId", json_string(h->service)))
		json_object_clear(o);
	if (o)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static gba_err curl_err(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return GBA_ERR_TIMEOUT;
	case CURLE_WRITE_ERROR:
		return GBA_ERR_PARSE;   /* the answer was over RESPONSE_MAX */
	default:
		return GBA_ERR_UNAVAILABLE;   /* no connection, TLS refused, ... */
	}
}

static gba_err post(const struct naf_http *h, const char *json, struct body *b, long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	if (c && hdr) {
		curl_easy_setopt(c, CURLOPT_URL, h->url);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, h->key);
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? GBA_OK : (rc == CURLE_OUT_OF_MEMORY ? GBA_ERR_NO_MEMORY
								    : curl_err(rc));
}

/* A base64 key of 32 octets; the string jansson holds is wiped either way. */
static int read_key(json_t *v, uint8_t out[32])
{
	char *s = v && json_is_string(v) ? (char *)json_string_value(v) : NULL;
	size_t n = 0;
	int ok;

	if (!s)
		return -1;
	ok = !gba_base64_decode(out, 32, &n, s, strlen(s)) && n == 32;
	gba_wipe(s, strlen(s));
	return ok ? 0 : -1;
}

static int read_time(json_t *v, int64_t *out)
{
	const char *s = json_string_value(v);
	time_t t;

	if (!s || gba_xs_datetime_parse(s, strlen(s), &t))
		return -1;
	*out = (int64_t)t;
	return 0;
}

gba_err naf_http_read_answer(const char *data, size_t len, struct gba_naf_key *out)
{
	json_t *root = json_loadb(data, len, 0, NULL);
	json_t *uicc = root ? json_object_get(root, "uiccKeyMaterial") : NULL;
	const char *impi = json_string_value(json_object_get(root, "impi"));
	const char *uss = json_string_value(json_object_get(root, "ussList"));
	const char *type = json_string_value(json_object_get(root, "gbaType"));
	int bad = !root || !impi || !*impi || strlen(impi) > GBA_NAF_IMPI_MAX;

	/* Both keys are read (and so wiped in jansson's copy) whatever else is wrong. */
	bad |= read_key(json_object_get(root, "meKeyMaterial"), out->ks_naf);
	if (uicc) {
		bad |= read_key(uicc, out->ks_int_naf);
		out->has_int_naf = out->gba_u = 1;
	}
	bad |= read_time(json_object_get(root, "keyExpiryTime"), &out->expiry);
	if (json_object_get(root, "bootstrapInfoCreationTime"))
		bad |= read_time(json_object_get(root, "bootstrapInfoCreationTime"), &out->created);
	if (uss && strlen(uss) > GBA_NAF_USS_MAX)
		bad = 1;
	if (!bad) {
		strcpy(out->impi, impi);
		out->gba_type = type && !strcmp(type, "2G") ? 1 : 0;
		out->uss_len = uss ? strlen(uss) : 0;
		memcpy(out->uss, uss ? uss : "", out->uss_len + 1);
	}
	json_decref(root);
	return bad ? GBA_ERR_PARSE : GBA_OK;
}

static gba_err status_err(long status)
{
	switch (status) {
	case 200:
		return GBA_OK;
	case 404:
		return GBA_ERR_NOT_FOUND;        /* B-TID unknown or expired (5403) */
	case 403:
		return GBA_ERR_NOT_AUTHORIZED;   /* 5402 */
	case 503:
		return GBA_ERR_UNAVAILABLE;
	default:
		return GBA_ERR_UNSUPPORTED;
	}
}

gba_err naf_http_fetch(struct naf_http *h, const char *btid, const uint8_t *naf_id,
		       size_t naf_id_len, struct gba_naf_key *out)
{
	struct body b = { 0 };
	char *json = request_json(h, btid, naf_id, naf_id_len);
	long status = 0;
	gba_err err;

	b.cap = RESPONSE_MAX;
	b.data = malloc(b.cap);
	if (!json || !b.data) {
		free(json);
		free(b.data);
		return GBA_ERR_NO_MEMORY;
	}
	b.data[0] = '\0';
	err = post(h, json, &b, &status);
	if (!err)
		err = status_err(status);
	if (!err)
		err = naf_http_read_answer(b.data, b.len, out);
	gba_wipe(b.data, b.cap);
	free(b.data);
	free(json);
	return err;
}
