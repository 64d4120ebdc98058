import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { mysqlSoakDatabase, sqliteSoakDatabase, type SoakDatabase } from '../test/load/soak-databases.js';
import { formatSoakReport, runSoak } from '../test/load/soak.js';
import { startThrowawayMariadb, throwawayMariadbAvailable } from '../test/helpers/throwaway-mariadb.js';

/**
 * The load and soak test, long mode: the real service process under many concurrent clients over
 * all four /analyse endpoints, with fake providers injecting errors, 429s, resets and timeouts,
 * and (on MariaDB) the database stopped and started again in the middle of the run. Prints the
 * figures and the invariants; exits 1 when an invariant does not hold. Loopback only.
 *
 *   npx tsx bench/soak.ts                       # SQLite, then a throwaway MariaDB with one restart
 *   options: --backends sqlite,mariadb  --rounds 5  --requests 400  --concurrency 24
 *            --outage-seconds 5  --seed 1  --restart-round (default: the middle round; 0: no restart)
 */

const { values: options } = parseArgs({
  options: {
    backends: { type: 'string', default: 'sqlite,mariadb' },
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '24' },
    'outage-seconds': { type: 'string', default: '5' },
    'restart-round': { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});

const rounds = Number(options.rounds);
const restartRound = Number(options['restart-round'] ?? Math.ceil(rounds / 2));

console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`);

let failed = false;
for (const backend of options.backends.split(',')) {
  let database: SoakDatabase;
  let cleanUp: () => Promise<void>;
  if (backend === 'sqlite') {
    database = await sqliteSoakDatabase();
    cleanUp = () => database.close();
  } else if (backend === 'mariadb') {
    if (!throwawayMariadbAvailable) {
      console.log('mariadb: skipped, no MariaDB server binaries (mariadbd, mariadb-install-db) on this machine.\n');
      continue;
    }
    const server = await startThrowawayMariadb();
    database = await mysqlSoakDatabase(server.url, { name: 'mariadb (throwaway, restarted once)', server });
    cleanUp = () => server.destroy();
  } else {
    throw new Error(`unknown backend ${backend}: use sqlite or mariadb`);
  }
  const started = Date.now();
  try {
    const report = await runSoak({
      database,
      rounds,
      requestsPerRound: Number(options.requests),
      concurrency: Number(options.concurrency),
      seed: Number(options.seed),
      databaseRestart: database.server && restartRound > 0 ? { round: restartRound, outageMs: Number(options['outage-seconds']) * 1000 } : null,
      log: (line) => console.log(`  ${line}`),
    });
    console.log(`\n${formatSoakReport(report)}\n\n${backend}: ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`);
    if (report.invariants.some((invariant) => !invariant.ok)) failed = true;
  } finally {
    await cleanUp();
  }
}
process.exit(failed ? 1 : 0);
