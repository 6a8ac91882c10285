// The only reader of process.env. Every setting is validated here and every problem is reported at once;
// nothing falls back silently. Setting names match local.settings.example.json and infra/app/function.bicep.
import { z } from "zod";
import { isIsoDay } from "./core/dates.js";
import { AuditError } from "./core/errors.js";
import { isGuid } from "./core/ids.js";
import { RETIREMENT_DATE } from "./core/model.js";
import { parseNcrontab } from "./core/ncrontab.js";
import { checkAddress, isDomainAllowed, normaliseAllowedDomains, type OwnerSource } from "./core/owners.js";
import type { SendMode } from "./core/sendReminders.js";
import { readFileSync } from "node:fs";
import { parseCustomRules } from "./core/rules/customRules.js";
import type { RetirementRule } from "./core/rules/rule.js";
import { knownRuleIds, resolveRules, unknownRuleIds } from "./core/rules/ruleSet.js";

export type { SendMode };

export interface AppConfig {
  scope: { subscriptions: string[]; managementGroups: string[] };
  auditSchedule: string;
  /** The sending timer (NCRONTAB): drains the outbox the daily audit planned, within the email limits. */
  sendSchedule: string;
  batchConcurrency: number;
  /** What keeps a run finite: waits the servers set, pages per scope, and the run's time budget. */
  runLimits: { maxRetryWaitSeconds: number; maxPagesPerScope: number; runBudgetMinutes: number };
  /**
   * How far V8 lets the heap grow past what survived its last full collection, in percent, where it would otherwise
   * let it grow fourfold (a heap limit of about 2 GB or more); 0: V8's own everywhere (../app/heapGrowth.ts).
   */
  heapGrowingPercent: number;
  owners: {
    ownerTagKeys: string[];
    fallbackContacts: string[];
    allowedRecipientDomains: string[];
    sources: OwnerSource[];
    roleNames: string[];
    /** Transitive members read per group that holds an owner role. */
    groupMaxMembers: number;
  };
  schedule: { deadline: string; reminderDays: number[]; overdueEveryDays: number; escalateAfterReminders: number };
  escalationContacts: string[];
  /**
   * The retirement rules (src/core/rules): `enabled` with their deadlines as configured (RULE_DEADLINES,
   * MIGRATION_DEADLINE for the certificate rules), `ids` every rule id a filter may name (shipped and RULES_FILE's).
   */
  rules: { enabled: RetirementRule[]; ids: string[] };
  /** What the migration kit puts in replacement pools; unset parts stay named placeholders. */
  migration: { identityId: string | undefined; identityClientId: string | undefined; keyVaultName: string | undefined };
  snooze: { tagKey: string; reasonTagKey: string; maxDays: number };
  sendMode: SendMode;
  redirectAddress: string | undefined;
  email: {
    senderAddress: string | undefined;
    endpoint: string | undefined;
    connectionString: string | undefined;
    perMinute: number;
    perHour: number;
    /** Get Email Status reads allowed, for recovery only. */
    statusReads: { perMinute: number; perHour: number };
    notFoundGraceHours: number;
    undeliverableRetryDays: number;
    /** Items a digest shows in full; the rest are summarised per account and attached as CSV. */
    digestItemsInFull: number;
  };
  adminSummaryTo: string[];
  storage: { connectionString: string | undefined; accountName: string | undefined };
  reportContainer: string;
  ledgerTable: string;
  managedIdentityClientId: string | undefined;
  appInsightsConnectionString: string | undefined;
}

