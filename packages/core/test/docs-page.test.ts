import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { samplePlugin } from './fixtures/test-plugin.js';

/** Every src/href of the page, in order. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
}

describe('API reference page at /docs', () => {
  let t: TestApp;
  let html: string;
  let page: Awaited<ReturnType<TestApp['anonymous']['get']>>;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin] });
    page = await t.anonymous.get('/docs');
    html = page.text;
  });
  afterAll(() => t?.close());

  it('answers HTML without authentication, with a policy that allows only this origin', () => {
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toContain('<title>Rapport API reference</title>');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
  });

  it('references only same-origin assets, no inline script, and every asset answers with its content type', async () => {
    const urls = referencedUrls(html);
    const assets = urls.filter((u) => u.startsWith('/docs/assets/'));
    expect(assets.length).toBeGreaterThanOrEqual(4);
    // Same origin: a path from the root, never a scheme or a protocol-relative //host.
    for (const url of urls) expect(url, url).toMatch(/^\/(?!\/)/);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);

    const types: Record<string, string> = {};
    for (const url of assets) {
      const res = await fetch(t.baseUrl + url);
      expect(res.status, url).toBe(200);
      types[url.split('?')[0].slice('/docs/assets/'.length)] = res.headers.get('content-type') ?? '';
      expect(res.headers.get('cache-control'), url).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      await res.arrayBuffer();
    }
    expect(types['swagger-ui-bundle.js']).toMatch(/^text\/javascript/);
    expect(types['rapport-docs.js']).toMatch(/^text\/javascript/);
    expect(types['swagger-ui.css']).toMatch(/^text\/css/);
    expect(types['favicon-32x32.png']).toBe('image/png');
  });

  it('points the viewer at /api/v1/openapi.json, which covers the kernel and the enabled plugins', async () => {
    const script = (await t.anonymous.get('/docs/assets/rapport-docs.js')).text;
    // Run the page's start-up script against a stand-in for the DOM and Swagger UI, and read the configuration it passes.
    let config: Record<string, unknown> | undefined;
    const root = { getAttribute: (name: string) => new RegExp(`${name}="([^"]*)"`).exec(html)?.[1] ?? null };
    const SwaggerUIBundle = Object.assign((c: Record<string, unknown>) => ((config = c), {}), { presets: { apis: 'apis-preset' } });
    const window: Record<string, unknown> = {};
    vm.runInNewContext(script, { window, document: { getElementById: (id: string) => (id === 'swagger-ui' ? root : null) }, SwaggerUIBundle });
    expect(config).toMatchObject({ url: '/api/v1/openapi.json', domNode: root, queryConfigEnabled: false, validatorUrl: null });

    const bundle = (await t.anonymous.get('/docs/assets/swagger-ui-bundle.js')).text;
    expect(bundle).toContain('SwaggerUIBundle');

    const doc = await t.anonymous.get(config!.url as string);
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/parties', '/api/v1/sample/tickets']));
  });

  it('revalidates with ETags, answers HEAD, refuses other methods and unknown files', async () => {
    const url = '/docs/assets/swagger-ui.css';
    const first = await t.anonymous.get(url);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('cache-control')).toBe('public, max-age=3600');
    // fetch adds "Cache-Control: no-cache" (a forced reload) to a conditional request unless told otherwise.
    const revalidate = (tag: string) => ({ headers: { 'if-none-match': tag, 'cache-control': 'max-age=0' } });
    const again = await t.anonymous.get(url, revalidate(etag!));
    expect(again.status).toBe(304);
    expect(again.text).toBe('');

    const pageAgain = await t.anonymous.get('/docs', revalidate(page.headers.get('etag')!));
    expect(pageAgain.status).toBe(304);

    const head = await fetch(`${t.baseUrl}/docs`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');

    const post = await t.anonymous.post('/docs', {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(post.headers.get('content-type')).toContain('application/problem+json');

    for (const missing of ['/docs/assets/index.html', '/docs/assets/../package.json', '/docs/assets/%2e%2e%2fpackage.json', '/docs/assets/']) {
      const res = await t.anonymous.get(missing);
      expect(res.status, missing).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});
