import { describe, expect, it } from 'vitest';
import { isTimeZone } from '@consult/domain';
import { GatewayEnv, parseTimeZoneTable } from './config.js';
import { loadConfig } from '@consult/config';

describe('MEMBER_STATE_TIME_ZONES', () => {
  it('reads CODE=Area/City pairs over the default table', () => {
    expect(parseTimeZoneTable('RUS=Asia/Vladivostok, IDN=Asia/Makassar', isTimeZone)).toEqual({
      RUS: 'Asia/Vladivostok',
      IDN: 'Asia/Makassar',
    });
    expect(parseTimeZoneTable('', isTimeZone)).toEqual({});
  });

  it('refuses unknown zones and malformed codes, so start-up fails with a clear line', () => {
    expect(() => parseTimeZoneTable('RUS=Mars/Olympus', isTimeZone)).toThrow(/RUS=Mars\/Olympus/);
    expect(() => parseTimeZoneTable('rus=Europe/Moscow', isTimeZone)).toThrow(/invalid/);
    expect(() => parseTimeZoneTable('RUS', isTimeZone)).toThrow(/invalid/);
  });
});

const required = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('gateway configuration of attachments', () => {
  it('stores attachments in .data/attachments unless a directory or an S3 bucket is configured', () => {
    expect(loadConfig(GatewayEnv, required).ATTACHMENTS_DIR).toBe('.data/attachments');
    const s3 = loadConfig(GatewayEnv, { ...required, ATTACHMENTS_S3_BUCKET: 'consult', ATTACHMENTS_S3_ENDPOINT: 'http://127.0.0.1:9000', ATTACHMENTS_S3_REGION: 'eu-west-1' });
    expect(s3).toMatchObject({ ATTACHMENTS_S3_BUCKET: 'consult', ATTACHMENTS_S3_ENDPOINT: 'http://127.0.0.1:9000', ATTACHMENTS_S3_REGION: 'eu-west-1' });
  });
});

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
