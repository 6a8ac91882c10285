import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FUNCTION_TIMEOUT_MINUTES, loadConfig, SETTINGS } from "../../src/config.js";

const example = JSON.parse(readFileSync(new URL("../../local.settings.example.json", import.meta.url), "utf8")) as {
  Values: Record<string, string>;
};

describe("configuration", () => {
  it("takes MIGRATION_IDENTITY_ID only in Azure's grammar, since the migration kits write it into scripts and pool bodies", () => {
    const id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-id.(prod)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/batch-kv_1";
    expect(loadConfig({ MIGRATION_IDENTITY_ID: id }).migration.identityId).toBe(id);
    for (const bad of [
      `${id}$(reboot)`,
      "/subscriptions/$(reboot)/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x12",
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg;reboot/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x12",
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x'y",
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg./providers/Microsoft.ManagedIdentity/userAssignedIdentities/x12",
      `${id}\nreboot`,
    ]) {
      expect(() => loadConfig({ MIGRATION_IDENTITY_ID: bad }), bad).toThrow(/MIGRATION_IDENTITY_ID: must be the resource id of a user-assigned managed identity/);
    }
  });

  it("starts from safe defaults: dry-run, the retirement date, the documented schedule", () => {
    const config = loadConfig({});
    expect(config.sendMode).toBe("dry-run");
    expect(config.schedule).toEqual({ deadline: "2024-02-29", reminderDays: [90, 60, 30, 14, 7, 3, 1, 0], overdueEveryDays: 7, escalateAfterReminders: 4 });
    expect(config.owners.ownerTagKeys).toEqual(["owner", "OwnerContact"]);
    expect(config.email).toMatchObject({ perMinute: 30, perHour: 100 });
  });

  it("reads owners from tags, then role holders (Owner, Contributor), with up to 20 members per group, by default", () => {
    expect(loadConfig({}).owners).toMatchObject({ sources: ["tags", "roles"], roleNames: ["Owner", "Contributor"], groupMaxMembers: 20 });
    expect(loadConfig({ OWNER_SOURCES: "tags", OWNER_ROLE_NAMES: "Owner, Batch Platform Admin" }).owners).toMatchObject({
      sources: ["tags"],
      roleNames: ["Owner", "Batch Platform Admin"],
    });
  });

  it("refuses an owner source it does not know, a repeated one, and roles with no role names", () => {
    expect(() => loadConfig({ OWNER_SOURCES: "tags,graph" })).toThrow(/OWNER_SOURCES: must list "tags" and\/or "roles"/);
    expect(() => loadConfig({ OWNER_SOURCES: "roles,roles" })).toThrow(/OWNER_SOURCES/);
    expect(() => loadConfig({ OWNER_ROLE_NAMES: " , " })).toThrow(/OWNER_ROLE_NAMES: must name at least one role/);
    expect(() => loadConfig({ OWNER_GROUP_MAX_MEMBERS: "0" })).toThrow(/OWNER_GROUP_MAX_MEMBERS/);
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

  it("de-duplicates recipient addresses case-insensitively, so nobody is sent the same message twice", () => {
    const config = loadConfig({
      ADMIN_SUMMARY_TO: "Batch-Admins@contoso.com, batch-admins@CONTOSO.com; ops@contoso.com",
      ESCALATION_CONTACTS: "cio@contoso.com cio@contoso.com",
      FALLBACK_CONTACTS: "team@contoso.com,TEAM@contoso.com",
    });
    expect(config.adminSummaryTo).toEqual(["batch-admins@contoso.com", "ops@contoso.com"]);
    expect(config.escalationContacts).toEqual(["cio@contoso.com"]);
    expect(config.owners.fallbackContacts).toEqual(["team@contoso.com"]);
  });

  it("holds configured recipients to the same address rule as owner tags", () => {
    // Each passed config's old, looser pattern; checkAddress (the owner-tag rule) refuses them.
    for (const address of ["a!b@contoso.com", "first..last@contoso.com", "{ops}@contoso.com"]) {
      expect(() => loadConfig({ ADMIN_SUMMARY_TO: address }), address).toThrow(/ADMIN_SUMMARY_TO: not valid email addresses/);
    }
    expect(() => loadConfig({ SEND_MODE: "redirect", SENDER_ADDRESS: "a@b.com", COMMUNICATION_SERVICES_ENDPOINT: "https://x.communication.azure.com", REDIRECT_ADDRESS: "a!b@contoso.com" })).toThrow(
      /REDIRECT_ADDRESS: must be one valid email address/,
    );
  });

  it("refuses configured recipients outside ALLOWED_RECIPIENT_DOMAINS, naming each setting and address", () => {
    let message = "";
    try {
      loadConfig({
        ALLOWED_RECIPIENT_DOMAINS: "contoso.com",
        FALLBACK_CONTACTS: "ops@contoso.com,ops@fabrikam.com",
        ESCALATION_CONTACTS: "cio@eu.contoso.com,cio@contoso.com.evil.example",
        ADMIN_SUMMARY_TO: "admins@gmail.com",
        SEND_MODE: "redirect",
        REDIRECT_ADDRESS: "inbox@fabrikam.com",
        SENDER_ADDRESS: "donotreply@sender.example",
        COMMUNICATION_SERVICES_ENDPOINT: "https://x.communication.azure.com",
        OVERDUE_EVERY_DAYS: "-1",
      });
    } catch (e) {
      message = (e as Error).message;
    }
    // Reported with every other problem, in one message.
    expect(message).toMatch(/5 problems/);
    expect(message).toContain("- OVERDUE_EVERY_DAYS:");
    expect(message).toContain('- FALLBACK_CONTACTS: outside ALLOWED_RECIPIENT_DOMAINS: "ops@fabrikam.com"');
    expect(message).toContain('- ESCALATION_CONTACTS: outside ALLOWED_RECIPIENT_DOMAINS: "cio@contoso.com.evil.example"');
    expect(message).toContain('- ADMIN_SUMMARY_TO: outside ALLOWED_RECIPIENT_DOMAINS: "admins@gmail.com"');
    expect(message).toContain('- REDIRECT_ADDRESS: outside ALLOWED_RECIPIENT_DOMAINS: "inbox@fabrikam.com"');
    expect(message).not.toContain("SENDER_ADDRESS");
  });

  it("accepts configured recipients inside ALLOWED_RECIPIENT_DOMAINS and its subdomains, and any domain when it is not set", () => {
    const env = { FALLBACK_CONTACTS: "ops@contoso.com", ESCALATION_CONTACTS: "cio@eu.contoso.com", ADMIN_SUMMARY_TO: "admins@Contoso.com" };
    expect(loadConfig({ ...env, ALLOWED_RECIPIENT_DOMAINS: "@Contoso.com" }).escalationContacts).toEqual(["cio@eu.contoso.com"]);
    expect(loadConfig({ ...env, ADMIN_SUMMARY_TO: "admins@gmail.com" }).adminSummaryTo).toEqual(["admins@gmail.com"]);
  });

  it("refuses SEND_MODE=live in Azure with ALLOWED_RECIPIENT_DOMAINS empty, naming the setting, unless ALLOW_ANY_RECIPIENT_DOMAIN=true says it is meant", () => {
    const live = { SEND_MODE: "live", SENDER_ADDRESS: "DoNotReply@contoso.com", COMMUNICATION_SERVICES_ENDPOINT: "https://contoso.communication.azure.com" };
    expect(() => loadConfig(live)).toThrow(
      /ALLOWED_RECIPIENT_DOMAINS: must name the domains mail may go to when SEND_MODE is "live" \(or set ALLOW_ANY_RECIPIENT_DOMAIN=true to mail any domain\)/,
    );
    expect(loadConfig({ ...live, ALLOW_ANY_RECIPIENT_DOMAIN: "true" }).sendMode).toBe("live");
    expect(loadConfig({ ...live, ALLOWED_RECIPIENT_DOMAINS: "contoso.com" }).sendMode).toBe("live");
    // Redirect and dry-run mail no owner; the simulated service (the demo, --simulate) mails nobody real.
    expect(loadConfig({ ...live, SEND_MODE: "redirect", REDIRECT_ADDRESS: "inbox@contoso.com" }).sendMode).toBe("redirect");
    expect(loadConfig({ SEND_MODE: "live", SENDER_ADDRESS: "DoNotReply@contoso.com" }, { simulated: true }).sendMode).toBe("live");
    expect(() => loadConfig({ ...live, ALLOW_ANY_RECIPIENT_DOMAIN: "yes" })).toThrow(/ALLOW_ANY_RECIPIENT_DOMAIN: must be "true" or "false"/);
  });

  it("drains the outbox every hour at half past by default, and refuses a SEND_SCHEDULE it cannot read or that fires in the audit's minute", () => {
    expect(loadConfig({}).sendSchedule).toBe("0 30 * * * *");
    expect(loadConfig({ SEND_SCHEDULE: "0 15 */2 * * *" }).sendSchedule).toBe("0 15 */2 * * *");
    expect(() => loadConfig({ SEND_SCHEDULE: "0 30 * * *" })).toThrow(/SEND_SCHEDULE: is not a usable NCRONTAB expression: .*six fields/);
    expect(() => loadConfig({ SEND_SCHEDULE: "0 0 * * * *" })).toThrow(/SEND_SCHEDULE: fires in the same minute as AUDIT_SCHEDULE \(both at 07:00:00 UTC\)/);
    expect(() => loadConfig({ AUDIT_SCHEDULE: "0 30 6 * * *" })).toThrow(/SEND_SCHEDULE: fires in the same minute as AUDIT_SCHEDULE \(both at 06:30:00 UTC\)/);
  });

  it("uses MIGRATION_DEADLINE as the deadline when an organisation sets one", () => {
    expect(loadConfig({ MIGRATION_DEADLINE: "2027-03-31" }).schedule.deadline).toBe("2027-03-31");
  });

  it("keeps RUN_BUDGET_MINUTES below host.json's functionTimeout, so a run ends before the host cuts it off", () => {
    const host = JSON.parse(readFileSync(new URL("../../host.json", import.meta.url), "utf8")) as { functionTimeout: string };
    const [h = 0, m = 0, sec = 0] = host.functionTimeout.split(":").map(Number);
    expect(h * 60 + m + sec / 60).toBe(FUNCTION_TIMEOUT_MINUTES);
    expect(loadConfig({}).runLimits.runBudgetMinutes).toBeLessThan(FUNCTION_TIMEOUT_MINUTES);
    expect(() => loadConfig({ RUN_BUDGET_MINUTES: String(FUNCTION_TIMEOUT_MINUTES) })).toThrow(/RUN_BUDGET_MINUTES: must be a whole number from 1 to 26/);
    expect(() => loadConfig({ MAX_RETRY_WAIT_SECONDS: "3600", MAX_PAGES_PER_SCOPE: "0" })).toThrow(/MAX_RETRY_WAIT_SECONDS: .*\n.*MAX_PAGES_PER_SCOPE: /);
  });

  it("paces the heap at 50% past what survived a full collection by default, takes 0 for V8's own sizing, and refuses what is not a percent from 0 to 300", () => {
    expect(loadConfig({}).heapGrowingPercent).toBe(50);
    for (const good of ["0", "1", "120", "300"]) expect(loadConfig({ HEAP_GROWING_PERCENT: good }).heapGrowingPercent).toBe(Number(good));
    for (const bad of ["301", "-10", "1.5", "half"]) {
      expect(() => loadConfig({ HEAP_GROWING_PERCENT: bad }), bad).toThrow(`HEAP_GROWING_PERCENT: must be a whole number from 0 to 300 (got "${bad}")`);
    }
  });

  it("is kept in step with local.settings.example.json: the same settings and the same defaults", () => {
    const documented = Object.keys(example.Values).filter((k) => k !== "FUNCTIONS_WORKER_RUNTIME" && !k.startsWith("AzureWebJobs"));
    const read = Object.keys(SETTINGS).filter((k) => !k.startsWith("AzureWebJobs"));
    expect(documented.sort()).toEqual(read.sort());
    for (const name of read) expect(example.Values[name], name).toBe(SETTINGS[name as keyof typeof SETTINGS]);
  });
});
