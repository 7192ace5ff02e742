/*
 * psk_binder.h - the TLS 1.3 PSK binder of a ClientHello (RFC 8446
 * 4.2.11.2), checked by gba-naf before GnuTLS does, to answer a wrong key
 * with the decrypt_error alert (psk_binder.c says why).
 */
#ifndef NAF_PSK_BINDER_H
#define NAF_PSK_BINDER_H

#include <stddef.h>
#include <stdint.h>

/*
 * From a ClientHello (the handshake message's body, len octets): hash =
 * SHA-256 of Truncate(ClientHello) with its header, binder = the binder of
 * the first identity whose obfuscated_ticket_age is 0 (the one GnuTLS asks
 * the PSK callback about).  -1 when there is no pre_shared_key extension,
 * it is malformed, or that binder is not 32 octets (not SHA-256's).
 */
int psk_binder_from_hello(const uint8_t *ch, size_t len, uint8_t hash[32], uint8_t binder[32]);

/* 1 when binder is the external-PSK binder of psk over hash, else 0 (constant time). */
int psk_binder_verify(const uint8_t *psk, size_t psk_len, const uint8_t hash[32],
		      const uint8_t binder[32]);

#endif /* NAF_PSK_BINDER_H */
