/* The Range request header: one byte range of a file. */
#include "range.h"

#include <stdbool.h>
#include <strings.h>

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* 1*DIGIT at *p, saturating at UINT64_MAX. False if there is no digit. */
static bool take_pos(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	*v = 0;
	while (*p < end && **p >= '0' && **p <= '9') {
		uint64_t d = (uint64_t)(**p - '0');
		*v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
		(*p)++;
	}
	return *p > s;
}

enum range_result range_parse(const char *v, size_t len, uint64_t size,
			      uint64_t *first, uint64_t *last)
{
	const char *p = v, *end = v + len;
	*first = *last = 0;
	if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return RANGE_WHOLE;
	p += 6;
	while (p < end && blank(*p))
		p++;
	while (end > p && blank(end[-1]))
		end--;
	uint64_t a, b;
	bool has_a = take_pos(&p, end, &a);
	if (p == end || *p++ != '-')
		return RANGE_WHOLE;
	bool has_b = take_pos(&p, end, &b);
	if (p != end || (!has_a && !has_b))
		return RANGE_WHOLE; /* more after the range (a list), or "-" */
	if (!has_a) {
		if (b == 0)
			return RANGE_UNSATISFIABLE;
		if (size == 0)
			return RANGE_WHOLE;
		*first = b < size ? size - b : 0;
		*last = size - 1;
		return RANGE_PART;
	}
	if (!has_b)
		b = UINT64_MAX;
	if (b < a)
		return RANGE_WHOLE;
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	*first = a;
	*last = b < size ? b : size - 1;
	return RANGE_PART;
}
