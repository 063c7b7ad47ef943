import { APPROX_TOKENS_PER_CHAT, APPROX_TOKENS_PER_MESSAGE, countApproxTokens } from '@fleetplane/domain';
import { fillerSentences, mixSeed, seededRandom } from './filler';

/**
 * Needle-in-a-haystack prompts. The needle is the sentence `The pass code for <City> is <7 digits>.`
 * placed at a depth (0 = start, 1 = end) of deterministic filler, and the question at the end asks
 * for it. Sizes are in approximate tokens (see countApproxTokens); the runner records the size the
 * endpoint actually reports.
 */

export const NEEDLE_CITIES = [
  'Oslo',
  'Lisbon',
  'Nairobi',
  'Quito',
  'Hanoi',
  'Tbilisi',
  'Reykjavik',
  'Montevideo',
  'Kyoto',
  'Cape Town',
  'Buenos Aires',
  'Salt Lake City',
  'Wellington',
  'Tallinn',
  'Marrakesh',
  'Vancouver',
] as const;

const CITY = '[A-Z][a-z]+(?: [A-Z][a-z]+)*';
/** Matches the needle sentence; group 1 is the city, group 2 the code. */
export const NEEDLE_PATTERN = new RegExp(`The pass code for (${CITY}) is (\\d{7})\\.`, 'g');
/** Matches the question; group 1 is the city. */
export const NEEDLE_QUESTION_PATTERN = new RegExp(`What is the pass code for (${CITY})\\?`);

export const needleSentence = (city: string, code: string) => `The pass code for ${city} is ${code}.`;
export const needleQuestion = (city: string) => `What is the pass code for ${city}? Reply with only the 7-digit code.`;

const HEADER =
  'Below is a long document. Somewhere in it is one sentence that gives a pass code. Read the whole document carefully.\n\n<document>\n';

export interface THaystack {
  prompt: string;
  city: string;
  code: string;
  depth: number;
  /** Approximate tokens of the prompt as one user message (including template overhead). */
  approxTokens: number;
  /** Approximate tokens before the needle. */
  needleOffsetTokens: number;
}

export function buildHaystack(opts: { targetTokens: number; depth: number; seed?: number }): THaystack {
  if (!(opts.depth >= 0 && opts.depth <= 1)) throw new RangeError(`Depth must be within 0..1, got ${opts.depth}`);
  const rng = seededRandom(mixSeed('haystack', opts.seed ?? 1, opts.targetTokens, opts.depth));
  const city = NEEDLE_CITIES[Math.floor(rng() * NEEDLE_CITIES.length)]!;
  const code = String(1_000_000 + Math.floor(rng() * 9_000_000));
  const needle = needleSentence(city, code);
  const footer = `\n</document>\n\n${needleQuestion(city)}`;
  const overhead = APPROX_TOKENS_PER_CHAT + APPROX_TOKENS_PER_MESSAGE;
  const fixed = overhead + countApproxTokens(HEADER) + countApproxTokens(footer) + countApproxTokens(needle);
  const budget = Math.max(0, opts.targetTokens - fixed);
  const { sentences, counts } = fillerSentences(budget, rng);
  // Drop the last sentence if it overshoots, so prompts never exceed the target.
  let total = counts.reduce((a, b) => a + b, 0);
  while (total > budget && sentences.length) {
    total -= counts.pop()!;
    sentences.pop();
  }
  let at = 0;
  let before = 0;
  const want = opts.depth * total;
  while (at < sentences.length && before + counts[at]! <= want) before += counts[at++]!;
  if (opts.depth === 1) at = sentences.length;
  before = counts.slice(0, at).reduce((a, b) => a + b, 0);
  sentences.splice(at, 0, needle);
  const prompt = `${HEADER}${sentences.join(' ')}${footer}`;
  return {
    prompt,
    city,
    code,
    depth: opts.depth,
    approxTokens: overhead + countApproxTokens(prompt),
    needleOffsetTokens: overhead + countApproxTokens(HEADER) + before,
  };
}

/**
 * A prompt of about `tokens` approximate tokens for load tests. Each index gets different text so a
 * prefix cache cannot turn the benchmark into a cache benchmark.
 */
export function buildSyntheticPrompt(opts: { tokens: number; index: number; seed?: number }): string {
  const head = `Request ${opts.index}: continue these notes in the same style.\n\n`;
  const budget = Math.max(1, opts.tokens - APPROX_TOKENS_PER_CHAT - APPROX_TOKENS_PER_MESSAGE - countApproxTokens(head));
  const { sentences, counts } = fillerSentences(budget, seededRandom(mixSeed('synthetic', opts.seed ?? 1, opts.index)));
  let total = counts.reduce((a, b) => a + b, 0);
  while (total > budget && sentences.length > 1) {
    total -= counts.pop()!;
    sentences.pop();
  }
  return head + sentences.join(' ');
}
