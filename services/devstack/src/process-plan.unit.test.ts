import { describe, expect, it } from 'vitest';
import { gatewayUrls, processPlan, SERVICES } from './process-plan.js';

describe('processPlan', () => {
  it('runs one of each service by default, the gateway on the given port', () => {
    const plan = processPlan(1, 8080);
    expect(plan.map((p) => p.service)).toEqual([...SERVICES]);
    expect(gatewayUrls(plan)).toEqual(['http://127.0.0.1:8080']);
  });

  it('runs every service as many times as asked, gateways on consecutive ports', () => {
    const plan = processPlan(2, 8080);
    expect(plan).toHaveLength(2 * SERVICES.length);
    for (const service of SERVICES) expect(plan.filter((p) => p.service === service).map((p) => p.instance)).toEqual([1, 2]);
    expect(gatewayUrls(plan)).toEqual(['http://127.0.0.1:8080', 'http://127.0.0.1:8081']);
  });

  it('refuses counts a consumer group could not spread over', () => {
    for (const bad of [0, 7, 1.5, Number.NaN]) expect(() => processPlan(bad, 8080)).toThrow(/INSTANCES/);
  });
});
