import { defineConsolePlugin } from '@rapport/console-sdk';
import { en, uk } from './messages.js';

/** PRM's pages in the Rapport console: the partner portal, the firm's channel view and the supply side. */
export default defineConsolePlugin({
  id: 'prm',
  messages: { en, uk },
  pages: [
    { path: 'prm/portal', title: 'nav.portal', permission: 'prm.registrations:read', nav: 'main', component: () => import('./pages/Portal.js') },
    { path: 'prm/channel', title: 'nav.channel', permission: 'prm.registrations:decide', nav: 'main', component: () => import('./pages/Channel.js') },
    { path: 'prm/supply', title: 'nav.supply', permission: 'prm.scorecards:read', nav: 'main', component: () => import('./pages/Supply.js') },
  ],
});
