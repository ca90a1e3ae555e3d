/* The --devconsole page: one self-contained HTML page (inline CSS and
 * script, no external assets, no framework) that opens a WebSocket to the
 * URL it was served from (ws: or wss: after the page's scheme, same host,
 * path and query), offering the subprotocol portal-gw.console, and shows
 * the session: state, every message both ways and the child's stderr
 * lines with a millisecond timestamp, the close code, reason and
 * wasClean, how the child ended and after how long; when the socket fails
 * before it opens, why the gateway refused it (asked with
 * "X-Portal-Console: why"). Also the index of resources (GET /), the
 * table of refusals and its JSON.
 *
 * Contract with tests/interop/devconsole_client.py, which reads these ids:
 * #state (connecting, open, closed), #log with one element per entry whose
 * data-dir is in, stderr, out, info or error, which holds time and .text
 * and has data-empty when its text is empty; #input, #send, #reconnect,
 * #clear, #close-code, #close-reason, #was-clean, #ended, #duration,
 * #refused; the index's #resources.
 * Messages are put in with textContent only: a child's output is shown as
 * text, never parsed as HTML. Binary messages (--binary, --framed) show as
 * "[binary N bytes]" and a hex preview of the first 32 bytes.
 *
 * The page is written with single quotes so that it needs no escapes here;
 * keep it free of double quotes, backslashes and "??" (trigraphs). */
