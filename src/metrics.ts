import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitState } from './providers/circuit-breaker.js';
import type { ProviderError } from './providers/provider-error.js';
import type { ProviderObserver } from './providers/provider-observer.js';
import type { VideoObserver } from './moderation/analyse-video.js';
import type { ContentType, DecisionSource, PoolStats } from './store/store.js';
import type { AuditObserver, ReplayOutcome } from './store/audit-log.js';
import type { SpoolBacklog } from './store/audit-spool.js';

/**
 * The service's Prometheus metrics, served by GET /metrics. The only module that imports
 * prom-client. Each Metrics owns its Registry (not prom-client's global one), so several apps in
 * one process (the tests) keep separate counts.
 */

/** How an answer avoided a classifier call: from the store, or from a concurrent request's call. */
type AvoidedVia = 'cache_exact' | 'cache_near' | 'in_flight';

type DecisionRecord = {
  contentType: ContentType;
  decision: string;
  source: DecisionSource;
  /** True when the answer was shared from a concurrent request's provider call. */
  joinedInFlight?: boolean | undefined;
};

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const ffmpegBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Gauge values of moderation_provider_circuit_state: higher is worse, so `> 0` means "not closed". */
const circuitStateValues: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/** Error kinds come partly from provider answers: keep the label set small and safe. */
function errorKind(error: ProviderError): string {
  const kind = error.details.kind;
  return /^[A-Za-z_]{1,40}$/.test(kind) ? kind.toLowerCase() : 'other';
}

/** Read when scraped: the database's availability and the audit spool's backlog. */
export type DurabilitySources = {
  databaseReady: () => boolean;
  spoolBacklog: () => SpoolBacklog;
};

export class Metrics implements ProviderObserver, VideoObserver, AuditObserver {
  readonly registry = new Registry();
  private readonly httpRequests;
  private readonly httpDuration;
  private readonly decisions;
  private readonly avoided;
  private readonly providerCalls;
  private readonly providerDuration;
  private readonly providerErrors;
  private readonly providerRetries;
  private readonly circuitState;
  private readonly circuitRejections;
  private readonly ffmpegDuration;
  private readonly auditSpooled;
  private readonly auditReplayed;

