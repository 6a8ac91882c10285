// azd postdeploy hook (azure.yaml): subscribes the emailDeliveryReport function to the Communication Services
// delivery reports, once the function exists. azd runs `provision` before `deploy`, and Event Grid validates an
// AzureFunction destination when the subscription is created, so the subscription cannot be part of the Bicep: on a
// first `azd up` the function does not exist yet at provision time. azd runs this after every deploy (Learn, "Customize
// your Azure Developer CLI workflows using command and event hooks": postdeploy), with the environment's values
// (main.bicep's outputs) as environment variables.
//
// Idempotent: it reads the subscription first and writes it (PUT, create-or-update) only when it is missing or differs,
// so a second deploy changes nothing. The body is ARM's Microsoft.EventGrid/systemTopics/eventSubscriptions
// (api-version 2022-06-15, azure-rest-api-specs specification/eventgrid/resource-manager/Microsoft.EventGrid/stable/
// 2022-06-15/EventGrid.json); event type: Microsoft Learn, "Azure Communication Services - Email events".
// It calls Azure through `az rest` (relative URLs go to the current cloud's ARM endpoint) with the `az login`
// account, which needs to write event subscriptions in the resource group and read the function (Contributor on
// the resource group, which the deployer has).
//
// Environment: AZURE_SUBSCRIPTION_ID, RESOURCE_GROUP, AZURE_FUNCTION_APP_NAME, EVENT_GRID_SYSTEM_TOPIC_NAME (set by
// `azd provision`); SUBSCRIBE_DELIVERY_REPORTS=false skips it; DELIVERY_REPORTS_WAIT_SECONDS (default 180) is how long
// it waits for the function to appear after a deploy, DELIVERY_REPORTS_POLL_SECONDS (default 10) how often it looks.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import console from "node:console";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";

const SUBSCRIPTION_NAME = "email-delivery-reports";
const FUNCTION_NAME = "emailDeliveryReport";
const EVENT_TYPE = "Microsoft.Communication.EmailDeliveryReportReceived";
const EVENT_GRID_API = "2022-06-15";
const WEB_API = "2023-12-01";

/**
 * Names from the azd environment go into URLs and a command line (through cmd.exe on Windows): letters, digits, `.`,
 * `_` and `-` only, which every name this deployment makes keeps to.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,89}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fail(message) {
  console.error(`delivery reports: ${message}`);
  process.exit(1);
}

function setting(name, pattern) {
  const value = (process.env[name] ?? "").trim();
  if (!value) fail(`${name} is not set; run \`azd provision\` first (it writes it to the azd environment)`);
  if (!pattern.test(value)) fail(`${name} (${JSON.stringify(value)}) is not a valid name`);
  return value;
}

/** `az` with these arguments; on Windows az is a .cmd, which only a shell starts (arguments are validated above). */
function az(args) {
  const result = spawnSync("az", args, { encoding: "utf8", shell: process.platform === "win32" });
  if (result.error) fail(`could not run the Azure CLI (az): ${result.error.message}`);
  return { ok: result.status === 0, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

const notFound = (stderr) => /\b404\b|Not Found|NotFound/i.test(stderr);

/** GET an ARM resource: its JSON, or undefined when it does not exist. */
function get(url) {
  const answer = az(["rest", "--method", "get", "--url", url, "--output", "json"]);
  if (answer.ok) return JSON.parse(answer.stdout);
  if (notFound(answer.stderr)) return undefined;
  fail(`GET ${url} failed: ${answer.stderr.trim()}`);
}

function subscriptionBody(functionId) {
  return {
    properties: {
      destination: {
        endpointType: "AzureFunction",
        properties: { resourceId: functionId, maxEventsPerBatch: 1, preferredBatchSizeInKilobytes: 64 },
      },
      filter: { includedEventTypes: [EVENT_TYPE] },
      eventDeliverySchema: "EventGridSchema",
      // A report that cannot be recorded (storage down) is retried for a day; the handler is idempotent.
      retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 },
    },
  };
}

/** Whether an existing subscription already delivers exactly the delivery reports to this function. */
function matches(existing, functionId) {
  const properties = existing?.properties ?? {};
  const destination = properties.destination ?? {};
  const types = properties.filter?.includedEventTypes ?? [];
  return (
    destination.endpointType === "AzureFunction" &&
    String(destination.properties?.resourceId ?? "").toLowerCase() === functionId.toLowerCase() &&
    types.length === 1 &&
    types[0] === EVENT_TYPE
  );
}

async function main() {
  if ((process.env.SUBSCRIBE_DELIVERY_REPORTS ?? "").trim().toLowerCase() === "false") {
    console.log("delivery reports: SUBSCRIBE_DELIVERY_REPORTS=false, not subscribing");
    return;
  }
  const subscription = setting("AZURE_SUBSCRIPTION_ID", GUID);
  const group = setting("RESOURCE_GROUP", NAME);
  const app = setting("AZURE_FUNCTION_APP_NAME", NAME);
  const topic = setting("EVENT_GRID_SYSTEM_TOPIC_NAME", NAME);
  const waitSeconds = Number(process.env.DELIVERY_REPORTS_WAIT_SECONDS ?? "180");
  const pollSeconds = Number(process.env.DELIVERY_REPORTS_POLL_SECONDS ?? "10");
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) fail("DELIVERY_REPORTS_WAIT_SECONDS must be a number of seconds");
  if (!Number.isFinite(pollSeconds) || pollSeconds <= 0) fail("DELIVERY_REPORTS_POLL_SECONDS must be a positive number of seconds");

  const groupId = `/subscriptions/${subscription}/resourceGroups/${group}`;
  const functionId = `${groupId}/providers/Microsoft.Web/sites/${app}/functions/${FUNCTION_NAME}`;
  const subscriptionUrl = `${groupId}/providers/Microsoft.EventGrid/systemTopics/${topic}/eventSubscriptions/${SUBSCRIPTION_NAME}?api-version=${EVENT_GRID_API}`;

  // The host indexes the functions of a new package after the deploy returns: wait for it.
  const deadline = Date.now() + waitSeconds * 1000;
  while (!get(`${functionId}?api-version=${WEB_API}`)) {
    if (Date.now() >= deadline) fail(`function ${FUNCTION_NAME} was not found on ${app} within ${waitSeconds} s; run \`azd deploy\` again (the hook runs after it)`);
    console.log(`delivery reports: waiting for function ${FUNCTION_NAME} on ${app}`);
    await sleep(Math.min(pollSeconds * 1000, Math.max(0, deadline - Date.now())));
  }

  if (matches(get(subscriptionUrl), functionId)) {
    console.log(`delivery reports: ${topic}/${SUBSCRIPTION_NAME} already delivers to ${FUNCTION_NAME}`);
    return;
  }
  // The body goes through a file: no shell quoting of JSON on any platform.
  const dir = mkdtempSync(join(tmpdir(), "delivery-reports-"));
  try {
    const bodyFile = join(dir, "body.json");
    writeFileSync(bodyFile, JSON.stringify(subscriptionBody(functionId)));
    const put = az(["rest", "--method", "put", "--url", subscriptionUrl, "--body", `@${bodyFile}`, "--output", "json"]);
    if (!put.ok) fail(`creating ${topic}/${SUBSCRIPTION_NAME} failed: ${put.stderr.trim()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`delivery reports: ${topic}/${SUBSCRIPTION_NAME} now delivers ${EVENT_TYPE} to ${FUNCTION_NAME}`);
}

await main();
