import { SegmentedControl } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, rememberLanguage, type Language } from './i18n.js';

const ENDONYMS: Record<Language, string> = { en: 'English', uk: 'Українська' };

export function LanguageSwitch() {
  const { t, i18n } = useTranslation('console');
  return (
    <SegmentedControl
      size="xs"
      aria-label={t('language.label')}
      value={i18n.language}
      // Each language by its own name (as language pickers do), whatever the current one.
      data={LANGUAGES.map((value) => ({
        value,
        label: (
          <span lang={value} translate="no">
            {ENDONYMS[value]}
          </span>
        ),
      }))}
      onChange={(value) => {
        rememberLanguage(value as Language);
        void i18n.changeLanguage(value);
      }}
    />
  );
}
