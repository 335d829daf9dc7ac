import fs from 'node:fs';
import path from 'node:path';
import packageJson from '../package.json' with { type: 'json' };

/** The version of Rapport this starter belongs to: its packages are released together. */
export const STARTER_VERSION: string = packageJson.version;

/** A problem with what the user asked for: printed as one line, nothing written. */
export class StarterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StarterError';
  }
}

/** The first-party plugins a system can start with, in the order they are listed and configured. */
export const FIRST_PARTY_PLUGINS = {
  crm: { packageName: '@rapport/plugin-crm', summary: 'customers and contacts, pipelines and deals, activities, reports' },
  prm: { packageName: '@rapport/plugin-prm', summary: 'sales-channel partners (deal registration, MDF, tiers) and suppliers (RFQs, POs, scorecards)' },
  hrm: { packageName: '@rapport/plugin-hrm', summary: 'organization, employees as internal customers, engagement, service desk' },
} as const;

export type FirstPartyPlugin = keyof typeof FIRST_PARTY_PLUGINS;
export const PLUGIN_KEYS = Object.keys(FIRST_PARTY_PLUGINS) as FirstPartyPlugin[];

/**
 * `crm,prm` (commas and/or spaces; package names are accepted too) to the plugins in their
 * canonical order; `none` or nothing for the kernel alone. An unknown name is refused.
 */
export function parsePlugins(list: string): FirstPartyPlugin[] {
  const words = list
    .split(/[\s,]+/)
    .map((word) => word.trim().toLowerCase())
    .filter(Boolean);
  if (words.length === 1 && words[0] === 'none') return [];
  const chosen = new Set<FirstPartyPlugin>();
  for (const word of words) {
    const key = PLUGIN_KEYS.find((k) => k === word || FIRST_PARTY_PLUGINS[k].packageName === word);
    if (!key) throw new StarterError(`Unknown plugin "${word}": choose from ${PLUGIN_KEYS.join(', ')} (comma-separated), or "none" for the kernel alone`);
    chosen.add(key);
  }
  return PLUGIN_KEYS.filter((key) => chosen.has(key));
}

/** A valid npm package name from a directory name: `My System` → `my-system`. */
export function packageNameFor(dir: string): string {
  const name = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|[-]+$/g, '')
    .slice(0, 214);
  return name || 'rapport-system';
}

export interface SystemOptions {
  /** npm package name of the system (private: never published). */
  name: string;
  plugins: FirstPartyPlugin[];
  /** Version of the Rapport packages, as `^<version>` (default: this starter's). */
  version?: string;
}

/** The files of a new system directory, by path. */
export function systemFiles({ name, plugins, version = STARTER_VERSION }: SystemOptions): Record<string, string> {
  const range = `^${version}`;
  const packages = plugins.map((key) => FIRST_PARTY_PLUGINS[key].packageName);
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    description: 'A Rapport system',
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      start: 'rapport serve',
      migrate: 'rapport migrate',
      rapport: 'rapport',
    },
    // @rapport/core is named here too: the one copy every plugin (a peer of it) runs on.
    dependencies: Object.fromEntries([['@rapport/cli', range], ['@rapport/core', range], ...packages.map((p) => [p, range])].sort(([a], [b]) => a.localeCompare(b))),
  };
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'rapport.config.ts': configSource(packages),
    '.env.example': ENV_EXAMPLE,
    '.gitignore': 'node_modules/\n.rapport/\n.env\n*.log\n',
    'README.md': readme(name, packages),
  };
}

function configSource(packages: string[]): string {
  const list = packages.length === 0 ? '[]' : `[\n    ${packages.map((p) => `'${p}'`).join(',\n    ')},\n  ]`;
  return `import { defineConfig } from '@rapport/cli';

// The system: Rapport's kernel plus the plugins listed here, each an installed package
// (npm install <package>, then add its name). Every setting: node_modules/@rapport/cli/README.md.
export default defineConfig({
  plugins: ${list},
  tenantName: 'My Company',
  // The embedded PostgreSQL (PGlite) keeps its data in this directory. With DATABASE_URL set
  // (see .env.example) the system uses that PostgreSQL server instead.
  database: { dataDir: './.rapport' },
});
`;
}

