"""Microsoft's Graph Python SDK (msgraph-sdk) drives the reference server.

Run by scripts/graph-sdk.sh, which starts `serve --clock virtual` on a free 127.0.0.1 port and
passes its base URL. Every step is asserted; the script exits non-zero on the first failure.

The SDK writes a Python timedelta as "1:00:00" (msgraph-sdk-python issue 1262), which Graph
refuses; the scenario passes ISO 8601 durations through `additional_data` instead, and checks that
the "1:00:00" form gets a 400.
"""

import asyncio
import datetime
import sys
from typing import Any, Optional

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.communications.get_presences_by_user_id.get_presences_by_user_id_post_request_body import (
    GetPresencesByUserIdPostRequestBody,
)
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.presence_status_message import PresenceStatusMessage
from msgraph.generated.users.item.presence.clear_presence.clear_presence_post_request_body import (
    ClearPresencePostRequestBody,
)
from msgraph.generated.users.item.presence.set_presence.set_presence_post_request_body import (
    SetPresencePostRequestBody,
)
from msgraph.generated.users.item.presence.set_status_message.set_status_message_post_request_body import (
    SetStatusMessagePostRequestBody,
)
from msgraph.generated.users.item.presence.set_user_preferred_presence.set_user_preferred_presence_post_request_body import (
    SetUserPreferredPresencePostRequestBody,
)

# The default configuration of `serve` (README, "The reference server on its own").
TENANT = "8f1b5a3c-0d4e-4c55-9a7e-5e1d0c2b3a41"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"
CLIENT_SECRET = "local-development-secret"
ADELE = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
BOB = "0f5d7c3e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"  # any GUID is a user; never written: Offline

STEPS = 0


def check(condition: bool, what: str, found: Any = None) -> None:
    global STEPS
    if not condition:
        print(f"FAIL: {what}" + (f" (found {found!r})" if found is not None else ""))
        sys.exit(1)
    STEPS += 1
    print(f"ok   {what}")


APP_GRANT = {
    "grant_type": "client_credentials",
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "scope": "https://graph.microsoft.com/.default",
}


class ServerTokenProvider(AccessTokenProvider):
    """Tokens from the server's own token endpoint (client credentials unless `grant` says
    otherwise), cached until near expiry."""

    def __init__(self, root: str, grant: Optional[dict] = None) -> None:
        self.root = root
        self.grant = grant or APP_GRANT
        self.token: Optional[str] = None
        self.expires = 0.0
        host = httpx.URL(root).host
        self.hosts = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri: str, additional_authentication_context: dict = {}) -> str:
        now = asyncio.get_running_loop().time()
        if self.token is None or now > self.expires:
            async with httpx.AsyncClient() as http:
                r = await http.post(f"{self.root}/{TENANT}/oauth2/v2.0/token", data=self.grant)
                r.raise_for_status()
                body = r.json()
            self.token = body["access_token"]
            self.expires = now + int(body["expires_in"]) - 60
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self.hosts


async def expect_odata_error(call, status: int, code: str, what: str) -> None:
    try:
        await call
    except ODataError as e:
        found = (e.response_status_code, e.error.code if e.error else None)
        check(found == (status, code), f"{what}: ODataError {status} {code}", found)
        return
    check(False, f"{what}: the SDK raised no ODataError")


def sdk_client(root: str, grant: Optional[dict] = None) -> GraphServiceClient:
    """The SDK's client on the server's v1.0, with tokens from its token endpoint."""
    provider = BaseBearerTokenAuthenticationProvider(ServerTokenProvider(root, grant))
    adapter = GraphRequestAdapter(provider)
    adapter.base_url = f"{root}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


