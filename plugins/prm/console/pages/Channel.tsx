import { useState } from 'react';
import { Badge, Button, Card, Group, Select, Stack, Table, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { Failure, Loading, ok, useClient, usePrmT } from '../lib.js';
import { Scorecard, TierStanding, usePartnerships } from './Portal.js';
import { RegistrationTable } from './portal/Registrations.js';

/** The firm's channel: partners by status, registrations and MDF requests to decide, and each partner's standing. */
export default function Channel() {
  const t = usePrmT();
  const partnerships = usePartnerships();
  const [partnerId, setPartnerId] = useState<string | null>(null);
  if (partnerships.isPending) return <Loading />;
  if (partnerships.error) return <Failure error={partnerships.error} />;
  const chosen = partnerships.data.find((p) => p.partnerId === partnerId);
  return (
    <Stack>
      <Title order={1}>{t('channel.title')}</Title>
      <Tabs defaultValue="partners" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="partners">{t('channel.partners')}</Tabs.Tab>
          <Tabs.Tab value="registrations">{t('portal.tab.registrations')}</Tabs.Tab>
          <Tabs.Tab value="mdf">{t('portal.tab.mdf')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="partners" pt="md">
          <Stack>
            <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('channel.partner')}</Table.Th>
                    <Table.Th>{t('channel.status')}</Table.Th>
                    <Table.Th>{t('channel.tier')}</Table.Th>
                    <Table.Th>{t('channel.details')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {partnerships.data.map((p) => (
                    <Table.Tr key={p.relationship.id}>
                      <Table.Td translate="no">{p.name}</Table.Td>
                      <Table.Td>
                        <Badge variant="light" c="dark.8">
                          {t(`partnerStatus.${p.relationship.status}`)}
                        </Badge>
                      </Table.Td>
                      <Table.Td translate="no">{typeof p.relationship.attributes.tier === 'string' ? p.relationship.attributes.tier : '—'}</Table.Td>
                      <Table.Td>
                        {p.relationship.status === 'active' && (
                          <Button size="compact-sm" variant="default" aria-pressed={partnerId === p.partnerId} onClick={() => setPartnerId(p.partnerId)}>
                            {t('channel.show', { partner: p.name })}
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {chosen && (
              <>
                <Title order={2} size="h3" translate="no">
                  {chosen.name}
                </Title>
                <TierStanding partnerId={chosen.partnerId} />
                <Scorecard partnerId={chosen.partnerId} />
              </>
            )}
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="registrations" pt="md">
          <Decisions names={new Map(partnerships.data.map((p) => [p.partnerId, p.name]))} />
        </Tabs.Panel>
        <Tabs.Panel value="mdf" pt="md">
          <MdfDecisions names={new Map(partnerships.data.map((p) => [p.partnerId, p.name]))} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function Decisions({ names }: { names: Map<string, string> }) {
  const t = usePrmT();
  const client = useClient();
  const queryClient = useQueryClient();
  const canDecide = usePrincipal().can('prm.registrations:decide');
  const [status, setStatus] = useState<string | null>('submitted');
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const list = useQuery({
    queryKey: ['prm', 'registrations', 'all', status],
    queryFn: async () => ok(await client.GET('/api/v1/prm/registrations', { params: { query: { status: (status ?? undefined) as 'submitted' | undefined, limit: 200 } } })).data,
  });
  const decide = useMutation({
    mutationFn: async ({ id, verdict }: { id: string; verdict: 'approve' | 'reject' }) =>
      verdict === 'approve'
        ? ok(await client.POST('/api/v1/prm/registrations/{id}/approve', { params: { path: { id } }, body: reasons[id]?.trim() ? { reason: reasons[id].trim() } : {} }))
        : ok(await client.POST('/api/v1/prm/registrations/{id}/reject', { params: { path: { id } }, body: { reason: reasons[id].trim() } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['prm', 'registrations'] }),
  });
  return (
    <Stack>
      <Select
        label={t('reg.statusLabel')}
        w={220}
        clearable
        data={(['submitted', 'approved', 'rejected', 'expired'] as const).map((s) => ({ value: s, label: t(`reg.status.${s}`) }))}
        value={status}
        onChange={setStatus}
      />
      {decide.error && <Failure error={decide.error} />}
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <Failure error={list.error} />
      ) : (
        <RegistrationTable
          registrations={list.data.map((r) => ({ ...r, customerName: `${r.customerName} (${names.get(r.partnerId) ?? ''})` }))}
          actions={
            canDecide
              ? (r) =>
                  r.status === 'submitted' && (
                    <Group gap="xs" wrap="wrap" align="flex-end">
                      <TextInput
                        size="xs"
                        aria-label={t('reg.reasonFor')}
                        placeholder={t('reg.reasonPlaceholder')}
                        value={reasons[r.id] ?? ''}
                        onChange={(e) => setReasons({ ...reasons, [r.id]: e.currentTarget.value })}
                      />
                      <Button size="xs" onClick={() => decide.mutate({ id: r.id, verdict: 'approve' })}>
                        {t('reg.approve')}
                      </Button>
                      <Button size="xs" variant="default" disabled={!reasons[r.id]?.trim()} onClick={() => decide.mutate({ id: r.id, verdict: 'reject' })}>
                        {t('reg.reject')}
                      </Button>
                    </Group>
                  )
              : undefined
          }
        />
      )}
    </Stack>
  );
}

function MdfDecisions({ names }: { names: Map<string, string> }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const canDecide = usePrincipal().can('prm.mdf:decide');
  const requests = useQuery({ queryKey: ['prm', 'mdf', 'requests', 'all'], queryFn: async () => ok(await client.GET('/api/v1/prm/mdf/requests', { params: { query: { limit: 200 } } })).data });
  const act = useMutation({
    mutationFn: async ({ id, action }: { id: string; action: 'approve' | 'pay' }) =>
      action === 'approve'
        ? ok(await client.POST('/api/v1/prm/mdf/requests/{id}/approve', { params: { path: { id } }, body: {} }))
        : ok(await client.POST('/api/v1/prm/mdf/requests/{id}/pay', { params: { path: { id } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['prm', 'mdf'] }),
  });
  if (requests.isPending) return <Loading />;
  if (requests.error) return <Failure error={requests.error} />;
  if (requests.data.length === 0) return <Text c="gray.7">{t('mdf.noRequests')}</Text>;
  return (
    <Stack>
      {act.error && <Failure error={act.error} />}
      {requests.data.map((r) => (
        <Card key={r.id} withBorder>
          <Group justify="space-between" wrap="wrap">
            <Text>
              {names.get(r.partnerId) ?? ''} · {r.activity} · {format.number(r.amount)}
            </Text>
            <Group gap="xs">
              <Badge variant="light" c="dark.8">
                {t(`mdf.status.${r.status}`)}
              </Badge>
              {canDecide && r.status === 'requested' && (
                <Button size="xs" onClick={() => act.mutate({ id: r.id, action: 'approve' })}>
                  {t('reg.approve')}
                </Button>
              )}
              {canDecide && r.status === 'claimed' && (
                <Button size="xs" onClick={() => act.mutate({ id: r.id, action: 'pay' })}>
                  {t('mdf.pay')}
                </Button>
              )}
            </Group>
          </Group>
        </Card>
      ))}
    </Stack>
  );
}
