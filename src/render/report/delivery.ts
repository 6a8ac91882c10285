// What Communication Services reported of the messages it accepted: accepted (no report yet), delivered, failed,
// and the recent deliveries that failed (their addresses are routed on to the next owner level).
import type { DeliverySummary, OutboxBacklog } from "../../core/model.js";
import { escapeHtml } from "../escapeHtml.js";
import { backlogSentence, formatNumber, isoDay } from "../format.js";

export function renderDelivery(delivery: DeliverySummary | undefined, backlog?: OutboxBacklog): string {
  if (!delivery) return "";
  const rows = delivery.undelivered
    .map(
      (u) =>
        `<tr><td>${escapeHtml(u.recipient)}</td><td>${escapeHtml(u.status)}</td><td class="nowrap">${escapeHtml(isoDay(u.at))}</td><td class="small">${escapeHtml(u.details ?? "")}</td></tr>`,
    )
    .join("");
  return `<section id="delivery" class="card" aria-labelledby="delivery-h">
<h2 id="delivery-h">Email delivery (last 30 days)</h2>
${backlog ? `<p id="outbox-backlog">${escapeHtml(backlogSentence(backlog))}</p>\n` : ""}<p id="delivery-counts">${formatNumber(delivery.accepted)} accepted (no delivery report yet) &middot; ${formatNumber(delivery.delivered)} delivered &middot; ${formatNumber(delivery.failed)} failed</p>
${rows ? `<div class="table-scroll"><table id="undelivered-table"><thead><tr><th scope="col">Recipient</th><th scope="col">Status</th><th scope="col">On</th><th scope="col">Details</th></tr></thead><tbody>${rows}</tbody></table></div>` : ""}
</section>`;
}
