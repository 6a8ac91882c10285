// The one source of the certificate migration's steps: what an owner does for each kind of certificate (a Pfx a pool
// uses, a Cer a pool uses, one no pool uses, a reference to one the account does not hold) and the commands that do
// it. The migration kit's script (./migrationKit.ts, src/render/migrationFiles.ts) and the digest's per-account plan
// (src/render/accountPlan.ts) both render from these, so the two never disagree.
//
// Commands use shell variables for what the owner fills in (`"$VAULT"`), set once at the top of the script or of the
// digest's command block, each starting as a `<REPLACE: ...>` placeholder inside single quotes; every value that came
// from Azure is shell-quoted (./shellQuote.ts).
//
// Sources: Learn "Key Vault virtual machine extension for Windows" / "... for Linux" (content types PKCS #12 and
// PEM), Batch management 2023-11-01 Certificate_Get (`publicData`: the public part of the certificate as a base-64
// encoded .cer file), the Batch certificate migration guide (a .cer has no private key; install it from a Key Vault
// secret or a resource file).
import { shellQuote } from "./shellQuote.js";

/** The api-version certificates are read and deleted at (the last with the certificate operations). */
export const CERTIFICATE_API_VERSION = "2023-11-01";

/** A value the owner must supply; one spelling everywhere so it can be searched for. */
export function placeholder(what: string): string {
  return `<REPLACE: ${what}>`;
}

/** A shell variable the script and the digest set once, to a configured value or a placeholder. */
export interface StepVariable {
  name: string;
  value: string;
  /** What the value is, for the comment beside it. */
  about: string;
}

export const VAULT_PLACEHOLDER = placeholder("key vault name");
export const IDENTITY_ID_PLACEHOLDER = placeholder("resource id of a user-assigned managed identity");
export const IDENTITY_CLIENT_ID_PLACEHOLDER = placeholder("client id of that identity");
/** The identity every replacement pool of an account shares, when none is configured. */
export const IDENTITY_NAME = "batch-pool-keyvault";

export interface StepSettings {
  identityId?: string | undefined;
  identityClientId?: string | undefined;
  keyVaultName?: string | undefined;
}

/** `VAULT`, `IDENTITY_ID`, `IDENTITY_CLIENT_ID`: configured values, or placeholders. */
export function baseVariables(settings: StepSettings): StepVariable[] {
  return [
    { name: "VAULT", value: settings.keyVaultName ?? VAULT_PLACEHOLDER, about: "the Key Vault that holds the certificates" },
    { name: "IDENTITY_ID", value: settings.identityId ?? IDENTITY_ID_PLACEHOLDER, about: "the new pools' user-assigned identity" },
    { name: "IDENTITY_CLIENT_ID", value: settings.identityClientId ?? IDENTITY_CLIENT_ID_PLACEHOLDER, about: "its client id" },
  ];
}

/** `NAME='value'` lines for the top of a script or command block. */
export function variableLines(variables: readonly StepVariable[]): string[] {
  const seen = new Set<string>();
  return variables.filter((v) => !seen.has(v.name) && seen.add(v.name)).map((v) => `${v.name}=${shellQuote(v.value)}`);
}

/** What is done for a certificate: imported from its PFX, stored as a PEM secret, or left (not in the account). */
export type CertificateAction = "import-pfx" | "store-pem" | "not-in-account";

export interface CertificateToMigrate {
  /** Key Vault object name: `sha1-<thumbprint>`, letters, digits and dashes. */
  secretName: string;
  /** The account certificate's ARM id (where the account holds it). */
  certificateId?: string;
  /** `Pfx`, `Cer` or absent (unread; Batch's default is Pfx). */
  format?: string;
  inAccount: boolean | "unknown";
}

export function certificateAction(c: CertificateToMigrate): CertificateAction {
  if (c.inAccount === false) return "not-in-account";
  return c.format?.toLowerCase() === "cer" ? "store-pem" : "import-pfx";
}

