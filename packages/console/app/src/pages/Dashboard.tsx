import { Stack, Text, Title } from '@mantine/core';
import { usePrincipal, useT } from '@rapport/console-sdk';
import { Zone } from '../Zone.js';

export function Dashboard() {
  const t = useT();
  const principal = usePrincipal();
  return (
    <Stack>
      <Title order={1}>{t('dashboard.title')}</Title>
      <Text>
        {t('dashboard.welcome')} <span translate="no">{principal.user?.name ?? principal.user?.email ?? ''}</span>.
      </Text>
      <Zone zone="dashboard" props={{}} />
    </Stack>
  );
}
