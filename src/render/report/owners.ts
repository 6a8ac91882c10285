// Findings grouped by owner, unowned first, each group with a button that filters the table to it.
import type { AuditReport, Finding } from "../../core/model.js";
import { escapeHtml } from "../escapeHtml.js";
import { formatNumber, plural } from "../format.js";
import { NO_OWNER, findingLabel, findingTitle, ownersOf, sevBadge, subscriptionLabel, urgency } from "./findingView.js";

/** Findings listed per piece of an owner's group. */
const ITEMS_PER_PIECE = 100;

/** The by-owner section, a group at a time, a large group in pieces. */
export function* renderOwners(report: AuditReport, findings: readonly Finding[]): Generator<string> {
  if (findings.length === 0) return;
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const owners = ownersOf(f);
    for (const o of owners.length ? owners : [NO_OWNER]) {
      const list = groups.get(o) ?? [];
      list.push(f);
      groups.set(o, list);
    }
  }
  // Each group's critical count is counted once, not in every comparison of the sort.
  const entries = [...groups].map(([owner, list]) => ({ owner, list: [...list].sort(urgency), crit: list.filter((f) => f.severity === "critical").length }));
  // Unowned findings first: nobody will be reminded about them, so they need the reader's attention most.
  entries.sort(
    (a, b) =>
      Number(b.owner === NO_OWNER) - Number(a.owner === NO_OWNER) ||
      b.crit - a.crit ||
      b.list.length - a.list.length ||
      a.owner.localeCompare(b.owner),
  );
  yield `<section id="owners" class="card" aria-labelledby="owners-h">
<h2 id="owners-h">By owner</h2>
<div class="owners">`;
  let first = true;
  for (const { owner, list, crit } of entries) {
    const top = list[0];
    const name = owner === NO_OWNER ? `<span class="missing">No owner</span>` : escapeHtml(owner);
    yield `${first ? "" : "\n"}<details class="owner${owner === NO_OWNER ? " owner-noone" : ""}" data-owner-group="${escapeHtml(owner)}">
<summary><h3>${name}</h3><span class="chip">${plural(list.length, "finding")}</span>${crit ? `<span class="chip sev-critical">${formatNumber(crit)} critical</span>` : ""}
${top ? `<span class="small">Most urgent: ${escapeHtml(findingLabel(report, top))} &middot; ${escapeHtml(findingTitle(top))}</span>` : ""}</summary>
<div class="owner-body"><ul>`;
    // A group's items a hundred at a time: the fallback contact's group can hold thousands of findings, and one string
    // of them all was a large object left for a full collection (see PIECE_CHARS in ../../report/textChunks.ts).
    for (let start = 0; start < list.length; start += ITEMS_PER_PIECE) {
      yield list
        .slice(start, start + ITEMS_PER_PIECE)
        .map((f) => `<li>${sevBadge(f.severity)} ${escapeHtml(findingLabel(report, f))}: <strong>${escapeHtml(findingTitle(f))}</strong> <span class="small">${escapeHtml(subscriptionLabel(report, f.subscriptionId, f.subscriptionName))}</span></li>`)
        .join("");
    }
    yield `</ul>
<button type="button" class="btn" data-owner="${escapeHtml(owner)}" hidden>Show in the findings table</button></div>
</details>`;
    first = false;
  }
  yield `</div>
</section>`;
}
