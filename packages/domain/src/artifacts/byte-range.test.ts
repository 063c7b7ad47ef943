import { describe, expect, it } from 'vitest';
import { contentRange, decideByteRange } from './byte-range';

const etag = `"${'a'.repeat(64)}"`;

describe('decideByteRange', () => {
  it('sends the whole file without a Range header', () => {
    expect(decideByteRange(null, 100)).toEqual({ kind: 'full' });
    expect(decideByteRange('   ', 100)).toEqual({ kind: 'full' });
  });

  it('serves a single closed range, clamping an end past the file', () => {
    expect(decideByteRange('bytes=0-9', 100)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(decideByteRange('bytes=90-1000', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(decideByteRange('BYTES = 5 - 5', 100)).toEqual({ kind: 'partial', start: 5, end: 5 });
  });

  it('serves an open-ended range (how agents resume)', () => {
    expect(decideByteRange('bytes=40-', 100)).toEqual({ kind: 'partial', start: 40, end: 99 });
    expect(decideByteRange('bytes=99-', 100)).toEqual({ kind: 'partial', start: 99, end: 99 });
  });

  it('serves a suffix range, the whole file when the suffix is longer', () => {
    expect(decideByteRange('bytes=-10', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(decideByteRange('bytes=-500', 100)).toEqual({ kind: 'partial', start: 0, end: 99 });
  });

  it('is unsatisfiable when the range starts at or past the end, or asks for nothing', () => {
    expect(decideByteRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(decideByteRange('bytes=150-200', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(decideByteRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(decideByteRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideByteRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it may ignore: several ranges, other units, garbage, first > last', () => {
    expect(decideByteRange('bytes=0-1,5-6', 100)).toEqual({ kind: 'full' });
    expect(decideByteRange('items=0-1', 100)).toEqual({ kind: 'full' });
    expect(decideByteRange('bytes=x-y', 100)).toEqual({ kind: 'full' });
    expect(decideByteRange('bytes=-', 100)).toEqual({ kind: 'full' });
    expect(decideByteRange('bytes=9-3', 100)).toEqual({ kind: 'full' });
  });

  it('honours If-Range: a matching validator keeps the range, another one means the whole file', () => {
    expect(decideByteRange('bytes=10-', 100, { ifRange: etag, etag })).toEqual({ kind: 'partial', start: 10, end: 99 });
    expect(decideByteRange('bytes=10-', 100, { ifRange: `"${'b'.repeat(64)}"`, etag })).toEqual({ kind: 'full' });
    expect(decideByteRange('bytes=10-', 100, { ifRange: 'Tue, 01 Dec 2026 00:00:00 GMT', etag })).toEqual({ kind: 'full' });
  });

  it('does not lose precision on files past 4 GiB', () => {
    const size = 700 * 1024 ** 3;
    expect(decideByteRange(`bytes=${size - 1}-`, size)).toEqual({ kind: 'partial', start: size - 1, end: size - 1 });
    expect(decideByteRange('bytes=99999999999999999999-', size)).toEqual({ kind: 'unsatisfiable' });
  });
});

describe('contentRange', () => {
  it('formats 206 and 416 values', () => {
    expect(contentRange({ kind: 'partial', start: 0, end: 9 }, 100)).toBe('bytes 0-9/100');
    expect(contentRange({ kind: 'unsatisfiable' }, 100)).toBe('bytes */100');
  });
});
