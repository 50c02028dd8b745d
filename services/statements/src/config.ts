import { CommonEnv } from '@consult/config';

export const StatementsServiceEnv = { ...CommonEnv };
