import { collectDefaultMetrics, Counter, Registry, type Metric } from 'prom-client';

/** The method labels: the known methods, then OTHER for any other token a client sends (series stay bounded). */
const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER'] as const;
const METHOD_INDEX = new Map<string, number>(METHOD_LABELS.slice(0, -1).map((method, index) => [method, index]));
const OTHER_METHOD = METHOD_LABELS.length - 1;

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One series of the request histogram: counts per bucket (not yet cumulative), sum and count. */
interface DurationSeries {
  readonly labels: { method: string; route: string; status: string };
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * The request-duration histogram, written for the one call every request makes. prom-client's
 * `Histogram#observe` builds a label object and a key string on every call (about a
 * microsecond with the garbage it leaves, on a path that costs a few); here a request finds
 * its series by references the process holds and adds two numbers. It answers the registry
 * as prom-client's own histograms do (`get()` in their shape, `reset()`), so `/metrics`
 * prints the same lines: cumulative `_bucket` series with `le` first, then `_sum`, `_count`.
 */
class RequestDurationHistogram {
  readonly name = 'rapport_http_request_duration_seconds';
  readonly help = 'HTTP request duration by route template and status';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private all: DurationSeries[] = [];
  /** Bumped by `reset()`, so series handed out before it start again. */
  generation = 0;

  series(labels: DurationSeries['labels']): DurationSeries {
    const series: DurationSeries = { labels, counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
    this.all.push(series);
    return series;
  }

  observe(series: DurationSeries, seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    series.sum += seconds;
    series.count += 1;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= DURATION_BUCKETS[i]) {
        series.counts[i] += 1;
        return;
      }
    }
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ value: number; metricName: string; labels: Record<string, string | number> }> }> {
    const bucket = `${this.name}_bucket`;
    const values = [];
    for (const s of this.all) {
      let cumulative = 0;
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        cumulative += s.counts[i];
        values.push({ value: cumulative, metricName: bucket, labels: { le: DURATION_BUCKETS[i], ...s.labels } });
      }
      values.push({ value: s.count, metricName: bucket, labels: { le: '+Inf', ...s.labels } });
      values.push({ value: s.sum, metricName: `${this.name}_sum`, labels: { ...s.labels } });
      values.push({ value: s.count, metricName: `${this.name}_count`, labels: { ...s.labels } });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.all = [];
    this.generation++;
  }
}

/** The system's Prometheus metrics. One registry per app, so several apps in one process (tests) never collide. */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new RequestDurationHistogram();
  readonly eventsPublished: Counter<'name'>;
  readonly webhookDeliveries: Counter<'outcome'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'rapport_' });
    this.registry.registerMetric(this.requestDuration as unknown as Metric);
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
  private durationByRoute = new Map<string, Map<number, DurationSeries>>();
  private durationGeneration = 0;

  /** Records one request's duration; `route` is the route's template (or a fixed word), never a raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const methodIndex = METHOD_INDEX.get(method) ?? OTHER_METHOD;
    if (this.durationGeneration !== this.requestDuration.generation) {
      this.durationByRoute = new Map();
      this.durationGeneration = this.requestDuration.generation;
    }
    let byStatus = this.durationByRoute.get(route);
    if (!byStatus) this.durationByRoute.set(route, (byStatus = new Map()));
    const key = status * METHOD_LABELS.length + methodIndex;
    let series = byStatus.get(key);
    if (!series) {
      series = this.requestDuration.series({ method: METHOD_LABELS[methodIndex], route, status: String(status) });
      byStatus.set(key, series);
    }
    this.requestDuration.observe(series, seconds);
  }
}
