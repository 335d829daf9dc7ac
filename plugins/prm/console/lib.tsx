import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { Alert, Anchor, Center, Loader, Select, type SelectProps } from '@mantine/core';
import { RapportProblemError, ok } from '@rapport/client';
import { useApi, useT } from '@rapport/console-sdk';

export const NS = 'prm';

/** The typed client of the signed-in user's session (the console adds no privileged path). */
export function useClient() {
  return useApi().client;
}

export function usePrmT() {
  return useT(NS);
}

export { ok };

/** The HTTP status of a failed call, whichever way it failed. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof RapportProblemError) return error.status;
  if (error && typeof error === 'object' && typeof (error as { status?: unknown }).status === 'number') return (error as { status: number }).status;
  return undefined;
}

export function Loading() {
  const t = usePrmT();
  return (
    <Center p="xl">
      <Loader aria-label={t('common.loading')} />
    </Center>
  );
}

export function Failure({ error }: { error: unknown }) {
  const t = usePrmT();
  const status = statusOf(error);
  return (
    <Alert color="red" title={t('common.error')} role="alert">
      {status === 403 ? t('common.forbidden') : status === 404 ? t('common.notFound') : t('common.tryAgain')}
    </Alert>
  );
}

/** Loading and error states of a query, then its data. */
export function Query<T>({ query, children }: { query: { data?: T; error: unknown; isPending: boolean }; children: (data: T) => ReactNode }) {
  if (query.isPending) return <Loading />;
  if (query.error || query.data === undefined) return <Failure error={query.error} />;
  return <>{children(query.data)}</>;
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
