import { describe, expect, it } from 'vitest';
import { startThrowawayMariadb, throwawayMariadbAvailable } from './helpers/throwaway-mariadb.js';
import { mysqlSoakDatabase, sqliteSoakDatabase, type SoakDatabase } from './load/soak-databases.js';
import { formatSoakReport, runSoak, type SoakOptions, type SoakReport } from './load/soak.js';

/**
 * The load and soak harness in its short mode: the real service process, 16 concurrent clients,
 * three rounds of 100 requests over the four /analyse endpoints, fake providers injecting errors,
 * 429s, resets and timeouts, and on MariaDB the database stopped and started again mid-run. The
 * long mode is `npx tsx bench/soak.ts`. No assertion on time: the bounds only stop a hung run.
 */

const mysqlRequired = process.env.REQUIRE_MYSQL === '1';
if (!throwawayMariadbAvailable && mysqlRequired) throw new Error('REQUIRE_MYSQL=1 but no MariaDB server binaries were found for the soak test.');

const shortMode: Omit<SoakOptions, 'database'> = {
  rounds: 3,
  requestsPerRound: 100,
  concurrency: 16,
  seed: 7,
  // Higher than the long mode's rates, so a short run meets every kind of fault.
  faults: { serverError: 0.08, rateLimited: 0.05, reset: 0.04, timeout: 0.02 },
  newImagesPerRound: 8,
  newVideosPerRound: 2,
};

function expectInvariants(report: SoakReport): void {
  const summary = formatSoakReport(report);
  for (const invariant of report.invariants) expect(invariant.ok, `${invariant.name}: ${invariant.detail}\n\n${summary}`).toBe(true);
  // The run exercised what it claims to: every endpoint, and faults from both providers.
  for (const [endpoint, figures] of Object.entries(report.perEndpoint)) expect(figures.requests, `requests to ${endpoint}`).toBeGreaterThan(0);
  for (const provider of ['sightengine', 'gemini'] as const) {
    const { none, ...faults } = report.injected[provider];
    expect(none, `${provider} answered normally`).toBeGreaterThan(0);
    expect(Object.values(faults).reduce((sum, n) => sum + n, 0), `faults injected by ${provider}`).toBeGreaterThan(0);
  }
}

async function soak(database: SoakDatabase, options: Partial<SoakOptions> = {}): Promise<SoakReport> {
  return runSoak({ database, ...shortMode, ...options });
}

describe('load and soak (short mode)', () => {
  it('SQLite: the invariants hold under concurrent load with provider faults', async () => {
    const database = await sqliteSoakDatabase();
    try {
      expectInvariants(await soak(database));
    } finally {
      await database.close();
    }
  }, 300_000);

  it.skipIf(!throwawayMariadbAvailable)('MariaDB, restarted mid-run: the invariants hold, and the outage answered 503 database_unavailable', async () => {
    const server = await startThrowawayMariadb();
    try {
      const database = await mysqlSoakDatabase(server.url, { name: 'mariadb (throwaway)', server });
      const report = await soak(database, { databaseRestart: { round: 2, outageMs: 3000 } });
      expectInvariants(report);
      expect(report.outage?.databaseUnavailable).toBeGreaterThan(0);
      // The spooled refusals came back: rows were spooled and replayed.
      expect(report.serviceMetrics.moderation_audit_spooled_rows_total).toBeGreaterThan(0);
      expect(report.serviceMetrics.moderation_audit_replayed_rows_total).toBe(report.serviceMetrics.moderation_audit_spooled_rows_total);
    } finally {
      await server.destroy();
    }
  }, 300_000);
});
