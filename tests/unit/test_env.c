/* env: the CGI environment builder. */
#include <string.h>

#include "check.h"
#include "env.h"

static const char *find(char **vars, const char *name)
{
	size_t n = strlen(name);
	for (; *vars; vars++) {
		if (strncmp(*vars, name, n) == 0 && (*vars)[n] == '=')
			return *vars + n + 1;
	}
	return NULL;
}

int main(void)
{
	char buf[512];
	char *vars[16];
	struct env e;

	env_init(&e, buf, sizeof buf, vars, 16);
	env_add(&e, "PATH_INFO", "/x", 2);
	env_add(&e, "QUERY_STRING", "a=1\r\nEVIL=1", 11);
	env_add_header(&e, "Host", 4, "example.com", 11);
	env_add_header(&e, "X-Forwarded-For", 15, "1.2.3.4", 7);
	env_add_header(&e, "X-Forwarded-For", 15, "5.6.7.8", 7);
	env_add_header(&e, "X_Smuggled", 10, "no", 2);
	env_add_header(&e, "Bad Name", 8, "no", 2);
	env_add_header(&e, "", 0, "no", 2);
	char **v = env_finish(&e);
	CHECK(!e.overflow);
	CHECK(strcmp(find(v, "PATH_INFO"), "/x") == 0);
	CHECK(strcmp(find(v, "QUERY_STRING"), "a=1  EVIL=1") == 0);
	CHECK(find(v, "EVIL") == NULL);
	CHECK(strcmp(find(v, "HTTP_HOST"), "example.com") == 0);
	CHECK(strcmp(find(v, "HTTP_X_FORWARDED_FOR"), "1.2.3.4, 5.6.7.8") == 0);
	CHECK(find(v, "HTTP_X_SMUGGLED") == NULL);
	CHECK_INT(e.n, 4);

	/* A repeat that is not adjacent is joined too. */
	env_init(&e, buf, sizeof buf, vars, 16);
	env_add_header(&e, "Accept", 6, "a", 1);
	env_add_header(&e, "Host", 4, "h", 1);
	env_add_header(&e, "accept", 6, "b", 1);
	v = env_finish(&e);
	CHECK(!e.overflow);
	CHECK_INT(e.n, 2);
	CHECK(strcmp(find(v, "HTTP_ACCEPT"), "a, b") == 0);
	CHECK(strcmp(find(v, "HTTP_HOST"), "h") == 0);

	/* Too small: what does not fit is left out whole, and said. */
	char tiny[24];
	env_init(&e, tiny, sizeof tiny, vars, 16);
	env_add(&e, "A", "1", 1);
	env_add(&e, "LONG_NAME", "a value that does not fit", 25);
	env_add(&e, "B", "2", 1);
	v = env_finish(&e);
	CHECK(e.overflow);
	CHECK(strcmp(find(v, "A"), "1") == 0);
	CHECK(find(v, "LONG_NAME") == NULL);
	CHECK(strcmp(find(v, "B"), "2") == 0);

	/* Too many variables: the list stays NULL-terminated. */
	env_init(&e, buf, sizeof buf, vars, 3);
	env_add(&e, "A", "1", 1);
	env_add(&e, "B", "2", 1);
	env_add(&e, "C", "3", 1);
	v = env_finish(&e);
	CHECK(e.overflow);
	CHECK_INT(e.n, 2);
	CHECK(v[2] == NULL);
	return check_report("env");
}
