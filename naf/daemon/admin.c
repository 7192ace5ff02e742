/*
 * admin.c - the loopback admin port (no authentication: it must stay on
 * loopback, which main.c enforces):
 *
 *   POST   /admin/revoke/<who>   revoke a node (KmID, IMPI or node id): its Km
 *                                and every key it registered
 *   DELETE /admin/revoke/<who>   lift a revocation (IMPI or node id)
 *   GET    /admin/nodes/<kmid>   an enrolment (with Km's check value, no key)
 *   GET    /admin/stats          counts of nodes, keys, revocations, Zn fetches,
 *                                and each Ua port's connections
 *   GET    /metrics              the same and more in the Prometheus text format
 *                                (naf_metrics.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http_util.h"
#include "psk_id.h"
#include "ua.h"
#include "ua_server.h"

#define REVOKE "/admin/revoke/"
#define NODES "/admin/nodes/"

static enum MHD_Result node_info(struct naf_svc *s, struct MHD_Connection *c, const char *kmid)
{
	struct ks_node n;
	char buf[2048];
	struct svc_error e = { 404, "not_found", "no such enrolment" };
	if (ks_get_node(s->ks, kmid, &n))
		return reply_error(c, &e);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "kmid", n.kmid, "impi", n.impi,
			      "node_id", n.node_id, "km_kcv", n.km_kcv,
			      "expires_unix", (json_int_t)n.expires,
			      "enrolled_unix", (json_int_t)n.enrolled);
	size_t len = o ? json_dumpb(o, buf, sizeof(buf) - 1, JSON_COMPACT) : 0;
	json_decref(o);
	buf[len] = 0;
	return reply_json(c, MHD_HTTP_OK, buf, NULL);
}

/* One Ua port's connections: "name":{...}. */
static int ua_stats(char *buf, size_t size, const char *name, struct ua_server *u)
{
	struct ua_conn_stats st;
	ua_server_stats(u, &st);
	return snprintf(buf, size,
			"\"%s\":{\"open\":%u,\"accepted\":%llu,\"evicted\":%llu,"
			"\"timed_out\":%llu,\"refused\":%llu}",
			name, st.open, st.accepted, st.evicted, st.timed_out, st.refused);
}

static enum MHD_Result stats(struct naf_svc *s, struct MHD_Connection *c)
{
	unsigned nodes = 0, keys = 0, revoked = 0;
	struct gba_naf_stats zs;
	char buf[1024], ua[2][256];
	ks_counts(s->ks, &nodes, &keys, &revoked);
	gba_naf_get_stats(s->zn, &zs);
	ua_stats(ua[0], sizeof(ua[0]), "digest", s->ua_digest);
	ua_stats(ua[1], sizeof(ua[1]), "tls", s->ua_tls);
	snprintf(buf, sizeof(buf),
		 "{\"nodes\":%u,\"keys\":%u,\"revoked\":%u,\"zn_fetches\":%llu,"
		 "\"zn_cache_hits\":%llu,\"zn_birs\":%llu,\"zn_errors\":%llu,\"ua\":{%s,%s}}",
		 nodes, keys, revoked, (unsigned long long)zs.fetches,
		 (unsigned long long)zs.cache_hits, (unsigned long long)zs.birs,
		 (unsigned long long)zs.errors, ua[0], ua[1]);
	return reply_json(c, MHD_HTTP_OK, buf, NULL);
}

/* The Diameter node's families grow with its peers: room for 512 series. */
#define METRICS_MAX (128 * 1024)

static enum MHD_Result metrics(struct naf_svc *s, struct MHD_Connection *c)
{
	char *buf = malloc(METRICS_MAX);
	size_t len = buf ? naf_metrics_render(s, buf, METRICS_MAX) : 0;
	struct MHD_Response *r = len ? MHD_create_response_from_buffer(len, buf,
								       MHD_RESPMEM_MUST_FREE)
				     : NULL;
	enum MHD_Result ret;

	if (!r) {
		struct svc_error e = { 500, "internal", "the metrics do not fit" };
		free(buf);
		return reply_error(c, &e);
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				    "text/plain; version=0.0.4; charset=utf-8") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result revoke(struct naf_svc *s, struct MHD_Connection *c, const char *method,
			      const char *who)
{
	char buf[4096];
	struct svc_error e = { 404, "not_found", "not revoked" };
	if (!strcmp(method, "DELETE")) {
		if (ks_reinstate(s->ks, who))
			return reply_error(c, &e);
		snprintf(buf, sizeof(buf), "{\"reinstated\":true}");
		return reply_json(c, MHD_HTTP_OK, buf, NULL);
	}
	gba_err err = svc_revoke(s, who, buf, sizeof(buf));
	if (err) {
		e = svc_store_error(err);
		return reply_error(c, &e);
	}
	return reply_json(c, MHD_HTTP_OK, buf, NULL);
}

enum MHD_Result admin_handler(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_size, void **con_cls)
{
	struct naf_svc *s = cls;
	struct req *rq = NULL;
	struct svc_error e = { 404, "not_found", "no such resource" };
	(void)version;
	int st = req_collect(con_cls, upload, upload_size, 1024, &rq);
	if (st <= 0)
		return st == 0 ? MHD_YES : MHD_NO;
	if (!strncmp(url, REVOKE, strlen(REVOKE)) &&
	    (!strcmp(method, "POST") || !strcmp(method, "DELETE"))) {
		const char *who = url + strlen(REVOKE);
		if (psk_id_valid_name(who, strlen(who), KS_ID_MAX))
			return revoke(s, c, method, who);
		e = (struct svc_error){ 400, "bad_name", "name a KmID, IMPI or node id" };
	} else if (!strncmp(url, NODES, strlen(NODES)) && !strcmp(method, "GET")) {
		return node_info(s, c, url + strlen(NODES));
	} else if (!strcmp(url, "/admin/stats") && !strcmp(method, "GET")) {
		return stats(s, c);
	} else if (!strcmp(url, "/metrics") && !strcmp(method, "GET")) {
		return metrics(s, c);
	}
	return reply_error(c, &e);
}
