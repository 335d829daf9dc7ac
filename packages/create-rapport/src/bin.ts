#!/usr/bin/env node
import { runStarter } from './create.js';
import { terminalAsk } from './terminal.js';

const terminal = terminalAsk();
void runStarter(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), ask: terminal?.ask })
  .catch((error: unknown) => {
    process.stderr.write(`create-rapport: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  })
  .then((code) => {
    terminal?.close();
    process.exitCode = code;
  });
