/* portal-gw: wiring and exit codes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "opts.h"
#include "server.h"
#include "static.h"

/* Marks every descriptor above 2 that portal-gw inherited close-on-exec, so
 * that none reaches a child. Its own are close-on-exec from birth. */
static void cloexec_inherited(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (fd > 2 && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	/* Keep 0, 1 and 2 taken, so that no pipe or socket lands there and a
	 * child's dup2 onto them works as intended. */
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			return 1;
	}

	cloexec_inherited();

	struct options o;
	int parsed = opts_parse(argc, argv, &o);
	if (parsed != OPTS_OK) {
		opts_free(&o);
		return parsed == OPTS_EXIT ? 0 : parsed == OPTS_USAGE ? 2 : 1;
	}
	log_threshold = o.loglevel;
	log_format = o.log_format;
	if (o.staticdir) {
		long n = static_types_load(STATIC_TYPES_FILE);
		if (n < 0)
			log_msg(LV_DEBUG, "%s: %s; built-in Content-Types only",
				STATIC_TYPES_FILE, strerror(errno));
		else
			log_msg(LV_DEBUG, "%s: Content-Types for %ld extensions",
				STATIC_TYPES_FILE, n);
	}
	long nofile = child_raise_nofile();
	if (child_init(nofile) < 0)
		log_msg(LV_INFO, "cannot reserve descriptors for spawning: %s",
			strerror(errno));
	log_msg(LV_DEBUG, "descriptor limit %ld: about %ld sessions", nofile,
		nofile > 40 ? (nofile - 40) / 4 : 0);
	int rc = server_run(&o);
	opts_free(&o);
	return rc;
}
