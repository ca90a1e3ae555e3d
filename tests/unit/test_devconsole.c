/* devconsole: the page's static promises, checked without a browser (the
 * browser test is tests/interop/devconsole_client.py): one NUL-free HTML
 * document of a few KiB, nothing loaded from elsewhere, messages put in as
 * text only, and every element id the browser test reads. */
#include <string.h>

#include "check.h"
#include "devconsole.h"

static int has(const char *needle)
{
	return strstr(devconsole_page, needle) != NULL;
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
	    "<label for='input'>",
	};

	CHECK_INT(strlen(devconsole_page), devconsole_page_len);
	CHECK(devconsole_page_len < 8192);
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
	return check_report("devconsole");
}
