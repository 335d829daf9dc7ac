import { useState } from 'react';
import { Badge, Button, Card, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { Failure, Loading, ok, useClient, usePrmT } from '../../lib.js';

/** Leads the firm offers the partner: accept before the deadline, or decline with a reason. */
export function LeadOffers({ partnerId }: { partnerId: string }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const canAnswer = usePrincipal().can('prm.leads:write');
  const offers = useQuery({
    queryKey: ['prm', 'lead-offers', partnerId],
    queryFn: async () => ok(await client.GET('/api/v1/prm/lead-offers', { params: { query: { partnerId, limit: 100 } } })).data,
  });
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const done = () => queryClient.invalidateQueries({ queryKey: ['prm', 'lead-offers'] });
  const accept = useMutation({ mutationFn: async (id: string) => ok(await client.POST('/api/v1/prm/lead-offers/{id}/accept', { params: { path: { id } } })), onSettled: done });
  const decline = useMutation({
    mutationFn: async (id: string) => ok(await client.POST('/api/v1/prm/lead-offers/{id}/decline', { params: { path: { id } }, body: { reason: reasons[id].trim() } })),
    onSettled: done,
  });
  if (offers.isPending) return <Loading />;
  if (offers.error) return <Failure error={offers.error} />;
  return (
    <Stack>
      <Title order={2} size="h3">
        {t('leads.title')}
      </Title>
      {(accept.error || decline.error) && <Failure error={accept.error ?? decline.error} />}
      {offers.data.length === 0 && <Text c="gray.7">{t('leads.none')}</Text>}
      {offers.data.map((offer) => (
        <Card key={offer.id} withBorder component="article" aria-labelledby={`prm-lead-${offer.id}`}>
          <Group justify="space-between" wrap="wrap">
            <Text fw={600} id={`prm-lead-${offer.id}`} translate="no">
              {offer.lead.customerName}
            </Text>
            <Badge variant="light" c="dark.8">
              {t(`leads.status.${offer.status}`)}
            </Badge>
          </Group>
          {offer.lead.description && (
            <Text size="sm" translate="no">
              {offer.lead.description}
            </Text>
          )}
          <Text size="sm" c="gray.7" translate="no">
            {[offer.lead.territory, offer.lead.value !== null && offer.lead.currency ? format.money(offer.lead.value, offer.lead.currency) : null].filter(Boolean).join(' · ')}
          </Text>
          {offer.status === 'accepted' && offer.lead.contactName && <Text size="sm">{t('leads.contact', { name: offer.lead.contactName, email: offer.lead.contactEmail ?? '' })}</Text>}
          {offer.status === 'offered' && (
            <>
              <Text size="sm">{t('leads.respondBy', { date: format.dateTime(offer.respondBy) })}</Text>
              {canAnswer && (
                <Group mt="xs" align="flex-end" wrap="wrap">
                  <Button onClick={() => accept.mutate(offer.id)} loading={accept.isPending}>
                    {t('leads.accept')}
                  </Button>
                  <TextInput label={t('leads.reason')} value={reasons[offer.id] ?? ''} onChange={(e) => setReasons({ ...reasons, [offer.id]: e.currentTarget.value })} maxLength={2000} />
                  <Button variant="default" disabled={!reasons[offer.id]?.trim()} onClick={() => decline.mutate(offer.id)} loading={decline.isPending}>
                    {t('leads.decline')}
                  </Button>
                </Group>
              )}
            </>
          )}
        </Card>
      ))}
    </Stack>
  );
}
