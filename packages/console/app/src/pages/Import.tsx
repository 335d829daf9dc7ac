import { ok } from '@rapport/client';
import { Alert, Anchor, Button, Card, FileInput, Group, Progress, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi, useFormat, useT } from '@rapport/console-sdk';
import { Failure, Loading, PageHeader } from '../ui.js';

interface ImportProgress {
  read?: number;
  imported?: number;
  rejected?: number;
  bytes?: number;
  totalBytes?: number;
}

/** A CSV file through one of the importers, as a background job: its progress, then the rows it rejected and why. */
export default function ImportPage() {
  const t = useT();
  const format = useFormat();
  const { client } = useApi();
  const [importer, setImporter] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const importers = useQuery({
    queryKey: ['importers'],
    queryFn: async () => {
      return ok(await client.GET('/api/v1/importers')).data;
    },
  });
  const start = useMutation({
    mutationFn: async () => {
      return ok(
        await client.POST('/api/v1/imports/{importer}', {
          params: { path: { importer: importer! }, query: {} },
          body: file as never,
          bodySerializer: (body: unknown) => body as BodyInit,
          headers: { 'content-type': 'text/csv' },
        }),
      );
    },
  });
  const jobId = start.data?.id;
  const job = useQuery({
    queryKey: ['job', jobId],
    enabled: !!jobId,
    queryFn: async () => {
      return ok(await client.GET('/api/v1/jobs/{id}', { params: { path: { id: jobId! } } }));
    },
    refetchInterval: (q) => (q.state.data && ['succeeded', 'failed', 'cancelled'].includes(q.state.data.status) ? false : 1000),
  });
  const finished = job.data && ['succeeded', 'failed', 'cancelled'].includes(job.data.status);
  const rejected = useQuery({
    queryKey: ['job', jobId, 'rejected'],
    enabled: !!finished,
    queryFn: async () => {
      return ok(await client.GET('/api/v1/imports/{id}/rejected', { params: { path: { id: jobId! }, query: { limit: 200 } } })).data;
    },
  });
  const progress = (job.data?.progress ?? job.data?.result ?? {}) as ImportProgress;
  const percent = finished ? 100 : progress.totalBytes ? Math.round(((progress.bytes ?? 0) / progress.totalBytes) * 100) : 0;
  const chosen = importers.data?.find((i) => i.name === importer);

  return (
    <Stack>
      <PageHeader title={t('import.title')} />
      {importers.isPending ? (
        <Loading />
      ) : importers.error ? (
        <Failure error={importers.error} />
      ) : (
        <Card withBorder>
          <Stack>
            <Select
              label={t('import.importer')}
              data={importers.data.map((i) => ({ value: i.name, label: i.name }))}
              value={importer}
              onChange={setImporter}
              allowDeselect={false}
              // Importer names are identifiers (parties, crm.accounts), the same in every language.
              renderOption={({ option }) => <span translate="no">{option.label}</span>}
            />
            {chosen && (
              <Text size="sm">
                {t('import.columns')}: <span translate="no">{chosen.columns.map((c) => (c.required ? `${c.name}*` : c.name)).join(', ')}</span>
              </Text>
            )}
            <FileInput
              label={t('import.file')}
              placeholder={t('import.choose')}
              accept=".csv,text/csv"
              value={file}
              onChange={setFile}
              clearable
              clearButtonProps={{ 'aria-label': t('import.clear') }}
              // The placeholder is the only text of an empty file field: Mantine's light grey fails the contrast check.
              styles={{ placeholder: { color: 'var(--mantine-color-gray-7)' } }}
            />
            <Group>
              <Button disabled={!importer || !file} loading={start.isPending} onClick={() => start.mutate()}>
                {t('import.start')}
              </Button>
            </Group>
          </Stack>
        </Card>
      )}
      {start.error && <Failure error={start.error} />}
      {job.data && (
        <Card withBorder data-testid="import-job">
          <Title order={2} size="h4" mb="xs">
            {t(`job.${job.data.status}`)}
          </Title>
          <Progress value={percent} aria-label={t('import.progress')} animated={!finished} size="lg" />
          <Text size="sm" mt="xs">
            {t('import.counts', { read: format.number(progress.read ?? 0), imported: format.number(progress.imported ?? 0), rejected: format.number(progress.rejected ?? 0) })}
          </Text>
          {job.data.error && (
            <Alert color="red" mt="xs">
              <span translate="no">{job.data.error}</span>
            </Alert>
          )}
        </Card>
      )}
      {finished && rejected.data && rejected.data.length > 0 && (
        <Card withBorder>
          <Group justify="space-between" mb="xs">
            <Title order={2} size="h4">
              {t('import.rejected')}
            </Title>
            <Anchor href={`/api/v1/imports/${jobId}/rejected.csv`} download>
              {t('import.download')}
            </Anchor>
          </Group>
          <Table.ScrollContainer minWidth={320}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('import.line')}</Table.Th>
                  <Table.Th>{t('import.reasons')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rejected.data.map((row) => (
                  <Table.Tr key={row.line}>
                    <Table.Td>{format.number(row.line)}</Table.Td>
                    <Table.Td translate="no">{row.errors.map((e) => (e.column ? `${e.column}: ${e.message}` : e.message)).join('; ')}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
    </Stack>
  );
}
