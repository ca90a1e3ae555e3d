/* SHA-1 (FIPS 180-4), only for Sec-WebSocket-Accept. Pure: no syscalls, no allocation. */
#ifndef PORTAL_SHA1_H
#define PORTAL_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

struct sha1 {
	uint32_t h[5];
	uint64_t total; /* bytes fed so far */
	uint8_t block[64];
	size_t used; /* bytes waiting in block */
};

void sha1_init(struct sha1 *s);
/* Feeds len bytes; may be called any number of times between init and final. */
void sha1_update(struct sha1 *s, const void *data, size_t len);
/* Writes the 20-byte digest; s must be re-initialised before reuse. */
void sha1_final(struct sha1 *s, uint8_t out[SHA1_LEN]);

#endif
