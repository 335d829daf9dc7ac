import { useState } from 'react';
import { Alert, Badge, Button, Card, Group, Radio, Select, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Textarea, Title, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, Sentence, ok, slots, statusOf, useClient, useHrmT } from '../lib.js';

/** The caller's own employee profile (GET /hrm/me). */
export function useMe() {
  const client = useClient();
  return useQuery({ queryKey: ['hrm', 'me'], queryFn: async () => ok(await client.GET('/api/v1/hrm/me')), retry: false });
}

export function useUnits() {
  const client = useClient();
  return useQuery({ queryKey: ['hrm', 'units'], queryFn: async () => ok(await client.GET('/api/v1/hrm/units', { params: { query: { limit: 200 } } })).data });
}

/** The employee's own space: profile and timeline, surveys to answer, the service desk, recognition and announcements. */
export default function MySpace() {
  const t = useHrmT();
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.error) return statusOf(me.error) === 404 ? <Text>{t('me.notEmployee')}</Text> : <Failure error={me.error} />;
  return (
    <Stack>
      <Title order={1}>
        {t('me.title')} <span translate="no">{me.data.name}</span>
      </Title>
      <Tabs defaultValue="surveys" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="surveys">{t('me.tab.surveys')}</Tabs.Tab>
          <Tabs.Tab value="desk">{t('me.tab.desk')}</Tabs.Tab>
          <Tabs.Tab value="announcements">{t('me.tab.announcements')}</Tabs.Tab>
          <Tabs.Tab value="recognition">{t('me.tab.recognition')}</Tabs.Tab>
          <Tabs.Tab value="profile">{t('me.tab.profile')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="surveys" pt="md">
          <Surveys />
        </Tabs.Panel>
        <Tabs.Panel value="desk" pt="md">
          <Desk partyId={me.data.id} />
        </Tabs.Panel>
        <Tabs.Panel value="announcements" pt="md">
          <Announcements />
        </Tabs.Panel>
        <Tabs.Panel value="recognition" pt="md">
          <Recognition partyId={me.data.id} />
        </Tabs.Panel>
        <Tabs.Panel value="profile" pt="md">
          <Profile />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function Profile() {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const me = useMe();
  const id = me.data?.id;
  // The manager and the unit are read as parties: an employee sees its colleagues' and the
  // units' parties, not their HRM records (GET /hrm/employees/{id} of the manager is a 404 to it).
  const partyName = (partyId: string | null | undefined) => ({
    queryKey: ['parties', partyId, 'name'],
    enabled: !!partyId,
    queryFn: async () => ok(await client.GET('/api/v1/parties/{id}', { params: { path: { id: partyId! } } })).name,
  });
  const manager = useQuery(partyName(me.data?.managerId));
  const unit = useQuery(partyName(me.data?.employment?.unitId));
  const timeline = useQuery({
    queryKey: ['hrm', 'timeline', id],
    enabled: !!id,
    queryFn: async () => ok(await client.GET('/api/v1/hrm/employees/{id}/timeline', { params: { path: { id: id! }, query: { limit: 50 } } })).data,
  });
  if (!me.data || timeline.isPending) return <Loading />;
  if (timeline.error) return <Failure error={timeline.error} />;
  const e = me.data.employment;
  return (
    <Stack>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Card withBorder>
          <Text size="xs" c="gray.7">
            {t('me.unit')}
          </Text>
          <Text fw={600} translate="no">
            {unit.data ?? '—'}
          </Text>
        </Card>
        <Card withBorder>
          <Text size="xs" c="gray.7">
            {t('me.manager')}
          </Text>
          <Text fw={600} translate="no">
            {manager.data ?? '—'}
          </Text>
        </Card>
        <Card withBorder>
          <Text size="xs" c="gray.7">
            {t('me.since')}
          </Text>
          <Text fw={600}>{e?.start ? format.date(e.start) : '—'}</Text>
        </Card>
      </SimpleGrid>
      <Title order={2} size="h3">
        {t('me.timeline')}
      </Title>
      {timeline.data.length === 0 && <Text c="gray.7">{t('me.noTimeline')}</Text>}
      {timeline.data.map((i) => (
        <Card key={i.id} withBorder padding="xs">
          <Group justify="space-between" wrap="wrap">
            <Text size="sm" fw={600}>
              {t(`interaction.${i.type.replace(/^hrm\./, '')}`, { defaultValue: t('interaction.other') })}
            </Text>
            <Text size="xs" c="gray.7">
              {format.dateTime(i.occurredAt)}
            </Text>
          </Group>
          {i.subject && (
            <Text size="sm" translate="no">
              {i.subject}
            </Text>
          )}
        </Card>
      ))}
    </Stack>
  );
}

type Answers = Record<string, number | string>;

function Surveys() {
  const t = useHrmT();
  const client = useClient();
  const surveys = useQuery({
    queryKey: ['hrm', 'surveys', 'open'],
    queryFn: async () => ok(await client.GET('/api/v1/hrm/surveys', { params: { query: { status: 'open', limit: 50 } } })).data,
  });
  if (surveys.isPending) return <Loading />;
  if (surveys.error) return <Failure error={surveys.error} />;
  if (surveys.data.length === 0) return <Text c="gray.7">{t('survey.none')}</Text>;
  return (
    <Stack>
      {surveys.data.map((s) => (
        <SurveyForm key={s.id} survey={s} />
      ))}
    </Stack>
  );
}

interface Survey {
  id: string;
  title: string;
  anonymous: boolean;
  minGroupSize: number;
  questions: Array<{ id: string; type: 'scale' | 'enps' | 'choice' | 'text'; text: string; min?: number; max?: number; choices?: string[] }>;
}

function SurveyForm({ survey }: { survey: Survey }) {
  const t = useHrmT();
  const client = useClient();
  const [answers, setAnswers] = useState<Answers>({});
  const [done, setDone] = useState<'sent' | 'already' | null>(null);
  // 409 is "already answered" while the survey is open, and "closed meanwhile" once it is not:
  // the survey is read again to tell which.
  const [closed, setClosed] = useState(false);
  const send = useMutation({
    mutationFn: async () => ok(await client.POST('/api/v1/hrm/surveys/{id}/responses', { params: { path: { id: survey.id } }, body: { answers } })),
    onSuccess: () => setDone('sent'),
    onError: async (error) => {
      if (statusOf(error) !== 409) return;
      const now = await client.GET('/api/v1/hrm/surveys/{id}', { params: { path: { id: survey.id } } });
      if (now.data?.status === 'open') setDone('already');
      else setClosed(true);
    },
  });
  const set = (id: string, value: number | string) => setAnswers({ ...answers, [id]: value });
  return (
    <Card withBorder component="section" aria-labelledby={`survey-${survey.id}`}>
      <Title order={2} size="h3" id={`survey-${survey.id}`} translate="no">
        {survey.title}
      </Title>
      <Text size="sm" c="gray.7">
        {survey.anonymous ? t('survey.anonymous', { n: survey.minGroupSize }) : t('survey.named')}
      </Text>
      {done ? (
        <Alert mt="md" color={done === 'sent' ? 'green' : 'blue'} role="status" data-testid="survey-done">
          {t(done === 'sent' ? 'survey.thanks' : 'survey.already')}
        </Alert>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            send.mutate();
          }}
        >
          <Stack mt="md">
            {survey.questions.map((q) => {
              const label = <span translate="no">{q.text}</span>;
              if (q.type === 'enps' || q.type === 'scale') {
                const min = q.type === 'enps' ? 0 : (q.min ?? 1);
                const max = q.type === 'enps' ? 10 : (q.max ?? 5);
                return (
                  <Radio.Group key={q.id} label={label} value={answers[q.id] === undefined ? null : String(answers[q.id])} onChange={(v) => set(q.id, Number(v))}>
                    <Group gap="xs" mt={4} wrap="wrap">
                      {Array.from({ length: max - min + 1 }, (_, i) => min + i).map((n) => (
                        <Radio key={n} value={String(n)} label={String(n)} />
                      ))}
                    </Group>
                    {q.type === 'enps' && (
                      <Text size="xs" c="gray.7">
                        {t('survey.enpsHint')}
                      </Text>
                    )}
                  </Radio.Group>
                );
              }
              if (q.type === 'choice')
                return <DataSelect key={q.id} label={label} data={q.choices ?? []} value={(answers[q.id] as string | undefined) ?? null} onChange={(v) => v !== null && set(q.id, v)} />;
              return <Textarea key={q.id} label={label} value={answers[q.id] ?? ''} onChange={(e) => set(q.id, e.currentTarget.value)} rows={2} maxLength={5000} />;
            })}
            {/* Any other failure keeps the answers: the problem is shown, and they can be sent again. */}
            {send.error && statusOf(send.error) !== 409 && <Failure error={send.error} onRetry={() => send.mutate()} />}
            {send.error && closed && <Failure error={send.error} />}
            <Button type="submit" loading={send.isPending} disabled={Object.keys(answers).length === 0} w="fit-content">
              {t('survey.send')}
            </Button>
          </Stack>
        </form>
      )}
    </Card>
  );
}

