/* --staticdir: request paths to files, Content-Types and HTTP dates. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime.h"

/* --- request path ----------------------------------------------------- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* RFC 8615: the one dot name served, as the first segment only. */
#define WELL_KNOWN ".well-known"
#define WELL_KNOWN_LEN (sizeof WELL_KNOWN - 1)

/* out[0..o) is the first segment, which starts with '.'. */
static bool well_known(const char *out, size_t o)
{
	return o == WELL_KNOWN_LEN && memcmp(out, WELL_KNOWN, o) == 0;
}

int static_path(const char *path, size_t len, char *out, size_t cap)
{
	if (len == 0 || path[0] != '/' || cap == 0)
		return STATIC_BAD;
	size_t o = 0;
	bool seg_start = true;
	bool first_dot = false; /* the first segment starts with '.' */
	for (size_t i = 1; i < len; i++) {
		char ch = path[i];
		if (ch == '%') {
			int hi = i + 2 < len ? hexval(path[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(path[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return STATIC_BAD;
			ch = (char)(hi * 16 + lo);
			/* A decoded '/' would be a separator the client did
			 * not write; NUL would end the name early. */
			if (ch == '/' || ch == '\0')
				return STATIC_BAD;
			i += 2;
		} else if (ch == '/') {
			if (!seg_start) {
				if (first_dot && !well_known(out, o))
					return STATIC_HIDDEN;
				first_dot = false;
				if (o + 1 >= cap)
					return STATIC_LONG;
				out[o++] = '/';
			}
			seg_start = true;
			continue;
		}
		if (seg_start && ch == '.') {
			if (o > 0)
				return STATIC_HIDDEN;
			first_dot = true;
		}
		seg_start = false;
		if (o + 1 >= cap)
			return STATIC_LONG;
		out[o++] = ch;
	}
	if (first_dot && !well_known(out, o))
		return STATIC_HIDDEN;
	out[o] = '\0';
	return (int)o;
}

/* --- Content-Type ----------------------------------------------------- */

/* Used for what the system's mime.types does not name. */
static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{"html", "text/html; charset=utf-8"},
	{"htm", "text/html; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"}, /* RFC 9239 */
	{"mjs", "text/javascript; charset=utf-8"},
	{"json", "application/json"},
	{"map", "application/json"},
	{"webmanifest", "application/manifest+json"},
	{"txt", "text/plain; charset=utf-8"},
	{"csv", "text/csv; charset=utf-8"},
	{"md", "text/markdown; charset=utf-8"},
	{"markdown", "text/markdown; charset=utf-8"},
	{"xml", "application/xml"},
	{"svg", "image/svg+xml"},
	{"png", "image/png"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"gif", "image/gif"},
	{"webp", "image/webp"},
	{"avif", "image/avif"},
	{"ico", "image/x-icon"},
	{"wasm", "application/wasm"},
	{"woff", "font/woff"},
	{"woff2", "font/woff2"},
	{"ttf", "font/ttf"},
	{"otf", "font/otf"},
	{"mp3", "audio/mpeg"},
	{"ogg", "audio/ogg"},
	{"oga", "audio/ogg"},
	{"opus", "audio/ogg"}, /* RFC 7845 */
	{"wav", "audio/wav"},
	{"flac", "audio/flac"},
	{"mp4", "video/mp4"},
	{"webm", "video/webm"},
	{"ogv", "video/ogg"},
	{"pdf", "application/pdf"},
	{"zip", "application/zip"},
	{"tar", "application/x-tar"},
	{"gz", "application/gzip"},
};

/* The system's table: filled once by static_types_load, before the loop
 * starts, and only read after that. */
static struct mime_table sys_types;

const char *static_type(const char *name, size_t len)
{
	size_t dot = len;
	while (dot > 0 && name[dot - 1] != '.' && name[dot - 1] != '/')
		dot--;
	if (dot > 0 && name[dot - 1] == '.') {
		const char *ext = name + dot;
		size_t n = len - dot;
		const char *sys = mime_lookup(&sys_types, ext, n);
		if (sys)
			return sys;
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
			if (strlen(types[i].ext) == n &&
			    strncasecmp(types[i].ext, ext, n) == 0)
				return types[i].type;
		}
	}
	return NULL;
}

const char *static_sniff(const uint8_t *p, size_t n)
{
	/* Go's http.DetectContentType's test for text: none of the control
	 * bytes that text files do not hold (tab, LF, FF, CR, ESC may). */
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (b < 0x20 && b != '\t' && b != '\n' && b != '\f' &&
		    b != '\r' && b != 0x1b)
			return "application/octet-stream";
	}
	return "text/plain; charset=utf-8";
}

/* Reads fd into buf[0..cap) until its end, an error or cap; returns the
 * bytes read, cut after the last "\n" when cap was reached. */
static size_t read_lines(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (len == cap) {
		while (len > 0 && buf[len - 1] != '\n')
			len--;
	}
	return len;
}

long static_types_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	struct stat st;
	char *buf = NULL;
	int err = 0;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL; /* never wait on a FIFO or read a device */
	else if (!(buf = malloc(STATIC_TYPES_FILE_MAX)))
		err = ENOMEM;
	long kept = -1;
	if (buf) {
		size_t len = read_lines(fd, buf, STATIC_TYPES_FILE_MAX);
		kept = (long)mime_parse(&sys_types, buf, len);
		free(buf);
	}
	close(fd);
	errno = err;
	return kept;
}

