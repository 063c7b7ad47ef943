import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ZCommandReport, ZNodeCommandKind } from '@fleetplane/contracts';
import { writeFileAtomic } from '../queue/atomic-file';

/**
 * What the agent has started and what it has finished but not yet got acknowledged, on disk in the agent's
 * state directory. One small JSON file rewritten atomically (temp file, fsync, rename, fsync of the
 * directory) on every change, so a kill -9 or a power cut leaves either the previous journal or the new
 * one. On start the command loop reads it:
 * - `running`: the agent died mid-command. It is run again with delivery + 1 (handlers converge);
 * - `finished`: the outcome exists but the control plane may not have it. It is reported again, never
 *   re-run: a second run could end differently (a load that succeeded, then the engine crashed).
 */
export const ZJournalEntry = z.discriminatedUnion('status', [
  z.strictObject({
    status: z.literal('running'),
    id: z.string().min(1).max(64),
    kind: ZNodeCommandKind,
    delivery: z.number().int().min(1),
    startedAt: z.iso.datetime(),
    /** Artifacts the command needs (the model cache never evicts them while it is open). */
    digests: z.array(z.string()).max(16),
  }),
  z.strictObject({
    status: z.literal('finished'),
    id: z.string().min(1).max(64),
    kind: ZNodeCommandKind,
    delivery: z.number().int().min(1),
    finishedAt: z.iso.datetime(),
    outcome: ZCommandReport,
  }),
]);
export type TJournalEntry = z.infer<typeof ZJournalEntry>;

const ZJournalFile = z.strictObject({ version: z.literal(1), entries: z.array(ZJournalEntry) });

export const JOURNAL_FILE = 'commands-journal.json';

export class CommandJournal {
  private readonly entries = new Map<string, TJournalEntry>();
  /** Writes happen one after another in call order: the file always holds the newest state once they settle. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {}

  /**
   * Opens the journal in `stateDir`, creating the directory. A journal that cannot be read (hand-edited,
   * from a newer agent) is set aside beside itself rather than trusted or silently lost; `warning` says so.
   */
  static async open(stateDir: string): Promise<{ journal: CommandJournal; warning: string | null }> {
    await mkdir(stateDir, { recursive: true });
    const journal = new CommandJournal(join(stateDir, JOURNAL_FILE));
    let text: string | null = null;
    try {
      text = await readFile(journal.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text === null) return { journal, warning: null };
    let parsed: z.infer<typeof ZJournalFile> | null = null;
    try {
      const r = ZJournalFile.safeParse(JSON.parse(text));
      if (r.success) parsed = r.data;
    } catch {
      parsed = null;
    }
    if (!parsed) {
      const aside = `${journal.path}.unreadable-${Date.now()}`;
      await rename(journal.path, aside);
      return { journal, warning: `The command journal could not be read; moved it to ${aside} and started with an empty one` };
    }
    for (const e of parsed.entries) journal.entries.set(e.id, e);
    return { journal, warning: null };
  }

  get(id: string): TJournalEntry | undefined {
    return this.entries.get(id);
  }

  list(): TJournalEntry[] {
    return [...this.entries.values()];
  }

  /** Records (or replaces) an entry; resolves once it is durably on disk. */
  put(entry: TJournalEntry): Promise<void> {
    this.entries.set(entry.id, ZJournalEntry.parse(entry));
    return this.flush();
  }

  /** Forgets a command (acknowledged, cancelled or expired); resolves once that is on disk. */
  remove(id: string): Promise<void> {
    if (!this.entries.delete(id)) return this.writing;
    return this.flush();
  }

  private flush(): Promise<void> {
    const next = this.writing
      .catch(() => undefined)
      .then(() => writeFileAtomic(this.path, JSON.stringify({ version: 1, entries: [...this.entries.values()] })));
    this.writing = next;
    return next;
  }
}
