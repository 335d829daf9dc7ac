import { Title } from '@mantine/core';
import { useT } from '@rapport/console-sdk';

export default function PartiesPage() {
  const t = useT();
  return <Title order={1}>{t('nav.parties')}</Title>;
}
