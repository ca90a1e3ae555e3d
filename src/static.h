/* --staticdir: which file a request path names, its Content-Type, and
 * HTTP dates. static_path, static_type and the date functions are pure (no
 * syscalls, no allocation); static_open and static_open_beneath are the
 * ones that look at the disk. */
#ifndef PORTAL_STATIC_H
#define PORTAL_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT". */
#define STATIC_DATE_LEN 29

enum static_path_result {
	STATIC_BAD = -1,    /* not "/...", a bad or forbidden %-escape */
	STATIC_HIDDEN = -2, /* a segment starts with '.' ("..", dotfiles),
			       but for a first segment ".well-known" */
	STATIC_LONG = -3,   /* does not fit in out */
};

/* Turns the request path path[0..len) (without its query) into a path
 * relative to the static directory, written NUL-terminated to out[0..cap):
 * %-escapes decoded, the leading '/' and repeated '/' dropped, a trailing
 * '/' kept ("/" gives ""). %00 and an encoded '/' (%2F) are STATIC_BAD, as
 * is '%' not followed by two hex digits; any segment starting with '.'
 * after decoding is STATIC_HIDDEN, which keeps out "..", "." and dotfiles
 * alike, except a first segment that is exactly ".well-known" (RFC 8615:
 * ACME challenges, security.txt). Returns the length written or a negative
 * enum static_path_result. */
int static_path(const char *path, size_t len, char *out, size_t cap);

/* The system's table of Content-Types, read once at start-up, and how
 * much of it is read at most (a larger file is read up to its last whole
 * line within that). */
#define STATIC_TYPES_FILE "/etc/mime.types"
#define STATIC_TYPES_FILE_MAX (1024 * 1024)

/* Content-Type for a file name, by its extension (case-insensitive): the
 * table static_types_load read, or where it has none a built-in one of the
 * common web types; text types with "; charset=utf-8"; NULL when neither
 * names one (then static_sniff decides). */
const char *static_type(const char *name, size_t len);

/* Content-Type from a file's first bytes p[0..n) (STATIC_SNIFF_LEN at
 * most are looked at): "text/plain; charset=utf-8" when they hold no
 * control byte but tab, LF, FF, CR and ESC (an empty file too), else
 * "application/octet-stream", as websocketd (Go's http.DetectContentType)
 * tells text from the rest. Pure. */
#define STATIC_SNIFF_LEN 512
const char *static_sniff(const uint8_t *p, size_t n);

/* Reads the mime.types file path (STATIC_TYPES_FILE) for static_type.
 * Call once, before serving: it blocks on the disk. Returns the number of
 * extensions it names, or -1 with errno set when it cannot be read (not
 * there, not a regular file); static_type then uses its built-in table
 * alone. */
long static_types_load(const char *path);

/* Parses an HTTP-date (RFC 9110 5.6.7) s[0..len): IMF-fixdate, and the
 * obsolete RFC 850 and asctime forms, which recipients must accept too.
 * Stores seconds since the epoch in *t and returns true, or returns false
 * for anything else (the caller then ignores the header). A two-digit
 * RFC 850 year below 70 is 20yy, otherwise 19yy. */
bool static_parse_date(const char *s, size_t len, int64_t *t);

/* Writes t (seconds since the epoch, >= 0) as an IMF-fixdate to
 * out[0..STATIC_DATE_LEN] with a NUL after it. */
void static_format_date(int64_t t, char out[STATIC_DATE_LEN + 1]);

/* An open file to serve. */
struct static_file {
	int fd;           /* O_RDONLY|O_CLOEXEC|O_NONBLOCK, a regular file */
	uint64_t size;
	int64_t mtime;    /* seconds */
	const char *type; /* Content-Type */
};

/* Opens root/rel without following any symlink below root: rel's
 * directories one at a time (O_NOFOLLOW, and O_PATH where there is one),
 * the last component O_RDONLY|O_NONBLOCK|O_NOFOLLOW. A symlink anywhere in
 * rel fails with ELOOP or ENOTDIR. Returns the descriptor (root itself when
 * rel is empty), or -1 with errno set. Used on a path realpath already
 * resolved, so that one swapped for a symlink in the meantime is refused. */
int static_open_beneath(const char *root, const char *rel);

/* Opens rel (from static_path) under root (a realpath): symlinks are
 * followed, but the file reached must still be inside root, have no
 * segment below root starting with '.' (but for root/.well-known itself),
 * and be a regular file; a directory
 * is served by its index.html when rel is empty or ends in '/'.
 * Returns 0 with *f filled (the caller closes f->fd); 301 when rel names a
 * directory but lacks the trailing '/'; 404 when there is nothing to serve
 * (missing, outside root, hidden, not a regular file, not readable, a
 * directory without index.html); 503 when out of descriptors or memory;
 * 500 for other errors. */
int static_open(const char *root, const char *rel, struct static_file *f);

#endif