#include "devconsole.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char devconsole_page[] =
    "<!DOCTYPE html>\n"
    "<html lang='en'>\n"
    "<head>\n"
    "<meta charset='utf-8'>\n"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
    "<title>portal-gw dev console</title>\n"
    "<link rel='icon' href='data:,'>\n"
    "<style>\n"
    "body {\n"
    "  font: 15px/1.4 system-ui, sans-serif;\n"
    "  max-width: 60em; margin: 1em auto; padding: 0 1em;\n"
    "}\n"
    "h1 { font-size: 1.2em; margin: 0; }\n"
    "code, #log, dd { font-family: ui-monospace, monospace; }\n"
    "#state[data-state=open] { color: #060; }\n"
    "#state[data-state=closed] { color: #a00; }\n"
    "#log {\n"
    "  height: 60vh; overflow-y: auto; border: 1px solid #888;\n"
    "  padding: .25em .5em; font-size: 13px;\n"
    "  white-space: pre-wrap; overflow-wrap: anywhere;\n"
    "}\n"
    "#log time { color: #666; }\n"
    "#log .dir {\n"
    "  display: inline-block; width: 7ch; margin: 0 .5ch;\n"
    "  text-align: center; font-weight: bold; font-style: normal;\n"
    "}\n"
    "[data-dir=in] .dir { color: #060; }\n"
    "[data-dir=out] .dir { color: #04a; }\n"
    "[data-dir=stderr] { color: #850; }\n"
    "[data-empty] .text::after {\n"
    "  content: 'empty message'; color: #888; font-style: italic;\n"
    "}\n"
    "[data-dir=info], [data-dir=error] { color: #666; font-style: italic; }\n"
    "[data-dir=error] { color: #a00; }\n"
    "form, dl {\n"
    "  display: flex; flex-wrap: wrap; gap: .5em; align-items: center;\n"
    "  margin: .5em 0;\n"
    "}\n"
    "#input { flex: 1; min-width: 12em; font: inherit; }\n"
    "dt { font-weight: bold; }\n"
    "dd { margin: 0 1em 0 0; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>portal-gw dev console</h1>\n"
    "<p><code id='url'></code>\n"
    "<strong id='state' role='status'\n"
    "  data-state='connecting'>connecting</strong>\n"
    "</p>\n"
    "<div id='log' role='log' aria-label='Messages' tabindex='0'></div>\n"
    "<form id='send-form'>\n"
    "<label for='input'>Message</label>\n"
    "<input id='input' autocomplete='off' autofocus>\n"
    "<button id='send' type='submit'>Send</button>\n"
    "<button id='reconnect' type='button'>Reconnect</button>\n"
    "<button id='clear' type='button'>Clear</button>\n"
    "</form>\n"
    "<dl aria-label='How the last connection closed'>\n"
    "<dt>Close code</dt><dd id='close-code'>-</dd>\n"
    "<dt>Reason</dt><dd id='close-reason'>-</dd>\n"
    "<dt>wasClean</dt><dd id='was-clean'>-</dd>\n"
    "<dt>Ended</dt><dd id='ended'>-</dd>\n"
    "<dt>Duration</dt><dd id='duration'>-</dd>\n"
    "<dt>Refused</dt><dd id='refused'>-</dd>\n"
    "</dl>\n"
    "<noscript>The dev console needs JavaScript.</noscript>\n"
    "<script>\n"
    "'use strict';\n"
    "// Older entries go, so that a chatty child cannot eat the tab.\n"
    "const MAX_ENTRIES = 1000;\n"
    "const HEX_PREVIEW = 32; // bytes of a binary message shown\n"
    "const $ = (id) => document.getElementById(id);\n"
    "const log = $('log');\n"
    "const input = $('input');\n"
    "// The resource this page was served from, as a WebSocket URL.\n"
    "const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' +\n"
    "  location.host + location.pathname + location.search;\n"
    "const MAX_HISTORY = 100; // inputs Up and Down recall\n"
    "const sent = []; // earlier inputs, oldest first\n"
    "let recall = 0;\n"
    "let ws = null;\n"
    "\n"
    "function stamp(d) {\n"
    "  const p = (n, w) => String(n).padStart(w, '0');\n"
    "  return p(d.getHours(), 2) + ':' + p(d.getMinutes(), 2) + ':' +\n"
    "    p(d.getSeconds(), 2) + '.' + p(d.getMilliseconds(), 3);\n"
    "}\n"
    "\n"
    "// One entry: dir is in, stderr, out, info or error. Text only\n"
    "// (textContent), so what a child prints is shown, never parsed as HTML.\n"
    "function add(dir, text) {\n"
    "  const now = new Date();\n"
    "  const e = document.createElement('div');\n"
    "  const t = document.createElement('time');\n"
    "  const d = document.createElement('span');\n"
    "  const m = document.createElement('span');\n"
    "  e.dataset.dir = dir;\n"
    "  t.dateTime = now.toISOString();\n"
    "  t.textContent = stamp(now);\n"
    "  d.className = 'dir';\n"
    "  d.textContent = dir;\n"
    "  m.className = 'text';\n"
    "  m.textContent = text;\n"
    "  if (text === '') e.dataset.empty = '';\n"
    "  e.append(t, d, m);\n"
    "  const atEnd =\n"
    "    log.scrollTop + log.clientHeight >= log.scrollHeight - 4;\n"
    "  log.append(e);\n"
    "  while (log.childElementCount > MAX_ENTRIES)\n"
    "    log.firstElementChild.remove();\n"
    "  if (atEnd) log.scrollTop = log.scrollHeight;\n"
    "}\n"
    "\n"
    "function binary(buf) {\n"
    "  const n = Math.min(buf.byteLength, HEX_PREVIEW);\n"
    "  const b = Array.from(new Uint8Array(buf, 0, n));\n"
    "  const hex = b.map((x) => x.toString(16).padStart(2, '0')).join(' ');\n"
    "  return '[binary ' + buf.byteLength + ' bytes] ' + hex +\n"
    "    (buf.byteLength > HEX_PREVIEW ? ' ...' : '');\n"
    "}\n"
    "\n"
    "function setState(s) {\n"
    "  $('state').textContent = s;\n"
    "  $('state').dataset.state = s;\n"
    "}\n"
    "\n"
    "// The socket failed before it opened: the browser does not say why, so\n"
    "// the gateway is asked (answered only under --devconsole).\n"
    "function explain() {\n"
    "  fetch(location.pathname + location.search,\n"
    "    { headers: { 'X-Portal-Console': 'why' }, cache: 'no-store' })\n"
    "    .then((r) => r.json())\n"
    "    .then((j) => {\n"
    "      const why = j.status ? 'HTTP ' + j.status + ': ' + j.reason :\n"
    "        'none noted: the request may not have reached the gateway';\n"
    "      $('refused').textContent = why;\n"
    "      add('error', 'handshake refused: ' + why);\n"
    "    })\n"
    "    .catch(() => add('error', 'the gateway did not answer'));\n"
    "}\n"
    "\n"
    "// Opens a new connection; an old one is closed and no longer shown.\n"
    "function connect() {\n"
    "  if (ws) {\n"
    "    ws.close(1000, 'reconnect');\n"
    "    ws = null;\n"
    "  }\n"
    "  for (const id of ['close-code', 'close-reason', 'was-clean', 'ended',\n"
    "    'duration', 'refused'])\n"
    "    $(id).textContent = '-';\n"
    "  setState('connecting');\n"
    "  add('info', 'connecting to ' + url);\n"
    "  let sock;\n"
    "  try {\n"
    "    sock = new WebSocket(url, ['portal-gw.console']);\n"
    "  } catch (err) {\n"
    "    setState('closed');\n"
    "    add('error', String(err));\n"
    "    return;\n"
    "  }\n"
    "  sock.binaryType = 'arraybuffer';\n"
    "  ws = sock;\n"
    "  let opened = 0;\n"
    "  sock.onopen = () => {\n"
    "    if (ws !== sock) return;\n"
    "    opened = performance.now();\n"
    "    setState('open');\n"
    "    add('info', 'open');\n"
    "  };\n"
    "  // Under portal-gw.console each text message has a tag: o stdout,\n"
    "  // e stderr.\n"
    "  const tagged = () => sock.protocol === 'portal-gw.console';\n"
    "  sock.onmessage = (e) => {\n"
    "    if (ws !== sock) return;\n"
    "    if (typeof e.data !== 'string') add('in', binary(e.data));\n"
    "    else if (!tagged()) add('in', e.data);\n"
    "    else add(e.data[0] === 'e' ? 'stderr' : 'in', e.data.slice(1));\n"
    "  };\n"
    "  sock.onerror = () => {\n"
    "    if (ws === sock) add('error', 'connection error');\n"
    "  };\n"
    "  sock.onclose = (e) => {\n"
    "    if (ws !== sock) return;\n"
    "    setState('closed');\n"
    "    $('close-code').textContent = e.code;\n"
    "    $('close-reason').textContent = e.reason;\n"
    "    $('was-clean').textContent = e.wasClean;\n"
    "    add('info', 'closed: code ' + e.code + ', reason ' +\n"
    "      JSON.stringify(e.reason) + ', wasClean ' + e.wasClean);\n"
    "    if (!opened) {\n"
    "      explain();\n"
    "      return;\n"
    "    }\n"
    "    const secs =\n"
    "      ((performance.now() - opened) / 1000).toFixed(3) + ' s';\n"
    "    const ended = e.reason || (e.code === 1000 ? 'exit status 0' :\n"
    "      'close code ' + e.code);\n"
    "    $('ended').textContent = ended;\n"
    "    $('duration').textContent = secs;\n"
    "    add('info', 'session ended after ' + secs + ': ' + ended);\n"
    "  };\n"
    "}\n"
    "\n"
    "$('send-form').onsubmit = (ev) => {\n"
    "  ev.preventDefault();\n"
    "  if (!ws || ws.readyState !== WebSocket.OPEN) {\n"
    "    add('error', 'not sent: the connection is not open');\n"
    "    return;\n"
    "  }\n"
    "  ws.send(input.value);\n"
    "  add('out', input.value);\n"
    "  if (input.value !== sent[sent.length - 1]) sent.push(input.value);\n"
    "  if (sent.length > MAX_HISTORY) sent.shift();\n"
    "  recall = sent.length;\n"
    "  input.value = '';\n"
    "  input.focus();\n"
    "};\n"
    "// Up and Down walk through what was sent, as in a shell.\n"
    "input.onkeydown = (ev) => {\n"
    "  if (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown') return;\n"
    "  ev.preventDefault();\n"
    "  recall = Math.max(0, Math.min(sent.length,\n"
    "    recall + (ev.key === 'ArrowUp' ? -1 : 1)));\n"
    "  input.value = recall < sent.length ? sent[recall] : '';\n"
    "};\n"
    "$('reconnect').onclick = connect;\n"
    "$('clear').onclick = () => { log.textContent = ''; };\n"
    "$('url').textContent = url;\n"
    "document.title = location.pathname + ' - portal-gw dev console';\n"
    "connect();\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";
