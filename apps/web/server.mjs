// The production web server: `next start` with one addition. Route handlers cannot see the socket, and
// `next start` only fills X-Forwarded-For from it when the client sent none, so a client could name the
// IP that rate limits count and audit events record. This server stamps every request with the socket's
// address (peer-ip.mjs) before Next sees it; the client-IP rule (packages/domain/src/net/client-ip.ts)
// starts from that address. Plain JavaScript so Node runs it without a build step or a TS loader.
//
//   node apps/web/server.mjs [-p|--port PORT] [-H|--hostname HOST]   (defaults: $PORT or 3000, $HOSTNAME or 0.0.0.0)
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stampPeerAddress } from './peer-ip.mjs';

const { values } = parseArgs({
  options: { port: { type: 'string', short: 'p' }, hostname: { type: 'string', short: 'H' } },
});
const port = Number(values.port ?? process.env.PORT ?? 3000);
const hostname = values.hostname ?? process.env.HOSTNAME ?? '0.0.0.0';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${values.port ?? process.env.PORT}`);
  process.exit(1);
}

// What `next start` does: production unless told otherwise, set before Next (and React) load.
process.env.NODE_ENV ??= 'production';
const { default: next } = await import('next');

const dir = path.dirname(fileURLToPath(import.meta.url));
const app = next({ dev: false, dir, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((req, res) => {
  stampPeerAddress(req);
  handle(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
});

// Graceful shutdown as `next start` does it: stop accepting, let in-flight requests finish, close Next,
// then exit with the signal's conventional code.
let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  server.close((err) => {
    if (err) console.error(err);
    app
      .close()
      .catch((e) => console.error(e))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

server.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
server.listen(port, hostname, () => {
  console.log(`> Fleetplane web ready on http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`);
});
