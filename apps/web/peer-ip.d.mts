import type { IncomingMessage } from 'node:http';

export declare const PEER_IP_HEADER: 'x-fleetplane-peer-ip';
export declare function stampPeerAddress(req: IncomingMessage): void;
