import { CommonEnv } from '@consult/config';

/** Addresses of Kafka and Redis come from @consult/environment (configured → launcher); these name the data. */
export const ReplayEnv = {
  TOPIC_PREFIX: CommonEnv.TOPIC_PREFIX,
  KEY_PREFIX: CommonEnv.KEY_PREFIX,
  LOG_LEVEL: CommonEnv.LOG_LEVEL,
};
