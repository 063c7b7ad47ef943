import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { FileSource } from './file-source';

// Restart story: seeds are regenerated deterministically (same bytes, same shas) and every commit
// published since is replayed from an append-only journal under the data dir.

const ZJournalFile = z.union([
  z.object({ base64: z.string() }),
  z.object({ sizeBytes: z.number().int().nonnegative(), seed: z.string() }),
  z.null(),
]);
export const ZJournalEntry = z.object({
  repoId: z.string(),
  title: z.string(),
  message: z.string(),
  branch: z.string(),
  date: z.string(),
  author: z.string(),
  tags: z.array(z.string()),
  files: z.record(z.string(), ZJournalFile),
});
export type TJournalEntry = z.infer<typeof ZJournalEntry>;

export function toJournalFiles(files: Record<string, FileSource | null>): TJournalEntry['files'] {
  return Object.fromEntries(
    Object.entries(files).map(([p, s]) => [
      p,
      s === null ? null : s.kind === 'inline' ? { base64: s.bytes.toString('base64') } : { sizeBytes: s.sizeBytes, seed: s.seed },
    ]),
  );
}

export function fromJournalFiles(files: TJournalEntry['files']): Record<string, FileSource | null> {
  return Object.fromEntries(
    Object.entries(files).map(([p, f]) => [
      p,
      f === null
        ? null
        : 'base64' in f
          ? { kind: 'inline' as const, bytes: Buffer.from(f.base64, 'base64') }
          : { kind: 'synthetic' as const, sizeBytes: f.sizeBytes, seed: f.seed },
    ]),
  );
}

export class Journal {
  constructor(private readonly dataDir: string) {}

  private get file() {
    return path.join(this.dataDir, 'journal.jsonl');
  }

  async read(): Promise<TJournalEntry[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return [];
    }
    const out: TJournalEntry[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (!line.trim()) continue;
      const parsed = ZJournalEntry.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${this.file}:${i + 1}: invalid journal entry: ${parsed.error.message}`);
      out.push(parsed.data);
    }
    return out;
  }

  async append(entry: TJournalEntry): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    await appendFile(this.file, `${JSON.stringify(entry)}\n`);
  }
}
