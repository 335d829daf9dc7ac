import { Title } from '@mantine/core';
import { useT } from '@rapport/console-sdk';

export default function DuplicatesPage() {
  const t = useT();
  return <Title order={1}>{t('nav.duplicates')}</Title>;
}
