import { CommonEnv } from '@consult/config';

export const ProjectorEnv = { ...CommonEnv };
