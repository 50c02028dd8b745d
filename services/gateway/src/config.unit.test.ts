import { loadConfig } from '@consult/config';
import { describe, expect, it } from 'vitest';
import { GatewayEnv } from './config.js';

describe('gateway settings', () => {
  it('limit abuse by default: 1,200 requests a minute per key, 30 s to send a request, 10 streams and 100 subscriptions per principal', () => {
    const config = loadConfig(GatewayEnv, { KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379' });
    expect(config).toMatchObject({
      RATE_LIMIT_MAX: 1_200,
      RATE_LIMIT_WINDOW_MS: 60_000,
      REQUEST_TIMEOUT_MS: 30_000,
      MAX_EVENT_STREAMS_PER_PRINCIPAL: 10,
      MAX_SUBSCRIPTIONS_PER_PRINCIPAL: 100,
      ALLOW_PRIVATE_WEBHOOK_TARGETS: false,
    });
    expect(loadConfig(GatewayEnv, { KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379', RATE_LIMIT_MAX: '0' }).RATE_LIMIT_MAX).toBe(0);
  });
});
