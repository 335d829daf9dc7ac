import { defineConsolePlugin } from '@rapport/console-sdk';
import { en, uk } from './messages.js';

/** HRM's pages in the Rapport console: the employee's own space, the manager's team, the internal service scorecard and HR's pages. */
export default defineConsolePlugin({
  id: 'hrm',
  messages: { en, uk },
  pages: [
    { path: 'hrm/me', title: 'nav.me', permission: 'hrm.employees:read', nav: 'main', component: () => import('./pages/MySpace.js') },
    { path: 'hrm/team', title: 'nav.team', permission: 'hrm.engagement:read', nav: 'main', component: () => import('./pages/Team.js') },
    { path: 'hrm/services', title: 'nav.services', permission: 'hrm.desk:manage', nav: 'main', component: () => import('./pages/ServiceScorecard.js') },
    { path: 'hrm/hr', title: 'nav.hr', permission: 'hrm.reviews:manage', nav: 'main', component: () => import('./pages/Hr.js') },
  ],
});
