/* portal-gw: wiring and exit codes. */
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"
#include "server.h"

int main(int argc, char **argv)
{
	/* Keep 0, 1 and 2 taken, so that no pipe or socket lands there and a
	 * child's dup2 onto them works as intended. */
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			return 1;
	}

	struct options o;
	switch (opts_parse(argc, argv, &o)) {
	case OPTS_EXIT:
		return 0;
	case OPTS_USAGE:
		return 2;
	case OPTS_FAIL:
		return 1;
	default:
		break;
	}
	log_threshold = o.loglevel;
	int rc = server_run(&o);
	opts_free(&o);
	return rc;
}
