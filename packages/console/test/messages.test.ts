import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import en from '../app/src/messages/en.js';
import uk from '../app/src/messages/uk.js';
import { typesEn, typesUk } from '../app/src/messages/types.js';

/* Both languages complete, and every key a kernel page asks for declared (a missing one would show its key). */
const app = fileURLToPath(new URL('../app/src', import.meta.url));
const base = (key: string) => key.replace(/_(one|few|many|other)$/, '');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : []));
}

describe('console messages', () => {
  it('has the same keys in English and Ukrainian (Ukrainian with its plural forms)', () => {
    expect(new Set(Object.keys(uk).map(base))).toEqual(new Set(Object.keys(en).map(base)));
    for (const key of Object.keys(en).filter((k) => k.endsWith('_one'))) for (const form of ['one', 'few', 'many', 'other']) expect(uk, key).toHaveProperty(`${base(key)}_${form}`);
    expect(Object.keys(typesUk).sort()).toEqual(Object.keys(typesEn).sort());
  });

  it('declares every key the pages name literally', () => {
    const declared = new Set(Object.keys(en).map(base));
    const used = new Set<string>();
    for (const file of sources(app)) for (const match of fs.readFileSync(file, 'utf8').matchAll(/\bt\('([^'$]+)'/g)) used.add(match[1]);
    expect(used.size).toBeGreaterThan(50);
    expect([...used].filter((key) => !declared.has(key))).toEqual([]);
  });
});
