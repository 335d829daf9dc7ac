import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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
}
