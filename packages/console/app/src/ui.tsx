import { useQuery } from '@tanstack/react-query';
import { useApi, useT } from '@rapport/console-sdk';

// Loading, Failure and PageHeader are shared with the plugins' pages (the console SDK).
export { Failure, Loading, PageHeader, problemText } from '@rapport/console-sdk';

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
