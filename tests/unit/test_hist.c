/* hist: the --history ring: order, capacity, what is released and when. */
#include <stdint.h>

#include "check.h"
#include "hist.h"

static int released[64];
static size_t nreleased;

static void release(void *item)
{
	if (nreleased < sizeof released / sizeof released[0])
		released[nreleased++] = (int)(intptr_t)item;
}

static void *item(int v)
{
	return (void *)(intptr_t)v;
}

static int at(const struct hist *h, size_t i)
{
	return (int)(intptr_t)hist_get(h, i);
}

int main(void)
{
	void *slot[3];
	struct hist h;

	hist_init(&h, slot, 3, release);
	CHECK_INT(hist_len(&h), 0);
	hist_push(&h, item(1));
	hist_push(&h, item(2));
	CHECK_INT(hist_len(&h), 2);
	CHECK_INT(at(&h, 0), 1);
	CHECK_INT(at(&h, 1), 2);
	CHECK_INT(nreleased, 0);
	hist_push(&h, item(3));
	/* Full: each push drops the oldest, in order. */
	for (int v = 4; v <= 10; v++) {
		hist_push(&h, item(v));
		CHECK_INT(hist_len(&h), 3);
		CHECK_INT(at(&h, 0), v - 2);
		CHECK_INT(at(&h, 2), v);
		CHECK_INT(nreleased, (size_t)v - 3);
		CHECK_INT(released[nreleased - 1], v - 3);
	}
	/* Clear: everything held, oldest first; then usable again. */
	nreleased = 0;
	hist_clear(&h);
	CHECK_INT(hist_len(&h), 0);
	CHECK_INT(nreleased, 3);
	CHECK_INT(released[0], 8);
	CHECK_INT(released[2], 10);
	hist_push(&h, item(11));
	CHECK_INT(hist_len(&h), 1);
	CHECK_INT(at(&h, 0), 11);
	nreleased = 0;
	hist_clear(&h);
	CHECK_INT(nreleased, 1);
	hist_clear(&h);
	CHECK_INT(nreleased, 1);

	/* --history 0: nothing kept, each item released at once. */
	nreleased = 0;
	hist_init(&h, NULL, 0, release);
	hist_push(&h, item(5));
	CHECK_INT(hist_len(&h), 0);
	CHECK_INT(nreleased, 1);
	CHECK_INT(released[0], 5);
	hist_clear(&h);
	CHECK_INT(nreleased, 1);

	/* Capacity 1. */
	nreleased = 0;
	hist_init(&h, slot, 1, release);
	hist_push(&h, item(1));
	hist_push(&h, item(2));
	CHECK_INT(hist_len(&h), 1);
	CHECK_INT(at(&h, 0), 2);
	CHECK_INT(nreleased, 1);
	CHECK_INT(released[0], 1);
	return check_report("hist");
}
