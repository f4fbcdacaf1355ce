"""Microsoft's Graph Python SDK (msgraph-sdk) subscribes to presence change notifications on the
reference server, and a webhook receiver gets them.

Run by scripts/graph-sdk.sh after graph_sdk_scenario.py, against the same `serve --clock virtual`.
Every Graph call goes through the SDK's own request builders (`client.subscriptions.post`,
`.by_subscription_id(id).patch/.get/.delete`); the control protocol moves the clock. Every step
is asserted; the script exits non-zero on the first failure.

Presence subscriptions take a delegated token only (Presence.Read.All; application "Not
supported"), so the subscribing client signs Adele in with the password grant of the server's
token endpoint; presence is written by the app with client credentials, as a softphone's back end
would.
"""

import asyncio
import datetime
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_http.middleware.options import ResponseHandlerOption
from msgraph.generated.models.subscription import Subscription
from msgraph.generated.users.item.presence.set_presence.set_presence_post_request_body import (
    SetPresencePostRequestBody,
)

import graph_sdk_scenario as common
from graph_sdk_scenario import ADELE, CLIENT_ID, CLIENT_SECRET, TENANT, check, expect_odata_error, sdk_client

# Adele signed in to the development app (README, "Running the reference server").
SIGNED_IN = {
    "grant_type": "password",
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "scope": "Presence.Read.All",
    "username": "adele@contoso.test",
    "password": "local-development-password",
}
CLIENT_STATE = "graph-sdk-subscriptions"


class Webhook:
    """A webhook as Graph's delivery page describes one, on 127.0.0.1:0 in a thread: a POST with
    `validationToken` is answered 200 text/plain with the decoded token; any other POST is a
    notification collection, whose items are kept before the 202 goes back."""

    def __init__(self) -> None:
        self.validations = 0
        self.items: list = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = parse_qs(urlsplit(self.path).query).get("validationToken")
                if token:
                    with hook.lock:
                        hook.validations += 1
                    self.answer(200, token[0].encode(), "text/plain; charset=utf-8")
                    return
                items = json.loads(body)["value"]
                with hook.lock:
                    hook.items.extend(items)
                self.answer(202, b"", None)

            def answer(self, status: int, body: bytes, content_type) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/notifications"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self) -> list:
        with self.lock:
            return list(self.items)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def presence_subscription(url: str, expires: datetime.datetime) -> Subscription:
    return Subscription(
        change_type="updated",
        notification_url=url,
        resource=f"/communications/presences/{ADELE}",
        expiration_date_time=expires,
        client_state=CLIENT_STATE,
    )


