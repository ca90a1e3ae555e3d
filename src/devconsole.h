/* --devconsole: one self-contained HTML page that connects to the path it
 * was served from and shows the session. */
#ifndef PORTAL_DEVCONSOLE_H
#define PORTAL_DEVCONSOLE_H

#include <stddef.h>

extern const char devconsole_page[];
extern const size_t devconsole_page_len;

#endif
