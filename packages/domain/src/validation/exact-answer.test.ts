import { describe, expect, it } from 'vitest';
import { canonicalUnit, extractFinalAnswer, parseNumberAnswer, scoreExactAnswer } from './exact-answer';

describe('extractFinalAnswer', () => {
  it('takes the last line, an Answer: line, or a boxed answer', () => {
    expect(extractFinalAnswer('42')).toBe('42');
    expect(extractFinalAnswer('Let me think.\n6 * 7\n\n42.\n')).toBe('42');
    expect(extractFinalAnswer('Working...\nAnswer: 8.05 km\nHope that helps!')).toBe('8.05 km');
    expect(extractFinalAnswer('So the final answer is **Paris**.')).toBe('Paris');
    expect(extractFinalAnswer('We get \\boxed{\\frac{1}{2}} hmm, no: \\boxed{17}')).toBe('17');
    expect(extractFinalAnswer('`15`')).toBe('15');
  });

  it('ignores thinking blocks', () => {
    expect(extractFinalAnswer('<think>maybe 41? Answer: 41</think>\n42')).toBe('42');
    expect(extractFinalAnswer('maybe 41\n</think>\n\n42')).toBe('42');
  });
});

describe('parseNumberAnswer', () => {
  it('reads the usual number spellings as the same value', () => {
    for (const s of ['42', '42.0', '4.2e1', '+42', '42.000', '0.42e2']) expect(parseNumberAnswer(s)?.value).toBe(42);
    expect(parseNumberAnswer('1,234.5')?.value).toBe(1234.5);
    expect(parseNumberAnswer('−3')?.value).toBe(-3);
    expect(parseNumberAnswer('.5')?.value).toBe(0.5);
  });

  it('separates units and currencies', () => {
    expect(parseNumberAnswer('8.05 km')).toEqual({ value: 8.05, unit: 'km' });
    expect(parseNumberAnswer('8.05 kilometres')).toEqual({ value: 8.05, unit: 'km' });
    expect(parseNumberAnswer('$12.50')).toEqual({ value: 12.5, unit: 'usd' });
    expect(parseNumberAnswer('75%')).toEqual({ value: 75, unit: '%' });
    expect(parseNumberAnswer('100 °C')).toEqual({ value: 100, unit: '°c' });
    expect(parseNumberAnswer('212 degrees Fahrenheit')).toEqual({ value: 212, unit: '°f' });
  });

  it('falls back to the first number after the last "="', () => {
    expect(parseNumberAnswer('6 × 7 = 42')?.value).toBe(42);
    expect(parseNumberAnswer('It prints 15')?.value).toBe(15);
    expect(parseNumberAnswer('391 (17 times 23)')?.value).toBe(391);
    expect(parseNumberAnswer('no digits here')).toBeNull();
  });

  it('canonicalises unit spellings', () => {
    expect(canonicalUnit('Kilometers')).toBe('km');
    expect(canonicalUnit('degrees Celsius')).toBe('°c');
    expect(canonicalUnit('° C')).toBe('°c');
    expect(canonicalUnit('MiB')).toBe('mib');
    expect(canonicalUnit('furlongs')).toBe('furlongs');
  });
});

describe('scoreExactAnswer', () => {
  it('accepts equal numbers in any spelling and rejects different values', () => {
    const e = { type: 'number' as const, value: 42 };
    expect(scoreExactAnswer(e, '4.2e1').correct).toBe(true);
    expect(scoreExactAnswer(e, 'The answer is 42.').correct).toBe(true);
    const wrong = scoreExactAnswer(e, '43');
    expect(wrong).toEqual({ correct: false, extracted: '43', reason: 'value 43 differs from 42' });
  });

  it('honours tolerance and units', () => {
    const e = { type: 'number' as const, value: 8.05, unit: 'km', tolerance: 0.005 };
    expect(scoreExactAnswer(e, '8.05 km').correct).toBe(true);
    expect(scoreExactAnswer(e, '8.047').correct).toBe(true);
    expect(scoreExactAnswer(e, '8.05 kilometers').correct).toBe(true);
    expect(scoreExactAnswer(e, '8.05 miles').reason).toBe('unit "mi" is not "km"');
    expect(scoreExactAnswer(e, '8.2 km').correct).toBe(false);
  });

  it('compares text case- and whitespace-insensitively, with aliases', () => {
    const e = { type: 'text' as const, value: 'Marie Curie', aliases: ['Maria Skłodowska-Curie'] };
    expect(scoreExactAnswer(e, '  marie   CURIE. ').correct).toBe(true);
    expect(scoreExactAnswer(e, 'Answer: "Maria Skłodowska-Curie"').correct).toBe(true);
    expect(scoreExactAnswer(e, 'Pierre Curie').correct).toBe(false);
    expect(scoreExactAnswer(e, '').reason).toBe('empty answer');
  });
});
