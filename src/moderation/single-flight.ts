import type { DecisionSource } from '../store/store.js';
import type { AuditRecord } from './audit-record.js';

/** One execution of shared work, as seen by one of the callers waiting for it. */
export type Flight<Value> = {
  done: Promise<Value>;
  /** What the work learned for the audit log (sha256, phash, decision, ...), filled in as it runs. */
  trail: AuditRecord;
  /** True for every caller but the one that started the work. */
  joined: boolean;
};

/**
 * Concurrent requests for the same work share one execution. The first caller for a key starts
 * the work; callers arriving while it runs get the same promise and trail. The key is forgotten as
 * soon as the work settles, so a failure reaches everyone who was waiting but is never remembered:
 * the next caller starts afresh.
 */
export class SingleFlight<Value> {
  private readonly running = new Map<string, { done: Promise<Value>; trail: AuditRecord }>();

  run(key: string, work: (trail: AuditRecord) => Promise<Value>): Flight<Value> {
    const existing = this.running.get(key);
    if (existing) return { ...existing, joined: true };
    const trail: AuditRecord = {};
    const done = work(trail).finally(() => this.running.delete(key));
    this.running.set(key, { done, trail });
    return { done, trail, joined: false };
  }

  /** Keys in flight; for metrics and tests. */
  get size(): number {
    return this.running.size;
  }
}

/** What a shared result must say for a joiner to report it as a duplicate. */
export type Shareable = { isDuplicate: boolean; source: DecisionSource; storedId?: number | undefined };

/**
 * Waits for a flight and copies what it learned into the caller's audit record. A caller that joined
 * someone else's flight reports the decision as a duplicate, without a provider call of its own; a
 * shared provider failure stays a failure (nothing was reused).
 */
export async function joinFlight<T extends Shareable>(flight: Flight<T>, audit: AuditRecord): Promise<T> {
  try {
    const result = await flight.done;
    Object.assign(audit, flight.trail);
    if (!flight.joined || result.source === 'error' || result.isDuplicate) return result;
    Object.assign(audit, { source: 'cache_exact', matchedItemId: result.storedId ?? null, matchedDistance: 0, rawResponse: null, joinedInFlight: true });
    return { ...result, isDuplicate: true, source: 'cache_exact' };
  } catch (error) {
    Object.assign(audit, flight.trail);
    throw error;
  }
}