const size_t devconsole_page_len = sizeof devconsole_page - 1;

/* dst[0..cap) gets src, cut to fit, always NUL-terminated. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

void devconsole_refused(struct devconsole_refusals *t, const char *addr,
			const char *path, int status, const char *reason,
			uint64_t now_ms)
{
	struct devconsole_refusal *r = &t->r[t->next];
	t->next = (t->next + 1) % DEVCONSOLE_REFUSALS;
	copy_cut(r->addr, sizeof r->addr, addr);
	copy_cut(r->path, sizeof r->path, path);
	copy_cut(r->reason, sizeof r->reason, reason);
	r->status = status;
	r->at_ms = now_ms;
}

const struct devconsole_refusal *
devconsole_find(const struct devconsole_refusals *t, const char *addr,
		const char *path, uint64_t now_ms)
{
	/* From the newest back. */
	for (size_t i = 1; i <= DEVCONSOLE_REFUSALS; i++) {
		const struct devconsole_refusal *r =
			&t->r[(t->next + DEVCONSOLE_REFUSALS - i) %
			      DEVCONSOLE_REFUSALS];
		if (r->status && now_ms - r->at_ms <= DEVCONSOLE_KEEP_MS &&
		    strcmp(r->addr, addr) == 0 && strcmp(r->path, path) == 0)
			return r;
	}
	return NULL;
}

