// Writes a generated tenant snapshot (the simulator's input) to a file:
//   node dist/bench/generateTenant.js --seed 7 --subscriptions 100 --accounts 500 --pools 2500 \
//     --certificate-share 0.2 [--hot-subscription-accounts 0] [--owner-tag-share 0.6] --out tenant.json
// Then: node dist/src/cli/main.js --simulate tenant.json
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { generateTenant, type TenantShape } from "@batch-cert-auditor/simulated-azure";

export function parseShape(args: string[]): { shape: TenantShape; out: string } {
  const { values } = parseArgs({
    args,
    options: {
      seed: { type: "string", default: "1" },
      subscriptions: { type: "string" },
      accounts: { type: "string" },
      pools: { type: "string", default: "0" },
      "certificate-share": { type: "string", default: "0.2" },
      "pool-reference-share": { type: "string" },
      "owner-tag-share": { type: "string" },
      "hot-subscription-accounts": { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  const problems: string[] = [];
  const whole = (name: keyof typeof values, min: number): number => {
    const v = Number(values[name]);
    if (values[name] === undefined || !Number.isInteger(v) || v < min) problems.push(`--${name} must be a whole number >= ${min}`);
    return v;
  };
  const share = (name: keyof typeof values): number | undefined => {
    if (values[name] === undefined) return undefined;
    const v = Number(values[name]);
    if (!(v >= 0 && v <= 1)) problems.push(`--${name} must be a number from 0 to 1`);
    return v;
  };
  const shape: TenantShape = {
    seed: whole("seed", 0),
    subscriptions: whole("subscriptions", 1),
    accounts: whole("accounts", 1),
    pools: whole("pools", 0),
    certificateShare: share("certificate-share") ?? 0.2,
  };
  const poolReferenceShare = share("pool-reference-share");
  const ownerTagShare = share("owner-tag-share");
  if (poolReferenceShare !== undefined) shape.poolReferenceShare = poolReferenceShare;
  if (ownerTagShare !== undefined) shape.ownerTagShare = ownerTagShare;
  if (values["hot-subscription-accounts"] !== undefined) shape.hotSubscriptionAccounts = whole("hot-subscription-accounts", 0);
  if (!values.out) problems.push("--out <file.json> is required");
  if (problems.length > 0) throw new Error(`generate-tenant: ${problems.join("; ")}`);
  return { shape, out: values.out as string };
}

export async function generateTenantFile(args: string[]): Promise<{ out: string; resources: number }> {
  const { shape, out } = parseShape(args);
  const snapshot = generateTenant(shape);
  await writeFile(out, JSON.stringify(snapshot));
  return { out, resources: snapshot.resources.length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  generateTenantFile(process.argv.slice(2)).then(
    ({ out, resources }) => console.log(`wrote ${out} (${resources} resources)`),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exitCode = 2;
    },
  );
}
