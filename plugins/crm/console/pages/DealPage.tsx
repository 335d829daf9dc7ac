import { Badge, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useFormat } from '@rapport/console-sdk';
import { useParams } from 'react-router';
import { Failure, Loading, PageLink, ok, useClient, useCrmT } from '../lib.js';
import { useAccountNames, usePipelines } from './PipelineBoard.js';

/** One deal: its figures and the stage history, oldest first. */
export default function DealPage() {
  const t = useCrmT();
  const format = useFormat();
  const client = useClient();
  const id = useParams().id ?? '';
  const deal = useQuery({ queryKey: ['crm', 'deal', id], queryFn: async () => ok(await client.GET('/api/v1/crm/deals/{id}', { params: { path: { id } } })), enabled: !!id });
  const history = useQuery({
    queryKey: ['crm', 'deal', id, 'history'],
    queryFn: async () => ok(await client.GET('/api/v1/crm/deals/{id}/history', { params: { path: { id } } })).data,
    enabled: !!id,
  });
  const pipelines = usePipelines();
  const accounts = useAccountNames();

  if (!id) return <Failure error={{ status: 404 }} />;
  if (deal.isPending || history.isPending || pipelines.isPending) return <Loading />;
  if (deal.error || history.error || pipelines.error) return <Failure error={deal.error ?? history.error ?? pipelines.error} />;

  const stages = new Map(pipelines.data.flatMap((p) => p.stages.map((s) => [s.id, s.name] as const)));
  const d = deal.data;
  return (
    <Stack gap="md">
      <PageLink to="/crm/pipeline" size="sm">
        {t('deal.back')}
      </PageLink>
      <Group justify="space-between" wrap="wrap">
        <Title order={1} translate="no">
          {d.title}
        </Title>
        <Badge variant="light" c="dark.8" size="lg" color={d.status === 'won' ? 'green' : d.status === 'lost' ? 'gray' : 'blue'}>
          {t(`outcome.${d.status}`)}
        </Badge>
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Figure label={t('deal.amount')} value={format.money(d.amount, d.currency)} data />
        <Figure label={t('deal.stage')} value={stages.get(d.stageId) ?? '—'} testId="deal-stage" data />
        <Figure label={t('deal.account')} value={accounts.get(d.accountId) ?? '—'} data />
        <Figure label={t('deal.expectedClose')} value={d.expectedClose ? format.date(d.expectedClose) : '—'} />
        <Figure label={t('deal.closedAt')} value={d.closedAt ? format.date(d.closedAt) : '—'} />
        <Figure label={t('deal.version')} value={format.number(d.version)} />
      </SimpleGrid>
      <Title order={2} size="h3">
        {t('deal.history')}
      </Title>
      <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
        <Table striped data-testid="stage-history">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('deal.when')}</Table.Th>
              <Table.Th>{t('deal.from')}</Table.Th>
              <Table.Th>{t('deal.to')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {history.data.map((change) => (
              <Table.Tr key={change.id}>
                <Table.Td>{format.dateTime(change.changedAt)}</Table.Td>
                {change.fromStageId ? <Table.Td translate="no">{stages.get(change.fromStageId) ?? '—'}</Table.Td> : <Table.Td>{t('deal.opened')}</Table.Td>}
                <Table.Td translate="no">{stages.get(change.toStageId) ?? '—'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

function Figure({ label, value, testId, data }: { label: string; value: string; testId?: string; data?: boolean }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="gray.7">
        {label}
      </Text>
      <Text fw={600} data-testid={testId} translate={data ? 'no' : undefined}>
        {value}
      </Text>
    </Card>
  );
}
