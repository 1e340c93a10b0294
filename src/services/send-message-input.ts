import { z } from 'zod';
import { attachmentInput } from '../attachments/input';
import { messageRoles } from '../db/schema';
import { id, metadata, text } from '../inputs/common';

/** chat.sendMessage's input, shared by its streamed forms and POST /api/chat (src/routes/ui-chat.ts). */
export const sendMessageInput = z.object({
  chatSessionId: id,
  content: text(100_000).pipe(z.string().trim().min(1, 'must not be empty')),
  role: z.enum(messageRoles).default('USER'),
  metadata: metadata.optional(),
  attachments: z.array(attachmentInput).max(20, 'has too many attachments (max 20)').default([]),
});
