import { createHash } from 'node:crypto';
import { ZEvidenceBundle, type TEvidenceBundle, type TSealedEvidence } from '@fleetplane/contracts';

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, undefined members dropped (as
 * JSON.stringify does). Non-finite numbers have no JSON form and are refused rather than turned
 * into null, so a digest never silently hides a NaN.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`Cannot encode ${value} at ${path} as canonical JSON`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => (v === undefined ? 'null' : encode(v, `${path}[${i}]`))).join(',')}]`;
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const keys = Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${encode((value as Record<string, unknown>)[k], `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`Cannot encode a ${typeof value} at ${path} as canonical JSON`);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Validates the bundle and returns it with its digest: "sha256:" + hex of the canonical JSON. */
export function sealEvidence(bundle: TEvidenceBundle): TSealedEvidence & { canonical: string } {
  const parsed = ZEvidenceBundle.parse(bundle);
  const canonical = canonicalJson(parsed);
  return { bundle: parsed, canonical, digest: `sha256:${sha256Hex(canonical)}` };
}

/** True when the digest matches the bundle (e.g. when an approver re-checks stored evidence). */
export function verifyEvidence(bundle: TEvidenceBundle, digest: string): boolean {
  return sealEvidence(bundle).digest === digest;
}
