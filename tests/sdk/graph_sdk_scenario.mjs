// Microsoft's JavaScript Graph SDKs drive the reference server: the typed SDK
// (@microsoft/msgraph-sdk with @microsoft/msgraph-sdk-users) and the thin client
// (@microsoft/microsoft-graph-client, which also carries getPresencesByUserId:
// @microsoft/msgraph-sdk-communications is not published).
//
// Run by scripts/graph-sdk-js.sh, which installs the pinned SDKs, starts `serve --clock virtual
// --config tests/sdk/graph_sdk_js.toml` (with or without --no-auth) on a free 127.0.0.1 port and
// passes its base URL. Every step is asserted; the script exits non-zero on the first failure.
//
// Tokens come from the server's token endpoint (client credentials). The thin client sends its
// token only to Graph's own hosts and to `customHosts`, and it matches those only in https URLs:
// to an http emulator it sends no Authorization header even with the host in `customHosts` (the
// scenario checks that 401). So the scenario gives the thin client a middleware chain of its own,
// a bearer middleware before the SDK's HTTPMessageHandler.

import { Client, GraphError, HTTPMessageHandler } from "@microsoft/microsoft-graph-client";
import {
  AllowedHostsValidator,
  AnonymousAuthenticationProvider,
  BaseBearerTokenAuthenticationProvider,
  Duration,
} from "@microsoft/kiota-abstractions";
import { createGraphServiceClient, GraphRequestAdapter } from "@microsoft/msgraph-sdk";
import "@microsoft/msgraph-sdk-users";

// tests/sdk/graph_sdk_js.toml
const TENANT = "8f1b5a3c-0d4e-4c55-9a7e-5e1d0c2b3a41";
const TEAMS = { id: "11111111-2222-4333-8444-555555555555", secret: "local-development-secret" };
const CRM = { id: "22222222-3333-4444-8555-666666666666", secret: "local-development-secret-crm" };
const READER = { id: "33333333-4444-4555-8666-777777777777", secret: "local-development-secret-reader" };
const ADELE = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const BOB = "0f5d7c3e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"; // any GUID is a user; never written: Offline

let steps = 0;

function check(condition, what, found) {
  if (!condition) {
    console.log(`FAIL: ${what}` + (found === undefined ? "" : ` (found ${JSON.stringify(found)})`));
    process.exit(1);
  }
  steps += 1;
  console.log(`ok   ${what}`);
}