/** The variable holding a PFX's password: `PFX_PASSWORD_SHA1_<THUMBPRINT>`. */
export function pfxPasswordVariable(secretName: string): StepVariable {
  return { name: `PFX_PASSWORD_${secretName.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`, value: placeholder(`password of ${secretName}.pfx`), about: `password of the PFX file ${secretName}.pfx` };
}

export interface StepText {
  text: string;
  label: string;
  commands: string[];
  variables: StepVariable[];
}

/**
 * How one certificate reaches Key Vault. A Pfx: imported from the PFX file the owner uploaded to Batch (Batch gives
 * no private key back). A Cer (public key only): Key Vault keeps no keyless certificate, so its public part is read
 * from Batch (`publicData`, a base-64 .cer), turned from DER into PEM with `openssl x509 -inform der`, and stored as a
 * PEM secret, which the Key Vault extension installs like any other (it takes PKCS #12 and PEM).
 */
export function certificateImport(c: CertificateToMigrate): StepText | undefined {
  const name = shellQuote(c.secretName);
  switch (certificateAction(c)) {
    case "import-pfx": {
      const password = pfxPasswordVariable(c.secretName);
      return {
        text: `import it from the PFX file you uploaded to Batch (Batch cannot give the private key back), saved as ${c.secretName}.pfx`,
        label: `import ${c.secretName}`,
        commands: [`az keyvault certificate import --vault-name "$VAULT" --name ${name} --file ${shellQuote(`${c.secretName}.pfx`)} --password "$${password.name}"`],
        variables: [password],
      };
    }
    case "store-pem": {
      const url = `https://management.azure.com${c.certificateId ?? ""}?api-version=${CERTIFICATE_API_VERSION}`;
      return {
        text: "store it as a PEM secret (a Cer certificate has only a public key; the commands read it from Batch and convert it from DER to PEM with openssl, so no file is needed)",
        label: `store ${c.secretName} as PEM`,
        commands: [
          `az rest --method get --url ${shellQuote(url)} --query properties.publicData -o tsv | openssl base64 -d -A | openssl x509 -inform der -out ${shellQuote(`${c.secretName}.pem`)}`,
          `az keyvault secret set --vault-name "$VAULT" --name ${name} --file ${shellQuote(`${c.secretName}.pem`)} --content-type application/x-pem-file`,
        ],
        variables: [],
      };
    }
    case "not-in-account":
      return undefined;
  }
}

/** The identity's read access to the vault's secrets (Key Vault Secrets User), from `$IDENTITY_ID`. */
export function grantCommands(): string[] {
  return [
    `PRINCIPAL_ID=$(az identity show --ids "$IDENTITY_ID" --query principalId -o tsv)`,
    `az role assignment create --role "Key Vault Secrets User" --assignee-object-id "$PRINCIPAL_ID" --assignee-principal-type ServicePrincipal --scope "$(az keyvault show --name "$VAULT" --query id -o tsv)"`,
  ];
}

/** Creates the account's identity and prints the id and client id to put into IDENTITY_ID / IDENTITY_CLIENT_ID. */
export function identityCreateCommand(resourceGroup: string): string {
  return `az identity create --resource-group ${shellQuote(resourceGroup)} --name ${IDENTITY_NAME} --query '[id, clientId]' -o tsv`;
}

/**
 * Creates a pool only if none of that name exists: ARM answers 412 instead of updating a live pool. `body` is the
 * `--body` argument as a shell word: a quoted `@<file>`, or `"@$BODY"` in the script.
 */
export function createPoolCommand(accountId: string, poolName: string, apiVersion: string, body: string): string {
  const url = `https://management.azure.com${accountId}/pools/${poolName}?api-version=${apiVersion}`;
  return `az rest --method put --headers 'If-None-Match=*' --url ${shellQuote(url)} --body ${body}`;
}

export function deleteCertificateCommand(certificateId: string): string {
  return `az rest --method delete --url ${shellQuote(`https://management.azure.com${certificateId}?api-version=${CERTIFICATE_API_VERSION}`)}`;
}

/** Sentences that count: "1 certificate", "2 certificates". */
export function countOf(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
