/* slowexec.so: an LD_PRELOAD for portal-gw's end-to-end tests that holds
 * the exec of any program whose path contains "slow" until the file named
 * by $SLOWEXEC_GATE exists (at most 20 s), so that a test can act while a
 * session waits for its child's exec. It runs in the forked child, before
 * the exec, which is where portal-gw calls execve. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int execve(const char *path, char *const argv[], char *const envp[]);

int execve(const char *path, char *const argv[], char *const envp[])
{
	const char *gate = getenv("SLOWEXEC_GATE");
	if (gate && strstr(path, "slow")) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		for (int i = 0; i < 2000 && access(gate, F_OK) != 0; i++)
			nanosleep(&ts, NULL);
	}
	int (*real)(const char *, char *const[], char *const[]);
	*(void **)&real = dlsym(RTLD_NEXT, "execve");
	return real(path, argv, envp);
}
