// Entry logic of the fake `nvidia-smi`: accepts the invocations the agent makes (and a little more),
// prints what a real driver prints, and can simulate the failures the agent must survive.
import { GPU_FIELD_NAMES, gpuFieldSpec, remappedRowFieldSpec, resolveGpuField } from './fields.mjs';
import { FakeConfigError, loadFakeConfig } from './config.mjs';
import { maybeAppendXid } from './kernel-log.mjs';
import { simulateGpu } from './simulate.mjs';
import { renderTable } from './table.mjs';

export const FAIL_MODES = ['missing', 'exit', 'garbage', 'hang'];

const INVALID_ARGS = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n";

function parseArgs(argv) {
  const opts = { queryGpu: null, queryRemapped: null, format: null, listGpus: false, help: false, unknown: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const key = eq === -1 ? arg : arg.slice(0, eq);
    const takeValue = () => (eq !== -1 ? arg.slice(eq + 1) : (argv[++i] ?? ''));
    if (key === '--query-gpu') opts.queryGpu = takeValue();
    else if (key === '--query-remapped-rows') opts.queryRemapped = takeValue();
    else if (key === '--format') opts.format = takeValue();
    else if (key === '-L' || key === '--list-gpus') opts.listGpus = true;
    else if (key === '-h' || key === '--help') opts.help = true;
    else opts.unknown.push(arg);
  }
  return opts;
}

function parseFormat(format) {
  const parts = format
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (!parts.includes('csv') || parts.some((p) => !['csv', 'noheader', 'nounits'].includes(p))) return null;
  return { header: !parts.includes('noheader'), units: !parts.includes('nounits') };
}

function cell(value, unit, fmt) {
  if (value === null || value === undefined) return '[N/A]';
  return unit && fmt.units ? `${value} ${unit}` : String(value);
}

// Fields a GPU in an error state still answers: who and where it is, not what it reads.
const IDENTITY_FIELDS = new Set([
  'timestamp',
  'driver_version',
  'count',
  'name',
  'serial',
  'uuid',
  'index',
  'hostname',
  'gpu_name',
  'gpu_uuid',
  'gpu_serial',
  'gpu_bus_id',
]);
const isIdentity = (name) => IDENTITY_FIELDS.has(name) || name.startsWith('pci.');

function renderCsv(names, specs, contexts, fmt) {
  const lines = [];
  if (fmt.header) lines.push(names.map((n, i) => (specs[i].unit ? `${n} [${specs[i].unit}]` : n)).join(', '));
  for (const c of contexts) {
    lines.push(
      specs.map((spec, i) => (c.s.errorMarker && !isIdentity(names[i]) ? c.s.errorMarker : cell(spec.value(c), spec.unit, fmt))).join(', '),
    );
  }
  return `${lines.join('\n')}\n`;
}

function nowFrom(env) {
  const raw = env.FAKE_NVIDIA_SMI_NOW;
  if (!raw) return Date.now();
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  return Number.isFinite(ms) ? ms : Date.now();
}

/**
 * Runs one invocation. Returns the exit code, or 'hang' when the caller should never exit.
 * @param {string[]} argv
 * @param {Record<string, string | undefined>} env
 * @param {{ out: (s: string) => void, err: (s: string) => void }} io
 */
export function runFakeNvidiaSmi(argv, env, io) {
  const failMode = env.FAKE_NVIDIA_SMI_FAIL;
  if (failMode === 'missing') {
    io.out(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
    );
    return 9;
  }
  if (failMode === 'exit') {
    io.out('Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.54\n');
    return 18;
  }
  if (failMode === 'hang') return 'hang';
  if (failMode === 'garbage') {
    io.out('\u0000\u0007%%% segfault in libnvidia-ml.so.1 %%%\n<<<<<<<<\nGPU ???? 0xDEADBEEF\n');
    return 0;
  }
  if (failMode) {
    io.err(`fake-nvidia-smi: FAKE_NVIDIA_SMI_FAIL must be one of ${FAIL_MODES.join(', ')}\n`);
    return 2;
  }

  const opts = parseArgs(argv);
  if (opts.help) {
    io.out(
      `Fake NVIDIA System Management Interface (Fleetplane test stand-in)\n\n  --query-gpu=<fields> --format=csv[,noheader][,nounits]\n  --query-remapped-rows=<fields> --format=csv[,noheader]\n  -L, --list-gpus\n\nSupported --query-gpu fields:\n  ${GPU_FIELD_NAMES.join('\n  ')}\n`,
    );
    return 0;
  }
  if (opts.unknown.length > 0 || (opts.queryGpu !== null && opts.queryRemapped !== null)) {
    io.out(INVALID_ARGS);
    return 2;
  }

  const configPath = env.FAKE_NVIDIA_SMI_CONFIG;
  if (!configPath) {
    io.err('fake-nvidia-smi: set FAKE_NVIDIA_SMI_CONFIG to the path of a JSON config (see tools/fake-nvidia-smi/README.md)\n');
    return 9;
  }
  let config;
  try {
    config = loadFakeConfig(configPath);
  } catch (err) {
    if (err instanceof FakeConfigError) {
      io.err(`fake-nvidia-smi: ${err.message}\n`);
      return 9;
    }
    throw err;
  }
  const nowMs = nowFrom(env);
  const contexts = config.gpus.map((gpu, index) => ({ config, gpu, index, nowMs, s: simulateGpu(gpu, nowMs) }));

  const query = opts.queryGpu ?? opts.queryRemapped;
  if (query !== null) {
    const names = query.split(',').map((f) => f.trim());
    const specs = [];
    for (const name of names) {
      const spec = opts.queryGpu !== null ? gpuFieldSpec(resolveGpuField(name)) : remappedRowFieldSpec(name);
      if (!spec) {
        io.out(`Field "${name}" is not a valid field to query.\n\n`);
        return 2;
      }
      specs.push(spec);
    }
    const fmt = opts.format === null ? null : parseFormat(opts.format);
    if (!fmt) {
      io.out(
        opts.format === null
          ? '"--format" must be specified when using --query-gpu or --query-remapped-rows.\n'
          : `Invalid format "${opts.format}". Use csv, optionally with noheader and nounits.\n`,
      );
      return 2;
    }
    io.out(renderCsv(names, specs, contexts, fmt));
  } else if (opts.listGpus) {
    io.out(contexts.map((c) => `GPU ${c.index}: ${c.gpu.name} (UUID: ${c.gpu.uuid})\n`).join(''));
  } else {
    io.out(renderTable(config, contexts, nowMs));
  }
  maybeAppendXid(config, configPath, nowMs);
  return 0;
}
