import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig, SETTINGS } from "../../src/config.js";

const example = JSON.parse(readFileSync(new URL("../../local.settings.example.json", import.meta.url), "utf8")) as {
  Values: Record<string, string>;
};

describe("configuration", () => {
  it("starts from safe defaults: dry-run, the retirement date, the documented schedule", () => {
    const config = loadConfig({});
    expect(config.sendMode).toBe("dry-run");
    expect(config.schedule).toEqual({ deadline: "2024-02-29", reminderDays: [90, 60, 30, 14, 7, 3, 1, 0], overdueEveryDays: 7, escalateAfterReminders: 4 });
    expect(config.owners.ownerTagKeys).toEqual(["owner", "OwnerContact"]);
    expect(config.email).toMatchObject({ perMinute: 30, perHour: 100 });
  });

  it("names every bad setting in one message", () => {
    let message = "";
    try {
      loadConfig({
        OVERDUE_EVERY_DAYS: "-3",
        MIGRATION_DEADLINE: "next spring",
        ALLOWED_RECIPIENT_DOMAINS: "contoso.com, not a domain!",
        SEND_MODE: "loud",
        FALLBACK_CONTACTS: "ops@contoso.com,nobody",
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/5 problems/);
    for (const name of ["OVERDUE_EVERY_DAYS", "MIGRATION_DEADLINE", "ALLOWED_RECIPIENT_DOMAINS", "SEND_MODE", "FALLBACK_CONTACTS"]) {
      expect(message).toContain(`- ${name}:`);
    }
    expect(message).toContain('"nobody"');
  });

  it("requires a sender and an endpoint before it will send anything", () => {
    expect(() => loadConfig({ SEND_MODE: "live" })).toThrow(/SENDER_ADDRESS: is required[\s\S]*COMMUNICATION_SERVICES_ENDPOINT/);
    expect(() => loadConfig({ SEND_MODE: "redirect", SENDER_ADDRESS: "a@b.com", COMMUNICATION_SERVICES_ENDPOINT: "https://x.communication.azure.com" })).toThrow(/REDIRECT_ADDRESS/);
  });

  it("uses MIGRATION_DEADLINE as the deadline when an organisation sets one", () => {
    expect(loadConfig({ MIGRATION_DEADLINE: "2027-03-31" }).schedule.deadline).toBe("2027-03-31");
  });

  it("is kept in step with local.settings.example.json: the same settings and the same defaults", () => {
    const documented = Object.keys(example.Values).filter((k) => k !== "FUNCTIONS_WORKER_RUNTIME" && !k.startsWith("AzureWebJobs"));
    const read = Object.keys(SETTINGS).filter((k) => !k.startsWith("AzureWebJobs"));
    expect(documented.sort()).toEqual(read.sort());
    for (const name of read) expect(example.Values[name], name).toBe(SETTINGS[name as keyof typeof SETTINGS]);
  });
});
