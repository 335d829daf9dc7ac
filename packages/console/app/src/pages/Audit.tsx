import { ok } from '@rapport/client';
import { Button, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi, useFormat, useT } from '@rapport/console-sdk';
import { Failure, Loading, PageHeader } from '../ui.js';

export default function AuditPage() {
  const t = useT();
  const format = useFormat();
  const { client } = useApi();
  const [action, setAction] = useState('');
  const [filter] = useDebouncedValue(action.trim(), 300);
  const query = useInfiniteQuery({
    queryKey: ['audit', filter],
    initialPageParam: undefined as string | undefined,
    placeholderData: keepPreviousData,
    queryFn: async ({ pageParam }) => {
      return ok(await client.GET('/api/v1/audit', { params: { query: { cursor: pageParam, limit: 50, action: filter || undefined } } }));
    },
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const entries = query.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <Stack>
      <PageHeader title={t('audit.title')} />
      <TextInput
        label={t('audit.action')}
        description={
          <>
            {t('audit.actionHint')} <span translate="no">party.created</span>
          </>
        }
        value={action}
        onChange={(e) => setAction(e.currentTarget.value)}
        maw={400}
      />
      {query.isPending ? (
        <Loading />
      ) : query.error ? (
        <Failure error={query.error} />
      ) : entries.length === 0 ? (
        <Text c="dimmed">{t('audit.none')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('audit.at')}</Table.Th>
                <Table.Th>{t('audit.action')}</Table.Th>
                <Table.Th visibleFrom="sm">{t('audit.record')}</Table.Th>
                <Table.Th visibleFrom="sm">{t('audit.actor')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {entries.map((entry) => (
                <Table.Tr key={entry.id}>
                  <Table.Td>{format.dateTime(entry.at)}</Table.Td>
                  <Table.Td translate="no">{entry.action}</Table.Td>
                  <Table.Td visibleFrom="sm" translate="no">
                    {entry.recordType ?? ''} {entry.recordId ?? ''}
                  </Table.Td>
                  <Table.Td visibleFrom="sm" translate="no">
                    {entry.actor.kind} {entry.actor.id?.slice(0, 8) ?? ''}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {query.hasNextPage && (
        <Button variant="light" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
          {t('more')}
        </Button>
      )}
    </Stack>
  );
}
