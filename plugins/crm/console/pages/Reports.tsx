import { useState } from 'react';
import { Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { BarChart, DonutChart } from '@mantine/charts';
import { useQuery } from '@tanstack/react-query';
import { useFormat } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, ok, useClient, useCrmT } from '../lib.js';
import { usePipelines } from './PipelineBoard.js';

/** The sales reports: pipeline by stage, stage conversion, win rate and the weighted forecast. */
export default function Reports() {
  const t = useCrmT();
  const format = useFormat();
  const client = useClient();
  const pipelines = usePipelines();
  const [chosen, setChosen] = useState<string | null>(null);
  const pipelineId = chosen ?? pipelines.data?.[0]?.id;
  const enabled = !!pipelineId;
  const query = { params: { query: { pipelineId: pipelineId! } } };
  const pipeline = useQuery({ queryKey: ['crm', 'reports', 'pipeline', pipelineId], enabled, queryFn: async () => ok(await client.GET('/api/v1/crm/reports/pipeline', query)) });
  const conversion = useQuery({ queryKey: ['crm', 'reports', 'conversion', pipelineId], enabled, queryFn: async () => ok(await client.GET('/api/v1/crm/reports/conversion', query)) });
  const winRate = useQuery({ queryKey: ['crm', 'reports', 'win-rate', pipelineId], enabled, queryFn: async () => ok(await client.GET('/api/v1/crm/reports/win-rate', query)) });
  const forecast = useQuery({ queryKey: ['crm', 'reports', 'forecast', pipelineId], enabled, queryFn: async () => ok(await client.GET('/api/v1/crm/reports/forecast', query)) });

  if (pipelines.isPending) return <Loading />;
  if (pipelines.error) return <Failure error={pipelines.error} />;
  if (!pipelineId) return <Text>{t('board.noPipeline')}</Text>;
  const all = [pipeline, conversion, winRate, forecast];
  const error = all.find((q) => q.error)?.error;
  if (error) return <Failure error={error} />;
  if (!pipeline.data || !conversion.data || !winRate.data || !forecast.data) return <Loading />;

  // Amounts are never summed across currencies: the charts show the pipeline's first currency, the others are listed.
  const currencies = [...new Set([...pipeline.data.stages.flatMap((s) => s.byCurrency.map((c) => c.currency)), ...forecast.data.data.map((f) => f.currency)])];
  const currency = currencies[0] ?? 'EUR';
  const byStage = pipeline.data.stages.map((s) => {
    const figures = s.byCurrency.find((c) => c.currency === currency);
    return { stage: s.name, [t('reports.amount')]: figures?.amount ?? 0, [t('reports.weighted')]: figures?.weightedAmount ?? 0 };
  });
  const conversionData = conversion.data.stages
    .filter((s) => s.conversionRate !== null)
    .map((s) => ({ stage: s.name, [t('reports.conversionRate')]: Math.round((s.conversionRate ?? 0) * 1000) / 10 }));
  const forecastData = forecast.data.data
    .filter((f) => f.currency === currency)
    .map((f) => ({ month: f.month ?? t('reports.noDate'), [t('reports.weighted')]: f.weightedAmount, [t('reports.amount')]: f.amount }));
  const money = (value: number) => format.money(value, currency);

  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={1}>{t('reports.title')}</Title>
        <DataSelect label={t('board.pipeline')} data={pipelines.data.map((p) => ({ value: p.id, label: p.name }))} value={pipelineId} onChange={setChosen} allowDeselect={false} />
      </Group>
      {currencies.length > 1 && <Text size="sm">{t('reports.currencyNote', { currency, others: currencies.slice(1).join(', ') })}</Text>}
      {/* The bars carry their values as labels: what the chart shows is readable, and the API's figures. */}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder component="section" aria-label={t('reports.pipeline')}>
          <Title order={2} size="h4" mb="sm">
            {t('reports.pipeline')}
          </Title>
          <div data-testid="report-pipeline">
            <BarChart
              h={260}
              data={byStage}
              dataKey="stage"
              valueFormatter={money}
              series={[
                { name: t('reports.amount'), color: 'blue.6' },
                { name: t('reports.weighted'), color: 'teal.6' },
              ]}
              withLegend
              withBarValueLabel
              barChartProps={{ margin: { top: 24 } }}
            />
          </div>
        </Card>
        <Card withBorder component="section" aria-label={t('reports.conversion')}>
          <Title order={2} size="h4" mb="sm">
            {t('reports.conversion')}
          </Title>
          <div data-testid="report-conversion">
            <BarChart
              h={260}
              data={conversionData}
              dataKey="stage"
              unit="%"
              valueFormatter={(v) => format.number(v)}
              series={[{ name: t('reports.conversionRate'), color: 'violet.6' }]}
              withBarValueLabel
              barChartProps={{ margin: { top: 24 } }}
            />
          </div>
        </Card>
        <Card withBorder component="section" aria-label={t('reports.winRate')}>
          <Title order={2} size="h4" mb="sm">
            {t('reports.winRate')}
          </Title>
          <Group wrap="wrap">
            <DonutChart
              size={160}
              thickness={24}
              data={[
                { name: t('outcome.won'), value: winRate.data.won, color: 'green.6' },
                { name: t('outcome.lost'), value: winRate.data.lost, color: 'gray.5' },
              ]}
              chartLabel={winRate.data.winRate === null ? '—' : format.percent(winRate.data.winRate)}
            />
            <Stack gap={2}>
              <Text>{t('reports.won', { n: winRate.data.won })}</Text>
              <Text>{t('reports.lost', { n: winRate.data.lost })}</Text>
              <Text fw={600} data-testid="win-rate">
                {winRate.data.winRate === null ? t('reports.noClosed') : t('reports.rate', { rate: format.percent(winRate.data.winRate) })}
              </Text>
            </Stack>
          </Group>
        </Card>
        <Card withBorder component="section" aria-label={t('reports.forecast')}>
          <Title order={2} size="h4" mb="sm">
            {t('reports.forecast')}
          </Title>
          <div data-testid="report-forecast">
            <BarChart
              h={260}
              data={forecastData}
              dataKey="month"
              valueFormatter={money}
              series={[
                { name: t('reports.weighted'), color: 'teal.6' },
                { name: t('reports.amount'), color: 'blue.3' },
              ]}
              withLegend
              withBarValueLabel
              barChartProps={{ margin: { top: 24 } }}
            />
          </div>
        </Card>
      </SimpleGrid>
    </Stack>
  );
}
