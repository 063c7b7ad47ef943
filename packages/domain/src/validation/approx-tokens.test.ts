import { describe, expect, it } from 'vitest';
import { countApproxChatTokens, countApproxTokens, splitApproxTokens } from './approx-tokens';

describe('approximate tokenizer', () => {
  it('charges one token per started 4 characters of each word', () => {
    expect(countApproxTokens('')).toBe(0);
    expect(countApproxTokens('   ')).toBe(0);
    expect(countApproxTokens('hello')).toBe(2);
    expect(countApproxTokens('a b c')).toBe(3);
    expect(countApproxTokens('The pass code is 1234567.')).toBe(1 + 1 + 1 + 1 + 2);
    expect(countApproxTokens('abcd\nefgh\tij')).toBe(3);
  });

  it('splits into exactly the counted pieces and round-trips the text', () => {
    for (const text of ['hello world', '  leading and trailing  ', 'x', 'The pass code for Oslo is 4821930.\n', '']) {
      const pieces = splitApproxTokens(text);
      expect(pieces.join('')).toBe(text);
      expect(pieces.length).toBe(text.trim() ? countApproxTokens(text) : pieces.length);
    }
    expect(splitApproxTokens('hello world')).toEqual(['hell', 'o', ' worl', 'd']);
  });

  it('adds template overhead per message and counts offered tools', () => {
    expect(countApproxChatTokens([{ content: 'hello' }])).toBe(2 + 4 + 2);
    expect(countApproxChatTokens([{ content: 'a b' }, { content: null }, { content: [{ type: 'text', text: 'abcdefgh' }] }])).toBe(
      2 + 4 + 2 + 4 + 4 + 2,
    );
    expect(countApproxChatTokens([{ content: 'x' }], [{ a: 1 }])).toBe(2 + 4 + 1 + countApproxTokens('[{"a":1}]'));
  });
});
