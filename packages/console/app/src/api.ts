import { createRapportClient, type RapportClient } from '@rapport/client';
import createQueryClient from 'openapi-react-query';
import type { ConsoleApi } from '@rapport/console-sdk';

export const CSRF_COOKIE = 'rapport_csrf';

function cookie(name: string): string | undefined {
  const match = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`));
  return match ? decodeURIComponent(match.slice(name.length + 1)) : undefined;
}

/**
 * The user's own session: the browser sends the HttpOnly session cookie, and every unsafe
 * request carries the CSRF token the server set beside it (the double-submit check).
 */
export function createConsoleApi(): ConsoleApi {
  const client: RapportClient = createRapportClient({ baseUrl: window.location.origin, credentials: 'same-origin' });
  client.use({
    onRequest({ request }) {
      if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
        const token = cookie(CSRF_COOKIE);
        if (token) request.headers.set('x-csrf-token', token);
      }
      return request;
    },
  });
  return { client, $api: createQueryClient(client) };
}
