import type { AccessToken, TokenCredential } from "@azure/core-auth";

/**
 * The token the simulated Azure accepts. The SDK clients still run their real bearer-token policy with it
 * (and still ask for the real `https://management.azure.com/.default` scope); only the issuer is local.
 */
export class SimulatorCredential implements TokenCredential {
  readonly scopesRequested: string[] = [];
  constructor(private readonly user = "simulated-user") {}

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopesRequested.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return { token: `simulated.${this.user}`, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

export const ARM_SCOPE = "https://management.azure.com/.default";
