import { defineConfig } from '@rapport/cli';

// The kernel and the CRM plugin alone: no partners, no suppliers, no HR.
export default defineConfig({
  plugins: ['@rapport/plugin-crm'],
  tenantName: 'Acme Sales',
  database: { dataDir: './.rapport' },
});
