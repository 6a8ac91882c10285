// MessageRenderer over the MJML email templates.
import type { MessageRenderer } from "../core/sendReminders.js";
import { renderAdminSummary, renderAllClear, renderDigest, type RenderContext } from "./digestEmail.js";

export function mjmlMessageRenderer(ctx: RenderContext): MessageRenderer {
  return {
    // The owner's digest carries the migration kit of each pool it shows in full, and when capped every item as CSV.
    digest: (plan) => renderDigest(plan, ctx),
    allClear: (plan) => renderAllClear(plan, ctx),
    adminSummary: (summary) => renderAdminSummary(summary, ctx),
  };
}
