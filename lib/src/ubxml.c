/*
 * ubxml.c - the BootstrappingInfo document of the Ub 200 OK (TS 24.109
 * Annex C).
 *
 * Building is plain string formatting: the BSF writes one document per
 * bootstrap, thousands per second, and the document is fixed apart from
 * two values.
 *
 * Parsing uses libxml2 and trusts nothing in the input:
 * - a size limit before libxml2 sees a byte;
 * - no network, no DTD loading, no entity substitution; a document with
 *   a DOCTYPE is stopped at the DOCTYPE (before any entity declaration is
 *   read) and refused, which rules out external entities (XXE) and
 *   entity expansion bombs;
 * - the input is read as UTF-8 whatever it declares, so that libxml2's
 *   iconv-based decoders (which report errors outside any parser
 *   context, on stderr) are never used;
 * - errors go to a per-context handler that drops them, never to stderr
 *   and never through a process-wide handler.
 *
 * The values are checked the same way in both directions: a B-TID the
 * builder accepts reads back byte for byte, and a B-TID the parser returns
 * is one the builder accepts.
 */
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include <gba/ubxml.h>

#include "text.h"

static const char doc_head[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<BootstrappingInfo xmlns=\"" GBA_UBXML_NS "\">\n"
	"  <btid>";
static const char doc_mid[] =
	"</btid>\n"
	"  <lifetime>";
static const char doc_tail[] =
	"</lifetime>\n"
	"</BootstrappingInfo>\n";

#define LIT_LEN(s) (sizeof(s) - 1)

/* XML whitespace (XML 1.0 production S): what the parser trims. */
static int is_xml_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * A B-TID is text we put into and take out of an XML element: non-empty,
 * at most GBA_BTID_MAX octets, UTF-8 of XML characters, no control
 * characters (C0, DEL, C1; a NUL would also truncate the C string we
 * return) and no leading or trailing space (the parser trims it, so it
 * would not survive the trip).
 */
static gba_err check_btid(const char *btid, size_t len)
{
	const unsigned char *s = (const unsigned char *)btid;
	size_t i = 0;

	if (len == 0 || len > GBA_BTID_MAX)
		return GBA_ERR_BAD_LENGTH;
	if (is_xml_space(s[0]) || is_xml_space(s[len - 1]))
		return GBA_ERR_BAD_ENCODING;
	while (i < len) {
		uint32_t cp;
		size_t n = text_utf8_decode(s + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    cp == 0xfffe || cp == 0xffff)
			return GBA_ERR_BAD_ENCODING;
		i += n;
	}
	return GBA_OK;
}

/* The entity for c, or NULL when c stands for itself. */
static const char *xml_escape(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&apos;";
	default: return NULL;
	}
}

static size_t escaped_len(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		const char *e = xml_escape(s[i]);
		n += e != NULL ? strlen(e) : 1;
	}
	return n;
}

/* Writes the escaped form of s at out; room was checked by the caller. */
static char *put_escaped(char *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		const char *e = xml_escape(s[i]);

		if (e == NULL) {
			*out++ = s[i];
		} else {
			size_t n = strlen(e);
			memcpy(out, e, n);
			out += n;
		}
	}
	return out;
}

static char *put(char *out, const char *s, size_t len)
{
	memcpy(out, s, len);
	return out + len;
}

gba_err gba_ubxml_build(char *out, size_t out_size, size_t *out_len,
			const char *btid, size_t btid_len, time_t lifetime)
{
	char when[GBA_XS_DATETIME_MAX];
	size_t when_len, need;
	gba_err err;
	char *p;

	if (out == NULL || btid == NULL)
		return GBA_ERR_INVALID_ARG;
	if (out_size > 0)
		out[0] = '\0';
	err = check_btid(btid, btid_len);
	if (err != GBA_OK)
		return err;
	err = gba_xs_datetime_format(when, sizeof(when), lifetime);
	if (err != GBA_OK)
		return err;
	when_len = strlen(when);

	need = LIT_LEN(doc_head) + escaped_len(btid, btid_len) +
	       LIT_LEN(doc_mid) + when_len + LIT_LEN(doc_tail);
	if (out_size < need + 1)
		return GBA_ERR_BUFFER_TOO_SMALL;

	p = put(out, doc_head, LIT_LEN(doc_head));
	p = put_escaped(p, btid, btid_len);
	p = put(p, doc_mid, LIT_LEN(doc_mid));
	p = put(p, when, when_len);
	p = put(p, doc_tail, LIT_LEN(doc_tail));
	*p = '\0';
	if (out_len != NULL)
		*out_len = need;
	return GBA_OK;
}

/* What the SAX hooks of one parse report back; lives in ctxt->_private. */
struct parse_state {
	int saw_doctype;
};

/* libxml2 2.12 made the error argument const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *gba_xml_error_ptr;
#else
typedef xmlErrorPtr gba_xml_error_ptr;
#endif

/* Drops every libxml2 message: a peer's bad document is not our log's. */
static void drop_error(void *data, gba_xml_error_ptr err)
{
	(void)data;
	(void)err;
}

/*
 * Called when the parser meets <!DOCTYPE ...>, before it reads the
 * internal subset.  Stopping here means no entity is ever declared.
 * ctx is the context's userData, which libxml2 sets to the context
 * itself and we leave alone.  Stopping alone can still yield a tree that
 * libxml2 calls well-formed, hence the flag.
 */
static void refuse_doctype(void *ctx, const xmlChar *name,
			   const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	(void)name;
	(void)external_id;
	(void)system_id;
	if (st != NULL)
		st->saw_doctype = 1;
	xmlStopParser(ctxt);
}

