import { ZReasoningPrompt, type TReasoningPrompt } from '@fleetplane/contracts';
import { ANSWER_INSTRUCTION } from './exact-answer-tasks';

/** Prompts that reward thinking; asked in both non-thinking and thinking mode. */
export const REASONING_PROMPTS: readonly TReasoningPrompt[] = [
  {
    id: 'reason-youngest',
    prompt: `Alice is older than Bob. Carol is younger than Bob. Dan is older than Alice. Who is the youngest?\n${ANSWER_INSTRUCTION}`,
    expected: { type: 'text', value: 'Carol' },
    solution: 'Dan > Alice > Bob > Carol by age, so Carol is the youngest.',
  },
  {
    id: 'reason-bat-ball',
    prompt: `A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. How much does the ball cost, in US dollars?\n${ANSWER_INSTRUCTION}`,
    expected: { type: 'number', value: 0.05, unit: 'USD', tolerance: 1e-6 },
    solution: 'ball + (ball + 1.00) = 1.10, so 2 × ball = 0.10 and the ball costs 0.05.',
  },
  {
    id: 'reason-widgets',
    prompt: `If 5 machines take 5 minutes to make 5 widgets, how many minutes would 100 machines take to make 100 widgets?\n${ANSWER_INSTRUCTION}`,
    expected: { type: 'number', value: 5, unit: 'min' },
    solution: 'Each machine makes one widget in 5 minutes, so 100 machines make 100 widgets in 5 minutes.',
  },
  {
    id: 'reason-lily-pads',
    prompt: `A patch of lily pads doubles in size every day. It takes 48 days to cover the whole lake. On which day is the lake half covered?\n${ANSWER_INSTRUCTION}`,
    expected: { type: 'number', value: 47 },
    solution: 'The patch doubles daily, so it is half the lake one day before it is the whole lake: day 47.',
  },
  {
    id: 'reason-socks',
    prompt: `A drawer holds 10 black socks and 10 white socks. In the dark, what is the smallest number of socks you must take out to be sure of having a matching pair?\n${ANSWER_INSTRUCTION}`,
    expected: { type: 'number', value: 3 },
    solution: 'With two colours, two socks can differ; a third sock must match one of them, so 3.',
  },
  {
    id: 'reason-train-time',
    prompt: `A train leaves at 09:40 and the trip takes 2 hours 35 minutes. At what time does it arrive? Answer in HH:MM 24-hour format.\n${ANSWER_INSTRUCTION}`,
    expected: { type: 'text', value: '12:15' },
    solution: '09:40 plus 2 hours is 11:40; plus 35 minutes is 12:15.',
  },
].map((p) => ZReasoningPrompt.parse(p));
