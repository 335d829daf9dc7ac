import type en from './en.js';

/** Ukrainian: every key of en.ts (the type says so). */
const uk: Record<keyof typeof en, string> = {
  'language.label': 'Мова',
  'language.en': 'Англійська',
  'language.uk': 'Українська',
  'signIn.title': 'Вхід',
  'signIn.email': 'Електронна пошта',
  'signIn.password': 'Пароль',
  'signIn.submit': 'Увійти',
  'signIn.wrong': 'Неправильна електронна пошта або пароль.',
  'signIn.throttled': 'Забагато спроб. Зачекайте трохи й спробуйте знову.',
  'signIn.offline': 'Сервер недоступний.',
  signOut: 'Вийти',
  'nav.label': 'Навігація',
  'nav.toggle': 'Показати або сховати навігацію',
  'nav.home': 'Головна',
  'nav.parties': 'Сторони',
  'nav.duplicates': 'Дублікати',
  'nav.import': 'Імпорт',
  'nav.webhooks': 'Вебхуки',
  'nav.keys': 'Ключі API',
  'nav.audit': 'Журнал аудиту',
  'nav.settings': 'Налаштування',
  'dashboard.title': 'Головна',
  'dashboard.welcome': 'Вітаємо, {{name}}.',
  'notFound.title': 'Сторінку не знайдено',
  'notFound.body': 'Тут немає сторінки, або ви не маєте права її відкрити.',
  'error.title': 'Щось пішло не так',
  'error.body': 'Цю частину не вдалося показати: {{message}}',
};

export default uk;
