import { useState } from 'react';
import { Badge, Button, Card, Group, SimpleGrid, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { BarChart } from '@mantine/charts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, ok, useClient, usePrmT } from '../lib.js';
import { QuoteForm } from './supply/QuoteForm.js';

/** The suppliers the caller can see (a supplier's user: its own supply relationship), with their names. */
function useSuppliers() {
  const client = useClient();
  return useQuery({
    queryKey: ['prm', 'suppliers'],
    queryFn: async () => {
      const relationships = ok(await client.GET('/api/v1/relationships', { params: { query: { type: 'prm.supplier', limit: 200 } } })).data;
      const names = await Promise.all(relationships.map(async (r) => (await client.GET('/api/v1/parties/{id}', { params: { path: { id: r.fromPartyId } } })).data?.name ?? ''));
      return relationships.map((relationship, i) => ({ relationship, supplierId: relationship.fromPartyId, name: names[i] }));
    },
  });
}

/** The buy side: RFQs → quotes → award → purchase orders → deliveries, and the supplier scorecard. */
export default function Supply() {
  const t = usePrmT();
  const suppliers = useSuppliers();
  if (suppliers.isPending) return <Loading />;
  if (suppliers.error) return <Failure error={suppliers.error} />;
  const names = new Map(suppliers.data.map((s) => [s.supplierId, s.name]));
  return (
    <Stack>
      <Title order={1}>{t('supply.title')}</Title>
      <Tabs defaultValue="scorecard" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="scorecard">{t('supply.scorecard')}</Tabs.Tab>
          <Tabs.Tab value="rfqs">{t('supply.rfqs')}</Tabs.Tab>
          <Tabs.Tab value="orders">{t('supply.orders')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="scorecard" pt="md">
          <SupplierScorecard suppliers={suppliers.data} />
        </Tabs.Panel>
        <Tabs.Panel value="rfqs" pt="md">
          <Rfqs names={names} />
        </Tabs.Panel>
        <Tabs.Panel value="orders" pt="md">
          <Orders names={names} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

/** One decimal, as the chart labels show it (the API's figures, rounded for reading only). */
export const oneDecimal = (n: number) => Math.round(n * 10) / 10;

function SupplierScorecard({ suppliers }: { suppliers: Array<{ supplierId: string; name: string }> }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const [chosen, setChosen] = useState<string | null>(null);
  const supplierId = chosen ?? suppliers[0]?.supplierId;
  const card = useQuery({
    queryKey: ['prm', 'supplier-scorecard', supplierId],
    enabled: !!supplierId,
    queryFn: async () => ok(await client.GET('/api/v1/prm/suppliers/{supplierId}/scorecard', { params: { path: { supplierId: supplierId } } })),
  });
  if (!supplierId) return <Text c="gray.7">{t('supply.noSuppliers')}</Text>;
  if (card.isPending) return <Loading />;
  if (card.error) return <Failure error={card.error} />;
  const c = card.data;
  const components = [
    ['onTimeDelivery', c.onTimeDelivery],
    ['quality', c.quality],
    ['rfqResponsiveness', c.rfqResponsiveness],
    ['score', c.score],
  ] as const;
  const value = t('supply.percent');
  const data = components.filter(([, v]) => v !== null).map(([key, v]) => ({ component: t(`supply.metric.${key}`), [value]: oneDecimal(v!) }));
  return (
    <Stack>
      {suppliers.length > 1 && (
        <DataSelect label={t('supply.supplier')} w={280} data={suppliers.map((s) => ({ value: s.supplierId, label: s.name }))} value={supplierId} onChange={setChosen} allowDeselect={false} />
      )}
      <Card withBorder component="section" aria-labelledby="prm-supplier-scorecard">
        <Group justify="space-between" wrap="wrap">
          <Title order={2} size="h3" id="prm-supplier-scorecard" translate="no">
            {suppliers.find((s) => s.supplierId === supplierId)?.name}
          </Title>
          <Badge
            variant="light"
            c="dark.8"
            size="lg"
            color={c.standing === 'preferred' ? 'green' : c.standing === 'watch' ? 'orange' : c.standing === 'blocked' ? 'red' : 'blue'}
            data-testid="supplier-standing"
          >
            {t(`supply.standing.${c.standing}`)}
          </Badge>
        </Group>
        <Text size="sm" c="gray.7">
          {t('supply.deliveries', { n: format.number(c.deliveries) })}
        </Text>
        {data.length === 0 ? (
          <Text mt="md">{t('supply.noData')}</Text>
        ) : (
          <div data-testid="supplier-scorecard-chart">
            <BarChart
              mt="md"
              h={280}
              data={data}
              dataKey="component"
              series={[{ name: value, color: 'teal.6' }]}
              yAxisProps={{ domain: [0, 100] }}
              withBarValueLabel
              barChartProps={{ margin: { top: 24 } }}
              valueFormatter={(v) => format.number(v)}
            />
          </div>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }} mt="md">
          <Text size="sm">
            {t('supply.metric.priceVariance')}: {c.priceVariance === null ? '—' : `${format.number(oneDecimal(c.priceVariance))} %`}
          </Text>
          <Text size="sm">
            {t('supply.weights', {
              onTime: format.percent(c.weights.onTime),
              quality: format.percent(c.weights.quality),
              price: format.percent(c.weights.price),
              responsiveness: format.percent(c.weights.responsiveness),
            })}
          </Text>
        </SimpleGrid>
        {c.ratings.length > 0 && (
          <Stack gap={2} mt="md">
            <Title order={3} size="h5">
              {t('supply.ratings')}
            </Title>
            {c.ratings.map((r, i) => (
              <Text key={i} size="sm">
                {format.date(r.observedAt)} · {r.label ?? ''} {r.text ?? ''}
              </Text>
            ))}
          </Stack>
        )}
      </Card>
    </Stack>
  );
}

function Rfqs({ names }: { names: Map<string, string> }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const principal = usePrincipal();
  // The firm awards; a supplier's user answers, as the supplier it acts for (the API checks both).
  const canAward = principal.can('prm.rfqs:write') && !principal.scoped;
  const canQuote = principal.can('prm.rfqs:write') && principal.scoped;
  const rfqs = useQuery({ queryKey: ['prm', 'rfqs'], queryFn: async () => ok(await client.GET('/api/v1/prm/rfqs', { params: { query: { limit: 100 } } })).data });
  const award = useMutation({
    mutationFn: async ({ id, quoteId }: { id: string; quoteId: string }) => ok(await client.POST('/api/v1/prm/rfqs/{id}/award', { params: { path: { id } }, body: { quoteId } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['prm', 'rfqs'] }),
  });
  if (rfqs.isPending) return <Loading />;
  if (rfqs.error) return <Failure error={rfqs.error} />;
  if (rfqs.data.length === 0) return <Text c="gray.7">{t('supply.noRfqs')}</Text>;
  return (
    <Stack>
      {award.error && <Failure error={award.error} />}
      {rfqs.data.map((rfq) => (
        <Card key={rfq.id} withBorder component="article" aria-labelledby={`prm-rfq-${rfq.id}`}>
          <Group justify="space-between" wrap="wrap">
            <Text fw={600} id={`prm-rfq-${rfq.id}`} translate="no">
              {rfq.title}
            </Text>
            <Badge variant="light" c="dark.8">
              {t(`supply.rfqStatus.${rfq.status}`)}
            </Badge>
          </Group>
          <Text size="sm">{t('supply.rfqLine', { quantity: format.number(rfq.quantity), unit: rfq.unit, date: format.dateTime(rfq.respondBy), invited: format.number(rfq.supplierIds.length) })}</Text>
          {rfq.quotes.length === 0 ? (
            <Text size="sm" c="gray.7" mt="xs">
              {t('supply.noQuotes')}
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
              <Table mt="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('supply.supplier')}</Table.Th>
                    <Table.Th>{t('supply.unitPrice')}</Table.Th>
                    <Table.Th>{t('supply.leadTime')}</Table.Th>
                    <Table.Th>{t('supply.quoteStatus')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rfq.quotes.map((q) => (
                    <Table.Tr key={q.id}>
                      <Table.Td translate="no">{names.get(q.supplierId) ?? ''}</Table.Td>
                      <Table.Td translate="no">{format.money(q.unitPrice, q.currency)}</Table.Td>
                      <Table.Td>{t('supply.days', { n: format.number(q.leadTimeDays) })}</Table.Td>
                      <Table.Td>
                        {canAward && rfq.status === 'open' ? (
                          <Button size="xs" onClick={() => award.mutate({ id: rfq.id, quoteId: q.id })}>
                            {t('supply.award')}
                          </Button>
                        ) : (
                          t(`supply.quote.${q.status}`)
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {canQuote &&
            rfq.status === 'open' &&
            rfq.supplierIds
              .filter((supplierId) => !rfq.quotes.some((q) => q.supplierId === supplierId))
              .map((supplierId) => <QuoteForm key={supplierId} rfqId={rfq.id} supplierId={supplierId} supplierName={rfq.supplierIds.length > 1 ? names.get(supplierId) : undefined} />)}
        </Card>
      ))}
    </Stack>
  );
}

function Orders({ names }: { names: Map<string, string> }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const orders = useQuery({ queryKey: ['prm', 'purchase-orders'], queryFn: async () => ok(await client.GET('/api/v1/prm/purchase-orders', { params: { query: { limit: 100 } } })).data });
  if (orders.isPending) return <Loading />;
  if (orders.error) return <Failure error={orders.error} />;
  if (orders.data.length === 0) return <Text c="gray.7">{t('supply.noOrders')}</Text>;
  return (
    <Stack>
      {orders.data.map((po) => (
        <Card key={po.id} withBorder component="article" aria-labelledby={`prm-po-${po.id}`}>
          <Group justify="space-between" wrap="wrap">
            <Text fw={600} id={`prm-po-${po.id}`} translate="no">
              {po.reference} · {names.get(po.supplierId) ?? ''}
            </Text>
            <Text size="sm" translate="no">
              {format.money(po.quantity * po.unitPrice, po.currency)}
            </Text>
          </Group>
          <Text size="sm">{t('supply.poLine', { quantity: format.number(po.quantity), ordered: format.date(po.orderedAt), promised: format.date(po.promisedAt) })}</Text>
          {po.deliveries.length === 0 ? (
            <Text size="sm" c="gray.7">
              {t('supply.noDeliveries')}
            </Text>
          ) : (
            po.deliveries.map((d) => (
              <Text key={d.id} size="sm">
                {t('supply.delivery', {
                  date: format.date(d.receivedAt),
                  accepted: format.number(d.quantityAccepted),
                  rejected: format.number(d.quantityRejected),
                  onTime: new Date(d.receivedAt) <= new Date(po.promisedAt) ? t('supply.onTime') : t('supply.late'),
                })}
              </Text>
            ))
          )}
        </Card>
      ))}
    </Stack>
  );
}