async def main(root: str) -> None:
    client = sdk_client(root)
    control = httpx.AsyncClient(base_url=root)

    async def advance(by: str) -> None:
        r = await control.post("/_conformance/clock/advance", json={"by": by})
        check(r.status_code == 200, f"clock advanced by {by}", r.status_code)

    r = await control.post("/_conformance/reset")
    check(r.status_code in (200, 204), "control protocol reset", r.status_code)

    adele = client.users.by_user_id(ADELE).presence

    # setPresence, then GET. expirationDuration goes as an ISO 8601 string.
    body = SetPresencePostRequestBody(session_id=CLIENT_ID, availability="Available", activity="Available")
    body.additional_data = {"expirationDuration": "PT1H"}
    await adele.set_presence.post(body)
    p = await adele.get()
    check((p.availability, p.activity) == ("Available", "Available"), "setPresence then GET: Available/Available",
          (p.availability, p.activity))
    check(p.id == ADELE, "the presence id is the user's id", p.id)
    first_sequence = p.sequence_number
    check(bool(first_sequence), "GET carries a sequenceNumber", first_sequence)

    # The fade, through the control protocol.
    await advance("PT5M")
    p = await adele.get()
    check((p.availability, p.activity) == ("Available", "AvailableInactive"), "+5 min: Available/AvailableInactive",
          (p.availability, p.activity))
    check(p.sequence_number > first_sequence, "the fade grows the sequenceNumber", p.sequence_number)
    await advance("PT5M")
    p = await adele.get()
    check((p.availability, p.activity) == ("Away", "Away"), "+10 min: Away/Away", (p.availability, p.activity))

    # setUserPreferredPresence overrides the session.
    preferred = SetUserPreferredPresencePostRequestBody(availability="DoNotDisturb", activity="DoNotDisturb")
    preferred.additional_data = {"expirationDuration": "PT8H"}
    await adele.set_user_preferred_presence.post(preferred)
    p = await adele.get()
    check((p.availability, p.activity) == ("DoNotDisturb", "DoNotDisturb"), "preferred DoNotDisturb overrides",
          (p.availability, p.activity))
    await adele.clear_user_preferred_presence.post()
    p = await adele.get()
    check((p.availability, p.activity) == ("Away", "Away"), "clearUserPreferredPresence restores the session",
          (p.availability, p.activity))

    # setStatusMessage, with a Windows time zone as in the docs' example.
    message = PresenceStatusMessage(
        message=ItemBody(content="In the conformance lab", content_type=BodyType.Text),
        expiry_date_time=DateTimeTimeZone(date_time="2100-01-01T17:00:00", time_zone="Pacific Standard Time"),
    )
    await adele.set_status_message.post(SetStatusMessagePostRequestBody(status_message=message))
    p = await adele.get()
    check(p.status_message is not None and p.status_message.message.content == "In the conformance lab",
          "setStatusMessage shows in GET", p.status_message)
    check(p.status_message.expiry_date_time.time_zone == "Pacific Standard Time",
          "the expiry keeps its time zone", p.status_message.expiry_date_time.time_zone)

    # getPresencesByUserId.
    batch = await client.communications.get_presences_by_user_id.post(
        GetPresencesByUserIdPostRequestBody(ids=[ADELE, BOB])
    )
    seen = {x.id: (x.availability, x.activity) for x in batch.value}
    check(seen == {ADELE: ("Away", "Away"), BOB: ("Offline", "Offline")}, "getPresencesByUserId: two users", seen)

    # clearPresence; the user is Offline; a second clear is 404 NotFound, as an ODataError.
    await adele.clear_presence.post(ClearPresencePostRequestBody(session_id=CLIENT_ID))
    p = await adele.get()
    check((p.availability, p.activity) == ("Offline", "Offline"), "clearPresence: Offline/Offline",
          (p.availability, p.activity))
    await expect_odata_error(
        adele.clear_presence.post(ClearPresencePostRequestBody(session_id=CLIENT_ID)),
        404, "NotFound", "clearPresence of a session that does not exist",
    )

    # The SDK's own timedelta serialisation ("1:00:00") is refused, as Graph refuses it.
    sdk_form = SetPresencePostRequestBody(session_id=CLIENT_ID, availability="Busy", activity="InACall",
                                          expiration_duration=datetime.timedelta(hours=1))
    await expect_odata_error(adele.set_presence.post(sdk_form), 400, "InvalidArgument",
                             'expirationDuration as the SDK writes a timedelta ("1:00:00")')
    # A pair Graph does not support, and a non-GUID id (UPNs do not resolve).
    await expect_odata_error(
        adele.set_presence.post(SetPresencePostRequestBody(session_id=CLIENT_ID, availability="Busy", activity="Busy")),
        400, "InvalidArgument", "setPresence Busy/Busy",
    )
    await expect_odata_error(client.users.by_user_id("adele@contoso.test").presence.get(), 400, "BadRequest",
                             "a user principal name in the path")
    p = await adele.get()
    check((p.availability, p.activity) == ("Offline", "Offline"), "refused writes change nothing",
          (p.availability, p.activity))
    await control.aclose()
    print(f"graph-sdk scenario: {STEPS} checks passed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: graph_sdk_scenario.py http://127.0.0.1:PORT")
    asyncio.run(main(sys.argv[1].rstrip("/")))
