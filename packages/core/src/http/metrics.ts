import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** One registry per app, so several apps in one process (tests) never collide. */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly eventsPublished: Counter<'name'>;
  readonly webhookDeliveries: Counter<'outcome'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'rapport_' });
    this.requestDuration = new Histogram({
      name: 'rapport_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.eventsPublished = new Counter({ name: 'rapport_events_total', help: 'Events committed, by name', labelNames: ['name'], registers: [this.registry] });
    this.webhookDeliveries = new Counter({ name: 'rapport_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [this.registry] });
  }

  // One labelled child per method, route template and status, looked up by a plain string:
  // prom-client hashes a label object (sorting its keys) on every observe otherwise.
  private readonly durationByLabels = new Map<string, { observe(value: number): void }>();

  /** Records one request's duration. */
  observeRequest(anyMethod: string, route: string, status: number, seconds: number): void {
    // A client may send any method token: the label keeps to the known ones, so series stay bounded.
    const method = HTTP_METHODS.has(anyMethod) ? anyMethod : 'OTHER';
    const key = `${method} ${status} ${route}`;
    let child = this.durationByLabels.get(key);
    if (!child) {
      child = this.requestDuration.labels({ method, route, status: String(status) });
      this.durationByLabels.set(key, child);
    }
    child.observe(seconds);
  }
}
