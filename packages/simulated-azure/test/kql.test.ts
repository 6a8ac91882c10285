import { describe, expect, it } from "vitest";
import { executeKql, KqlUnsupportedError, type Row } from "../src/kql/index.js";

const ALPHA = {
  id: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Batch/batchAccounts/alpha",
  name: "alpha",
  type: "microsoft.batch/batchaccounts",
  subscriptionId: "s1",
  resourceGroup: "rg1",
  location: "westeurope",
  tags: { owner: "ada@contoso.com", "cost-center": "42" },
  properties: {
    provisioningState: "Succeeded",
    dedicatedCoreQuota: 20,
    certificates: [{ thumbprint: "AB12" }, { thumbprint: "CD34" }],
  },
};
const BETA = {
  id: "/subscriptions/s1/resourceGroups/rg2/providers/Microsoft.Batch/batchAccounts/beta",
  name: "beta",
  type: "microsoft.batch/batchaccounts",
  subscriptionId: "s1",
  resourceGroup: "rg2",
  location: "eastus",
  tags: { owner: "bob@fabrikam.com" },
  properties: { provisioningState: "Failed", dedicatedCoreQuota: 5, certificates: [] },
};
const GAMMA = {
  id: "/subscriptions/s2/resourceGroups/rg3/providers/Microsoft.Storage/storageAccounts/GammaStore",
  name: "GammaStore",
  type: "microsoft.storage/storageaccounts",
  subscriptionId: "s2",
  resourceGroup: "rg3",
  location: "westeurope",
  tags: null,
  properties: { provisioningState: "Succeeded", note: "it's a \"store\"" },
};
// No tags at all, and a managedBy column, unlike the others.
const DELTA = {
  id: "/subscriptions/s2/resourceGroups/rg3/providers/Microsoft.KeyVault/vaults/delta",
  name: "delta",
  type: "microsoft.keyvault/vaults",
  subscriptionId: "s2",
  resourceGroup: "rg3",
  location: "northeurope",
  managedBy: "someone",
  properties: { dedicatedCoreQuota: 12, certificates: "not-an-array" },
};

const tables = { resources: [ALPHA, BETA, GAMMA, DELTA] as readonly Row[] };

function run(query: string): Row[] {
  return executeKql(query, tables);
}

function names(query: string): unknown[] {
  return run(query).map((row) => row["name"]);
}

function failure(query: string): KqlUnsupportedError {
  try {
    run(query);
  } catch (error) {
    if (error instanceof KqlUnsupportedError) return error;
    throw error;
  }
  throw new Error(`expected ${query} to be rejected`);
}

describe("tables", () => {
  it("returns every row of a table when the query is just its name", () => {
    expect(names("resources")).toEqual(["alpha", "beta", "GammaStore", "delta"]);
  });

  it("matches table names case-insensitively", () => {
    expect(names("Resources | take 1")).toEqual(["alpha"]);
  });

  it("rejects an unknown table, naming the tables it has", () => {
    expect(failure("computers | take 1").message).toMatch(/Unknown table 'computers'.*resources/);
  });

  it("does not hand out the caller's array", () => {
    const result = run("resources");
    expect(result).not.toBe(tables.resources);
  });
});

