import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * Rules of plugin contract v1 that the compiler cannot see, held for every first-party
 * plugin and the example plugin: kernel data only through the kernel's API (no `rapport_*`
 * table named), and tenancy only through the tenant-bound handle (no `tenant_id` written),
 * outside migrations. A line that breaks a rule fails with its file and line.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const pluginSources = ['plugins/crm', 'plugins/prm', 'plugins/hrm', 'examples/third-party-plugin/src'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (['node_modules', 'dist', 'test', 'migrations'].includes(entry.name)) continue;
      out.push(...sourceFiles(full));
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') && entry.name !== 'migrations.ts') {
      out.push(full);
    }
  }
  return out;
}

function offending(pattern: RegExp): string[] {
  const hits: string[] = [];
  for (const dir of pluginSources) {
    for (const file of sourceFiles(path.join(root, dir))) {
      fs.readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (pattern.test(line)) hits.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
        });
    }
  }
  return hits;
}

describe('plugin sources on plugin contract v1', () => {
  it('have plugin sources to check (the rule would pass vacuously otherwise)', () => {
    const counts = pluginSources.map((dir) => sourceFiles(path.join(root, dir)).length);
    for (const count of counts) expect(count).toBeGreaterThan(3);
  });

  it('name no kernel table outside migrations: kernel data comes from kernel services and views', () => {
    expect(offending(/\brapport_[a-z]/)).toEqual([]);
  });

  it('write no tenant_id outside migrations: the tenant-bound handle adds it', () => {
    expect(offending(/\btenant_id\b/)).toEqual([]);
  });

  it('take no raw connection and no system object', () => {
    expect(offending(/\b(uow|ctx|work)\.trx\b|\bctx\.db\b|\bapi\.app\b|\bctx\.app\b|\bunsafeKnex\(/)).toEqual([]);
  });
});
