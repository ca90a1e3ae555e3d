/* slowlookup.so: an LD_PRELOAD for portal-gw's end-to-end tests that holds
 * every getnameinfo until the file named by $SLOWLOOKUP_GATE exists (at
 * most 20 s; no wait when the variable is unset), then answers with the
 * name in $SLOWLOOKUP_NAME if set, else with the real lookup's answer: a
 * DNS server that is slow, or one that knows a name, on demand. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
		socklen_t hostlen, char *serv, socklen_t servlen, int flags);

int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
		socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	const char *gate = getenv("SLOWLOOKUP_GATE");
	const char *name = getenv("SLOWLOOKUP_NAME");
	if (gate) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		for (int i = 0; i < 2000 && access(gate, F_OK) != 0; i++)
			nanosleep(&ts, NULL);
	}
	if (name && host) {
		snprintf(host, hostlen, "%s", name);
		return 0;
	}
	int (*real)(const struct sockaddr *, socklen_t, char *, socklen_t,
		    char *, socklen_t, int);
	*(void **)&real = dlsym(RTLD_NEXT, "getnameinfo");
	return real(sa, salen, host, hostlen, serv, servlen, flags);
}