describe("where", () => {
  it("compares strings case-sensitively with ==", () => {
    expect(names("resources | where name == 'GammaStore'")).toEqual(["GammaStore"]);
    expect(names("resources | where name == 'gammastore'")).toEqual([]);
  });

  it("filters case-insensitively with =~", () => {
    expect(names("resources | where name =~ 'gammastore'")).toEqual(["GammaStore"]);
  });

  it("excludes case-insensitively with !~", () => {
    expect(names("resources | where type !~ 'Microsoft.Batch/batchAccounts'")).toEqual(["GammaStore", "delta"]);
  });

  it("excludes with !=", () => {
    expect(names("resources | where location != 'westeurope'")).toEqual(["beta", "delta"]);
  });

  it("compares numbers with <, <=, > and >=", () => {
    expect(names("resources | where properties.dedicatedCoreQuota < 12")).toEqual(["beta"]);
    expect(names("resources | where properties.dedicatedCoreQuota <= 12")).toEqual(["beta", "delta"]);
    expect(names("resources | where properties.dedicatedCoreQuota > 12")).toEqual(["alpha"]);
    expect(names("resources | where properties.dedicatedCoreQuota >= 12")).toEqual(["alpha", "delta"]);
  });

  it("compares real and negative numbers", () => {
    expect(names("resources | where properties.dedicatedCoreQuota > 11.5 and properties.dedicatedCoreQuota > -1")).toEqual([
      "alpha",
      "delta",
    ]);
  });

  it("combines conditions with and / or, and binds and tighter than or", () => {
    expect(names("resources | where location == 'eastus' or location == 'westeurope' and name == 'alpha'")).toEqual([
      "alpha",
      "beta",
    ]);
    expect(names("resources | where (location == 'eastus' or location == 'westeurope') and subscriptionId == 's2'")).toEqual([
      "GammaStore",
    ]);
  });

  it("negates with not()", () => {
    expect(names("resources | where not(subscriptionId == 's1')")).toEqual(["GammaStore", "delta"]);
  });

  it("tests membership with in and !in, case-sensitively", () => {
    expect(names("resources | where name in ('alpha', 'delta', 'GAMMASTORE')")).toEqual(["alpha", "delta"]);
    expect(names("resources | where name !in ('alpha', 'delta')")).toEqual(["beta", "GammaStore"]);
  });

  it("tests membership with in~ and !in~, case-insensitively", () => {
    expect(names("resources | where name in~ ('ALPHA', 'gammastore')")).toEqual(["alpha", "GammaStore"]);
    expect(names("resources | where name !in~ ('ALPHA', 'gammastore')")).toEqual(["beta", "delta"]);
  });

  it("tests numbers with in", () => {
    expect(names("resources | where properties.dedicatedCoreQuota in (5, 12)")).toEqual(["beta", "delta"]);
  });

  it("finds substrings case-insensitively with contains, and case-sensitively with contains_cs", () => {
    expect(names("resources | where name contains 'STORE'")).toEqual(["GammaStore"]);
    expect(names("resources | where name contains_cs 'STORE'")).toEqual([]);
    expect(names("resources | where name !contains 'a'")).toEqual([]);
  });

  it("matches prefixes with startswith and suffixes with endswith, case-insensitively", () => {
    expect(names("resources | where name startswith 'GAM'")).toEqual(["GammaStore"]);
    expect(names("resources | where name !startswith 'gam'")).toEqual(["alpha", "beta", "delta"]);
    expect(names("resources | where name endswith 'TA'")).toEqual(["beta", "delta"]);
  });

  it("matches whole terms with has, case-insensitively", () => {
    expect(names("resources | where tags.owner has 'CONTOSO'")).toEqual(["alpha"]);
    expect(names("resources | where tags.owner has 'contos'")).toEqual([]);
    expect(names("resources | where tags.owner has 'ada@contoso.com'")).toEqual(["alpha"]);
    expect(names("resources | where tags.owner !has 'contoso'")).toEqual(["beta", "GammaStore", "delta"]);
  });

  it("treats a missing dynamic property as null: == is false and != is true, as Kusto documents", () => {
    expect(names("resources | where properties.absent == 'x'")).toEqual([]);
    expect(names("resources | where properties.absent != 'x'")).toEqual(["alpha", "beta", "GammaStore", "delta"]);
    expect(names("resources | where properties.absent > 0 or properties.absent <= 0")).toEqual([]);
  });

  it("reads a missing string column as the empty string, since Kusto strings have no null", () => {
    expect(names("resources | where managedBy == ''")).toEqual(["alpha", "beta", "GammaStore"]);
    expect(names("resources | where isnull(managedBy)")).toEqual([]);
  });
});

