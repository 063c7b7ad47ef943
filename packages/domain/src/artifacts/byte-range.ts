/**
 * The Range header of a file download (RFC 9110 §14): one byte range, a suffix range or an open-ended one.
 * Agents resume a partial file with `Range: bytes=<have>-` and `If-Range: <etag>`; anything fancier (several
 * ranges) is legal to ignore, and we do: the whole file is sent with 200.
 */

export type ByteRangeDecision =
  /** Send the whole file (no Range, an ignored Range, or an If-Range that does not match). */
  | { kind: 'full' }
  /** 206 with Content-Range: bytes start-end/size (inclusive end). */
  | { kind: 'partial'; start: number; end: number }
  /** 416 with Content-Range: bytes *\/size. */
  | { kind: 'unsatisfiable' };

const SINGLE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/**
 * @param range   the request's Range header (null when absent)
 * @param size    the file's size in bytes
 * @param opts.ifRange  the request's If-Range header; when present it must equal `etag` for the Range to count
 * @param opts.etag     the file's current entity tag (quoted)
 */
export function decideByteRange(
  range: string | null,
  size: number,
  opts: { ifRange?: string | null; etag?: string } = {},
): ByteRangeDecision {
  if (range === null || range.trim() === '') return { kind: 'full' };
  // If-Range with a validator that no longer matches means "the part you have is stale": send it all.
  if (opts.ifRange != null && opts.ifRange.trim() !== '' && opts.ifRange.trim() !== opts.etag) return { kind: 'full' };
  const m = SINGLE.exec(range.trim());
  // Several ranges or another unit: ignoring Range is always allowed.
  if (!m) return { kind: 'full' };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    // Suffix: the last N bytes. bytes=-0 asks for nothing, which no representation can satisfy.
    const n = Number(last);
    if (!Number.isSafeInteger(n) || n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: 'unsatisfiable' };
  if (last !== '') {
    const end = Number(last);
    // first > last is syntactically invalid: the header is ignored.
    if (!Number.isSafeInteger(end) || end < start) return { kind: 'full' };
    if (start >= size) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start, end: Math.min(end, size - 1) };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: size - 1 };
}

/** The Content-Range value for a decision (206 or 416). */
export function contentRange(d: Exclude<ByteRangeDecision, { kind: 'full' }>, size: number): string {
  return d.kind === 'partial' ? `bytes ${d.start}-${d.end}/${size}` : `bytes */${size}`;
}
