#include "plain.h"

#include "session.h"

bool plain_request(struct client *c, const struct http_request *req,
		   int head_len)
{
	(void)c;
	(void)req;
	(void)head_len;
	return false;
}

bool plain_refill(struct client *c)
{
	(void)c;
	return false;
}
