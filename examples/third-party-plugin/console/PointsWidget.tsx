import { Badge, Group, Loader, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { Client } from 'openapi-fetch';
import { useApi, useFormat, useT } from '@rapport/console-sdk';
import type { paths } from '../src/api.js';

/** The party's balance and tier, read with the signed-in user's session (404 outside its reach). */
export default function PointsWidget({ partyId }: { partyId: string }) {
  const t = useT('loyalty');
  const format = useFormat();
  // The console's client is typed for the kernel and first-party plugins; this plugin's paths are its own (src/api.d.ts).
  const client = useApi().client as unknown as Client<paths>;
  const balance = useQuery({
    queryKey: ['loyalty', 'balance', partyId],
    queryFn: async () => {
      const { data, error } = await client.GET('/api/v1/loyalty/members/{partyId}/balance', { params: { path: { partyId } } });
      if (error || !data) throw new Error('loyalty: balance');
      return data;
    },
  });
  if (balance.isPending) return <Loader size="sm" aria-label="…" />;
  if (balance.error) return <Text size="sm">{t('widget.error')}</Text>;
  if (!balance.data.member) return <Text size="sm">{t('widget.notMember')}</Text>;
  return (
    <Group gap="md">
      <Text size="sm">
        {t('widget.balance')}: <b>{format.number(balance.data.balance)}</b>
      </Text>
      <Text size="sm">
        {t('widget.tier')}:{' '}
        <Badge variant="light" c="dark.8" translate="no">
          {balance.data.tier}
        </Badge>
      </Text>
    </Group>
  );
}