/** Every setting the app reads, with its default ("" = unset). The infra test and the example file are held to this. */
export const SETTINGS = {
  AUDIT_SCHEDULE: "0 0 7 * * *",
  // Hourly at half past: never at the audit's minute, where the two timers would race for the run lock.
  SEND_SCHEDULE: "0 30 * * * *",
  AUDIT_SUBSCRIPTIONS: "",
  AUDIT_MANAGEMENT_GROUPS: "",
  BATCH_CONCURRENCY: "128",
  MAX_RETRY_WAIT_SECONDS: "60",
  MAX_PAGES_PER_SCOPE: "1000",
  RUN_BUDGET_MINUTES: "25",
  HEAP_GROWING_PERCENT: "50",
  OWNER_TAG_KEYS: "owner,OwnerContact",
  FALLBACK_CONTACTS: "",
  OWNER_SOURCES: "tags,roles",
  OWNER_ROLE_NAMES: "Owner,Contributor",
  OWNER_GROUP_MAX_MEMBERS: "20",
  ALLOWED_RECIPIENT_DOMAINS: "",
  ALLOW_ANY_RECIPIENT_DOMAIN: "false",
  MIGRATION_DEADLINE: "",
  RULES_DISABLED: "",
  RULE_DEADLINES: "",
  RULES_FILE: "",
  MIGRATION_IDENTITY_ID: "",
  MIGRATION_IDENTITY_CLIENT_ID: "",
  MIGRATION_KEY_VAULT_NAME: "",
  REMINDER_DAYS: "90,60,30,14,7,3,1,0",
  OVERDUE_EVERY_DAYS: "7",
  ESCALATE_AFTER_REMINDERS: "4",
  ESCALATION_CONTACTS: "",
  SNOOZE_TAG_KEY: "batch-cert-audit-snooze",
  SNOOZE_REASON_TAG_KEY: "batch-cert-audit-snooze-reason",
  MAX_SNOOZE_DAYS: "90",
  SEND_MODE: "dry-run",
  REDIRECT_ADDRESS: "",
  SENDER_ADDRESS: "",
  COMMUNICATION_SERVICES_ENDPOINT: "",
  COMMUNICATION_SERVICES_CONNECTION_STRING: "",
  EMAIL_PER_MINUTE: "30",
  EMAIL_PER_HOUR: "100",
  EMAIL_STATUS_READS_PER_MINUTE: "10",
  EMAIL_STATUS_READS_PER_HOUR: "20",
  EMAIL_NOT_FOUND_GRACE_HOURS: "24",
  UNDELIVERABLE_RETRY_DAYS: "30",
  DIGEST_ITEMS_IN_FULL: "20",
  ADMIN_SUMMARY_TO: "",
  REPORT_CONTAINER: "batch-cert-audit",
  LEDGER_TABLE: "batchcertaudit",
  AZURE_CLIENT_ID: "",
  APPLICATIONINSIGHTS_CONNECTION_STRING: "",
  AzureWebJobsStorage: "",
  AzureWebJobsStorage__accountName: "",
} as const;

export type SettingName = keyof typeof SETTINGS;

/** host.json's functionTimeout, in minutes (a test holds the two together): a run's budget must end before it. */
export const FUNCTION_TIMEOUT_MINUTES = 30;

/** Our own sender address only; recipient addresses go through checkAddress, the rule tag addresses meet. */
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const list = (value: string) =>
  value
    .split(/[,;\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);

const text = (name: SettingName) => z.string().trim().default(SETTINGS[name]);

const intSetting = (name: SettingName, min: number, max: number) =>
  text(name).transform((v, ctx) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || n > max) {
      ctx.addIssue({ code: "custom", message: `must be a whole number from ${min} to ${max} (got "${v}")` });
      return z.NEVER;
    }
    return n;
  });

/** Valid addresses outside the allowed recipient domains (none when no domains are configured). */
const outsideDomains = (addresses: readonly string[], allowed: readonly string[]) =>
  addresses.filter((a) => checkAddress(a).ok && !isDomainAllowed(a.slice(a.lastIndexOf("@") + 1), allowed));

const outsideMessage = (addresses: readonly string[]) => `outside ALLOWED_RECIPIENT_DOMAINS: ${addresses.map((a) => JSON.stringify(a)).join(", ")}`;

/**
 * Recipient addresses: checked like owner-tag addresses (and held to ALLOWED_RECIPIENT_DOMAINS the same way),
 * lower-cased and de-duplicated, since each recipient gets its own message.
 */
const addressList = (name: SettingName, allowed: readonly string[]) =>
  text(name).transform((v, ctx) => {
    const items = list(v);
    const bad = items.filter((a) => !checkAddress(a).ok);
    if (bad.length > 0) ctx.addIssue({ code: "custom", message: `not valid email addresses: ${bad.map((b) => JSON.stringify(b)).join(", ")}` });
    const outside = outsideDomains(items, allowed);
    if (outside.length > 0) ctx.addIssue({ code: "custom", message: outsideMessage(outside) });
    return [...new Set(items.map((a) => a.toLowerCase()))];
  });

const optional = (name: SettingName) => text(name).transform((v) => (v === "" ? undefined : v));

