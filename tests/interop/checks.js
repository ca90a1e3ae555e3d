// The interop checks written against the WHATWG WebSocket API, so that the
// same code drives Chromium's and Firefox's WebSocket, Node's built-in one
// (undici) and the npm package `ws` (whose EventTarget interface follows the
// same API).
//
// Loaded as a classic <script> by page.html and with require() by
// node_client.js. runChecks(WebSocket, base, onResult) resolves with a list of
// {name, ok, detail}; base is "ws://127.0.0.1:PORT". The gateway serves
// /echo=cat, /ok (prints "hi", exits 0), /fail (prints "bye", exits 3) and
// /linger (cat, then sleeps after its stdin ends).
// The Python client (python_client.py) makes the same checks.
(function (root) {
	'use strict';

	const BIG_LEN = 1 << 20; // 1 MiB, the message size the issue asks for
	const DEADLINE_MS = 10000; // for one event
	const BIG_DEADLINE_MS = 30000; // for the 1 MiB round trip

	// A text of n ASCII bytes whose period (61) does not divide any
	// power of two, so a lost, doubled or reordered fragment shows.
	function bigText(n) {
		const unit = 'portal-gw interop 0123456789 abcdefghijklmnopqrstuvwxyz ABCD!';
		return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
	}

	function show(s) {
		if (typeof s !== 'string') return String(s);
		return s.length > 60
			? JSON.stringify(s.slice(0, 40)) + '... (' + s.length + ' chars)'
			: JSON.stringify(s);
	}

	function closeInfo(c) {
		return 'code=' + c.code + ' reason=' + JSON.stringify(c.reason) +
			' wasClean=' + c.wasClean;
	}

	// Conn wraps one WebSocket: it queues messages and remembers the close
	// event, and each wait has a deadline.
	class Conn {
		constructor(WS, url) {
			this.msgs = [];
			this.closed = null;
			this.error = null;
			this.wake = null;
			this.opened = false;
			const ws = new WS(url);
			this.ws = ws;
			ws.onopen = () => { this.opened = true; this.poke(); };
			ws.onmessage = (e) => { this.msgs.push(e.data); this.poke(); };
			ws.onerror = (e) => {
				this.error = (e && (e.message || (e.error && e.error.message))) || 'error event';
				this.poke();
			};
			ws.onclose = (e) => {
				this.closed = { code: e.code, reason: e.reason, wasClean: e.wasClean };
				this.poke();
			};
		}

		poke() {
			const w = this.wake;
			this.wake = null;
			if (w) w();
		}

		// until(test, ms, what): resolves with test()'s first truthy value,
		// re-testing after each event; rejects after ms.
		until(test, ms, what) {
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => {
					this.wake = null;
					reject(new Error('timed out after ' + ms + ' ms waiting for ' + what +
						(this.closed ? ' (closed: ' + closeInfo(this.closed) + ')' : '') +
						(this.error ? ' (error: ' + this.error + ')' : '')));
				}, ms);
				const step = () => {
					let v;
					try {
						v = test();
					} catch (err) {
						clearTimeout(timer);
						reject(err);
						return;
					}
					if (v) {
						clearTimeout(timer);
						resolve(v);
					} else {
						this.wake = step;
					}
				};
				step();
			});
		}

		open() {
			return this.until(() => {
				if (this.opened) return true;
				if (this.closed) {
					throw new Error('connection failed: ' + closeInfo(this.closed) +
						(this.error ? ' (' + this.error + ')' : ''));
				}
				return false;
			}, DEADLINE_MS, 'the opening handshake');
		}

		next(ms) {
			return this.until(() => {
				if (this.msgs.length) return { data: this.msgs.shift() };
				if (this.closed) {
					throw new Error('closed before the expected message: ' + closeInfo(this.closed));
				}
				return false;
			}, ms || DEADLINE_MS, 'a message').then((m) => m.data);
		}

		close(ms) {
			return this.until(() => this.closed, ms || DEADLINE_MS, 'the close event');
		}

		// done(): ends a connection a check no longer needs.
		done() {
			if (!this.closed) {
				try { this.ws.close(1000); } catch (e) { /* already closing */ }
			}
			return this.close().catch(() => null);
		}
	}

	async function echoOne(WS, base, text, ms) {
		const c = new Conn(WS, base + '/echo');
		try {
			await c.open();
			c.ws.send(text);
			const got = await c.next(ms);
			if (got !== text) {
				throw new Error('sent ' + show(text) + ', got back ' + show(got));
			}
			return 'echoed ' + text.length + ' chars';
		} finally {
			await c.done();
		}
	}

	// expectEnd(path, line, code, reason): the child prints line and exits;
	// the client must see line, then a clean close with code and reason.
	async function expectEnd(WS, base, path, line, code, reason) {
		const c = new Conn(WS, base + path);
		try {
			await c.open();
			const got = await c.next();
			if (got !== line) throw new Error('expected ' + show(line) + ', got ' + show(got));
			const cl = await c.close();
			if (c.msgs.length) throw new Error('unexpected messages ' + show(c.msgs.join('|')));
			if (cl.code !== code || cl.reason !== reason || cl.wasClean !== true) {
				throw new Error('expected code=' + code + ' reason=' + JSON.stringify(reason) +
					' wasClean=true, got ' + closeInfo(cl));
			}
			return closeInfo(cl);
		} finally {
			await c.done();
		}
	}

	const CHECKS = [
		['echo short text', (WS, base) => echoOne(WS, base, 'hello, portal-gw')],
		['echo UTF-8 text', (WS, base) =>
			echoOne(WS, base, 'h\u00e9llo w\u00f6rld \u2713 \u4e16\u754c \ud83d\ude80')],
		['echo 100 messages in order', async (WS, base) => {
			const c = new Conn(WS, base + '/echo');
			try {
				await c.open();
				for (let i = 0; i < 100; i++) c.ws.send('message ' + i);
				for (let i = 0; i < 100; i++) {
					const got = await c.next();
					if (got !== 'message ' + i) {
						throw new Error('message ' + i + ' came back as ' + show(got));
					}
				}
				return '100 in order';
			} finally {
				await c.done();
			}
		}],
		['echo 1 MiB text', (WS, base) => echoOne(WS, base, bigText(BIG_LEN), BIG_DEADLINE_MS)],
		['client Close 1000 answered, wasClean', async (WS, base) => {
			const c = new Conn(WS, base + '/echo');
			await c.open();
			c.ws.close(1000, 'client done');
			const cl = await c.close();
			if (cl.code !== 1000 || cl.wasClean !== true) {
				throw new Error('expected code=1000 wasClean=true, got ' + closeInfo(cl));
			}
			return closeInfo(cl);
		}],
		['child exit 0: Close 1000, wasClean', (WS, base) =>
			expectEnd(WS, base, '/ok', 'hi', 1000, '')],
		['child exit 3: Close 1011 "exit status 3", wasClean', (WS, base) =>
			expectEnd(WS, base, '/fail', 'bye', 1011, 'exit status 3')],
	];

	// Where the API can drop a connection at once (the npm package ws has
	// terminate()): a client that sends Close 1001 (going away) and drops
	// TCP 20 ms later, as a process that quits does, on /linger, whose child
	// only ends when the gateway ends it. The gateway must keep serving.
	const DROP_CHECK = ['Close 1001 then TCP dropped, child lingering: gateway keeps serving',
		async (WS, base) => {
			const c = new Conn(WS, base + '/linger');
			await c.open();
			c.ws.send('are you there');
			const got = await c.next();
			if (got !== 'are you there') throw new Error('/linger echoed ' + show(got));
			c.ws.close(1001, 'going away');
			await new Promise((r) => setTimeout(r, 20));
			c.ws.terminate();
			await c.close();
			await new Promise((r) => setTimeout(r, 500));
			try {
				return 'then ' + await echoOne(WS, base, 'still there?');
			} catch (err) {
				throw new Error('the gateway no longer answers: ' + err.message);
			}
		}];

	async function runChecks(WS, base, onResult) {
		const results = [];
		const all = typeof WS.prototype.terminate === 'function' ? CHECKS.concat([DROP_CHECK]) : CHECKS;
		for (const [name, fn] of all) {
			let r;
			try {
				r = { name, ok: true, detail: await fn(WS, base) };
			} catch (err) {
				r = { name, ok: false, detail: (err && err.message) || String(err) };
			}
			results.push(r);
			if (onResult) onResult(r);
		}
		return results;
	}

	root.runInteropChecks = runChecks;
	if (typeof module !== 'undefined' && module.exports) {
		module.exports = { runChecks };
	}
})(typeof globalThis !== 'undefined' ? globalThis : this);
