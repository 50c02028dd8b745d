import { describe, expect, it } from 'vitest';
import { startBanner } from './banner.js';

describe('startBanner', () => {
  it("prints the API's and the console's addresses, the development keys and the demo consultation", () => {
    const banner = startBanner('http://127.0.0.1:8080', 'c0ffee00-0000-4000-8000-000000000000');
    expect(banner).toContain('running at http://127.0.0.1:8080  (API docs: http://127.0.0.1:8080/docs)');
    expect(banner).toContain('Console: http://127.0.0.1:8080/app/');
    expect(banner).toContain('dev-secretariat-key-0001');
    expect(banner).toContain('Demo consultation IO/218: c0ffee00-0000-4000-8000-000000000000');
  });
});
