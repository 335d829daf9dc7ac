import { Alert, Badge, Card, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { LineChart } from '@mantine/charts';
import { useQueries, useQuery } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { Failure, Loading, Sentence, ok, slots, statusOf, useClient, useHrmT } from '../lib.js';
import { useMe } from './MySpace.js';

/** The manager's team: the reports, the eNPS trend of the team (hidden under the anonymity threshold), upward feedback and retention risk. */
export default function Team() {
  const t = useHrmT();
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.error) return statusOf(me.error) === 404 ? <Text>{t('me.notEmployee')}</Text> : <Failure error={me.error} />;
  return (
    <Stack>
      <Title order={1}>{t('team.title')}</Title>
      <EnpsTrend managerId={me.data.id} />
      <UpwardFeedback managerId={me.data.id} />
      <Reports reportIds={me.data.reportIds} />
    </Stack>
  );
}

function EnpsTrend({ managerId }: { managerId: string }) {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const trend = useQuery({
    queryKey: ['hrm', 'engagement', 'manager', managerId],
    queryFn: async () => ok(await client.GET('/api/v1/hrm/engagement/managers/{id}', { params: { path: { id: managerId }, query: { limit: 24 } } })).data,
  });
  if (trend.isPending) return <Loading />;
  if (trend.error) return <Failure error={trend.error} />;
  // Oldest first, as the API answers; a suppressed survey is a gap in the line, never a number.
  const points = trend.data;
  const series = t('team.enps');
  const shown = points.filter((p) => !p.suppressed && p.enps !== null);
  return (
    <Card withBorder component="section" aria-labelledby="hrm-enps">
      <Title order={2} size="h3" id="hrm-enps">
        {t('team.enpsTitle')}
      </Title>
      <Text size="sm" c="gray.7">
        {t('team.enpsIntro')}
      </Text>
      {points.length === 0 ? (
        <Text mt="md">{t('team.noSurveys')}</Text>
      ) : (
        <>
          {shown.length > 1 && (
            <LineChart
              mt="md"
              h={220}
              data={points.map((p) => ({ survey: p.title, [series]: p.suppressed ? null : p.enps }))}
              dataKey="survey"
              series={[{ name: series, color: 'indigo.6' }]}
              yAxisProps={{ domain: [-100, 100] }}
              connectNulls={false}
            />
          )}
          <Table mt="md" data-testid="enps-trend">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('team.survey')}</Table.Th>
                <Table.Th>{t('team.closed')}</Table.Th>
                <Table.Th>{t('team.enps')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {trend.data.map((p) => (
                <Table.Tr key={p.surveyId}>
                  <Table.Td translate="no">{p.title}</Table.Td>
                  <Table.Td>{format.date(p.closedAt)}</Table.Td>
                  <Table.Td>
                    {p.suppressed || p.enps === null ? (
                      <Badge variant="light" c="dark.8" color="gray" data-testid="enps-suppressed">
                        {t('team.notEnough')}
                      </Badge>
                    ) : (
                      <Text fw={600} data-testid="enps-value">
                        {format.number(p.enps)}
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
    </Card>
  );
}

function UpwardFeedback({ managerId }: { managerId: string }) {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const can = usePrincipal().can('hrm.reviews:read');
  const cycles = useQuery({
    queryKey: ['hrm', 'review-cycles', 'closed'],
    enabled: can,
    queryFn: async () => ok(await client.GET('/api/v1/hrm/review-cycles', { params: { query: { status: 'closed', limit: 1 } } })).data,
  });
  const cycle = cycles.data?.[0];
  const feedback = useQuery({
    queryKey: ['hrm', 'feedback', cycle?.id, managerId],
    enabled: !!cycle,
    queryFn: async () => ok(await client.GET('/api/v1/hrm/review-cycles/{id}/feedback/{employeeId}', { params: { path: { id: cycle!.id, employeeId: managerId } } })),
  });
  const scores = useQuery({
    queryKey: ['hrm', 'scores', cycle?.id, managerId],
    enabled: !!cycle,
    queryFn: async () => ok(await client.GET('/api/v1/hrm/review-cycles/{id}/scores/{employeeId}', { params: { path: { id: cycle!.id, employeeId: managerId } } })),
  });
  if (!can) return null;
  const body = () => {
    if (cycles.isPending) return <Loading />;
    if (cycles.error) return <Failure error={cycles.error} />;
    if (!cycle) return <Text>{t('team.noCycle')}</Text>;
    if (feedback.isPending || scores.isPending) return <Loading />;
    if (feedback.error || scores.error) return <Failure error={feedback.error ?? scores.error} />;
    const upward = scores.data.byKind.upward;
    if (feedback.data.upward.suppressed || upward?.suppressed)
      return (
        <Badge variant="light" c="dark.8" color="gray">
          {t('team.notEnough')}
        </Badge>
      );
    // Only the group's figures and its comments, sorted by the API: nothing tells one reviewer's answer from another's.
    return (
      <Stack gap="xs">
        <Text>
          <Sentence
            text={t('team.upwardScore', slots('score', 'cycle'))}
            values={{ score: upward?.score === null || upward?.score === undefined ? '—' : format.number(Math.round(upward.score)), cycle: <span translate="no">{cycle.name}</span> }}
          />
        </Text>
        <Text size="sm" c="gray.7">
          {t('team.upwardReviews', { n: format.number(upward?.reviews ?? 0) })}
        </Text>
        {feedback.data.upward.feedback.map((f, i) => (
          <Text key={i} size="sm" translate="no">
            “{f}”
          </Text>
        ))}
      </Stack>
    );
  };
  return (
    <Card withBorder component="section" aria-labelledby="hrm-upward">
      <Title order={2} size="h3" id="hrm-upward" mb="xs">
        {t('team.upward')}
      </Title>
      {body()}
    </Card>
  );
}

function Reports({ reportIds }: { reportIds: string[] }) {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const canRisk = usePrincipal().can('hrm.retention:read');
  const people = useQueries({
    queries: reportIds.map((id) => ({ queryKey: ['hrm', 'employee', id], queryFn: async () => ok(await client.GET('/api/v1/hrm/employees/{id}', { params: { path: { id } } })) })),
  });
  const risks = useQueries({
    queries: reportIds.map((id) => ({
      queryKey: ['hrm', 'retention', id],
      enabled: canRisk,
      queryFn: async () => ok(await client.GET('/api/v1/hrm/employees/{id}/retention-risk', { params: { path: { id } } })),
    })),
  });
  return (
    <Card withBorder component="section" aria-labelledby="hrm-reports">
      <Title order={2} size="h3" id="hrm-reports">
        {t('team.reports')}
      </Title>
      {reportIds.length === 0 && <Text mt="xs">{t('team.noReports')}</Text>}
      <SimpleGrid cols={{ base: 1, md: 2 }} mt="sm">
        {reportIds.map((id, i) => {
          const person = people[i];
          const risk = risks[i];
          return (
            <Card key={id} withBorder padding="sm">
              <Group justify="space-between" wrap="wrap">
                <Text fw={600} translate="no">
                  {person?.data?.name ?? '…'}
                </Text>
                {risk?.data && (
                  <Badge variant="light" c="dark.8" color={risk.data.level === 'high' ? 'red' : risk.data.level === 'medium' ? 'orange' : 'green'}>
                    {t('team.risk', { level: t(`team.level.${risk.data.level}`), score: format.number(Math.round(risk.data.score)) })}
                  </Badge>
                )}
              </Group>
              {risk?.error ? <Alert color="gray">{t('team.noRisk')}</Alert> : null}
              {risk?.data && (
                <Stack gap={4} mt="xs">
                  {risk.data.factors.map((f) => (
                    <div key={f.key}>
                      <Group justify="space-between">
                        <Text size="xs">{t(`factor.${f.key}`)}</Text>
                        <Text size="xs">{t('team.points', { n: format.number(Math.round(f.contribution * 10) / 10), of: format.number(f.weight) })}</Text>
                      </Group>
                      <Progress size="sm" value={f.weight > 0 ? (f.contribution / f.weight) * 100 : 0} aria-label={t(`factor.${f.key}`)} />
                    </div>
                  ))}
                </Stack>
              )}
            </Card>
          );
        })}
      </SimpleGrid>
    </Card>
  );
}
