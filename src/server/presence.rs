//! The presence surface: which of Graph's presence paths a request names, and its answer, for
//! the reads, the batch read, and the write actions on each of Graph's three bases
//! (`/users/{id}/presence`, `/me/presence`, `/communications/presences/{id}`).

use std::future::Future;
use std::pin::Pin;

use axum::Json;
use axum::body::{Body, HttpBody as _};
use axum::extract::{Query, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::body::{ActionBody, Param, Parameter, json_kind};
use super::error::GraphError;
use super::graph_path::{GraphPath, PresenceOf, Segment};
use crate::model::{
    Command, CommandError, ItemBody, PresenceView, Profile, RuleViolation, SequenceNumber,
    SessionId, StatusExpiry, StatusMessageInput, UserId, WorkLocation, WorkLocationLayers,
    preferred_request, rules, session_request,
};
use crate::model::{parse_guid_any_case, windows_to_iana};
use crate::operation::{Method as OperationMethod, Operation, Via};

/// The response header carrying the user's sequenceNumber after a write.
pub const SEQUENCE_HEADER: &str = "x-presence-sequence-number";
const SEQUENCE_HEADER_NAME: HeaderName = HeaderName::from_static(SEQUENCE_HEADER);

/// The answer to a request for a presence path.
pub(crate) enum Answer {
    /// At once: a read, or a refusal.
    Now(Response),
    /// Once the request's body has been read.
    Later(Pin<Box<dyn Future<Output = Response> + Send>>),
    /// None: the path is not one of Graph's presence paths. The request, for the router.
    NotPresence(Request),
}

/// Answers a request for one of Graph's presence paths, or hands back any other request. The
/// checks come in the order Graph's routes made them: the method (405), the version segment
/// (404), the caller (401), then the resource's own (the action, the user, the body).
pub(crate) fn answer(state: &AppState, request: Request) -> Answer {
    let Some(path) = GraphPath::parse(request.uri().path()) else {
        return Answer::NotPresence(request);
    };
    let operation = match path.operation {
        Ok(operation) => operation,
        Err(segment) => {
            let refused = unknown_segment(&segment.decoded());
            if request.method() != Method::POST {
                return Answer::Now(refused.into_response());
            }
            // Any action is checked for its version and caller, and its body read, first.
            return match GraphRequest::of(state, path.version, request.headers()) {
                Err(error) => Answer::Now(error.into_response()),
                Ok(_) => after_body(state, request, move |_, _| Err(refused)),
            };
        }
    };
    let method = operation.method();
    let allowed = match method {
        OperationMethod::Get => matches!(*request.method(), Method::GET | Method::HEAD),
        OperationMethod::Post => request.method() == Method::POST,
        OperationMethod::Patch => request.method() == Method::PATCH,
        OperationMethod::Delete => request.method() == Method::DELETE,
    };
    if !allowed {
        return Answer::Now(method_not_allowed(method.allow()).into_response());
    }
    match operation {
        Operation::GetPresence => {
            let response = read(state, path.version, path.presence, &request).into_response();
            Answer::Now(if request.method() == Method::HEAD {
                without_body(response)
            } else {
                response
            })
        }
        Operation::GetPresencesByUserId => {
            match GraphRequest::of(state, path.version, request.headers()) {
                Err(refused) => Answer::Now(refused.into_response()),
                Ok(graph) => {
                    let base_url = graph.base_url(request.headers());
                    after_body(state, request, move |state, body| {
                        presences_by_user_id(state, &graph, &base_url, body)
                    })
                }
            }
        }
        Operation::SetPresence
        | Operation::ClearPresence
        | Operation::SetUserPreferredPresence
        | Operation::ClearUserPreferredPresence
        | Operation::SetStatusMessage
        | Operation::SetManualLocation
        | Operation::SetAutomaticLocation
        | Operation::ClearLocation
        | Operation::ClearAutomaticLocation => {
            match GraphRequest::of(state, path.version, request.headers()) {
                Err(refused) => Answer::Now(refused.into_response()),
                Ok(graph) => {
                    let via = path.presence.map(|of| of.via());
                    let subject = Subject::of(path.presence);
                    after_body(state, request, move |state, body| {
                        write(state, &graph, (subject, via), operation, body)
                    })
                }
            }
        }
        // A presence path never names these: the subscription routes answer them.
        Operation::CreateSubscription
        | Operation::ListSubscriptions
        | Operation::GetSubscription
        | Operation::UpdateSubscription
        | Operation::DeleteSubscription => Answer::NotPresence(request),
    }
}

/// A HEAD's response: the GET's, with the length of the body it would have had and no body.
fn without_body(mut response: Response) -> Response {
    if let Some(length) = response.body().size_hint().exact() {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    *response.body_mut() = Body::empty();
    response
}

/// The answer of `then` once the request's body has been read (or the body's refusal: 413, or
/// a body that could not be read).
fn after_body<F>(state: &AppState, request: Request, then: F) -> Answer
where
    F: FnOnce(&AppState, &ActionBody) -> Result<Response, GraphError> + Send + 'static,
{
    let body = ActionBody::read(request, state.config.body_limit);
    let state = state.clone();
    Answer::Later(Box::pin(async move {
        body.await
            .and_then(|body| then(&state, &body))
            .into_response()
    }))
}

/// The version segment and the authenticated caller of a Graph request.
pub(crate) struct GraphRequest {
    pub profile: Profile,
    pub segment: &'static str,
    pub caller: Caller,
}

impl GraphRequest {
    /// The request's version (Graph serves `v1.0` and `beta`: any other is a 404) and caller.
    fn of(state: &AppState, version: &str, headers: &HeaderMap) -> Result<Self, GraphError> {
        let (profile, segment) = match version {
            "v1.0" => (Profile::V1_0, "v1.0"),
            "beta" => (state.config.beta_profile, "beta"),
            other => {
                return Err(GraphError::not_found(format!(
                    "Invalid version: '{other}'. Use v1.0 or beta."
                )));
            }
        };
        let caller = if state.config.no_auth {
            Caller::Anonymous
        } else {
            state.tokens.authenticate(headers)?
        };
        Ok(GraphRequest {
            profile,
            segment,
            caller,
        })
    }

    /// `http://{host}/{segment}`, with the request's `Host`: the base of `@odata.context`.
    fn base_url(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("graph.local");
        format!("http://{host}/{}", self.segment)
    }
}

/// A path's `{id}`, read as a user object id, percent-decoded as a router decodes a path
/// parameter. Any other text is kept, and refused in its turn (after the version and the action
/// are checked, before the body is).
pub(crate) enum PathUser {
    Id(UserId),
    NotAnId(String),
}

impl PathUser {
    fn of(segment: Segment<'_>) -> Self {
        // A GUID holds no escape: the segment as it came is nearly always the id itself.
        if let Some(user) = parse_user_id(segment.raw()) {
            return PathUser::Id(user);
        }
        let raw = segment.decoded();
        parse_user_id(&raw).map_or_else(|| PathUser::NotAnId(raw.into_owned()), PathUser::Id)
    }
}

/// Which user a path names.
enum Subject {
    Me,
    Id(PathUser),
    /// A path bound to `/communications`, which names no user.
    Nobody,
}

impl Subject {
    fn of(presence: Option<PresenceOf<'_>>) -> Self {
        match presence {
            Some(PresenceOf::Me) => Subject::Me,
            Some(PresenceOf::User(id) | PresenceOf::Communications(id)) => {
                Subject::Id(PathUser::of(id))
            }
            None => Subject::Nobody,
        }
    }
}

impl AppState {
    /// Resolves a path's user: a user object id (a GUID, case-insensitive). User principal names
    /// do not resolve ("replace {id} with the user's GUID"; Microsoft Q&A 648698). `/me` is the
    /// signed-in user of a delegated token; under `--no-auth` it is the first configured user.
    fn resolve(&self, caller: &Caller, subject: Subject) -> Result<UserId, GraphError> {
        match subject {
            Subject::Me => match caller {
                Caller::Delegated { user, .. } => Ok(user.clone()),
                Caller::Anonymous => self
                    .config
                    .users
                    .first()
                    .and_then(|u| parse_user_id(&u.id))
                    .ok_or_else(|| {
                        GraphError::bad_request(
                            "/me needs a signed-in user, and this server has no configured user.",
                        )
                    }),
                Caller::App { .. } => Err(GraphError::bad_request(
                    "/me request is only valid with delegated authentication flow.",
                )),
            },
            Subject::Id(PathUser::Id(user)) => Ok(user),
            Subject::Id(PathUser::NotAnId(raw)) => Err(invalid_user_id(&raw)),
            Subject::Nobody => Err(GraphError::not_found("The path names no user.")),
        }
    }
}

/// A user object id: a GUID in its 36-character form, compared case-insensitively.
pub(crate) fn parse_user_id(raw: &str) -> Option<UserId> {
    parse_guid_any_case(raw).map(UserId::from_guid)
}

/// A path id that is no GUID: 400 BadRequest, as for a non-GUID id in getPresencesByUserId.
fn invalid_user_id(raw: &str) -> GraphError {
    let shown: String = raw.chars().take(64).collect();
    GraphError::bad_request(format!(
        "'{shown}' is not a user object id: pass the user's id (a GUID), not a user principal name."
    ))
}

// ---- reads -------------------------------------------------------------------------------

/// `GET` a presence, on any of the three bases.
fn read(
    state: &AppState,
    version: &str,
    of: Option<PresenceOf<'_>>,
    request: &Request,
) -> Result<Response, GraphError> {
    let graph = GraphRequest::of(state, version, request.headers())?;
    let context = match of.map(|of| of.via()) {
        Some(Via::Communications) => "communications/presences/$entity",
        Some(Via::Users | Via::Me) | None => "users('{}')/presence/$entity",
    };
    let query = Query::<Vec<(String, String)>>::try_from_uri(request.uri())
        .map(|Query(pairs)| pairs)
        .map_err(|e| GraphError::bad_request(format!("The query string is invalid: {e}")))?;
    read_one(
        state,
        &graph.base_url(request.headers()),
        &graph,
        &query,
        Subject::of(of),
        context,
    )
}

/// The properties `$select` may name (those of `microsoft.graph.presence`).
const SELECTABLE: [&str; 7] = [
    "id",
    "activity",
    "availability",
    "outOfOfficeSettings",
    "sequenceNumber",
    "statusMessage",
    "workLocation",
];

/// `$select=a,b`: the properties to return (`id` always comes), or `None` for all. Unknown,
/// empty and repeated names are refused, as OData refuses them.
fn selection(query: &[(String, String)]) -> Result<Option<Vec<String>>, GraphError> {
    let mut selected: Option<Vec<String>> = None;
    for (name, value) in query {
        if name != "$select" {
            continue;
        }
        let list = selected.get_or_insert_with(Vec::new);
        for item in value.split(',') {
            if !SELECTABLE.contains(&item) {
                let shown: String = item.chars().take(64).collect();
                return Err(GraphError::bad_request(format!(
                    "Could not find a property named '{shown}' on type 'microsoft.graph.presence'."
                )));
            }
            if list.iter().any(|s| s == item) {
                return Err(GraphError::bad_request(format!(
                    "The property '{item}' is selected more than once."
                )));
            }
            list.push(item.to_owned());
        }
    }
    Ok(selected)
}

fn read_one(
    state: &AppState,
    base_url: &str,
    request: &GraphRequest,
    query: &[(String, String)],
    subject: Subject,
    context: &str,
) -> Result<Response, GraphError> {
    let select = selection(query)?;
    let user = state.resolve(&request.caller, subject)?;
    request.caller.may_read(&user)?;
    let view = state.view(&user);
    let presence = presence_json(&user, &view, sees_private(&request.caller, &user));
    let context = context.replace("{}", &user.as_str());
    // Graph writes the annotation first.
    let mut body = serde_json::Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(format!("{base_url}/$metadata#{context}")),
    );
    if let Value::Object(members) = presence {
        body.extend(
            members.into_iter().filter(|(name, _)| {
                name == "id" || select.as_ref().is_none_or(|s| s.contains(name))
            }),
        );
    }
    Ok(json_response(Value::Object(body)))
}

/// `POST /communications/getPresencesByUserId`.
fn presences_by_user_id(
    state: &AppState,
    request: &GraphRequest,
    base_url: &str,
    body: &ActionBody,
) -> Result<Response, GraphError> {
    let [parameter] = body.parameters_of(Operation::GetPresencesByUserId)?;
    let ids = match parameter.value() {
        None => return Err(GraphError::bad_request("The parameter 'ids' is required.")),
        Some(Param::Json(value)) => value.as_array(),
        Some(Param::Text(_)) => None,
    }
    .ok_or_else(|| parameter.wrong_type("an array of strings"))?;
    if ids.len() > rules::MAX_IDS_PER_BATCH {
        return Err(GraphError::bad_request(format!(
            "A maximum of {} user ids is supported per request; {} were sent.",
            rules::MAX_IDS_PER_BATCH,
            ids.len()
        )));
    }
    let mut users: Vec<UserId> = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let Value::String(raw) = id else {
            return Err(GraphError::bad_request(format!(
                "ids[{i}] must be a string, not {}.",
                json_kind(id)
            )));
        };
        let user = parse_user_id(raw).ok_or_else(|| {
            let shown: String = raw.chars().take(64).collect();
            GraphError::bad_request(format!(
                "ids[{i}] '{shown}' is not a user object id (a GUID)."
            ))
        })?;
        request.caller.may_read(&user)?;
        if !users.contains(&user) {
            users.push(user);
        }
    }
    let views = state.view_many(&users);
    let value: Vec<Value> = users
        .iter()
        .zip(&views)
        .map(|(user, view)| presence_json(user, view, sees_private(&request.caller, user)))
        .collect();
    Ok(json_response(json!({
        "@odata.context": format!("{base_url}/$metadata#Collection(microsoft.graph.presence)"),
        "value": value,
    })))
}

