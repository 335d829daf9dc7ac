import { Title } from '@mantine/core';
import { useT } from '@rapport/console-sdk';

export default function ImportPage() {
  const t = useT();
  return <Title order={1}>{t('nav.import')}</Title>;
}
