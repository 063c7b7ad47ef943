import { reseedGguf } from './content/gguf';
import { reseedSafetensors } from './content/safetensors';
import type { FileSource } from './file-source';
import type { RepoState } from './repo-state';
import { HttpError } from './server/http-utils';
import type { TPublishDemoKind } from './schemas';

export interface DemoChange {
  title: string;
  message: string;
  files: Record<string, FileSource>;
}

/** A realistic commit of the given kind on top of the branch head, for the demo's "publish" button. */
export function demoChange(repo: RepoState, kind: TPublishDemoKind, branch: string): DemoChange {
  const head = repo.resolve(branch);
  if (!head) throw new HttpError(404, `Branch ${branch} not found in ${repo.id}`, 'RevisionNotFound');
  const n = repo.history(head.id).length;
  const inline = (path: string): Buffer => {
    const f = head.files.get(path);
    if (!f) throw new HttpError(409, `${repo.id} has no ${path} to change`);
    if (f.source.kind !== 'inline') throw new HttpError(409, `${path} is synthetic`);
    return f.source.bytes;
  };

  if (kind === 'weights') {
    const paths = [...head.files.keys()].sort();
    const weights = paths.filter((p) => p.endsWith('.safetensors'));
    const candidates = weights.length > 0 ? weights : paths.filter((p) => p.endsWith('.gguf'));
    if (candidates.length === 0) throw new HttpError(409, `${repo.id} has no .safetensors or .gguf file to re-upload`);
    const path = candidates[n % candidates.length]!;
    const file = head.files.get(path)!;
    const seed = `${repo.id}:${path}:demo-${n}`;
    let source: FileSource;
    if (file.source.kind === 'synthetic') source = { kind: 'synthetic', sizeBytes: file.source.sizeBytes, seed };
    else
      source = {
        kind: 'inline',
        bytes: path.endsWith('.gguf') ? reseedGguf(file.source.bytes, seed) : reseedSafetensors(file.source.bytes, seed),
      };
    return {
      title: `Upload ${path}`,
      message: 'Re-exported weights for this shard (same tensors, new values).',
      files: { [path]: source },
    };
  }

  if (kind === 'tokenizer') {
    const path = 'tokenizer_config.json';
    const cfg = JSON.parse(inline(path).toString('utf8')) as { chat_template?: unknown };
    if (typeof cfg.chat_template !== 'string') throw new HttpError(409, `${path} in ${repo.id} has no chat_template`);
    const marker = /^\{#- template revision \d+ -#\}/;
    cfg.chat_template = `{#- template revision ${n + 1} -#}${cfg.chat_template.replace(marker, '')}`;
    return {
      title: 'Fix chat template in tokenizer_config.json',
      message: 'Template-only change: weights are untouched.',
      files: { [path]: { kind: 'inline', bytes: Buffer.from(`${JSON.stringify(cfg, null, 2)}\n`) } },
    };
  }

  const path = 'README.md';
  const text = head.files.has(path) ? inline(path).toString('utf8') : `# ${repo.id}\n`;
  const line = `- ${new Date().toISOString().slice(0, 10)}: documentation update ${n + 1}`;
  const next = text.includes('## Changelog') ? `${text.trimEnd()}\n${line}\n` : `${text.trimEnd()}\n\n## Changelog\n\n${line}\n`;
  return { title: 'Update README.md', message: '', files: { [path]: { kind: 'inline', bytes: Buffer.from(next) } } };
}
