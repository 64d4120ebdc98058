/**
 * Checks the container files with real tools, because building and running the image needs a Docker
 * engine that developers' machines and CI may not have.
 *
 *   npm run lint:container
 *   REQUIRE_COMPOSE=1 npm run lint:container     (CI: a missing Compose implementation is a failure)
 *
 * - Dockerfile: dockerfile-utils, the validator of the Dockerfile language server (unknown
 *   instructions and flags, bad ports, durations, HEALTHCHECK and JSON forms, ...), every rule an error.
 * - docker-compose.yml: `docker compose config` (or Debian's `docker-compose`, Compose v1, which loads a
 *   file without an engine): validation against the Compose specification's schema, variable
 *   interpolation and env_file. It runs twice in a scratch folder: with .env.example plus the two
 *   secrets the README asks for, which must load and give the service a MySQL DATABASE_URL, and
 *   without MYSQL_PASSWORD, which must be refused with a message naming it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate, ValidationSeverity } from 'dockerfile-utils';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const failures: string[] = [];

function lintDockerfile(): void {
  const content = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const strict = ValidationSeverity.ERROR;
  const diagnostics = validate(content, {
    deprecatedMaintainer: strict,
    directiveCasing: strict,
    emptyContinuationLine: strict,
    instructionCasing: strict,
    instructionCmdMultiple: strict,
    instructionEntrypointMultiple: strict,
    instructionHealthcheckMultiple: strict,
    instructionJSONInSingleQuotes: strict,
    instructionWorkdirRelative: strict,
  });
  for (const diagnostic of diagnostics) failures.push(`Dockerfile:${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
  console.log(`Dockerfile: dockerfile-utils found ${diagnostics.length} problem(s).`);
}

/** `docker compose` (v2) when the plugin is there, else `docker-compose` (v1), else null. */
function composeCommand(): string[] | null {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(command[0] as string, [...command.slice(1), 'version'], { encoding: 'utf8' });
    if (probe.status === 0) return command;
  }
  return null;
}

function composeConfig(command: string[], envFile: string): { status: number | null; output: string } {
  const folder = mkdtempSync(path.join(tmpdir(), 'compose-lint-'));
  try {
    for (const file of ['docker-compose.yml', 'Dockerfile']) copyFileSync(path.join(repoRoot, file), path.join(folder, file));
    writeFileSync(path.join(folder, '.env'), envFile);
    const result = spawnSync(command[0] as string, [...command.slice(1), 'config'], { cwd: folder, encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function lintCompose(): void {
  const command = composeCommand();
  if (!command) {
    const message = 'docker-compose.yml: skipped, neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose).';
    if (process.env.REQUIRE_COMPOSE === '1') failures.push(message);
    else console.log(message);
    return;
  }
  const version = spawnSync(command[0] as string, [...command.slice(1), 'version', '--short'], { encoding: 'utf8' }).stdout.trim();
  const example = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
  if (!/^# MYSQL_PASSWORD=$/m.test(example) || !/^API_KEYS=$/m.test(example)) {
    failures.push('.env.example: expected the lines "API_KEYS=" and "# MYSQL_PASSWORD=" that the README tells users to fill in.');
    return;
  }
  const password = 'c0mp0se0check0password';
  const filled = example.replace(/^API_KEYS=$/m, 'API_KEYS=ci:0123456789abcdef0123456789abcdef').replace(/^# MYSQL_PASSWORD=$/m, `MYSQL_PASSWORD=${password}`);

  const valid = composeConfig(command, filled);
  if (valid.status !== 0) {
    failures.push(`docker-compose.yml with .env.example + API_KEYS + MYSQL_PASSWORD does not load:\n${valid.output}`);
  } else {
    for (const expected of [`DATABASE_URL: mysql://moderation:${password}@mysql:3306/moderation`, 'HOST: 0.0.0.0', 'condition: service_healthy']) {
      if (!valid.output.includes(expected)) failures.push(`docker-compose.yml: the resolved configuration lacks "${expected}".`);
    }
  }
  const withoutPassword = composeConfig(command, example.replace(/^API_KEYS=$/m, 'API_KEYS=ci:0123456789abcdef0123456789abcdef'));
  if (withoutPassword.status === 0 || !withoutPassword.output.includes('set MYSQL_PASSWORD in .env')) {
    failures.push(`docker-compose.yml: a .env without MYSQL_PASSWORD must be refused with a message naming it; got status ${withoutPassword.status}:\n${withoutPassword.output}`);
  }
  console.log(`docker-compose.yml: checked with \`${command.join(' ')} config\` (${version}).`);
}

lintDockerfile();
lintCompose();
if (failures.length > 0) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('Container files: no problems found.');
