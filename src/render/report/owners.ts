// The by-owner section: the owner groups (made in ./pageFindings.ts, unowned first), each with a button that filters the
// table to it.
import { eachOf } from "../../core/deflatedJson.js";
import type { AuditReport, Finding } from "../../core/model.js";
import { escapeHtml } from "../escapeHtml.js";
import { formatNumber, plural } from "../format.js";
import { NO_OWNER, findingLabel, findingTitle, sevBadge, subscriptionLabel } from "./findingView.js";
import type { PageFindings } from "./pageFindings.js";

/** Findings listed per piece of an owner's group. */
const ITEMS_PER_PIECE = 100;

/** The by-owner section, a group at a time, a large group in pieces; the groups' findings read a page at a time. */
export function* renderOwners(report: AuditReport, owners: PageFindings["owners"]): Generator<string> {
  if (owners.groups.length === 0) return;
  const items = eachOf(owners.items.pages());
  /** The group's next `n` findings. */
  const take = (n: number): Finding[] => {
    const taken: Finding[] = [];
    while (taken.length < n) {
      const next = items.next();
      if (next.done) throw new RangeError("the owner groups hold fewer findings than their counts say");
      taken.push(next.value);
    }
    return taken;
  };
  yield `<section id="owners" class="card" aria-labelledby="owners-h">
<h2 id="owners-h">By owner</h2>
<div class="owners">`;
  let first = true;
  for (const { owner, count, critical: crit } of owners.groups) {
    // The group's first piece read before its summary, which names its most urgent finding.
    let piece = take(Math.min(count, ITEMS_PER_PIECE));
    const top = piece[0];
    const name = owner === NO_OWNER ? `<span class="missing">No owner</span>` : escapeHtml(owner);
    yield `${first ? "" : "\n"}<details class="owner${owner === NO_OWNER ? " owner-noone" : ""}" data-owner-group="${escapeHtml(owner)}">
<summary><h3>${name}</h3><span class="chip">${plural(count, "finding")}</span>${crit ? `<span class="chip sev-critical">${formatNumber(crit)} critical</span>` : ""}
${top ? `<span class="small">Most urgent: ${escapeHtml(findingLabel(report, top))} &middot; ${escapeHtml(findingTitle(top))}</span>` : ""}</summary>
<div class="owner-body"><ul>`;
    // A group's items a hundred at a time: the fallback contact's group can hold thousands of findings, and one string
    // of them all was a large object left for a full collection (see PIECE_CHARS in ../../report/textChunks.ts).
    for (let start = 0; start < count; start += ITEMS_PER_PIECE) {
      if (start > 0) piece = take(Math.min(count - start, ITEMS_PER_PIECE));
      yield piece
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
