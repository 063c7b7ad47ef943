import { countApproxTokens } from '@fleetplane/domain';

/**
 * Deterministic filler prose for haystacks and synthetic load prompts. It contains no digits and
 * never the words "pass code", so a needle cannot be confused with filler.
 */

/** mulberry32: a tiny seeded PRNG; the same seed always yields the same text. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Combines numbers into one 32-bit seed (FNV-1a over their decimal forms). */
export function mixSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const SUBJECTS = [
  'The harbour master',
  'A quiet librarian',
  'The night shift',
  'An old ferry captain',
  'The survey team',
  'A field botanist',
  'The weather station keeper',
  'The village council',
  'A travelling violinist',
  'The museum guide',
  'A retired engineer',
  'The orchard keeper',
  'Two cartographers',
  'The lighthouse crew',
  'A young apprentice',
  'The bakery owner',
];
const VERBS = [
  'recorded',
  'described',
  'noticed',
  'catalogued',
  'repaired',
  'measured',
  'photographed',
  'discussed',
  'mapped',
  'cleaned',
  'sketched',
  'painted',
  'inspected',
  'rearranged',
  'admired',
  'questioned',
];
const OBJECTS = [
  'the tide tables',
  'a row of birch trees',
  'the copper roof',
  'several old maps',
  'the northern pier',
  'a box of letters',
  'the stone bridge',
  'the winter garden',
  'a collection of shells',
  'the signal lamps',
  'the market stalls',
  'an abandoned mill',
  'the river bank',
  'a shelf of atlases',
  'the clock tower',
  'the fishing nets',
];
const TAILS = [
  'before the rain arrived',
  'during the long winter',
  'with unusual care',
  'as the fog lifted',
  'after the evening meal',
  'near the old mill',
  'while the bells rang',
  'under a pale sky',
  'without saying a word',
  'for the third time that week',
  'at the edge of town',
  'in the early autumn light',
  'despite the cold wind',
  'as the ships came in',
  'beside the frozen lake',
  'long after sunset',
];

const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

export function fillerSentence(rng: () => number): string {
  return `${pick(rng, SUBJECTS)} ${pick(rng, VERBS)} ${pick(rng, OBJECTS)} ${pick(rng, TAILS)}.`;
}

/** Sentences whose approximate token counts add up to at least `tokens` (sentences are joined by spaces). */
export function fillerSentences(tokens: number, rng: () => number): { sentences: string[]; counts: number[]; total: number } {
  const sentences: string[] = [];
  const counts: number[] = [];
  let total = 0;
  while (total < tokens) {
    const s = fillerSentence(rng);
    const n = countApproxTokens(s);
    sentences.push(s);
    counts.push(n);
    total += n;
  }
  return { sentences, counts, total };
}
