import { defineConfig } from 'vitest/config';

/**
 * One config, two projects: `unit` (pure, no IO, fast) and `stack` (integration and end-to-end tests against a
 * real Kafka broker and a real Redis, provisioned once by the global setup). Workspace packages resolve to
 * their TypeScript sources through the `source` export condition, so tests never run stale builds.
 */
const resolve = { conditions: ['source', 'import', 'module', 'node', 'default'] };

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    reporters: ['default', './tests/support/summary-reporter.ts'],
    projects: [
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.unit.test.ts', 'services/*/src/**/*.unit.test.ts', 'apps/*/src/**/*.unit.test.ts', 'bench/src/**/*.unit.test.ts'],
          environment: 'node',
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'stack',
          include: [
            'packages/*/src/**/*.int.test.ts',
            'services/*/src/**/*.int.test.ts',
            'tests/**/*.int.test.ts',
            'tests/**/*.e2e.test.ts',
            // The console in headless Chromium against the real stack (tests/browser).
            'tests/**/*.browser.test.ts',
          ],
          environment: 'node',
          globalSetup: ['tests/support/global-setup.ts'],
          // One broker and two cores: files run one after another, each on its own topics and key space.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The fault suite (`npm run test:faults`): its own broker and Redis, services as real processes that it
        // kills. Not part of `npm test`: run it by name (vitest runs every project unless one is chosen, so
        // `npm test` names the other two).
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'faults',
          include: ['tests/faults/**/*.faults.test.ts'],
          environment: 'node',
          globalSetup: ['tests/faults/support/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
