import { useState } from 'react';
import { Badge, Card, Group, Progress, SimpleGrid, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useFormat } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, ok, useClient, usePrmT } from '../lib.js';
import { Registrations } from './portal/Registrations.js';
import { LeadOffers } from './portal/LeadOffers.js';
import { Mdf } from './portal/Mdf.js';
import { Training, SharedContent } from './portal/Training.js';
import { JointPlans } from './portal/JointPlans.js';

/** The partnerships the caller can see: a partner's user sees its own only (the record scope). */
export function usePartnerships() {
  const client = useClient();
  return useQuery({
    queryKey: ['prm', 'partnerships'],
    queryFn: async () => {
      const relationships = ok(await client.GET('/api/v1/relationships', { params: { query: { type: 'prm.partner', limit: 200 } } })).data;
      const names = await Promise.all(
        relationships.map(async (r) => {
          const party = await client.GET('/api/v1/parties/{id}', { params: { path: { id: r.toPartyId } } });
          return party.data?.name ?? '';
        }),
      );
      return relationships.map((relationship, i) => ({ relationship, partnerId: relationship.toPartyId, name: names[i] }));
    },
  });
}

/** The partner portal, as a partner's user sees it: tier, scorecard, registrations, leads, MDF, training, content and joint plans. */
export default function Portal() {
  const t = usePrmT();
  const partnerships = usePartnerships();
  const [chosen, setChosen] = useState<string | null>(null);
  if (partnerships.isPending) return <Loading />;
  if (partnerships.error) return <Failure error={partnerships.error} />;
  const live = partnerships.data.filter((p) => p.relationship.status === 'active');
  const current = live.find((p) => p.partnerId === chosen) ?? live[0];
  if (!current) return <Text>{t('portal.noPartnership')}</Text>;
  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <div>
          <Title order={1}>{t('portal.title')}</Title>
          <Text c="gray.7" translate="no">
            {current.name}
          </Text>
        </div>
        {live.length > 1 && (
          <DataSelect label={t('portal.partner')} data={live.map((p) => ({ value: p.partnerId, label: p.name }))} value={current.partnerId} onChange={setChosen} allowDeselect={false} />
        )}
      </Group>
      <Tabs defaultValue="overview" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="overview">{t('portal.tab.overview')}</Tabs.Tab>
          <Tabs.Tab value="registrations">{t('portal.tab.registrations')}</Tabs.Tab>
          <Tabs.Tab value="leads">{t('portal.tab.leads')}</Tabs.Tab>
          <Tabs.Tab value="mdf">{t('portal.tab.mdf')}</Tabs.Tab>
          <Tabs.Tab value="training">{t('portal.tab.training')}</Tabs.Tab>
          <Tabs.Tab value="content">{t('portal.tab.content')}</Tabs.Tab>
          <Tabs.Tab value="plans">{t('portal.tab.plans')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview" pt="md">
          <Stack>
            <TierStanding partnerId={current.partnerId} />
            <Scorecard partnerId={current.partnerId} />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="registrations" pt="md">
          <Registrations partnerId={current.partnerId} />
        </Tabs.Panel>
        <Tabs.Panel value="leads" pt="md">
          <LeadOffers partnerId={current.partnerId} />
        </Tabs.Panel>
        <Tabs.Panel value="mdf" pt="md">
          <Mdf partnerId={current.partnerId} />
        </Tabs.Panel>
        <Tabs.Panel value="training" pt="md">
          <Training partnerId={current.partnerId} />
        </Tabs.Panel>
        <Tabs.Panel value="content" pt="md">
          <SharedContent />
        </Tabs.Panel>
        <Tabs.Panel value="plans" pt="md">
          <JointPlans partnerId={current.partnerId} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

const METRICS = ['partnerSourcedRevenue', 'approvedRegistrations', 'registrationApprovalRate', 'certifiedStaff'] as const;

export function TierStanding({ partnerId }: { partnerId: string }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const standing = useQuery({
    queryKey: ['prm', 'tier', partnerId],
    queryFn: async () => ok(await client.GET('/api/v1/prm/partners/{partnerId}/tier', { params: { path: { partnerId } } })),
  });
  const programs = useQuery({ queryKey: ['prm', 'programs'], queryFn: async () => ok(await client.GET('/api/v1/prm/programs', { params: { query: { limit: 200 } } })).data });
  if (standing.isPending || programs.isPending) return <Loading />;
  if (standing.error || programs.error) return <Failure error={standing.error ?? programs.error} />;
  const s = standing.data;
  const next = programs.data.find((p) => p.name === s.program)?.tiers.find((tier) => tier.name === s.nextTier);
  return (
    <Card withBorder component="section" aria-labelledby="prm-tier">
      <Title order={2} size="h3" id="prm-tier">
        {t('tier.title')}
      </Title>
      <Group mt="xs" gap="xs" wrap="wrap">
        <Text>{t('tier.current')}</Text>
        <Badge variant="light" c="dark.8" size="lg" data-testid="current-tier" translate={s.currentTier ? 'no' : undefined}>
          {s.currentTier ?? t('tier.none')}
        </Badge>
        <Text>{t('tier.qualified')}</Text>
        <Badge variant="light" c="dark.8" size="lg" translate={s.qualifiedTier ? 'no' : undefined}>
          {s.qualifiedTier ?? t('tier.none')}
        </Badge>
      </Group>
      {s.nextTier && next ? (
        <Stack mt="md" gap="sm">
          <Text fw={600}>
            {t('tier.gapTo')}{' '}
            <span translate="no" data-testid="next-tier">
              {s.nextTier}
            </span>
          </Text>
          {METRICS.filter((m) => next.criteria[m] !== undefined).map((m) => {
            const target = next.criteria[m] ?? 0;
            const have = s.metrics[m];
            const gap = s.gap[m] ?? 0;
            const value = (n: number) => (m === 'partnerSourcedRevenue' ? format.number(n) : m === 'registrationApprovalRate' ? `${format.number(n)} %` : format.number(n));
            return (
              <div key={m}>
                <Group justify="space-between" wrap="wrap">
                  <Text size="sm">{t(`metric.${m}`)}</Text>
                  <Text size="sm" data-testid={`gap-${m}`}>
                    {gap > 0 ? t('tier.missing', { have: value(have), target: value(target), gap: value(gap) }) : t('tier.met', { have: value(have) })}
                  </Text>
                </Group>
                <Progress value={target > 0 ? Math.min(100, (have / target) * 100) : 100} aria-label={t(`metric.${m}`)} />
              </div>
            );
          })}
        </Stack>
      ) : (
        <Text mt="md">{t('tier.top')}</Text>
      )}
    </Card>
  );
}

export function Scorecard({ partnerId }: { partnerId: string }) {
  const t = usePrmT();
  const format = useFormat();
  const client = useClient();
  const card = useQuery({
    queryKey: ['prm', 'partner-scorecard', partnerId],
    queryFn: async () => ok(await client.GET('/api/v1/prm/partners/{partnerId}/scorecard', { params: { path: { partnerId } } })),
  });
  if (card.isPending) return <Loading />;
  if (card.error) return <Failure error={card.error} />;
  const c = card.data;
  const n = (v: number | null) => (v === null ? '—' : format.number(Math.round(v * 100) / 100));
  const pct = (v: number | null) => (v === null ? '—' : `${format.number(Math.round(v * 10) / 10)} %`);
  return (
    <Card withBorder component="section" aria-labelledby="prm-scorecard">
      <Title order={2} size="h3" id="prm-scorecard">
        {t('scorecard.title')}
      </Title>
      <Text size="sm" c="gray.7">
        {t('scorecard.period', { from: format.date(c.periodStart), to: format.date(c.periodEnd) })}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }} mt="sm">
        <div>
          <Title order={3} size="h5">
            {t('scorecard.toFirm')}
          </Title>
          <Table>
            <Table.Tbody>
              <Row label={t('metric.partnerSourcedRevenue')} value={n(c.partnerSourcedRevenue)} />
              <Row label={t('scorecard.leadsAccepted')} value={`${format.number(c.leadsAccepted)} / ${format.number(c.leadsOffered)}`} />
              <Row label={t('scorecard.leadAcceptanceRate')} value={pct(c.leadAcceptanceRate)} />
            </Table.Tbody>
          </Table>
        </div>
        <div>
          <Title order={3} size="h5">
            {t('scorecard.toPartner')}
          </Title>
          <Table>
            <Table.Tbody>
              <Row label={t('scorecard.margin')} value={n(c.marginEarned)} />
              <Row label={t('scorecard.rebates')} value={n(c.rebatesEarned)} />
              <Row label={t('scorecard.mdfUsed')} value={n(c.mdfUsed)} />
              <Row label={t('metric.registrationApprovalRate')} value={pct(c.registrationApprovalRate)} />
              <Row label={t('scorecard.daysToDecision')} value={n(c.meanDaysToDecision)} />
            </Table.Tbody>
          </Table>
        </div>
      </SimpleGrid>
    </Card>
  );
}

function Row({ label, value }: { label: string; value: string }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" fw={400}>
        {label}
      </Table.Th>
      <Table.Td ta="right">{value}</Table.Td>
    </Table.Tr>
  );
}
