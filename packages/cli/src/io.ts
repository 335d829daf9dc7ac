import pino, { type Logger } from 'pino';

export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Where a command reads and writes; `run` takes it so tests can call commands in-process. */
export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborting it stops `rapport serve` as SIGTERM would. */
  signal?: AbortSignal;
  /** Listen for SIGINT/SIGTERM (true for the real binary; tests use `signal`). */
  handleSignals?: boolean;
}

export function defaultIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), handleSignals: true };
}

/**
 * `serve` logs JSON lines to stdout (for a log collector); every other command logs to
 * stderr and only warnings by default, so stdout carries just the command's answer (a
 * token, a table) and stays usable in scripts.
 */
export function createLogger(io: CliIO, level: string | undefined, forServer: boolean): Logger {
  const stream = forServer ? io.stdout : io.stderr;
  return pino({ level: level ?? (forServer ? 'info' : 'warn') }, { write: (line: string) => stream.write(line) });
}

export function println(stream: OutputStream, line = ''): void {
  stream.write(`${line}\n`);
}