/// Whether the caller sees `statusMessage.expiryDateTime` and `publishedDateTime`: the user
/// themself and apps do; another signed-in user does not ("isn't available when you request the
/// presence of another user").
fn sees_private(caller: &Caller, user: &UserId) -> bool {
    match caller {
        Caller::Delegated { user: me, .. } => me == user,
        Caller::App { .. } | Caller::Anonymous => true,
    }
}

fn json_response(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

/// The presence resource as Graph serialises it.
pub(crate) fn presence_json(user: &UserId, view: &PresenceView, private: bool) -> Value {
    let status = view.status_message.as_ref().map(|m| {
        let mut message = json!({ "message": m.message });
        if private {
            message["expiryDateTime"] = match &m.expiry {
                Some(e) => json!({ "dateTime": e.date_time, "timeZone": e.time_zone }),
                None => Value::Null,
            };
            message["publishedDateTime"] = json!(format_instant(m.published_at));
        }
        message
    });
    json!({
        "id": user.as_str(),
        "availability": view.state.availability,
        "activity": view.state.activity,
        "statusMessage": status,
        "outOfOfficeSettings": { "message": null, "isOutOfOffice": false },
        "workLocation": work_location_json(&view.work_location),
        "sequenceNumber": view.sequence.to_string(),
    })
}

/// `userWorkLocation`: "If none exist, source = none; workLocationType = unspecified."
fn work_location_json(layers: &WorkLocationLayers) -> Value {
    match layers.shown() {
        Some((source, l)) => json!({
            "workLocationType": l.location_type,
            "source": source.as_str(),
            "placeId": l.place_id,
        }),
        None => json!({ "workLocationType": "unspecified", "source": "none", "placeId": null }),
    }
}

/// RFC 3339 with seven fractional digits, as Graph writes DateTimeOffset values.
pub(crate) fn format_instant(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%7fZ").to_string()
}

// ---- writes ------------------------------------------------------------------------------

fn unknown_segment(action: &str) -> GraphError {
    let shown: String = action.chars().take(64).collect();
    GraphError::not_found(format!("Resource not found for the segment '{shown}'."))
}

/// 405 for a declared path, naming the methods it has.
pub(crate) fn method_not_allowed(allow: &'static str) -> GraphError {
    GraphError::for_status(StatusCode::METHOD_NOT_ALLOWED).with_allow(allow)
}

fn write(
    state: &AppState,
    request: &GraphRequest,
    (subject, via): (Subject, Option<Via>),
    operation: Operation,
    body: &ActionBody,
) -> Result<Response, GraphError> {
    if !via.is_some_and(|via| operation.served_by(request.profile, via)) {
        return Err(unknown_segment(operation.name()));
    }
    let user = state.resolve(&request.caller, subject)?;
    // The body's 400 comes before any 401/403 (observed: osodevops/ms-teams-cli issue 71).
    let command = decode_action(request.profile, &request.caller, operation, body)?;
    request
        .caller
        .may_write(&user, request.profile, operation)?;
    let sequence = state.apply(&user, command).map_err(|e| match e {
        CommandError::SessionNotFound(_) => GraphError::not_found(e.to_string()),
        CommandError::ExpiryOverflow => GraphError::invalid_argument(e.to_string()),
    })?;
    // Graph answers actions with an empty 200; the beta work-location pages say 204 No Content.
    // The header is ours: it tells a client (and the concurrency test) where its write landed
    // among the user's writes.
    let status =
        StatusCode::from_u16(operation.reply(request.profile).status()).unwrap_or(StatusCode::OK);
    let mut response = status.into_response();
    let mut text = [0; SequenceNumber::MAX_LEN];
    if let Ok(value) = HeaderValue::from_bytes(sequence.encode(&mut text)) {
        response.headers_mut().insert(SEQUENCE_HEADER_NAME, value);
    }
    Ok(response)
}

fn rule_error(e: RuleViolation) -> GraphError {
    GraphError::invalid_argument(e.to_string())
}

/// Decodes the body of a write action into a model command, as the server does before applying
/// it: content type, JSON, the operation's parameters (from the operation table), then the
/// documented rules of `profile`. Pure, so that the fuzzer can call it directly. A read has no
/// command: its name is not an action's segment (404).
pub fn decode_action(
    profile: Profile,
    caller: &Caller,
    operation: Operation,
    body: &ActionBody,
) -> Result<Command, GraphError> {
    match operation {
        Operation::GetPresence
        | Operation::GetPresencesByUserId
        | Operation::CreateSubscription
        | Operation::ListSubscriptions
        | Operation::GetSubscription
        | Operation::UpdateSubscription
        | Operation::DeleteSubscription => Err(unknown_segment(operation.name())),
        Operation::SetPresence => {
            let [session, availability, activity, expiration] = body.parameters_of(operation)?;
            let session = session_id(&session, caller)?;
            let request = session_request(
                profile,
                availability.required_text()?,
                activity.required_text()?,
                expiration.optional_text()?,
            )
            .map_err(rule_error)?;
            Ok(Command::SetPresence { session, request })
        }
        Operation::ClearPresence => {
            let [session] = body.parameters_of(operation)?;
            Ok(Command::ClearPresence {
                session: session_id(&session, caller)?,
            })
        }
        Operation::SetUserPreferredPresence => {
            let [availability, activity, expiration] = body.parameters_of(operation)?;
            preferred_request(
                profile,
                availability.required_text()?,
                activity.required_text()?,
                expiration.optional_text()?,
            )
            .map(Command::SetPreferredPresence)
            .map_err(rule_error)
        }
        Operation::ClearUserPreferredPresence => {
            let [] = body.parameters_of(operation)?;
            Ok(Command::ClearPreferredPresence)
        }
        Operation::SetStatusMessage => {
            let [message] = body.parameters_of(operation)?;
            status_message(&message).map(Command::SetStatusMessage)
        }
        Operation::SetManualLocation => {
            work_location(profile, operation, body).map(Command::SetManualLocation)
        }
        Operation::SetAutomaticLocation => {
            work_location(profile, operation, body).map(Command::SetAutomaticLocation)
        }
        Operation::ClearLocation => {
            let [] = body.parameters_of(operation)?;
            Ok(Command::ClearLocation)
        }
        Operation::ClearAutomaticLocation => {
            let [] = body.parameters_of(operation)?;
            Ok(Command::ClearAutomaticLocation)
        }
    }
}

/// setManualLocation's and setAutomaticLocation's location: a `workLocationType` the profile
/// lists, and an optional `placeId`.
fn work_location(
    profile: Profile,
    operation: Operation,
    body: &ActionBody,
) -> Result<WorkLocation, GraphError> {
    let [location_type, place_id] = body.parameters_of(operation)?;
    let location_type = location_type.required_text()?;
    let allowed = profile.work_location_types();
    if !allowed.contains(&location_type) {
        let shown: String = location_type.chars().take(64).collect();
        return Err(GraphError::bad_request(format!(
            "workLocationType '{shown}' is not one of {}.",
            allowed.join(", ")
        )));
    }
    Ok(WorkLocation {
        location_type: location_type.to_owned(),
        place_id: place_id.optional_text()?.map(str::to_owned),
    })
}

/// sessionId must be the calling application's id ("Provide the ID of the application as
/// sessionId"). Without auth any non-empty id is taken.
fn session_id(p: &Parameter, caller: &Caller) -> Result<SessionId, GraphError> {
    let Some(raw) = p.optional_text()?.filter(|s| !s.is_empty()) else {
        return Err(GraphError::invalid_argument(
            "sessionId is required: provide the id of the calling application.",
        ));
    };
    match caller.app_id() {
        Some(app) if !app.eq_ignore_ascii_case(raw) => Err(GraphError::invalid_argument(format!(
            "sessionId must be the id of the calling application ({app})."
        ))),
        Some(app) => Ok(SessionId::new(&app.to_ascii_lowercase())),
        None => Ok(SessionId::new(raw)),
    }
}

fn status_message(p: &Parameter) -> Result<Option<StatusMessageInput>, GraphError> {
    let message = match p.value() {
        None => {
            return Err(GraphError::bad_request(
                "The parameter 'statusMessage' is required.",
            ));
        }
        Some(Param::Json(value)) => match &**value {
            Value::Null => return Ok(None),
            Value::Object(m) => m,
            _ => return Err(p.wrong_type("an object")),
        },
        Some(Param::Text(_)) => return Err(p.wrong_type("an object")),
    };
    // Every member is checked, even when the message clears the status.
    let expiry = match message.get("expiryDateTime") {
        None | Some(Value::Null) => None,
        Some(Value::Object(e)) => {
            let text = |name: &str| match e.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(GraphError::bad_request(format!(
                    "statusMessage.expiryDateTime.{name} must be a string, not {}.",
                    json_kind(other)
                ))),
            };
            Some(status_expiry(text("dateTime")?, text("timeZone")?)?)
        }
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "statusMessage.expiryDateTime must be a dateTimeTimeZone object, not {}.",
                json_kind(other)
            )));
        }
    };
    let body = match message.get("message") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(b)) => b,
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "statusMessage.message must be an itemBody object, not {}.",
                json_kind(other)
            )));
        }
    };
    let content = match body.get("content") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "statusMessage.message.content must be a string, not {}.",
                json_kind(other)
            )));
        }
    };
    let content_type = match body.get("contentType") {
        None | Some(Value::Null) => "text",
        Some(Value::String(s)) if s.eq_ignore_ascii_case("text") => "text",
        Some(other) => {
            return Err(GraphError::invalid_argument(format!(
                "statusMessage.message.contentType {other} is not supported; the only supported format is 'text'."
            )));
        }
    };
    Ok(Some(StatusMessageInput {
        message: ItemBody {
            content,
            content_type: content_type.to_owned(),
        },
        expiry,
    }))
}

