import { useState } from 'react';
import { Badge, Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useFormat } from '@rapport/console-sdk';
import { Failure, Loading, ok, useClient, useCrmT } from '../lib.js';

/** The firm as buyer: our vendors, what we bought from each, and each relationship as the vendor records it. */
export default function BuyerSide() {
  const t = useCrmT();
  const client = useClient();
  const vendors = useQuery({ queryKey: ['crm', 'vendors'], queryFn: async () => ok(await client.GET('/api/v1/crm/vendors', { params: { query: { limit: 200 } } })).data });
  const [open, setOpen] = useState<string | null>(null);
  if (vendors.isPending) return <Loading />;
  if (vendors.error) return <Failure error={vendors.error} />;
  return (
    <Stack>
      <Title order={1}>{t('vendors.title')}</Title>
      <Text c="gray.7">{t('vendors.intro')}</Text>
      {vendors.data.length === 0 && <Text>{t('vendors.none')}</Text>}
      {vendors.data.map(({ relationship, party }) => (
        <Card key={relationship.id} withBorder component="section" aria-labelledby={`crm-vendor-${party.id}`}>
          <Group justify="space-between" wrap="wrap">
            <Title order={2} size="h4" id={`crm-vendor-${party.id}`} translate="no">
              {party.name}
            </Title>
            {relationship.status && (
              <Badge variant="light" c="dark.8">
                {t(`status.${relationship.status}`)}
              </Badge>
            )}
          </Group>
          <Button variant="default" size="compact-sm" mt="xs" aria-expanded={open === relationship.id} onClick={() => setOpen(open === relationship.id ? null : relationship.id)}>
            {open === relationship.id ? t('vendors.hide') : t('vendors.show')}
          </Button>
          {open === relationship.id && <VendorDetail vendorId={party.id} relationshipId={relationship.id} />}
        </Card>
      ))}
    </Stack>
  );
}

function VendorDetail({ vendorId, relationshipId }: { vendorId: string; relationshipId: string }) {
  const t = useCrmT();
  const format = useFormat();
  const client = useClient();
  const purchases = useQuery({
    queryKey: ['crm', 'vendor', vendorId, 'purchases'],
    queryFn: async () => ok(await client.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: vendorId }, query: { limit: 100 } } })).data,
  });
  const otherSide = useQuery({
    queryKey: ['crm', 'other-side', relationshipId],
    queryFn: async () => ok(await client.GET('/api/v1/crm/relationships/{id}/other-side', { params: { path: { id: relationshipId } } })),
  });
  if (purchases.isPending || otherSide.isPending) return <Loading />;
  if (purchases.error || otherSide.error) return <Failure error={purchases.error ?? otherSide.error} />;
  const bought = purchases.data.filter((i) => i.type.startsWith('crm.') && ['crm.purchase', 'crm.offer-received', 'crm.quote-received', 'crm.complaint'].includes(i.type));
  const v = otherSide.data.viewpoint;
  return (
    <Stack mt="sm" gap="sm">
      <Title order={3} size="h5">
        {t('vendors.bought')}
      </Title>
      {bought.length === 0 ? (
        <Text c="gray.7">{t('vendors.noPurchases')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('vendors.when')}</Table.Th>
                <Table.Th>{t('vendors.kind')}</Table.Th>
                <Table.Th>{t('vendors.subject')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {bought.map((i) => (
                <Table.Tr key={i.id}>
                  <Table.Td>{format.date(i.occurredAt)}</Table.Td>
                  <Table.Td>{t(`purchaseType.${i.type.replace('crm.', '')}`)}</Table.Td>
                  <Table.Td translate="no">{i.subject ?? ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Title order={3} size="h5">
        {t('vendors.otherSide')}
      </Title>
      <Text size="sm" data-testid="other-side">
        {t('vendors.otherSideText', { role: t(`role.${v.role}`, { defaultValue: v.role }), counterpartRole: t(`role.${v.counterpartRole}`, { defaultValue: v.counterpartRole }) })}
      </Text>
    </Stack>
  );
}
