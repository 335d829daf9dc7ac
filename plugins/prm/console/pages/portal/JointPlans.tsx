import { useState } from 'react';
import { Alert, Badge, Button, Card, Group, NumberInput, Select, SimpleGrid, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { Failure, Loading, ok, statusOf, useClient, usePrmT } from '../../lib.js';

/** Joint business plans, edited by both sides: each edit sends the version it read (If-Match), so neither side overwrites the other. */
export function JointPlans({ partnerId }: { partnerId: string }) {
  const t = usePrmT();
  const client = useClient();
  const queryClient = useQueryClient();
  const canWrite = usePrincipal().can('prm.plans:write');
  const plans = useQuery({ queryKey: ['prm', 'plans', partnerId], queryFn: async () => ok(await client.GET('/api/v1/prm/plans', { params: { query: { limit: 100 } } })).data });
  const [open, setOpen] = useState<string | null>(null);
  const [draft, setDraft] = useState({ title: '', period: '' });
  const create = useMutation({
    mutationFn: async () => ok(await client.POST('/api/v1/prm/plans', { body: { partnerId, title: draft.title.trim(), period: draft.period.trim() } })),
    onSuccess: (plan) => {
      setDraft({ title: '', period: '' });
      setOpen(plan.id);
      return queryClient.invalidateQueries({ queryKey: ['prm', 'plans'] });
    },
  });
  if (plans.isPending) return <Loading />;
  if (plans.error) return <Failure error={plans.error} />;
  const mine = plans.data.filter((p) => p.partnerId === partnerId);
  return (
    <Stack>
      <Title order={2} size="h3">
        {t('plans.title')}
      </Title>
      {mine.length === 0 && <Text c="gray.7">{t('plans.none')}</Text>}
      {mine.map((p) => (
        <Card key={p.id} withBorder>
          <Group justify="space-between" wrap="wrap">
            <Text fw={600} translate="no">
              {p.title} · {p.period}
            </Text>
            <Group gap="xs">
              <Badge variant="light" c="dark.8">
                {t(`plans.status.${p.status}`)}
              </Badge>
              <Button size="compact-sm" variant="default" aria-expanded={open === p.id} onClick={() => setOpen(open === p.id ? null : p.id)}>
                {open === p.id ? t('plans.close') : t('plans.open')}
              </Button>
            </Group>
          </Group>
          {open === p.id && <PlanDetail planId={p.id} />}
        </Card>
      ))}
      {canWrite && (
        <Group align="flex-end" wrap="wrap">
          <TextInput label={t('plans.newTitle')} value={draft.title} onChange={(e) => setDraft({ ...draft, title: e.currentTarget.value })} maxLength={300} />
          <TextInput label={t('plans.period')} placeholder="2027" value={draft.period} onChange={(e) => setDraft({ ...draft, period: e.currentTarget.value })} maxLength={50} />
          <Button disabled={!draft.title.trim() || !draft.period.trim()} loading={create.isPending} onClick={() => create.mutate()}>
            {t('plans.create')}
          </Button>
        </Group>
      )}
      {create.error && <Failure error={create.error} />}
    </Stack>
  );
}

function PlanDetail({ planId }: { planId: string }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const canWrite = usePrincipal().can('prm.plans:write');
  const key = ['prm', 'plan', planId];
  const plan = useQuery({ queryKey: key, queryFn: async () => ok(await client.GET('/api/v1/prm/plans/{id}', { params: { path: { id: planId } } })) });
  const [conflict, setConflict] = useState(false);
  const [item, setItem] = useState({ kind: 'goal' as 'goal' | 'milestone', title: '', target: '' as number | string, unit: '' });
  const onError = (error: unknown) => {
    if (statusOf(error) === 412) setConflict(true);
    return queryClient.invalidateQueries({ queryKey: key });
  };
  const add = useMutation({
    mutationFn: async (version: number) =>
      ok(
        await client.POST('/api/v1/prm/plans/{id}/items', {
          params: { path: { id: planId } },
          headers: { 'If-Match': `"${version}"` },
          body: { kind: item.kind, title: item.title.trim(), target: item.target === '' ? undefined : Number(item.target), unit: item.unit.trim() || undefined },
        }),
      ),
    onSuccess: (detail) => {
      setConflict(false);
      setItem({ kind: 'goal', title: '', target: '', unit: '' });
      queryClient.setQueryData(key, detail);
    },
    onError,
  });
  const update = useMutation({
    mutationFn: async ({ itemId, version, body }: { itemId: string; version: number; body: { actual?: number | null; status?: 'open' | 'done' | 'dropped' } }) =>
      ok(await client.PATCH('/api/v1/prm/plans/{id}/items/{itemId}', { params: { path: { id: planId, itemId } }, headers: { 'If-Match': `"${version}"` }, body })),
    onSuccess: (detail) => {
      setConflict(false);
      queryClient.setQueryData(key, detail);
    },
    onError,
  });
  if (plan.isPending) return <Loading />;
  if (plan.error) return <Failure error={plan.error} />;
  const p = plan.data;
  return (
    <Stack mt="sm">
      {conflict && (
        <Alert color="orange" role="alert" title={t('plans.conflictTitle')}>
          {t('plans.conflict')}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('plans.item')}</Table.Th>
              <Table.Th>{t('plans.target')}</Table.Th>
              <Table.Th>{t('plans.actual')}</Table.Th>
              <Table.Th>{t('plans.itemStatusLabel')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {p.items.map((i) => (
              <Table.Tr key={i.id}>
                <Table.Td>
                  <VisuallyHidden id={`prm-item-actual-${i.id}`}>{t('plans.actualOf')}</VisuallyHidden>
                  <VisuallyHidden id={`prm-item-status-${i.id}`}>{t('plans.statusOf')}</VisuallyHidden>
                  <span id={`prm-item-${i.id}`} translate="no">
                    {i.title}
                  </span>{' '}
                  <Badge variant="light" c="dark.8" size="xs">
                    {t(`plans.kind.${i.kind}`)}
                  </Badge>
                </Table.Td>
                <Table.Td translate="no">{i.target === null ? '—' : `${format.number(i.target)} ${i.unit ?? ''}`}</Table.Td>
                <Table.Td>
                  {canWrite ? (
                    <NumberInput
                      size="xs"
                      w={110}
                      aria-labelledby={`prm-item-actual-${i.id} prm-item-${i.id}`}
                      defaultValue={i.actual ?? ''}
                      onBlur={(e) => {
                        const value = e.currentTarget.value.trim() === '' ? null : Number(e.currentTarget.value.replace(/[^\d.-]/g, ''));
                        if (value !== i.actual) update.mutate({ itemId: i.id, version: i.version, body: { actual: value } });
                      }}
                    />
                  ) : i.actual === null ? (
                    '—'
                  ) : (
                    format.number(i.actual)
                  )}
                </Table.Td>
                <Table.Td>
                  {canWrite ? (
                    <Select
                      size="xs"
                      w={120}
                      aria-labelledby={`prm-item-status-${i.id} prm-item-${i.id}`}
                      data={(['open', 'done', 'dropped'] as const).map((s) => ({ value: s, label: t(`plans.itemStatus.${s}`) }))}
                      value={i.status}
                      allowDeselect={false}
                      onChange={(status) => status && update.mutate({ itemId: i.id, version: i.version, body: { status: status } })}
                    />
                  ) : (
                    t(`plans.itemStatus.${i.status}`)
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {canWrite && (
        <SimpleGrid cols={{ base: 1, sm: 5 }}>
          <Select
            label={t('plans.kindLabel')}
            data={(['goal', 'milestone'] as const).map((k) => ({ value: k, label: t(`plans.kind.${k}`) }))}
            value={item.kind}
            allowDeselect={false}
            onChange={(kind) => setItem({ ...item, kind: (kind as 'goal' | 'milestone') ?? 'goal' })}
          />
          <TextInput label={t('plans.item')} value={item.title} onChange={(e) => setItem({ ...item, title: e.currentTarget.value })} maxLength={500} />
          <NumberInput label={t('plans.target')} value={item.target} onChange={(target) => setItem({ ...item, target })} />
          <TextInput label={t('plans.unit')} value={item.unit} onChange={(e) => setItem({ ...item, unit: e.currentTarget.value })} maxLength={50} />
          <Button mt={{ sm: 24 }} disabled={!item.title.trim()} onClick={() => add.mutate(p.version)}>
            {t('plans.addItem')}
          </Button>
        </SimpleGrid>
      )}
      <Title order={3} size="h5">
        {t('plans.edits')}
      </Title>
      <Stack gap={2}>
        {p.edits.map((e) => (
          <Text key={e.id} size="xs">
            {format.dateTime(e.at)} · {t(`plans.side.${e.side}`)} · {t(`plans.action.${e.action}`)}
          </Text>
        ))}
      </Stack>
    </Stack>
  );
}
