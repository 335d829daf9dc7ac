import { defineConfig } from '@rapport/cli';

// The loyalty plugin installed beside every first-party plugin. Build it first
// (`pnpm --filter rapport-plugin-loyalty build`); `./dist/index.js` is what a published package ships.
export default defineConfig({
  plugins: ['@rapport/plugin-crm', '@rapport/plugin-prm', '@rapport/plugin-hrm', './dist/index.js'],
  tenantName: 'Northwind Machines',
  database: { dataDir: './.rapport' },
});