/// Resolves `dateTimeTimeZone` ("expiryDateTime.dateTime shouldn't include time zone") with an
/// IANA or Windows time zone name.
fn status_expiry(
    date_time: Option<&str>,
    time_zone: Option<&str>,
) -> Result<StatusExpiry, GraphError> {
    let date_time = date_time.ok_or_else(|| {
        GraphError::bad_request("statusMessage.expiryDateTime.dateTime is required.")
    })?;
    let zone_name = time_zone.unwrap_or("UTC");
    let civil: DateTime = date_time.parse().map_err(|_| {
        GraphError::invalid_argument(format!(
            "statusMessage.expiryDateTime.dateTime '{date_time}' is not a date and time without offset, such as 2026-01-05T17:00:00."
        ))
    })?;
    let zone = windows_to_iana(zone_name)
        .map_or_else(|| TimeZone::get(zone_name), TimeZone::get)
        .map_err(|_| {
            GraphError::invalid_argument(format!(
                "statusMessage.expiryDateTime.timeZone '{zone_name}' is not a known time zone."
            ))
        })?;
    let at = zone
        .to_timestamp(civil)
        .map_err(|e| GraphError::invalid_argument(format!("statusMessage.expiryDateTime: {e}")))?;
    Ok(StatusExpiry {
        date_time: date_time.to_owned(),
        time_zone: zone_name.to_owned(),
        at,
    })
}
