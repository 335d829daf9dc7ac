import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { Alert, Anchor, Button, Center, Group, Loader, Select, Stack, Text, Title, type SelectProps, type TitleProps } from '@mantine/core';
import { RapportProblemError } from '@rapport/client';
import { useT } from './hooks.js';

// The pieces every console page repeats (the shell's kernel pages and the plugins' pages alike).
// Their strings are the console's own (`console` namespace), so a plugin need not translate them.

/** The HTTP status of a failed call, whichever way it failed. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof RapportProblemError) return error.status;
  if (error && typeof error === 'object' && typeof (error as { status?: unknown }).status === 'number') return (error as { status: number }).status;
  return undefined;
}

/** What a failed call says: the problem's title and detail (the API's words), if it has them. */
export function problemOf(error: unknown): { title?: string; detail?: string } {
  if (error instanceof RapportProblemError) return { title: error.problem.title, detail: error.problem.detail };
  if (error && typeof error === 'object') {
    const { title, detail, message } = error as { title?: unknown; detail?: unknown; message?: unknown };
    return {
      title: typeof title === 'string' ? title : undefined,
      detail: typeof detail === 'string' ? detail : typeof message === 'string' ? message : undefined,
    };
  }
  return {};
}

/** The problem's detail, else its title. */
export function problemText(error: unknown): string | undefined {
  const { title, detail } = problemOf(error);
  return detail ?? title;
}

export function Loading() {
  const t = useT();
  return (
    <Center p="lg">
      <Loader aria-label={t('loading')} />
    </Center>
  );
}

/**
 * A failed call: a translated line by its status (403, 404, 409, 412, else "try again"), then the problem's
 * own title and detail as the API gave them (not translated), and a retry button if `onRetry`.
 */
export function Failure({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  const status = statusOf(error);
  const { title, detail } = problemOf(error);
  return (
    <Alert color="red" role="alert" title={t('error.title')} data-testid="failure">
      <Stack gap={4}>
        <Text size="sm">
          {status === 403 ? t('error.forbidden') : status === 404 ? t('error.notFound') : status === 409 ? t('error.conflict') : status === 412 ? t('error.changed') : t('error.tryAgain')}
        </Text>
        {(title || detail) && (
          <Text size="sm" translate="no" data-testid="failure-problem">
            {[title, detail !== title ? detail : undefined].filter(Boolean).join(' — ')}
          </Text>
        )}
        {onRetry && (
          <Group>
            <Button size="xs" variant="default" onClick={onRetry}>
              {t('error.retry')}
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

/** Loading and error states of a query, then its data. */
export function Query<T>({ query, children }: { query: { data?: T; error: unknown; isPending: boolean }; children: (data: T) => ReactNode }) {
  if (query.isPending) return <Loading />;
  if (query.error || query.data === undefined) return <Failure error={query.error} />;
  return <>{children(query.data)}</>;
}

/** A page's heading, with its actions beside it (wrapping under it on a narrow screen). */
export function PageHeader({ title, children, ...rest }: { title: ReactNode; children?: ReactNode } & Omit<TitleProps, 'title' | 'children'>) {
  return (
    <Group justify="space-between" align="flex-end" wrap="wrap" gap="sm" mb="md">
      <Title order={1} size="h2" {...rest}>
        {title}
      </Title>
      {children}
    </Group>
  );
}

/** A link to another console page: paths are the pages' own, e.g. `/crm/deals/<id>` (the console's router). */
export function PageLink({ to, children, size }: { to: string; children: ReactNode; size?: 'xs' | 'sm' | 'md' }) {
  return (
    <Anchor component={Link} to={to} size={size}>
      {children}
    </Anchor>
  );
}

/** A Select whose options are records' own names (stages, people, units…): they are not translated. */
export function DataSelect(props: SelectProps) {
  return <Select {...props} renderOption={({ option }) => <span translate="no">{option.label}</span>} />;
}
