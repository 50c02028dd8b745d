// Runs before `npm start` and `npm test`: on a fresh clone, installs the locked dependencies first, so the
// README's two commands work as they are. Uses nothing but Node itself.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`Node 20 or newer is required (this is ${process.version}).`);
  process.exit(3);
}
if (!existsSync('node_modules/.package-lock.json')) {
  console.error('Installing dependencies (npm ci) …');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
