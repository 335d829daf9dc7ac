import { describe, expect, it } from 'vitest';
import { renderSchema } from '../scripts/render-schema.js';

describe('@rapport/client schema', () => {
  // `pnpm --filter @rapport/client generate` runs this file with --update, which writes the file.
  it('src/schema.d.ts is the rendering of the current OpenAPI document', async () => {
    const rendered = await renderSchema();
    await expect(rendered, 'src/schema.d.ts is out of date: run `pnpm --filter @rapport/client generate`').toMatchFileSnapshot('../src/schema.d.ts');
  });
});
