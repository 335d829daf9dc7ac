import { defineConsolePlugin } from '@rapport/console-sdk';
import { en, uk } from './messages.js';

/** CRM's pages in the Rapport console: the pipeline board, deals, tasks, reports and the buyer side. */
export default defineConsolePlugin({
  id: 'crm',
  messages: { en, uk },
  pages: [
    { path: 'crm/pipeline', title: 'nav.pipeline', permission: 'crm.deals:read', nav: 'main', component: () => import('./pages/PipelineBoard.js') },
    { path: 'crm/deals', title: 'nav.deals', permission: 'crm.deals:read', nav: 'main', component: () => import('./pages/Deals.js') },
    { path: 'crm/deals/:id', title: 'nav.deal', permission: 'crm.deals:read', nav: false, component: () => import('./pages/DealPage.js') },
    { path: 'crm/tasks', title: 'nav.tasks', permission: 'crm.tasks:read', nav: 'main', component: () => import('./pages/Tasks.js') },
    { path: 'crm/reports', title: 'nav.reports', permission: 'crm.reports:read', nav: 'main', component: () => import('./pages/Reports.js') },
    { path: 'crm/vendors', title: 'nav.vendors', permission: 'crm.accounts:read', nav: 'main', component: () => import('./pages/BuyerSide.js') },
  ],
});
