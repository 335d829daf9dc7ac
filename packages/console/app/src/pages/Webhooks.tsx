import { ok } from '@rapport/client';
import { Badge, Button, Card, Group, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useApi, useFormat, usePrincipal, useT } from '@rapport/console-sdk';
import { Failure, Loading, PageHeader } from '../ui.js';
import { SecretOnce } from './SecretOnce.js';

export default function WebhooksPage() {
  const t = useT();
  const format = useFormat();
  const { client } = useApi();
  const principal = usePrincipal();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('*');
  const [secret, setSecret] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['webhooks'],
    queryFn: async () => {
      return ok(await client.GET('/api/v1/webhooks', { params: { query: { limit: 100 } } })).data;
    },
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
  const create = useMutation({
    mutationFn: async () => {
      return ok(
        await client.POST('/api/v1/webhooks', {
          body: {
            url,
            events: events
              .split(',')
              .map((e) => e.trim())
              .filter(Boolean),
          },
        }),
      );
    },
    onSuccess: (hook) => {
      setSecret(hook.secret);
      setUrl('');
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: async (id: string) => {
      ok(await client.DELETE('/api/v1/webhooks/{id}', { params: { path: { id } } }));
    },
    onSuccess: refresh,
  });
  const rotate = useMutation({
    mutationFn: async (id: string) => {
      return ok(await client.POST('/api/v1/webhooks/{id}/rotate-secret', { params: { path: { id } } }));
    },
    onSuccess: (hook) => setSecret((hook as { secret: string }).secret),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const canWrite = principal.can('webhooks:write');
  return (
    <Stack>
      <PageHeader title={t('webhooks.title')} />
      {secret && <SecretOnce secret={secret} kept="sealed" onDone={() => setSecret(null)} />}
      {canWrite && (
        <Card withBorder component="form" onSubmit={submit}>
          <Stack>
            <TextInput label={t('webhooks.url')} type="url" required value={url} onChange={(e) => setUrl(e.currentTarget.value)} />
            <TextInput
              label={t('webhooks.events')}
              description={
                <>
                  {/* Event names are the same in every language. */}
                  {t('webhooks.eventsHint')} <span translate="no">party.*, interaction.created, *</span>
                </>
              }
              required
              value={events}
              onChange={(e) => setEvents(e.currentTarget.value)}
            />
            <Group>
              <Button type="submit" loading={create.isPending}>
                {t('webhooks.create')}
              </Button>
            </Group>
            {create.error && <Failure error={create.error} />}
          </Stack>
        </Card>
      )}
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <Failure error={list.error} />
      ) : list.data.length === 0 ? (
        <Text c="dimmed">{t('webhooks.none')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('webhooks.url')}</Table.Th>
                <Table.Th>{t('webhooks.events')}</Table.Th>
                <Table.Th visibleFrom="sm">{t('created')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.map((hook) => (
                <Table.Tr key={hook.id}>
                  <Table.Td translate="no" style={{ overflowWrap: 'anywhere' }}>
                    {hook.url} {!hook.active && <Badge color="gray">{t('webhooks.inactive')}</Badge>}
                  </Table.Td>
                  <Table.Td translate="no">{hook.events.join(', ')}</Table.Td>
                  <Table.Td visibleFrom="sm">{format.date(hook.createdAt)}</Table.Td>
                  <Table.Td>
                    {canWrite && (
                      <Group gap="xs" wrap="nowrap">
                        <Button size="xs" variant="light" onClick={() => rotate.mutate(hook.id)}>
                          {t('webhooks.rotate')}
                        </Button>
                        <Button size="xs" color="red" variant="subtle" onClick={() => remove.mutate(hook.id)}>
                          {t('delete')}
                        </Button>
                      </Group>
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
