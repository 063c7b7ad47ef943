import { ZExactAnswerTask, type TExactAnswerTask, type TExactAnswerCategory, type TExpectedAnswer } from '@fleetplane/contracts';

/**
 * The shipped exact-answer task set: every answer is checkable by comparison (never by running model
 * output). Numeric answers are computed here from their inputs so a typo cannot ship a wrong key;
 * the code tasks are verified by running the snippets themselves in a test.
 */

export const ANSWER_INSTRUCTION = 'Reply with only the final answer.';

const num = (value: number, unit?: string, tolerance?: number): TExpectedAnswer => ({
  type: 'number',
  value,
  ...(unit ? { unit } : {}),
  ...(tolerance !== undefined ? { tolerance } : {}),
});
const text = (value: string, ...aliases: string[]): TExpectedAnswer => ({ type: 'text', value, ...(aliases.length ? { aliases } : {}) });
const round = (x: number, dp: number) => Math.round(x * 10 ** dp) / 10 ** dp;

function task(id: string, category: TExactAnswerCategory, question: string, expected: TExpectedAnswer): TExactAnswerTask {
  return { id, category, prompt: `${question}\n${ANSWER_INSTRUCTION}`, expected };
}

const BRIDGE =
  'Passage: The Øresund Bridge opened to traffic on 1 July 2000. It connects Copenhagen in Denmark with Malmö in Sweden and is about 7.8 kilometres long.';
const ORDER =
  'Passage: Order #48213 was placed by Dana Whitfield on 3 March. It contained 4 notebooks at $2.50 each and 2 pens at $1.25 each. Shipping was free.';
const NOTES =
  'Passage: The migration to the new cluster is scheduled for Thursday. Priya owns the database cutover, Tomasz owns DNS, and Lena will write the rollback plan. The change freeze starts at 18:00 UTC.';
const CLUSTER =
  'Passage: The staging cluster has 4 nodes. Each node has 8 GPUs with 80 GB of memory each, and the nodes are linked by 400 Gb/s InfiniBand.';
const LOG = "Passage: At 02:14 the scheduler logged 'worker-7 exited with code 137 after 42 minutes' and restarted it on node gpu-12.";
const RECIPE = 'Passage: The recipe serves 6 people and needs 300 grams of flour, 2 eggs and 150 millilitres of milk.';
const CURIE =
  'Passage: Marie Curie was born in Warsaw in 1867. She won the Nobel Prize in Physics in 1903 and the Nobel Prize in Chemistry in 1911.';

const code = (src: string) => `What does this JavaScript program print?\n\n\`\`\`js\n${src}\n\`\`\``;

/** JavaScript snippets of the code_output tasks, keyed by task id (the test runs them to verify the answers). */
export const CODE_TASK_SOURCES: Record<string, string> = {
  'code-loop-sum': 'let total = 0;\nfor (let i = 1; i <= 5; i++) total += i;\nconsole.log(total);',
  'code-range': 'const xs = [3, 1, 4, 1, 5, 9, 2, 6];\nconsole.log(Math.max(...xs) - Math.min(...xs));',
  'code-reverse': "console.log('fleet'.split('').reverse().join(''));",
  'code-lengths': "const words = ['gpu', 'node', 'cluster'];\nconsole.log(words.map((w) => w.length).reduce((a, b) => a + b, 0));",
  'code-fib': 'function fib(n) {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}\nconsole.log(fib(10));',
  'code-continue': 'let s = 0;\nfor (let i = 0; i < 10; i++) {\n  if (i % 3 === 0) continue;\n  s += i;\n}\nconsole.log(s);',
  'code-map': "const m = new Map([['a', 1], ['b', 2]]);\nm.set('a', 5);\nconsole.log(m.get('a') * m.size);",
  'code-filter-join': "console.log([1, 2, 3, 4, 5, 6].filter((n) => n % 2 === 0).map((n) => n * n).join(','));",
  'code-increments': 'let x = 10;\nx += x++ + ++x;\nconsole.log(x);',
  'code-parse-hex': "console.log(parseInt('ff', 16));",
  'code-shallow-copy': 'const o = { a: 1, b: { c: 2 } };\nconst copy = { ...o };\ncopy.b.c = 3;\nconsole.log(o.b.c);',
};

const CODE_EXPECTED: Record<string, TExpectedAnswer> = {
  'code-loop-sum': num(15),
  'code-range': num(8),
  'code-reverse': text('teelf'),
  'code-lengths': num(14),
  'code-fib': num(55),
  'code-continue': num(27),
  'code-map': num(10),
  'code-filter-join': text('4,16,36'),
  'code-increments': num(32),
  'code-parse-hex': num(255),
  'code-shallow-copy': num(3),
};

