import { Command, Option } from 'commander';
import { enrollAgent, EnrollError } from './commands/enroll';
import { runAgent } from './commands/run';
import {
  ConfigError,
  DEFAULT_CACHE_DIR,
  DEFAULT_CREDENTIAL_PATH,
  DEFAULT_QUEUE_DIR,
  DEFAULT_QUEUE_MAX_BYTES,
  resolveEnrollConfig,
  resolveRunConfig,
} from './config';
import { createLogger } from './logger';
import { AGENT_VERSION } from './version';

const env = (name: string) => `(env FLEETPLANE_AGENT_${name})`;

function program(): Command {
  const cli = new Command('fleetplane-agent')
    .description('Fleetplane node agent: reports GPU health, Xid errors and serving-engine metrics to the control plane.')
    .version(AGENT_VERSION)
    .showHelpAfterError();

  cli
    .command('enroll')
    .description("Exchange a one-time join token for this node's credential and store it.")
    .option('--server <url>', `control plane URL, e.g. https://fleetplane.example.com ${env('SERVER')}`)
    .option('--token <token>', `one-time join token from the admin page ${env('TOKEN')}`)
    .option('--credential-path <path>', `where to store the credential (default ${DEFAULT_CREDENTIAL_PATH}) ${env('CREDENTIAL_PATH')}`)
    .option('--hostname <name>', `name to enroll under (default: the OS hostname) ${env('HOSTNAME')}`)
    .option('--nvidia-smi <path>', `nvidia-smi executable, for driver/CUDA versions (default nvidia-smi) ${env('NVIDIA_SMI')}`)
    .option('--force', `enroll again even if a credential exists ${env('FORCE')}`)
    .action(async (flags: Record<string, unknown>) => {
      const logger = createLogger();
      const stored = await enrollAgent(resolveEnrollConfig(flags), { logger });
      process.stdout.write(`Enrolled as node ${stored.nodeId} in cluster ${stored.clusterId}; credential saved.\n`);
    });

  cli
    .command('run')
    .description('Collect every interval and deliver through the on-disk queue.')
    .option('--once', `collect once, try to deliver everything queued, then exit (non-zero if delivery failed) ${env('ONCE')}`)
    .option('--dry-run', `print the batch JSON that would be sent and send nothing; needs no credential ${env('DRY_RUN')}`)
    .option('--interval <seconds>', `seconds between collections (default: the server's reportIntervalSeconds, else 10) ${env('INTERVAL')}`)
    .option('--nvidia-smi <path>', `nvidia-smi executable (default nvidia-smi) ${env('NVIDIA_SMI')}`)
    .option('--kernel-log <path>', `kernel log to tail for NVRM Xid lines: /dev/kmsg, /var/log/kern.log, ... ${env('KERNEL_LOG')}`)
    .option('--metrics-url <url>', `vLLM/SGLang Prometheus endpoint, e.g. http://127.0.0.1:8000/metrics ${env('METRICS_URL')}`)
    .option('--server <url>', `override the server stored at enrollment ${env('SERVER')}`)
    .option('--queue-dir <path>', `on-disk queue (default ${DEFAULT_QUEUE_DIR}) ${env('QUEUE_DIR')}`)
    .option(
      '--queue-max-bytes <n>',
      `queue bound; the oldest batches are dropped beyond it (default ${DEFAULT_QUEUE_MAX_BYTES}) ${env('QUEUE_MAX_BYTES')}`,
    )
    .option('--credential-path <path>', `credential written by enroll (default ${DEFAULT_CREDENTIAL_PATH}) ${env('CREDENTIAL_PATH')}`)
    .option('--cache-dir <path>', `model cache: artifacts fetched for the engine (default ${DEFAULT_CACHE_DIR}) ${env('CACHE_DIR')}`)
    .option('--hostname <name>', `hostname to report (default: the OS hostname) ${env('HOSTNAME')}`)
    .option(
      '--state-dir <path>',
      `command journal, engine state and engine.log (default: the queue directory's parent) ${env('STATE_DIR')}`,
    )
    .option('--no-commands', `do not run the control plane's commands (telemetry only) ${env('COMMANDS')}`)
    .option('--engine-bind-host <host>', `bind the engine here instead of the launch spec's host ${env('ENGINE_BIND_HOST')}`)
    .option('--engine-port <port>', `run the engine on this port instead of the launch spec's ${env('ENGINE_PORT')}`)
    .addOption(
      new Option('--retry-max-seconds <seconds>', `cap of the delivery backoff (default 60) ${env('RETRY_MAX_SECONDS')}`).hideHelp(),
    )
    .action(async (flags: Record<string, unknown>) => {
      const { interval, commands, ...rest } = flags;
      // commander defaults a --no-x flag to true; only an explicit --no-commands may override the environment.
      const config = resolveRunConfig({ ...rest, intervalSeconds: interval, commands: commands === false ? false : undefined });
      const logger = createLogger();
      const controller = new AbortController();
      const stop = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) process.exit(130); // a second signal: stop waiting
        logger.info({ signal }, 'shutting down after the current write');
        controller.abort();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      process.exitCode = await runAgent(config, { logger, signal: controller.signal });
    });
  return cli;
}

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fleetplane-agent: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof EnrollError) {
      process.stderr.write(`fleetplane-agent: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`fleetplane-agent: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

await main(process.argv);
