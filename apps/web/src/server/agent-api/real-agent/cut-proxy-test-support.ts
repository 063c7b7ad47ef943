// A network cut between an agent and the control plane, for tests: a TCP proxy on 127.0.0.1 that forwards
// bytes both ways until told to cut. A cut destroys every open connection (both sides, as a dead link or a
// restarted load balancer would) and then refuses new ones for a while (accepted and reset at once), after
// which it forwards again. A cut can be armed on what passes: the chunk carrying a marker is not forwarded.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export type CutDirection = 'to_server' | 'to_agent';

export interface CutProxy {
  /** The URL to give the agent instead of the server's. */
  url: string;
  /** Cuts every connection now and refuses new ones for `refuseMs`. */
  cut(refuseMs: number): void;
  /**
   * Cuts when bytes going `direction` contain `marker`: those bytes are dropped (to_server: the server never
   * sees the request whole; to_agent: the server did its work but its answer never arrives). Resolves then.
   */
  cutOn(direction: CutDirection, marker: string, refuseMs: number): Promise<void>;
  /** Resolves when bytes containing `marker` have been forwarded `direction`. */
  passed(direction: CutDirection, marker: string): Promise<void>;
  /** Resolves when the refusal of the last cut is over. */
  restored(): Promise<void>;
  /** How many connections the proxy refused while cut. */
  readonly refused: number;
  close(): Promise<void>;
}

interface Watch {
  direction: CutDirection;
  marker: string;
  /** Cut (and drop the chunk) rather than just report that it passed. */
  cutMs: number | null;
  resolve: () => void;
}

export async function startCutProxy(target: { host: '127.0.0.1'; port: number }): Promise<CutProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let watches: Watch[] = [];
  let refuseUntil = 0;
  let refused = 0;

  const cut = (refuseMs: number) => {
    refuseUntil = Date.now() + refuseMs;
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };

  // The tail of each stream is kept so a marker split across two chunks is still seen; only an occurrence
  // that reaches into the new chunk counts (one wholly in the tail was seen before).
  const pipe = (from: Socket, to: Socket, direction: CutDirection) => {
    let tail = '';
    from.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      const hits = watches.filter(
        (w) => w.direction === direction && text.includes(w.marker, Math.max(0, tail.length - w.marker.length + 1)),
      );
      tail = text.slice(-256);
      const cutter = hits.find((w) => w.cutMs !== null);
      if (cutter) {
        cut(cutter.cutMs!);
      } else {
        to.write(chunk);
      }
      if (hits.length > 0) {
        watches = watches.filter((w) => !hits.includes(w));
        for (const w of hits) w.resolve();
      }
    });
  };

  const server = createServer((agentSide) => {
    if (Date.now() < refuseUntil) {
      refused += 1;
      agentSide.resetAndDestroy();
      return;
    }
    const serverSide = connect(target.port, target.host);
    const pair: [Socket, Socket] = [agentSide, serverSide];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      agentSide.destroy();
      serverSide.destroy();
    };
    for (const s of pair) {
      s.on('error', end);
      s.on('close', end);
    }
    pipe(agentSide, serverSide, 'to_server');
    pipe(serverSide, agentSide, 'to_agent');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const watch = (direction: CutDirection, marker: string, cutMs: number | null) =>
    new Promise<void>((resolve) => watches.push({ direction, marker, cutMs, resolve }));

  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    cutOn: (direction, marker, refuseMs) => watch(direction, marker, refuseMs),
    passed: (direction, marker) => watch(direction, marker, null),
    restored: () => new Promise((resolve) => setTimeout(resolve, Math.max(0, refuseUntil - Date.now()))),
    get refused() {
      return refused;
    },
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      cut(0);
      await closed;
    },
  };
}
