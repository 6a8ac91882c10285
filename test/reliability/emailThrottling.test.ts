// Scenario 6: Communication Email answers 429 (with Retry-After) from the Nth message on, and another recipient's
// delivery fails: the run waits as told (a few seconds at most), carries what it could not send over to the next run,
// and the failed delivery, reported through a delivery report, is reported and routed to the next owner level.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEMO_OWNERS, demo, exactly, isolatedStorage, mailbox, removeDir, runCliAt, sharedAzurite, tempDir, writeSnapshot, type CliRun } from "../support/auditRuns.js";
import { SEND_CONCURRENCY } from "../../src/core/sendReminders.js";

const azurite = sharedAzurite();
let out: string;
beforeEach(async () => {
  out = await tempDir("email-throttling");
});
afterEach(async () => {
  await removeDir(out);
});

const reminders = (run: CliRun) => {
  if (run.job?.state !== "succeeded") throw new Error(`run did not succeed: ${run.stderr}`);
  return run.job.reminders;
};

describe("the mail service throttling and failing", () => {
  it("6. a 429 with Retry-After from the 3rd message and a Failed delivery: paced, carried over to the next run, reported and routed on", async () => {
    const env = isolatedStorage(azurite.connectionString);
    // dana@ is now an address the service drops (RFC 2606 .invalid): its send ends Failed (EmailDropped).
    const tenant = demo();
    const sandbox = tenant.resources.find((r) => r.name === "sandboxbatch1");
    if (sandbox) sandbox.tags = { owner: "dana@contoso.invalid" };
    const recovered = await writeSnapshot(out, tenant, "recovered.json");
    // Throttled from the 3rd send on: it and the sends out with it (SEND_CONCURRENCY in all), each with its two SDK
    // retries, are refused with 429 Retry-After: 1.
    tenant.faults = [
      ...(tenant.faults ?? []),
      { pathPattern: "^/emails:send$", method: "POST", status: 429, headers: { "retry-after": "1" }, body: { error: { code: "TooManyRequests", message: "Retry after 1 seconds." } }, after: 2, times: 3 * SEND_CONCURRENCY },
    ];
    const throttled = await writeSnapshot(out, tenant, "throttled.json");
    const owners = DEMO_OWNERS.filter((o) => o !== "dana@contoso.com");

    const started = performance.now();
    const first = await runCliAt({ snapshot: throttled, out, now: "2026-11-26", env });
    expect(performance.now() - started).toBeGreaterThanOrEqual(2000); // two Retry-After waits inside the SDK
    expect(reminders(first)).toMatchObject({ sent: 2, deferred: DEMO_OWNERS.length - 2 });
    expect(first.stdout).toContain(`${DEMO_OWNERS.length - 2} message(s) did not fit the sending limits and wait for the next run`);

    const second = await runCliAt({ snapshot: recovered, out, now: "2026-11-26", env });
    // Accepted on the 202, dana@contoso.invalid included: its fate comes later, as a delivery report.
    expect(reminders(second)).toMatchObject({ planned: DEMO_OWNERS.length - 2, sent: DEMO_OWNERS.length - 2, deferred: 0, failed: [] });

    // The next run takes the delivery reports first: dana's ended Failed, which is reported, and dana's findings go
    // to the next level of the owner chain (the subscription's OwnerContact); dana is not mailed again.
    const third = await runCliAt({ snapshot: recovered, out, now: "2026-11-26", env });
    expect(third.report?.run?.reminders.delivery).toMatchObject({ failed: 1, undelivered: [{ recipient: "dana@contoso.invalid", status: "Failed" }] });
    expect(third.stdout).toMatch(/undelivered: dana@contoso\.invalid: Failed/);
    const sandboxFindings = third.report?.findings.filter((f) => f.accountName === "sandboxbatch1") ?? [];
    for (const f of sandboxFindings) expect(f.ownerProblems?.join("\n")).toMatch(/'dana@contoso\.invalid' undeliverable: Failed on /);
    expect(reminders(third).sent).toBe(1);

    const mail = await mailbox(out);
    expect(mail.perRecipient()).toEqual(new Map([...exactly(owners), ["dana@contoso.invalid", 1], ["sandbox-admins@contoso.com", 1]]));
  });
});
