import http from 'node:http';

/** What one request of a shutdown test ended with: an answer (its `Connection` header, whether its list body was whole) or the socket error's code. */
export type KeepAliveOutcome = { id: string; status: number; connection: string | undefined; complete: boolean } | { id: string; error: string };

let sequence = 0;

/**
 * One GET of a list on `port` through `agent` (a keep-alive pool, or `false` for a fresh
 * socket), never rejecting: a reset or refused connection is an outcome to assert on. The
 * request id it sends ties the answer to the server's log line for it.
 */
export function keepAliveRequest(port: number, options: { agent: http.Agent | false; token: string; path?: string; idPrefix?: string }): Promise<KeepAliveOutcome> {
  const id = `${options.idPrefix ?? 'keep-alive'}-${++sequence}`;
  return new Promise((resolve) => {
    const fail = (error: Error) => resolve({ id, error: (error as NodeJS.ErrnoException).code ?? error.message });
    const req = http.get(
      { host: '127.0.0.1', port, path: options.path ?? '/api/v1/parties?limit=5', agent: options.agent, headers: { authorization: `Bearer ${options.token}`, 'x-request-id': id } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          let complete: boolean;
          try {
            complete = Array.isArray((JSON.parse(body) as { data?: unknown }).data);
          } catch {
            complete = false;
          }
          resolve({ id, status: res.statusCode ?? 0, connection: res.headers.connection, complete });
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
  });
}
