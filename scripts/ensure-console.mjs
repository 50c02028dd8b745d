// Runs before `npm start` and `npm test`: builds the console (apps/console, served by the gateway under /app)
// when it has no build or its sources changed since, so a fresh clone needs no manual step.
//
//   node scripts/ensure-console.mjs [appDir [build command …]]
//
// Both arguments are for testing the check on a copy (tests/browser): by default apps/console, built with
// `npm run build -w @consult/console`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const [app = 'apps/console', ...build] = process.argv.slice(2);
const [command, ...args] = build.length > 0 ? build : ['npm', 'run', 'build', '--silent', '-w', '@consult/console'];
const built = join(app, 'dist', 'index.html');

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(app, p)).filter(existsSync);
const stale = !existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs;
if (stale) {
  console.error('Building the console (vite build) …');
  const result = spawnSync(command, args, { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
