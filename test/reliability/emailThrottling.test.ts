// Scenario 6: Communication Email answers 429 (with Retry-After) from the Nth message on, and Failed for another
// recipient: the run waits as told, carries what it could not send over to the next run, and reports the failure.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { DEMO_OWNERS, demo, exactly, isolatedStorage, mailbox, removeDir, runCliAt, tempDir, writeSnapshot, type CliRun } from "../support/auditRuns.js";

let azurite: LocalStorage;
let out: string;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});
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
  it("6. a 429 with Retry-After from the 3rd message and a Failed delivery: paced, carried over to the next run, reported", async () => {
    const env = isolatedStorage(azurite.connectionString);
    // dana@ is now an address the service drops (RFC 2606 .invalid): its send ends Failed (EmailDropped).
    const tenant = demo();
    const sandbox = tenant.resources.find((r) => r.name === "sandboxbatch1");
    if (sandbox) sandbox.tags = { owner: "dana@contoso.invalid" };
    const recovered = await writeSnapshot(out, tenant, "recovered.json");
    // Throttled: the 3rd send and its two SDK retries are refused with 429 Retry-After: 1.
    tenant.faults = [
      ...(tenant.faults ?? []),
      { pathPattern: "^/emails:send$", method: "POST", status: 429, headers: { "retry-after": "1" }, body: { error: { code: "TooManyRequests", message: "Retry after 1 seconds." } }, after: 2, times: 3 },
    ];
    const throttled = await writeSnapshot(out, tenant, "throttled.json");
    const owners = DEMO_OWNERS.filter((o) => o !== "dana@contoso.com");

    const started = performance.now();
    const first = await runCliAt({ snapshot: throttled, out, now: "2026-11-26", env });
    expect(performance.now() - started).toBeGreaterThanOrEqual(2000); // two Retry-After waits inside the SDK
    expect(reminders(first)).toMatchObject({ sent: 2, deferred: DEMO_OWNERS.length - 2 });
    expect(first.stdout).toContain(`${DEMO_OWNERS.length - 2} message(s) did not fit the sending limits and wait for the next run`);

    const second = await runCliAt({ snapshot: recovered, out, now: "2026-11-26", env });
    expect(reminders(second)).toMatchObject({ planned: DEMO_OWNERS.length - 2, sent: DEMO_OWNERS.length - 3, deferred: 0 });
    expect(reminders(second).failed).toEqual([{ recipient: "dana@contoso.invalid", error: expect.stringMatching(/^EmailDropped: /) as unknown }]);
    expect(second.stdout).toMatch(/failed: dana@contoso\.invalid: EmailDropped/);
    expect(second.report?.run?.reminders.failed).toHaveLength(1);

    // The failed digest is not recorded as sent: a later run tries it again, under an operation id of its own
    // (the service keeps the Failed operation under the first), and reports it again.
    const third = await runCliAt({ snapshot: recovered, out, now: "2026-11-26", env });
    expect(reminders(third)).toMatchObject({ planned: 1, sent: 0 });
    expect(reminders(third).failed.map((f) => f.recipient)).toEqual(["dana@contoso.invalid"]);

    const mail = await mailbox(out);
    expect(mail.perRecipient()).toEqual(new Map([...exactly(owners), ["dana@contoso.invalid", 2]]));
    const attempts = mail.sentTo("dana@contoso.invalid");
    expect(new Set(attempts.map((m) => m.id)).size).toBe(2);
    for (const attempt of attempts) expect(attempt).toMatchObject({ status: "Failed", error: { code: "EmailDropped" } });
  });
});
