import { Readable } from 'node:stream';
import { it } from 'vitest';
import { runImport } from '@rapport/core';
import { createTestApp } from '@rapport/testing';
import { samplePlugin } from './fixtures/test-plugin.js';
it('debug', async () => {
  const t = await createTestApp({ plugins: [samplePlugin().plugin], config: { dispatcher: { enabled: false } } });
  const lines = ['kind,name,email,attr.sample.industry'];
  for (let i = 0; i < 5000; i++) lines.push(i % 2 ? `person,Bulk ${i},bulk${i}@example.com,` : `organization,Bulk Org ${i},,Retail`);
  const times: Array<[string, number]> = [];
  let last = performance.now();
  t.app.knex.on('query', (q: any) => { const now = performance.now(); times.push([q.sql.slice(0, 50), Math.round(now - last)]); last = now; });
  const r = await runImport(t.app, 'parties', Readable.from([lines.join('\n')]), { batchSize: 5000 });
  times.push(['end', Math.round(performance.now() - last)]);
  console.log(r.seconds, JSON.stringify(times));
  await t.close();
}, 120000);
