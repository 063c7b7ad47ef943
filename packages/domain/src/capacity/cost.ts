import type { TApiPrice } from './types';

/**
 * Cost per token of a self-hosted cluster over a window, against the hosted API for the same traffic.
 * All money in USD; token prices per 1M tokens.
 */

export const HOURS_PER_MONTH = 730;

export interface TCostInput {
  windowHours: number;
  gpuCount: number;
  gpuHourlyUsd: number;
  /** Average measured draw of all the cluster's GPUs together (W) and the electricity price; optional. */
  power?: { averageWatts: number; usdPerKwh: number } | null;
  /** Engine counter increases over the window. `cachedPromptTokens` is part of `promptTokens`. */
  promptTokens: number;
  generationTokens: number;
  cachedPromptTokens: number;
  /** Average GPU utilisation over the window, 0..1; null when no telemetry. */
  utilisation: number | null;
  api: Pick<TApiPrice, 'inputPerM' | 'outputPerM' | 'cacheHitInputPerM'>;
}

export interface TCostScenario {
  monthlyTokens: number;
  monthlySelfHostedUsd: number;
  monthlyApiUsd: number;
  /** API minus self-hosted: positive means self-hosting saves money. */
  monthlySavingsUsd: number;
}

export interface TCostReport {
  gpuHours: number;
  computeUsd: number;
  powerUsd: number;
  energyKwh: number;
  totalUsd: number;
  usdPerHour: number;
  tokens: { prompt: number; generation: number; cached: number; total: number };
  cacheHitShare: number;
  /** Self-hosted cost per 1M tokens, split between input and output in the API's price ratio; null without traffic. */
  effectiveInputPerM: number | null;
  effectiveOutputPerM: number | null;
  blendedPerM: number | null;
  /** The same traffic at the hosted API's prices. */
  apiUsd: number;
  apiBlendedPerM: number | null;
  /** apiUsd - totalUsd: positive = self-hosting saved money in the window. */
  savingsUsd: number;
  /** Monthly tokens (same input/output/cache mix) at which the API would cost what the cluster costs. */
  breakEvenMonthlyTokens: number | null;
  /** The month extrapolated at the measured utilisation, and at full utilisation (throughput / utilisation). */
  atCurrentUtilisation: TCostScenario | null;
  atFullUtilisation: TCostScenario | null;
  /** Utilisation the cluster needs to reach break-even; above 1 means it cannot, even flat out. */
  breakEvenUtilisation: number | null;
  errors: string[];
}

function nonNegative(n: number): boolean {
  return Number.isFinite(n) && n >= 0;
}

export function validateCostInput(input: TCostInput): string[] {
  const errors: string[] = [];
  if (!(Number.isFinite(input.windowHours) && input.windowHours > 0)) errors.push('The window must be longer than zero hours');
  if (!Number.isInteger(input.gpuCount) || input.gpuCount < 0) errors.push('GPU count must be a whole number, zero or more');
  if (!nonNegative(input.gpuHourlyUsd)) errors.push('The GPU hourly price must be zero or more');
  for (const [k, v] of [
    ['prompt', input.promptTokens],
    ['generation', input.generationTokens],
    ['cached', input.cachedPromptTokens],
  ] as const) {
    if (!nonNegative(v)) errors.push(`The ${k} token count must be zero or more`);
  }
  if (input.cachedPromptTokens > input.promptTokens) errors.push('Cached prompt tokens cannot exceed prompt tokens');
  if (input.utilisation !== null && !(input.utilisation >= 0 && input.utilisation <= 1)) errors.push('Utilisation must be between 0 and 1');
  if (input.power && (!nonNegative(input.power.averageWatts) || !nonNegative(input.power.usdPerKwh)))
    errors.push('Power draw and price must be zero or more');
  for (const [k, v] of [
    ['input', input.api.inputPerM],
    ['output', input.api.outputPerM],
    ['cache-hit input', input.api.cacheHitInputPerM],
  ] as const) {
    if (!nonNegative(v)) errors.push(`The API ${k} price must be zero or more`);
  }
  return errors;
}

/** Hosted-API price of a traffic mix (cached prompt tokens at the cache-hit price). */
export function apiCostUsd(api: TCostInput['api'], prompt: number, cached: number, generation: number): number {
  return ((prompt - cached) * api.inputPerM + cached * api.cacheHitInputPerM + generation * api.outputPerM) / 1e6;
}

