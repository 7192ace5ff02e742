/*
 * zn_uss.c - pick the NAF's USSs out of a GUSS with libxml2: no network,
 * no DTD, no entity expansion (a document with a DOCTYPE is refused), as
 * libgba's Ub XML parser does.
 *
 * The same user's GUSS comes back for every NAF the user talks to, and
 * parsing, copying and dumping it was a twentieth of the BSF's CPU per
 * BIR; so each thread keeps the last selections in a small table keyed by
 * SHA-256 over the policy, the GUSS, the FQDN and the service.  A hit
 * copies the stored list and never reads the GUSS again; only SHA-256
 * collisions could hand a NAF another selection.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <nettle/sha2.h>

#include "zn_uss.h"

#define GBA_NS "uri:3gpp-gba"
#define USS_CACHE_SLOTS 64         /* per thread, direct-mapped */
#define USS_CACHE_OUT_MAX 1024     /* longer lists are not kept */

struct uss_cached {
	uint8_t key[SHA256_DIGEST_SIZE];
	int used;
	unsigned matched;
	size_t out_len;
	char out[USS_CACHE_OUT_MAX];
};

static pthread_key_t uss_cache_key;
static pthread_once_t uss_cache_once = PTHREAD_ONCE_INIT;
static int uss_cache_ok;

static void uss_cache_init(void)
{
	uss_cache_ok = pthread_key_create(&uss_cache_key, free) == 0;
}

/* This thread's table, made on first use and freed when the thread ends; NULL: none. */
static struct uss_cached *uss_cache(void)
{
	struct uss_cached *c;

	(void)pthread_once(&uss_cache_once, uss_cache_init);
	if (!uss_cache_ok)
		return NULL;
	c = pthread_getspecific(uss_cache_key);
	if (!c) {
		c = calloc(USS_CACHE_SLOTS, sizeof(*c));
		if (c && pthread_setspecific(uss_cache_key, c)) {
			free(c);
			c = NULL;
		}
	}
	return c;
}

static void hash_field(struct sha256_ctx *h, const void *p, size_t len)
{
	uint8_t n[8];

	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	sha256_update(h, sizeof(n), n);   /* lengths first: no two inputs hash alike */
	sha256_update(h, len, p);
}

static void uss_cache_key_of(uint8_t key[SHA256_DIGEST_SIZE], const struct zn_policy *p,
			     const char *guss, size_t guss_len, const char *fqdn,
			     size_t fqdn_len, const char *service)
{
	struct sha256_ctx h;
	uint64_t id = zn_policy_id(p);

	sha256_init(&h);
	hash_field(&h, &id, sizeof(id));
	hash_field(&h, guss, guss_len);
	hash_field(&h, fqdn, fqdn_len);
	hash_field(&h, service ? service : "", service ? strlen(service) + 1 : 0);
	sha256_digest(&h, SHA256_DIGEST_SIZE, key);
}

