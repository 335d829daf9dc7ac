import type { ConsoleApi } from '@rapport/console-sdk';

export interface Me {
  user: { id: string; email: string; name?: string } | null;
  roles: string[];
  permissions: string[];
  partyId: string | null;
  scopePartyId: string | null;
}

/** Who is signed in, or null when the session cookie is missing or expired. */
export async function fetchMe(api: ConsoleApi): Promise<Me | null> {
  const { data, response } = await api.client.GET('/api/v1/auth/me');
  if (response.status === 401) return null;
  if (!data) throw Object.assign(new Error(`GET /api/v1/auth/me answered ${response.status}`), { status: response.status });
  return { ...data, user: data.user ? { id: data.user.id, email: data.user.email, name: data.user.name ?? undefined } : null };
}
