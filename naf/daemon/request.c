/*
 * request.c - parsing a MAF Key Registration body (JSON) and the node id
 * in a BIA's USS list (XML): input gba-naf did not write (request.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "psk_id.h"
#include "request.h"

#define ERR(st, c, d) ((struct svc_error){ .status = (st), .code = (c), .detail = (d) })

void svc_uss_node_id(const char *uss, size_t uss_len, char out[KS_ID_MAX + 1])
{
	out[0] = 0;
	if (!uss || !uss_len || uss_len > INT_MAX)
		return;
	xmlDocPtr doc = xmlReadMemory(uss, (int)uss_len, "uss.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	/*
	 * A USS list has no DTD.  With one, entity references would lead the
	 * walk below out of the tree (an entity reference's child is the
	 * entity's declaration, in the DTD) and xmlNodeGetContent() into
	 * expanding nested entities: refuse it.
	 */
	xmlNodePtr root = doc && !doc->intSubset && !doc->extSubset ? xmlDocGetRootElement(doc)
								    : NULL;
	xmlNodePtr n = root;
	/* Depth-first over the elements under root: the first <uid> under a <uids>. */
	while (n && !out[0]) {
		if (n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST "uid") &&
		    n->parent && !xmlStrcmp(n->parent->name, BAD_CAST "uids")) {
			xmlChar *t = xmlNodeGetContent(n);
			if (t && psk_id_valid_name((const char *)t, strlen((const char *)t), KS_ID_MAX))
				snprintf(out, KS_ID_MAX + 1, "%s", (const char *)t);
			xmlFree(t);
		}
		if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			continue;
		}
		while (n != root && !n->next)
			n = n->parent;
		n = n == root ? NULL : n->next;
	}
	xmlFreeDoc(doc);
}

/* A valid key registration body: {"suid": s, "targets": [s], "lifetime": n}. */
int svc_parse_registration(const char *body, size_t len, const char **suid,
			   const char **target, json_int_t *lifetime, json_t **root,
			   struct svc_error *e)
{
	json_error_t je;
	json_t *targets = NULL;
	*lifetime = 0;
	*root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!*root || json_unpack_ex(*root, &je, JSON_STRICT, "{s:s, s:o, s?I, s?s}",
				     "suid", suid, "targets", &targets, "lifetime", lifetime,
				     "admin_fqdn", &(const char *){ NULL })) {
		*e = ERR(400, "bad_request",
			 "expected {\"suid\": str, \"targets\": [str], \"lifetime\": seconds}");
		return -1;
	}
	if (!json_is_array(targets) || json_array_size(targets) != 1 ||
	    !json_is_string(json_array_get(targets, 0))) {
		*e = ERR(400, "bad_targets", "targets must name exactly one CSE-ID/AE-ID");
		return -1;
	}
	*target = json_string_value(json_array_get(targets, 0));
	if (!psk_id_valid_name(*suid, strlen(*suid), 64) ||
	    !psk_id_valid_name(*target, strlen(*target), KS_ID_MAX) || *lifetime < 0) {
		*e = ERR(400, "bad_request", "suid, target or lifetime out of range");
		return -1;
	}
	return 0;
}
