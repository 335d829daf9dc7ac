import { defineConfig } from '@rapport/cli';

// Internal marketing first (SEED: employees and units are the firm's first "customers"):
// the kernel and HRM alone. CRM or PRM can be added to `plugins` later; nothing here changes.
export default defineConfig({
  plugins: ['@rapport/plugin-hrm'],
  tenantName: 'Northwind Machines',
  database: { dataDir: './.rapport' },
});