  constructor(options: { poolStats?: (() => PoolStats) | undefined; durability?: DurabilitySources | undefined } = {}) {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'moderation_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'moderation_http_request_duration_seconds',
      help: 'Time from receiving a request to its response, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.decisions = new Counter({
      name: 'moderation_decisions_total',
      help: 'Decisions given (one per moderation_log row with a decision; batch items count one each).',
      labelNames: ['content_type', 'source', 'decision'] as const,
      registers,
    });
    this.avoided = new Counter({
      name: 'moderation_provider_calls_avoided_total',
      help: 'Answers given without a classifier call: from the store (cache_exact, cache_near) or shared with a concurrent request (in_flight).',
      labelNames: ['content_type', 'via'] as const,
      registers,
    });
    this.providerCalls = new Counter({
      name: 'moderation_provider_calls_total',
      help: 'Classifier calls (HTTP requests to a provider, or local inferences), retries included, by provider and outcome.',
      labelNames: ['provider', 'outcome'] as const,
      registers,
    });
    this.providerDuration = new Histogram({
      name: 'moderation_provider_call_duration_seconds',
      help: 'Duration of one classifier call, by provider.',
      labelNames: ['provider'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.providerErrors = new Counter({
      name: 'moderation_provider_errors_total',
      help: 'Failed classifier calls, by provider and kind (timeout, network, rate_limited, invalid_response, ...).',
      labelNames: ['provider', 'kind'] as const,
      registers,
    });
    this.providerRetries = new Counter({
      name: 'moderation_provider_retries_total',
      help: 'Failed classifier calls tried again, by provider.',
      labelNames: ['provider'] as const,
      registers,
    });
    this.circuitState = new Gauge({
      name: 'moderation_provider_circuit_state',
      help: 'Circuit breaker of each paid provider: 0 closed (calls go through), 1 half-open (one probe call under way), 2 open (calls fail fast).',
      labelNames: ['provider'] as const,
      registers,
    });
    this.circuitRejections = new Counter({
      name: 'moderation_provider_circuit_rejections_total',
      help: 'Calls an open circuit failed at once, without reaching the provider, by provider.',
      labelNames: ['provider'] as const,
      registers,
    });
    this.ffmpegDuration = new Histogram({
      name: 'moderation_ffmpeg_duration_seconds',
      help: 'ffprobe (step=probe) and ffmpeg frame sampling (step=sample, not counting time spent waiting for frames to be judged), by outcome.',
      labelNames: ['step', 'outcome'] as const,
      buckets: ffmpegBuckets,
      registers,
    });
    const poolStats = options.poolStats;
    if (poolStats) {
      // Read when scraped, so the numbers are those of that moment.
      new Gauge({
        name: 'moderation_db_pool_connections',
        help: 'Database pool connections by state (idle, in_use).',
        labelNames: ['state'] as const,
        registers,
        collect() {
          const stats = poolStats();
          this.set({ state: 'idle' }, stats.idle);
          this.set({ state: 'in_use' }, Math.max(0, stats.open - stats.idle));
        },
      });
      new Gauge({
        name: 'moderation_db_pool_max_connections',
        help: 'Most connections the database pool opens (DATABASE_POOL_SIZE).',
        registers,
        collect() {
          this.set(poolStats().maxConnections);
        },
      });
      new Gauge({
        name: 'moderation_db_pool_waiting_requests',
        help: 'Queries waiting for a free database connection.',
        registers,
        collect() {
          this.set(poolStats().waiting);
        },
      });
    }
    this.auditSpooled = new Counter({
      name: 'moderation_audit_spooled_rows_total',
      help: 'moderation_log rows written to the local audit spool because the database could not take them.',
      registers,
    });
    this.auditReplayed = new Counter({
      name: 'moderation_audit_replayed_rows_total',
      help: 'Spooled rows replayed, by outcome: inserted into moderation_log, duplicate (already stored), set_aside (unreadable or refused, kept in the .corrupt file).',
      labelNames: ['outcome'] as const,
      registers,
    });
    const durability = options.durability;
    if (durability) {
      new Gauge({
        name: 'moderation_database_up',
        help: '1 while the database is reached and migrated, 0 from start-up until then and during an outage.',
        registers,
        collect() {
          this.set(durability.databaseReady() ? 1 : 0);
        },
      });
      new Gauge({
        name: 'moderation_audit_spool_rows',
        help: 'Rows waiting in the audit spool for the database.',
        registers,
        collect() {
          this.set(durability.spoolBacklog().rows);
        },
      });
      new Gauge({
        name: 'moderation_audit_spool_bytes',
        help: 'Size of the audit spool files waiting for replay (at most AUDIT_SPOOL_MAX_BYTES).',
        registers,
        collect() {
          this.set(durability.spoolBacklog().bytes);
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  httpRequestFinished(labels: { method: string; route: string; status: number }, seconds: number): void {
    const values = { method: labels.method, route: labels.route, status: String(labels.status) };
    this.httpRequests.inc(values);
    this.httpDuration.observe(values, seconds);
  }

  decided(record: DecisionRecord): void {
    this.decisions.inc({ content_type: record.contentType, source: record.source, decision: record.decision });
    const via: AvoidedVia | undefined = record.joinedInFlight ? 'in_flight' : record.source === 'cache_exact' || record.source === 'cache_near' ? record.source : undefined;
    if (via) this.avoided.inc({ content_type: record.contentType, via });
  }

  callFinished(provider: string, seconds: number, error?: ProviderError): void {
    this.providerCalls.inc({ provider, outcome: error ? 'error' : 'success' });
    this.providerDuration.observe({ provider }, seconds);
    if (error) this.providerErrors.inc({ provider, kind: errorKind(error) });
  }

  retrying(provider: string): void {
    this.providerRetries.inc({ provider });
  }

  circuitChanged(provider: string, state: CircuitState): void {
    this.circuitState.set({ provider }, circuitStateValues[state]);
  }

  circuitRejected(provider: string): void {
    this.circuitRejections.inc({ provider });
  }

  ffmpegFinished(step: 'probe' | 'sample', seconds: number, outcome: 'ok' | 'error'): void {
    this.ffmpegDuration.observe({ step, outcome }, seconds);
  }

  auditRowsSpooled(count: number): void {
    this.auditSpooled.inc(count);
  }

  auditRowsReplayed(outcome: ReplayOutcome, count: number): void {
    this.auditReplayed.inc({ outcome }, count);
  }
}