const ENV_EXAMPLE = `# Copy this file to .env and fill it in: the rapport command reads .env from the current
# directory (variables already set in the environment win). Never commit .env.

# The first admin API key, created when the tenant has none (ignored once any key exists):
# call the API with "Authorization: Bearer <this value>". At least 16 characters: make it long
# and random (openssl rand -hex 24).
RAPPORT_BOOTSTRAP_KEY=

# 32 bytes, hex or base64 (openssl rand -hex 32): encrypts webhook signing secrets at rest.
# Keep it in a secret store, not with the data. Without it the embedded database generates
# one in .rapport/secret.key; PostgreSQL refuses webhooks without it.
RAPPORT_SECRET_KEY=

# A PostgreSQL server instead of the embedded database in ./.rapport:
# DATABASE_URL=postgres://rapport@localhost:5432/rapport
`;

function readme(name: string, packages: string[]): string {
  const plugins = packages.length === 0 ? 'no plugin yet (the kernel alone)' : packages.map((p) => `\`${p}\``).join(', ');
  return `# ${name}

A Rapport system: the kernel (parties, relationships, interactions, indicators, access,
webhooks) with ${plugins}.

## Start

\`\`\`sh
npm install
cp .env.example .env      # then set RAPPORT_BOOTSTRAP_KEY to a long random value
npm start                 # rapport serve: http://localhost:4000 (npm start -- --port 8080 for another port)
\`\`\`

Then call the API with the bootstrap key:

\`\`\`sh
curl -H "Authorization: Bearer $RAPPORT_BOOTSTRAP_KEY" http://localhost:4000/api/v1/tenant
\`\`\`

\`http://localhost:4000/docs\` is the reference of every route of the kernel and the plugins,
\`/health\` answers when the system is up. Ctrl-C (or SIGTERM) stops it gracefully.

## Where the data lives

In \`.rapport/\`, an embedded PostgreSQL (PGlite) that one process at a time may open: stop
\`npm start\` before running \`npx rapport migrate\` or \`npx rapport import\` on it. Back it up
by copying the directory while the system is stopped. For several processes, or a database
server, set \`DATABASE_URL\` (in \`.env\`) to a PostgreSQL database: the same migrations serve both.

## Add a plugin

\`\`\`sh
npm install @rapport/plugin-hrm          # a first-party plugin, or any Rapport plugin package
\`\`\`

and add its package name to \`plugins\` in \`rapport.config.ts\`. The next start migrates its
tables; \`npx rapport plugins list\` shows what is installed. A plugin of your own starts with
\`npx rapport create-plugin <name>\`: install it here as a package (\`npm pack\` in the
plugin, then \`npm install <path to the .tgz>\`), so that the system keeps a single copy of
\`@rapport/core\`.

## More

\`npx rapport --help\` lists the commands (\`serve\`, \`migrate\`, \`plugins\`, \`keys create\`,
\`import\`, \`create-plugin\`); \`node_modules/@rapport/cli/README.md\` and
\`node_modules/@rapport/cli/docs/plugin-guide.md\` come with the installed packages.
`;
}

export interface CreatedSystem {
  name: string;
  /** Absolute directory of the new system. */
  dir: string;
  plugins: FirstPartyPlugin[];
  /** Written files, relative to `dir`. */
  files: string[];
}

/**
 * Writes a new system into `dir` (created if missing). Refuses a directory that already holds
 * anything, before writing a single file: it never overwrites someone's work.
 */
export function writeSystem(dir: string, plugins: FirstPartyPlugin[], version?: string): CreatedSystem {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new StarterError(`${target} exists and is not a directory; choose another directory`);
    const entries = fs.readdirSync(target);
    if (entries.length > 0) {
      throw new StarterError(`${target} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose an empty or new directory`);
    }
  }
  const name = packageNameFor(target);
  const files = systemFiles({ name, plugins, version });
  fs.mkdirSync(target, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    // 'wx': fail rather than overwrite, should anything appear in the directory meanwhile.
    fs.writeFileSync(path.join(target, file), content, { flag: 'wx' });
  }
  return { name, dir: target, plugins, files: Object.keys(files) };
}
