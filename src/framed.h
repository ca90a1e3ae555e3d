/* The pipe framing of --framed mode: one message per line, both ways.
 *
 *   T <text>\n     a text message; in <text> a backslash is written "\\",
 *                  a newline "\n" and a carriage return "\r"
 *   B <base64>\n   a binary message, RFC 4648 base64 with padding
 *
 * Any bytes, newlines included, keep their message boundaries and types,
 * and `cat` is an exact echo server. Pure: no syscalls, no allocation. */
#ifndef PORTAL_FRAMED_H
#define PORTAL_FRAMED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Escapes text p[0..n) into out (room for 2 * n bytes). Returns the length. */
size_t framed_escape(const uint8_t *p, size_t n, uint8_t *out);

/* Unescapes p[0..n) into out (room for n bytes) and returns the length.
 * Unless final, a backslash at the very end is left unconsumed (its pair
 * has not arrived); *used receives the bytes consumed. A backslash before
 * any other byte, or alone at the end of the message, stands for itself. */
size_t framed_unescape(const uint8_t *p, size_t n, bool final, uint8_t *out,
		       size_t *used);

#endif
