// Shared by every benchmark: the built packages, statistics, interleaved rounds and
// throw-away PostgreSQL schemas.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const rootDir = path.resolve(benchDir, '..');
export const requireCore = createRequire(path.join(rootDir, 'packages/core/package.json'));
export const cliBin = path.join(rootDir, 'packages/cli/dist/bin.js');
export const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The request limits on, as in production, but far above what a benchmark sends: their cost is measured, never a 429. */
export const benchLimits = { perPrincipal: { requests: 1e9, windowSeconds: 60 }, perAddress: { requests: 1e9, windowSeconds: 60 } };

export async function loadCore() {
  return import(pathToFileURL(path.join(rootDir, 'packages/core/dist/index.js')).href);
}

/** The first-party plugins, from their builds. */
export async function loadFirstPartyPlugins() {
  const names = ['crm', 'prm', 'hrm'];
  return Promise.all(names.map(async (name) => (await import(pathToFileURL(path.join(rootDir, `plugins/${name}/dist/index.js`)).href)).default));
}

export function pluginPaths() {
  return ['crm', 'prm', 'hrm'].map((name) => path.join(rootDir, `plugins/${name}/dist/index.js`));
}

export function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length) };
}

export const median = (values) => stats(values).p50;

/**
 * The ratio of two interleaved series, robust to a machine whose load drifts: the median
 * of the ratios of each round's pair (measured back to back), not the ratio of medians.
 */
export function pairedRatio(measured, baseline) {
  return median(measured.map((m, i) => m / baseline[i]));
}

export const now = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * Runs `rounds` rounds of every variant, alternating which goes first, so neither gains
 * from running first (JIT warm-up, a fresher heap, a warmer cache) or from a load spike
 * that lasts a round. `warmup` rounds run the same way and are thrown away.
 * Returns { name: [round results] }.
 */
export async function interleave(variants, { rounds, warmup = 1 }) {
  const out = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  const names = Object.keys(variants);
  for (let round = 0; round < warmup + rounds; round++) {
    const order = round % 2 ? [...names].reverse() : names;
    for (const name of order) {
      const value = await variants[name](round);
      if (round >= warmup) out[name].push(value);
    }
  }
  return out;
}

let schemaSeq = 0;
/** A fresh schema on the benchmark PostgreSQL; `drop()` removes it. */
export async function pgSchema(label) {
  const knexFactory = requireCore('knex');
  const schema = `bench_${label}_${process.pid}_${Date.now().toString(36)}_${schemaSeq++}`;
  const admin = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`create schema "${schema}"`);
  return {
    schema,
    async drop() {
      await admin.raw(`drop schema if exists "${schema}" cascade`);
      await admin.destroy();
    },
  };
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function fmt(value, digits = 2) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}
