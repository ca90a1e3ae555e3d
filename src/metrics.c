#include "metrics.h"

void metrics_http_error(struct metrics *m, int status)
{
	(void)m;
	(void)status;
}

void metrics_session_end(struct metrics *m, unsigned close_code,
			 const int *wait_status, const struct msg_counts *n)
{
	(void)close_code;
	(void)wait_status;
	m->ended.msgs_in += n->msgs_in;
	m->ended.bytes_in += n->bytes_in;
	m->ended.msgs_out += n->msgs_out;
	m->ended.bytes_out += n->bytes_out;
}
