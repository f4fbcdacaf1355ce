"""Our spec as schemathesis must see it: the documented layer made real JSON Schema.

spec/graph-presence.*.openapi.yaml follows Microsoft's published OpenAPI and keeps the rules the
documentation states only in prose in `x-presence-documented` extensions (see spec/README.md).
Schemathesis knows nothing of those, so its positive data would break them and its negative data
would miss them. This writes a copy (JSON) where they are schema keywords, so that "schema-valid"
means what the reference server accepts:

- `required` parameters, `additionalProperties: false` (Graph refuses unknown parameters; `@odata.*`
  annotations stay allowed), sessionId non-empty (with auth: the calling app's id);
- the availability/activity pairs as `anyOf`, compared case-insensitively as the server does;
- expirationDuration: JSON Schema cannot state a duration range exactly, so valid data is drawn
  from a subset of the documented range (whole minutes PT5M..PT240M or hours PT1H..PT4H; for
  setUserPreferredPresence, whose range is ours, up to 99 hours);
- the 650-id limit; statusMessage's content type `text` and a real date and time zone;
- `$select` names at least one property; workLocationType takes the values the server takes.

Usage: schemathesis_view.py SPEC OUT [--session-id ID]
"""

import json
import sys

import yaml


def ci(word: str) -> str:
    """A pattern that matches `word` in any letter case."""
    return "^" + "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word) + "$"


SESSION_RANGE = "^PT(?:(?:[5-9]|[1-9][0-9]|1[0-9][0-9]|2[0-3][0-9]|240)M|[1-4]H)$"
PREFERRED_RANGE = "^PT(?:[1-9][0-9]?H|[1-9][0-9]{0,2}M)$"
DATE_TIME = "^20[3-9][0-9]-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"


# The workLocationType values the server takes (src/model/rules.rs, Profile::work_location_types).
WORK_LOCATION_TYPES = {
    "v1.0": ["office", "remote", "timeOff"],
    "beta": ["unspecified", "office", "remote", "timeOff"],
}


def tighten(op_id: str, schema: dict, session_id: str | None, version: str) -> None:
    rules = schema.pop("x-presence-documented", None) or {}
    props = schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    schema["patternProperties"] = {"^@": {}}
    required = list(rules.get("required", []))
    if "sessionId" in props:
        props["sessionId"] = {"type": "string", "minLength": 1}
        if session_id:
            props["sessionId"]["enum"] = [session_id]
        if "sessionId" not in required:
            required.append("sessionId")
    if op_id.endswith("setStatusMessage"):
        required.append("statusMessage")
    if required:
        schema["required"] = required
    pairs = rules.get("pairs")
    if pairs:
        schema["anyOf"] = [
            {"properties": {"availability": {"pattern": ci(a)}, "activity": {"pattern": ci(b)}}}
            for a, b in pairs
        ]
    if "expirationDuration" in props:
        d = props["expirationDuration"]
        d["pattern"] = SESSION_RANGE if op_id.endswith(".setPresence") else PREFERRED_RANGE
        d.pop("format", None)
    if "workLocationType" in props:
        props["workLocationType"] = {"type": "string", "enum": WORK_LOCATION_TYPES[version]}
    for name, limit in rules.get("maxItems", {}).items():
        props[name]["maxItems"] = limit


def status_message_schemas(components: dict) -> None:
    schemas = components["schemas"]
    item = schemas["microsoft.graph.itemBody"]
    item["properties"]["contentType"] = {"enum": ["text", None], "nullable": True, "type": "string"}
    dttz = schemas["microsoft.graph.dateTimeTimeZone"]
    dttz["properties"]["dateTime"] = {"type": "string", "pattern": DATE_TIME}
    dttz["properties"]["timeZone"] = {
        "type": "string",
        "nullable": True,
        "enum": ["UTC", "Pacific Standard Time", "Europe/Berlin", None],
    }
    dttz["required"] = ["dateTime"]


def inline_nullable_refs(node, schemas: dict):
    """`anyOf: [$ref X, {type: object, nullable: true}]` is Graph's "X or null", but literally it
    accepts any object; schemathesis would send any object. Make it X, nullable."""
    if isinstance(node, dict):
        any_of = node.get("anyOf")
        if (
            isinstance(any_of, list)
            and len(any_of) == 2
            and "$ref" in any_of[0]
            and any_of[1] == {"type": "object", "nullable": True}
        ):
            name = any_of[0]["$ref"].rsplit("/", 1)[-1]
            node.pop("anyOf")
            node.update(json.loads(json.dumps(schemas[name])))
            node["nullable"] = True
            if "enum" in node and None not in node["enum"]:
                node["enum"] = node["enum"] + [None]
        for value in node.values():
            inline_nullable_refs(value, schemas)
    elif isinstance(node, list):
        for value in node:
            inline_nullable_refs(value, schemas)


def main() -> None:
    args = sys.argv[1:]
    session_id = None
    if "--session-id" in args:
        i = args.index("--session-id")
        session_id = args[i + 1]
        del args[i : i + 2]
    source, out = args
    with open(source) as f:
        doc = yaml.safe_load(f)
    version = "beta" if doc["servers"][0]["url"].endswith("/beta") else "v1.0"
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for parameter in op.get("parameters", []):
                # `$select=` (an empty list and a list of one empty name look alike) is refused.
                if parameter.get("name") == "$select":
                    parameter["schema"]["minItems"] = 1
            if "requestBody" not in op:
                continue
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            tighten(op.get("operationId", ""), schema, session_id, version)
    status_message_schemas(doc["components"])
    inline_nullable_refs(doc, doc["components"]["schemas"])
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
