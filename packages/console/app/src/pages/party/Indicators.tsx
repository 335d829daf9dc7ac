import { ok } from '@rapport/client';
import { BarChart, LineChart } from '@mantine/charts';
import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useApi, useFormat, useT } from '@rapport/console-sdk';
import { Failure, Loading, useMeta, useTypeName } from '../../ui.js';
import { useRelationships } from './relationships.js';

interface Observation {
  indicator: string;
  value: number | null;
  label: string | null;
  observedAt: string;
}

/**
 * Every indicator observed about the party, one chart each: values over time for the
 * quantitative ones, the count per level (and the latest) for the qualitative ones, side by side.
 */
export function Indicators({ partyId }: { partyId: string }) {
  const t = useT();
  const format = useFormat();
  const { client } = useApi();
  const meta = useMeta();
  const typeName = useTypeName();
  const relationships = useRelationships(partyId);
  // About the party itself and about each of its relationships (a supplier's scorecard is of the supply relationship).
  const subjects = [{ type: 'party' as const, id: partyId }, ...(relationships.data ?? []).slice(0, 20).map((r) => ({ type: 'relationship' as const, id: r.id }))];
  const observations = useQuery({
    queryKey: ['party', partyId, 'observations', subjects.length],
    enabled: !relationships.isPending,
    queryFn: async () => {
      const pages = await Promise.all(
        subjects.map(async (subject) => {
          return ok(await client.GET('/api/v1/observations', { params: { query: { subjectType: subject.type, subjectId: subject.id, limit: 200 } } })).data;
        }),
      );
      return pages.flat();
    },
  });
  const byIndicator = new Map<string, Observation[]>();
  for (const o of observations.data ?? []) byIndicator.set(o.indicator, [...(byIndicator.get(o.indicator) ?? []), o]);
  const quantitative = [...byIndicator].filter(([key, list]) => (meta.data?.indicators.get(key)?.kind ?? (list[0].value !== null ? 'quantitative' : 'qualitative')) === 'quantitative');
  const qualitative = [...byIndicator].filter(([key]) => !quantitative.some(([k]) => k === key));
  const levelName = (label: string) => (t as unknown as (k: string, o: { defaultValue: string }) => string)(`level.${label}`, { defaultValue: label });

  return (
    <Card withBorder component="section" aria-labelledby="party-indicators">
      <Title order={2} size="h4" id="party-indicators" mb="xs">
        {t('party.indicators')}
      </Title>
      {observations.isPending ? (
        <Loading />
      ) : observations.error ? (
        <Failure error={observations.error} />
      ) : byIndicator.size === 0 ? (
        <Text c="dimmed">{t('indicators.none')}</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Stack>
            <Title order={3} size="h5">
              {t('indicators.quantitative')}
            </Title>
            {quantitative.length === 0 && <Text c="dimmed">{t('indicators.noneOfKind')}</Text>}
            {quantitative.map(([key, list]) => {
              const data = [...list]
                .filter((o) => o.value !== null)
                .sort((a, b) => a.observedAt.localeCompare(b.observedAt))
                .map((o) => ({ date: format.date(o.observedAt), value: o.value! }));
              const latest = data[data.length - 1];
              return (
                <Stack key={key} gap={4} data-indicator={key}>
                  <Group justify="space-between">
                    <Text fw={500}>{typeName(key, meta.data?.indicators.get(key))}</Text>
                    {latest && <Badge variant="light">{format.number(latest.value)}</Badge>}
                  </Group>
                  <LineChart
                    h={160}
                    data={data}
                    dataKey="date"
                    series={[{ name: 'value', label: typeName(key, meta.data?.indicators.get(key)), color: 'indigo.7' }]}
                    curveType="monotone"
                    withLegend={false}
                    valueFormatter={(v) => format.number(v)}
                  />
                </Stack>
              );
            })}
          </Stack>
          <Stack>
            <Title order={3} size="h5">
              {t('indicators.qualitative')}
            </Title>
            {qualitative.length === 0 && <Text c="dimmed">{t('indicators.noneOfKind')}</Text>}
            {qualitative.map(([key, list]) => {
              const scale = meta.data?.indicators.get(key)?.scale;
              const levels = scale && 'levels' in scale ? scale.levels : [...new Set(list.map((o) => o.label).filter((l): l is string => !!l))];
              const data = levels.map((level) => ({ level: levelName(level), count: list.filter((o) => o.label === level).length }));
              const latest = [...list].sort((a, b) => b.observedAt.localeCompare(a.observedAt))[0];
              return (
                <Stack key={key} gap={4} data-indicator={key}>
                  <Group justify="space-between">
                    <Text fw={500}>{typeName(key, meta.data?.indicators.get(key))}</Text>
                    {latest?.label && <Badge variant="light">{levelName(latest.label)}</Badge>}
                  </Group>
                  <BarChart
                    h={160}
                    data={data}
                    dataKey="level"
                    series={[{ name: 'count', label: t('indicators.count'), color: 'teal.8' }]}
                    withLegend={false}
                    valueFormatter={(v) => format.number(v)}
                  />
                </Stack>
              );
            })}
          </Stack>
        </SimpleGrid>
      )}
    </Card>
  );
}
