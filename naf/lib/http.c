/*
 * http.c - Zn as Nbsp_GBA (TS 29.309) from the NAF: a libcurl easy handle
 * per request at a time, taken from a small pool so that its connection
 * (TLS, HTTP/2 or HTTP/1.1 keep-alive) serves the next request too and any
 * thread may fetch; POST of a BootstrappingInfoRequest, the
 * BootstrappingInfoResponse read with jansson.  The buffers that held key material - the response body and
 * jansson's copies of the two hex strings - are wiped before they are
 * freed.
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
#define POOL_MAX 16   /* idle handles (and so connections) kept */

struct naf_http {
	char url[1024];
	char *cert, *key, *ca;     /* NULL over cleartext h2c */
	char *service;
	unsigned timeout_ms;
	int aware;
	long curl_version;         /* CURL_HTTP_VERSION_* */
	struct curl_slist *hdr;
	pthread_mutex_t lock;      /* the pool */
	CURL *idle[POOL_MAX];
	int n_idle;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The apiRoot without its trailing slashes. */
static size_t api_root_len(const char *url)
{
	size_t n = strlen(url);

	while (n > 8 && url[n - 1] == '/')
		n--;
	return n;
}

static const long curl_versions[] = {
	[GBA_NAF_HTTP_2] = CURL_HTTP_VERSION_2TLS,
	[GBA_NAF_HTTP_1_1] = CURL_HTTP_VERSION_1_1,
	[GBA_NAF_HTTP_2_PRIOR_KNOWLEDGE] = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
};

/* https:// with the three TLS files; http:// only for prior-knowledge h2c. */
static int url_ok(const struct gba_naf_config *cfg)
{
	int tls = !strncmp(cfg->bsf_url, "https://", 8);
	int h2c = !strncmp(cfg->bsf_url, "http://", 7) &&
		  cfg->http_version == GBA_NAF_HTTP_2_PRIOR_KNOWLEDGE;

	if ((unsigned)cfg->http_version > GBA_NAF_HTTP_2_PRIOR_KNOWLEDGE || strchr(cfg->bsf_url, '?'))
		return 0;
	return h2c || (tls && cfg->tls_cert && cfg->tls_key && cfg->tls_ca);
}

static char *dup_or_null(const char *s, int *failed)
{
	char *d = s ? strdup(s) : NULL;
	*failed |= s && !d;
	return d;
}

gba_err naf_http_open(struct naf_http **out, const struct gba_naf_config *cfg)
{
	struct naf_http *h;
	int tls, failed = 0;

	*out = NULL;
	if (!url_ok(cfg) || strlen(cfg->bsf_url) + sizeof(NAF_HTTP_PATH) > sizeof(h->url))
		return GBA_ERR_INVALID_ARG;
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc)
		return GBA_ERR_UNAVAILABLE;
	h = calloc(1, sizeof(*h));
	if (!h)
		return GBA_ERR_NO_MEMORY;
	pthread_mutex_init(&h->lock, NULL);
	tls = !strncmp(cfg->bsf_url, "https://", 8);
	/* bsf_url is the apiRoot (TS 29.501 4.4.1): scheme, authority, maybe a prefix. */
	snprintf(h->url, sizeof(h->url), "%.*s%s", (int)api_root_len(cfg->bsf_url), cfg->bsf_url,
		 NAF_HTTP_PATH);
	h->cert = dup_or_null(tls ? cfg->tls_cert : NULL, &failed);
	h->key = dup_or_null(tls ? cfg->tls_key : NULL, &failed);
	h->ca = dup_or_null(tls ? cfg->tls_ca : NULL, &failed);
	h->service = dup_or_null(cfg->gaa_service_id, &failed);
	h->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : GBA_NAF_DEFAULT_TIMEOUT_MS;
	h->aware = cfg->gba_u_aware ? 1 : 0;
	h->curl_version = curl_versions[cfg->http_version];
	h->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (failed || !h->hdr) {
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
	for (int i = 0; i < h->n_idle; i++)
		curl_easy_cleanup(h->idle[i]);
	curl_slist_free_all(h->hdr);
	pthread_mutex_destroy(&h->lock);
	free(h->cert);
	free(h->key);
	free(h->ca);
	free(h->service);
	free(h);
}

/* An idle handle with its open connection, or a new one. */
static CURL *take_handle(struct naf_http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->n_idle)
		c = h->idle[--h->n_idle];
	pthread_mutex_unlock(&h->lock);
	return c ? c : curl_easy_init();
}

