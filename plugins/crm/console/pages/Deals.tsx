import { useState } from 'react';
import { Anchor, Badge, Button, Group, Select, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, ok, PageLink, useClient, useCrmT } from '../lib.js';
import { useAccountNames, usePipelines } from './PipelineBoard.js';

type Status = 'open' | 'won' | 'lost';
interface Filters {
  pipelineId?: string;
  status?: Status;
}

/** The deal list with its filters, and the caller's saved views of it. */
export default function Deals() {
  const t = useCrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const principal = usePrincipal();
  const pipelines = usePipelines();
  const accounts = useAccountNames();
  const [filters, setFilters] = useState<Filters>({});
  const [name, setName] = useState('');
  const deals = useQuery({
    queryKey: ['crm', 'deal-list', filters],
    queryFn: async () => ok(await client.GET('/api/v1/crm/deals', { params: { query: { ...filters, limit: 100 } } })).data,
  });
  const views = useQuery({ queryKey: ['crm', 'views'], queryFn: async () => ok(await client.GET('/api/v1/crm/views', { params: { query: { resource: 'deals' } } })).data });
  const save = useMutation({
    mutationFn: async () => ok(await client.POST('/api/v1/crm/views', { body: { resource: 'deals', name: name.trim(), filters } })),
    onSuccess: () => {
      setName('');
      return queryClient.invalidateQueries({ queryKey: ['crm', 'views'] });
    },
  });
  const remove = useMutation({
    mutationFn: async (id: string) => ok(await client.DELETE('/api/v1/crm/views/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['crm', 'views'] }),
  });
  const stages = new Map((pipelines.data ?? []).flatMap((p) => p.stages.map((s) => [s.id, s.name] as const)));

  return (
    <Stack>
      <Title order={1}>{t('deals.title')}</Title>
      <Group align="flex-end" wrap="wrap">
        <DataSelect
          label={t('deals.view')}
          placeholder={t('deals.noView')}
          clearable
          data={(views.data ?? []).map((v) => ({ value: v.id, label: v.name }))}
          onChange={(id) => setFilters((views.data?.find((v) => v.id === id)?.filters as Filters | undefined) ?? {})}
        />
        <DataSelect
          label={t('board.pipeline')}
          clearable
          data={(pipelines.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
          value={filters.pipelineId ?? null}
          onChange={(pipelineId) => setFilters({ ...filters, pipelineId: pipelineId ?? undefined })}
        />
        <Select
          label={t('deals.status')}
          clearable
          data={(['open', 'won', 'lost'] as const).map((s) => ({ value: s, label: t(`outcome.${s}`) }))}
          value={filters.status ?? null}
          onChange={(status) => setFilters({ ...filters, status: status ?? undefined })}
        />
      </Group>
      <Group align="flex-end" wrap="wrap">
        <TextInput label={t('deals.viewName')} value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={100} />
        <Button disabled={!name.trim()} loading={save.isPending} onClick={() => save.mutate()}>
          {t('deals.saveView')}
        </Button>
      </Group>
      {(views.data ?? []).length > 0 && (
        <Group gap="xs" wrap="wrap" role="group" aria-label={t('deals.savedViews')}>
          {views.data!.map((v) => (
            <Badge
              variant="light"
              c="dark.8"
              key={v.id}
              rightSection={
                <Anchor component="button" size="xs" aria-labelledby={`crm-view-del-${v.id} crm-view-${v.id}`} onClick={() => remove.mutate(v.id)}>
                  <VisuallyHidden id={`crm-view-del-${v.id}`}>{t('deals.deleteView')}</VisuallyHidden>×
                </Anchor>
              }
            >
              <span id={`crm-view-${v.id}`} translate="no">
                {v.name}
              </span>
            </Badge>
          ))}
        </Group>
      )}
      {save.error && <Failure error={save.error} />}
      {deals.isPending ? (
        <Loading />
      ) : deals.error ? (
        <Failure error={deals.error} />
      ) : deals.data.length === 0 ? (
        <Text c="gray.7">{t('deals.none')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('deals.deal')}</Table.Th>
                <Table.Th>{t('deal.account')}</Table.Th>
                <Table.Th>{t('deal.stage')}</Table.Th>
                <Table.Th>{t('deal.amount')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {deals.data.map((d) => (
                <Table.Tr key={d.id}>
                  <Table.Td translate="no">
                    <PageLink to={`/crm/deals/${d.id}`}>{d.title}</PageLink>
                  </Table.Td>
                  <Table.Td translate="no">{accounts.get(d.accountId) ?? ''}</Table.Td>
                  <Table.Td translate="no">{stages.get(d.stageId) ?? ''}</Table.Td>
                  <Table.Td translate="no">{format.money(d.amount, d.currency)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {!principal.can('crm.deals:all') && (
        <Text size="xs" c="gray.7">
          {t('deals.ownOnly')}
        </Text>
      )}
    </Stack>
  );
}
