import type { Logger } from '@consult/config';
import type { TopicNames } from '@consult/contracts';
import type { KafkaClient } from '@consult/kafka';
import { KeySpace, type RedisClient as Redis } from '@consult/redis';
import { formatBrokenLink } from './chain.js';
import { compareKeySpaces, formatDifference } from './compare.js';
import { exportEvents, exportSources } from './export.js';
import { consultationHistory, formatHistoryLine, stateAsOf } from './history.js';
import { ProgressBar, type ProgressSink } from './progress.js';
import { rebuildPrefix, rebuildReadModels } from './rebuild.js';
import { formatQuarantined, quarantinedRecords } from './quarantine.js';
import { verifyTopics } from './verify.js';
import { AttachmentCollector, formatAttachmentProblem, verifyAttachments } from './attachments.js';
import type { AttachmentStore } from '@consult/attachments';

export interface ReplayDeps {
  kafka: KafkaClient;
  redis: Redis;
  logger: Logger;
  topics: TopicNames;
  keyPrefix: string;
  /** The final report (stdout in the CLI). */
  out: (line: string) => void;
  /** Progress bars (stderr in the CLI); none when absent. */
  progress?: (label: string) => ProgressSink;
}

export type ReplayCommand =
  | { kind: 'history'; consultation: string; asOf?: string }
  | { kind: 'rebuild'; keep?: boolean }
  /** With `attachments`, every referenced file is also checked in that store (present, bytes match the digest). */
  | { kind: 'verify'; attachments?: AttachmentStore }
  /** Every consultation's and organisation's stream; with `consultation` or `cso`, only those named. */
  | { kind: 'export'; file: string; consultation?: string; cso?: string }
  | { kind: 'quarantine' };

const bar = (deps: ReplayDeps, label: string): { progress?: ProgressSink } =>
  deps.progress ? { progress: deps.progress(label) } : {};

/** Runs one replay command and returns the process exit code: 0 all good, 1 differences or broken links. */
export async function runReplayCommand(deps: ReplayDeps, command: ReplayCommand): Promise<number> {
  const { kafka, redis, logger, topics, out } = deps;
  switch (command.kind) {
    case 'history': {
      const p = bar(deps, 'history');
      const events = await consultationHistory({ kafka, logger, topic: topics.consultationEvents, consultation: command.consultation, ...p });
      p.progress?.done();
      if (command.asOf === undefined) {
        for (const event of events) out(formatHistoryLine(event));
        out(`${events.length} events`);
        return events.length > 0 ? 0 : 1;
      }
      const state = stateAsOf(events, command.asOf);
      if (!state) {
        out(`consultation ${command.consultation} did not exist at ${command.asOf}`);
        return 1;
      }
      out(JSON.stringify(state, null, 2));
      return 0;
    }
    case 'rebuild': {
      const keyPrefix = rebuildPrefix(deps.keyPrefix);
      try {
        const result = await rebuildReadModels({ kafka, redis, logger, topics, keyPrefix, ...bar(deps, 'rebuild') });
        const compared = await compareKeySpaces(redis, deps.keyPrefix, keyPrefix);
        for (const d of compared.differences) out(formatDifference(d));
        out(
          `rebuilt ${result.events} messages into ${keyPrefix} in ${(result.ms / 1000).toFixed(1)} s (${result.eventsPerSecond} events/s); ` +
            `compared ${compared.keys} keys with ${deps.keyPrefix}: ${compared.differences.length} differences`,
        );
        if (command.keep) out(`kept the rebuilt key space ${keyPrefix}`);
        return compared.differences.length === 0 ? 0 : 1;
      } finally {
        // A failed rebuild never leaves a half-built key space behind; a kept one stays for inspection.
        if (!command.keep) await new KeySpace(keyPrefix).clear(redis);
      }
    }
    case 'verify': {
      const p = bar(deps, 'verify');
      const collector = command.attachments ? new AttachmentCollector() : null;
      const report = await verifyTopics({
        kafka,
        logger,
        topics: [topics.consultationEvents, topics.csoEvents],
        ...p,
        ...(collector ? { onRecord: (record) => collector.add(record) } : {}),
      });
      p.progress?.done();
      for (const link of report.broken) out(formatBrokenLink(link));
      out(
        `verified ${report.events} events in ${report.streams} streams in ${(report.ms / 1000).toFixed(1)} s ` +
          `(${Math.round((report.events * 1000) / Math.max(report.ms, 1))} events/s): ${report.broken.length} broken`,
      );
      if (!collector || !command.attachments) return report.broken.length === 0 ? 0 : 1;
      const files = await verifyAttachments(command.attachments, collector.references.values());
      for (const problem of files.problems) out(formatAttachmentProblem(problem));
      out(`verified ${files.checked} referenced attachments in ${command.attachments.description}: ${files.problems.length} missing or altered`);
      return report.broken.length === 0 && files.problems.length === 0 ? 0 : 1;
    }
    case 'quarantine': {
      const records = await quarantinedRecords(kafka, logger, topics.quarantine);
      for (const record of records) out(formatQuarantined(record));
      out(`${records.length} quarantined records`);
      return 0;
    }
    case 'export': {
      const p = bar(deps, 'export');
      const only = {
        ...(command.consultation !== undefined ? { consultation: command.consultation } : {}),
        ...(command.cso !== undefined ? { cso: command.cso } : {}),
      };
      const result = await exportEvents({ kafka, logger, sources: exportSources(topics, only), file: command.file, ...p });
      p.progress?.done();
      out(`exported ${result.events} events of ${result.streams} streams to ${command.file} in ${(result.ms / 1000).toFixed(1)} s`);
      return 0;
    }
  }
}

export const progressOnStderr = (label: string): ProgressSink => new ProgressBar(label);
