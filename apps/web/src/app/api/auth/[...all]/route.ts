import { runtime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

export function GET(req: Request) {
  return runtime().auth.handler(req);
}
export function POST(req: Request) {
  return runtime().auth.handler(req);
}
