-- wrk: setPresence that changes each user's aggregate on every write, for USERS users (650 by
-- default, the ids `notification_bench subscribe --prefix a0000000` names): Busy and DoNotDisturb
-- in turn. Each of THREADS wrk threads (2 by default) writes its own share of the users, so no two
-- threads write one user at once. The server runs --no-auth. Used by bench-notifications.sh.
local users = tonumber(os.getenv("USERS") or "650")
local threads = tonumber(os.getenv("THREADS") or "2")
local headers = {["Content-Type"] = "application/json"}
local session = '"sessionId":"11111111-2222-4333-8444-555555555555"'
local bodies = {
  '{' .. session .. ',"availability":"Busy","activity":"InACall","expirationDuration":"PT1H"}',
  '{' .. session .. ',"availability":"DoNotDisturb","activity":"Presenting","expirationDuration":"PT1H"}',
}

local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

local counter = 0
local share = math.floor(users / threads)
request = function()
  local k = counter
  counter = counter + 1
  local user = string.format("a0000000-0000-4000-8000-%012x", (k % share) * threads + id)
  local body = bodies[math.floor(k / share) % 2 + 1]
  return wrk.format("POST", "/v1.0/users/" .. user .. "/presence/setPresence", headers, body)
end
