/* Programs as execve(2) meets them: what a script's "#!" line names, and
 * the cause of an exec failure in words, so that an error names the
 * interpreter that is missing rather than a "No such file or directory"
 * about a file that exists. Reads at most the first PROGRAM_HEAD bytes of
 * a file: for start-up, failure paths and once per --dir file, not for
 * every request. */
#ifndef PORTAL_PROGRAM_H
#define PORTAL_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

#define PROGRAM_HEAD 256   /* bytes of a file read for its "#!" line */
#define PROGRAM_WHY_MAX 512 /* room for any cause these functions write */

/* Checks what execve(path) would fail on although path is a regular
 * executable file: a "#!" line that is empty, ends in "\r" (a script saved
 * with CRLF line endings), or names an interpreter that does not exist, is
 * a directory or is not executable. Returns true if there is nothing of
 * the kind (or the file cannot be read); else false with the cause in
 * why[0..cap), e.g. "its interpreter /bin/sh\r does not exist (CRLF line
 * endings?)". */
bool program_check(const char *path, char *why, size_t cap);

/* The cause of a failed execve(path) that returned err (ENOENT, EACCES,
 * EISDIR, ENOEXEC, ...), in words: the file or its interpreter missing, a
 * directory, not executable, not a format the kernel runs. Writes
 * why[0..cap). */
void program_explain(const char *path, int err, char *why, size_t cap);

/* At start, for a resource's program argv0, resolved to program (NULL when
 * that failed, with err its errno): true if it can run as far as can be
 * seen; else false with the cause in why[0..cap), and for a word such as
 * "e=cat" the hint that routes start with '/'. */
bool program_usable(const char *argv0, const char *program, int err,
		    char *why, size_t cap);

/* --dir: a file path was asked for (ok: found executable). Logs, once per
 * file and per change of it, why it will not run: not executable (it gets
 * 404), or what program_check finds (its starts will fail). */
void program_dir_note(const char *path, bool ok);

#endif