describe("property access", () => {
  it("follows dotted paths into dynamic columns", () => {
    expect(names("resources | where properties.provisioningState == 'Failed'")).toEqual(["beta"]);
  });

  it("accepts bracketed keys such as tags['cost-center']", () => {
    expect(names("resources | where tags['cost-center'] == '42'")).toEqual(["alpha"]);
    expect(names("resources | where properties['provisioningState'] == 'Failed'")).toEqual(["beta"]);
  });

  it("indexes arrays, counting negative indexes from the end", () => {
    const rows = run(
      "resources | where name == 'alpha' | project head = properties.certificates[0].thumbprint, tail = properties.certificates[-1]['thumbprint'], none = properties.certificates[5]",
    );
    expect(rows).toEqual([{ head: "AB12", tail: "CD34", none: null }]);
  });

  it("yields null for a path through a missing or non-object value", () => {
    expect(run("resources | project name, o = tags.owner.deeper, p = properties.note.x")).toEqual([
      { name: "alpha", o: null, p: null },
      { name: "beta", o: null, p: null },
      { name: "GammaStore", o: null, p: null },
      { name: "delta", o: null, p: null },
    ]);
  });

  it("does not reach JavaScript prototype members", () => {
    expect(run("resources | where name == 'alpha' | project c = tags.constructor")).toEqual([{ c: null }]);
  });
});

describe("literals", () => {
  it("accepts single- and double-quoted strings with escapes, and verbatim strings", () => {
    expect(names(`resources | where properties.note == 'it\\'s a "store"'`)).toEqual(["GammaStore"]);
    expect(names(`resources | where properties.note == "it's a \\"store\\""`)).toEqual(["GammaStore"]);
    expect(names(`resources | where name == @'delta'`)).toEqual(["delta"]);
  });

  it("accepts true and false", () => {
    expect(names("resources | where (name == 'alpha') == true")).toEqual(["alpha"]);
    expect(names("resources | where isnull(tags) == false")).toEqual(["alpha", "beta"]);
  });
});

describe("functions", () => {
  it("counts array elements with array_length, which is null for a non-array", () => {
    expect(run("resources | project name, n = array_length(properties.certificates)")).toEqual([
      { name: "alpha", n: 2 },
      { name: "beta", n: 0 },
      { name: "GammaStore", n: null },
      { name: "delta", n: null },
    ]);
    expect(names("resources | where array_length(properties.certificates) >= 0")).toEqual(["alpha", "beta"]);
  });

  it("changes case with tolower and toupper", () => {
    expect(run("resources | where name == 'GammaStore' | project l = tolower(name), u = toupper(name)")).toEqual([
      { l: "gammastore", u: "GAMMASTORE" },
    ]);
  });

  it("converts numbers, bags and null with tostring", () => {
    expect(
      run("resources | where name == 'beta' | project q = tostring(properties.dedicatedCoreQuota), t = tostring(tags), m = tostring(properties.absent)"),
    ).toEqual([{ q: "5", t: '{"owner":"bob@fabrikam.com"}', m: "" }]);
  });

  it("tells null from non-null with isnull and isnotnull", () => {
    expect(names("resources | where isnull(tags)")).toEqual(["GammaStore", "delta"]);
    expect(names("resources | where isnotnull(tags)")).toEqual(["alpha", "beta"]);
  });

  it("tells empty from non-empty with isempty and isnotempty", () => {
    expect(names("resources | where isempty(managedBy)")).toEqual(["alpha", "beta", "GammaStore"]);
    expect(names("resources | where isnotempty(managedBy)")).toEqual(["delta"]);
    expect(names("resources | where isempty(tags.owner)")).toEqual(["GammaStore", "delta"]);
  });
});

describe("project, project-away and extend", () => {
  it("projects bare columns in the order given", () => {
    const [row] = run("resources | project location, name | take 1");
    expect(Object.keys(row ?? {})).toEqual(["location", "name"]);
    expect(row).toEqual({ location: "westeurope", name: "alpha" });
  });

  it("projects computed columns under the name given", () => {
    expect(run("resources | where name == 'beta' | project upper = toupper(name), quota = properties.dedicatedCoreQuota")).toEqual([
      { upper: "BETA", quota: 5 },
    ]);
  });

  it("names an unaliased path with dots turned to underscores, as Resource Graph does", () => {
    expect(run("resources | where name == 'alpha' | project properties.provisioningState, tags['owner']")).toEqual([
      { properties_provisioningState: "Succeeded", tags_owner: "ada@contoso.com" },
    ]);
  });

  it("projects a missing dynamic column as null", () => {
    expect(run("resources | where name == 'delta' | project tags")).toEqual([{ tags: null }]);
  });

  it("rejects a computed column without a name", () => {
    expect(failure("resources | project tolower(name)").message).toMatch(/unnamed computed column 'tolower\(name\)'.*name = expression/);
  });

  it("rejects duplicate column names", () => {
    expect(failure("resources | project name, name").message).toMatch(/Duplicate column name 'name'/);
  });

  it("removes columns with project-away", () => {
    expect(run("resources | where name == 'beta' | project name, location, tags | project-away tags, location")).toEqual([
      { name: "beta" },
    ]);
  });

  it("adds columns with extend, each able to use the ones before it", () => {
    expect(
      run("resources | where name == 'beta' | project name | extend upper = toupper(name), lower = tolower(upper)"),
    ).toEqual([{ name: "beta", upper: "BETA", lower: "beta" }]);
  });

  it("replaces an existing column with extend", () => {
    expect(run("resources | where name == 'beta' | project name | extend name = toupper(name)")).toEqual([{ name: "BETA" }]);
  });

  it("rejects columns that the pipeline has projected away", () => {
    expect(failure("resources | project name | where location == 'x'").message).toMatch(
      /Unknown column 'location' at line 1, column 34\. Columns available there: name\./,
    );
  });
});