export const EXACT_ANSWER_TASKS: readonly TExactAnswerTask[] = [
  task('arith-mul', 'arithmetic', 'What is 17 × 23?', num(17 * 23)),
  task('arith-add', 'arithmetic', 'What is 1234 + 5678?', num(1234 + 5678)),
  task('arith-sub', 'arithmetic', 'What is 1000 − 387?', num(1000 - 387)),
  task('arith-div', 'arithmetic', 'What is 144 ÷ 12?', num(144 / 12)),
  task('arith-pow', 'arithmetic', 'What is 2 to the power of 10?', num(2 ** 10)),
  task('arith-percent', 'arithmetic', 'What is 15% of 240?', num((15 / 100) * 240)),
  task('arith-gauss', 'arithmetic', 'What is the sum of the integers from 1 to 100?', num((100 * 101) / 2)),
  task('arith-decimal', 'arithmetic', 'What is 3.5 × 4.2?', num(round(3.5 * 4.2, 2), undefined, 1e-6)),
  task('arith-mod', 'arithmetic', 'What is the remainder when 1000 is divided by 7?', num(1000 % 7)),
  task('arith-sqrt', 'arithmetic', 'What is the square root of 1764?', num(Math.sqrt(1764))),
  task('arith-brackets', 'arithmetic', 'What is (12 + 8) × (15 − 6)?', num((12 + 8) * (15 - 6))),
  task('arith-factorial', 'arithmetic', 'What is 7 factorial (7!)?', num(7 * 6 * 5 * 4 * 3 * 2)),
  task('arith-lcm', 'arithmetic', 'What is the least common multiple of 12 and 18?', num(36)),
  task('arith-fraction', 'arithmetic', 'What is 2/5 written as a decimal number?', num(2 / 5)),

  task(
    'unit-miles-km',
    'unit_conversion',
    'Convert 5 miles to kilometres, rounded to two decimal places. Give the value in kilometres.',
    num(round(5 * 1.609344, 2), 'km', 0.005),
  ),
  task(
    'unit-f-c',
    'unit_conversion',
    'Convert 100 degrees Fahrenheit to degrees Celsius, rounded to one decimal place.',
    num(round(((100 - 32) * 5) / 9, 1), '°C', 0.05),
  ),
  task('unit-hours-seconds', 'unit_conversion', 'How many seconds are there in 3 hours?', num(3 * 3600, 's')),
  task('unit-kg-g', 'unit_conversion', 'Convert 2.5 kilograms to grams.', num(2.5 * 1000, 'g')),
  task('unit-kmh-ms', 'unit_conversion', 'Convert 72 km/h to metres per second.', num((72 * 1000) / 3600, 'm/s')),
  task('unit-gib-mib', 'unit_conversion', 'How many mebibytes (MiB) are there in 3 gibibytes (GiB)?', num(3 * 1024, 'MiB')),
  task('unit-in-cm', 'unit_conversion', 'Convert 12 inches to centimetres.', num(round(12 * 2.54, 2), 'cm', 1e-6)),
  task('unit-l-ml', 'unit_conversion', 'Convert 1.5 litres to millilitres.', num(1.5 * 1000, 'ml')),
  task(
    'unit-lb-kg',
    'unit_conversion',
    'Convert 10 pounds (lb) to kilograms, rounded to two decimal places.',
    num(round(10 * 0.45359237, 2), 'kg', 0.005),
  ),
  task('unit-min-h', 'unit_conversion', 'Convert 90 minutes to hours.', num(90 / 60, 'h')),
  task('unit-c-f', 'unit_conversion', 'Convert 25 degrees Celsius to degrees Fahrenheit.', num((25 * 9) / 5 + 32, '°F')),

  task('extract-bridge-year', 'extraction', `${BRIDGE}\nQuestion: In which year did the bridge open?`, num(2000)),
  task('extract-bridge-length', 'extraction', `${BRIDGE}\nQuestion: How long is the bridge, in kilometres?`, num(7.8, 'km')),
  task('extract-order-customer', 'extraction', `${ORDER}\nQuestion: Who placed the order?`, text('Dana Whitfield')),
  task('extract-order-notebooks', 'extraction', `${ORDER}\nQuestion: How many notebooks were ordered?`, num(4)),
  task(
    'extract-order-total',
    'extraction',
    `${ORDER}\nQuestion: What was the total cost of the order, in US dollars?`,
    num(4 * 2.5 + 2 * 1.25, 'USD', 1e-6),
  ),
  task('extract-notes-dns', 'extraction', `${NOTES}\nQuestion: Who owns DNS?`, text('Tomasz')),
  task(
    'extract-notes-freeze',
    'extraction',
    `${NOTES}\nQuestion: At what hour (UTC, 24-hour clock) does the change freeze start? Give only the hour as a number.`,
    num(18),
  ),
  task('extract-cluster-memory', 'extraction', `${CLUSTER}\nQuestion: How much memory does each GPU have, in GB?`, num(80, 'GB')),
  task('extract-log-exit', 'extraction', `${LOG}\nQuestion: What exit code did the worker report?`, num(137)),
  task('extract-recipe-eggs', 'extraction', `${RECIPE}\nQuestion: How many eggs does the recipe need?`, num(2)),
  task('extract-curie-city', 'extraction', `${CURIE}\nQuestion: In which city was Marie Curie born?`, text('Warsaw')),

  ...Object.entries(CODE_TASK_SOURCES).map(([id, src]) => task(id, 'code_output', code(src), CODE_EXPECTED[id]!)),
].map((t) => ZExactAnswerTask.parse(t));

export function exactAnswerTaskById(id: string): TExactAnswerTask | undefined {
  return EXACT_ANSWER_TASKS.find((t) => t.id === id);
}
