import { useMemo, useState } from 'react';
import { Alert, Badge, Button, Card, Group, ScrollArea, Stack, Text, Title, VisuallyHidden } from '@mantine/core';
import { DndContext, KeyboardSensor, PointerSensor, useDraggable, useDroppable, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { collectPages } from '@rapport/client';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { DataSelect, Failure, Loading, ok, PageLink, statusOf, useClient, useCrmT } from '../lib.js';

type Client = ReturnType<typeof useClient>;
type Pipeline = Awaited<ReturnType<typeof loadPipelines>>[number];
type Deal = Awaited<ReturnType<typeof loadDeals>>[number];

const loadPipelines = async (client: Client) => ok(await client.GET('/api/v1/crm/pipelines')).data;
const loadDeals = (client: Client, pipelineId: string) => collectPages((cursor) => client.GET('/api/v1/crm/deals', { params: { query: { pipelineId, cursor, limit: 200 } } }).then(ok), 2_000);
const loadAccounts = (client: Client) => collectPages((cursor) => client.GET('/api/v1/crm/customers', { params: { query: { cursor, limit: 200 } } }).then(ok), 5_000);

export const dealsKey = (pipelineId: string | undefined) => ['crm', 'deals', pipelineId] as const;

/** The account names of the deals, by party id (our customers, as the CRM lists them). */
export function useAccountNames() {
  const client = useClient();
  const accounts = useQuery({ queryKey: ['crm', 'customers', 'all'], queryFn: () => loadAccounts(client) });
  return useMemo(() => new Map((accounts.data ?? []).map((a) => [a.party.id, a.party.name])), [accounts.data]);
}

export function usePipelines() {
  const client = useClient();
  return useQuery({ queryKey: ['crm', 'pipelines'], queryFn: () => loadPipelines(client) });
}

interface Conflict {
  dealTitle: string;
  dealId: string;
  stageId: string;
}

/** The pipeline board: a column per stage; a deal is dragged (or moved from its menu) to another stage. */
export default function PipelineBoard() {
  const t = useCrmT();
  const client = useClient();
  const queryClient = useQueryClient();
  const principal = usePrincipal();
  const pipelines = usePipelines();
  const [chosen, setChosen] = useState<string | null>(null);
  const pipeline = pipelines.data?.find((p) => p.id === chosen) ?? pipelines.data?.[0];
  const deals = useQuery({ queryKey: dealsKey(pipeline?.id), queryFn: () => loadDeals(client, pipeline!.id), enabled: !!pipeline });
  const accounts = useAccountNames();
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [failed, setFailed] = useState(false);
  const canMove = principal.can('crm.deals:write');

  const move = useMutation({
    mutationFn: async ({ deal, stageId }: { deal: Deal; stageId: string }) =>
      ok(await client.POST('/api/v1/crm/deals/{id}/move', { params: { path: { id: deal.id } }, body: { stageId }, headers: { 'If-Match': `"${deal.version}"` } })),
    onMutate: async ({ deal, stageId }) => {
      setConflict(null);
      setFailed(false);
      const key = dealsKey(deal.pipelineId);
      await queryClient.cancelQueries({ queryKey: key });
      const before = queryClient.getQueryData<Deal[]>(key);
      queryClient.setQueryData<Deal[]>(key, (list) => list?.map((d) => (d.id === deal.id ? { ...d, stageId } : d)));
      return { before };
    },
    onError: (error, { deal, stageId }, context) => {
      queryClient.setQueryData(dealsKey(deal.pipelineId), context?.before);
      // 412: someone changed the deal since the board read it. The move is kept as an offer to retry on the fresh version.
      if (statusOf(error) === 412) setConflict({ dealTitle: deal.title, dealId: deal.id, stageId });
      else setFailed(true);
    },
    onSettled: (_data, _error, { deal }) => queryClient.invalidateQueries({ queryKey: dealsKey(deal.pipelineId) }),
  });

  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 6 } }), useSensor(KeyboardSensor));

  const onDragEnd = (event: DragEndEvent) => {
    const deal = deals.data?.find((d) => d.id === event.active.id);
    const stageId = event.over?.id as string | undefined;
    if (deal && stageId && stageId !== deal.stageId) move.mutate({ deal, stageId });
  };

  const retry = () => {
    const fresh = conflict && deals.data?.find((d) => d.id === conflict.dealId);
    if (fresh && conflict) move.mutate({ deal: fresh, stageId: conflict.stageId });
  };

  if (pipelines.isPending) return <Loading />;
  if (pipelines.error) return <Failure error={pipelines.error} />;
  if (!pipeline) return <Text>{t('board.noPipeline')}</Text>;

  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={1}>{t('board.title')}</Title>
        {pipelines.data.length > 1 && (
          <DataSelect label={t('board.pipeline')} data={pipelines.data.map((p) => ({ value: p.id, label: p.name }))} value={pipeline.id} onChange={setChosen} allowDeselect={false} />
        )}
      </Group>
      {conflict && (
        <Alert color="orange" title={t('board.conflictTitle')} role="alert" data-testid="move-conflict">
          <Stack gap="xs">
            <Text size="sm" fw={600} translate="no">
              {conflict.dealTitle}
            </Text>
            <Text size="sm">{t('board.conflictBody')}</Text>
            <Group>
              <Button size="xs" onClick={retry}>
                {t('board.retry')}
              </Button>
              <Button size="xs" variant="default" onClick={() => setConflict(null)}>
                {t('common.dismiss')}
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {failed && (
        <Alert color="red" role="alert" title={t('common.error')}>
          {t('board.moveFailed')}
        </Alert>
      )}
      {deals.isPending ? (
        <Loading />
      ) : deals.error ? (
        <Failure error={deals.error} />
      ) : (
        <DndContext sensors={sensors} onDragEnd={onDragEnd} accessibility={{ screenReaderInstructions: { draggable: t('board.dragHelp') } }}>
          {/* Scrolls sideways on a narrow screen: focusable, so the keyboard can scroll it too. */}
          <ScrollArea type="auto" offsetScrollbars viewportProps={{ tabIndex: 0, role: 'region', 'aria-label': t('board.stages') }}>
            <Group align="flex-start" wrap="nowrap" gap="sm" pb="sm">
              {pipeline.stages.map((stage) => (
                <StageColumn
                  key={stage.id}
                  stage={stage}
                  pipeline={pipeline}
                  deals={deals.data.filter((d) => d.stageId === stage.id)}
                  accounts={accounts}
                  canMove={canMove}
                  onMove={(deal, stageId) => move.mutate({ deal, stageId })}
                />
              ))}
            </Group>
          </ScrollArea>
        </DndContext>
      )}
    </Stack>
  );
}

