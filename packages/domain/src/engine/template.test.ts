import { describe, expect, it } from 'vitest';
import { fillLaunchPlaceholders } from '@fleetplane/contracts';
import { parseLaunchTemplate, splitWords } from './template';

describe('splitWords', () => {
  it('splits like a shell without expanding anything', () => {
    const r = splitWords(`a 'b c' "d \\"e\\"" f\\ g $HOME`);
    expect(r.ok && r.words.map((w) => w.text)).toEqual(['a', 'b c', 'd "e"', 'f g', '$HOME']);
  });
  it('refuses unclosed quotes', () => {
    expect(splitWords(`a 'b`)).toEqual({ ok: false, error: 'A single quote is not closed' });
    expect(splitWords(`a "b`)).toEqual({ ok: false, error: 'A double quote is not closed' });
  });
  it('refuses unquoted shell operators but keeps quoted ones literal', () => {
    expect(splitWords('vllm serve x | tee log').ok).toBe(false);
    expect(splitWords('vllm serve x; rm -rf /').ok).toBe(false);
    expect(splitWords('echo $(id)').ok).toBe(false);
    const r = splitWords(`--speculative-config '{"a":1}|x'`);
    expect(r.ok && r.words[1]!.text).toBe('{"a":1}|x');
  });
});

describe('parseLaunchTemplate', () => {
  it('takes leading NAME=value words as the environment', () => {
    const r = parseLaunchTemplate('CUDA_VISIBLE_DEVICES=0,1 REF_LOAD_MS=10 vllm serve {artifact_dir} --port {port} --host {host}');
    expect(r).toEqual({
      ok: true,
      env: { CUDA_VISIBLE_DEVICES: '0,1', REF_LOAD_MS: '10' },
      argv: ['vllm', 'serve', '{artifact_dir}', '--port', '{port}', '--host', '{host}'],
    });
  });
  it('leaves NAME=value after the command in argv', () => {
    const r = parseLaunchTemplate('env A=1 x {artifact_dir}');
    expect(r.ok && r.argv).toEqual(['env', 'A=1', 'x', '{artifact_dir}']);
  });
  it('refuses unknown placeholders with the allowed list', () => {
    const r = parseLaunchTemplate('vllm serve {artifact_dir} --max-model-len {max_model_len}');
    expect(r).toEqual({ ok: false, error: 'Unknown placeholder {max_model_len}: only {artifact_dir}, {port} and {host} are filled in' });
  });
  it('requires {artifact_dir} in launch templates only', () => {
    expect(parseLaunchTemplate('vllm serve /models/x').ok).toBe(false);
    expect(parseLaunchTemplate('systemctl stop engine', { requireArtifactDir: false }).ok).toBe(true);
  });
  it('refuses a template with only environment', () => {
    expect(parseLaunchTemplate('A=1 B=2')).toEqual({ ok: false, error: 'The template has no command, only environment variables' });
  });
  it('JSON flag values survive in quotes', () => {
    const r = parseLaunchTemplate(`vllm serve {artifact_dir} --speculative-config '{"method":"mtp","num_speculative_tokens":2}'`);
    expect(r.ok && r.argv[4]).toBe('{"method":"mtp","num_speculative_tokens":2}');
  });
});

describe('fillLaunchPlaceholders', () => {
  it('fills the three placeholders and nothing else', () => {
    expect(
      fillLaunchPlaceholders('{artifact_dir}/m.gguf:{host}:{port}:{other}', { artifact_dir: '/c/a', port: 8000, host: '127.0.0.1' }),
    ).toBe('/c/a/m.gguf:127.0.0.1:8000:{other}');
  });
});
