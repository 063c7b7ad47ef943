import { ZToolCase, ZToolDefinition, type TToolCase, type TToolCaseInput, type TToolDefinition } from '@fleetplane/contracts';

/** Tools offered in tool-calling checks, as OpenAI `tools[]` entries with JSON-schema parameters. */
export const TOOL_DEFINITIONS: readonly TToolDefinition[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the current weather for a city.',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City name, e.g. "Paris"' },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'], description: 'Temperature unit' },
        },
        required: ['city', 'unit'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'convert_currency',
      description: 'Convert an amount of money between two currencies.',
      parameters: {
        type: 'object',
        properties: {
          amount: { type: 'number', minimum: 0, description: 'Amount in the source currency' },
          from: { type: 'string', enum: ['USD', 'EUR', 'GBP', 'JPY', 'NOK'], description: 'ISO 4217 source currency' },
          to: { type: 'string', enum: ['USD', 'EUR', 'GBP', 'JPY', 'NOK'], description: 'ISO 4217 target currency' },
        },
        required: ['amount', 'from', 'to'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'create_calendar_event',
      description: 'Create a calendar event.',
      parameters: {
        type: 'object',
        properties: {
          title: { type: 'string' },
          start: { type: 'string', description: 'Local start time, ISO 8601 without zone, e.g. 2026-05-04T14:00:00' },
          duration_minutes: { type: 'integer', minimum: 5, maximum: 480 },
          attendees: { type: 'array', items: { type: 'string', description: 'E-mail address' } },
        },
        required: ['title', 'start', 'duration_minutes'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'search_flights',
      description: 'Search for flights between two airports on a date.',
      parameters: {
        type: 'object',
        properties: {
          origin: { type: 'string', description: 'IATA airport code' },
          destination: { type: 'string', description: 'IATA airport code' },
          date: { type: 'string', description: 'YYYY-MM-DD' },
          passengers: { type: 'integer', minimum: 1, maximum: 9 },
          cabin: { type: 'string', enum: ['economy', 'premium_economy', 'business', 'first'] },
        },
        required: ['origin', 'destination', 'date', 'passengers'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'lookup_order',
      description: 'Look up an order by its number.',
      parameters: {
        type: 'object',
        properties: { order_id: { type: 'string', description: 'Order number without "#"' } },
        required: ['order_id'],
        additionalProperties: false,
      },
    },
  },
].map((t) => ZToolDefinition.parse(t));

const ALL = TOOL_DEFINITIONS.map((t) => t.function.name);

const CASES: TToolCaseInput[] = [
  {
    id: 'tool-weather-paris',
    prompt: 'Use the get_weather tool to look up the current weather in Paris, in celsius.',
    offeredTools: ['get_weather', 'convert_currency', 'create_calendar_event'],
    expectedTool: 'get_weather',
    expectedArguments: { city: 'Paris', unit: 'celsius' },
    referenceArguments: { city: 'Paris', unit: 'celsius' },
  },
  {
    id: 'tool-currency',
    prompt: 'Call convert_currency to convert 250 US dollars (USD) to euros (EUR).',
    offeredTools: ALL,
    expectedTool: 'convert_currency',
    expectedArguments: { amount: 250, from: 'USD', to: 'EUR' },
    referenceArguments: { amount: 250, from: 'USD', to: 'EUR' },
  },
  {
    id: 'tool-calendar',
    prompt:
      'Use create_calendar_event to schedule a 45-minute meeting titled "Rollout review" on 2026-05-04 at 14:00 with alice@example.com and bob@example.com.',
    offeredTools: ALL,
    expectedTool: 'create_calendar_event',
    expectedArguments: { title: 'Rollout review', duration_minutes: 45, start: '2026-05-04' },
    referenceArguments: {
      title: 'Rollout review',
      start: '2026-05-04T14:00:00',
      duration_minutes: 45,
      attendees: ['alice@example.com', 'bob@example.com'],
    },
  },
  {
    id: 'tool-flights',
    prompt: 'Use search_flights to find economy flights from OSL to LIS on 2026-06-12 for 2 passengers.',
    offeredTools: ['search_flights', 'get_weather'],
    expectedTool: 'search_flights',
    expectedArguments: { origin: 'OSL', destination: 'LIS', date: '2026-06-12', passengers: 2, cabin: 'economy' },
    referenceArguments: { origin: 'OSL', destination: 'LIS', date: '2026-06-12', passengers: 2, cabin: 'economy' },
  },
  {
    id: 'tool-order',
    prompt: 'Look up order #48213 with the lookup_order tool.',
    offeredTools: ['lookup_order', 'convert_currency'],
    expectedTool: 'lookup_order',
    expectedArguments: { order_id: '48213' },
    referenceArguments: { order_id: '48213' },
  },
  {
    id: 'tool-weather-tokyo',
    prompt: 'What is the weather like in Tokyo right now? Use the get_weather tool and report it in fahrenheit.',
    offeredTools: ALL,
    expectedTool: 'get_weather',
    expectedArguments: { city: 'Tokyo', unit: 'fahrenheit' },
    referenceArguments: { city: 'Tokyo', unit: 'fahrenheit' },
  },
];

export const TOOL_CASES: readonly TToolCase[] = CASES.map((c) => {
  const parsed = ZToolCase.parse(c);
  for (const name of [...parsed.offeredTools, parsed.expectedTool]) {
    if (!ALL.includes(name)) throw new Error(`Tool case ${parsed.id} names unknown tool ${name}`);
  }
  if (!parsed.offeredTools.includes(parsed.expectedTool)) throw new Error(`Tool case ${parsed.id} does not offer its expected tool`);
  return parsed;
});

export function toolsFor(names: readonly string[]): TToolDefinition[] {
  return names.map((n) => {
    const t = TOOL_DEFINITIONS.find((d) => d.function.name === n);
    if (!t) throw new Error(`Unknown tool ${n}`);
    return t;
  });
}
