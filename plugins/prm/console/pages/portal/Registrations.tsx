import { useState, type ReactNode } from 'react';
import { Alert, Badge, Button, Card, List, NumberInput, SimpleGrid, Stack, Table, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { Failure, Loading, ok, useClient, usePrmT } from '../../lib.js';

interface RegistrationShape {
  id: string;
  customerName: string;
  customerDomain: string | null;
  value: number;
  currency: string;
  status: string;
  expectedCloseDate: string;
  conflicts: Array<{ kind: string; message?: string }>;
  decisionReason: string | null;
  protectedUntil: string | null;
}

const today = () => new Date().toISOString().slice(0, 10);

/** The partner's deal registrations and the form to register one; a conflict says that and why, never with whom. */
export function Registrations({ partnerId }: { partnerId: string }) {
  const t = usePrmT();
  const client = useClient();
  const queryClient = useQueryClient();
  const canWrite = usePrincipal().can('prm.registrations:write');
  const list = useQuery({
    queryKey: ['prm', 'registrations', partnerId],
    queryFn: async () => ok(await client.GET('/api/v1/prm/registrations', { params: { query: { partnerId, limit: 100 } } })).data,
  });
  const [form, setForm] = useState({ customerName: '', customerDomain: '', value: 0 as number | string, currency: 'EUR', expectedCloseDate: '', notes: '' });
  const [filed, setFiled] = useState<RegistrationShape | null>(null);
  const submit = useMutation({
    mutationFn: async () =>
      ok(
        await client.POST('/api/v1/prm/registrations', {
          body: {
            partnerId,
            customerName: form.customerName.trim(),
            customerDomain: form.customerDomain.trim() || undefined,
            value: Number(form.value) || 0,
            currency: form.currency.trim().toUpperCase(),
            expectedCloseDate: form.expectedCloseDate,
            notes: form.notes.trim() || undefined,
          },
        }),
      ),
    onSuccess: (registration) => {
      setFiled(registration);
      setForm({ customerName: '', customerDomain: '', value: 0, currency: 'EUR', expectedCloseDate: '', notes: '' });
      return queryClient.invalidateQueries({ queryKey: ['prm', 'registrations'] });
    },
  });
  const valid = form.customerName.trim() !== '' && /^[A-Za-z]{3}$/.test(form.currency.trim()) && /^\d{4}-\d{2}-\d{2}$/.test(form.expectedCloseDate);

  return (
    <Stack>
      {canWrite && (
        <Card withBorder component="section" aria-labelledby="prm-register">
          <Title order={2} size="h3" id="prm-register">
            {t('reg.new')}
          </Title>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (valid) submit.mutate();
            }}
          >
            <SimpleGrid cols={{ base: 1, sm: 2 }} mt="sm">
              <TextInput label={t('reg.customerName')} required value={form.customerName} onChange={(e) => setForm({ ...form, customerName: e.currentTarget.value })} maxLength={300} />
              <TextInput label={t('reg.customerDomain')} value={form.customerDomain} onChange={(e) => setForm({ ...form, customerDomain: e.currentTarget.value })} maxLength={253} />
              <NumberInput label={t('reg.value')} required min={0} value={form.value} onChange={(value) => setForm({ ...form, value })} />
              <TextInput label={t('reg.currency')} required value={form.currency} onChange={(e) => setForm({ ...form, currency: e.currentTarget.value })} maxLength={3} />
              <TextInput
                type="date"
                label={t('reg.expectedClose')}
                required
                min={today()}
                value={form.expectedCloseDate}
                onChange={(e) => setForm({ ...form, expectedCloseDate: e.currentTarget.value })}
              />
              <Textarea label={t('reg.notes')} value={form.notes} onChange={(e) => setForm({ ...form, notes: e.currentTarget.value })} maxLength={5000} rows={1} />
            </SimpleGrid>
            <Button type="submit" mt="md" disabled={!valid} loading={submit.isPending}>
              {t('reg.submit')}
            </Button>
          </form>
          {submit.error && <Failure error={submit.error} />}
          {filed && <Outcome registration={filed} />}
        </Card>
      )}
      <Title order={2} size="h3">
        {t('reg.list')}
      </Title>
      {list.isPending ? <Loading /> : list.error ? <Failure error={list.error} /> : <RegistrationTable registrations={list.data} />}
    </Stack>
  );
}

/** What the partner learns of a conflict: its kind and, for another plugin's, its message. Never another partner. */
export function ConflictList({ conflicts }: { conflicts: Array<{ kind: string; message?: string }> }) {
  const t = usePrmT();
  return (
    <List size="sm">
      {conflicts.map((c, i) => (
        <List.Item key={i}>{c.kind === 'registration' || c.kind === 'existing-customer' ? t(`conflict.${c.kind}`) : (c.message ?? t('conflict.other'))}</List.Item>
      ))}
    </List>
  );
}

function Outcome({ registration }: { registration: RegistrationShape }) {
  const t = usePrmT();
  const conflicted = registration.conflicts.length > 0;
  return (
    <Alert
      mt="md"
      role="status"
      data-testid="registration-outcome"
      color={registration.status === 'rejected' ? 'red' : conflicted ? 'orange' : 'green'}
      title={t(`reg.outcome.${conflicted ? 'conflict' : 'clear'}`)}
    >
      <Text size="sm" fw={600} translate="no">
        {registration.customerName}
      </Text>
      <Text size="sm">{t('reg.filedAs', { status: t(`reg.status.${registration.status}`) })}</Text>
      {conflicted && <ConflictList conflicts={registration.conflicts} />}
      {registration.decisionReason && (
        <Text size="sm">
          {t('reg.reason')} <span translate="no">{registration.decisionReason}</span>
        </Text>
      )}
    </Alert>
  );
}

export function RegistrationTable({ registrations, actions }: { registrations: RegistrationShape[]; actions?: (r: RegistrationShape) => ReactNode }) {
  const t = usePrmT();
  const format = useFormat();
  if (registrations.length === 0) return <Text c="gray.7">{t('reg.none')}</Text>;
  return (
    <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('reg.customerName')}</Table.Th>
            <Table.Th>{t('reg.value')}</Table.Th>
            <Table.Th>{t('reg.statusLabel')}</Table.Th>
            <Table.Th>{t('reg.conflicts')}</Table.Th>
            {actions && <Table.Th>{t('reg.decide')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {registrations.map((r) => (
            <Table.Tr key={r.id}>
              <Table.Td translate="no">{r.customerName}</Table.Td>
              <Table.Td translate="no">{format.money(r.value, r.currency)}</Table.Td>
              <Table.Td>
                <Badge variant="light" c="dark.8" color={r.status === 'approved' ? 'green' : r.status === 'rejected' ? 'red' : r.status === 'expired' ? 'gray' : 'blue'}>
                  {t(`reg.status.${r.status}`)}
                </Badge>
                {r.protectedUntil && r.status === 'approved' && (
                  <Text size="xs" c="gray.7">
                    {t('reg.protectedUntil', { date: format.date(r.protectedUntil) })}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>{r.conflicts.length === 0 ? t('reg.noConflict') : <ConflictList conflicts={r.conflicts} />}</Table.Td>
              {actions && <Table.Td>{actions(r)}</Table.Td>}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
