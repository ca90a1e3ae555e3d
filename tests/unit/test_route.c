/* route_find without --dir (the PROGRAM form and /PATH=COMMAND resources),
 * and route_origin_ok: --origin and --sameorigin decisions. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "opts.h"
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

/* route_find's SCRIPT_NAME and PATH_INFO for path, as "SCRIPT [INFO]". */
static const char *find(const struct options *o, const char *path)
{
	static char out[256];
	struct route r;
	if (route_find(o, path, strlen(path), &r) != 0)
		return "404";
	snprintf(out, sizeof out, "%.*s [%.*s]", (int)r.script_len, r.script,
		 (int)r.path_info_len, r.path_info);
	return out;
}

static void test_find(void)
{
	char p_root[] = "/", p_echo[] = "/echo", prog[] = "/bin/cat";
	char *argv[] = { prog, NULL };
	struct resource res[] = {
		{ p_root, 1, argv, prog, ROUTE_ONE },
		{ p_echo, 5, argv, prog, ROUTE_ONE },
	};
	struct options o;
	memset(&o, 0, sizeof o);
	/* The PROGRAM form: SCRIPT_NAME "/", the whole path in PATH_INFO,
	 * as websocketd. */
	o.resources = res;
	o.nresources = 1;
	CHECK(strcmp(find(&o, "/any/path"), "/ [/any/path]") == 0);
	CHECK(strcmp(find(&o, "/"), "/ [/]") == 0);
	CHECK(strcmp(find(&o, "/echo/x"), "/ [/echo/x]") == 0);
	/* A longer resource wins, with the rest in PATH_INFO. */
	o.nresources = 2;
	CHECK(strcmp(find(&o, "/echo/x/y"), "/echo [/x/y]") == 0);
	CHECK(strcmp(find(&o, "/echo"), "/echo []") == 0);
	CHECK(strcmp(find(&o, "/echoes"), "/ [/echoes]") == 0);
	o.resources = res + 1;
	o.nresources = 1;
	CHECK(strcmp(find(&o, "/echoes"), "404") == 0);
	CHECK(strcmp(find(&o, "/"), "404") == 0);

	/* A route carries its resource's kind. */
	struct route r;
	res[0].kind = ROUTE_BROADCAST;
	res[1].kind = ROUTE_HUB;
	o.resources = res;
	o.nresources = 2;
	CHECK(route_find(&o, "/echo/x", 7, &r) == 0 && r.kind == ROUTE_HUB);
	CHECK(route_find(&o, "/other", 6, &r) == 0 && r.kind == ROUTE_BROADCAST);
	res[1].kind = ROUTE_ONE;
	CHECK(route_find(&o, "/echo", 5, &r) == 0 && r.kind == ROUTE_ONE);
}

int main(void)
{
	test_find();
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
