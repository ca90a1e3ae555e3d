#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* A file's "#!" line, as the kernel reads it (Linux binfmt_script): the
 * interpreter runs to the first blank, tab or end of line, so a "\r"
 * before the "\n" becomes part of its name or of its argument. */
struct shebang {
	bool present;    /* the file starts with "#!" */
	char interp[PROGRAM_HEAD];
	bool crlf;       /* the line ends in "\r" */
};

/* Reads path's first line into *sb. Returns false if it cannot be read. */
static bool shebang_read(const char *path, struct shebang *sb)
{
	memset(sb, 0, sizeof *sb);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	char head[PROGRAM_HEAD];
	ssize_t n;
	do
		n = read(fd, head, sizeof head - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return false;
	if (n < 2 || head[0] != '#' || head[1] != '!')
		return true;
	sb->present = true;
	size_t len = (size_t)n;
	const char *nl = memchr(head, '\n', len);
	size_t end = nl ? (size_t)(nl - head) : len;
	sb->crlf = end > 2 && head[end - 1] == '\r';
	size_t i = 2;
	while (i < end && (head[i] == ' ' || head[i] == '\t'))
		i++;
	size_t from = i;
	while (i < end && head[i] != ' ' && head[i] != '\t')
		i++;
	memcpy(sb->interp, head + from, i - from);
	sb->interp[i - from] = '\0';
	return true;
}

/* s for a message: "\r" and other control bytes written as escapes. */
static const char *visible(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\r')
			o += (size_t)snprintf(out + o, cap - o, "\\r");
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static void say(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

/* What is wrong with sb's interpreter; false if nothing is. */
static bool interp_fault(const struct shebang *sb, char *why, size_t cap)
{
	char v[PROGRAM_HEAD * 4];
	const char *hint = sb->crlf ? " (CRLF line endings?)" : "";
	struct stat st;
	if (!sb->interp[0]) {
		say(why, cap, "its #! line names no interpreter");
		return true;
	}
	visible(sb->interp, v, sizeof v);
	if (stat(sb->interp, &st) < 0) {
		say(why, cap, "its interpreter %s does not exist%s", v, hint);
		return true;
	}
	if (S_ISDIR(st.st_mode)) {
		say(why, cap, "its interpreter %s is a directory", v);
		return true;
	}
	if (!S_ISREG(st.st_mode) || access(sb->interp, X_OK) < 0) {
		say(why, cap, "its interpreter %s is not executable", v);
		return true;
	}
	if (sb->crlf) {
		/* "#!/usr/bin/env python3\r": env looks for "python3\r". */
		say(why, cap, "its #! line ends in \\r (CRLF line endings?)");
		return true;
	}
	return false;
}

bool program_check(const char *path, char *why, size_t cap)
{
	struct shebang sb;
	if (!shebang_read(path, &sb) || !sb.present)
		return true;
	return !interp_fault(&sb, why, cap);
}

void program_explain(const char *path, int err, char *why, size_t cap)
{
	struct stat st;
	struct shebang sb;
	bool found = stat(path, &st) == 0;
	if (found && S_ISDIR(st.st_mode)) {
		say(why, cap, "it is a directory");
		return;
	}
	if (err == EACCES && found && S_ISREG(st.st_mode) &&
	    access(path, X_OK) < 0) {
		say(why, cap, "it is not executable (mode %04o)",
		    (unsigned)(st.st_mode & 07777));
		return;
	}
	bool script = found && shebang_read(path, &sb) && sb.present;
	if (script && (err == ENOENT || err == EACCES || err == EISDIR ||
		       err == ENOEXEC || err == ELOOP) &&
	    interp_fault(&sb, why, cap))
		return;
	switch (err) {
	case ENOENT:
		if (!found && !strchr(path, '/'))
			say(why, cap, "not found in PATH");
		else if (!found)
			say(why, cap, "no such file");
		else
			say(why, cap, "a file it needs is missing (its "
			    "dynamic loader or a library?)");
		return;
	case EACCES:
		if (found && !S_ISREG(st.st_mode))
			say(why, cap, "it is not a regular file");
		else
			say(why, cap, "permission denied (a directory on its "
			    "path not searchable, or a noexec mount?)");
		return;
	case EISDIR:
		say(why, cap, "it is a directory");
		return;
	case ENOEXEC:
		say(why, cap, "not a format this system runs: neither a #! "
		    "script nor a binary for this machine");
		return;
	default:
		say(why, cap, "%s", strerror(err));
	}
}

bool program_usable(const char *argv0, const char *program, int err,
		    char *why, size_t cap)
{
	if (program)
		return program_check(program, why, cap);
	program_explain(argv0, err, why, cap);
	/* "e=cat" was taken as the PROGRAM form: a route lost its '/'. */
	const char *eq = strchr(argv0, '=');
	if (eq && eq > argv0 && !strchr("/.-~", argv0[0]) &&
	    !memchr(argv0, ' ', (size_t)(eq - argv0))) {
		size_t n = strlen(why);
		snprintf(why + n, cap - n, "; routes start with /: did you "
			 "mean /%s?", argv0);
	}
	return false;
}

/* --dir files already noted, by device, inode and change time (which a
 * chmod or a rewrite moves on): a small ring, since a directory of
 * programs is small and a note repeated after 64 others does no harm. */
#define NOTED_MAX 64

struct noted {
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
};

static struct noted noted[NOTED_MAX];
static size_t noted_next;

static bool noted_before(const struct stat *st)
{
	for (size_t i = 0; i < NOTED_MAX; i++) {
		const struct noted *k = &noted[i];
		if (k->dev == st->st_dev && k->ino == st->st_ino &&
		    k->ctime.tv_sec == st->st_ctim.tv_sec &&
		    k->ctime.tv_nsec == st->st_ctim.tv_nsec)
			return true;
	}
	noted[noted_next] = (struct noted){st->st_dev, st->st_ino, st->st_ctim};
	noted_next = (noted_next + 1) % NOTED_MAX;
	return false;
}

void program_dir_note(const char *path, bool ok)
{
	struct stat st;
	char why[PROGRAM_WHY_MAX];
	if (stat(path, &st) < 0 || S_ISDIR(st.st_mode) || noted_before(&st))
		return;
	if (!ok) {
		program_explain(path, EACCES, why, sizeof why);
		log_msg(LV_ERROR, "--dir: %s is not served: %s", path, why);
	} else if (!program_check(path, why, sizeof why)) {
		log_msg(LV_ERROR, "--dir: %s cannot start: %s", path, why);
	}
}
