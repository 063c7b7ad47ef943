import { describe, expect, it } from 'vitest';
import { resolveFileUrl, resolveHubUrl } from './hub-url';

describe('resolveHubUrl', () => {
  it('prefers the explicit value, then HF_ENDPOINT, then huggingface.co, stripping trailing slashes', () => {
    expect(resolveHubUrl('http://127.0.0.1:7860/', { HF_ENDPOINT: 'https://mirror' })).toBe('http://127.0.0.1:7860');
    expect(resolveHubUrl(undefined, { HF_ENDPOINT: 'https://hf-mirror.example.com//' })).toBe('https://hf-mirror.example.com');
    expect(resolveHubUrl(undefined, { HF_ENDPOINT: '  ' })).toBe('https://huggingface.co');
    expect(resolveHubUrl(undefined, {})).toBe('https://huggingface.co');
    expect(() => resolveHubUrl('ftp://x', {})).toThrow(/http/);
  });

  it('encodes revision and path segments but keeps the slashes of nested paths', () => {
    expect(resolveFileUrl('http://h', 'o/n', 'refs/pr/1', 'Q4_K_M/a b.gguf')).toBe('http://h/o/n/resolve/refs%2Fpr%2F1/Q4_K_M/a%20b.gguf');
  });
});