async def main(root: str) -> None:
    app = sdk_client(root)  # client credentials: writes presence
    user = sdk_client(root, SIGNED_IN)  # Adele signed in: subscribes
    control = httpx.AsyncClient(base_url=root)
    hook = Webhook()

    async def advance(by: str) -> None:
        r = await control.post("/_conformance/clock/advance", json={"by": by})
        check(r.status_code == 200, f"clock advanced by {by}", r.status_code)

    r = await control.post("/_conformance/reset")
    check(r.status_code in (200, 204), "control protocol reset", r.status_code)
    start = datetime.datetime.fromisoformat((await control.get("/_conformance/clock")).json()["now"])

    def minutes(m: int) -> datetime.datetime:
        return start + datetime.timedelta(minutes=m)

    # Application tokens are "Not supported" for presence subscriptions.
    await expect_odata_error(app.subscriptions.post(presence_subscription(hook.url, minutes(45))),
                             403, "Forbidden", "a presence subscription with an application token")
    check(hook.validations == 0, "a refused subscription validates nothing", hook.validations)

    # Create, with a delegated token; the reply through the SDK's model.
    created = await user.subscriptions.post(presence_subscription(hook.url, minutes(45)))
    check(hook.validations == 1, "the server sent the validationToken handshake before answering", hook.validations)
    check(bool(created.id), "created: the subscription has an id", created.id)
    check((created.change_type, created.client_state) == ("updated", CLIENT_STATE),
          "created: changeType and clientState", (created.change_type, created.client_state))
    check(created.resource == f"/communications/presences/{ADELE}", "created: the resource", created.resource)
    check(created.notification_url == hook.url, "created: the notificationUrl", created.notification_url)
    check(created.expiration_date_time == minutes(45), "created: expirationDateTime as asked (+45 min)",
          created.expiration_date_time)
    check((created.creator_id, created.application_id) == (ADELE, CLIENT_ID),
          "created: creatorId is the signed-in user, applicationId the app",
          (created.creator_id, created.application_id))
    check(created.include_resource_data is False, "created: basic notifications", created.include_resource_data)
    listed = await user.subscriptions.get()
    check([s.id for s in listed.value] == [created.id], "GET /subscriptions lists it", [s.id for s in listed.value])

    # One presence subscription per user and app: a second is 409.
    await expect_odata_error(user.subscriptions.post(presence_subscription(hook.url, minutes(30))),
                             409, "ExtensionError", "a second subscription by the same user and app")
    check(hook.validations == 1, "the refused second subscription validated nothing", hook.validations)

    # A write is notified: clientState echoed, the resource named; the receiver then reads it.
    written = SetPresencePostRequestBody(session_id=CLIENT_ID, availability="Available", activity="Available")
    written.additional_data = {"expirationDuration": "PT1H"}
    await app.users.by_user_id(ADELE).presence.set_presence.post(written)
    await advance("PT1M")
    got = hook.received()
    check(len(got) == 1, "setPresence: one notification arrived", got)
    n = got[0]
    check((n.get("subscriptionId"), n.get("clientState")) == (created.id, CLIENT_STATE),
          "the notification names the subscription and echoes clientState",
          (n.get("subscriptionId"), n.get("clientState")))
    check((n.get("changeType"), n.get("resource")) == ("updated", f"communications/presences/{ADELE}"),
          "the notification's changeType and resource", (n.get("changeType"), n.get("resource")))
    check((n.get("resourceData") or {}).get("id") == ADELE and n.get("tenantId") == TENANT,
          "the notification's resourceData.id and tenantId", (n.get("resourceData"), n.get("tenantId")))
    check(datetime.datetime.fromisoformat(n["subscriptionExpirationDateTime"]) == minutes(45),
          "the notification carries subscriptionExpirationDateTime", n.get("subscriptionExpirationDateTime"))
    p = await app.users.by_user_id(ADELE).presence.get()
    check((p.availability, p.activity) == ("Available", "Available"), "GET presence after the notification",
          (p.availability, p.activity))

    # Renew with PATCH: up to 60 minutes from now (the clock stands at +1 min).
    item = user.subscriptions.by_subscription_id(created.id)
    renewed = await item.patch(Subscription(expiration_date_time=minutes(61)))
    check(renewed.expiration_date_time == minutes(61), "PATCH renews to now + 60 min",
          renewed.expiration_date_time)
    await expect_odata_error(item.patch(Subscription(expiration_date_time=minutes(62))), 400, "BadRequest",
                             "a renewal past 60 minutes")
    read = await item.get()
    check((read.id, read.expiration_date_time) == (created.id, minutes(61)),
          "GET it: the refused renewal changed nothing", (read.id, read.expiration_date_time))

    # Delete: 204, then GET is 404, and nothing more arrives (the fade at +5 and +10 min included).
    native = RequestConfiguration(options=[ResponseHandlerOption(NativeResponseHandler())])
    response = await item.delete(native)
    check(response.status_code == 204, "DELETE answers 204", response.status_code)
    await expect_odata_error(item.get(), 404, "ResourceNotFound", "GET a deleted subscription")
    await advance("PT15M")
    check(len(hook.received()) == 1, "nothing arrives after the delete", len(hook.received()))
    listed = await user.subscriptions.get()
    check(listed.value == [], "GET /subscriptions is empty", listed.value)

    hook.close()
    await control.aclose()
    print(f"graph-sdk subscriptions scenario: {common.STEPS} checks passed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: graph_sdk_subscriptions.py http://127.0.0.1:PORT")
    asyncio.run(main(sys.argv[1].rstrip("/")))
