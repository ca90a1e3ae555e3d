/* program: the "#!" checks on real files in a temporary directory (CRLF,
 * missing, directory and non-executable interpreters, an empty #! line,
 * env with a CR-ended argument, a binary, no #! at all), the words for each
 * exec errno, and the hint for a route written without its '/'. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "program.h"

static char dir[] = "/tmp/test_program.XXXXXX";

/* Writes a file named name in dir with the given text and mode; returns
 * its path (static storage, one at a time). */
static const char *put(const char *name, const char *text, mode_t mode)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static void check_says(const char *name, const char *text, mode_t mode,
		       const char *want)
{
	char why[PROGRAM_WHY_MAX] = "";
	bool ok = program_check(put(name, text, mode), why, sizeof why);
	if (!want) {
		if (!CHECK(ok))
			fprintf(stderr, "    %s: %s\n", name, why);
		return;
	}
	CHECK(!ok);
	if (!CHECK(strstr(why, want) != NULL))
		fprintf(stderr, "    %s: got '%s', want '%s'\n", name, why, want);
}

static void test_check(void)
{
	check_says("good.sh", "#!/bin/sh\necho hi\n", 0755, NULL);
	check_says("args.sh", "#! /bin/sh -e\necho hi\n", 0755, NULL);
	check_says("plain.sh", "echo no shebang\n", 0755, NULL);
	check_says("elf", "\x7f" "ELF\x02\x01\x01", 0755, NULL);
	check_says("short", "#", 0755, NULL);
	check_says("crlf.sh", "#!/bin/sh\r\necho hi\r\n", 0755,
		   "its interpreter /bin/sh\\r does not exist (CRLF line endings?)");
	check_says("gone.sh", "#!/nonexistent/sh\necho hi\n", 0755,
		   "its interpreter /nonexistent/sh does not exist");
	check_says("envcr.sh", "#!/usr/bin/env sh\r\necho hi\r\n", 0755,
		   "its #! line ends in \\r (CRLF line endings?)");
	check_says("dir.sh", "#!/tmp\n", 0755,
		   "its interpreter /tmp is a directory");
	check_says("empty.sh", "#!\necho hi\n", 0755,
		   "its #! line names no interpreter");
	put("noexec-interp", "#!/bin/sh\n", 0644);
	char text[600];
	snprintf(text, sizeof text, "#!%s/noexec-interp\n", dir);
	check_says("uses-noexec.sh", text, 0755, "is not executable");
	/* A line with no "\n" within the bytes read still counts. */
	check_says("noeol.sh", "#!/nonexistent/x", 0755, "does not exist");
}

static void check_explains(const char *path, int err, const char *want)
{
	char why[PROGRAM_WHY_MAX] = "";
	program_explain(path, err, why, sizeof why);
	if (!CHECK(strstr(why, want) != NULL))
		fprintf(stderr, "    %s (%d): got '%s', want '%s'\n", path, err,
			why, want);
}

static void test_explain(void)
{
	char missing[600];
	snprintf(missing, sizeof missing, "%s/missing.sh", dir);
	check_explains(missing, ENOENT, "no such file");
	check_explains("no-such-program-anywhere", ENOENT, "not found in PATH");
	check_explains(put("crlf2.sh", "#!/bin/sh\r\n", 0755), ENOENT,
		       "CRLF line endings?");
	check_explains(put("gone2.sh", "#!/nonexistent/sh\n", 0755), ENOENT,
		       "its interpreter /nonexistent/sh does not exist");
	check_explains(put("elf2", "\x7f" "ELF", 0755), ENOENT,
		       "dynamic loader");
	check_explains(put("noexec.sh", "#!/bin/sh\n", 0644), EACCES,
		       "it is not executable (mode 0644)");
	/* The file's own permission comes before its #! line. */
	check_explains(put("noexec-crlf.sh", "#!/bin/sh\r\n", 0644), EACCES,
		       "it is not executable (mode 0644)");
	check_explains(dir, EACCES, "it is a directory");
	check_explains(dir, EISDIR, "it is a directory");
	check_explains(put("junk", "junk\n", 0755), ENOEXEC,
		       "neither a #! script nor a binary");
	check_explains(put("empty2.sh", "#!\n", 0755), ENOEXEC,
		       "names no interpreter");
	check_explains(put("fine.sh", "#!/bin/sh\n", 0755), EMFILE,
		       strerror(EMFILE));
}

static void check_usable(const char *argv0, int err, const char *want)
{
	char why[PROGRAM_WHY_MAX] = "";
	CHECK(!program_usable(argv0, NULL, err, why, sizeof why));
	if (!CHECK(strstr(why, want) != NULL))
		fprintf(stderr, "    %s: got '%s', want '%s'\n", argv0, why, want);
}

static void test_usable(void)
{
	check_usable("e=cat", ENOENT,
		     "not found in PATH; routes start with /: did you mean /e=cat?");
	check_usable("chat/room=./chat.sh", ENOENT, "did you mean /chat/room=");
	char why[PROGRAM_WHY_MAX] = "";
	program_usable("no-such-prog", NULL, ENOENT, why, sizeof why);
	CHECK(strstr(why, "did you mean") == NULL);
	program_usable("./a=b", NULL, ENOENT, why, sizeof why);
	CHECK(strstr(why, "did you mean") == NULL);
	CHECK(program_usable("sh", "/bin/sh", 0, why, sizeof why));
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_check();
	test_explain();
	test_usable();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_report("program");
}
