import { describe, expect, it } from 'vitest';
import { compilePatterns, matchesPatterns } from './match-patterns';

describe('matchesPatterns', () => {
  it('matches file names at any depth when the pattern has no slash', () => {
    expect(matchesPatterns('model-00001-of-00002.safetensors', ['*.safetensors'])).toBe(true);
    expect(matchesPatterns('original/model.safetensors', ['*.safetensors'])).toBe(true);
    expect(matchesPatterns('model.safetensors.index.json', ['*.safetensors'])).toBe(false);
  });

  it('matches tokenizer.json and tokenizer_config.json with tokenizer*', () => {
    const m = compilePatterns(['tokenizer*']);
    expect(m('tokenizer.json')).toBe(true);
    expect(m('tokenizer_config.json')).toBe(true);
    expect(m('config.json')).toBe(false);
    expect(m('my_tokenizer.json')).toBe(false);
  });

  it('anchors patterns that contain a slash to the whole path', () => {
    expect(matchesPatterns('original/config.json', ['original/*.json'])).toBe(true);
    expect(matchesPatterns('config.json', ['original/*.json'])).toBe(false);
    expect(matchesPatterns('a/original/config.json', ['original/*.json'])).toBe(false);
    expect(matchesPatterns('a/b/c.bin', ['**/*.bin'])).toBe(true);
  });

  it('treats an empty inclusion list as every file, and lets exclusions win', () => {
    expect(matchesPatterns('README.md', [])).toBe(true);
    expect(matchesPatterns('.gitattributes', ['*'])).toBe(true);
    expect(matchesPatterns('pytorch_model.bin', ['!*.bin'])).toBe(false);
    expect(matchesPatterns('config.json', ['!*.bin'])).toBe(true);
    expect(matchesPatterns('x.safetensors', ['*.safetensors', '!x.*'])).toBe(false);
  });
});