static int named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *parent, const char *name)
{
	for (const xmlNode *c = parent->children; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

static int concerns(const xmlNode *uss, const struct zn_policy *p, const char *fqdn,
		    size_t fqdn_len, const char *service)
{
	xmlChar *group = xmlGetProp(uss, (const xmlChar *)"nafGroup");
	xmlChar *type = NULL;
	int yes;

	if (group) {
		yes = zn_policy_in_group(p, (const char *)group, fqdn, fqdn_len);
		xmlFree(group);
		return yes;
	}
	if (!service)
		return 0;
	type = xmlGetProp(uss, (const xmlChar *)"type");
	yes = type && !strcmp((const char *)type, service);
	xmlFree(type);
	return yes;
}

static gba_err dump(xmlDoc *doc, char *out, size_t out_size, size_t *out_len)
{
	xmlChar *mem = NULL;
	int n = 0;
	gba_err err = GBA_OK;

	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (!mem || n < 0)
		err = GBA_ERR_NO_MEMORY;
	else if ((size_t)n >= out_size)
		err = GBA_ERR_TOO_LARGE;
	else {
		memcpy(out, mem, (size_t)n);
		out[n] = '\0';
		*out_len = (size_t)n;
	}
	xmlFree(mem);
	return err;
}

/* Copy the matching <uss> of list into a new <ussList>; dump it if any. */
static gba_err build(const xmlNode *list, const struct zn_policy *p, const char *fqdn,
		     size_t fqdn_len, const char *service, char *out, size_t out_size,
		     size_t *out_len, unsigned *matched)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = doc ? xmlNewNode(NULL, (const xmlChar *)"ussList") : NULL;
	gba_err err = GBA_OK;

	if (!root) {
		xmlFreeDoc(doc);
		return GBA_ERR_NO_MEMORY;
	}
	xmlSetNs(root, xmlNewNs(root, (const xmlChar *)GBA_NS, NULL));
	xmlDocSetRootElement(doc, root);
	for (const xmlNode *u = list->children; u && !err; u = u->next) {
		xmlNode *copy;
		if (!named(u, "uss") || !concerns(u, p, fqdn, fqdn_len, service))
			continue;
		copy = xmlDocCopyNode((xmlNode *)u, doc, 1);
		if (!copy || !xmlAddChild(root, copy))
			err = GBA_ERR_NO_MEMORY;
		else
			(*matched)++;
	}
	if (!err && *matched) {
		xmlReconciliateNs(doc, root);
		err = dump(doc, out, out_size, out_len);
	}
	xmlFreeDoc(doc);
	return err;
}

/* The selection itself: parse, pick, dump. */
static gba_err select_uss(const char *guss, size_t guss_len, const struct zn_policy *p,
			  const char *fqdn, size_t fqdn_len, const char *service, char *out,
			  size_t out_size, size_t *out_len, unsigned *matched)
{
	xmlDoc *doc;
	const xmlNode *root, *list;
	gba_err err = GBA_OK;

	if (guss_len > (size_t)INT32_MAX)
		return GBA_ERR_TOO_LARGE;
	doc = xmlReadMemory(guss, (int)guss_len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return GBA_ERR_PARSE;
	root = xmlDocGetRootElement(doc);
	if (doc->intSubset || !root || !named(root, "guss")) {
		xmlFreeDoc(doc);
		return GBA_ERR_PARSE;
	}
	list = child(root, "ussList");
	if (list)
		err = build(list, p, fqdn, fqdn_len, service, out, out_size, out_len, matched);
	xmlFreeDoc(doc);
	return err;
}

gba_err zn_uss_select(const char *guss, size_t guss_len, const struct zn_policy *p,
		      const char *fqdn, size_t fqdn_len, const char *service,
		      char *out, size_t out_size, size_t *out_len, unsigned *matched)
{
	struct uss_cached *table, *slot = NULL;
	uint8_t key[SHA256_DIGEST_SIZE];
	gba_err err;

	*out_len = 0;
	*matched = 0;
	if (out_size)
		out[0] = '\0';
	if (!guss || !guss_len)
		return GBA_OK;
	table = uss_cache();
	if (table) {
		uss_cache_key_of(key, p, guss, guss_len, fqdn, fqdn_len, service);
		slot = &table[key[0] % USS_CACHE_SLOTS];
		if (slot->used && !memcmp(slot->key, key, sizeof(key))) {
			if (slot->out_len >= out_size)
				return GBA_ERR_TOO_LARGE;
			memcpy(out, slot->out, slot->out_len + 1);
			*out_len = slot->out_len;
			*matched = slot->matched;
			return GBA_OK;
		}
	}
	err = select_uss(guss, guss_len, p, fqdn, fqdn_len, service, out, out_size, out_len,
			 matched);
	if (!err && slot && *out_len < USS_CACHE_OUT_MAX) {
		memcpy(slot->key, key, sizeof(key));
		memcpy(slot->out, out, *out_len + 1);
		slot->out_len = *out_len;
		slot->matched = *matched;
		slot->used = 1;
	}
	return err;
}
