import { cpus } from 'node:os';
import { join } from 'node:path';
import { assertFreeSpace, writeAtomically } from '../output-dir';
import type { ArtifactManifest } from '../manifest';
import { ingestOutputDirectory, type DetectedFormat } from './ingest';
import { probeToolVersion, runTool, type RunToolOptions, type RunToolResult } from './run-tool';
import type { ToolVersion } from './tool-output';

export interface ExternalConversionOptions extends Omit<RunToolOptions, 'values'> {
  inputDir: string;
  /** The source's main file when the tool takes a file (e.g. a GGUF for llama-quantize): {input_file}. */
  inputFile?: string;
  /** The artifact folder to create; the tool writes into a temporary sibling ({output_dir}). */
  outputDir: string;
  /** Name of {output_file} inside the output folder. */
  outputFileName?: string;
  threads?: number;
  /** Extra placeholder values from the recipe (e.g. {imatrix}). */
  values?: Record<string, string | number>;
  /** Space the output is expected to need, checked before the tool starts. */
  expectedOutputBytes?: number;
  /** Arguments that make the tool print its version (default ["--version"]). */
  versionArgs?: string[];
}

export interface ExternalConversionResult {
  run: RunToolResult;
  toolVersion: ToolVersion | null;
  manifest: ArtifactManifest;
  detected: DetectedFormat;
}

/**
 * Records the tool's version, runs its command template into a temporary folder, then ingests what it wrote
 * (manifest and detected format) and renames the folder into place. Failure, timeout or cancel leave nothing.
 */
export async function runExternalConversion(opts: ExternalConversionOptions): Promise<ExternalConversionResult> {
  const toolVersion = await probeToolVersion(opts.template[0]!, { args: opts.versionArgs, env: opts.env });
  return writeAtomically(opts.outputDir, async (tempDir) => {
    if (opts.expectedOutputBytes) await assertFreeSpace(tempDir, opts.expectedOutputBytes);
    const values: Record<string, string | number> = {
      input_dir: opts.inputDir,
      output_dir: tempDir,
      threads: opts.threads ?? cpus().length,
      ...(opts.inputFile ? { input_file: join(opts.inputDir, opts.inputFile) } : {}),
      ...(opts.outputFileName ? { output_file: join(tempDir, opts.outputFileName) } : {}),
      ...opts.values,
    };
    const run = await runTool({ ...opts, values });
    const { manifest, detected } = await ingestOutputDirectory(tempDir);
    return { run, toolVersion, manifest, detected };
  });
}
