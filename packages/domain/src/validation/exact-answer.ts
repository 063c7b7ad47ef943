import type { TExpectedAnswer } from '@fleetplane/contracts';

/**
 * Exact-answer scoring. Model output is only ever compared as text/numbers, never executed.
 * The answer is taken from the end of the output: a \boxed{…}, an "Answer: …" line, or the last line.
 */

const UNIT_ALIASES: Record<string, readonly string[]> = {
  km: ['kilometre', 'kilometres', 'kilometer', 'kilometers', 'kms'],
  m: ['metre', 'metres', 'meter', 'meters'],
  cm: ['centimetre', 'centimetres', 'centimeter', 'centimeters'],
  mm: ['millimetre', 'millimetres', 'millimeter', 'millimeters'],
  mi: ['mile', 'miles'],
  ft: ['foot', 'feet'],
  in: ['inch', 'inches'],
  yd: ['yard', 'yards'],
  kg: ['kilogram', 'kilograms', 'kilo', 'kilos', 'kgs'],
  g: ['gram', 'grams'],
  mg: ['milligram', 'milligrams'],
  lb: ['lbs', 'pound', 'pounds'],
  oz: ['ounce', 'ounces'],
  l: ['litre', 'litres', 'liter', 'liters'],
  ml: ['millilitre', 'millilitres', 'milliliter', 'milliliters'],
  gal: ['gallon', 'gallons'],
  '°c': ['c', 'celsius', '℃', 'degc'],
  '°f': ['f', 'fahrenheit', '℉', 'degf'],
  kelvin: ['k'],
  s: ['sec', 'secs', 'second', 'seconds'],
  min: ['mins', 'minute', 'minutes'],
  h: ['hr', 'hrs', 'hour', 'hours'],
  day: ['days'],
  'km/h': ['kph', 'kmh', 'km/hr', 'kmph', 'kilometresperhour', 'kilometersperhour'],
  mph: ['mi/h', 'milesperhour'],
  'm/s': ['metrespersecond', 'meterspersecond'],
  b: ['byte', 'bytes'],
  kb: ['kilobyte', 'kilobytes'],
  mb: ['megabyte', 'megabytes'],
  gb: ['gigabyte', 'gigabytes'],
  tb: ['terabyte', 'terabytes'],
  kib: ['kibibyte', 'kibibytes'],
  mib: ['mebibyte', 'mebibytes'],
  gib: ['gibibyte', 'gibibytes'],
  tib: ['tebibyte', 'tebibytes'],
  '%': ['percent', 'percentage', 'pct'],
  usd: ['$', 'dollar', 'dollars', 'usdollars'],
  eur: ['€', 'euro', 'euros'],
  gbp: ['£'],
};

const CANONICAL_UNIT = new Map<string, string>();
for (const [canonical, aliases] of Object.entries(UNIT_ALIASES)) {
  CANONICAL_UNIT.set(canonical, canonical);
  for (const a of aliases) CANONICAL_UNIT.set(a, canonical);
}

/** Canonical spelling of a unit ("kilometres" → "km", "degrees Celsius" → "°c"); unknown units are just normalised. */
export function canonicalUnit(unit: string): string {
  const u = unit
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/\s+/g, '')
    .replace(/^(degrees|degree|deg)(?=[a-z°])/, '');
  return CANONICAL_UNIT.get(u) ?? u;
}

function stripThinking(text: string): string {
  let out = text.replace(/<think>[\s\S]*?<\/think>/g, '');
  const close = out.lastIndexOf('</think>');
  if (close >= 0) out = out.slice(close + '</think>'.length);
  return out;
}

function lastBoxed(text: string): string | null {
  const at = text.lastIndexOf('\\boxed{');
  if (at < 0) return null;
  let depth = 0;
  for (let i = at + '\\boxed{'.length - 1; i < text.length; i += 1) {
    if (text[i] === '{') depth += 1;
    else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return text.slice(at + '\\boxed{'.length, i);
    }
  }
  return null;
}

