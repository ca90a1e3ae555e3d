/* Runs a fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer, so that the seed corpora and the kept crashers replay in the
 * ordinary test build (with any compiler, under sanitizers or not).
 *
 *   replay_TARGET PATH...
 *
 * Each PATH is a file or a directory whose regular files are all run, in
 * name order. A broken invariant aborts, naming the input first. Exits 0
 * when every input ran, 1 if a PATH cannot be read. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	/* Exactly n bytes, as libFuzzer gives them, so that a sanitizer
	 * catches a read past the input. */
	uint8_t *p = malloc(n ? n : 1);
	if (!p || fread(p, 1, n, f) != n) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(p);
		fclose(f);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(p, n);
	free(p);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir; returns how many, or -1. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long ran = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				abort();
		}
		size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
		names[n] = malloc(len);
		if (!names[n])
			abort();
		snprintf(names[n++], len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(names[i]) < 0)
				ran = -1;
			else if (ran >= 0)
				ran++;
		}
		free(names[i]);
	}
	free(names);
	return ran;
}

int main(int argc, char **argv)
{
	long total = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		long ran;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			rc = 1;
			continue;
		}
		ran = S_ISDIR(st.st_mode)     ? run_dir(argv[i])
		      : run_file(argv[i]) < 0 ? -1
					      : 1;
		if (ran < 0)
			rc = 1;
		else
			total += ran;
	}
	printf("%s: %ld inputs replayed\n", argc > 0 ? argv[0] : "replay",
	       total);
	return rc;
}
