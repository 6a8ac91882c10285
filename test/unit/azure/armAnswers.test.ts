import { createHttpHeaders } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { answerBody, PagingGuard, parseArmListPage, parseResourceGraphPage } from "../../../src/azure/armAnswers.js";
import { OFFICIAL_EXAMPLES } from "../../support/armExamples.js";

const raw = (text: string, contentType: string) => ({ parsedBody: undefined, bodyAsText: text, headers: createHttpHeaders({ "content-type": contentType }) });

describe("ARM and Resource Graph answers are checked before they are believed", () => {
  it("takes the official certificate, pool and Resource Graph examples as they are", () => {
    expect(parseArmListPage(OFFICIAL_EXAMPLES.certificateList, "certificates").nextLink).toMatch(/\$skiptoken=/);
    expect(parseArmListPage(OFFICIAL_EXAMPLES.poolList, "pools").value).toHaveLength(1);
    expect(parseArmListPage(OFFICIAL_EXAMPLES.poolList20260801, "pools").value).toHaveLength(1);
    expect(parseResourceGraphPage(OFFICIAL_EXAMPLES.resourcesNextPage, "Resource Graph").$skipToken).toMatch(/^eyAibm8y/);
  });

  it.each([
    ["a pool list without value", {}, /value: /],
    ["a pool list whose value is not a list", { value: { id: "x" } }, /value: /],
    ["a pool without an id", { value: [{ name: "p" }] }, /value\.0\.id: /],
    ["null", null, /body: /],
  ])("refuses %s, saying what is wrong", (_label, body, problem) => {
    expect(() => parseArmListPage(body, "Batch account a: the pool list")).toThrow(expect.objectContaining({ code: "BATCH.MALFORMED_ANSWER", message: expect.stringMatching(problem) as unknown }));
  });

  it("refuses an HTML page answered with 200, naming its content type", () => {
    const body = answerBody(raw("<html><body>Service Unavailable</body></html>", "text/html"));
    expect(() => parseArmListPage(body, "Batch account a: the pool list")).toThrow(/the pool list: the answer was not JSON \(text\/html: "<html>/);
  });

  it("refuses a Resource Graph page whose count does not match its rows", () => {
    expect(() => parseResourceGraphPage({ totalRecords: 5, count: 5, resultTruncated: "false", data: [{ id: "a" }] }, "Resource Graph")).toThrow(/count: count does not match/);
  });

  it("stops paging at a continuation that comes back, and after the page cap", () => {
    const loop = new PagingGuard("the pool list", 100);
    loop.page("https://management.azure.com/a?$skiptoken=1", "nextLink");
    loop.page("https://management.azure.com/a?$skiptoken=2", "nextLink");
    expect(() => loop.page("https://management.azure.com/a?$skiptoken=1", "nextLink")).toThrow(/page 3 gave a nextLink that an earlier page already gave/);

    const long = new PagingGuard("the pool list", 2);
    long.page("t1", "nextLink");
    expect(() => long.page("t2", "nextLink")).toThrow(/more than 2 pages \(MAX_PAGES_PER_SCOPE\)/);
    const last = new PagingGuard("the pool list", 2);
    last.page("t1", "nextLink");
    expect(() => last.page(undefined, "nextLink")).not.toThrow();
  });
});
