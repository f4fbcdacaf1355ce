// A webhook receiver written with Express, the way a user writes one, gets the fade of a user's
// presence from the reference server.
//
// Run by scripts/graph-sdk-js.sh against `serve --clock virtual --config tests/sdk/graph_sdk_js.toml`
// (tokens required), after graph_sdk_scenario.mjs. The typed SDK (@microsoft/msgraph-sdk with
// @microsoft/msgraph-sdk-subscriptions) subscribes with Adele signed in (presence subscriptions
// are delegated only), basic notifications (includeResourceData false); the app writes
// Available/Available; the control protocol moves the clock to each instant of the fade
// (src/model/rules.rs: Available/AvailableInactive 5 minutes after the write, Away/Away after 10)
// and one second before each. `clock/advance` answers once the notifications due were attempted,
// so each check runs right after it. Exits non-zero on the first failed step.

import express from "express";
import { AllowedHostsValidator, BaseBearerTokenAuthenticationProvider, Duration } from "@microsoft/kiota-abstractions";
import { createGraphServiceClient, GraphRequestAdapter } from "@microsoft/msgraph-sdk";
import "@microsoft/msgraph-sdk-subscriptions";
import "@microsoft/msgraph-sdk-users";

// tests/sdk/graph_sdk_js.toml
const TENANT = "8f1b5a3c-0d4e-4c55-9a7e-5e1d0c2b3a41";
const TEAMS = { id: "11111111-2222-4333-8444-555555555555", secret: "local-development-secret" };
const ADELE = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const CLIENT_STATE = "express-webhook-state";

// ---- The receiver, as a user writes it --------------------------------------------------------
// Graph validates the URL first: a POST with ?validationToken=..., to be answered 200 text/plain
// with the decoded token within 10 seconds. Every notification after that is a POST of
// { value: [...] } to be answered 2xx within 3 seconds; a basic presence notification says which
// user changed, not how, so the work (reading the presence) happens after the answer.
function receiver(clientState, onChange) {
  const app = express();
  app.post("/api/notifications", express.json(), (req, res) => {
    const token = req.query.validationToken;
    if (typeof token === "string") {
      res.type("text/plain").send(token); // Express has already URL-decoded it
      return;
    }
    res.sendStatus(202);
    for (const notification of req.body?.value ?? []) {
      if (notification.clientState !== clientState) continue; // not from our subscription
      onChange(notification);
    }
  });
  return app;
}
// -----------------------------------------------------------------------------------------------

let steps = 0;

function check(condition, what, found) {
  if (!condition) {
    console.log(`FAIL: ${what}` + (found === undefined ? "" : ` (found ${JSON.stringify(found)})`));
    process.exit(1);
  }
  steps += 1;
  console.log(`ok   ${what}`);
}

/** Tokens from the server's token endpoint for `form` (client credentials or a signed-in user). */
function tokenSource(root, form) {
  let token = null;
  return async () => {
    if (token === null) {
      const r = await fetch(`${root}/${TENANT}/oauth2/v2.0/token`, { method: "POST", body: new URLSearchParams(form) });
      if (r.status !== 200) throw new Error(`token endpoint answered ${r.status}`);
      token = (await r.json()).access_token;
    }
    return token;
  };
}

function typedClient(root, form) {
  const auth = new BaseBearerTokenAuthenticationProvider({
    getAuthorizationToken: tokenSource(root, form),
    getAllowedHostsValidator: () => new AllowedHostsValidator(new Set([new URL(root).host])),
  });
  const adapter = new GraphRequestAdapter(auth);
  adapter.baseUrl = `${root}/v1.0`;
  return createGraphServiceClient(adapter);
}

async function main(root) {
  const control = async (path, body) => {
    const r = await fetch(`${root}/_conformance${path}`, {
      method: path === "/clock" ? "GET" : "POST",
      headers: { "Content-Type": "application/json" },
      body: path === "/clock" ? undefined : JSON.stringify(body ?? {}),
    });
    return [r.status, r.status === 200 ? await r.json() : null];
  };
  check([200, 204].includes((await control("/reset"))[0]), "control protocol reset");
  const start = Date.parse((await control("/clock"))[1].now);
  let elapsed = 0;
  const advance = async (by, seconds) => {
    const [status, clock] = await control("/clock/advance", { by });
    elapsed += seconds;
    check(status === 200 && Date.parse(clock.now) === start + elapsed * 1000, `clock advanced by ${by}`, clock);
  };

  const writer = typedClient(root, {
    grant_type: "client_credentials", client_id: TEAMS.id, client_secret: TEAMS.secret,
    scope: "https://graph.microsoft.com/.default",
  });
  const signedIn = typedClient(root, {
    grant_type: "password", client_id: TEAMS.id, client_secret: TEAMS.secret, scope: "Presence.Read.All",
    username: "adele@contoso.test", password: "local-development-password",
  });

  // The receiver on a free port; what it was told, and what it then read.
  const changes = [];
  const app = receiver(CLIENT_STATE, (n) => changes.push(n));
  const server = await new Promise((up) => { const s = app.listen(0, "127.0.0.1", () => up(s)); });
  const notificationUrl = `http://127.0.0.1:${server.address().port}/api/notifications`;

  const subscription = await signedIn.subscriptions.post({
    changeType: "updated",
    notificationUrl,
    resource: `/communications/presences/${ADELE}`,
    expirationDateTime: new Date(start + 60 * 60 * 1000),
    clientState: CLIENT_STATE,
    includeResourceData: false,
  });
  check(Boolean(subscription?.id) && subscription.includeResourceData === false,
    "subscribed through the Express receiver's handshake (basic notifications)", subscription);

  const adele = writer.users.byUserId(ADELE).presence;
  const seen = async (count, pair, what) => {
    check(changes.length === count, `${what}: ${count} notification(s) received`, changes.length);
    const last = changes[changes.length - 1];
    check(last?.subscriptionId === subscription.id && last?.resource === `communications/presences/${ADELE}`
      && last?.changeType === "updated", `${what}: the notification names the subscription and Adele's presence`, last);
    const p = await adele.get();
    check(p.availability === pair[0] && p.activity === pair[1], `${what}: the receiver reads ${pair.join("/")}`,
      [p.availability, p.activity]);
  };

  await adele.setPresence.post({
    sessionId: TEAMS.id,
    availability: "Available",
    activity: "Available",
    expirationDuration: new Duration({ hours: 1 }),
  });
  await advance("PT4M59S", 299);
  await seen(1, ["Available", "Available"], "the write");
  await advance("PT1S", 1);
  await seen(2, ["Available", "AvailableInactive"], "+5 min, the fade");
  await advance("PT4M59S", 299);
  check(changes.length === 2, "nothing more until +10 min", changes.length);
  await advance("PT1S", 1);
  await seen(3, ["Away", "Away"], "+10 min, the fade to Away");

  await signedIn.subscriptions.bySubscriptionId(subscription.id).delete();
  await new Promise((down) => server.close(down));
  console.log(`express webhook scenario: ${steps} checks passed`);
}

const root = process.argv[2];
if (!root || process.argv.length !== 3) {
  console.error("usage: node webhook_express.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
main(root.replace(/\/$/, "")).catch((e) => {
  console.log(`FAIL: ${e?.stack ?? JSON.stringify(e)}`);
  process.exit(1);
});
