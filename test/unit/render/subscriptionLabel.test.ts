// The page names each finding's subscription several times; the name comes from an index of the coverage, made once
// per report. It must name a subscription exactly as a search of the coverage would (the first entry for an id).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { subscriptionLabel } from "../../../src/render/report/findingView.js";
import { sampleReport } from "../../support/sampleReport.js";

describe("subscriptionLabel", () => {
  it("names a subscription as the first coverage entry with its id does, else the finding's own name, else the id", () => {
    const id = fc.constantFrom("sub-a", "sub-b", "SUB-A", "sub-c");
    const entry = fc.record({ id, displayName: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), id, fc.option(fc.string({ maxLength: 4 }), { nil: undefined }), (entries, asked, fallback) => {
        const base = sampleReport();
        const subscriptions = entries.map((e) => ({ id: e.id, status: "audited" as const, ...(e.displayName === undefined ? {} : { displayName: e.displayName }) }));
        const report = { ...base, coverage: { ...base.coverage, subscriptions } };
        const searched = fallback ?? subscriptions.find((s) => s.id === asked)?.displayName ?? asked;
        expect(subscriptionLabel(report, asked, fallback)).toBe(searched);
        // Asked again (the index is reused), the same answer.
        expect(subscriptionLabel(report, asked, fallback)).toBe(searched);
      }),
    );
  });

  it("reads a report's coverage as it is now: a report with other subscriptions is indexed afresh", () => {
    const base = sampleReport();
    const one = { ...base, coverage: { ...base.coverage, subscriptions: [{ id: "s", status: "audited" as const, displayName: "One" }] } };
    const two = { ...base, coverage: { ...base.coverage, subscriptions: [{ id: "s", status: "audited" as const, displayName: "Two" }] } };
    expect(subscriptionLabel(one, "s")).toBe("One");
    expect(subscriptionLabel(two, "s")).toBe("Two");
  });
});
