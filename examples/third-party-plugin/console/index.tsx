import { defineConsolePlugin } from '@rapport/console-sdk';

/** The loyalty plugin's part of the console: a widget on the party page with the party's points and tier. */
export default defineConsolePlugin({
  id: 'loyalty',
  messages: {
    en: {
      'widget.title': 'Loyalty points',
      'widget.balance': 'Balance',
      'widget.tier': 'Tier',
      'widget.notMember': 'Not a member of the loyalty programme.',
      'widget.error': 'The points could not be read.',
    },
    uk: {
      'widget.title': 'Бонусні бали',
      'widget.balance': 'Баланс',
      'widget.tier': 'Рівень',
      'widget.notMember': 'Не бере участі в програмі лояльності.',
      'widget.error': 'Не вдалося прочитати бали.',
    },
  },
  widgets: [{ id: 'points', zone: 'party.page', title: 'widget.title', permission: 'loyalty.points:read', component: () => import('./PointsWidget.js') }],
});
