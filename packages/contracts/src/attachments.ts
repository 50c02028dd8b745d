import { Type } from '@sinclair/typebox';
import { AttachmentRef } from './primitives.js';

/**
 * Attachments: the reference an event carries (AttachmentRef, beside the other primitives because consultation
 * documents use it too) and how many an item may carry. The bytes stay in the store (packages/attachments).
 */
export const MAX_ATTACHMENTS = 10;
export const AttachmentRefs = Type.Array(AttachmentRef, { minItems: 1, maxItems: MAX_ATTACHMENTS });
