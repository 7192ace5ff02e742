/*
 * zn_policy.h - which NAF may have keys for which NAF FQDN, and the NAF
 * groups a USS's nafGroup attribute names (docs/zn.md).
 *
 *   zn.nafs       = PEER=FQDN|FQDN|...; PEER=*; ...
 *   zn.naf_groups = GROUP=FQDN|FQDN|...; ...
 *
 * PEER is a NAF's Diameter identity (the Origin-Host of its CER).  A peer
 * may always ask for its own FQDN (its identity); the list adds more, "*"
 * allows any.  FQDNs compare case-insensitively.
 */
#ifndef GBA_BSF_ZN_POLICY_H
#define GBA_BSF_ZN_POLICY_H

#include <stddef.h>
#include <stdint.h>

struct zn_policy;

/* Parse both lists (either may be "" or NULL).  -1 with a message in err. */
int zn_policy_parse(struct zn_policy **out, const char *nafs, const char *groups,
		    char *err, size_t err_size);
void zn_policy_free(struct zn_policy *p);

/* 1 when peer may ask for the keys of fqdn (fqdn_len octets, no NUL needed). */
int zn_policy_peer_allows(const struct zn_policy *p, const char *peer, const char *fqdn,
			  size_t fqdn_len);

/* 1 when group is fqdn itself or a configured group that lists fqdn. */
int zn_policy_in_group(const struct zn_policy *p, const char *group, const char *fqdn,
		       size_t fqdn_len);

/* An id no other policy of this process has: what caches of its decisions key on. */
uint64_t zn_policy_id(const struct zn_policy *p);

#endif /* GBA_BSF_ZN_POLICY_H */
