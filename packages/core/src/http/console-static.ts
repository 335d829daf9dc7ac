import fs from 'node:fs';
import path from 'node:path';
import type Koa from 'koa';
import { RapportError } from '../errors.js';

/** Where the console is served (its build's `base`). */
export const CONSOLE_PATH = '/console';

// Mantine sets CSS variables and positions with inline styles, and charts draw SVG with them;
// scripts come from this origin only, so an injected <script> does not run.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built console from `dir`: a file under assets/ (its name holds its content hash)
 * is cached for a year as immutable; any other path is a route of the single-page
 * application and answers index.html, never cached, so a new build reaches browsers at once.
 */
export function consoleStatic(dir: string): (ctx: Koa.Context) => Promise<void> {
  const root = path.resolve(dir);
  return async (ctx) => {
    ctx.state.routeTemplate = CONSOLE_PATH;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      throw new RapportError(405, 'method-not-allowed', `${ctx.method} is not allowed on ${ctx.path}; allowed: GET, HEAD`);
    }
    if (ctx.path === CONSOLE_PATH) {
      ctx.redirect(`${CONSOLE_PATH}/${ctx.querystring ? `?${ctx.querystring}` : ''}`);
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(ctx.path.slice(CONSOLE_PATH.length + 1));
    } catch {
      throw new RapportError(400, 'bad-request', 'The path is not valid percent-encoding');
    }
    const file = path.resolve(root, relative);
    // A path that leaves the directory (`..`, an absolute path, a NUL) is no file of the console.
    const inside = file.startsWith(root + path.sep) && !relative.includes('\0');
    const stat = inside ? await fs.promises.stat(file).catch(() => undefined) : undefined;
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    if (stat?.isFile()) {
      ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      ctx.set('Cache-Control', relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      ctx.length = stat.size;
      ctx.body = ctx.method === 'HEAD' ? null : fs.createReadStream(file);
      if (ctx.method === 'HEAD') ctx.status = 200;
      return;
    }
    // A missing hashed asset is a 404, not the page: a stale tab must not parse HTML as JavaScript.
    if (relative.startsWith('assets/') || path.extname(relative) !== '') {
      throw new RapportError(404, 'not-found', `No file ${ctx.path} in the console`);
    }
    const index = path.join(root, 'index.html');
    if (!fs.existsSync(index)) {
      throw new RapportError(503, 'console-not-built', `The console is not built in ${root}: run \`rapport console build\``);
    }
    ctx.type = TYPES['.html'];
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = ctx.method === 'HEAD' ? null : fs.createReadStream(index);
    if (ctx.method === 'HEAD') ctx.status = 200;
  };
}
