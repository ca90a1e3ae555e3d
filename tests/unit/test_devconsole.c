/* devconsole: the page's static promises, checked without a browser (the
 * browser test is tests/interop/devconsole_client.py): one NUL-free HTML
 * document of a few KiB, nothing loaded from elsewhere, messages put in as
 * text only, and every element id the browser test reads. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "devconsole.h"

static int has(const char *needle)
{
	return strstr(devconsole_page, needle) != NULL;
}

static void check_refusals(void)
{
	static struct devconsole_refusals t;
	CHECK(devconsole_find(&t, "1.2.3.4", "/a", 0) == NULL);
	devconsole_refused(&t, "1.2.3.4", "/a", 403, "origin not allowed", 1000);
	devconsole_refused(&t, "5.6.7.8", "/a", 404, "elsewhere", 1001);
	const struct devconsole_refusal *r = devconsole_find(&t, "1.2.3.4", "/a", 2000);
	CHECK(r && r->status == 403 && strcmp(r->reason, "origin not allowed") == 0);
	/* Another path, another address: nothing; too old: nothing. */
	CHECK(devconsole_find(&t, "1.2.3.4", "/b", 2000) == NULL);
	CHECK(devconsole_find(&t, "9.9.9.9", "/a", 2000) == NULL);
	CHECK(devconsole_find(&t, "1.2.3.4", "/a", 1000 + DEVCONSOLE_KEEP_MS) != NULL);
	CHECK(devconsole_find(&t, "1.2.3.4", "/a", 1001 + DEVCONSOLE_KEEP_MS) == NULL);
	/* The newest wins. */
	devconsole_refused(&t, "1.2.3.4", "/a", 503, "--maxforks reached", 3000);
	r = devconsole_find(&t, "1.2.3.4", "/a", 3000);
	CHECK(r && r->status == 503);
	/* The table is bounded: the oldest is forgotten. */
	for (int i = 0; i < DEVCONSOLE_REFUSALS; i++)
		devconsole_refused(&t, "7.7.7.7", "/x", 500, "x", 4000);
	CHECK(devconsole_find(&t, "1.2.3.4", "/a", 4000) == NULL);
	/* What does not fit is cut. */
	char long_reason[DEVCONSOLE_REASON_MAX * 2];
	memset(long_reason, 'r', sizeof long_reason - 1);
	long_reason[sizeof long_reason - 1] = '\0';
	devconsole_refused(&t, "7.7.7.7", "/y", 500, long_reason, 5000);
	r = devconsole_find(&t, "7.7.7.7", "/y", 5000);
	CHECK(r && strlen(r->reason) == DEVCONSOLE_REASON_MAX - 1);
}

static void check_json(void)
{
	static char out[DEVCONSOLE_JSON_MAX];
	struct devconsole_refusal r = {.status = 500};
	size_t n = devconsole_json(NULL, out);
	CHECK(strcmp(out, "{\"status\":0,\"reason\":\"\"}\n") == 0);
	CHECK_INT(n, strlen(out));
	strcpy(r.reason, "say \"hi\" \\ \r\x01 caf\xc3\xa9");
	n = devconsole_json(&r, out);
	CHECK(strcmp(out, "{\"status\":500,\"reason\":\"say \\\"hi\\\" \\\\ "
		       "\\u000d\\u0001 caf\xc3\xa9\"}\n") == 0);
	CHECK_INT(n, strlen(out));
	/* The worst case fits. */
	memset(r.reason, '\x01', sizeof r.reason - 1);
	r.reason[sizeof r.reason - 1] = '\0';
	n = devconsole_json(&r, out);
	CHECK(n < DEVCONSOLE_JSON_MAX && n == strlen(out));
}

static void check_index(void)
{
	static char out[4096];
	const char *paths[] = {"/echo", "/a<b&'c", "/sp ace"};
	size_t n = devconsole_index(paths, 3, out, sizeof out);
	CHECK_INT(n, strlen(out));
	CHECK(strstr(out, "<li><a href='/echo'>/echo</a>\n") != NULL);
	CHECK(strstr(out, "<li><a href='/a%3Cb%26%27c'>/a&lt;b&amp;&#39;c</a>\n") != NULL);
	CHECK(strstr(out, "<li><a href='/sp%20ace'>/sp ace</a>\n") != NULL);
	CHECK(strstr(out, "</html>\n") != NULL);
	/* Too many for the room: some left out, said so, still a whole page. */
	const char *many[200];
	for (size_t i = 0; i < 200; i++)
		many[i] = "/a-rather-long-resource-name-for-the-index";
	n = devconsole_index(many, 200, out, sizeof out);
	CHECK(n <= sizeof out && n == strnlen(out, sizeof out));
	CHECK(strstr(out, " more not shown)") != NULL);
	CHECK(n >= 22 && memcmp(out + n - 22, "</ul>\n</body>\n</html>\n", 22) == 0);
}

int main(void)
{
	static const char *const ids[] = {
	    "id='state'",
	    "id='url'",
	    "id='log'",
	    "id='input'",
	    "id='send'",
	    "id='reconnect'",
	    "id='clear'",
	    "id='close-code'",
	    "id='close-reason'",
	    "id='was-clean'",
	    "id='ended'",
	    "id='duration'",
	    "id='refused'",
	    "<label for='input'>",
	};

	CHECK_INT(strlen(devconsole_page), devconsole_page_len);
	CHECK(devconsole_page_len < 10240);
	CHECK(strncmp(devconsole_page, "<!DOCTYPE html>\n", 16) == 0);
	CHECK(has("<meta charset='utf-8'>"));
	CHECK(has("</html>\n"));
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (!CHECK(has(ids[i])))
			fprintf(stderr, "    missing %s\n", ids[i]);

	/* Self-contained: no URL but the data: icon (which stops the
	 * browser asking for /favicon.ico), no external script or sheet. */
	CHECK(!has("http://") && !has("https://") && !has("//cdn"));
	CHECK(!has("src=") && !has("<link rel='stylesheet'") &&
	      !has("@import"));
	CHECK(has("<link rel='icon' href='data:,'>"));

	/* A child's output never becomes markup. */
	CHECK(!has("innerHTML") && !has("outerHTML") &&
	      !has("insertAdjacentHTML") && !has("document.write"));
	CHECK(has("m.textContent = text;"));

	/* The WebSocket goes back where the page came from. */
	CHECK(has("location.host + location.pathname + location.search"));
	/* The console's subprotocol and its question. */
	CHECK(has("new WebSocket(url, ['portal-gw.console'])"));
	CHECK(has("'X-Portal-Console': 'why'"));

	check_refusals();
	check_json();
	check_index();
	return check_report("devconsole");
}
