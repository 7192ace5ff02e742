/*
 * zn_policy.c - the NAF authorisation lists of zn_policy.h: parsed once at
 * start into name -> members lists, read-only afterwards (so the Zn
 * handler's threads read them without a lock).
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gba_conf.h>

#include "zn_policy.h"

struct zn_list {
	char *name;
	char **members;
	size_t n;
};

struct zn_lists {
	struct zn_list *v;
	size_t n;
};

struct zn_policy {
	struct zn_lists nafs, groups;
	uint64_t id;   /* distinct for every policy this process parses */
};

static atomic_uint_fast64_t policy_ids;

/* A name as the lists allow: a DNS-like name, or "*" (members only). */
static int valid_name(const char *s, int star_ok)
{
	size_t n = strlen(s);

	if (star_ok && !strcmp(s, "*"))
		return 1;
	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

static int add_members(struct zn_list *l, char *text, int star_ok, char *err, size_t err_size)
{
	char *save = NULL;

	for (char *m = strtok_r(text, "|", &save); m; m = strtok_r(NULL, "|", &save)) {
		char **v;
		m = gba_conf_trim(m);
		if (!valid_name(m, star_ok)) {
			snprintf(err, err_size, "'%s' is not an FQDN%s in the list of %s", m,
				 star_ok ? " (or *)" : "", l->name);
			return -1;
		}
		v = realloc(l->members, (l->n + 1) * sizeof(*v));
		if (!v || !(v[l->n] = strdup(m))) {
			if (v)
				l->members = v;
			snprintf(err, err_size, "out of memory");
			return -1;
		}
		l->members = v;
		l->n++;
	}
	return 0;
}

static int add_entry(struct zn_lists *ls, char *entry, const char *what, int star_ok,
		     char *err, size_t err_size)
{
	char *eq = strchr(entry, '=');
	struct zn_list *v;
	char *name;

	if (!eq) {
		snprintf(err, err_size, "%s entry '%s' is not NAME=FQDN|FQDN...", what, entry);
		return -1;
	}
	*eq = '\0';
	name = gba_conf_trim(entry);
	if (!valid_name(name, 0)) {
		snprintf(err, err_size, "%s entry: '%s' is not a name", what, name);
		return -1;
	}
	v = realloc(ls->v, (ls->n + 1) * sizeof(*v));
	if (!v) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	ls->v = v;
	memset(&v[ls->n], 0, sizeof(v[0]));
	v[ls->n].name = strdup(name);
	ls->n++;
	if (!v[ls->n - 1].name) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	return add_members(&v[ls->n - 1], eq + 1, star_ok, err, err_size);
}

/* star_ok: "*" may be a member (zn.nafs: any FQDN; not in groups). */
static int parse_lists(struct zn_lists *ls, const char *text, const char *what, int star_ok,
		       char *err, size_t err_size)
{
	char *copy, *save = NULL;
	int rc = 0;

	if (!text || !*text)
		return 0;
	copy = strdup(text);
	if (!copy) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (char *e = strtok_r(copy, ";", &save); e && !rc; e = strtok_r(NULL, ";", &save))
		if (*gba_conf_trim(e))
			rc = add_entry(ls, e, what, star_ok, err, err_size);
	free(copy);
	return rc;
}

static void free_lists(struct zn_lists *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		for (size_t j = 0; j < ls->v[i].n; j++)
			free(ls->v[i].members[j]);
		free(ls->v[i].members);
		free(ls->v[i].name);
	}
	free(ls->v);
}

void zn_policy_free(struct zn_policy *p)
{
	if (!p)
		return;
	free_lists(&p->nafs);
	free_lists(&p->groups);
	free(p);
}

int zn_policy_parse(struct zn_policy **out, const char *nafs, const char *groups,
		    char *err, size_t err_size)
{
	struct zn_policy *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	if (parse_lists(&p->nafs, nafs, "zn.nafs", 1, err, err_size) ||
	    parse_lists(&p->groups, groups, "zn.naf_groups", 0, err, err_size)) {
		zn_policy_free(p);
		return -1;
	}
	p->id = atomic_fetch_add(&policy_ids, 1) + 1;
	*out = p;
	return 0;
}

uint64_t zn_policy_id(const struct zn_policy *p)
{
	return p->id;
}

static int same(const char *a, const char *b, size_t b_len)
{
	return strlen(a) == b_len && !strncasecmp(a, b, b_len);
}

static const struct zn_list *find(const struct zn_lists *ls, const char *name)
{
	for (size_t i = 0; i < ls->n; i++)
		if (!strcasecmp(ls->v[i].name, name))
			return &ls->v[i];
	return NULL;
}

static int lists(const struct zn_list *l, const char *fqdn, size_t fqdn_len, int star_ok)
{
	for (size_t j = 0; l && j < l->n; j++)
		if ((star_ok && !strcmp(l->members[j], "*")) || same(l->members[j], fqdn, fqdn_len))
			return 1;
	return 0;
}

int zn_policy_peer_allows(const struct zn_policy *p, const char *peer, const char *fqdn,
			  size_t fqdn_len)
{
	if (!peer || !*peer)
		return 0;
	if (same(peer, fqdn, fqdn_len))
		return 1;
	return lists(find(&p->nafs, peer), fqdn, fqdn_len, 1);
}

int zn_policy_in_group(const struct zn_policy *p, const char *group, const char *fqdn,
		       size_t fqdn_len)
{
	if (!group || !*group)
		return 0;
	if (same(group, fqdn, fqdn_len))
		return 1;
	return lists(find(&p->groups, group), fqdn, fqdn_len, 0);
}
