import { useState } from 'react';
import { Card, Stack, Table, Text, Title } from '@mantine/core';
import { BarChart } from '@mantine/charts';
import { useQuery } from '@tanstack/react-query';
import { useFormat } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, ok, useClient, useHrmT } from '../lib.js';
import { useUnits } from './MySpace.js';

/** The internal service scorecard of a unit: per service, requests, SLA breaches, resolution time and internal CSAT. */
export default function ServiceScorecard() {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const units = useUnits();
  const [chosen, setChosen] = useState<string | null>(null);
  const services = useQuery({ queryKey: ['hrm', 'services'], queryFn: async () => ok(await client.GET('/api/v1/hrm/services', { params: { query: { limit: 200 } } })).data });
  const providing = new Set((services.data ?? []).map((s) => s.unitId));
  const unitId = chosen ?? units.data?.find((u) => providing.has(u.id))?.id ?? units.data?.[0]?.id;
  const card = useQuery({
    queryKey: ['hrm', 'scorecard', unitId],
    enabled: !!unitId,
    queryFn: async () => ok(await client.GET('/api/v1/hrm/units/{id}/scorecard', { params: { path: { id: unitId! } } })),
  });
  if (units.isPending || services.isPending) return <Loading />;
  if (units.error || services.error) return <Failure error={units.error ?? services.error} />;
  const pct = (v: number | null) => (v === null ? '—' : format.percent(v));
  const breach = t('scorecard.breachRate');
  return (
    <Stack>
      <Title order={1}>{t('scorecard.title')}</Title>
      <DataSelect label={t('scorecard.unit')} w={280} data={units.data.map((u) => ({ value: u.id, label: u.name }))} value={unitId ?? null} onChange={setChosen} allowDeselect={false} />
      {card.isPending ? (
        <Loading />
      ) : card.error ? (
        <Failure error={card.error} />
      ) : card.data.services.length === 0 ? (
        <Text c="gray.7">{t('scorecard.noServices')}</Text>
      ) : (
        <Card withBorder>
          <div data-testid="service-breach-chart">
            <BarChart
              h={220}
              data={card.data.services.map((s) => ({ service: s.name, [breach]: s.breachRate === null ? 0 : Math.round(s.breachRate * 1000) / 10 }))}
              dataKey="service"
              unit="%"
              valueFormatter={(v) => format.number(v)}
              series={[{ name: breach, color: 'red.6' }]}
              withBarValueLabel
              barChartProps={{ margin: { top: 24 } }}
            />
          </div>
          <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
            <Table mt="md">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('scorecard.service')}</Table.Th>
                  <Table.Th>{t('scorecard.requests')}</Table.Th>
                  <Table.Th>{t('scorecard.open')}</Table.Th>
                  <Table.Th>{t('scorecard.breached')}</Table.Th>
                  <Table.Th>{breach}</Table.Th>
                  <Table.Th>{t('scorecard.resolution')}</Table.Th>
                  <Table.Th>{t('scorecard.csat')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {card.data.services.map((s) => (
                  <Table.Tr key={s.serviceId}>
                    <Table.Td translate="no">{s.name}</Table.Td>
                    <Table.Td>{format.number(s.requests)}</Table.Td>
                    <Table.Td>{format.number(s.open)}</Table.Td>
                    <Table.Td>{format.number(s.breached)}</Table.Td>
                    <Table.Td>{pct(s.breachRate)}</Table.Td>
                    <Table.Td>{s.avgResolutionMinutes === null ? '—' : t('scorecard.hours', { n: format.number(Math.round((s.avgResolutionMinutes / 60) * 10) / 10) })}</Table.Td>
                    <Table.Td>{s.csat === null ? '—' : t('scorecard.csatValue', { n: format.number(Math.round(s.csat * 10) / 10), responses: format.number(s.csatResponses) })}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
    </Stack>
  );
}