size_t devconsole_json(const struct devconsole_refusal *r,
		       char out[DEVCONSOLE_JSON_MAX])
{
	static const char hex[] = "0123456789abcdef";
	int k = snprintf(out, DEVCONSOLE_JSON_MAX,
			 "{\"status\":%d,\"reason\":\"", r ? r->status : 0);
	size_t o = k > 0 ? (size_t)k : 0;
	for (const char *p = r ? r->reason : ""; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[ch >> 4];
			out[o + 5] = hex[ch & 15];
			o += 6;
		} else {
			out[o++] = (char)ch; /* UTF-8 passes as it is */
		}
	}
	memcpy(out + o, "\"}\n", 4); /* with the NUL */
	return o + 3;
}

/* Appends s[0..n) to out[*o..cap) if it fits; false if not. */
static bool put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (cap - *o < n)
		return false;
	memcpy(out + *o, s, n);
	*o += n;
	return true;
}

/* One <li>: the path HTML-escaped, as a percent-encoded link. */
static bool put_item(char *out, size_t cap, size_t *o, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t at = *o;
	bool ok = put(out, cap, o, "<li><a href='", 13);
	const unsigned char *u = (const unsigned char *)path;
	for (const unsigned char *p = u; ok && *p; p++) {
		char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		bool plain = (*p >= 'a' && *p <= 'z') ||
			     (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || strchr("/-._~", *p);
		ok = plain ? put(out, cap, o, (const char *)p, 1)
			   : put(out, cap, o, e, 3);
	}
	ok = ok && put(out, cap, o, "'>", 2);
	for (const char *p = path; ok && *p; p++) {
		const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;"
			      : *p == '>' ? "&gt;" : *p == '\'' ? "&#39;"
			      : *p == '"' ? "&quot;" : NULL;
		ok = e ? put(out, cap, o, e, strlen(e))
		       : put(out, cap, o, p, 1);
	}
	ok = ok && put(out, cap, o, "</a>\n", 5);
	if (!ok)
		*o = at;
	return ok;
}

size_t devconsole_index(const char *const *paths, size_t n, char *out,
			size_t cap)
{
	static const char head[] =
		"<!DOCTYPE html>\n<html lang='en'>\n<head>\n"
		"<meta charset='utf-8'>\n<title>portal-gw resources</title>\n"
		"<link rel='icon' href='data:,'>\n</head>\n<body>\n"
		"<h1>portal-gw resources</h1>\n<p>Each opens its dev console."
		"</p>\n<ul id='resources'>\n";
	static const char tail[] = "</ul>\n</body>\n</html>\n";
	char more[64];
	size_t o = 0, left = 0;
	/* Room for the tail, the note and the NUL is kept back. */
	size_t room = cap > sizeof tail + sizeof more ? cap - sizeof tail -
							sizeof more : 0;
	if (!put(out, room, &o, head, sizeof head - 1)) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		left += !put_item(out, room, &o, paths[i]);
	if (left) {
		int k = snprintf(more, sizeof more,
				 "<li>(%zu more not shown)\n", left);
		put(out, cap, &o, more, (size_t)k);
	}
	put(out, cap, &o, tail, sizeof tail - 1);
	out[o] = '\0';
	return o;
}
