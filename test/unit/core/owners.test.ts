import { describe, expect, it } from "vitest";
import { checkAddress, isDomainAllowed, MAX_ADDRESSES_PER_VALUE, resolveOwners, tagNaming, type OwnerPolicy } from "../../../src/core/owners.js";

const ACCOUNT_ID = "/subscriptions/1111/resourceGroups/rg-batch/providers/Microsoft.Batch/batchAccounts/acct1";
const RG_ID = "/subscriptions/1111/resourceGroups/rg-batch";

const policy = (over: Partial<OwnerPolicy> = {}): OwnerPolicy => ({
  ownerTagKeys: ["owner", "OwnerContact"],
  fallbackContacts: ["platform@contoso.com"],
  allowedRecipientDomains: ["contoso.com"],
  ...over,
});

describe("resolveOwners", () => {
  it("uses the account tag when it holds a valid address, ignoring farther levels", () => {
    const r = resolveOwners(
      { account: { owner: "alice@contoso.com" }, accountId: ACCOUNT_ID, resourceGroup: { owner: "bob@contoso.com" }, resourceGroupId: RG_ID },
      policy(),
    );
    expect(r.owners).toEqual([{ address: "alice@contoso.com", source: 'account tag "owner"', namedBy: tagNaming(ACCOUNT_ID, "owner", "alice@contoso.com") }]);
    expect(r.problems).toEqual([]);
  });

  it("falls through to the resource group, then the subscription, then the fallback contacts", () => {
    const rg = resolveOwners({ account: {}, accountId: ACCOUNT_ID, resourceGroup: { OwnerContact: "bob@contoso.com" }, resourceGroupId: RG_ID }, policy());
    expect(rg.owners).toEqual([{ address: "bob@contoso.com", source: 'resource group tag "OwnerContact"', namedBy: tagNaming(RG_ID, "OwnerContact", "bob@contoso.com") }]);

    const sub = resolveOwners({ account: {}, accountId: ACCOUNT_ID, resourceGroup: {}, subscription: { owner: "carol@contoso.com" }, subscriptionId: "1111" }, policy());
    expect(sub.owners).toEqual([{ address: "carol@contoso.com", source: 'subscription tag "owner"', namedBy: tagNaming("/subscriptions/1111", "owner", "carol@contoso.com") }]);

    const fb = resolveOwners({ account: {}, accountId: ACCOUNT_ID }, policy());
    expect(fb.owners).toEqual([{ address: "platform@contoso.com", source: "fallback" }]);
  });

  it("says which owner tag entries were not addresses and what to set instead, for a nearer level that named nobody", () => {
    const r = resolveOwners(
      { account: { Owner: "bob@@contoso" }, accountId: ACCOUNT_ID, accountName: "acct1", resourceGroup: { owner: "carol@contoso.com" }, resourceGroupId: RG_ID },
      policy(),
    );
    expect(r.owners).toEqual([expect.objectContaining({ address: "carol@contoso.com", source: 'resource group tag "owner"' })]);
    expect(r.tagFixes).toEqual([
      {
        level: "account",
        resourceId: ACCOUNT_ID,
        name: "acct1",
        key: "Owner",
        value: "bob@@contoso",
        invalid: [{ entry: "bob@@contoso", reason: "not-an-address" }],
        corrected: "<corrected-address>",
      },
    ]);
  });

  it("keeps the valid entries of a partly invalid value in the corrected one, and leaves out entries that are only refused by policy", () => {
    const r = resolveOwners({ account: { owner: "alice@contoso.com, bob.contoso.com; eve@evil.io" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners.map((o) => o.address)).toEqual(["alice@contoso.com"]);
    expect(r.tagFixes).toHaveLength(1);
    expect(r.tagFixes[0]?.invalid).toEqual([{ entry: "bob.contoso.com", reason: "not-an-address" }]);
    expect(r.tagFixes[0]?.corrected).toBe("alice@contoso.com;<corrected-address>;eve@evil.io");
  });

  it("reports a tag value of words, not addresses, as one bad value in one line naming the resource once", () => {
    const r = resolveOwners({ account: { owner: "risk team (ask Bob)" }, accountId: ACCOUNT_ID }, policy());
    expect(r.problems).toEqual([`account tag "owner" on ${ACCOUNT_ID}: 'risk team (ask Bob)' is not a valid email address`]);
    expect(r.tagFixes[0]).toMatchObject({ invalid: [{ entry: "risk team (ask Bob)", reason: "not-an-address" }], corrected: "<corrected-address>" });
  });

  it("keeps space-separated addresses apart and reports the words between them as one entry", () => {
    const r = resolveOwners({ account: { owner: "alice@contoso.com (team lead) bob@@contoso carol@contoso.com" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners.map((o) => o.address)).toEqual(["alice@contoso.com", "carol@contoso.com"]);
    expect(r.problems).toEqual([`account tag "owner" on ${ACCOUNT_ID}: '(team lead)', 'bob@@contoso' are not valid email addresses`]);
    expect(r.tagFixes[0]?.corrected).toBe("alice@contoso.com;<corrected-address>;carol@contoso.com");
  });

  it("replaces a value with control characters whole, and reports no fix for valid tags", () => {
    const r = resolveOwners({ account: { owner: "alice@contoso.com\r\nBcc: x@evil.io" }, accountId: ACCOUNT_ID }, policy());
    expect(r.tagFixes[0]).toMatchObject({ invalid: [{ reason: "control-characters" }], corrected: "<corrected-address>" });
    expect(resolveOwners({ account: { owner: "alice@contoso.com" }, accountId: ACCOUNT_ID }, policy()).tagFixes).toEqual([]);
  });

  it("matches tag keys case-insensitively and reports the key as written on the resource", () => {
    const r = resolveOwners({ account: { OWNER: "alice@contoso.com" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners).toEqual([{ address: "alice@contoso.com", source: 'account tag "OWNER"', namedBy: tagNaming(ACCOUNT_ID, "owner", "alice@contoso.com") }]);
  });

  it("splits a value on commas, semicolons and spaces and de-duplicates case-insensitively", () => {
    const r = resolveOwners({ account: { owner: "a@contoso.com, b@contoso.com;A@Contoso.com  c@contoso.com" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners.map((o) => o.address)).toEqual(["a@contoso.com", "b@contoso.com", "c@contoso.com"]);
  });

  it("lower-cases the domain but keeps the local part as written", () => {
    const r = resolveOwners({ account: { owner: "Alice.Smith@CONTOSO.COM" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners[0]?.address).toBe("Alice.Smith@contoso.com");
  });

  it("takes every configured owner key on the nearest level", () => {
    const r = resolveOwners({ account: { OwnerContact: "b@contoso.com", owner: "a@contoso.com" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners.map((o) => o.source)).toEqual(['account tag "owner"', 'account tag "OwnerContact"']);
  });

  it("rejects a whole value that contains CR/LF and moves on to the next level", () => {
    const r = resolveOwners(
      {
        account: { owner: "alice@contoso.com\r\nBcc: victim@evil.com" },
        accountId: ACCOUNT_ID,
        resourceGroup: { owner: "bob@contoso.com" },
        resourceGroupId: RG_ID,
      },
      policy(),
    );
    expect(r.owners).toEqual([{ address: "bob@contoso.com", source: 'resource group tag "owner"', namedBy: tagNaming(RG_ID, "owner", "bob@contoso.com") }]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain(`account tag "owner" on ${ACCOUNT_ID}`);
    expect(r.problems[0]).toContain("control characters");
    expect(r.problems[0]).not.toMatch(/[\r\n]/);
  });

  it.each([["NUL", "a@contoso.com\u0000"], ["TAB", "a@contoso.com\tb@contoso.com"], ["DEL", "a@contoso.com\u007f"], ["LF alone", "a@contoso.com\nb@contoso.com"]])(
    "rejects a value containing %s",
    (_name, value) => {
      const r = resolveOwners({ account: { owner: value }, accountId: ACCOUNT_ID }, policy({ fallbackContacts: [] }));
      expect(r.owners).toEqual([]);
      expect(r.problems.some((p) => p.includes("control characters"))).toBe(true);
    },
  );

  it("reports an address outside ALLOWED_RECIPIENT_DOMAINS in the documented wording and does not use it", () => {
    const r = resolveOwners(
      { account: { owner: "x@evil.com" }, accountId: ACCOUNT_ID, resourceGroup: { owner: "bob@contoso.com" }, resourceGroupId: RG_ID },
      policy(),
    );
    expect(r.problems).toEqual([`account tag "owner" on ${ACCOUNT_ID}: 'x@evil.com' is outside ALLOWED_RECIPIENT_DOMAINS`]);
    expect(r.owners.map((o) => o.address)).toEqual(["bob@contoso.com"]);
  });

  it("keeps the valid addresses of a value and reports the rejected ones", () => {
    const r = resolveOwners({ account: { owner: "alice@contoso.com x@evil.com" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners.map((o) => o.address)).toEqual(["alice@contoso.com"]);
    expect(r.problems).toHaveLength(1);
  });

  it("allows subdomains of an allowed domain but not a look-alike suffix", () => {
    const r = resolveOwners({ account: { owner: "a@eu.contoso.com a@contoso.com.evil.io a@evilcontoso.com" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners.map((o) => o.address)).toEqual(["a@eu.contoso.com"]);
    expect(r.problems.filter((p) => p.includes("outside ALLOWED_RECIPIENT_DOMAINS"))).toHaveLength(2);
  });

  it("refuses a domain with a Cyrillic look-alike letter and says so", () => {
    const r = resolveOwners({ account: { owner: "alice@cont\u043eso.com" }, accountId: ACCOUNT_ID }, policy({ allowedRecipientDomains: [] }));
    expect(r.owners.map((o) => o.source)).toEqual(["fallback"]);
    expect(r.problems[0]).toContain("non-ASCII domain");
  });

  it("accepts any well-formed domain when no allow-list is configured", () => {
    const r = resolveOwners({ account: { owner: "a@fabrikam.org" }, accountId: ACCOUNT_ID }, policy({ allowedRecipientDomains: [] }));
    expect(r.owners.map((o) => o.address)).toEqual(["a@fabrikam.org"]);
  });

  it("considers only the first 20 entries of a tag with 300 addresses and reports the rest", () => {
    const many = Array.from({ length: 300 }, (_, i) => `user${i}@contoso.com`).join(",");
    const r = resolveOwners({ account: { owner: many }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners).toHaveLength(MAX_ADDRESSES_PER_VALUE);
    expect(r.owners[0]?.address).toBe("user0@contoso.com");
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain("280 ignored");
  });

  it("reports invalid addresses and uses the fallback when nothing else is valid", () => {
    const r = resolveOwners({ account: { owner: '"Alice" <alice@contoso.com>' }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners).toEqual([{ address: "platform@contoso.com", source: "fallback" }]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain(`'"Alice"', '<alice@contoso.com>' are not valid email addresses`);
  });

  it("reports that there is no owner at all when even the fallback is unusable", () => {
    const r = resolveOwners({ account: {}, accountId: ACCOUNT_ID }, policy({ fallbackContacts: ["x@evil.com"] }));
    expect(r.owners).toEqual([]);
    expect(r.problems.at(-1)).toContain("no valid owner address");
  });

  it("never echoes a script tag unmodified into a problem beyond quoting it", () => {
    const r = resolveOwners({ account: { owner: "<script>alert(1)</script>" }, accountId: ACCOUNT_ID }, policy());
    expect(r.owners.map((o) => o.source)).toEqual(["fallback"]);
    expect(r.problems[0]).toContain("is not a valid email address");
  });
});

describe("checkAddress", () => {
  it.each([
    "plain@contoso.com",
    "first.last+tag@sub.contoso.co.uk",
    "o'brien@contoso.com",
    "a@xn--80ak6aa92e.com",
  ])("accepts %s", (a) => {
    expect(checkAddress(a).ok).toBe(true);
  });

  it.each([
    "no-at-sign",
    "@contoso.com",
    "a@b@contoso.com",
    "a@localhost",
    "a@[10.0.0.1]",
    "a@10.0.0.1",
    "\"quoted\"@contoso.com",
    "a(comment)@contoso.com",
    "a..b@contoso.com",
    ".a@contoso.com",
    "a@-contoso.com",
    "a@contoso..com",
    `${"x".repeat(65)}@contoso.com`,
    `a@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(63)}.${"g".repeat(63)}.com`,
  ])("rejects %s", (a) => {
    expect(checkAddress(a).ok).toBe(false);
  });
});

describe("isDomainAllowed", () => {
  it("matches the domain itself and its subdomains only", () => {
    expect(isDomainAllowed("contoso.com", ["contoso.com"])).toBe(true);
    expect(isDomainAllowed("mail.contoso.com", ["contoso.com"])).toBe(true);
    expect(isDomainAllowed("notcontoso.com", ["contoso.com"])).toBe(false);
    expect(isDomainAllowed("contoso.com.evil.io", ["contoso.com"])).toBe(false);
  });
});
