import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';

/** `rapport init [dir]`: what `npm create rapport` does, from the same implementation. */
export function registerInit(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('init')
    .description('Write a new system directory: package.json, rapport.config.ts, .env.example, README (what npm create rapport does)')
    .argument('[dir]', 'where to write it; must be new or empty (asked for on a terminal)')
    .option('--plugins <list>', 'first-party plugins: crm, prm, hrm, comma-separated, or "none" (asked for on a terminal; all three otherwise)')
    .action(async (dir: string | undefined, options: { plugins?: string }) => {
      // Loaded here: every other command (serve above all) starts without the starter.
      const { initSystem, StarterError, terminalAsk } = await import('create-rapport');
      // Questions only on the real terminal, never when a test or a script gives its own streams.
      const terminal = ctx.io.stdout === process.stdout ? terminalAsk() : undefined;
      try {
        await initSystem({ dir, plugins: options.plugins }, { stdout: ctx.io.stdout, stderr: ctx.io.stderr, cwd: ctx.io.cwd, ask: terminal?.ask }, 'rapport init');
      } catch (error) {
        if (error instanceof StarterError) throw new CliError(error.message);
        throw error;
      } finally {
        terminal?.close();
      }
      done(0);
    });
}
