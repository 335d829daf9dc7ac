import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The method labels: the known methods, then OTHER for any other token a client sends (series stay bounded). */
const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER'] as const;
const METHOD_INDEX = new Map<string, number>(METHOD_LABELS.slice(0, -1).map((method, index) => [method, index]));
const OTHER_METHOD = METHOD_LABELS.length - 1;

type Observer = { observe(value: number): void };

/** The system's Prometheus metrics. One registry per app, so several apps in one process (tests) never collide. */
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

  private readonly eventsByName = new Map<string, { inc(n: number): void }>();

  /** Counts committed events by name (one increment per name and unit of work, however many events). */
  countEvents(events: ReadonlyArray<{ name: string }>): void {
    if (events.length === 0) return;
    const counts = new Map<string, number>();
    for (const event of events) counts.set(event.name, (counts.get(event.name) ?? 0) + 1);
    for (const [name, n] of counts) {
      let child = this.eventsByName.get(name);
      if (!child) {
        // Event names are a small declared set; the bound only guards against a runaway caller.
        if (this.eventsByName.size > 10_000) this.eventsByName.clear();
        child = this.eventsPublished.labels({ name });
        this.eventsByName.set(name, child);
      }
      child.inc(n);
    }
  }

  // The labelled children, by route template, then by status and method as one number: every
  // key is a string the process already holds (its hash cached) or a small integer, so a
  // request builds no label object and no key string.
  private readonly durationByRoute = new Map<string, Map<number, Observer>>();

  /** Records one request's duration; `route` is the route's template (or a fixed word), never a raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const methodIndex = METHOD_INDEX.get(method) ?? OTHER_METHOD;
    let byStatus = this.durationByRoute.get(route);
    if (!byStatus) this.durationByRoute.set(route, (byStatus = new Map()));
    const key = status * METHOD_LABELS.length + methodIndex;
    let child = byStatus.get(key);
    if (!child) {
      child = this.requestDuration.labels({ method: METHOD_LABELS[methodIndex], route, status: String(status) });
      byStatus.set(key, child);
    }
    child.observe(seconds);
  }
}
