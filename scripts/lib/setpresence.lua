-- wrk: setPresence for USERS users (10,000 by default), sessionId fixed (the server runs --no-auth).
-- PREFIX is the version segment (Prism serves the spec's paths without it); BEARER, a token to send
-- (Prism answers 401 without one). Shared by bench-http.sh, bench-ab.sh and server-instructions.sh.
local prefix = os.getenv("PREFIX") or "/v1.0"
local users = tonumber(os.getenv("USERS") or "10000")
local headers = {["Content-Type"] = "application/json"}
local bearer = os.getenv("BEARER") or ""
if bearer ~= "" then headers["Authorization"] = "Bearer " .. bearer end
local counter = 0
request = function()
  counter = counter + 1
  local user = string.format("a0000000-0000-4000-8000-%012x", counter % users)
  local body = '{"sessionId":"11111111-2222-4333-8444-555555555555","availability":"Busy","activity":"InACall","expirationDuration":"PT1H"}'
  return wrk.format("POST", prefix .. "/users/" .. user .. "/presence/setPresence", headers, body)
end
