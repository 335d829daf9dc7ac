import { ok } from '@rapport/client';
import { Badge, Button, Card, Group, MultiSelect, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useApi, useFormat, useT } from '@rapport/console-sdk';
import { Failure, Loading, PageHeader } from '../ui.js';
import { SecretOnce } from './SecretOnce.js';

export default function KeysPage() {
  const t = useT();
  const format = useFormat();
  const { client } = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [roles, setRoles] = useState<string[]>([]);
  const [token, setToken] = useState<string | null>(null);
  const keys = useQuery({
    queryKey: ['keys'],
    queryFn: async () => {
      return ok(await client.GET('/api/v1/keys', { params: { query: { limit: 200 } } })).data;
    },
  });
  const roleList = useQuery({ queryKey: ['roles'], queryFn: async () => (await client.GET('/api/v1/roles')).data?.data ?? [] });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['keys'] });
  const create = useMutation({
    mutationFn: async () => {
      return ok(await client.POST('/api/v1/keys', { body: { name, roles } }));
    },
    onSuccess: (key) => {
      setToken(key.token);
      setName('');
      setRoles([]);
      refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => {
      ok(await client.DELETE('/api/v1/keys/{id}', { params: { path: { id } } }));
    },
    onSuccess: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Stack>
      <PageHeader title={t('keys.title')} />
      {token && <SecretOnce secret={token} onDone={() => setToken(null)} />}
      <Card withBorder component="form" onSubmit={submit}>
        <Stack>
          <TextInput label={t('keys.name')} required value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <MultiSelect
            label={t('keys.roles')}
            data={(roleList.data ?? []).map((r) => r.name)}
            value={roles}
            onChange={setRoles}
            searchable
            // Role names are identifiers (sales-rep, admin), the same in every language.
            renderOption={({ option }) => <span translate="no">{option.label}</span>}
          />
          <Group>
            <Button type="submit" loading={create.isPending}>
              {t('keys.create')}
            </Button>
          </Group>
          {create.error && <Failure error={create.error} />}
        </Stack>
      </Card>
      {keys.isPending ? (
        <Loading />
      ) : keys.error ? (
        <Failure error={keys.error} />
      ) : keys.data.length === 0 ? (
        <Text c="dimmed">{t('keys.none')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('keys.name')}</Table.Th>
                <Table.Th>{t('keys.roles')}</Table.Th>
                <Table.Th visibleFrom="sm">{t('keys.lastUsed')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.data.map((key) => (
                <Table.Tr key={key.id}>
                  <Table.Td translate="no">{key.name}</Table.Td>
                  <Table.Td translate="no">{key.roles.join(', ')}</Table.Td>
                  <Table.Td visibleFrom="sm">{key.lastUsedAt ? format.dateTime(key.lastUsedAt) : t('keys.never')}</Table.Td>
                  <Table.Td>
                    {key.revokedAt ? (
                      <Badge color="gray">{t('keys.revoked')}</Badge>
                    ) : (
                      <Button size="xs" color="red" variant="subtle" onClick={() => revoke.mutate(key.id)}>
                        {t('keys.revoke')}
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
