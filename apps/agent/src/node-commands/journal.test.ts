import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandJournal, JOURNAL_FILE } from './journal';

const running = (id: string, delivery = 1) => ({
  status: 'running' as const,
  id,
  kind: 'prefetch_artifact' as const,
  delivery,
  startedAt: new Date().toISOString(),
  digests: ['a'.repeat(64)],
});

describe('CommandJournal', () => {
  it('survives a reopen: running and finished entries come back as written, removed ones do not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-journal-'));
    const { journal } = await CommandJournal.open(dir);
    await journal.put(running('c1'));
    await journal.put(running('c2', 2));
    await journal.put({
      status: 'finished',
      id: 'c2',
      kind: 'prefetch_artifact',
      delivery: 2,
      finishedAt: new Date().toISOString(),
      outcome: { state: 'succeeded', result: { ok: true } },
    });
    await journal.put(running('c3'));
    await journal.remove('c3');

    const again = (await CommandJournal.open(dir)).journal;
    expect(again.get('c1')).toMatchObject({ status: 'running', delivery: 1 });
    expect(again.get('c2')).toMatchObject({ status: 'finished', delivery: 2, outcome: { state: 'succeeded' } });
    expect(again.get('c3')).toBeUndefined();
    // Atomic rename: no temp files are left beside the journal.
    expect(readdirSync(dir)).toEqual([JOURNAL_FILE]);
  });

  it('writes issued back to back land in order: the file holds the newest state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-journal-'));
    const { journal } = await CommandJournal.open(dir);
    await Promise.all([journal.put(running('a')), journal.put(running('b')), journal.remove('a'), journal.put(running('c', 3))]);
    const file = JSON.parse(readFileSync(join(dir, JOURNAL_FILE), 'utf8')) as { entries: Array<{ id: string }> };
    expect(file.entries.map((e) => e.id)).toEqual(['b', 'c']);
  });

  it('sets an unreadable journal aside and says so instead of trusting it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-journal-'));
    writeFileSync(join(dir, JOURNAL_FILE), '{"version":1,"entries":[{"status":"runn');
    const { journal, warning } = await CommandJournal.open(dir);
    expect(journal.list()).toEqual([]);
    expect(warning).toMatch(/could not be read; moved it to .*unreadable-/);
    expect(readdirSync(dir).some((f) => f.startsWith(`${JOURNAL_FILE}.unreadable-`))).toBe(true);
  });
});
