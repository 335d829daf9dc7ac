import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';

export interface RapportClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** The server's origin, e.g. `http://localhost:4000` (paths carry `/api/v1/…`). */
  baseUrl: string;
  /** An API key (`rpk_…`, or the bootstrap key), sent as `Authorization: Bearer`. */
  apiKey?: string;
  /** A session token (`rps_…`) from `POST /api/v1/auth/login`; see `login()`. */
  sessionToken?: string;
}

/**
 * The client for a system's paths. `P` defaults to the kernel and the first-party plugins;
 * a system with plugins of its own passes `paths & TheirPaths` (generated the same way).
 */
export type RapportClient<P extends {} = paths> = Client<P>;

/** A middleware that authenticates every request with a bearer token it does not already carry. */
export function bearerAuth(token: string): Middleware {
  return {
    onRequest({ request }) {
      if (!request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  };
}

export function createRapportClient<P extends {} = paths>(options: RapportClientOptions): RapportClient<P> {
  const { baseUrl, apiKey, sessionToken, ...rest } = options;
  if (apiKey !== undefined && sessionToken !== undefined) throw new TypeError('createRapportClient: give an apiKey or a sessionToken, not both');
  if (!/^https?:\/\//.test(baseUrl)) throw new TypeError(`createRapportClient: baseUrl must be an http(s) origin such as http://localhost:4000, not "${baseUrl}"`);
  const client = createClient<P>({ ...rest, baseUrl: baseUrl.replace(/\/+$/, '') });
  const token = apiKey ?? sessionToken;
  if (token) client.use(bearerAuth(token));
  return client;
}
