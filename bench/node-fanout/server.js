// The broadcast server people write for this job today, to compare
// portal-gw's --broadcast with (bench/fanout.sh): Node.js and the npm `ws`
// package, nothing smarter than its README's broadcast example. It runs one
// program, splits its stdout into lines and sends each line as a text
// message to every client in wss.clients.
//
//   node server.js PORT COMMAND [ARG...]
//
// Listens on 127.0.0.1:PORT (0: any free port) and logs
// "listening on 127.0.0.1:PORT" on stderr, as portal-gw does.
'use strict';

const { spawn } = require('child_process');
const readline = require('readline');
const { WebSocketServer, WebSocket } = require('ws');

const [port, cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node server.js PORT COMMAND [ARG...]');
  process.exit(2);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(port) });
wss.on('listening', () => {
  console.error(`listening on 127.0.0.1:${wss.address().port}`);
});
wss.on('connection', (ws) => {
  ws.on('error', console.error);
});

const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
readline.createInterface({ input: child.stdout }).on('line', (line) => {
  wss.clients.forEach((client) => {
    if (client.readyState === WebSocket.OPEN) {
      client.send(line);
    }
  });
});
child.on('exit', (code, signal) => {
  console.error(`program exited: ${signal || code}`);
});
