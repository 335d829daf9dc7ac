import { createRapportClient, type RapportClient, type RapportClientOptions } from './client.js';
import { ok } from './problems.js';
import type { operations, paths } from './schema.js';

export interface LoginOptions extends Omit<RapportClientOptions, 'apiKey' | 'sessionToken'> {
  email: string;
  password: string;
}

type LoginAnswer = operations['postAuthLogin']['responses'][200]['content']['application/json'];

export interface Session<P extends {} = paths> {
  /** A client authenticated with the session token. */
  client: RapportClient<P>;
  token: string;
  expiresAt: string;
  user: LoginAnswer['user'];
  /** Ends the session on the server (the token stops working at once). */
  logout(): Promise<void>;
}

/** Logs a user in with e-mail and password (`POST /api/v1/auth/login`) and returns a client for the session. */
export async function login<P extends {} = paths>(options: LoginOptions): Promise<Session<P>> {
  const { email, password, ...clientOptions } = options;
  const anonymous = createRapportClient(clientOptions);
  const answer = ok(await anonymous.POST('/api/v1/auth/login', { body: { email, password } }));
  const client = createRapportClient<P>({ ...clientOptions, sessionToken: answer.token });
  return {
    client,
    token: answer.token,
    expiresAt: answer.expiresAt,
    user: answer.user,
    async logout() {
      ok(await createRapportClient({ ...clientOptions, sessionToken: answer.token }).POST('/api/v1/auth/logout'));
    },
  };
}
