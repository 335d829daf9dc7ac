import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Koa from 'koa';

/** Where the page lives and the document it shows. */
export const API_REFERENCE_PATH = '/docs';
export const API_REFERENCE_ASSETS = '/docs/assets/';
export const OPENAPI_PATH = '/api/v1/openapi.json';

/** The files of swagger-ui-dist the page uses: a fixed list, so no request can name any other file. */
const VENDOR_ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Our start-up script is a file, not an inline <script>, so the page can forbid inline scripts. */
const INIT_SCRIPT = 'rapport-docs.js';

// Swagger UI needs inline styles and data: images (its icons); everything else comes from this origin only.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

interface Assets {
  version: string;
  page: Asset;
  files: Map<string, Asset>;
}

/**
 * GET /docs: an interactive reference of /api/v1/openapi.json (Swagger UI), served entirely
 * from this server so it works with no internet. Public, like the document itself: it
 * shows what the API offers, and every call made from it still needs a token.
 */
export function apiReference(): Koa.Middleware {
  let assets: Assets | undefined;
  // Read on first use: a system that never opens /docs never reads ~1.5 MB of JavaScript.
  const load = () => (assets ??= loadAssets());

  return async (ctx, next) => {
    const isPage = ctx.path === API_REFERENCE_PATH || ctx.path === `${API_REFERENCE_PATH}/`;
    const assetName = ctx.path.startsWith(API_REFERENCE_ASSETS) ? ctx.path.slice(API_REFERENCE_ASSETS.length) : undefined;
    if (!isPage && assetName === undefined) return next();
    const { version, page, files } = load();
    const asset = isPage ? page : files.get(assetName!);
    if (!asset) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    ctx.status = 200;
    ctx.type = asset.type;
    ctx.set('ETag', asset.etag);
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (isPage) {
      // The page names the asset versions and the plugins change what it shows: always revalidate.
      ctx.set('Cache-Control', 'no-cache');
      ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      ctx.set('Referrer-Policy', 'no-referrer');
    } else {
      // The page asks for ?v=<version>: such a URL never changes content, so it may be cached for good.
      ctx.set('Cache-Control', ctx.query.v === version ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
    }
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = asset.body;
  };
}

function loadAssets(): Assets {
  // Resolved from this module, so it finds swagger-ui-dist beside @rapport/core in the workspace and in an install.
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const asset = (body: Buffer, type: string): Asset => ({ body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  const files = new Map<string, Asset>();
  for (const [name, type] of Object.entries(VENDOR_ASSETS)) files.set(name, asset(readFileSync(path.join(root, name)), type));
  files.set(INIT_SCRIPT, asset(Buffer.from(initScript()), 'text/javascript; charset=utf-8'));
  return { version, page: asset(Buffer.from(pageHtml(version)), 'text/html; charset=utf-8'), files };
}

function pageHtml(version: string): string {
  const asset = (name: string) => `${API_REFERENCE_ASSETS}${name}?v=${encodeURIComponent(version)}`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Rapport API reference</title>
  <link rel="icon" type="image/png" sizes="32x32" href="${asset('favicon-32x32.png')}">
  <link rel="icon" type="image/png" sizes="16x16" href="${asset('favicon-16x16.png')}">
  <link rel="stylesheet" href="${asset('swagger-ui.css')}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="${OPENAPI_PATH}"></div>
  <noscript>The interactive reference needs JavaScript; the document itself is at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</noscript>
  <script src="${asset('swagger-ui-bundle.js')}"></script>
  <script src="${asset(INIT_SCRIPT)}"></script>
</body>
</html>
`;
}

function initScript(): string {
  // The spec URL comes from the page (data-spec-url), never from the query string:
  // queryConfigEnabled stays off so a crafted link cannot point the page at another document.
  return `'use strict';
(function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-spec-url'),
    domNode: root,
    deepLinking: true,
    queryConfigEnabled: false,
    validatorUrl: null,
    persistAuthorization: false,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
})();
`;
}
