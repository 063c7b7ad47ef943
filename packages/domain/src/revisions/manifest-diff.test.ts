import { describe, expect, it } from 'vitest';
import { classifyChange, classifyPath, diffManifests } from './manifest-diff';
import type { TManifestFile } from './manifest-file.schema';

let n = 0;
function file(path: string, sizeBytes: number, content: string, lfs = path.endsWith('.safetensors')): TManifestFile {
  n++;
  const hex = Buffer.from(content).toString('hex').padEnd(64, '0').slice(0, 64);
  return {
    path,
    sizeBytes,
    lfs,
    sha256: lfs ? hex : null,
    gitOid: (lfs ? n.toString(16) : hex).padStart(40, '0').slice(0, 40),
  };
}

const shard1 = file('model-00001-of-00002.safetensors', 1000, 's1');
const shard2 = file('model-00002-of-00002.safetensors', 2000, 's2');
const config = file('config.json', 50, 'cfg');
const tok = file('tokenizer.json', 300, 'tok');
const tokCfg = file('tokenizer_config.json', 80, 'tokcfg');
const readme = file('README.md', 40, 'readme');
const base = [shard1, shard2, config, tok, tokCfg, readme];

describe('diffManifests', () => {
  it('finds nothing between identical manifests', () => {
    const d = diffManifests(
      base,
      base.map((f) => ({ ...f })),
    );
    expect(d).toEqual({ added: [], removed: [], changed: [], bytesToFetch: 0 });
    expect(classifyChange(d)).toBe('none');
  });

  it('reports added, removed and changed files and the bytes to fetch', () => {
    const newShard2 = file('model-00002-of-00002.safetensors', 2100, 's2-new');
    const extra = file('chat_template.jinja', 10, 'tpl');
    const d = diffManifests(base, [shard1, newShard2, config, tok, tokCfg, extra]);
    expect(d.added.map((f) => f.path)).toEqual(['chat_template.jinja']);
    expect(d.removed.map((f) => f.path)).toEqual(['README.md']);
    expect(d.changed.map((c) => c.path)).toEqual(['model-00002-of-00002.safetensors']);
    expect(d.changed[0]!.prev.sizeBytes).toBe(2000);
    expect(d.changed[0]!.next.sizeBytes).toBe(2100);
    expect(d.bytesToFetch).toBe(2110);
    expect(classifyChange(d)).toBe('weights');
  });

  it('does not count renamed or duplicated content as bytes to fetch', () => {
    const renamed = { ...shard2, path: 'renamed.safetensors' };
    const dupA = file('dup-a.safetensors', 700, 'dup');
    const dupB = { ...dupA, path: 'dup-b.safetensors' };
    const d = diffManifests(base, [shard1, renamed, config, tok, tokCfg, readme, dupA, dupB]);
    expect(d.added.map((f) => f.path)).toEqual(['dup-a.safetensors', 'dup-b.safetensors', 'renamed.safetensors']);
    expect(d.bytesToFetch).toBe(700);
  });

  it('treats a size change with the same git oid as a change', () => {
    const d = diffManifests([config], [{ ...config, sizeBytes: 51 }]);
    expect(d.changed).toHaveLength(1);
  });

  it('rejects manifests with duplicate paths', () => {
    expect(() => diffManifests([config, config], [])).toThrow(/Duplicate path/);
  });
});

describe('classifyChange', () => {
  const touch = (path: string) => ({ added: [], removed: [], changed: [{ path, prev: config, next: config }] });

  it('classifies tokenizer and chat template only changes', () => {
    const newTokCfg = file('tokenizer_config.json', 90, 'tokcfg-2');
    const d = diffManifests(base, [shard1, shard2, config, tok, newTokCfg, readme]);
    expect(classifyChange(d)).toBe('tokenizer_template');
    for (const p of ['tokenizer.json', 'tokenizer.model', 'chat_template.json', 'generation_config.json', 'special_tokens_map.json']) {
      expect(classifyChange(touch(p))).toBe('tokenizer_template');
    }
  });

  it('classifies documentation only changes', () => {
    const newReadme = file('README.md', 41, 'readme-2');
    const d = diffManifests(base, [shard1, shard2, config, tok, tokCfg, newReadme, file('figures/arch.png', 9, 'png')]);
    expect(classifyChange(d)).toBe('docs');
    for (const p of ['LICENSE', 'docs/usage.md', '.gitattributes', 'assets/logo.svg']) expect(classifyPath(p)).toBe('docs');
  });

  it('treats weights, index, config and unknown files as weights, and weights win over the rest', () => {
    for (const p of ['model.safetensors.index.json', 'config.json', 'x.gguf', 'pytorch_model.bin', 'w.pt', 'modeling_deepseek.py']) {
      expect(classifyPath(p)).toBe('weights');
    }
    const d = {
      added: [file('README.md', 1, 'r')],
      removed: [file('tokenizer.json', 1, 't')],
      changed: [{ path: 'config.json', prev: config, next: config }],
    };
    expect(classifyChange(d)).toBe('weights');
    expect(classifyChange({ added: [file('README.md', 1, 'r')], removed: [file('tokenizer.json', 1, 't')], changed: [] })).toBe(
      'tokenizer_template',
    );
  });
});