function StageColumn(props: { stage: Pipeline['stages'][number]; pipeline: Pipeline; deals: Deal[]; accounts: Map<string, string>; canMove: boolean; onMove: (deal: Deal, stageId: string) => void }) {
  const { stage, deals } = props;
  const t = useCrmT();
  const format = useFormat();
  const { setNodeRef, isOver } = useDroppable({ id: stage.id });
  const headingId = `crm-stage-${stage.id}`;
  return (
    <Card
      ref={setNodeRef}
      withBorder
      padding="sm"
      w={260}
      miw={240}
      bg={isOver ? 'var(--mantine-color-blue-light)' : undefined}
      component="section"
      aria-labelledby={headingId}
      data-testid={`stage-${stage.name}`}
    >
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Title order={2} size="h5" id={headingId} translate="no">
          {stage.name}
        </Title>
        <Badge variant="light" c="dark.8" color={stage.outcome === 'won' ? 'green' : stage.outcome === 'lost' ? 'gray' : 'blue'}>
          {stage.outcome === 'open' ? format.percent(stage.probability / 100) : t(`outcome.${stage.outcome}`)}
        </Badge>
      </Group>
      <Stack gap="xs" mih={80}>
        {deals.length === 0 && (
          <Text size="sm" c="gray.7">
            {t('board.emptyStage')}
          </Text>
        )}
        {deals.map((deal) => (
          <DealCard key={deal.id} {...props} deal={deal} />
        ))}
      </Stack>
    </Card>
  );
}

function DealCard({ deal, pipeline, accounts, canMove, onMove }: { deal: Deal; pipeline: Pipeline; accounts: Map<string, string>; canMove: boolean; onMove: (deal: Deal, stageId: string) => void }) {
  const t = useCrmT();
  const format = useFormat();
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({ id: deal.id, disabled: !canMove });
  const style = transform ? { transform: `translate3d(${transform.x}px, ${transform.y}px, 0)`, zIndex: 10 } : undefined;
  // The handle is named by its content (a hidden translated part, then the deal's own text); the
  // menu joins a translated part and the title (aria-labelledby): no record text in a translated attribute.
  const titleId = `crm-deal-${deal.id}`;
  return (
    <Card ref={setNodeRef} withBorder padding="xs" shadow={isDragging ? 'md' : undefined} style={style} data-testid={`deal-${deal.title}`}>
      <div {...listeners} {...attributes} style={{ cursor: canMove ? 'grab' : undefined, touchAction: 'none' }}>
        <VisuallyHidden id={`${titleId}-drag`}>{t('board.dragDeal')}</VisuallyHidden>
        <Text fw={600} size="sm" id={titleId} translate="no">
          {deal.title}
        </Text>
        <Text size="xs" c="gray.7" translate="no" id={`${titleId}-account`}>
          {accounts.get(deal.accountId) ?? ''}
        </Text>
        <Text size="sm" translate="no" id={`${titleId}-amount`}>
          {format.money(deal.amount, deal.currency)}
        </Text>
      </div>
      <Group justify="space-between" mt={4} wrap="nowrap" gap={4}>
        <PageLink size="xs" to={`/crm/deals/${deal.id}`}>
          {t('board.open')}
        </PageLink>
        <VisuallyHidden id={`${titleId}-move`}>{t('board.moveTo')}</VisuallyHidden>
        {canMove && (
          <DataSelect
            size="xs"
            w={130}
            aria-labelledby={`${titleId}-move ${titleId}`}
            placeholder={t('board.moveToShort')}
            data={pipeline.stages.filter((s) => s.id !== deal.stageId).map((s) => ({ value: s.id, label: s.name }))}
            value={null}
            onChange={(stageId) => stageId && onMove(deal, stageId)}
          />
        )}
      </Group>
    </Card>
  );
}