export function computeCost(input: TCostInput): TCostReport {
  const errors = validateCostInput(input);
  const empty: TCostReport = {
    gpuHours: 0,
    computeUsd: 0,
    powerUsd: 0,
    energyKwh: 0,
    totalUsd: 0,
    usdPerHour: 0,
    tokens: { prompt: 0, generation: 0, cached: 0, total: 0 },
    cacheHitShare: 0,
    effectiveInputPerM: null,
    effectiveOutputPerM: null,
    blendedPerM: null,
    apiUsd: 0,
    apiBlendedPerM: null,
    savingsUsd: 0,
    breakEvenMonthlyTokens: null,
    atCurrentUtilisation: null,
    atFullUtilisation: null,
    breakEvenUtilisation: null,
    errors,
  };
  if (errors.length > 0) return empty;

  const gpuHours = input.gpuCount * input.windowHours;
  const computeUsd = gpuHours * input.gpuHourlyUsd;
  const energyKwh = input.power ? (input.power.averageWatts * input.windowHours) / 1000 : 0;
  const powerUsd = input.power ? energyKwh * input.power.usdPerKwh : 0;
  const totalUsd = computeUsd + powerUsd;
  const usdPerHour = totalUsd / input.windowHours;

  const prompt = input.promptTokens;
  const generation = input.generationTokens;
  const cached = input.cachedPromptTokens;
  const total = prompt + generation;
  const apiIn = apiCostUsd(input.api, prompt, cached, 0);
  const apiOut = apiCostUsd(input.api, 0, 0, generation);
  const apiUsd = apiIn + apiOut;

  // Self-hosted cost has no natural input/output split; share it as the API prices the same mix,
  // so both sides of the comparison weigh an output token against an input token alike.
  const inShare = apiUsd > 0 ? apiIn / apiUsd : total > 0 ? prompt / total : 0;
  const effectiveInputPerM = prompt > 0 ? ((totalUsd * inShare) / prompt) * 1e6 : null;
  const effectiveOutputPerM = generation > 0 ? ((totalUsd * (1 - inShare)) / generation) * 1e6 : null;
  const blendedPerM = total > 0 ? (totalUsd / total) * 1e6 : null;
  const apiBlendedPerM = total > 0 ? (apiUsd / total) * 1e6 : null;

  const monthlyCost = usdPerHour * HOURS_PER_MONTH;
  const breakEvenMonthlyTokens = apiBlendedPerM && apiBlendedPerM > 0 ? (monthlyCost / apiBlendedPerM) * 1e6 : null;

  const scenario = (monthlyTokens: number): TCostScenario => {
    const monthlyApiUsd = apiBlendedPerM !== null ? (monthlyTokens * apiBlendedPerM) / 1e6 : 0;
    return { monthlyTokens, monthlySelfHostedUsd: monthlyCost, monthlyApiUsd, monthlySavingsUsd: monthlyApiUsd - monthlyCost };
  };
  const tokensPerHour = total / input.windowHours;
  const atCurrentUtilisation = total > 0 ? scenario(tokensPerHour * HOURS_PER_MONTH) : null;
  const util = input.utilisation;
  const atFullUtilisation = total > 0 && util !== null && util > 0 ? scenario((tokensPerHour / util) * HOURS_PER_MONTH) : null;
  const breakEvenUtilisation =
    atFullUtilisation && breakEvenMonthlyTokens !== null && atFullUtilisation.monthlyTokens > 0
      ? breakEvenMonthlyTokens / atFullUtilisation.monthlyTokens
      : null;

  return {
    gpuHours,
    computeUsd,
    powerUsd,
    energyKwh,
    totalUsd,
    usdPerHour,
    tokens: { prompt, generation, cached, total },
    cacheHitShare: prompt > 0 ? cached / prompt : 0,
    effectiveInputPerM,
    effectiveOutputPerM,
    blendedPerM,
    apiUsd,
    apiBlendedPerM,
    savingsUsd: apiUsd - totalUsd,
    breakEvenMonthlyTokens,
    atCurrentUtilisation,
    atFullUtilisation,
    breakEvenUtilisation,
    errors: [],
  };
}
