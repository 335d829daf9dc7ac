import { Title } from '@mantine/core';
import { useT } from '@rapport/console-sdk';

export default function WebhooksPage() {
  const t = useT();
  return <Title order={1}>{t('nav.webhooks')}</Title>;
}
