import { Badge, Checkbox, Stack, Table, Tabs, Text, Title, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useFormat, usePrincipal } from '@rapport/console-sdk';
import { Failure, Loading, ok, useClient, useCrmT } from '../lib.js';

type Client = ReturnType<typeof useClient>;
type Task = Awaited<ReturnType<typeof loadOpen>>[number];
const TASKS = ['crm', 'tasks'];
const loadOpen = async (client: Client) => ok(await client.GET('/api/v1/crm/tasks', { params: { query: { done: 'false', limit: 200 } } })).data;
const loadOverdue = async (client: Client) => ok(await client.GET('/api/v1/crm/tasks/overdue', { params: { query: { limit: 200 } } })).data;

/**
 * Open tasks, and the overdue ones most overdue first; ticking one completes it (If-Match: the
 * version read), shown done at once and put back, with the server's answer, if refused.
 */
export default function Tasks() {
  const t = useCrmT();
  const client = useClient();
  const queryClient = useQueryClient();
  const open = useQuery({ queryKey: [...TASKS, 'open'], queryFn: () => loadOpen(client) });
  const overdue = useQuery({ queryKey: [...TASKS, 'overdue'], queryFn: () => loadOverdue(client) });
  const complete = useMutation({
    mutationFn: async (task: Task) => ok(await client.PATCH('/api/v1/crm/tasks/{id}', { params: { path: { id: task.id }, header: { 'If-Match': `"${task.version}"` } }, body: { done: true } })),
    // Optimistic: the row is ticked in both lists before the server answers; a read under way
    // would overwrite that with the old state, so it is cancelled first.
    onMutate: async (task) => {
      await queryClient.cancelQueries({ queryKey: TASKS });
      queryClient.setQueriesData<Task[]>({ queryKey: TASKS }, (rows) => rows?.map((row) => (row.id === task.id ? { ...row, done: true } : row)));
    },
    // Refused (changed or gone meanwhile): this row goes back to the task as it was read, another tick under way keeps its own.
    onError: (_error, task) => queryClient.setQueriesData<Task[]>({ queryKey: TASKS }, (rows) => rows?.map((row) => (row.id === task.id ? task : row))),
    onSettled: () => queryClient.invalidateQueries({ queryKey: TASKS }),
  });
  if (open.isPending || overdue.isPending) return <Loading />;
  if (open.error || overdue.error) return <Failure error={open.error ?? overdue.error} />;
  const overdueIds = new Set(overdue.data.map((task) => task.id));
  return (
    <Stack>
      <Title order={1}>{t('tasks.title')}</Title>
      {complete.error && <Failure error={complete.error} />}
      <Tabs defaultValue="open">
        <Tabs.List>
          <Tabs.Tab value="open">{t('tasks.open', { n: open.data.length })}</Tabs.Tab>
          <Tabs.Tab value="overdue">{t('tasks.overdue', { n: overdue.data.length })}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="open" pt="sm">
          <TaskTable tasks={open.data} overdue={overdueIds} onDone={(task) => complete.mutate(task)} />
        </Tabs.Panel>
        <Tabs.Panel value="overdue" pt="sm">
          <TaskTable tasks={overdue.data} overdue={overdueIds} onDone={(task) => complete.mutate(task)} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function TaskTable({ tasks, overdue, onDone }: { tasks: Task[]; overdue: Set<string>; onDone: (task: Task) => void }) {
  const t = useCrmT();
  const format = useFormat();
  const canWrite = usePrincipal().can('crm.tasks:write');
  if (tasks.length === 0) return <Text c="gray.7">{t('tasks.none')}</Text>;
  return (
    <Table.ScrollContainer minWidth={320} scrollAreaProps={{ viewportProps: { tabIndex: 0 } }}>
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('tasks.done')}</Table.Th>
            <Table.Th>{t('tasks.task')}</Table.Th>
            <Table.Th>{t('tasks.due')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tasks.map((task) => (
            <Table.Tr key={task.id}>
              <Table.Td>
                <VisuallyHidden id={`crm-task-done-${task.id}`}>{t('tasks.complete')}</VisuallyHidden>
                <Checkbox aria-labelledby={`crm-task-done-${task.id} crm-task-${task.id}`} checked={task.done} disabled={!canWrite || task.done} onChange={() => onDone(task)} />
              </Table.Td>
              <Table.Td translate="no" id={`crm-task-${task.id}`}>
                {task.title}
              </Table.Td>
              <Table.Td>
                {format.dateTime(task.dueAt)}{' '}
                {overdue.has(task.id) && (
                  <Badge variant="light" c="dark.8" color="red">
                    {t('tasks.overdueBadge')}
                  </Badge>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
