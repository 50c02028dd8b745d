/** The services `npm start` runs, in start order. */
export const SERVICES = ['consultation', 'statements', 'projector', 'deadlines', 'notifier', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface PlannedProcess {
  service: ServiceName;
  /** 1-based, per service. */
  instance: number;
  /** The HTTP port of a gateway instance: the first on `port`, the next ones on the ports after it. */
  port?: number;
}

/** Every process of a development stack with `instances` of each service (INSTANCES, 1 to 6). */
export function processPlan(instances: number, port: number): PlannedProcess[] {
  if (!Number.isInteger(instances) || instances < 1 || instances > 6)
    throw new RangeError(`INSTANCES must be a whole number from 1 to 6 (the partitions a group can spread over), not ${instances}`);
  return SERVICES.flatMap((service) =>
    Array.from({ length: instances }, (_, i) => (service === 'gateway' ? { service, instance: i + 1, port: port + i } : { service, instance: i + 1 })),
  );
}

/** Where the gateways of a plan listen. */
export function gatewayUrls(plan: PlannedProcess[]): string[] {
  return plan.filter((p) => p.port !== undefined).map((p) => `http://127.0.0.1:${p.port}`);
}
