export const FAIL_MODES: readonly ['missing', 'exit', 'garbage', 'hang'];
export function runFakeNvidiaSmi(
  argv: string[],
  env: Record<string, string | undefined>,
  io: { out: (s: string) => void; err: (s: string) => void },
): number | 'hang';
