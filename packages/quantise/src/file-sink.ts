import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * An output file written strictly front to back, hashed as it is written so the artifact manifest costs no
 * second read. Every writer in this package lays its files out in advance and then appends in order.
 */
export class FileSink {
  private position = 0;
  private readonly hash: Hash = createHash('sha256');

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string): Promise<FileSink> {
    return new FileSink(path, await open(path, 'wx'));
  }

  get bytesWritten(): number {
    return this.position;
  }

  /** Appends `data`, which must start at `expectedOffset` when one is given (a layout check, not a seek). */
  async append(data: Uint8Array, expectedOffset?: number): Promise<void> {
    if (expectedOffset !== undefined && expectedOffset !== this.position) {
      throw new Error(`${this.path}: write at ${expectedOffset} but the file is at ${this.position} (writes must be in layout order)`);
    }
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await this.handle.write(data, done, data.byteLength - done, this.position + done);
      done += bytesWritten;
    }
    this.hash.update(data);
    this.position += data.byteLength;
  }

  async zeros(n: number): Promise<void> {
    if (n > 0) await this.append(new Uint8Array(n));
  }

  /** Flushes to disk and returns the file's sha256. */
  async finish(): Promise<{ size: number; sha256: string }> {
    await this.handle.sync();
    await this.handle.close();
    return { size: this.position, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
