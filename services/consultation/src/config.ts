import { CommonEnv } from '@consult/config';

export const ConsultationServiceEnv = { ...CommonEnv };
