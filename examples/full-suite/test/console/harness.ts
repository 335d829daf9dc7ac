import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Knex } from 'knex';
import { expect } from 'vitest';
import { openDatabase } from '@rapport/core';
import { buildConsole } from '@rapport/console';
import { testDatabaseKind } from '@rapport/testing';
import { DEMO_USERS, type DemoUser } from '../../src/seed/users.js';
import { onPostgres, removeStaleSeeds, SEED_PREFIX, testDatabaseUrl } from './seeds.js';

/*
 * The console under a real browser: a `rapport serve` of the full-suite example (its demo
 * data and users) on a fresh copy of a seeded PGlite directory or PostgreSQL database, Debian's
 * Chromium driven by playwright-core, axe for accessibility, screenshots in artifacts/console/.
 * Everything waits for elements, never for a time: the machine may be loaded.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const example = path.join(root, 'examples/full-suite');
export const ARTIFACTS = path.join(root, 'artifacts/console');
export const CHROMIUM = process.env.RAPPORT_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Long enough for a loaded machine; each wait still ends as soon as its element is there. */
export const UI_TIMEOUT = 60_000;

export interface ConsoleServer {
  url: string;
  kind: 'pglite' | 'postgres';
  stop(): Promise<void>;
  /** The server's output so far, for a failing test's message. */
  output(): string;
  /**
   * Runs `work` on the server's database itself, for seeds the API would take minutes over
   * (set-based statements instead of 100 000 records through the importer). PGlite has one
   * process per data directory: the server is stopped for it and started again on the same
   * data, on a new port (`url` changes).
   */
  withDatabase<T>(work: (db: Knex) => Promise<T>): Promise<T>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Builds the console for the example (skipped when current) in a directory of this database kind's own. */
async function consoleFor(kind: string): Promise<string> {
  const outDir = path.join(example, 'dist', `console-test-${kind}`);
  await buildConsole({ plugins: ['@rapport/plugin-crm', '@rapport/plugin-prm', '@rapport/plugin-hrm'], baseDir: example, outDir, logLevel: 'silent' });
  return outDir;
}

/** `rapport serve` running, and how to wait for its end. */
interface Serving {
  url: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/** Stops a server gracefully and waits for its end. */
async function halt(serving: Serving | undefined): Promise<void> {
  if (serving && serving.child.exitCode === null && serving.child.signalCode === null) {
    serving.child.kill('SIGTERM');
    await serving.exited;
  }
}

/** Spawns `rapport serve` of the full suite on a free port and waits until the demo users can sign in; its output goes to `log`. */
async function serve(env: Record<string, string>, log: { text: string }): Promise<Serving> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'packages/cli/dist/bin.js'), 'serve', '--config', path.join(example, 'rapport.config.ts'), '--port', String(port), '--host', '127.0.0.1'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (log.text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log.text += chunk.toString()));
  const serving: Serving = { url: `http://127.0.0.1:${port}`, child, exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
  const deadline = Date.now() + 300_000;
  // On an empty database the seed runs once the server listens: ready when its last persona
  // can sign in (the demo users are its last step).
  const last = DEMO_USERS[DEMO_USERS.length - 1];
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`rapport serve exited with ${child.exitCode ?? child.signalCode}:\n${log.text}`);
    const ok = await fetch(`${serving.url}/api/v1/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: last.email, password: last.password }),
    })
      .then((res) => res.status === 200)
      .catch(() => false);
    if (ok) return serving;
    if (Date.now() > deadline) {
      await halt(serving);
      throw new Error(`rapport serve did not seed its demo users in time:\n${log.text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function baseEnv(consoleDir: string, secretKey: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    LOG_LEVEL: 'warn',
    RAPPORT_CONSOLE_DIR: consoleDir,
    // A server's key, as production has one: on PostgreSQL, anonymous survey answers and upward
    // reviews are sealed under it and answer 503 without one (docs/plugins/hrm.md, Anonymity).
    RAPPORT_SECRET_KEY: secretKey,
  };
}

function databaseUrl(name: string): string {
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The demo data, seeded once per worker and database kind: a PostgreSQL template database or
 * a PGlite directory, which every console file then starts from a copy of. Seeding through
 * the API is most of a console file's time, and it is the same every time; a server finds the
 * seed in its copy and adds nothing (its marker is in the copy too). A seed outlives its worker
 * (the runner ends workers without a hook to clean up in); the next seed made on this machine
 * removes those of ended processes, named by machine and process id, and only those.
 */
interface SeededDatabase {
  /** The template database's name, or the directory. */
  source: string;
  /** The key the seed sealed records under: a copy opens them with this key only. */
  secretKey: string;
}

const seeds = new Map<string, Promise<SeededDatabase>>();

function seededDatabase(kind: 'pglite' | 'postgres', consoleDir: string): Promise<SeededDatabase> {
  let seed = seeds.get(kind);
  if (!seed) {
    seed = seedDatabase(kind, consoleDir);
    seeds.set(kind, seed);
    seed.catch(() => seeds.delete(kind));
  }
  return seed;
}

async function seedDatabase(kind: 'pglite' | 'postgres', consoleDir: string): Promise<SeededDatabase> {
  await removeStaleSeeds(kind);
  const secretKey = randomBytes(32).toString('hex');
  const log = { text: '' };
  for (let attempt = 1; ; attempt++) {
    const name = `${SEED_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
    const env = baseEnv(consoleDir, secretKey);
    let remove: () => Promise<void>;
    if (kind === 'postgres') {
      await onPostgres((db) => db.raw(`create database "${name}"`));
      env.DATABASE_URL = databaseUrl(name);
      remove = () => onPostgres((db) => db.raw(`drop database if exists "${name}" with (force)`));
    } else {
      const dir = path.join(os.tmpdir(), name);
      fs.mkdirSync(dir);
      env.RAPPORT_DATA_DIR = dir;
      remove = async () => fs.rmSync(dir, { recursive: true, force: true });
    }
    let serving: Serving | undefined;
    try {
      serving = await serve(env, log);
    } catch (error) {
      await remove();
      throw error;
    }
    await halt(serving);
    // A graceful stop (exit code 0) means the seed's last step, revoking its API key, is done:
    // the server only listens for SIGTERM after it. Stopped before, the seed is not whole.
    if (serving.child.exitCode === 0) {
      return { source: kind === 'postgres' ? name : env.RAPPORT_DATA_DIR, secretKey };
    }
    await remove();
    if (attempt === 3) throw new Error(`rapport serve did not finish seeding the demo data:\n${log.text}`);
  }
}

/** Starts `rapport serve` of the full suite on a fresh copy of the seeded database and waits until the demo users can sign in. */
export async function startConsoleServer(): Promise<ConsoleServer> {
  const kind = testDatabaseKind();
  const consoleDir = await consoleFor(kind);
  const seed = await seededDatabase(kind, consoleDir);
  const env = baseEnv(consoleDir, seed.secretKey);
  const cleanups: Array<() => Promise<void>> = [];
  if (kind === 'postgres') {
    const name = `rapport_console_${randomBytes(5).toString('hex')}`;
    await onPostgres((db) => db.raw(`create database "${name}" template "${seed.source}"`));
    env.DATABASE_URL = databaseUrl(name);
    cleanups.push(() => onPostgres((db) => db.raw(`drop database if exists "${name}" with (force)`)));
  } else {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-console-pglite-'));
    fs.cpSync(seed.source, dataDir, { recursive: true });
    env.RAPPORT_DATA_DIR = dataDir;
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  }
  const log = { text: '' };
  let serving: Serving | undefined;
  const start = async () => {
    serving = await serve(env, log);
    server.url = serving.url;
  };
  const stop = async () => {
    await halt(serving);
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  const server: ConsoleServer = {
    url: '',
    kind,
    stop,
    output: () => log.text,
    async withDatabase(work) {
      if (kind === 'pglite') await halt(serving);
      const database = openDatabase(kind === 'postgres' ? { url: env.DATABASE_URL } : { dataDir: env.RAPPORT_DATA_DIR });
      try {
        return await work(database.knex);
      } finally {
        await database.close();
        if (kind === 'pglite') await start();
      }
    },
  };
  try {
    await start();
  } catch (error) {
    await stop();
    throw error;
  }
  return server;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export function persona(name: DemoUser['persona']): DemoUser {
  return DEMO_USERS.find((u) => u.persona === name)!;
}

/** A fresh browser profile (no cookie, no remembered language unless given) at the given width. */
export async function newContext(browser: Browser, options: { language?: 'en' | 'uk'; width?: number } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, locale: 'en-GB' });
  context.setDefaultTimeout(UI_TIMEOUT);
  context.setDefaultNavigationTimeout(UI_TIMEOUT);
  if (options.language) await context.addInitScript((language) => (globalThis as any).localStorage.setItem('rapport.console.language', language), options.language);
  return context;
}

/** Signs in through the sign-in page, as a person would, and waits for the navigation. */
export async function signIn(page: Page, server: ConsoleServer, user: DemoUser): Promise<void> {
  await page.goto(`${server.url}/console/`);
  await page.locator('input[type=email]').fill(user.email);
  await page.locator('input[type=password]').fill(user.password);
  await page.locator('button[type=submit]').click();
  await page.locator('nav').first().waitFor();
}

export async function screenshot(page: Page, server: ConsoleServer, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}-${server.kind}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Each user's session cookies per server address, once signed in through the page. */
const sessionCookies = new Map<string, Awaited<ReturnType<BrowserContext['cookies']>>>();

/**
 * A page in a fresh context, signed in as `user`, on a console path once its heading shows.
 * The first page of a user on a server signs in through the sign-in page; later ones start
 * from that session's cookies, as a person's next tab does, rather than paying the sign-in
 * (argon2 and two page loads) again for every page a test opens.
 */
export async function openPage(browser: Browser, server: ConsoleServer, user: DemoUser, path: string, options: { language?: 'en' | 'uk'; width?: number } = {}): Promise<Page> {
  const key = `${server.url} ${user.email}`;
  const context = await newContext(browser, options);
  const cookies = sessionCookies.get(key);
  if (cookies) await context.addCookies(cookies);
  const page = await context.newPage();
  if (!cookies) {
    await signIn(page, server, user);
    sessionCookies.set(key, await context.cookies());
  }
  await page.goto(`${server.url}/console/${path}`);
  await page.locator('main h1').first().waitFor();
  return page;
}

/**
 * The checks every page passes: axe and a screenshot, then the same at 360 px with no sideways
 * scrolling. The narrow view is this page, in the state the test brought it to, narrowed as a
 * window is (the layout answers to the width alone), and widened again for the test to go on.
 */
export async function pageChecks(page: Page, server: ConsoleServer, name: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  await screenshot(page, server, name);
  const wide = page.viewportSize()!;
  await page.setViewportSize({ width: 360, height: wide.height });
  // Parts sized by script (the charts) redraw after the resize: the page fits once they have.
  await expect.poll(() => page.evaluate<number>('document.documentElement.scrollWidth'), { message: `${name} at 360 px`, timeout: UI_TIMEOUT }).toBeLessThanOrEqual(360);
  expect(await axeViolations(page), `${name} at 360 px`).toEqual([]);
  await screenshot(page, server, `${name}-360`);
  await page.setViewportSize(wide);
}

/** The serious and critical axe violations of the page as it is now, as readable lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Violations only: every rule still runs on every element, but axe no longer builds a
  // selector for each passing and inapplicable node, some 30 % of its time on these pages.
  const result = await new AxeBuilder({ page }).options({ resultTypes: ['violations'] }).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * Words in Latin letters shown outside data (elements marked `translate="no"` hold names,
 * subjects and other records the user typed). On a Ukrainian page every label is Cyrillic,
 * so any such word is a string that escaped translation.
 */
export async function untranslatedWords(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    // Runs in the page: its globals, untyped here (the suite compiles without the DOM library).
    const { document, NodeFilter, getComputedStyle } = globalThis as any;
    const found = new Set<string>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest('[translate="no"], script, style, svg, [aria-hidden="true"]')) continue;
      const style = getComputedStyle(parent);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      for (const word of (node.textContent ?? '').match(/[A-Za-z]{2,}/g) ?? []) found.add(word);
    }
    const attributes = ['placeholder', 'aria-label', 'title', 'alt'];
    for (const element of document.querySelectorAll(attributes.map((a) => `[${a}]`).join(','))) {
      if (element.closest('[translate="no"]')) continue;
      for (const a of attributes) for (const word of element.getAttribute(a)?.match(/[A-Za-z]{2,}/g) ?? []) found.add(word);
    }
    return [...found] as string[];
  });
}
