import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';
import type { ImportProgress } from '@rapport/core';
import { println, type OutputStream } from './io.js';

export interface ProgressReporter {
  update(progress: ImportProgress): void;
  stop(): void;
}

/**
 * A live bar on a terminal; on anything else (a log file, CI) a plain line at most every
 * `intervalMs`, so the output stays readable and small.
 */
export function progressReporter(stream: OutputStream, label: string, intervalMs = 2000): ProgressReporter {
  const started = Date.now();
  const rate = (p: ImportProgress) => Math.round(p.imported / Math.max(0.001, (Date.now() - started) / 1000));
  if (stream.isTTY) {
    // Required here, not imported at the top: only an import on a terminal draws a bar.
    const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WritableStream,
        format: `${label} [{bar}] {percentage}% | {read} rows read | {imported} imported | {rejected} rejected | {rate} rows/s`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let startedBar = false;
    return {
      update(p) {
        const payload = { read: p.read, imported: p.imported, rejected: p.rejected, rate: rate(p) };
        const total = p.totalBytes ?? Math.max(p.bytes, 1);
        if (!startedBar) {
          bar.start(total, p.bytes, payload);
          startedBar = true;
        } else {
          bar.setTotal(total);
          bar.update(p.bytes, payload);
        }
      },
      stop() {
        if (startedBar) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      const share = p.totalBytes ? ` (${Math.min(100, Math.round((p.bytes / p.totalBytes) * 100))}% of the file)` : '';
      println(stream, `${label}: ${p.read} rows read${share}, ${p.imported} imported, ${p.rejected} rejected, ${rate(p)} rows/s`);
    },
    stop() {},
  };
}