static int is_ub_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       n->ns->href != NULL &&
	       strcmp((const char *)n->ns->href, GBA_UBXML_NS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/*
 * The character data of a simple-typed element (text and CDATA;
 * comments and processing instructions do not count), trimmed of XML
 * whitespace.  An element inside it makes the document malformed for
 * us.  *text is for xmlFree() and *start / *len point into it.
 */
static gba_err element_text(const xmlNode *el, xmlChar **text,
			    const char **start, size_t *len)
{
	const char *s;
	size_t n;

	*text = NULL;
	for (const xmlNode *c = el->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE ||
		    c->type == XML_ENTITY_REF_NODE)
			return GBA_ERR_PARSE;
	}
	*text = xmlNodeGetContent(el);
	if (*text == NULL)
		return el->children != NULL ? GBA_ERR_NO_MEMORY : GBA_OK;

	s = (const char *)*text;
	n = strlen(s);
	while (n > 0 && is_xml_space((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_xml_space((unsigned char)s[n - 1]))
		n--;
	*start = s;
	*len = n;
	return GBA_OK;
}

static gba_err read_btid(const xmlNode *el, struct gba_bootstrapping_info *out)
{
	xmlChar *text;
	const char *s = "";
	size_t len = 0;
	gba_err err;

	err = element_text(el, &text, &s, &len);
	if (err == GBA_OK && check_btid(s, len) != GBA_OK)
		err = GBA_ERR_PARSE;
	if (err == GBA_OK) {
		memcpy(out->btid, s, len);
		out->btid[len] = '\0';
	}
	xmlFree(text);
	return err;
}

static gba_err read_lifetime(const xmlNode *el,
			     struct gba_bootstrapping_info *out)
{
	xmlChar *text;
	const char *s = "";
	size_t len = 0;
	gba_err err;

	err = element_text(el, &text, &s, &len);
	if (err == GBA_OK)
		err = gba_xs_datetime_parse(s, len, &out->lifetime);
	xmlFree(text);
	return err;
}

/*
 * Walks the children of the root: btid and lifetime exactly once each,
 * in any order; everything else (Extension, other namespaces, text,
 * comments) is ignored.  Duplicates are refused before any value is
 * read, so that which copy wins is never a question.
 */
static gba_err read_root(const xmlNode *root,
			 struct gba_bootstrapping_info *out)
{
	const xmlNode *btid = NULL, *lifetime = NULL;
	gba_err err;

	if (!is_ub_element(root, "BootstrappingInfo"))
		return GBA_ERR_PARSE;
	for (const xmlNode *c = root->children; c != NULL; c = c->next) {
		const xmlNode **slot = NULL;

		if (is_ub_element(c, "btid"))
			slot = &btid;
		else if (is_ub_element(c, "lifetime"))
			slot = &lifetime;
		if (slot == NULL)
			continue;
		if (*slot != NULL)
			return GBA_ERR_PARSE;
		*slot = c;
	}
	if (btid == NULL || lifetime == NULL)
		return GBA_ERR_PARSE;

	err = read_btid(btid, out);
	if (err != GBA_OK)
		return err;
	return read_lifetime(lifetime, out);
}

/*
 * Parses xml into *doc with a parser context of its own.  GBA_ERR_PARSE
 * when the document is not well-formed or has a DOCTYPE.
 */
static gba_err read_doc(const char *xml, size_t len, xmlDocPtr *doc)
{
	struct parse_state st = { 0 };
	xmlParserCtxtPtr ctxt;
	xmlDocPtr d;
	int ok;

	*doc = NULL;
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		return GBA_ERR_NO_MEMORY;
	/* The context owns its SAX table, so these hooks are ours alone. */
	ctxt->_private = &st;
	ctxt->sax->serror = drop_error;
	ctxt->sax->internalSubset = refuse_doctype;

	/* len <= GBA_UBXML_MAX, so it fits an int. */
	d = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, "UTF-8",
			      XML_PARSE_NONET | XML_PARSE_NOERROR |
			      XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);
	/*
	 * Stopping at the DOCTYPE may still hand back a (rootless) tree, so
	 * the DOCTYPE is checked for in every way there is.
	 */
	ok = d != NULL && ctxt->wellFormed && !st.saw_doctype &&
	     d->intSubset == NULL && d->extSubset == NULL;
	xmlFreeParserCtxt(ctxt);
	if (!ok) {
		xmlFreeDoc(d);
		return GBA_ERR_PARSE;
	}
	*doc = d;
	return GBA_OK;
}

gba_err gba_ubxml_parse(const char *xml, size_t len,
			struct gba_bootstrapping_info *out)
{
	struct gba_bootstrapping_info info;
	xmlDocPtr doc;
	xmlNodePtr root;
	gba_err err;

	if (xml == NULL || out == NULL)
		return GBA_ERR_INVALID_ARG;
	if (len > GBA_UBXML_MAX)
		return GBA_ERR_TOO_LARGE;
	/* A NUL is never XML; refuse it before libxml2 sees it. */
	if (len == 0 || memchr(xml, '\0', len) != NULL)
		return GBA_ERR_PARSE;

	xmlInitParser();
	err = read_doc(xml, len, &doc);
	if (err != GBA_OK)
		return err;
	root = xmlDocGetRootElement(doc);
	memset(&info, 0, sizeof(info));
	err = root != NULL ? read_root(root, &info) : GBA_ERR_PARSE;
	xmlFreeDoc(doc);
	/* The caller sees either a complete result or nothing. */
	if (err == GBA_OK)
		*out = info;
	return err;
}