function pair(p) {
  return [p?.availability, p?.activity];
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Client credentials from the server's token endpoint, cached until near expiry. */
function tokenSource(root, app) {
  let token = null;
  let expires = 0;
  return async () => {
    if (token === null || Date.now() > expires) {
      const r = await fetch(`${root}/${TENANT}/oauth2/v2.0/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: app.id,
          client_secret: app.secret,
          scope: "https://graph.microsoft.com/.default",
        }),
      });
      if (r.status !== 200) throw new Error(`token endpoint answered ${r.status}`);
      const body = await r.json();
      token = body.access_token;
      expires = Date.now() + (body.expires_in - 60) * 1000;
    }
    return token;
  };
}

/** The typed SDK for one app (anonymous when `app` is null). */
function typedClient(root, app) {
  const auth = app
    ? new BaseBearerTokenAuthenticationProvider({
        getAuthorizationToken: tokenSource(root, app),
        getAllowedHostsValidator: () => new AllowedHostsValidator(new Set([new URL(root).host])),
      })
    : new AnonymousAuthenticationProvider();
  const adapter = new GraphRequestAdapter(auth);
  adapter.baseUrl = `${root}/v1.0`;
  return createGraphServiceClient(adapter);
}

/** The thin client with a bearer middleware of its own (see the header), or none at all. */
function thinClient(root, app) {
  const send = new HTTPMessageHandler();
  if (!app) return Client.initWithMiddleware({ baseUrl: `${root}/`, middleware: send });
  const token = tokenSource(root, app);
  const bearer = {
    async execute(context) {
      context.options.headers = { ...context.options.headers, Authorization: `Bearer ${await token()}` };
      return send.execute(context);
    },
  };
  return Client.initWithMiddleware({ baseUrl: `${root}/`, middleware: bearer });
}

async function expectODataError(call, status, code, what) {
  try {
    await call;
  } catch (e) {
    const found = [e.responseStatusCode, e.errorEscaped?.code]; // Kiota escapes `error` in TypeScript
    check(!(e instanceof GraphError) && same(found, [status, code]), `${what}: ODataError ${status} ${code}`, found);
    return;
  }
  check(false, `${what}: the typed SDK raised no ODataError`);
}

async function expectGraphError(call, status, code, what) {
  try {
    await call;
  } catch (e) {
    const found = [e instanceof GraphError, e.statusCode, e.code];
    check(same(found, [true, status, code]), `${what}: GraphError ${status} ${code}`, found);
    return;
  }
  check(false, `${what}: the thin client raised no GraphError`);
}

async function main(root, auth) {
  const control = async (path, body) => {
    const r = await fetch(`${root}/_conformance${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body ?? {}),
    });
    return r.status;
  };
  const advance = async (by) => check((await control("/clock/advance", { by })) === 200, `clock advanced by ${by}`);
  check([200, 204].includes(await control("/reset")), "control protocol reset");

  // Under --no-auth the sessionId names the session; with tokens it is the calling app's id.
  const typed = typedClient(root, auth ? TEAMS : null);
  const crm = typedClient(root, auth ? CRM : null);
  const thin = thinClient(root, auth ? TEAMS : null);
  const adele = typed.users.byUserId(ADELE).presence;
  const get = async () => pair(await adele.get());

  // setPresence with the SDK's Duration (it writes ISO 8601: PT1H), then GET.
  await adele.setPresence.post({
    sessionId: TEAMS.id,
    availability: "Available",
    activity: "Available",
    expirationDuration: new Duration({ hours: 1 }),
  });
  const first = await adele.get();
  check(same(pair(first), ["Available", "Available"]), "setPresence (Duration PT1H) then GET: Available/Available", pair(first));
  check(first.id === ADELE, "the presence id is the user's id", first.id);
  check(Boolean(first.sequenceNumber), "GET carries a sequenceNumber", first.sequenceNumber);
  const viaThin = await thin.api(`/users/${ADELE}/presence`).get();
  check(same(pair(viaThin), ["Available", "Available"]), "the thin client reads the same presence", pair(viaThin));

  // The fade, through the control protocol.
  await advance("PT5M");
  const faded = await adele.get();
  check(same(pair(faded), ["Available", "AvailableInactive"]), "+5 min: Available/AvailableInactive", pair(faded));
  check(faded.sequenceNumber > first.sequenceNumber, "the fade grows the sequenceNumber", faded.sequenceNumber);
  await advance("PT5M");
  check(same(await get(), ["Away", "Away"]), "+10 min: Away/Away", await get());

  // Aggregation: a second app's Busy session outranks the faded one; clearing it reveals Away.
  const crmAdele = crm.users.byUserId(ADELE).presence;
  await crmAdele.setPresence.post({
    sessionId: CRM.id,
    availability: "Busy",
    activity: "InACall",
    expirationDuration: new Duration({ minutes: 30 }),
  });
  check(same(await get(), ["Busy", "InACall"]), "a second session's Busy/InACall outranks Away", await get());

  // Preferred presence overrides the sessions; clearUserPreferredPresence as the typed SDK
  // sends it (no body, no Content-Type) restores them.
  await adele.setUserPreferredPresence.post({
    availability: "DoNotDisturb",
    activity: "DoNotDisturb",
    expirationDuration: new Duration({ hours: 8 }),
  });
  check(same(await get(), ["DoNotDisturb", "DoNotDisturb"]), "preferred DoNotDisturb overrides", await get());
  const clearInfo = adele.clearUserPreferredPresence.toPostRequestInformation();
  check(clearInfo.content === undefined && !clearInfo.headers.has("Content-Type"),
    "the typed SDK's clearUserPreferredPresence has no body and no Content-Type");
  await adele.clearUserPreferredPresence.post();
  check(same(await get(), ["Busy", "InACall"]), "clearUserPreferredPresence restores the sessions", await get());
  await crmAdele.clearPresence.post({ sessionId: CRM.id });
  check(same(await get(), ["Away", "Away"]), "clearPresence of the Busy session reveals Away", await get());

  // setStatusMessage, with a Windows time zone as in the docs' example.
  await adele.setStatusMessage.post({
    statusMessage: {
      message: { content: "In the conformance lab", contentType: "text" },
      expiryDateTime: { dateTime: "2100-01-01T17:00:00", timeZone: "Pacific Standard Time" },
    },
  });
  const withMessage = await adele.get();
  check(withMessage.statusMessage?.message?.content === "In the conformance lab", "setStatusMessage shows in GET",
    withMessage.statusMessage);
  check(withMessage.statusMessage?.expiryDateTime?.timeZone === "Pacific Standard Time",
    "the expiry keeps its time zone", withMessage.statusMessage?.expiryDateTime);

  // getPresencesByUserId through the thin client.
  const batch = await thin.api("/communications/getPresencesByUserId").post({ ids: [ADELE, BOB] });
  const seen = Object.fromEntries((batch?.value ?? []).map((p) => [p.id, pair(p)]));
  check(same(seen, { [ADELE]: ["Away", "Away"], [BOB]: ["Offline", "Offline"] }), "getPresencesByUserId: two users", seen);

  // A write through the thin client: Graph's 200 has no body and so no Content-Type, which the
  // thin client hands back as the (empty) body stream; a 200 that said application/json with no
  // body would be a SyntaxError in it.
  const answer = await thin.api(`/users/${BOB}/presence/setPresence`)
    .post({ sessionId: TEAMS.id, availability: "Busy", activity: "InACall", expirationDuration: "PT1H" });
  check(answer == null || answer instanceof ReadableStream, "the thin client's setPresence (200, no body) returns",
    typeof answer);
  const bob = await thin.api(`/users/${BOB}/presence`).get();
  check(same(pair(bob), ["Busy", "InACall"]), "the thin client's write shows", pair(bob));

  // clearPresence; the user is Offline; a second clear is 404 NotFound.
  await adele.clearPresence.post({ sessionId: TEAMS.id });
  check(same(await get(), ["Offline", "Offline"]), "clearPresence: Offline/Offline", await get());
  await expectODataError(adele.clearPresence.post({ sessionId: TEAMS.id }), 404, "NotFound",
    "clearPresence of a session that does not exist");

  // Refused requests, through each SDK's error type.
  const busyBusy = { sessionId: TEAMS.id, availability: "Busy", activity: "Busy" };
  await expectODataError(adele.setPresence.post(busyBusy), 400, "InvalidArgument", "setPresence Busy/Busy");
  await expectGraphError(thin.api(`/users/${ADELE}/presence/setPresence`).post(busyBusy), 400, "InvalidArgument",
    "setPresence Busy/Busy");
  const tooShort = { ...busyBusy, activity: "InACall", expirationDuration: new Duration({ minutes: 4 }) };
  await expectODataError(adele.setPresence.post(tooShort), 400, "InvalidArgument", "expirationDuration PT4M");
  await expectODataError(typed.users.byUserId("adele@contoso.test").presence.get(), 400, "BadRequest",
    "a user principal name in the path");
  await expectGraphError(thin.api("/users/adele@contoso.test/presence").get(), 400, "BadRequest",
    "a user principal name in the path");
  check(same(await get(), ["Offline", "Offline"]), "refused writes change nothing", await get());

  if (auth) {
    // Without a token, and with a token that lacks the write permission.
    const anonymous = typedClient(root, null).users.byUserId(ADELE).presence;
    await expectODataError(anonymous.get(), 401, "InvalidAuthenticationToken", "no token");
    const dropped = Client.init({
      baseUrl: `${root}/`,
      customHosts: new Set([new URL(root).host, new URL(root).hostname]),
      authProvider: (done) => tokenSource(root, TEAMS)().then((t) => done(null, t), (e) => done(e, null)),
    });
    await expectGraphError(dropped.api(`/users/${ADELE}/presence`).get(), 401, "InvalidAuthenticationToken",
      "the thin client's own auth over http, host in customHosts (it sends no token)");
    const reader = typedClient(root, READER).users.byUserId(ADELE).presence;
    check(same(pair(await reader.get()), ["Offline", "Offline"]), "a Presence.Read.All app reads");
    await expectODataError(reader.setPresence.post({ ...busyBusy, sessionId: READER.id, activity: "InACall" }), 403,
      "Forbidden", "a Presence.Read.All app writes");
  }
  console.log(`graph-sdk-js scenario (${auth ? "tokens" : "--no-auth"}): ${steps} checks passed`);
}

const args = process.argv.slice(2);
const root = args.find((a) => !a.startsWith("--"));
if (!root || args.length > 2 || args.some((a) => a.startsWith("--") && a !== "--no-auth")) {
  console.error("usage: node graph_sdk_scenario.mjs [--no-auth] http://127.0.0.1:PORT");
  process.exit(2);
}
main(root.replace(/\/$/, ""), !args.includes("--no-auth")).catch((e) => {
  console.log(`FAIL: ${e?.stack ?? JSON.stringify(e)}`);
  process.exit(1);
});
