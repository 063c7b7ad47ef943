import type { SimulatedGpuInput } from './simulate.mjs';
export function xidPci(busId: string): string;
export function xidLinesFor(gpu: SimulatedGpuInput, window: number, nowMs: number): string[];
export function defaultStateDir(configPath: string): string;
