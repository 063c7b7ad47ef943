const LF = 10;
const CR = 13;
const SPACE = 32;
// "data:"
const D = 100;
const A = 97;
const T = 116;
const COLON = 58;

/**
 * Incremental Server-Sent Events parser working on the raw Buffers a socket delivers: it finds line
 * ends with Buffer#indexOf and decodes only the `data:` payloads (UTF-8), so a chunk costs no Web
 * stream, no TextDecoder and no string copy of the whole read. Only complete lines are decoded, so a
 * multi-byte character split across reads is never broken (LF cannot occur inside one). Fields other
 * than `data` (event, id, retry) and comments are ignored; an event is dispatched at its blank line,
 * with several data lines joined by "\n" as the SSE specification says. An unterminated event at the
 * end of the stream is dropped, as browsers do.
 */
export class SseDataParser {
  private rest: Buffer | null = null;
  private pending: string | null = null;
  private extra: string[] | null = null;

  constructor(private readonly onData: (data: string) => void) {}

  feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(LF, start);
      if (nl < 0) break;
      const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
      this.line(buf, start, end);
      start = nl + 1;
    }
    // A partial line waits for the next read (copied: the chunk is not ours to keep).
    if (start < buf.length) this.rest = Buffer.from(buf.subarray(start));
  }

  private line(buf: Buffer, start: number, end: number): void {
    if (start === end) {
      this.dispatch();
      return;
    }
    if (
      end - start >= 5 &&
      buf[start] === D &&
      buf[start + 1] === A &&
      buf[start + 2] === T &&
      buf[start + 3] === A &&
      buf[start + 4] === COLON
    ) {
      const from = buf[start + 5] === SPACE ? start + 6 : start + 5;
      const text = buf.toString('utf8', from, end);
      if (this.pending === null) this.pending = text;
      else (this.extra ??= []).push(text);
    }
  }

  private dispatch(): void {
    if (this.pending === null) return;
    const data = this.extra ? [this.pending, ...this.extra].join('\n') : this.pending;
    this.pending = null;
    this.extra = null;
    this.onData(data);
  }
}