/* Back to the pool after a good exchange; a failed one's connection goes. */
static void give_back(struct naf_http *h, CURL *c, int ok)
{
	pthread_mutex_lock(&h->lock);
	if (ok && h->n_idle < POOL_MAX) {
		h->idle[h->n_idle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	curl_easy_cleanup(c);
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

/* BootstrappingInfoRequest: NAF_Id split into nafFqdn and uaSecProtId. */
static char *request_json(const struct naf_http *h, const char *btid, const uint8_t *naf_id,
			  size_t naf_id_len)
{
	char ua[11];
	json_t *o, *ids = NULL;
	char *text = NULL;
	unsigned long gs = 0;
	char *end = NULL;

	if (naf_id_len < 6 || gba_hex_encode(ua, sizeof(ua), naf_id + naf_id_len - 5, 5))
		return NULL;
	/* gaa_service_id: a GAA service id, sent as gsIds when it is a uint32. */
	if (h->service) {
		gs = strtoul(h->service, &end, 10);
		if (*h->service >= '0' && *h->service <= '9' && !*end && gs <= UINT32_MAX)
			ids = json_pack("[I]", (json_int_t)gs);
	}
	o = json_pack("{s:s, s:{s:s%, s:s}, s:b}", "btId", btid, "nafId", "nafFqdn",
		      (const char *)naf_id, naf_id_len - 5, "uaSecProtId", ua, "gbaUAware",
		      h->aware);
	if (o && ids && json_object_set_new(o, "gsIds", ids))
		json_object_clear(o);
	else if (!o)
		json_decref(ids);
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

static gba_err post(struct naf_http *h, const char *json, struct body *b, long *status,
		    int *version)
{
	CURL *c = take_handle(h);
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	long v = 0;

	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, h->url);
		curl_easy_setopt(c, CURLOPT_HTTP_VERSION, h->curl_version);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdr);
		if (h->cert) {
			curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert);
			curl_easy_setopt(c, CURLOPT_SSLKEY, h->key);
			curl_easy_setopt(c, CURLOPT_CAINFO, h->ca);
		}
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK) {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
			curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &v);
		}
		/* No pointer to this call's buffers stays in a pooled handle. */
		curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
		give_back(h, c, rc == CURLE_OK);
	}
	if (version)
		*version = v == CURL_HTTP_VERSION_2_0 ? 20 : v == CURL_HTTP_VERSION_1_1 ? 11
			 : v == CURL_HTTP_VERSION_1_0 ? 10 : 0;
	return rc == CURLE_OK ? GBA_OK : (rc == CURLE_OUT_OF_MEMORY ? GBA_ERR_NO_MEMORY
								    : curl_err(rc));
}

/* A key as 64 hex digits; the string jansson holds is wiped either way. */
static int read_key(json_t *v, uint8_t out[32])
{
	char *s = v && json_is_string(v) ? (char *)json_string_value(v) : NULL;
	size_t n = 0;
	int ok;

	if (!s)
		return -1;
	ok = strlen(s) == 64 && !gba_hex_decode(out, 32, &n, s, 64) && n == 32;
	gba_wipe(s, strlen(s));
	return ok ? 0 : -1;
}

/* Append a literal; -1 when it does not fit in room (NUL included). */
static int append(char *out, size_t room, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n >= room)
		return -1;
	memcpy(out + *len, s, n + 1);
	*len += n;
	return 0;
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

/* XML text, escaped, at most room octets (-1: it does not fit). */
static int put_xml(char *out, size_t room, size_t *len, const char *s)
{
	for (; *s; s++) {
		const char *e = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;"
			      : *s == '"' ? "&quot;" : NULL;
		size_t n = e ? strlen(e) : 1;
		if (*len + n >= room)
			return -1;
		memcpy(out + *len, e ? e : s, n);
		*len += n;
	}
	out[*len] = '\0';
	return 0;
}

