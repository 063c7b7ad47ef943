// Parsers for what llama.cpp tools print (quantisation-formats.md §9.3): per-tensor progress lines of
// llama-quantize and the build identity of `--version` / the start-up banner.

export interface ToolProgress {
  done: number;
  total: number;
  tensor?: string;
}

// `[  12/ 291]                 blk.0.attn_k.weight - [  4096,   1024,      1,      1], type =    f16, converting to q4_K .. size = ...`
const LLAMA_QUANTIZE_LINE = /^\[\s*(\d+)\/\s*(\d+)\]\s+(\S+)\s+-\s+\[([\d,\s]+)\],\s*type\s*=\s*(\S+),/;

export function parseLlamaQuantizeProgress(line: string): ToolProgress | null {
  const m = LLAMA_QUANTIZE_LINE.exec(line.trim());
  if (!m) return null;
  return { done: Number(m[1]), total: Number(m[2]), tensor: m[3] };
}

export interface ToolVersion {
  /** The version string to record: "b<build> (<commit>)" for llama.cpp builds, else the first line printed. */
  version: string;
  build?: number;
  commit?: string;
  raw: string;
}

/** Understands `version: 4242 (deadbee)`, `version: <v> (build N, commit X)` and `main: build = 4242 (deadbee)`; else the first non-empty line. */
export function parseToolVersion(output: string): ToolVersion | null {
  const raw = output.trim();
  if (raw === '') return null;
  let m = /version:\s*(\S+)\s*\(build\s+(\d+),\s*commit\s+([0-9a-f]+)\)/i.exec(raw);
  if (m) return { version: `${m[1]} (build ${m[2]}, commit ${m[3]})`, build: Number(m[2]), commit: m[3], raw };
  m = /(?:version:|build\s*=)\s*(\d+)\s*\(([0-9a-f]+)\)/i.exec(raw);
  if (m) return { version: `b${m[1]} (${m[2]})`, build: Number(m[1]), commit: m[2], raw };
  return {
    version: raw
      .split('\n')
      .find((l) => l.trim() !== '')!
      .trim()
      .slice(0, 200),
    raw,
  };
}