/* --- HTTP dates ------------------------------------------------------- */

static const char *const days[7] = {"Sun", "Mon", "Tue", "Wed",
				    "Thu", "Fri", "Sat"};
static const char *const long_days[7] = {"Sunday", "Monday", "Tuesday",
					 "Wednesday", "Thursday", "Friday",
					 "Saturday"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr",
				       "May", "Jun", "Jul", "Aug",
				       "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* A cursor over the date text: each take_* consumes on success. */
struct cur {
	const char *p, *end;
};

static bool take_str(struct cur *c, const char *s)
{
	size_t n = strlen(s);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool take_num(struct cur *c, int digits, int *v)
{
	if (c->end - c->p < digits)
		return false;
	*v = 0;
	for (int i = 0; i < digits; i++) {
		if (c->p[i] < '0' || c->p[i] > '9')
			return false;
		*v = *v * 10 + (c->p[i] - '0');
	}
	c->p += digits;
	return true;
}

/* One of names[0..n) (case-sensitive, RFC 9110 5.6.7); *i is 1-based. */
static bool take_name(struct cur *c, const char *const *names, int n, int *i)
{
	for (*i = 1; *i <= n; (*i)++) {
		if (take_str(c, names[*i - 1]))
			return true;
	}
	return false;
}

/* "HH:MM:SS" */
static bool take_time(struct cur *c, int *h, int *mi, int *s)
{
	return take_num(c, 2, h) && take_str(c, ":") && take_num(c, 2, mi) &&
	       take_str(c, ":") && take_num(c, 2, s);
}

bool static_parse_date(const char *s, size_t len, int64_t *t)
{
	struct cur c = {s, s + len};
	int wd, d, m, y, h, mi, sec;
	if (take_name(&c, long_days, 7, &wd)) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		if (!take_str(&c, ", ") || !take_num(&c, 2, &d) ||
		    !take_str(&c, "-") || !take_name(&c, months, 12, &m) ||
		    !take_str(&c, "-") || !take_num(&c, 2, &y) ||
		    !take_str(&c, " ") || !take_time(&c, &h, &mi, &sec) ||
		    !take_str(&c, " GMT"))
			return false;
		y += y < 70 ? 2000 : 1900;
	} else if (take_name(&c, days, 7, &wd)) {
		if (take_str(&c, ", ")) {
			/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
			if (!take_num(&c, 2, &d) || !take_str(&c, " ") ||
			    !take_name(&c, months, 12, &m) || !take_str(&c, " ") ||
			    !take_num(&c, 4, &y) || !take_str(&c, " ") ||
			    !take_time(&c, &h, &mi, &sec) ||
			    !take_str(&c, " GMT"))
				return false;
		} else {
			/* asctime: "Sun Nov  6 08:49:37 1994" */
			if (!take_str(&c, " ") || !take_name(&c, months, 12, &m) ||
			    !take_str(&c, " "))
				return false;
			if (!take_str(&c, " ") ? !take_num(&c, 2, &d)
					       : !take_num(&c, 1, &d))
				return false;
			if (!take_str(&c, " ") || !take_time(&c, &h, &mi, &sec) ||
			    !take_str(&c, " ") || !take_num(&c, 4, &y))
				return false;
		}
	} else {
		return false;
	}
	if (c.p != c.end || d < 1 || d > days_in_month(y, m) || h > 23 ||
	    mi > 59 || sec > 60)
		return false;
	*t = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec;
	return true;
}

static void put2(char *p, int64_t v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void static_format_date(int64_t t, char out[STATIC_DATE_LEN + 1])
{
	int64_t z = t / 86400, secs = t % 86400;
	const char *wd = days[(z + 4) % 7]; /* 1970-01-01 was a Thursday */
	/* H. Hinnant's civil_from_days, for z >= 0. */
	z += 719468;
	int64_t era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);

	memcpy(out, "Thu, 01 Jan 1970 00:00:00 GMT", STATIC_DATE_LEN + 1);
	memcpy(out, wd, 3);
	put2(out + 5, d);
	memcpy(out + 8, months[m - 1], 3);
	put2(out + 12, y / 100);
	put2(out + 14, y);
	put2(out + 17, secs / 3600);
	put2(out + 20, secs / 60 % 60);
	put2(out + 23, secs % 60);
}

/* --- the disk ----------------------------------------------------------- */

static int errno_status(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return 503;
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case EACCES:
	case EPERM:
	case ENAMETOOLONG:
		return 404;
	default:
		return 500;
	}
}

