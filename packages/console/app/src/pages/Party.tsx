import { ok } from '@rapport/client';
import '@mantine/charts/styles.css';
import { Anchor, Badge, Card, Group, List, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQueries, useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useApi, useFormat, usePrincipal, useT } from '@rapport/console-sdk';
import { Zone } from '../Zone.js';
import { Failure, Loading, PageHeader, useMeta, useRoleName, useTypeName } from '../ui.js';
import { Indicators } from './party/Indicators.js';
import { Timeline } from './party/Timeline.js';
import { useRelationships, type Relationship } from './party/relationships.js';

export default function PartyPage() {
  const { id = '' } = useParams();
  const t = useT();
  const { client } = useApi();
  const principal = usePrincipal();
  const party = useQuery({
    queryKey: ['party', id],
    queryFn: async () => {
      return ok(await client.GET('/api/v1/parties/{id}', { params: { path: { id } } }));
    },
  });
  if (party.isPending) return <Loading />;
  if (party.error) return <Failure error={party.error} />;
  const p = party.data;
  return (
    <Stack gap="lg">
      <PageHeader title={<span translate="no">{p.name}</span>}>
        <Group gap="xs">
          <Badge variant="light">{t(`kind.${p.kind}`)}</Badge>
          {p.archivedAt && <Badge color="gray">{t('party.archived')}</Badge>}
        </Group>
      </PageHeader>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder component="section" aria-labelledby="contact-points">
          <Title order={2} size="h4" id="contact-points" mb="xs">
            {t('party.contactPoints')}
          </Title>
          {p.contactPoints.length === 0 ? (
            <Text c="dimmed">{t('party.noContactPoints')}</Text>
          ) : (
            <List spacing={4}>
              {p.contactPoints.map((cp) => (
                <List.Item key={`${cp.kind}:${cp.value}`}>
                  <Text span c="dimmed" size="sm">
                    {t(`contact.${cp.kind}`, { defaultValue: cp.kind })}:{' '}
                  </Text>
                  <span translate="no">{cp.value}</span>
                </List.Item>
              ))}
            </List>
          )}
        </Card>
        {principal.can('relationships:read') && <Roles partyId={p.id} />}
      </SimpleGrid>
      <Zone zone="party.page" props={{ partyId: p.id }} />
      {principal.can('relationships:read') && <Relationships partyId={p.id} />}
      {principal.can('observations:read') && <Indicators partyId={p.id} />}
      {principal.can('interactions:read') && <Timeline partyId={p.id} />}
    </Stack>
  );
}

/** The names of the other ends, each read under the user's own reach (one it cannot see stays unnamed). */
function useOtherNames(partyId: string, relationships: Relationship[] | undefined) {
  const { client } = useApi();
  const ids = [...new Set((relationships ?? []).map((r) => (r.fromPartyId === partyId ? r.toPartyId : r.fromPartyId)))];
  const results = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['party', id],
      queryFn: async () => {
        return ok(await client.GET('/api/v1/parties/{id}', { params: { path: { id } } }));
      },
      staleTime: 60_000,
    })),
  });
  return new Map(ids.map((id, i) => [id, results[i].data?.name]));
}

function useSelfPartyId(): string | undefined {
  const { client } = useApi();
  const principal = usePrincipal();
  const tenant = useQuery({
    queryKey: ['tenant'],
    enabled: principal.can('meta:read'),
    staleTime: Infinity,
    queryFn: async () => (await client.GET('/api/v1/tenant')).data ?? null,
  });
  return tenant.data?.selfPartyId;
}

/** The party's roles, said from both sides: "our customer" and "we are its supplier". */
function Roles({ partyId }: { partyId: string }) {
  const t = useT();
  const role = useRoleName();
  const self = useSelfPartyId();
  const relationships = useRelationships(partyId);
  const names = useOtherNames(partyId, relationships.data);
  const phrases = new Map<string, ReactNode>();
  for (const r of relationships.data ?? []) {
    const mine = r.fromPartyId === partyId;
    const other = mine ? r.toPartyId : r.fromPartyId;
    const myRole = role(mine ? r.fromRole : r.toRole);
    const theirRole = role(mine ? r.toRole : r.fromRole);
    if (other === self) {
      phrases.set(`our:${myRole}`, t('roles.our', { role: myRole }));
      phrases.set(`we:${theirRole}`, t('roles.weAre', { role: theirRole }));
    } else if (partyId === self) {
      phrases.set(
        `of:${myRole}:${other}`,
        <>
          {t('roles.of', { role: myRole })} <span translate="no">{names.get(other) ?? t('party.hidden')}</span>
        </>,
      );
    } else {
      phrases.set(
        `of:${myRole}:${other}`,
        <>
          {t('roles.of', { role: myRole })} <span translate="no">{names.get(other) ?? t('party.hidden')}</span>
        </>,
      );
    }
  }
  return (
    <Card withBorder component="section" aria-labelledby="party-roles">
      <Title order={2} size="h4" id="party-roles" mb="xs">
        {t('party.roles')}
      </Title>
      {relationships.isPending ? (
        <Loading />
      ) : phrases.size === 0 ? (
        <Text c="dimmed">{t('party.noRoles')}</Text>
      ) : (
        <Group gap="xs" data-testid="party-roles">
          {[...phrases].map(([key, phrase]) => (
            <Badge key={key} variant={key.startsWith('of:') ? 'outline' : 'light'} size="lg" tt="none">
              {phrase}
            </Badge>
          ))}
        </Group>
      )}
    </Card>
  );
}

function Relationships({ partyId }: { partyId: string }) {
  const t = useT();
  const format = useFormat();
  const role = useRoleName();
  const typeName = useTypeName();
  const meta = useMeta();
  const relationships = useRelationships(partyId);
  const names = useOtherNames(partyId, relationships.data);
  return (
    <Card withBorder component="section" aria-labelledby="party-relationships">
      <Title order={2} size="h4" id="party-relationships" mb="xs">
        {t('party.relationships')}
      </Title>
      {relationships.isPending ? (
        <Loading />
      ) : relationships.error ? (
        <Failure error={relationships.error} />
      ) : relationships.data.length === 0 ? (
        <Text c="dimmed">{t('party.noRelationships')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('relationship.type')}</Table.Th>
                <Table.Th>{t('relationship.with')}</Table.Th>
                <Table.Th>{t('relationship.role')}</Table.Th>
                <Table.Th visibleFrom="sm">{t('relationship.since')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {relationships.data.map((r) => {
                const mine = r.fromPartyId === partyId;
                const other = mine ? r.toPartyId : r.fromPartyId;
                return (
                  <Table.Tr key={r.id}>
                    <Table.Td>{typeName(r.type, meta.data?.relationships.get(r.type))}</Table.Td>
                    <Table.Td>
                      {names.get(other) ? (
                        <Anchor component={Link} to={`/parties/${other}`} translate="no">
                          {names.get(other)}
                        </Anchor>
                      ) : (
                        <Text c="dimmed">{t('party.hidden')}</Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {role(mine ? r.fromRole : r.toRole)} · {t(`status.${r.status}`, { defaultValue: r.status })}
                    </Table.Td>
                    <Table.Td visibleFrom="sm">{r.validFrom ? format.date(r.validFrom) : ''}</Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}
