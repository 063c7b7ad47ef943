// Requests shaped exactly like the agent's, for the agent API handlers' tests.
import { agentAuthorizationHeader } from '@fleetplane/contracts';

export function telemetryRequest(credential: string | null, body: unknown, headers: Record<string, string> = {}): Request {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Request('http://fleetplane.test/api/agent/v1/telemetry', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(credential ? { authorization: agentAuthorizationHeader(credential) } : {}),
      ...headers,
    },
    body: text,
  });
}

export function enrollRequest(body: unknown): Request {
  return new Request('http://fleetplane.test/api/agent/v1/enroll', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
