import { defineConfig } from '@rapport/cli';
import { demoData } from './src/demo-plugin.js';
import { seedOnListen } from './src/on-listen.js';

// What `pnpm start` at the repository root serves: the kernel, every first-party plugin, and
// the demo data of a machine manufacturer, loaded once (a second start finds it and adds nothing).
export default defineConfig({
  // Package names: loaded with Node's own import, sharing the one @rapport/core of the CLI;
  // the demo plugin keeps the record that the demo data is loaded.
  plugins: ['@rapport/plugin-crm', '@rapport/plugin-prm', '@rapport/plugin-hrm', demoData],
  tenantName: 'Northwind Machines',
  // A demo on one machine: the README tour's webhook receiver listens on localhost. A
  // production system keeps the default and delivers to public addresses only.
  dispatcher: { allowPrivateNetworks: true },
  onListen: seedOnListen,
});
