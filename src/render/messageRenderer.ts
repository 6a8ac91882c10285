// MessageRenderer over the MJML email templates.
import type { MessageRenderer } from "../core/sendReminders.js";
import { renderAdminSummary, renderAllClear, renderDigest, type RenderContext } from "./digestEmail.js";
import { migrationAttachments } from "./migrationFiles.js";

export function mjmlMessageRenderer(ctx: RenderContext): MessageRenderer {
  return {
    // The owner's digest carries the migration kit of each pool in it (replacement body and steps).
    digest: async (plan) => {
      const email = await renderDigest(plan, ctx);
      const attachments = migrationAttachments(plan.items.map((i) => i.finding));
      return attachments.length > 0 ? { ...email, attachments } : email;
    },
    allClear: (plan) => renderAllClear(plan, ctx),
    adminSummary: (summary) => renderAdminSummary(summary, ctx),
  };
}
