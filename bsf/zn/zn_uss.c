/*
 * zn_uss.c - pick the NAF's USSs out of a GUSS with libxml2: no network,
 * no DTD, no entity expansion (a document with a DOCTYPE is refused), as
 * libgba's Ub XML parser does.
 */
#define _GNU_SOURCE
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "zn_uss.h"

#define GBA_NS "uri:3gpp-gba"

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

gba_err zn_uss_select(const char *guss, size_t guss_len, const struct zn_policy *p,
		      const char *fqdn, size_t fqdn_len, const char *service,
		      char *out, size_t out_size, size_t *out_len, unsigned *matched)
{
	xmlDoc *doc;
	const xmlNode *root, *list;
	gba_err err = GBA_OK;

	*out_len = 0;
	*matched = 0;
	if (out_size)
		out[0] = '\0';
	if (!guss || !guss_len)
		return GBA_OK;
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
