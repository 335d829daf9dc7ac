import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_VERSION } from '../version.js';

/**
 * One copy of @rapport/core per process. A plugin installed with its own copy of core (from
 * a folder with its own node_modules, or with core as a dependency instead of a peer) would
 * get its own registries, error classes and service tokens: `instanceof` fails across the two,
 * a filter registered on one never runs on the other. So every copy records itself, when it is
 * loaded, in a registry on `globalThis` under a global symbol (shared by every copy, whatever
 * its version), and a system refuses to start while more than one copy has been loaded.
 *
 * A copy is its package directory (real path) and version: the ESM and the CommonJS build of
 * one installed package are the same copy.
 */
export const CORE_COPIES = Symbol.for('rapport.core');

export interface CoreCopy {
  /** The package directory of this copy of @rapport/core, symlinks resolved. */
  path: string;
  version: string;
}

interface CopyRegistry {
  /** Every distinct copy loaded in this process, the first one first. */
  copies: CoreCopy[];
}

type Holder = { [CORE_COPIES]?: CopyRegistry };

function registryOf(holder: object): CopyRegistry {
  const target = holder as Holder;
  const existing = target[CORE_COPIES];
  if (existing && Array.isArray(existing.copies)) return existing;
  const registry: CopyRegistry = { copies: [] };
  // Not enumerable, not writable: nothing iterating globalThis sees it, nothing replaces it.
  Object.defineProperty(target, CORE_COPIES, { value: registry, enumerable: false, writable: false, configurable: false });
  return registry;
}

/** Records a copy of core as loaded; the same path twice is one copy. Never throws. */
export function registerCoreCopy(copy: CoreCopy, holder: object = globalThis): void {
  const registry = registryOf(holder);
  if (!registry.copies.some((known) => known.path === copy.path)) registry.copies.push({ ...copy });
}

/**
 * Throws unless exactly the copy `self` has been loaded: the error names the first copy and
 * every other, with their versions, and how to get down to one.
 */
export function assertSingleCoreCopy(self: CoreCopy = thisCopy, holder: object = globalThis): void {
  registerCoreCopy(self, holder);
  const { copies } = registryOf(holder);
  if (copies.length === 1) return;
  const [first, ...others] = copies;
  const describe = (copy: CoreCopy) => `${copy.path} (version ${copy.version})`;
  throw new Error(
    `Two different copies of @rapport/core are loaded in this process: ${describe(first)} was loaded first, then ${others.map(describe).join(', then ')}. ` +
      'A system must run on one copy: plugins declare @rapport/core as a peer dependency (never a dependency), and a plugin installed from a folder ' +
      'brings the copy in its own node_modules — install it from a packed tarball (npm pack) or a registry instead, then check with `npm ls @rapport/core`.',
  );
}

/** The package directory of the module at `moduleUrl`: the nearest parent holding package.json. */
export function packageDirOf(moduleUrl: string): string {
  if (!moduleUrl.startsWith('file:')) return moduleUrl;
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) break;
    const parent = path.dirname(dir);
    // No package.json above (a bundle copied somewhere): the module's own directory identifies it.
    if (parent === dir) return path.dirname(fileURLToPath(moduleUrl));
    dir = parent;
  }
  try {
    return fs.realpathSync(dir);
  } catch {
    return dir;
  }
}

/** This copy: registered as soon as core is loaded, so a copy that never starts a system is still seen. */
const thisCopy: CoreCopy = { path: packageDirOf(import.meta.url), version: CORE_VERSION };
registerCoreCopy(thisCopy);
