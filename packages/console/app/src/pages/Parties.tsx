import { ok } from '@rapport/client';
import { Anchor, Badge, Button, Group, SegmentedControl, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { useApi, useT } from '@rapport/console-sdk';
import { Failure, Loading, PageHeader } from '../ui.js';

type Kind = 'all' | 'person' | 'organization' | 'unit';

/** Parties, searched as one types (by name, or by e-mail or domain when it looks like one). */
export default function PartiesPage() {
  const t = useT();
  const { client } = useApi();
  const [search, setSearch] = useState('');
  const [kind, setKind] = useState<Kind>('all');
  const [q] = useDebouncedValue(search.trim(), 250);

  const query = useInfiniteQuery({
    queryKey: ['parties', q, kind],
    initialPageParam: undefined as string | undefined,
    placeholderData: keepPreviousData,
    queryFn: async ({ pageParam, signal }) => {
      const filter = q.includes('@') ? { email: q } : q ? { q } : {};
      return ok(
        await client.GET('/api/v1/parties', {
          params: { query: { ...filter, kind: kind === 'all' ? undefined : kind, cursor: pageParam, limit: 50 } },
          signal,
        }),
      );
    },
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const parties = query.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <Stack>
      <PageHeader title={t('parties.title')} />
      <Group align="flex-end" wrap="wrap">
        <TextInput
          label={t('parties.search')}
          placeholder={t('parties.searchHint')}
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          style={{ flex: '1 1 240px' }}
          data-autofocus
          type="search"
        />
        <SegmentedControl
          aria-label={t('parties.kind')}
          value={kind}
          onChange={(v) => setKind(v)}
          data={(['all', 'organization', 'person', 'unit'] as const).map((value) => ({ value, label: t(`kind.${value}`) }))}
        />
      </Group>
      {query.isPending ? (
        <Loading />
      ) : query.error ? (
        <Failure error={query.error} />
      ) : parties.length === 0 ? (
        <Text c="dimmed">{t('parties.none')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320}>
          <Table striped highlightOnHover aria-label={t('parties.title')} aria-busy={query.isFetching}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('parties.name')}</Table.Th>
                <Table.Th>{t('parties.kind')}</Table.Th>
                <Table.Th visibleFrom="sm">{t('parties.contact')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {parties.map((party) => (
                <Table.Tr key={party.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/parties/${party.id}`} translate="no">
                      {party.name}
                    </Anchor>
                    {party.archivedAt && (
                      <Badge ml="xs" color="gray" size="sm">
                        {t('party.archived')}
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>{t(`kind.${party.kind}`)}</Table.Td>
                  <Table.Td visibleFrom="sm" translate="no">
                    {party.contactPoints[0]?.value ?? ''}
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