function Desk({ partyId }: { partyId: string }) {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const canRaise = usePrincipal().can('hrm.desk:write');
  const services = useQuery({ queryKey: ['hrm', 'services'], queryFn: async () => ok(await client.GET('/api/v1/hrm/services', { params: { query: { limit: 200 } } })).data });
  const requests = useQuery({
    queryKey: ['hrm', 'requests', partyId],
    queryFn: async () => ok(await client.GET('/api/v1/hrm/requests', { params: { query: { requesterPartyId: partyId, limit: 100 } } })).data,
  });
  const [draft, setDraft] = useState({ serviceId: null as string | null, title: '', description: '' });
  const raise = useMutation({
    mutationFn: async () => ok(await client.POST('/api/v1/hrm/requests', { body: { serviceId: draft.serviceId!, title: draft.title.trim(), description: draft.description.trim() || undefined } })),
    onSuccess: () => {
      setDraft({ serviceId: null, title: '', description: '' });
      return queryClient.invalidateQueries({ queryKey: ['hrm', 'requests'] });
    },
  });
  const rate = useMutation({
    mutationFn: async ({ id, score }: { id: string; score: number }) => ok(await client.POST('/api/v1/hrm/requests/{id}/rating', { params: { path: { id } }, body: { score } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['hrm', 'requests'] }),
  });
  if (services.isPending || requests.isPending) return <Loading />;
  if (services.error || requests.error) return <Failure error={services.error ?? requests.error} />;
  const serviceName = new Map(services.data.map((s) => [s.id, s.name]));
  const hours = (minutes: number) => format.number(Math.round((minutes / 60) * 10) / 10);
  return (
    <Stack>
      {canRaise && (
        <Card withBorder component="section" aria-labelledby="hrm-desk-new">
          <Title order={2} size="h3" id="hrm-desk-new">
            {t('desk.new')}
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs">
            <DataSelect
              label={t('desk.service')}
              required
              data={services.data.filter((s) => s.active).map((s) => ({ value: s.id, label: s.name }))}
              value={draft.serviceId}
              onChange={(serviceId) => setDraft({ ...draft, serviceId })}
            />
            <TextInput label={t('desk.requestTitle')} required value={draft.title} onChange={(e) => setDraft({ ...draft, title: e.currentTarget.value })} maxLength={300} />
          </SimpleGrid>
          {draft.serviceId && (
            <Text size="sm" mt="xs">
              {t('desk.target', { hours: hours(services.data.find((s) => s.id === draft.serviceId)!.resolutionTargetMinutes) })}
            </Text>
          )}
          <Textarea mt="xs" label={t('desk.description')} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.currentTarget.value })} rows={2} />
          <Button mt="sm" disabled={!draft.serviceId || !draft.title.trim()} loading={raise.isPending} onClick={() => raise.mutate()}>
            {t('desk.raise')}
          </Button>
          {raise.error && <Failure error={raise.error} />}
        </Card>
      )}
      <Title order={2} size="h3">
        {t('desk.mine')}
      </Title>
      {rate.error && <Failure error={rate.error} />}
      {requests.data.length === 0 ? (
        <Text c="gray.7">{t('desk.none')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('desk.requestTitle')}</Table.Th>
                <Table.Th>{t('desk.statusLabel')}</Table.Th>
                <Table.Th>{t('desk.due')}</Table.Th>
                <Table.Th>{t('desk.rating')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {requests.data.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    <VisuallyHidden id={`hrm-rate-${r.id}`}>{t('desk.rate')}</VisuallyHidden>
                    <span id={`hrm-req-${r.id}`} translate="no">
                      {r.title}
                    </span>
                    <Text size="xs" c="gray.7" translate="no">
                      {serviceName.get(r.serviceId) ?? ''}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" c="dark.8">
                      {t(`desk.status.${r.status}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {format.dateTime(r.resolutionDueAt)}{' '}
                    {r.breached && (
                      <Badge variant="light" c="dark.8" color="red">
                        {t('desk.breached')}
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {r.status === 'resolved' ? (
                      <Select
                        size="xs"
                        w={110}
                        aria-labelledby={`hrm-rate-${r.id} hrm-req-${r.id}`}
                        data={['1', '2', '3', '4', '5']}
                        onChange={(v) => v && rate.mutate({ id: r.id, score: Number(v) })}
                      />
                    ) : r.csat !== null ? (
                      t('desk.rated', { score: r.csat })
                    ) : (
                      '—'
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

function Announcements() {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: ['hrm', 'announcements'], queryFn: async () => ok(await client.GET('/api/v1/hrm/announcements', { params: { query: { limit: 50 } } })).data });
  const ack = useMutation({
    mutationFn: async (id: string) => ok(await client.POST('/api/v1/hrm/announcements/{id}/acknowledge', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['hrm', 'announcements'] }),
  });
  if (list.isPending) return <Loading />;
  if (list.error) return <Failure error={list.error} />;
  if (list.data.length === 0) return <Text c="gray.7">{t('ann.none')}</Text>;
  return (
    <Stack>
      {ack.error && <Failure error={ack.error} />}
      {list.data.map((a) => (
        <Card key={a.id} withBorder component="article" aria-labelledby={`ann-${a.id}`}>
          <Group justify="space-between" wrap="wrap">
            <Title order={2} size="h4" id={`ann-${a.id}`} translate="no">
              {a.title}
            </Title>
            <Text size="xs" c="gray.7">
              {format.date(a.publishedAt)}
            </Text>
          </Group>
          <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} translate="no">
            {a.body}
          </Text>
          {a.requiresAck &&
            (a.acknowledgedAt ? (
              <Badge variant="light" c="dark.8" mt="xs" color="green">
                {t('ann.acknowledged', { date: format.date(a.acknowledgedAt) })}
              </Badge>
            ) : (
              <Button mt="xs" size="xs" onClick={() => ack.mutate(a.id)}>
                {t('ann.acknowledge')}
              </Button>
            ))}
        </Card>
      ))}
    </Stack>
  );
}

function Recognition({ partyId }: { partyId: string }) {
  const t = useHrmT();
  const format = useFormat();
  const client = useClient();
  const queryClient = useQueryClient();
  const scoped = usePrincipal().scoped;
  // An employee (a scoped principal) reads only its own employee record, but sees the parties
  // of its current colleagues: the people it may recognise, and the names of who recognised it.
  const colleagues = useQuery({
    queryKey: ['hrm', 'colleagues', scoped],
    queryFn: async () =>
      scoped
        ? ok(await client.GET('/api/v1/parties', { params: { query: { kind: 'person', limit: 200 } } })).data.map((p) => ({ id: p.id, name: p.name }))
        : ok(await client.GET('/api/v1/hrm/employees', { params: { query: { status: 'active', limit: 200 } } })).data.map((e) => ({ id: e.id, name: e.name })),
  });
  const received = useQuery({
    queryKey: ['hrm', 'timeline', partyId, 'kudos'],
    queryFn: async () => ok(await client.GET('/api/v1/hrm/employees/{id}/timeline', { params: { path: { id: partyId }, query: { type: 'hrm.kudos', limit: 50 } } })).data,
  });
  const [to, setTo] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const send = useMutation({
    mutationFn: async () => ok(await client.POST('/api/v1/hrm/kudos', { body: { toPartyId: to!, message: message.trim() } })),
    onSuccess: () => {
      setMessage('');
      setTo(null);
      return queryClient.invalidateQueries({ queryKey: ['hrm', 'timeline'] });
    },
  });
  if (colleagues.isPending || received.isPending) return <Loading />;
  if (colleagues.error || received.error) return <Failure error={colleagues.error ?? received.error} />;
  const names = new Map(colleagues.data.map((c) => [c.id, c.name]));
  const mine = received.data.filter((k) => k.participants.some((p) => p.role === 'receiver' && p.partyId === partyId));
  return (
    <Stack>
      <Card withBorder component="section" aria-labelledby="hrm-kudos">
        <Title order={2} size="h3" id="hrm-kudos">
          {t('kudos.send')}
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs">
          <DataSelect label={t('kudos.to')} searchable data={colleagues.data.filter((c) => c.id !== partyId).map((c) => ({ value: c.id, label: c.name }))} value={to} onChange={setTo} />
          <TextInput label={t('kudos.message')} value={message} onChange={(e) => setMessage(e.currentTarget.value)} maxLength={2000} />
        </SimpleGrid>
        <Button mt="sm" disabled={!to || !message.trim()} loading={send.isPending} onClick={() => send.mutate()}>
          {t('kudos.sendButton')}
        </Button>
        {send.error && <Failure error={send.error} />}
      </Card>
      <Title order={2} size="h3">
        {t('kudos.received')}
      </Title>
      {mine.length === 0 && <Text c="gray.7">{t('kudos.none')}</Text>}
      {mine.map((k) => {
        const from = k.participants.find((p) => p.role === 'giver')?.partyId;
        const giver = from && names.get(from);
        return (
          <Card key={k.id} withBorder padding="xs" data-testid="kudos">
            <Text size="sm">
              <Sentence
                text={t('kudos.thanked', slots('from', 'message'))}
                values={{ from: giver ? <span translate="no">{giver}</span> : t('kudos.someone'), message: <span translate="no">{k.summary ?? k.subject ?? ''}</span> }}
              />
            </Text>
            <Text size="xs" c="gray.7" component="time" dateTime={k.occurredAt}>
              {format.date(k.occurredAt)}
            </Text>
          </Card>
        );
      })}
    </Stack>
  );
}
