import { describe, expect, it } from 'vitest';
import { SseDataParser } from './sse-parser';

function parseAll(chunks: Buffer[]): string[] {
  const out: string[] = [];
  const p = new SseDataParser((d) => out.push(d));
  for (const c of chunks) p.feed(c);
  return out;
}

describe('SseDataParser', () => {
  const stream = Buffer.from('data: {"a":"Grüß"}\n\n: keep-alive comment\n\nevent: message\nid: 7\ndata: {"b":1}\n\ndata: [DONE]\n\n');
  const expected = ['{"a":"Grüß"}', '{"b":1}', '[DONE]'];

  it('parses events in one read', () => {
    expect(parseAll([stream])).toEqual(expected);
  });

  it('gives the same events wherever the reads are cut, even inside a UTF-8 character', () => {
    for (let cut = 1; cut < stream.length; cut += 1) {
      expect(parseAll([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    }
    // One byte per read.
    expect(parseAll([...stream].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it('accepts CRLF line ends, "data:" without a space and joins multi-line data with \\n', () => {
    expect(parseAll([Buffer.from('data:x\r\n\r\ndata: line1\r\ndata: line2\r\n\r\ndata:\n\n')])).toEqual(['x', 'line1\nline2', '']);
  });

  it('dispatches only at the blank line and drops an unterminated event at the end', () => {
    const out: string[] = [];
    const p = new SseDataParser((d) => out.push(d));
    p.feed(Buffer.from('data: one\n'));
    expect(out).toEqual([]);
    p.feed(Buffer.from('\ndata: two'));
    expect(out).toEqual(['one']);
  });

  it("does not keep a reference to the caller's buffer for a partial line", () => {
    const out: string[] = [];
    const p = new SseDataParser((d) => out.push(d));
    const chunk = Buffer.from('data: abc');
    p.feed(chunk);
    chunk.fill(0x7a); // the socket layer may reuse its memory
    p.feed(Buffer.from('def\n\n'));
    expect(out).toEqual(['abcdef']);
  });
});