describe("order by, sort by, take and limit", () => {
  it("sorts descending by default, as Kusto does", () => {
    expect(names("resources | order by name")).toEqual(["delta", "beta", "alpha", "GammaStore"]);
  });

  it("sorts ascending with asc, ordinally (upper case first)", () => {
    expect(names("resources | order by name asc")).toEqual(["GammaStore", "alpha", "beta", "delta"]);
  });

  it("sorts by several keys, each with its own direction", () => {
    expect(names("resources | sort by subscriptionId desc, name asc")).toEqual(["GammaStore", "delta", "alpha", "beta"]);
  });

  it("puts nulls first ascending and last descending unless told otherwise", () => {
    expect(names("resources | order by tostring(tags.owner) asc")).toEqual(["GammaStore", "delta", "alpha", "beta"]);
    expect(names("resources | order by properties.dedicatedCoreQuota asc")).toEqual(["GammaStore", "beta", "delta", "alpha"]);
    expect(names("resources | order by properties.dedicatedCoreQuota desc")).toEqual(["alpha", "delta", "beta", "GammaStore"]);
    expect(names("resources | order by properties.dedicatedCoreQuota asc nulls last")).toEqual([
      "beta",
      "delta",
      "alpha",
      "GammaStore",
    ]);
  });

  it("keeps the input order of rows with equal keys", () => {
    expect(names("resources | order by location asc")).toEqual(["beta", "delta", "alpha", "GammaStore"]);
  });

  it("keeps the first rows with take and limit", () => {
    expect(names("resources | take 2")).toEqual(["alpha", "beta"]);
    expect(names("resources | order by name asc | limit 1")).toEqual(["GammaStore"]);
    expect(names("resources | take 0")).toEqual([]);
  });
});