const envSchema = (simulated: boolean, allowedRecipientDomains: readonly string[]) => z
  .object({
    AUDIT_SCHEDULE: text("AUDIT_SCHEDULE").refine((v) => v.split(/\s+/).length === 6, "must be an NCRONTAB expression with six fields (seconds first)"),
    SEND_SCHEDULE: text("SEND_SCHEDULE").superRefine((v, ctx) => {
      try {
        parseNcrontab(v);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `is not a usable NCRONTAB expression: ${(error as Error).message}` });
      }
    }),
    AUDIT_SUBSCRIPTIONS: text("AUDIT_SUBSCRIPTIONS").transform((v, ctx) => {
      const ids = list(v);
      const bad = ids.filter((id) => !isGuid(id));
      if (bad.length > 0) ctx.addIssue({ code: "custom", message: `not subscription ids (GUIDs): ${bad.join(", ")}` });
      return ids;
    }),
    AUDIT_MANAGEMENT_GROUPS: text("AUDIT_MANAGEMENT_GROUPS").transform(list),
    BATCH_CONCURRENCY: intSetting("BATCH_CONCURRENCY", 1, 512),
    MAX_RETRY_WAIT_SECONDS: intSetting("MAX_RETRY_WAIT_SECONDS", 1, 600),
    MAX_PAGES_PER_SCOPE: intSetting("MAX_PAGES_PER_SCOPE", 1, 100_000),
    // Sending stops at the budget, but the send in flight (with its retries) and the report must still fit.
    RUN_BUDGET_MINUTES: intSetting("RUN_BUDGET_MINUTES", 1, FUNCTION_TIMEOUT_MINUTES - 4),
    HEAP_GROWING_PERCENT: intSetting("HEAP_GROWING_PERCENT", 0, 300),
    OWNER_TAG_KEYS: text("OWNER_TAG_KEYS").transform((v, ctx) => {
      const keys = v.split(",").map((k) => k.trim()).filter(Boolean);
      if (keys.length === 0) ctx.addIssue({ code: "custom", message: "must name at least one tag key" });
      return keys;
    }),
    FALLBACK_CONTACTS: addressList("FALLBACK_CONTACTS", allowedRecipientDomains),
    OWNER_SOURCES: text("OWNER_SOURCES").transform((v, ctx) => {
      const sources = list(v).map((s) => s.toLowerCase());
      const bad = sources.filter((s) => s !== "tags" && s !== "roles");
      if (sources.length === 0 || bad.length > 0 || new Set(sources).size !== sources.length) {
        ctx.addIssue({ code: "custom", message: `must list "tags" and/or "roles" once each, in the order they are tried (got "${v}")` });
      }
      return sources as OwnerSource[];
    }),
    // Role names may hold spaces ("Batch Platform Admin"): commas separate them.
    OWNER_ROLE_NAMES: text("OWNER_ROLE_NAMES").transform((v) => v.split(",").map((r) => r.trim()).filter(Boolean)),
    OWNER_GROUP_MAX_MEMBERS: intSetting("OWNER_GROUP_MAX_MEMBERS", 1, 1000),
    ALLOWED_RECIPIENT_DOMAINS: text("ALLOWED_RECIPIENT_DOMAINS").transform((v, ctx) => {
      const domains = list(v).map((d) => d.toLowerCase().replace(/^@/, ""));
      const bad = domains.filter((d) => !DOMAIN.test(d));
      if (bad.length > 0) ctx.addIssue({ code: "custom", message: `must be a comma-separated list of domain names; not domains: ${bad.map((b) => JSON.stringify(b)).join(", ")}` });
      return domains;
    }),
    ALLOW_ANY_RECIPIENT_DOMAIN: text("ALLOW_ANY_RECIPIENT_DOMAIN")
      .transform((v) => v.toLowerCase())
      .pipe(z.enum(["true", "false"], { message: 'must be "true" or "false"' }))
      .transform((v) => v === "true"),
    MIGRATION_DEADLINE: text("MIGRATION_DEADLINE").refine((v) => v === "" || isIsoDay(v), "must be a date as YYYY-MM-DD"),
    RULES_DISABLED: text("RULES_DISABLED").transform((v) => list(v)),
    RULE_DEADLINES: text("RULE_DEADLINES").transform((v, ctx) => {
      const out: Record<string, string> = {};
      for (const entry of list(v)) {
        const m = /^([^=]+)=(.*)$/.exec(entry);
        if (!m || !isIsoDay(m[2] ?? "")) {
          ctx.addIssue({ code: "custom", message: `must be a comma-separated list of <rule id>=YYYY-MM-DD (got "${entry}")` });
          continue;
        }
        out[(m[1] ?? "").trim()] = m[2] ?? "";
      }
      return out;
    }),
    RULES_FILE: optional("RULES_FILE"),
    // The migration kits write it into scripts and pool bodies: held to Azure's grammar, a subscription GUID, a resource
    // group name (1-90 letters, digits, `_-.()`, not ending in `.`) and an identity name (3-128 letters, digits, `-`
    // and `_`, starting with a letter or digit), per Learn "Naming rules and restrictions for Azure resources".
    MIGRATION_IDENTITY_ID: optional("MIGRATION_IDENTITY_ID").refine(
      (v) =>
        v === undefined ||
        /^\/subscriptions\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/resourcegroups\/[-\p{L}\p{N}_.()]{0,89}[-\p{L}\p{N}_()]\/providers\/microsoft\.managedidentity\/userassignedidentities\/[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/iu.test(v),
      "must be the resource id of a user-assigned managed identity (/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)",
    ),
    MIGRATION_IDENTITY_CLIENT_ID: optional("MIGRATION_IDENTITY_CLIENT_ID").refine((v) => v === undefined || isGuid(v), "must be a client id (GUID)"),
    // Key Vault names: 3-24 letters, digits and dashes, starting with a letter (Learn: "Key Vault naming rules").
    MIGRATION_KEY_VAULT_NAME: optional("MIGRATION_KEY_VAULT_NAME").refine((v) => v === undefined || /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/.test(v), "must be a Key Vault name (3-24 letters, digits and dashes, starting with a letter)"),
    REMINDER_DAYS: text("REMINDER_DAYS").transform((v, ctx) => {
      const parts = list(v);
      const days = parts.map(Number);
      if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p)) || days.some((d) => d > 3650)) {
        ctx.addIssue({ code: "custom", message: `must be a comma-separated list of whole days from 0 to 3650 (got "${v}")` });
      }
      return [...new Set(days)].sort((a, b) => b - a);
    }),
    OVERDUE_EVERY_DAYS: intSetting("OVERDUE_EVERY_DAYS", 1, 365),
    ESCALATE_AFTER_REMINDERS: intSetting("ESCALATE_AFTER_REMINDERS", 0, 1000),
    ESCALATION_CONTACTS: addressList("ESCALATION_CONTACTS", allowedRecipientDomains),
    SNOOZE_TAG_KEY: text("SNOOZE_TAG_KEY").refine((v) => v !== "", "must not be empty"),
    SNOOZE_REASON_TAG_KEY: text("SNOOZE_REASON_TAG_KEY"),
    MAX_SNOOZE_DAYS: intSetting("MAX_SNOOZE_DAYS", 0, 3650),
    SEND_MODE: text("SEND_MODE").pipe(z.enum(["dry-run", "redirect", "live"], { message: 'must be one of "dry-run", "redirect", "live"' })),
    REDIRECT_ADDRESS: optional("REDIRECT_ADDRESS")
      .refine((v) => v === undefined || checkAddress(v).ok, "must be one valid email address")
      .superRefine((v, ctx) => {
        if (v !== undefined && outsideDomains([v], allowedRecipientDomains).length > 0) ctx.addIssue({ code: "custom", message: outsideMessage([v]) });
      }),
    SENDER_ADDRESS: optional("SENDER_ADDRESS").refine((v) => v === undefined || ADDRESS.test(v), "must be one valid email address"),
    COMMUNICATION_SERVICES_ENDPOINT: optional("COMMUNICATION_SERVICES_ENDPOINT").refine((v) => v === undefined || /^https:\/\/[^\s/]+\/?$/.test(v), "must be an https:// URL such as https://<resource>.communication.azure.com"),
    COMMUNICATION_SERVICES_CONNECTION_STRING: optional("COMMUNICATION_SERVICES_CONNECTION_STRING").refine(
      (v) => v === undefined || (/endpoint=/i.test(v) && /accesskey=/i.test(v)),
      "must look like endpoint=https://...;accesskey=...",
    ),
    EMAIL_PER_MINUTE: intSetting("EMAIL_PER_MINUTE", 1, 10_000),
    EMAIL_PER_HOUR: intSetting("EMAIL_PER_HOUR", 1, 1_000_000),
    EMAIL_STATUS_READS_PER_MINUTE: intSetting("EMAIL_STATUS_READS_PER_MINUTE", 1, 10_000),
    EMAIL_STATUS_READS_PER_HOUR: intSetting("EMAIL_STATUS_READS_PER_HOUR", 1, 1_000_000),
    EMAIL_NOT_FOUND_GRACE_HOURS: intSetting("EMAIL_NOT_FOUND_GRACE_HOURS", 0, 24 * 30),
    UNDELIVERABLE_RETRY_DAYS: intSetting("UNDELIVERABLE_RETRY_DAYS", 1, 3650),
    DIGEST_ITEMS_IN_FULL: intSetting("DIGEST_ITEMS_IN_FULL", 1, 500),
    ADMIN_SUMMARY_TO: addressList("ADMIN_SUMMARY_TO", allowedRecipientDomains),
    REPORT_CONTAINER: text("REPORT_CONTAINER").refine((v) => /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(v), "must be a valid blob container name (3-63 lower-case letters, digits, hyphens)"),
    LEDGER_TABLE: text("LEDGER_TABLE").refine((v) => /^[A-Za-z][A-Za-z0-9]{2,62}$/.test(v), "must be a valid table name (3-63 letters and digits, starting with a letter)"),
    AZURE_CLIENT_ID: optional("AZURE_CLIENT_ID").refine((v) => v === undefined || isGuid(v), "must be a client id (GUID)"),
    APPLICATIONINSIGHTS_CONNECTION_STRING: optional("APPLICATIONINSIGHTS_CONNECTION_STRING"),
    AzureWebJobsStorage: optional("AzureWebJobsStorage"),
    AzureWebJobsStorage__accountName: optional("AzureWebJobsStorage__accountName"),
  })
  .superRefine((env, ctx) => {
    if (env.SEND_MODE === "redirect" && !env.REDIRECT_ADDRESS) ctx.addIssue({ code: "custom", path: ["REDIRECT_ADDRESS"], message: 'is required when SEND_MODE is "redirect"' });
    if (env.SEND_MODE !== "dry-run" && !env.SENDER_ADDRESS) ctx.addIssue({ code: "custom", path: ["SENDER_ADDRESS"], message: `is required when SEND_MODE is "${env.SEND_MODE}"` });
    if (env.SEND_MODE !== "dry-run" && !env.COMMUNICATION_SERVICES_ENDPOINT && !env.COMMUNICATION_SERVICES_CONNECTION_STRING && !simulated) {
      ctx.addIssue({ code: "custom", path: ["COMMUNICATION_SERVICES_ENDPOINT"], message: `or COMMUNICATION_SERVICES_CONNECTION_STRING is required when SEND_MODE is "${env.SEND_MODE}"` });
    }
    // Live mail to real owners with no allow-list would go to any domain a tag names; that has to be meant. The
    // simulator (the demo, --simulate) mails nobody real, so it may.
    if (env.SEND_MODE === "live" && !simulated && env.ALLOWED_RECIPIENT_DOMAINS.length === 0 && !env.ALLOW_ANY_RECIPIENT_DOMAIN) {
      ctx.addIssue({
        code: "custom",
        path: ["ALLOWED_RECIPIENT_DOMAINS"],
        message: 'must name the domains mail may go to when SEND_MODE is "live" (or set ALLOW_ANY_RECIPIENT_DOMAIN=true to mail any domain)',
      });
    }
    if (env.OWNER_SOURCES.includes("roles") && env.OWNER_ROLE_NAMES.length === 0) {
      ctx.addIssue({ code: "custom", path: ["OWNER_ROLE_NAMES"], message: 'must name at least one role when OWNER_SOURCES includes "roles"' });
    }
    const clash = scheduleClash(env.AUDIT_SCHEDULE, env.SEND_SCHEDULE);
    if (clash) {
      ctx.addIssue({
        code: "custom",
        path: ["SEND_SCHEDULE"],
        message: `fires in the same minute as AUDIT_SCHEDULE (${clash}); the two runs would race for the run lock and the audit could be skipped: move it off the audit's minute (the default fires at half past each hour)`,
      });
    }
    if (env.EMAIL_PER_MINUTE > env.EMAIL_PER_HOUR) ctx.addIssue({ code: "custom", path: ["EMAIL_PER_MINUTE"], message: "must not exceed EMAIL_PER_HOUR" });
    if (env.EMAIL_STATUS_READS_PER_MINUTE > env.EMAIL_STATUS_READS_PER_HOUR) {
      ctx.addIssue({ code: "custom", path: ["EMAIL_STATUS_READS_PER_MINUTE"], message: "must not exceed EMAIL_STATUS_READS_PER_HOUR" });
    }
  });

