#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the conformance cases and their snapshots.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/case_file corpus/action_body corpus/duration corpus/contract
find ../cases -name '*.yaml' -exec cp {} corpus/case_file/ \;
python3 - <<'PY'
import glob, json, os, re, hashlib
def put(target, data):
    name = hashlib.sha1(data).hexdigest()
    with open(f"corpus/{target}/{name}", "wb") as f:
        f.write(data)
for path in glob.glob("../cases/**/*.yaml", recursive=True):
    text = open(path).read()
    for d in re.findall(r"(?:at|expirationDuration|after): (-?[PT0-9.DHMS\"a-z]+)", text):
        put("duration", d.strip('"').encode())
    for body in re.findall(r"body: '(\{.*\})'", text):
        for selector in range(6):
            put("action_body", bytes([selector]) + body.encode())
put("action_body", b"\x00" + json.dumps({"sessionId": "s", "availability": "Busy", "activity": "InACall", "expirationDuration": "PT1H"}).encode())
put("action_body", b"\x04" + json.dumps({"statusMessage": {"message": {"content": "hi", "contentType": "text"}, "expiryDateTime": {"dateTime": "2026-01-05T10:00:00", "timeZone": "Pacific Standard Time"}}}).encode())
put("contract", b"\x00" + json.dumps({"id": "x", "availability": "Available", "activity": "Available", "statusMessage": None}).encode())
put("contract", b"\x82" + json.dumps({"value": [{"id": "x", "availability": "Busy"}]}).encode())
put("contract", b"\x10" + json.dumps({"error": {"code": "x", "message": "y"}}).encode())
PY
for t in corpus/*; do echo "$t: $(ls "$t" | wc -l) inputs"; done
