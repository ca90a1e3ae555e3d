/* Content-Types by file extension from a mime.types file (the format of
 * /etc/mime.types: a type, then its extensions, per line; '#' starts a
 * comment). Pure: the parser takes bytes and fills the caller's table; no
 * syscalls, no allocation. */
#ifndef PORTAL_MIME_H
#define PORTAL_MIME_H

#include <stddef.h>
#include <stdint.h>

#define MIME_EXT_MAX 4096    /* extensions kept; more are ignored */
#define MIME_TEXT_MAX 131072 /* bytes of names kept; more are ignored */
#define MIME_EXT_LEN 32      /* a longer extension is ignored */
#define MIME_TYPE_LEN 127    /* a longer type is ignored, with its line */

/* Filled by mime_parse; read by mime_lookup. About 190 KiB: keep one, in
 * static storage. */
struct mime_table {
	char text[MIME_TEXT_MAX]; /* NUL-terminated names */
	size_t used;
	uint32_t ext[MIME_EXT_MAX];  /* where each extension starts in text */
	uint32_t type[MIME_EXT_MAX]; /* ... and its type */
	size_t n;
	uint16_t slot[2 * MIME_EXT_MAX]; /* hash of ext: 1 + index, 0 empty */
};

/* Reads buf[0..len) into *t, which it clears first. A line is a type
 * ("major/minor", token characters, at most MIME_TYPE_LEN) followed by
 * extensions, separated by blanks; a line whose type is malformed is
 * skipped whole, an extension with a character other than a letter, digit,
 * '-', '_', '+' or '.' or longer than MIME_EXT_LEN alone. Extensions are
 * kept in lower case; the first line naming one wins. A type under "text/"
 * is kept with "; charset=utf-8" after it. What does not fit in the table
 * is left out. Any bytes are safe (NUL, no final newline, CRLF).
 * Returns the number of extensions kept (t->n). */
size_t mime_parse(struct mime_table *t, const char *buf, size_t len);

/* The type for extension ext[0..len) (case-insensitive), or NULL. */
const char *mime_lookup(const struct mime_table *t, const char *ext,
			size_t len);

#endif