/**
 * The first audit firing (over 2024, from a fixed day: configuration does not read the clock) within a
 * minute of a sending firing; undefined when none, or when either expression is invalid (reported on its own).
 */
function scheduleClash(auditSchedule: string, sendSchedule: string): string | undefined {
  let audit;
  let send;
  try {
    audit = parseNcrontab(auditSchedule);
    send = parseNcrontab(sendSchedule);
  } catch {
    return undefined;
  }
  const end = Date.UTC(2025, 0, 1);
  let checked = 0;
  // At most 1,000 firings: a year of a daily audit, less of a more frequent one (which is enough to find a clash).
  for (let at = audit.next(new Date(Date.UTC(2024, 0, 1))); at && at.getTime() < end && checked++ < 1000; at = audit.next(at)) {
    const near = send.next(new Date(at.getTime() - 60_000));
    if (near && near.getTime() < at.getTime() + 60_000) return `both at ${at.toISOString().slice(11, 19)} UTC`;
  }
  return undefined;
}

/**
 * Reads and validates the configuration; throws one CONFIG.INVALID error naming every bad setting.
 * `simulated`: the CLI's --simulate mode, where the simulated Communication Email service stands in for the endpoint.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { simulated?: boolean } = {},
): AppConfig {
  const input: Record<string, string> = {};
  for (const name of Object.keys(SETTINGS)) {
    const value = env[name];
    if (value !== undefined) input[name] = value;
  }
  // Recipient settings are held to the allowed domains as given; a malformed entry there is reported on its own.
  const allowedRecipientDomains = normaliseAllowedDomains(list(input.ALLOWED_RECIPIENT_DOMAINS ?? ""));
  const result = envSchema(options.simulated ?? false, allowedRecipientDomains).safeParse(input);
  const rules = result.success ? loadRules(result.data) : { problems: [] };
  if (!result.success || "problems" in rules) {
    const lines = [
      ...(result.success ? [] : result.error.issues.map((i) => `  - ${String(i.path[0] ?? "configuration")}: ${i.message}`)),
      ...("problems" in rules ? rules.problems.map((p) => `  - ${p}`) : []),
    ];
    throw new AuditError("CONFIG.INVALID", `Configuration is not valid (${lines.length} problem${lines.length === 1 ? "" : "s"}):\n${lines.join("\n")}`);
  }
  const e = result.data;
  return {
    scope: { subscriptions: e.AUDIT_SUBSCRIPTIONS, managementGroups: e.AUDIT_MANAGEMENT_GROUPS },
    auditSchedule: e.AUDIT_SCHEDULE,
    sendSchedule: e.SEND_SCHEDULE,
    batchConcurrency: e.BATCH_CONCURRENCY,
    runLimits: { maxRetryWaitSeconds: e.MAX_RETRY_WAIT_SECONDS, maxPagesPerScope: e.MAX_PAGES_PER_SCOPE, runBudgetMinutes: e.RUN_BUDGET_MINUTES },
    heapGrowingPercent: e.HEAP_GROWING_PERCENT,
    owners: {
      ownerTagKeys: e.OWNER_TAG_KEYS,
      fallbackContacts: e.FALLBACK_CONTACTS,
      allowedRecipientDomains: e.ALLOWED_RECIPIENT_DOMAINS,
      sources: e.OWNER_SOURCES,
      roleNames: e.OWNER_ROLE_NAMES,
      groupMaxMembers: e.OWNER_GROUP_MAX_MEMBERS,
    },
    schedule: {
      deadline: e.MIGRATION_DEADLINE || RETIREMENT_DATE,
      reminderDays: e.REMINDER_DAYS,
      overdueEveryDays: e.OVERDUE_EVERY_DAYS,
      escalateAfterReminders: e.ESCALATE_AFTER_REMINDERS,
    },
    escalationContacts: e.ESCALATION_CONTACTS,
    rules: rules.rules,
    migration: { identityId: e.MIGRATION_IDENTITY_ID, identityClientId: e.MIGRATION_IDENTITY_CLIENT_ID, keyVaultName: e.MIGRATION_KEY_VAULT_NAME },
    snooze: { tagKey: e.SNOOZE_TAG_KEY, reasonTagKey: e.SNOOZE_REASON_TAG_KEY, maxDays: e.MAX_SNOOZE_DAYS },
    sendMode: e.SEND_MODE,
    redirectAddress: e.REDIRECT_ADDRESS,
    email: {
      senderAddress: e.SENDER_ADDRESS,
      endpoint: e.COMMUNICATION_SERVICES_ENDPOINT,
      connectionString: e.COMMUNICATION_SERVICES_CONNECTION_STRING,
      perMinute: e.EMAIL_PER_MINUTE,
      perHour: e.EMAIL_PER_HOUR,
      statusReads: { perMinute: e.EMAIL_STATUS_READS_PER_MINUTE, perHour: e.EMAIL_STATUS_READS_PER_HOUR },
      notFoundGraceHours: e.EMAIL_NOT_FOUND_GRACE_HOURS,
      undeliverableRetryDays: e.UNDELIVERABLE_RETRY_DAYS,
      digestItemsInFull: e.DIGEST_ITEMS_IN_FULL,
    },
    adminSummaryTo: e.ADMIN_SUMMARY_TO,
    storage: { connectionString: e.AzureWebJobsStorage, accountName: e.AzureWebJobsStorage__accountName },
    reportContainer: e.REPORT_CONTAINER,
    ledgerTable: e.LEDGER_TABLE,
    managedIdentityClientId: e.AZURE_CLIENT_ID,
    appInsightsConnectionString: e.APPLICATIONINSIGHTS_CONNECTION_STRING,
  };
}

/** The certificate rules, which MIGRATION_DEADLINE moves (unless RULE_DEADLINES names them). */
const CERTIFICATE_RULE_IDS = ["account-certificate", "pool-certificate-reference"];

