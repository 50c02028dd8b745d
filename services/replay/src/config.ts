import { Type } from '@sinclair/typebox';
import { CommonEnv, KafkaClientEnv } from '@consult/config';

/** Addresses of Kafka and Redis come from @consult/environment (configured → launcher); these name the data. */
export const ReplayEnv = {
  TOPIC_PREFIX: CommonEnv.TOPIC_PREFIX,
  KEY_PREFIX: CommonEnv.KEY_PREFIX,
  LOG_LEVEL: CommonEnv.LOG_LEVEL,
  ...KafkaClientEnv,
  ...AttachmentEnv(),
};

/** Where attachments are stored (the gateway's settings): a directory, or an S3-compatible bucket. */
export function AttachmentEnv() {
  return {
    ATTACHMENTS_DIR: Type.String({ default: '.data/attachments' }),
    ATTACHMENTS_S3_BUCKET: Type.Optional(Type.String({ minLength: 1 })),
    ATTACHMENTS_S3_ENDPOINT: Type.Optional(Type.String({ minLength: 1 })),
    ATTACHMENTS_S3_REGION: Type.Optional(Type.String({ minLength: 1 })),
  };
}
