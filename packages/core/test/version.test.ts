import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_VERSION } from '@rapport/core';

describe('CORE_VERSION', () => {
  it('is the version in packages/core/package.json, so requires.core checks the version actually installed', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(CORE_VERSION).toBe(pkg.version);
  });
});
