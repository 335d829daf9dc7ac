import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { ConsolePlugin } from '@rapport/console-sdk';
import en from './messages/en.js';
import uk from './messages/uk.js';
import { typesEn, typesUk } from './messages/types.js';

export const LANGUAGES = ['en', 'uk'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'rapport.console.language';

/** The remembered language, else the browser's if we have it, else English. */
export function initialLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'en' || stored === 'uk') return stored;
  return navigator.language?.toLowerCase().startsWith('uk') ? 'uk' : 'en';
}

export function rememberLanguage(language: Language): void {
  localStorage.setItem(STORAGE_KEY, language);
  document.documentElement.lang = language;
}

/** One i18next instance: the kernel's strings in `console`, each plugin's in its id. */
export function createI18n(plugins: readonly ConsolePlugin[]): i18n {
  const instance = i18next.createInstance();
  const language = initialLanguage();
  document.documentElement.lang = language;
  const resources: Record<Language, Record<string, Record<string, string>>> = { en: { console: { ...typesEn, ...en } }, uk: { console: { ...typesUk, ...uk } } };
  for (const plugin of plugins) {
    resources.en[plugin.id] = plugin.messages.en;
    resources.uk[plugin.id] = plugin.messages.uk;
  }
  void instance.use(initReactI18next).init({
    resources,
    lng: language,
    fallbackLng: false,
    ns: ['console', ...plugins.map((p) => p.id)],
    defaultNS: 'console',
    // Keys are flat (`signIn.title`), as plugins declare them.
    keySeparator: false,
    interpolation: { escapeValue: false },
    initAsync: false,
    returnNull: false,
  });
  return instance;
}