function cleanAnswer(s: string): string {
  let out = s.trim();
  out = out.replace(/\*\*|__|`/g, '');
  out = out.replace(/^[-*>•]\s+/, '');
  out = out.replace(/^\$+|\$+$/g, (m) => (m.length > 1 ? '' : m)); // strip TeX $$ but keep a currency $
  out = out.trim().replace(/^["'“‘]+|["'”’]+$/g, '');
  out = out.trim().replace(/[.!。;,]+$/, '');
  return out.trim();
}

/** The final answer inside a model's output. */
export function extractFinalAnswer(output: string): string {
  const text = stripThinking(output).trim();
  const boxed = lastBoxed(text);
  if (boxed !== null) return cleanAnswer(boxed);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const m = /\b(?:final\s+answer|answer)\s*(?:is\s*:?|:|：|=)\s*(.+)$/i.exec(lines[i]!);
    if (m?.[1] && cleanAnswer(m[1]) !== '') return cleanAnswer(m[1]);
  }
  return cleanAnswer(lines.at(-1) ?? '');
}

export function normaliseText(s: string): string {
  return cleanAnswer(s.normalize('NFKC')).toLowerCase().replace(/\s+/g, ' ').trim();
}

const NUMBER_RE = /[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+−]?\.\d+(?:[eE][-+]?\d+)?/;
const WHOLE_NUMBER_RE = new RegExp(`^([$€£])?\\s*(${NUMBER_RE.source})\\s*(.*)$`);

export interface TParsedNumber {
  value: number;
  /** Canonical unit, or null when none was written. */
  unit: string | null;
}

function toNumber(raw: string): number {
  return Number(raw.replace(/−/g, '-').replace(/,/g, ''));
}

/**
 * Parses "42", "42.0", "4.2e1", "1,234.5", "−3", "8.05 km", "$12.50" or "75%". When the text is not
 * just a number, the first number after the last "=" (or in the text) is taken.
 */
export function parseNumberAnswer(text: string): TParsedNumber | null {
  const s = cleanAnswer(text.normalize('NFKC'));
  const whole = WHOLE_NUMBER_RE.exec(s);
  if (whole) {
    const [, currency, num, rest] = whole;
    const unitText = currency ?? rest?.trim() ?? '';
    const value = toNumber(num!);
    const unitLike = /^[A-Za-z°%℃℉/µ ]{0,40}$/.test(rest ?? '');
    if (Number.isFinite(value) && unitLike && (currency === undefined || !rest?.trim())) {
      return { value, unit: unitText ? canonicalUnit(unitText) : null };
    }
  }
  const tail = s.includes('=') ? s.slice(s.lastIndexOf('=') + 1) : s;
  const m = new RegExp(`([$€£])?\\s*(${NUMBER_RE.source})\\s*([A-Za-z°%℃℉/]+(?:\\s+per\\s+[A-Za-z]+)?)?`).exec(tail);
  if (!m) return null;
  const value = toNumber(m[2]!);
  if (!Number.isFinite(value)) return null;
  const unitText = m[1] ?? m[3] ?? '';
  return { value, unit: unitText ? canonicalUnit(unitText) : null };
}

export interface TAnswerScore {
  correct: boolean;
  /** The answer as extracted from the output. */
  extracted: string;
  /** Why it is wrong (empty when correct). */
  reason: string;
}

/** Human form of an expected answer, e.g. "8.05 km" or "Paris". */
export function formatExpected(expected: TExpectedAnswer): string {
  return expected.type === 'number' ? `${expected.value}${expected.unit ? ` ${expected.unit}` : ''}` : expected.value;
}

export function scoreExactAnswer(expected: TExpectedAnswer, output: string): TAnswerScore {
  const extracted = extractFinalAnswer(output);
  if (extracted === '') return { correct: false, extracted, reason: 'empty answer' };
  if (expected.type === 'text') {
    const got = normaliseText(extracted);
    const ok = [expected.value, ...(expected.aliases ?? [])].some((v) => normaliseText(v) === got);
    return { correct: ok, extracted, reason: ok ? '' : `expected "${expected.value}"` };
  }
  const parsed = parseNumberAnswer(extracted);
  if (!parsed) return { correct: false, extracted, reason: 'no number in the answer' };
  const tol = expected.tolerance ?? Math.max(1e-9, Math.abs(expected.value) * 1e-9);
  if (!(Math.abs(parsed.value - expected.value) <= tol)) {
    return { correct: false, extracted, reason: `value ${parsed.value} differs from ${expected.value}` };
  }
  if (expected.unit && parsed.unit !== null && parsed.unit !== canonicalUnit(expected.unit)) {
    return { correct: false, extracted, reason: `unit "${parsed.unit}" is not "${expected.unit}"` };
  }
  return { correct: true, extracted, reason: '' };
}
