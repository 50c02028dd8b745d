import { allTopicSpecs } from '@consult/contracts';
import { topicOffsets } from '@consult/kafka';
import type { Stack } from './stack.js';

/**
 * Raw HTTP for tests that must send what no well-behaved client would: bytes that are not UTF-8, broken JSON,
 * odd headers. Answers are read as text and parsed when they are JSON.
 */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | undefined;
}

export interface RawRequest {
  method: string;
  path: string;
  key?: string | undefined;
  body?: string | Uint8Array | undefined;
  headers?: Record<string, string> | undefined;
}

export async function raw(baseUrl: string, request: RawRequest): Promise<RawAnswer> {
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  if (request.key !== undefined && !('authorization' in headers)) headers.authorization = `Bearer ${request.key}`;
  if (request.body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The sum of the end offsets of every topic of a stack: unchanged means nothing was produced anywhere. */
export async function producedSoFar(stack: Stack): Promise<number> {
  let total = 0;
  for (const spec of allTopicSpecs(stack.topics))
    for (const o of (await topicOffsets(stack.kafka, spec.name, stack.logger)).values()) total += o.high;
  return total;
}
