/* route_origin_ok: --origin and --sameorigin decisions. */
#include <string.h>

#include "check.h"
#include "route.h"

static int ok(const char *allowed_csv, int same, const char *origin,
	      const char *host)
{
	struct opts_list l = { .n = 0 };
	char buf[256];
	if (allowed_csv) {
		strcpy(buf, allowed_csv);
		for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
			l.item[l.n++] = t;
	}
	return route_origin_ok(&l, same != 0, origin, origin ? strlen(origin) : 0,
			       host, host ? strlen(host) : 0);
}

int main(void)
{
	/* No policy: anything goes. */
	CHECK(ok(NULL, 0, "http://evil.example", "a:1"));
	CHECK(ok(NULL, 0, NULL, "a:1"));
	/* --sameorigin */
	CHECK(ok(NULL, 1, "http://app.example:8080", "app.example:8080"));
	CHECK(ok(NULL, 1, "http://APP.example:8080", "app.example:8080"));
	CHECK(!ok(NULL, 1, "http://app.example:8081", "app.example:8080"));
	CHECK(!ok(NULL, 1, "http://evil.example:8080", "app.example:8080"));
	CHECK(ok(NULL, 1, "https://app.example", "app.example"));
	CHECK(ok(NULL, 1, "http://app.example", "app.example:80"));
	CHECK(!ok(NULL, 1, "https://app.example", "app.example:80"));
	CHECK(ok(NULL, 1, NULL, "app.example"));
	CHECK(!ok(NULL, 1, "null", "app.example"));
	CHECK(ok(NULL, 1, "http://[::1]:8080", "[::1]:8080"));
	/* --origin */
	CHECK(ok("app.example", 0, "http://app.example:1234", "x"));
	CHECK(ok("app.example", 0, "https://app.example", "x"));
	CHECK(!ok("app.example", 0, "http://app.example.evil", "x"));
	CHECK(ok("app.example:8080", 0, "http://app.example:8080", "x"));
	CHECK(!ok("app.example:8080", 0, "http://app.example:8081", "x"));
	CHECK(ok("https://app.example", 0, "https://app.example", "x"));
	CHECK(!ok("https://app.example", 0, "http://app.example", "x"));
	CHECK(ok("other.example,app.example", 0, "http://app.example", "x"));
	CHECK(!ok("app.example", 0, "null", "x"));
	CHECK(!ok("app.example", 0, "app.example", "x"));
	CHECK(ok("app.example", 0, "http://app.example/", "x"));
	CHECK(!ok("app.example", 0, "http://app.example:x", "x"));
	/* Both: each must hold. */
	CHECK(!ok("app.example", 1, "http://app.example", "other.example"));
	return check_report("route");
}
