import { SegmentedControl } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, rememberLanguage, type Language } from './i18n.js';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation('console');
  return (
    <SegmentedControl
      size="xs"
      aria-label={t('language.label')}
      value={i18n.language}
      data={LANGUAGES.map((value) => ({ value, label: t(`language.${value}`) }))}
      onChange={(value) => {
        rememberLanguage(value as Language);
        void i18n.changeLanguage(value);
      }}
    />
  );
}
