// Event Grid trigger: Communication Services delivery reports (Microsoft.Communication.EmailDeliveryReportReceived),
// one per recipient, recorded against the message in the ledger. Duplicates and late or out-of-order events change
// nothing once a message's final status is known. A ledger outage throws, so Event Grid delivers the event again.
import "../index.js";
import { app, type EventGridEvent, type EventGridFunctionOptions, type InvocationContext } from "@azure/functions";
import { getHost, invocationLog } from "../app/functionsHost.js";
import { deliveryReportFromEvent, recordDeliveryReports } from "../core/deliveryReports.js";
import { ensureError, isAuditError } from "../core/errors.js";

export async function emailDeliveryReport(event: EventGridEvent, context: InvocationContext): Promise<void> {
  const { log } = invocationLog(context, { trigger: "eventGrid" });
  let report;
  try {
    report = deliveryReportFromEvent(event);
  } catch (error) {
    // A malformed event cannot get better by being delivered again: log it (with its id) and let it go.
    if (isAuditError(error)) {
      log.error("delivery report not usable", { eventId: event.id, problem: error.message });
      return;
    }
    throw error;
  }
  if (!report) {
    log.warn("event of another type ignored", { eventId: event.id, eventType: event.eventType });
    return;
  }
  if ("notFinal" in report) {
    log.info("delivery report not final; ignored", { eventId: event.id, messageId: report.messageId, reason: report.notFinal });
    return;
  }
  const job = getHost().composition.job;
  try {
    const outcome = await recordDeliveryReports([job.ledgerFor("live"), job.ledgerFor("redirect")], [report]);
    log.info("delivery report", { messageId: report.messageId, status: report.status, ...outcome });
  } catch (error) {
    log.error("delivery report not recorded; Event Grid retries", { messageId: report.messageId, error: ensureError(error).message });
    throw error;
  }
}

export const emailDeliveryReportOptions = {
  handler: emailDeliveryReport,
} satisfies EventGridFunctionOptions;

app.eventGrid("emailDeliveryReport", emailDeliveryReportOptions);
