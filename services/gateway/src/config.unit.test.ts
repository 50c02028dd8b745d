import { describe, expect, it } from 'vitest';
import { loadConfig } from '@consult/config';
import { GatewayEnv } from './config.js';

const required = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('gateway configuration of attachments', () => {
  it('stores attachments in .data/attachments unless a directory or an S3 bucket is configured', () => {
    expect(loadConfig(GatewayEnv, required).ATTACHMENTS_DIR).toBe('.data/attachments');
    const s3 = loadConfig(GatewayEnv, { ...required, ATTACHMENTS_S3_BUCKET: 'consult', ATTACHMENTS_S3_ENDPOINT: 'http://127.0.0.1:9000', ATTACHMENTS_S3_REGION: 'eu-west-1' });
    expect(s3).toMatchObject({ ATTACHMENTS_S3_BUCKET: 'consult', ATTACHMENTS_S3_ENDPOINT: 'http://127.0.0.1:9000', ATTACHMENTS_S3_REGION: 'eu-west-1' });
  });
});
