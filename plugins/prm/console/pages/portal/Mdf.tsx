import { useState } from 'react';
import { Badge, Button, Card, Group, NumberInput, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, ok, useClient, usePrmT } from '../../lib.js';

/** Market development funds: the program's budgets, the partner's requests, a new request, and the claim of an approved one. */
export function Mdf({ partnerId }: { partnerId: string }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const canWrite = usePrincipal().can('prm.mdf:write');
  const budgets = useQuery({ queryKey: ['prm', 'mdf', 'budgets'], queryFn: async () => ok(await client.GET('/api/v1/prm/mdf/budgets', { params: { query: { limit: 100 } } })).data });
  const requests = useQuery({
    queryKey: ['prm', 'mdf', 'requests', partnerId],
    queryFn: async () => ok(await client.GET('/api/v1/prm/mdf/requests', { params: { query: { partnerId, limit: 100 } } })).data,
  });
  const [draft, setDraft] = useState({ budgetId: null as string | null, activity: '', amount: 0 as number | string });
  const [claims, setClaims] = useState<Record<string, { amount: number | string; proof: string }>>({});
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['prm', 'mdf'] });
  const request = useMutation({
    mutationFn: async () => ok(await client.POST('/api/v1/prm/mdf/requests', { body: { budgetId: draft.budgetId!, partnerId, activity: draft.activity.trim(), amount: Number(draft.amount) } })),
    onSuccess: () => {
      setDraft({ budgetId: null, activity: '', amount: 0 });
      return refresh();
    },
  });
  const claim = useMutation({
    mutationFn: async (id: string) =>
      ok(await client.POST('/api/v1/prm/mdf/requests/{id}/claim', { params: { path: { id } }, body: { amount: Number(claims[id].amount), proof: claims[id].proof.trim() } })),
    onSuccess: refresh,
  });
  if (budgets.isPending || requests.isPending) return <Loading />;
  if (budgets.error || requests.error) return <Failure error={budgets.error ?? requests.error} />;
  const budgetName = new Map(budgets.data.map((b) => [b.id, `${b.program} ${b.period}`]));
  return (
    <Stack>
      <Title order={2} size="h3">
        {t('mdf.budgets')}
      </Title>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {budgets.data.map((b) => (
          <Card key={b.id} withBorder>
            <Text fw={600} translate="no">
              {budgetName.get(b.id)}
            </Text>
            {/* A partner sees what is left only where the program shares it; otherwise its own figures. */}
            {b.remaining !== null ? (
              <Text size="sm" data-testid="mdf-remaining">
                {t('mdf.remaining')} <span translate="no">{format.money(b.remaining, b.currency)}</span> / <span translate="no">{format.money(b.amount, b.currency)}</span>
              </Text>
            ) : (
              <Text size="sm">
                {t('mdf.budgetAmount')} <span translate="no">{format.money(b.amount, b.currency)}</span>
              </Text>
            )}
            {b.own && (
              <Text size="sm" data-testid="mdf-own">
                {t('mdf.own', { requested: format.money(b.own.requested, b.currency), approved: format.money(b.own.approved, b.currency), claimed: format.money(b.own.claimed, b.currency) })}
              </Text>
            )}
          </Card>
        ))}
        {budgets.data.length === 0 && <Text c="gray.7">{t('mdf.noBudgets')}</Text>}
      </SimpleGrid>
      {canWrite && budgets.data.length > 0 && (
        <Card withBorder component="section" aria-labelledby="prm-mdf-new">
          <Title order={3} size="h4" id="prm-mdf-new">
            {t('mdf.new')}
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 3 }} mt="xs">
            <DataSelect
              label={t('mdf.budget')}
              required
              data={budgets.data.map((b) => ({ value: b.id, label: budgetName.get(b.id)! }))}
              value={draft.budgetId}
              onChange={(budgetId) => setDraft({ ...draft, budgetId })}
            />
            <TextInput label={t('mdf.activity')} required value={draft.activity} onChange={(e) => setDraft({ ...draft, activity: e.currentTarget.value })} maxLength={500} />
            <NumberInput label={t('mdf.amount')} required min={0} value={draft.amount} onChange={(amount) => setDraft({ ...draft, amount })} />
          </SimpleGrid>
          <Button mt="sm" disabled={!draft.budgetId || !draft.activity.trim() || !(Number(draft.amount) > 0)} loading={request.isPending} onClick={() => request.mutate()}>
            {t('mdf.request')}
          </Button>
          {request.error && <Failure error={request.error} />}
        </Card>
      )}
      <Title order={2} size="h3">
        {t('mdf.requests')}
      </Title>
      {claim.error && <Failure error={claim.error} />}
      {requests.data.length === 0 ? (
        <Text c="gray.7">{t('mdf.noRequests')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('mdf.activity')}</Table.Th>
                <Table.Th>{t('mdf.amount')}</Table.Th>
                <Table.Th>{t('mdf.statusLabel')}</Table.Th>
                <Table.Th>{t('mdf.claim')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {requests.data.map((r) => {
                const currency = budgets.data.find((b) => b.id === r.budgetId)?.currency ?? 'EUR';
                const c = claims[r.id] ?? { amount: r.amount, proof: '' };
                return (
                  <Table.Tr key={r.id}>
                    <Table.Td translate="no">{r.activity}</Table.Td>
                    <Table.Td translate="no">{format.money(r.amount, currency)}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" c="dark.8">
                        {t(`mdf.status.${r.status}`)}
                      </Badge>
                      {r.decisionReason && (
                        <Text size="xs" translate="no">
                          {r.decisionReason}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {r.status === 'approved' && canWrite ? (
                        <Group gap="xs" align="flex-end" wrap="wrap">
                          <NumberInput
                            size="xs"
                            w={110}
                            label={t('mdf.claimAmount')}
                            min={0}
                            max={r.amount}
                            value={c.amount}
                            onChange={(amount) => setClaims({ ...claims, [r.id]: { ...c, amount } })}
                          />
                          <TextInput size="xs" label={t('mdf.proof')} value={c.proof} onChange={(e) => setClaims({ ...claims, [r.id]: { ...c, proof: e.currentTarget.value } })} maxLength={5000} />
                          <Button size="xs" disabled={!c.proof.trim()} onClick={() => claim.mutate(r.id)}>
                            {t('mdf.claim')}
                          </Button>
                        </Group>
                      ) : r.claimedAmount !== null ? (
                        <span translate="no">{format.money(r.claimedAmount, currency)}</span>
                      ) : (
                        '—'
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
