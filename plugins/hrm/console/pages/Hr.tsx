import { useState } from 'react';
import { Badge, Card, Group, Progress, SimpleGrid, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useFormat } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, ok, useClient, useHrmT } from '../lib.js';
import { useUnits } from './MySpace.js';

function useEmployees() {
  const client = useClient();
  return useQuery({ queryKey: ['hrm', 'employees', 'active'], queryFn: async () => ok(await client.GET('/api/v1/hrm/employees', { params: { query: { status: 'active', limit: 200 } } })).data });
}

/** HR's pages: review cycles and scores, recruiting by stage, onboarding checklists. */
export default function Hr() {
  const t = useHrmT();
  return (
    <Stack>
      <Title order={1}>{t('hr.title')}</Title>
      <Tabs defaultValue="reviews" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="reviews">{t('hr.reviews')}</Tabs.Tab>
          <Tabs.Tab value="recruiting">{t('hr.recruiting')}</Tabs.Tab>
          <Tabs.Tab value="onboarding">{t('hr.onboarding')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="reviews" pt="md">
          <Reviews />
        </Tabs.Panel>
        <Tabs.Panel value="recruiting" pt="md">
          <Recruiting />
        </Tabs.Panel>
        <Tabs.Panel value="onboarding" pt="md">
          <Onboarding />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function Reviews() {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const cycles = useQuery({ queryKey: ['hrm', 'review-cycles'], queryFn: async () => ok(await client.GET('/api/v1/hrm/review-cycles', { params: { query: { limit: 50 } } })).data });
  const employees = useEmployees();
  const [cycleId, setCycleId] = useState<string | null>(null);
  const [employeeId, setEmployeeId] = useState<string | null>(null);
  const cycle = cycles.data?.find((c) => c.id === cycleId) ?? cycles.data?.[0];
  const scores = useQuery({
    queryKey: ['hrm', 'scores', cycle?.id, employeeId],
    enabled: !!cycle && !!employeeId,
    queryFn: async () => ok(await client.GET('/api/v1/hrm/review-cycles/{id}/scores/{employeeId}', { params: { path: { id: cycle!.id, employeeId: employeeId! } } })),
  });
  if (cycles.isPending || employees.isPending) return <Loading />;
  if (cycles.error || employees.error) return <Failure error={cycles.error ?? employees.error} />;
  if (!cycle) return <Text c="gray.7">{t('hr.noCycles')}</Text>;
  const score = (v: number | null | undefined) => (v === null || v === undefined ? '—' : format.number(Math.round(v * 10) / 10));
  return (
    <Stack>
      <Group wrap="wrap" align="flex-end">
        <DataSelect label={t('hr.cycle')} data={cycles.data.map((c) => ({ value: c.id, label: c.name }))} value={cycle.id} onChange={setCycleId} allowDeselect={false} />
        <DataSelect label={t('hr.employee')} searchable data={employees.data.map((e) => ({ value: e.id, label: e.name }))} value={employeeId} onChange={setEmployeeId} />
        <Badge variant="light" c="dark.8">
          {cycle.closedAt ? t('hr.closed', { date: format.date(cycle.closedAt) }) : t('hr.open')}
        </Badge>
      </Group>
      {/* The competencies and levels are the cycle's own words. */}
      <Text size="sm">
        {t('hr.competenciesLabel')} <span translate="no">{cycle.competencies.join(', ')}</span> · {t('hr.scaleLabel')} <span translate="no">{cycle.scale.levels.join(' · ')}</span>
      </Text>
      {employeeId &&
        (scores.isPending ? (
          <Loading />
        ) : scores.error ? (
          <Failure error={scores.error} />
        ) : (
          <SimpleGrid cols={{ base: 2, sm: 4 }}>
            <Figure label={t('hr.goalScore')} value={score(scores.data.goalScore)} />
            <Figure label={t('hr.competencyScore')} value={score(scores.data.competencyScore)} />
            <Figure label={t('hr.final')} value={score(scores.data.final)} />
            <Figure label={t('hr.upward')} value={scores.data.byKind.upward?.suppressed ? t('team.notEnough') : score(scores.data.byKind.upward?.score)} />
          </SimpleGrid>
        ))}
    </Stack>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="gray.7">
        {label}
      </Text>
      <Text fw={600}>{value}</Text>
    </Card>
  );
}

function Recruiting() {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const units = useUnits();
  const openings = useQuery({ queryKey: ['hrm', 'openings'], queryFn: async () => ok(await client.GET('/api/v1/hrm/openings', { params: { query: { status: 'open', limit: 100 } } })).data });
  const candidates = useQuery({ queryKey: ['hrm', 'candidates'], queryFn: async () => ok(await client.GET('/api/v1/hrm/candidates', { params: { query: { limit: 200 } } })).data });
  if (openings.isPending || candidates.isPending || units.isPending) return <Loading />;
  if (openings.error || candidates.error || units.error) return <Failure error={openings.error ?? candidates.error ?? units.error} />;
  if (openings.data.length === 0) return <Text c="gray.7">{t('hr.noOpenings')}</Text>;
  return (
    <Stack>
      {openings.data.map((o) => {
        const mine = candidates.data.filter((c) => c.openingId === o.id);
        return (
          <Card key={o.id} withBorder component="article" aria-labelledby={`hrm-opening-${o.id}`}>
            <Group justify="space-between" wrap="wrap">
              <Text fw={600} id={`hrm-opening-${o.id}`} translate="no">
                {o.title}
              </Text>
              <Text size="sm" c="gray.7" translate="no">
                {units.data.find((u) => u.id === o.unitId)?.name ?? ''}
              </Text>
            </Group>
            {mine.length === 0 ? (
              <Text size="sm" c="gray.7">
                {t('hr.noCandidates')}
              </Text>
            ) : (
              <Table mt="xs">
                <Table.Tbody>
                  {mine.map((c) => (
                    <Table.Tr key={c.id}>
                      <Table.Td translate="no">{c.candidateName}</Table.Td>
                      <Table.Td>
                        <Badge variant="light" c="dark.8">
                          {t(`stage.${c.stage}`, { defaultValue: c.stage })}
                        </Badge>
                      </Table.Td>
                      <Table.Td>{format.date(c.appliedAt)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Card>
        );
      })}
    </Stack>
  );
}

function Onboarding() {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const employees = useEmployees();
  const [employeeId, setEmployeeId] = useState<string | null>(null);
  const checklist = useQuery({
    queryKey: ['hrm', 'onboarding', employeeId],
    enabled: !!employeeId,
    queryFn: async () => ok(await client.GET('/api/v1/hrm/employees/{id}/onboarding', { params: { path: { id: employeeId! } } })),
  });
  if (employees.isPending) return <Loading />;
  if (employees.error) return <Failure error={employees.error} />;
  return (
    <Stack>
      <DataSelect label={t('hr.employee')} w={280} searchable data={employees.data.map((e) => ({ value: e.id, label: e.name }))} value={employeeId} onChange={setEmployeeId} />
      {employeeId &&
        (checklist.isPending ? (
          <Loading />
        ) : checklist.error ? (
          <Failure error={checklist.error} />
        ) : checklist.data.total === 0 ? (
          <Text c="gray.7">{t('hr.noChecklist')}</Text>
        ) : (
          <Stack gap="xs">
            <Text>{t('hr.progress', { done: format.number(checklist.data.done), total: format.number(checklist.data.total), overdue: format.number(checklist.data.overdue) })}</Text>
            <Progress value={(checklist.data.done / checklist.data.total) * 100} aria-label={t('hr.onboarding')} />
            {checklist.data.items.map((i) => (
              <Group key={i.id} justify="space-between" wrap="wrap">
                <Text size="sm" translate="no">
                  {i.title}
                </Text>
                <Group gap="xs">
                  <Badge variant="light" c="dark.8">
                    {t(`owner.${i.owner}`)}
                  </Badge>
                  {i.doneAt ? (
                    <Badge variant="light" c="dark.8" color="green">
                      {t('hr.done')}
                    </Badge>
                  ) : i.overdue ? (
                    <Badge variant="light" c="dark.8" color="red">
                      {t('hr.overdue')}
                    </Badge>
                  ) : (
                    <Text size="xs">{format.date(i.dueAt)}</Text>
                  )}
                </Group>
              </Group>
            ))}
          </Stack>
        ))}
    </Stack>
  );
}
