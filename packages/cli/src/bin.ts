#!/usr/bin/env node
import { run } from './run.js';

void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Once a command is done, a pool or timer left behind must not keep the process alive;
  // the grace period lets buffered output reach a pipe first.
  setTimeout(() => process.exit(code), 500).unref();
});
