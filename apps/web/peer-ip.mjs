// Plain JavaScript (no build step): imported by server.mjs, which Node runs directly, and by the app.

/**
 * The header that carries the address of the socket a request arrived on. Route handlers cannot see
 * the socket, and X-Forwarded-For is whatever the client (or a proxy) wrote, so the custom server
 * (server.mjs) writes this header for every request and the client-IP rule reads it.
 */
export const PEER_IP_HEADER = 'x-fleetplane-peer-ip';

/**
 * Sets PEER_IP_HEADER on an incoming request to the socket's remote address, replacing any value the
 * client sent under that name (in both `headers` and `rawHeaders`, whichever a handler reads); without
 * a remote address (socket already gone) the header is removed rather than left to the client.
 *
 * @param {import('node:http').IncomingMessage} req
 */
export function stampPeerAddress(req) {
  const peer = req.socket.remoteAddress;
  const raw = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() !== PEER_IP_HEADER) raw.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  if (peer) {
    req.headers[PEER_IP_HEADER] = peer;
    raw.push(PEER_IP_HEADER, peer);
  } else {
    delete req.headers[PEER_IP_HEADER];
  }
  req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
}
