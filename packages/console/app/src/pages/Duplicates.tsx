import { ok } from '@rapport/client';
import { Alert, Button, Card, Checkbox, Group, List, Select, Stack, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi, useFormat, useT } from '@rapport/console-sdk';
import { Failure, Loading, PageHeader } from '../ui.js';

/** Duplicates of a party (shared contact points) merged into it, after a dry run shows what would move. */
export default function DuplicatesPage() {
  const t = useT();
  const format = useFormat();
  const { client } = useApi();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 250);
  const [survivorId, setSurvivorId] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);

  const options = useQuery({
    queryKey: ['parties', 'pick', q],
    queryFn: async () => (await client.GET('/api/v1/parties', { params: { query: { q: q || undefined, limit: 20 } } })).data?.data ?? [],
  });
  const duplicates = useQuery({
    queryKey: ['duplicates', survivorId],
    enabled: !!survivorId,
    queryFn: async () => {
      return ok(await client.GET('/api/v1/parties/{id}/duplicates', { params: { path: { id: survivorId! } } })).data;
    },
  });
  const merge = useMutation({
    mutationFn: async (dryRun: boolean) => {
      return ok(await client.POST('/api/v1/parties/merge', { body: { survivorId: survivorId!, mergedIds: chosen, dryRun } }));
    },
    onSuccess: (plan) => {
      if (!plan.dryRun) {
        setChosen([]);
        void queryClient.invalidateQueries({ queryKey: ['duplicates'] });
        void queryClient.invalidateQueries({ queryKey: ['parties'] });
      }
    },
  });
  const plan = merge.data;

  return (
    <Stack>
      <PageHeader title={t('duplicates.title')} />
      <Text>{t('duplicates.intro')}</Text>
      <Select
        label={t('duplicates.survivor')}
        placeholder={t('parties.searchHint')}
        searchable
        searchValue={search}
        onSearchChange={setSearch}
        data={(options.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
        value={survivorId}
        onChange={(v) => {
          setSurvivorId(v);
          setChosen([]);
          merge.reset();
        }}
        nothingFoundMessage={t('parties.none')}
        filter={({ options: o }) => o}
        renderOption={({ option }) => <span translate="no">{option.label}</span>}
      />
      {survivorId && (
        <Card withBorder>
          <Title order={2} size="h4" mb="xs">
            {t('duplicates.candidates')}
          </Title>
          {duplicates.isPending ? (
            <Loading />
          ) : duplicates.error ? (
            <Failure error={duplicates.error} />
          ) : duplicates.data.length === 0 ? (
            <Text c="dimmed">{t('duplicates.none')}</Text>
          ) : (
            <Stack>
              {duplicates.data.map(({ party, matches }) => (
                <Checkbox
                  key={party.id}
                  checked={chosen.includes(party.id)}
                  onChange={(e) => {
                    merge.reset();
                    setChosen(e.currentTarget.checked ? [...chosen, party.id] : chosen.filter((id) => id !== party.id));
                  }}
                  label={<span translate="no">{party.name}</span>}
                  description={<span translate="no">{matches.map((m) => m.normalized).join(', ')}</span>}
                />
              ))}
              <Group>
                <Button variant="default" disabled={chosen.length === 0} loading={merge.isPending && merge.variables === true} onClick={() => merge.mutate(true)}>
                  {t('duplicates.preview')}
                </Button>
                <Button color="red" disabled={!plan?.dryRun} loading={merge.isPending && merge.variables === false} onClick={() => merge.mutate(false)}>
                  {t('duplicates.merge')}
                </Button>
              </Group>
            </Stack>
          )}
        </Card>
      )}
      {merge.error && <Failure error={merge.error} />}
      {plan && (
        <Alert color={plan.dryRun ? 'blue' : 'green'} title={plan.dryRun ? t('duplicates.previewTitle') : t('duplicates.merged')} data-testid="merge-plan">
          <List>
            <List.Item>{t('duplicates.moves.relationships', { count: plan.relationships, n: format.number(plan.relationships) })}</List.Item>
            <List.Item>{t('duplicates.moves.interactions', { count: plan.interactions, n: format.number(plan.interactions) })}</List.Item>
            <List.Item>{t('duplicates.moves.observations', { count: plan.observations, n: format.number(plan.observations) })}</List.Item>
            <List.Item>{t('duplicates.moves.contactPoints', { count: plan.contactPoints, n: format.number(plan.contactPoints) })}</List.Item>
          </List>
          {plan.conflicts.length > 0 && <Text mt="xs">{t('duplicates.conflicts', { n: format.number(plan.conflicts.length) })}</Text>}
        </Alert>
      )}
    </Stack>
  );
}
