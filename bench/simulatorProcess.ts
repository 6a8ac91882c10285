// The simulated Azure in its own process, so the auditor's peak RSS and CPU are measured without it.
// Protocol (IPC): receives { shape, settings }; answers { type: "ready", url, ca, expected }; then answers
// { type: "stats" } with { type: "stats", stats } and exits on { type: "stop" }.
import type { TenantShape } from "@batch-cert-auditor/simulated-azure";
import type { SimulatorSettings } from "./cases.js";
import { hostSimulator } from "./simulatorHost.js";

process.once("message", (message: { shape: TenantShape; settings: SimulatorSettings }) => {
  void hostSimulator(message.shape, message.settings).then((sim) => {
    process.send?.({ type: "ready", url: sim.url, ca: sim.ca, expected: sim.expected });
    process.on("message", (m: { type: string }) => {
      if (m.type === "stats") process.send?.({ type: "stats", stats: sim.stats() });
      if (m.type === "stop") void sim.close().then(() => process.exit(0));
    });
  });
});
