import { ok } from '@rapport/client';
import { Badge, Box, Card, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { lazy, Suspense, useEffect, useRef, type ComponentType } from 'react';
import { useApi, useFormat, useT, type TimelineRendererProps } from '@rapport/console-sdk';
import { ErrorBoundary } from '../../ErrorBoundary.js';
import { timelineRenderer } from '../../registry.js';
import { Failure, useMeta, useTypeName } from '../../ui.js';

const PAGE = 50;

interface Interaction {
  id: string;
  type: string;
  occurredAt: string;
  direction: 'inbound' | 'outbound' | 'internal';
  subject: string | null;
  summary: string | null;
}

const renderers = new Map<string, ComponentType<TimelineRendererProps>>();

/** A plugin's renderer for its interaction type, made lazy once. */
function PluginRenderer({ interaction }: { interaction: Interaction }) {
  const found = timelineRenderer(interaction.type);
  if (!found) return null;
  let Component = renderers.get(interaction.type);
  if (!Component) renderers.set(interaction.type, (Component = lazy(found.renderer)));
  return (
    <ErrorBoundary>
      <Suspense fallback={<Loader size="xs" />}>
        <Component interaction={interaction} />
      </Suspense>
    </ErrorBoundary>
  );
}

/**
 * The party's timeline, newest first: pages of the keyset API fetched as the list scrolls,
 * and only the rows in view rendered, so a party with 100 000 interactions scrolls as one with ten.
 */
export function Timeline({ partyId }: { partyId: string }) {
  const t = useT();
  const format = useFormat();
  const { client } = useApi();
  const meta = useMeta();
  const typeName = useTypeName();
  const query = useInfiniteQuery({
    queryKey: ['party', partyId, 'timeline'],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam, signal }) => {
      return ok(await client.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: partyId }, query: { cursor: pageParam, limit: PAGE } }, signal }));
    },
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const items: Interaction[] = query.data?.pages.flatMap((p) => p.data) ?? [];
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length + (query.hasNextPage ? 1 : 0),
    getScrollElement: () => scroller.current,
    estimateSize: () => 76,
    overscan: 8,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const last = virtualItems[virtualItems.length - 1];
  useEffect(() => {
    if (last && last.index >= items.length - 5 && query.hasNextPage && !query.isFetchingNextPage) void query.fetchNextPage();
  }, [last, items.length, query]);

  return (
    <Card withBorder component="section" aria-labelledby="party-timeline">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4" id="party-timeline">
          {t('party.timeline')}
        </Title>
        {items.length > 0 && (
          <Text size="sm" c="dimmed" aria-live="polite">
            {t('timeline.shown', { count: items.length, formatted: format.number(items.length) })}
          </Text>
        )}
      </Group>
      {query.error ? (
        <Failure error={query.error} />
      ) : query.isPending ? (
        <Loader size="sm" aria-label={t('loading')} />
      ) : items.length === 0 ? (
        <Text c="dimmed">{t('timeline.empty')}</Text>
      ) : (
        <Box
          ref={scroller}
          h={480}
          style={{ overflowY: 'auto', contain: 'strict' }}
          tabIndex={0}
          role="feed"
          aria-label={t('party.timeline')}
          aria-busy={query.isFetchingNextPage}
          data-testid="timeline"
        >
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualItems.map((row) => {
              const interaction = items[row.index];
              return (
                <div key={row.key} data-index={row.index} ref={virtualizer.measureElement} style={{ position: 'absolute', top: 0, left: 0, width: '100%', transform: `translateY(${row.start}px)` }}>
                  {interaction ? (
                    <Stack
                      gap={2}
                      py="xs"
                      px="xs"
                      style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }}
                      role="article"
                      aria-posinset={row.index + 1}
                      aria-setsize={-1}
                      data-testid="timeline-item"
                    >
                      <Group gap="xs" wrap="wrap">
                        <Badge variant="light" size="sm" tt="none">
                          {typeName(interaction.type, meta.data?.interactions.get(interaction.type))}
                        </Badge>
                        <Text size="xs" c="dimmed">
                          {format.dateTime(interaction.occurredAt)} · {t(`direction.${interaction.direction}`)}
                        </Text>
                      </Group>
                      {interaction.subject && (
                        <Text fw={500} size="sm" translate="no">
                          {interaction.subject}
                        </Text>
                      )}
                      {interaction.summary && (
                        <Text size="sm" c="dimmed" lineClamp={2} translate="no">
                          {interaction.summary}
                        </Text>
                      )}
                      <PluginRenderer interaction={interaction} />
                    </Stack>
                  ) : (
                    <Group p="xs">
                      <Loader size="xs" aria-label={t('loading')} />
                    </Group>
                  )}
                </div>
              );
            })}
          </div>
        </Box>
      )}
    </Card>
  );
}
