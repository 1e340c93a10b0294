import type { BranchRow } from '../db/queries/branches';
import { iso } from './dates';

/**
 * The branches of a session (chat.listBranches): for each fork on the active branch (a user
 * message that was edited), its alternatives oldest first. A branch's id is its first message's.
 */
export function branchesView(chatSessionId: string, rows: BranchRow[]) {
  const forks: { messageId: string; branches: BranchView[] }[] = [];
  for (const r of rows) {
    if (r.fork === null || r.id === null || r.created_at === null) continue;
    let fork = forks.at(-1);
    if (fork?.messageId !== r.fork) {
      fork = { messageId: r.fork, branches: [] };
      forks.push(fork);
    }
    fork.branches.push({
      branchId: r.id,
      messageId: r.id,
      content: r.content ?? '',
      createdAt: iso(r.created_at),
      messageCount: Number(r.message_count ?? 0),
      active: r.active === true,
    });
  }
  return { chatSessionId, forks };
}

type BranchView = {
  branchId: string;
  messageId: string;
  content: string;
  createdAt: string;
  messageCount: number;
  active: boolean;
};

export type BranchesView = ReturnType<typeof branchesView>;
