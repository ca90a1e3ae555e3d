// Node.js interop client: node_client.js ws|builtin ws://127.0.0.1:PORT
//
//   ws       the npm package `ws` (from package-lock.json, in node_modules/)
//   builtin  Node's own WebSocket (undici): global from Node 22, behind
//            --experimental-websocket in Node 20 and 21
//
// Prints one PASS/FAIL line per check and "N passed, N failed"; exits 1
// if a check failed.
'use strict';

const { runChecks } = require('./checks.js');

async function main() {
	const [impl, base] = process.argv.slice(2);
	if (!base || (impl !== 'ws' && impl !== 'builtin')) {
		console.error('usage: node node_client.js ws|builtin ws://HOST:PORT');
		process.exit(2);
	}
	let WS;
	let version;
	if (impl === 'ws') {
		WS = require('ws');
		version = 'ws ' + require('ws/package.json').version;
	} else {
		WS = globalThis.WebSocket;
		if (typeof WS !== 'function') {
			console.error('this Node (' + process.version + ') has no built-in WebSocket');
			process.exit(2);
		}
		version = 'built-in WebSocket';
	}
	const tag = 'node-' + impl;
	console.log('# ' + tag + ': Node ' + process.version + ', ' + version);
	const results = await runChecks(WS, base, (r) => {
		console.log((r.ok ? 'PASS ' : 'FAIL ') + tag + ': ' + r.name + ' (' + r.detail + ')');
	});
	const failed = results.filter((r) => !r.ok).length;
	console.log(tag + ': ' + (results.length - failed) + ' passed, ' + failed + ' failed');
	// Nothing must be left pending; exit at once anyway.
	process.exit(failed ? 1 : 0);
}

main().catch((err) => {
	console.error('node client crashed: ' + (err && err.stack || err));
	process.exit(1);
});
