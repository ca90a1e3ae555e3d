/* diebeforepid.so: an LD_PRELOAD for portal-gw's end-to-end tests that
 * kills a new child with SIGKILL at its first 4-byte write, which is the
 * child telling the gateway its pid, before that write happens: the case
 * of a child killed (by the OOM killer, say) before it could say. Only
 * processes other than the one that loaded it are affected, and only
 * while the file named by $DIEBEFOREPID_ARM exists. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static pid_t loader;

__attribute__((constructor)) static void init(void)
{
	loader = getpid();
}

ssize_t write(int fd, const void *buf, size_t n);

ssize_t write(int fd, const void *buf, size_t n)
{
	const char *arm = getenv("DIEBEFOREPID_ARM");
	if (n == sizeof(int) && arm && getpid() != loader &&
	    access(arm, F_OK) == 0)
		kill(getpid(), SIGKILL);
	ssize_t (*real)(int, const void *, size_t);
	*(void **)&real = dlsym(RTLD_NEXT, "write");
	return real(fd, buf, n);
}
