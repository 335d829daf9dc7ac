import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as crm from '../../../plugins/crm/console/messages.js';
import * as hrm from '../../../plugins/hrm/console/messages.js';
import * as prm from '../../../plugins/prm/console/messages.js';

/* The plugins' console strings: both languages complete, every key a page names literally declared, no Latin word in Ukrainian. */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const sources = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : []));

describe.each([
  ['crm', crm],
  ['prm', prm],
  ['hrm', hrm],
])('console messages of %s', (plugin, messages) => {
  it('has the same keys in English and Ukrainian, and no Latin word in Ukrainian', () => {
    expect(Object.keys(messages.uk).sort()).toEqual(Object.keys(messages.en).sort());
    const latin = Object.entries(messages.uk).filter(([, text]) => /[A-Za-z]{2,}/.test(text.replace(/\{\{[^}]+\}\}/g, '')));
    expect(latin).toEqual([]);
  });

  it('declares every key its pages name literally', () => {
    const used = new Set<string>();
    for (const file of sources(path.join(root, 'plugins', plugin, 'console'))) for (const match of fs.readFileSync(file, 'utf8').matchAll(/\bt\('([^'$]+)'/g)) used.add(match[1]);
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((key) => !(key in messages.en))).toEqual([]);
  });
});