/* One {"uss": {...}} as <uss id type nafGroup><uids/><flags/></uss>. */
static int uss_xml(json_t *item, char *out, size_t room, size_t *len)
{
	json_t *u = json_object_get(item, "uss"), *v;
	static const char *const attrs[][2] = {
		{ "gsId", " id=\"" }, { "gsType", " type=\"" }, { "nafGroup", " nafGroup=\"" },
	};
	char num[24];
	size_t i;
	int bad = !json_is_object(u) || append(out, room, len, "<uss");

	for (i = 0; !bad && i < 3; i++) {
		v = json_object_get(u, attrs[i][0]);
		if (!v)
			continue;
		bad = !json_is_string(v);
		bad = bad || append(out, room, len, attrs[i][1]) ||
		      put_xml(out, room, len, json_string_value(v)) || append(out, room, len, "\"");
	}
	bad = bad || append(out, room, len, "><uids>");
	json_array_foreach(json_object_get(u, "ueIds"), i, v) {
		const char *id = json_string_value(json_object_get(v, "ueId"));
		bad = bad || !id || append(out, room, len, "<uid>") || put_xml(out, room, len, id) ||
		      append(out, room, len, "</uid>");
	}
	bad = bad || append(out, room, len, "</uids><flags>");
	json_array_foreach(json_object_get(u, "flags"), i, v) {
		json_t *f = json_object_get(v, "flag");
		bad = bad || !json_is_integer(f) || json_integer_value(f) < 0;
		if (!bad)
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(f));
		bad = bad || append(out, room, len, "<flag>") || append(out, room, len, num) ||
		      append(out, room, len, "</flag>");
	}
	return bad || append(out, room, len, "</flags></uss>") ? -1 : 0;
}

/* ussList (absent or an array) back into XML in out->uss. */
static int read_uss_list(json_t *list, struct gba_naf_key *out)
{
	size_t i, len = 0, room = sizeof(out->uss);
	json_t *item;

	out->uss[0] = '\0';
	out->uss_len = 0;
	if (!list || !json_array_size(list))
		return list && !json_is_array(list) ? -1 : 0;
	if (append(out->uss, room, &len, "<ussList xmlns=\"uri:3gpp-gba\">"))
		return -1;
	json_array_foreach(list, i, item)
		if (uss_xml(item, out->uss, room, &len))
			return -1;
	if (append(out->uss, room, &len, "</ussList>"))
		return -1;
	out->uss_len = len;
	return 0;
}

/* gbaType: 3G_GBA 0, 2G_GBA 1, GBA_DIGEST 2; absent -1. */
static int read_gba_type(json_t *v, int *out)
{
	const char *s = json_string_value(v);

	*out = -1;
	if (!v)
		return 0;
	if (s && !strcmp(s, "3G_GBA"))
		*out = 0;
	else if (s && !strcmp(s, "2G_GBA"))
		*out = 1;
	else if (s && !strcmp(s, "GBA_DIGEST"))
		*out = 2;
	return *out < 0 ? -1 : 0;
}

gba_err naf_http_read_answer(const char *data, size_t len, struct gba_naf_key *out)
{
	json_t *root = json_loadb(data, len, 0, NULL);
	json_t *uicc = root ? json_object_get(root, "uiccKeyMaterial") : NULL;
	json_t *created = json_object_get(root, "bootstrappingInfoCreationTime");
	const char *impi = json_string_value(json_object_get(root, "impi"));
	int bad = !json_is_object(root) || !impi || !*impi || strlen(impi) > GBA_NAF_IMPI_MAX;

	/* Both keys are read (and so wiped in jansson's copy) whatever else is wrong. */
	bad |= read_key(json_object_get(root, "meKeyMaterial"), out->ks_naf);
	if (uicc) {
		bad |= read_key(uicc, out->ks_int_naf);
		out->has_int_naf = out->gba_u = 1;
	}
	bad |= read_time(json_object_get(root, "keyExpiryTime"), &out->expiry);
	if (created)
		bad |= read_time(created, &out->created);
	bad |= read_gba_type(json_object_get(root, "gbaType"), &out->gba_type);
	if (!bad)
		bad = read_uss_list(json_object_get(root, "ussList"), out);
	if (!bad)
		strcpy(out->impi, impi);
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
		       size_t naf_id_len, struct gba_naf_key *out, int *version)
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
	err = post(h, json, &b, &status, version);
	if (!err)
		err = status_err(status);
	if (!err)
		err = naf_http_read_answer(b.data, b.len, out);
	gba_wipe(b.data, b.cap);
	free(b.data);
	free(json);
	return err;
}
