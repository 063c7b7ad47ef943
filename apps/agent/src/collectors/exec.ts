import { execFile } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** A failed external command, with a message an operator can act on. */
export class ExecError extends Error {
  override readonly name = 'ExecError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0)
      ?.slice(0, 300) ?? ''
  );
}

/** Runs a tool with a hard timeout (SIGKILL: a wedged driver call ignores SIGTERM) and bounded output. */
export function runTool(binary: string, args: readonly string[], timeoutMs: number, label = binary): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024, encoding: 'utf8', windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const output = `${stdout}\n${stderr}`;
        const err = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: string | number | null };
        if (err.code === 'ENOENT')
          return reject(
            new ExecError(`${label} not found at "${binary}" (is the NVIDIA driver installed? point --nvidia-smi at it)`, output),
          );
        if (err.code === 'EACCES') return reject(new ExecError(`${label} at "${binary}" is not executable`, output));
        if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
          return reject(new ExecError(`${label} printed more than 8 MiB; output ignored`, ''));
        if (err.killed || err.signal === 'SIGKILL')
          return reject(new ExecError(`${label} did not answer within ${timeoutMs / 1000} s and was killed`, output));
        const detail = firstLine(stdout) || firstLine(stderr);
        return reject(
          new ExecError(
            `${label} exited with ${typeof err.code === 'number' ? `code ${err.code}` : `signal ${err.signal}`}${detail ? `: ${detail}` : ''}`,
            output,
          ),
        );
      },
    );
  });
}
