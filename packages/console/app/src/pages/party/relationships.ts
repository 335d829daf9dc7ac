import { ok } from '@rapport/client';
import { useQuery } from '@tanstack/react-query';
import { useApi } from '@rapport/console-sdk';

export interface Relationship {
  id: string;
  type: string;
  fromPartyId: string;
  toPartyId: string;
  fromRole: string;
  toRole: string;
  status: string;
  validFrom: string | null;
}

export function useRelationships(partyId: string) {
  const { client } = useApi();
  return useQuery({
    queryKey: ['party', partyId, 'relationships'],
    queryFn: async () => {
      return ok(await client.GET('/api/v1/parties/{id}/relationships', { params: { path: { id: partyId }, query: { limit: 100 } } })).data;
    },
  });
}
