import { withClientIp } from '~/server/client-ip';
import { runtime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

// Better Auth reads the client IP (rate limits, sessions) from the header withClientIp sets.
export function GET(req: Request) {
  return runtime().auth.handler(withClientIp(req));
}
export function POST(req: Request) {
  return runtime().auth.handler(withClientIp(req));
}
