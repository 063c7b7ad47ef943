/**
 * Engine version comparison that copes with the spellings serving engines use: semver ("0.11.2"),
 * PEP 440 ("0.11.1rc2", "0.11.2.dev47+g1a2b3c"), a leading "v", and llama.cpp build numbers ("b6123").
 * Order within a release: dev < alpha < beta < rc < final < post.
 */

const QUALIFIER_RANK = { dev: 0, a: 1, b: 2, rc: 3, final: 4, post: 5 } as const;
type TQualifier = keyof typeof QUALIFIER_RANK;

export interface TEngineVersion {
  raw: string;
  /** Letters before the first number ("b" for llama.cpp builds); versions compare only within a prefix. */
  prefix: string;
  release: number[];
  qualifier: TQualifier;
  qualifierNumber: number;
}

const QUALIFIER_ALIASES: Record<string, TQualifier> = {
  dev: 'dev',
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  rc: 'rc',
  pre: 'rc',
  preview: 'rc',
  post: 'post',
  r: 'post',
  rev: 'post',
};

export function parseEngineVersion(input: string): TEngineVersion | null {
  const raw = input.trim();
  const s = raw.toLowerCase().replace(/\+.*$/, '');
  const m = /^(v(?=\d)|[a-z]*)(\d+(?:\.\d+)*)(.*)$/.exec(s);
  if (!m) return null;
  const prefix = m[1] === 'v' ? '' : m[1]!;
  const release = m[2]!.split('.').map(Number);
  const rest = m[3]!.replace(/^[-._]/, '');
  if (rest === '') return { raw, prefix, release, qualifier: 'final', qualifierNumber: 0 };
  const q = /^([a-z]+)[-._]?(\d*)/.exec(rest);
  const qualifier = q ? QUALIFIER_ALIASES[q[1]!] : undefined;
  if (!q || !qualifier) return null;
  return { raw, prefix, release, qualifier, qualifierNumber: q[2] ? Number(q[2]) : 0 };
}

/** -1, 0 or 1; null when either side does not parse or they use different numbering schemes. */
export function compareEngineVersions(a: string, b: string): -1 | 0 | 1 | null {
  const x = parseEngineVersion(a);
  const y = parseEngineVersion(b);
  if (!x || !y || x.prefix !== y.prefix) return null;
  const n = Math.max(x.release.length, y.release.length);
  for (let i = 0; i < n; i += 1) {
    const d = (x.release[i] ?? 0) - (y.release[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  const q = QUALIFIER_RANK[x.qualifier] - QUALIFIER_RANK[y.qualifier];
  if (q !== 0) return q < 0 ? -1 : 1;
  const qn = x.qualifierNumber - y.qualifierNumber;
  return qn === 0 ? 0 : qn < 0 ? -1 : 1;
}

export interface TVersionRequirement {
  /** null when the two versions cannot be compared. */
  ok: boolean | null;
  explanation: string;
}

export function meetsMinimumVersion(actual: string, minimum: string): TVersionRequirement {
  const c = compareEngineVersions(actual, minimum);
  if (c === null) return { ok: null, explanation: `engine version ${actual} cannot be compared with the minimum ${minimum}` };
  return c >= 0
    ? { ok: true, explanation: `engine version ${actual} meets the minimum ${minimum}` }
    : { ok: false, explanation: `engine version ${actual} is older than the required minimum ${minimum}` };
}
