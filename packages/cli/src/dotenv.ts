import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { CliError } from './errors.js';

/**
 * The environment a command runs with: the variables of `<cwd>/.env`, if there is one, under
 * the real environment (a variable set there wins, as with every dotenv loader). The file is
 * read, never executed: `NAME=value` lines, `#` comments, quoted values.
 */
export function withDotEnv(env: Record<string, string | undefined>, cwd: string): Record<string, string | undefined> {
  const file = path.join(cwd, '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return env;
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const merged: Record<string, string | undefined> = { ...parseEnv(text) };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}