/**
 * RULES_FILE's rules (read here: configuration is read once, at start), then RULES_DISABLED and RULE_DEADLINES checked
 * against every rule id. Each problem names its setting (and for the file, its path and JSON pointer).
 */
function loadRules(e: { RULES_FILE: string | undefined; RULES_DISABLED: string[]; RULE_DEADLINES: Record<string, string>; MIGRATION_DEADLINE: string }): { rules: AppConfig["rules"] } | { problems: string[] } {
  const problems: string[] = [];
  let custom: RetirementRule[] = [];
  if (e.RULES_FILE !== undefined) {
    const where = `RULES_FILE: ${e.RULES_FILE}`;
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(e.RULES_FILE, "utf8"));
    } catch (error) {
      return { problems: [`${where}: ${error instanceof Error ? error.message : String(error)}`] };
    }
    const parsed = parseCustomRules(document, knownRuleIds());
    if ("problems" in parsed) return { problems: parsed.problems.map((p) => `${where}: ${p}`) };
    custom = parsed.rules;
  }
  const ids = knownRuleIds(custom);
  const unknown = (setting: string, named: string[]) => {
    const bad = unknownRuleIds(named, ids);
    if (bad.length > 0) problems.push(`${setting}: unknown rule ${bad.map((b) => JSON.stringify(b)).join(", ")}; the rules are: ${ids.join(", ")}`);
  };
  unknown("RULES_DISABLED", e.RULES_DISABLED);
  unknown("RULE_DEADLINES", Object.keys(e.RULE_DEADLINES));
  if (problems.length > 0) return { problems };
  const certificate = e.MIGRATION_DEADLINE ? Object.fromEntries(CERTIFICATE_RULE_IDS.map((id) => [id, e.MIGRATION_DEADLINE])) : {};
  const enabled = resolveRules({ disabled: e.RULES_DISABLED, deadlines: { ...certificate, ...e.RULE_DEADLINES }, custom });
  return { rules: { enabled, ids } };
}

/** The local dashboard's port (`PORT`, default 7071, the Functions host's own default). Not an app setting. */
export function dashboardPort(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.PORT;
  const port = raw === undefined || raw === "" ? 7071 : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AuditError("CONFIG.INVALID", `PORT must be a port number from 0 to 65535 (got "${raw}")`);
  }
  return port;
}
