-- wrk script of the booking-rush benchmark (run by bench/load.py).
--
-- Each request POSTs a unique JSON booking body (unique national id) to the URL's path;
-- answers are counted by status and 409s by their "code", and reported at the end by
-- bench/wrk_report.lua.
--
-- Parameters, from the environment:
--   RUSH_FIRST_SLOT  id of the first slot
--   RUSH_SLOTS       number of slots, booked in round robin over all clients (1: hot slot)
--   RUSH_START       position in the round robin to start from (runs go on from each other)
--   RUSH_PREFIX      prefix of the national ids, unique per run
--   RUSH_THREADS     wrk's thread count (its -t)

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_report.lua")
coded = {[409] = true}

local function number(name)
  local value = tonumber(os.getenv(name) or "")
  if value == nil then
    error(name .. " is not set to a number")
  end
  return value
end

local first, count, start = number("RUSH_FIRST_SLOT"), number("RUSH_SLOTS"), number("RUSH_START")
local nthreads = number("RUSH_THREADS")
local prefix = os.getenv("RUSH_PREFIX") or error("RUSH_PREFIX is not set")
local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}

function request()
  local k = start + n * nthreads + tid - 1
  n = n + 1
  local nid = prefix .. "T" .. tid .. "N" .. n
  local body = string.format(
    '{"slot":%d,"surname":"BENCH","given_names":"Charge Test","birth_date":"1990-01-01",' ..
    '"national_id":"%s","email":"%s@bench.example.com","phone":"+22376123456",' ..
    '"language":"fr"}', first + (k % count), nid, string.lower(nid))
  return wrk.format("POST", nil, headers, body)
end
