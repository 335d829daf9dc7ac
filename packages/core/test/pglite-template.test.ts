import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { extractInto, startFromTemplate } from '../src/storage/pglite-template.js';

// A template of our own, with a marker table initdb never makes: a database that has the
// table was loaded from this template, not made by initdb.
let dir: string;
let template: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-template-'));
  const source = new PGlite();
  await source.exec('create table template_marker (n int); insert into template_marker values (7)');
  template = path.join(dir, 'template.tar.gz');
  fs.writeFileSync(template, Buffer.from(await (await source.dumpDataDir('gzip')).arrayBuffer()));
  await source.close();
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function marker(pglite: PGlite): Promise<unknown> {
  await pglite.waitReady;
  try {
    return (await pglite.query<{ n: number }>('select n from template_marker')).rows[0]?.n;
  } finally {
    await pglite.close();
  }
}

describe('the initdb template of a new embedded database', () => {
  it('writes a new directory from the template, which PGlite then opens as an existing cluster, and opens again', async () => {
    const pgdata = path.join(dir, 'new', 'pgdata');
    expect(startFromTemplate(pgdata, template)).toBeUndefined();
    expect(fs.existsSync(path.join(pgdata, 'PG_VERSION'))).toBe(true);
    // No partial directory is left beside it.
    expect(fs.readdirSync(path.dirname(pgdata))).toEqual(['pgdata']);
    expect(await marker(new PGlite({ dataDir: pgdata }))).toBe(7);
    expect(await marker(new PGlite({ dataDir: pgdata }))).toBe(7);
  });

  it('counts an empty directory as new', async () => {
    const pgdata = path.join(dir, 'empty');
    fs.mkdirSync(pgdata);
    startFromTemplate(pgdata, template);
    expect(await marker(new PGlite({ dataDir: pgdata }))).toBe(7);
  });

  it('leaves a directory that holds anything as it is', () => {
    const pgdata = path.join(dir, 'taken');
    fs.mkdirSync(pgdata);
    fs.writeFileSync(path.join(pgdata, 'something'), 'x');
    expect(startFromTemplate(pgdata, template)).toBeUndefined();
    expect(fs.readdirSync(pgdata)).toEqual(['something']);
  });

  it('gives an in-memory database the template to load', async () => {
    const blob = startFromTemplate(undefined, template);
    expect(blob).toBeInstanceOf(Blob);
    expect(await marker(new PGlite({ loadDataDir: blob }))).toBe(7);
  });

  it('does nothing without a template: PGlite runs initdb', () => {
    const pgdata = path.join(dir, 'none', 'pgdata');
    expect(startFromTemplate(pgdata, undefined)).toBeUndefined();
    expect(startFromTemplate(undefined, undefined)).toBeUndefined();
    expect(fs.existsSync(pgdata)).toBe(false);
  });

  it('refuses an archive entry that would land outside the directory', () => {
    const header = Buffer.alloc(512);
    header.write('../../escaped', 0, 'latin1');
    header.write('0000644\0', 100, 'latin1');
    header.write('00000000001\0', 124, 'latin1');
    header.write('0', 156, 'latin1');
    const tar = Buffer.concat([header, Buffer.alloc(512, 'x'), Buffer.alloc(1024)]);
    const target = path.join(dir, 'escape', 'pgdata');
    expect(() => extractInto(tar, target)).toThrow(/outside the data directory/);
    expect(fs.existsSync(path.join(dir, 'escaped'))).toBe(false);
    // Nor is anything left of the attempt.
    expect(fs.readdirSync(path.dirname(target))).toEqual([]);
  });
});
