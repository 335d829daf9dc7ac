import fs from 'node:fs';
import path from 'node:path';
import { CliError } from '../errors.js';
import { pluginNames, type PluginNames } from './names.js';
import { pluginFiles } from './templates.js';

export interface ScaffoldResult {
  names: PluginNames;
  /** Absolute directory of the new package. */
  dir: string;
  /** Written files, relative to `dir`. */
  files: string[];
}

/**
 * Writes a new plugin package into `dir` (created if missing). Refuses a bad name or a
 * directory that already holds anything, before writing a single file: scaffolding never
 * overwrites someone's work.
 */
export function scaffoldPlugin(name: string, dir: string): ScaffoldResult {
  const names = pluginNames(name);
  const target = path.resolve(dir);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new CliError(`${target} exists and is not a directory; choose another --dir`);
    const entries = fs.readdirSync(target);
    if (entries.length > 0) {
      throw new CliError(`${target} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose an empty or new --dir`);
    }
  }
  const files = pluginFiles(names);
  for (const [file, content] of Object.entries(files)) {
    const to = path.join(target, file);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    // 'wx': fail rather than overwrite, should anything appear in the directory meanwhile.
    fs.writeFileSync(to, content, { flag: 'wx' });
  }
  return { names, dir: target, files: Object.keys(files) };
}
