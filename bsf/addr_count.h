/*
 * addr_count.h - a count per client address (connections, pending
 * challenges), for per-address limits.
 *
 * An IPv4 address counts as itself; an IPv6 address by its /64, the
 * smallest prefix a site is given, so that one host cannot spread itself
 * over its 2^64 addresses.  An open-addressing hash table under a random
 * per-table key (a client cannot aim collisions at a slot) holds only
 * addresses whose count is above zero; it grows to hold them.  Not
 * thread-safe: the owner locks.
 */
#ifndef GBA_BSF_ADDR_COUNT_H
#define GBA_BSF_ADDR_COUNT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* What an address counts as; len 0: no address (never limited). */
struct addr_key {
	uint8_t len;              /* 4 (IPv4), 8 (an IPv6 /64) or 0 */
	uint8_t b[8];
};

/* The key of a peer address (AF_INET or AF_INET6; anything else: len 0). */
void addr_key_of(struct addr_key *k, const struct sockaddr *sa);

struct addr_count;

/* NULL when out of memory. */
struct addr_count *addr_count_create(void);
void addr_count_destroy(struct addr_count *m);

/* The count of k (0 when absent). */
unsigned addr_count_get(const struct addr_count *m, const struct addr_key *k);

/*
 * Add one to k's count unless it is at limit already (limit 0: none).
 * 0 done; 1 at the limit (nothing changed); -1 out of memory.  A key of
 * len 0 is always admitted and not stored.
 */
int addr_count_add(struct addr_count *m, const struct addr_key *k, unsigned limit);

/* Take one from k's count (forgetting k at zero). */
void addr_count_remove(struct addr_count *m, const struct addr_key *k);

#endif /* GBA_BSF_ADDR_COUNT_H */
