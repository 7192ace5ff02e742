/*
 * zn_nbsp_uss.c - the BIA's <ussList> as Nbsp_GBA's ussList
 * (zn_nbsp_uss.h), read with libxml2 as zn_uss.c reads a GUSS: no
 * network, no DTD, no entity expansion.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "zn_nbsp_uss.h"

#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | \
		     XML_PARSE_NOWARNING)

static int named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* attribute name of n as a JSON string member of o, when present. */
static int copy_attr(json_t *o, const xmlNode *n, const char *name, const char *member)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	int rc = 0;

	if (v)
		rc = json_object_set_new(o, member, json_string((const char *)v));
	xmlFree(v);
	return rc;
}

/* A decimal uint32, or -1. */
static long long uint32_of(const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || *end || v > UINT32_MAX ? -1 : (long long)v;
}

/* <wrap><item>text</item>...</wrap> as [{member: text}, ...]; flags as numbers. */
static int copy_items(json_t *uss, const xmlNode *wrap, const char *item, const char *array,
		      const char *member, int numeric)
{
	json_t *a = json_array();

	if (!a || json_object_set_new(uss, array, a))
		return -1;
	for (const xmlNode *c = wrap->children; c; c = c->next) {
		xmlChar *text;
		long long v;
		json_t *e;

		if (!named(c, item))
			continue;
		text = xmlNodeGetContent(c);
		v = numeric ? uint32_of((const char *)text) : 0;
		e = !text || v < 0 ? NULL : numeric ? json_pack("{s:I}", member, (json_int_t)v)
						    : json_pack("{s:s}", member, (const char *)text);
		xmlFree(text);
		if (e && json_array_append_new(a, e))
			return -1;
	}
	return 0;
}

static json_t *uss_of(const xmlNode *n)
{
	json_t *uss = json_object();

	if (!uss || copy_attr(uss, n, "id", "gsId") || copy_attr(uss, n, "type", "gsType") ||
	    copy_attr(uss, n, "nafGroup", "nafGroup")) {
		json_decref(uss);
		return NULL;
	}
	for (const xmlNode *c = n->children; c; c = c->next) {
		int rc = 0;
		if (named(c, "uids"))
			rc = copy_items(uss, c, "uid", "ueIds", "ueId", 0);
		else if (named(c, "flags"))
			rc = copy_items(uss, c, "flag", "flags", "flag", 1);
		if (rc) {
			json_decref(uss);
			return NULL;
		}
	}
	return json_pack("{s:o}", "uss", uss);
}

gba_err zn_nbsp_uss_list(const char *xml, size_t xml_len, json_t **out)
{
	json_t *list = json_array();
	xmlDoc *doc;
	const xmlNode *root;
	gba_err err = GBA_OK;

	*out = NULL;
	if (!list)
		return GBA_ERR_NO_MEMORY;
	if (!xml_len) {
		*out = list;
		return GBA_OK;
	}
	if (xml_len > INT32_MAX) {
		json_decref(list);
		return GBA_ERR_PARSE;
	}
	doc = xmlReadMemory(xml, (int)xml_len, NULL, NULL, XML_OPTIONS);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || doc->intSubset || !named(root, "ussList"))
		err = GBA_ERR_PARSE;
	for (const xmlNode *c = root && !err ? root->children : NULL; c && !err; c = c->next) {
		json_t *u;
		if (!named(c, "uss"))
			continue;
		u = uss_of(c);
		if (!u || json_array_append_new(list, u))
			err = GBA_ERR_NO_MEMORY;
	}
	xmlFreeDoc(doc);
	if (err)
		json_decref(list);
	else
		*out = list;
	return err;
}