#ifdef O_PATH
#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#else
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#endif

int static_open_beneath(const char *root, const char *rel)
{
	int dir = open(root, DIR_FLAGS & ~O_NOFOLLOW);
	char part[NAME_MAX + 1];
	while (dir >= 0 && *rel) {
		while (*rel == '/')
			rel++;
		size_t k = strcspn(rel, "/");
		if (k == 0)
			break;
		if (k > NAME_MAX) {
			close(dir);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(part, rel, k);
		part[k] = '\0';
		rel += k;
		while (*rel == '/')
			rel++;
		int fd = openat(dir, part, *rel ? DIR_FLAGS
				: O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
		int err = errno;
		close(dir);
		errno = err;
		dir = fd;
	}
	return dir;
}

/* full is root + "/" + a relative path: resolves it and opens it if it
 * is a regular file that stays inside root. 301 for a directory. */
static int open_under(const char *root, const char *full,
		      struct static_file *f)
{
	char real[PATH_MAX];
	if (!realpath(full, real))
		return errno_status(errno);
	size_t n = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (strncmp(real, root, n) != 0 || (real[n] != '/' && real[n] != '\0'))
		return 404; /* a symlink led out of root */
	const char *below = real + n;
	if (strncmp(below, "/" WELL_KNOWN, WELL_KNOWN_LEN + 1) == 0 &&
	    (below[WELL_KNOWN_LEN + 1] == '/' || below[WELL_KNOWN_LEN + 1] == '\0'))
		below += WELL_KNOWN_LEN + 1;
	if (strstr(below, "/."))
		return 404; /* a symlink led to a dotfile */
	struct stat st;
	if (lstat(real, &st) < 0)
		return errno_status(errno);
	if (S_ISDIR(st.st_mode))
		return 301;
	if (!S_ISREG(st.st_mode))
		return 404; /* never open a FIFO or a device */
	/* real has no symlink in it: opening it a component at a time without
	 * following any means a directory swapped for a symlink since realpath
	 * ran is refused, not followed out of root. */
	int fd = static_open_beneath(root, real + n);
	if (fd < 0)
		return errno_status(errno);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 404;
	}
	f->fd = fd;
	f->size = (uint64_t)st.st_size;
	f->mtime = (int64_t)st.st_mtime;
	return 0;
}

int static_open(const char *root, const char *rel, struct static_file *f)
{
	char full[PATH_MAX];
	size_t rl = strlen(rel);
	bool dir = rl == 0 || rel[rl - 1] == '/';
	const char *index = dir ? "index.html" : "";
	int k = snprintf(full, sizeof full, "%s/%s%s", root, rel, index);
	if (k < 0 || (size_t)k >= sizeof full)
		return 404;
	f->fd = -1;
	int status = open_under(root, full, f);
	if (status == 301 && dir)
		return 404; /* index.html is a directory */
	if (status == 0) {
		/* The type follows the name asked for, as a symlink's target
		 * may have none (e.g. a content-hashed build file). */
		const char *name = strrchr(full, '/') + 1;
		f->type = static_type(name, strlen(name));
		if (!f->type) {
			/* A name that says nothing: its first bytes say
			 * text or not, as websocketd's file server does. */
			uint8_t head[STATIC_SNIFF_LEN];
			ssize_t r = pread(f->fd, head, sizeof head, 0);
			f->type = static_sniff(head, r > 0 ? (size_t)r : 0);
		}
	}
	return status;
}
