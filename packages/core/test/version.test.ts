import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_VERSION, type PluginDefinition } from '@rapport/core';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';
import loyalty from '../../../examples/third-party-plugin/src/index.js';

const versionOf = (packageJson: string) => (JSON.parse(fs.readFileSync(new URL(packageJson, import.meta.url), 'utf8')) as { version: string }).version;

describe('versions come from package.json', () => {
  it('CORE_VERSION is packages/core’s, so requires.core checks the version actually installed', () => {
    expect(CORE_VERSION).toBe(versionOf('../package.json'));
  });

  it.each([
    [crm, '../../../plugins/crm/package.json'],
    [prm, '../../../plugins/prm/package.json'],
    [hrm, '../../../plugins/hrm/package.json'],
    [loyalty, '../../../examples/third-party-plugin/package.json'],
  ] as Array<[PluginDefinition, string]>)('plugin %# declares its package’s version (what installs and upgrades compare)', (plugin, file) => {
    expect(plugin.version).toBe(versionOf(file));
  });
});
