import { RapportProblemError } from '@rapport/client';
import { Alert, Center, Group, Loader, Title, type TitleProps } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useApi, useT } from '@rapport/console-sdk';

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

export function Loading() {
  const t = useT();
  return (
    <Center p="lg">
      <Loader aria-label={t('loading')} />
    </Center>
  );
}

/** What a failed call says: the problem's detail (the API's words) or a generic line. */
export function problemText(error: unknown): string | undefined {
  if (error instanceof RapportProblemError) return error.problem.detail ?? error.problem.title;
  if (error && typeof error === 'object') {
    const detail = (error as { detail?: unknown }).detail;
    if (typeof detail === 'string') return detail;
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return undefined;
}

export function Failure({ error }: { error: unknown }) {
  const t = useT();
  return (
    <Alert color="red" role="alert" title={t('error.title')}>
      <span translate="no">{problemText(error) ?? ''}</span>
    </Alert>
  );
}

interface TypeMeta {
  key: string;
  owner: string;
  title: string;
}

/** The registries of types (relationship, interaction, indicator), read once per session. */
export function useMeta() {
  const { client } = useApi();
  return useQuery({
    queryKey: ['meta'],
    staleTime: Infinity,
    queryFn: async () => {
      const [relationships, interactions, indicators] = await Promise.all([
        client.GET('/api/v1/meta/relationship-types'),
        client.GET('/api/v1/meta/interaction-types'),
        client.GET('/api/v1/meta/indicators'),
      ]);
      return {
        relationships: new Map((relationships.data?.data ?? []).map((r) => [r.key, r])),
        interactions: new Map((interactions.data?.data ?? []).map((r) => [r.key, r])),
        indicators: new Map((indicators.data?.data ?? []).map((r) => [r.key, r])),
      };
    },
  });
}

/** A type's name: the owning plugin's translation, else the console's, else the server's title. */
export function useTypeName() {
  const t = useT();
  const tAny = t as unknown as (key: string, options: { ns?: string | string[]; defaultValue?: string }) => string;
  return (key: string, meta?: TypeMeta) => tAny(`type.${key}`, { ns: meta?.owner && meta.owner !== 'core' ? [meta.owner, 'console'] : 'console', defaultValue: meta?.title ?? key });
}

export function useRoleName() {
  const t = useT();
  const tAny = t as unknown as (key: string, options: { defaultValue?: string }) => string;
  return (role: string) => tAny(`role.${role}`, { defaultValue: role });
}