describe("count and summarize", () => {
  it("counts rows with count", () => {
    expect(run("resources | where subscriptionId == 's1' | count")).toEqual([{ Count: 2 }]);
  });

  it("counts rows per group with summarize count() by", () => {
    expect(run("resources | summarize count() by subscriptionId")).toEqual([
      { subscriptionId: "s1", count_: 2 },
      { subscriptionId: "s2", count_: 2 },
    ]);
  });

  it("names the count and groups by paths", () => {
    expect(run("resources | summarize n = count() by properties.provisioningState")).toEqual([
      { properties_provisioningState: "Succeeded", n: 2 },
      { properties_provisioningState: "Failed", n: 1 },
      { properties_provisioningState: null, n: 1 },
    ]);
  });

  it("returns a single zero count for no rows without by", () => {
    expect(run("resources | where name == 'nobody' | summarize count()")).toEqual([{ count_: 0 }]);
  });

  it("rejects other aggregations", () => {
    expect(failure("resources | summarize dcount(name)").message).toMatch(/aggregation 'dcount\(name\)'.*count\(\).*make_list\(\)/);
  });

  it("lists each group's values with make_list, leaving nulls out, beside count() over the same rows", () => {
    expect(run("resources | summarize names = make_list(name), states = make_list(properties.absent), n = count() by subscriptionId")).toEqual([
      { subscriptionId: "s1", names: ["alpha", "beta"], states: [], n: 2 },
      { subscriptionId: "s2", names: ["GammaStore", "delta"], states: [], n: 2 },
    ]);
  });

  it("keeps at most make_list's size, while count() still counts every row", () => {
    expect(run("resources | summarize names = make_list(name, 1), n = count() by subscriptionId")).toEqual([
      { subscriptionId: "s1", names: ["alpha"], n: 2 },
      { subscriptionId: "s2", names: ["GammaStore"], n: 2 },
    ]);
    expect(failure("resources | summarize make_list(name, 0)").message).toMatch(/make_list's size '0'/);
  });

  it("packs values into arrays with pack_array (a missing value as null in its place) and groups by a computed key", () => {
    const rows = run(
      "resources | where type =~ 'microsoft.batch/batchaccounts' | summarize items = make_list(pack_array(name, properties.dedicatedCoreQuota, properties.nothing)) by g = tolower(extract(@'^(.+)/providers/', 1, id))",
    );
    expect(rows).toEqual([
      { g: "/subscriptions/s1/resourcegroups/rg1", items: [["alpha", 20, null]] },
      { g: "/subscriptions/s1/resourcegroups/rg2", items: [["beta", 5, null]] },
    ]);
  });

  it("extracts a capture group with extract, greedy as the expression says, and an empty string where it does not match", () => {
    expect(run("resources | where name == 'alpha' or name == 'GammaStore' | project a = extract(@'^(.+)/providers/', 1, id), b = extract(@'/([^/]+)$', 1, id), c = extract('batchAccounts/(x)', 1, id), d = extract('s[0-9]', 0, id)")).toEqual([
      { a: "/subscriptions/s1/resourceGroups/rg1", b: "alpha", c: "", d: "s1" },
      { a: "/subscriptions/s2/resourceGroups/rg3", b: "GammaStore", c: "", d: "s2" },
    ]);
    expect(failure("resources | project e = extract(name, 1, id)").message).toMatch(/extract's regular expression 'name'/);
    expect(failure("resources | project e = extract('(a)', -1, id)").message).toMatch(/extract's capture group/);
    expect(failure("resources | project e = extract('(a)', 1)").message).toMatch(/extract takes a regular expression/);
  });

  it("refuses pack_array without values, and split (no query of the app uses it)", () => {
    expect(failure("resources | project b = pack_array()").message).toMatch(/pack_array takes at least one value/);
    expect(failure("resources | project s = split(name, '/')").message).toMatch(/The KQL function 'split'.*is not supported/);
  });
});

describe("what the simulator does not support", () => {
  it("rejects join, naming the operator, its position and the supported operators", () => {
    const error = failure("resources\n| join (resources) on id");
    expect(error).toBeInstanceOf(KqlUnsupportedError);
    expect(error.message).toMatch(/The KQL operator 'join' at line 2, column 3 is not supported/);
    expect(error.message).toMatch(/Supported operators: where, project, project-away, extend/);
  });

  it("rejects mv-expand", () => {
    expect(failure("resources | mv-expand properties.certificates").message).toMatch(/operator 'mv-expand'/);
  });

  it("rejects an unknown function, naming the supported ones", () => {
    expect(failure("resources | where strlen(name) > 3").message).toMatch(
      /The KQL function 'strlen' at line 1, column 19 is not supported.*Supported functions: not, array_length/,
    );
  });

  it("rejects a function called with the wrong number of arguments", () => {
    expect(failure("resources | where isnull(name, tags)").message).toMatch(/isnull takes exactly one argument/);
  });

  it("rejects arithmetic, naming the operator", () => {
    expect(failure("resources | where properties.dedicatedCoreQuota + 1 > 3").message).toMatch(/The KQL operator '\+'/);
  });

  it("rejects let statements", () => {
    expect(failure("let t = 's1'; resources | where subscriptionId == t").message).toMatch(/'let' statement/);
  });

  it("rejects a syntax error, with its position", () => {
    expect(failure("resources | where").message).toMatch(/KQL syntax error at line 1, column 18/);
  });

  it("rejects an unknown column, hinting at a case mismatch", () => {
    expect(failure("resources | where Name == 'alpha'").message).toMatch(/Unknown column 'Name'.*did you mean 'name'\?/);
  });
});
