/* The Range request header (RFC 9110 14.2) for one file of known size.
 * Pure: no syscalls, no allocation. */
#ifndef PORTAL_RANGE_H
#define PORTAL_RANGE_H

#include <stddef.h>
#include <stdint.h>

enum range_result {
	RANGE_WHOLE,         /* serve the whole file: 200 */
	RANGE_PART,          /* serve [*first, *last]: 206 */
	RANGE_UNSATISFIABLE, /* 416 with "Content-Range: bytes *\/size" */
};

/* Reads the Range value v[0..len) against a file of size bytes. One
 * range-spec in unit "bytes" (case-insensitive), blanks allowed around it:
 * "a-b", "a-" or "-n". A number too large for 64 bits counts as the
 * largest one (it is past any end). Returns:
 *   RANGE_PART with *first <= *last < size: a-b with a < size (b past the
 *     end is cut to it), a- with a < size, -n with n > 0 (the last n
 *     bytes, the whole file when n >= size);
 *   RANGE_UNSATISFIABLE: a-b or a- with a >= size (so any a-b on an empty
 *     file), -0;
 *   RANGE_WHOLE for everything else, which the server may ignore (RFC 9110
 *     14.2): another unit, a malformed value, b < a, several ranges, and
 *     -n on an empty file (no 206 can describe zero bytes). */
enum range_result range_parse(const char *v, size_t len, uint64_t size,
			      uint64_t *first, uint64_t *last);

#endif
