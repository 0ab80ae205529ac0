-- wrk script of the tracking benchmark (run by bench/load.py for bench/track.py).
--
-- Each request GETs the URL's path (the tracking API or its floor) for a file drawn at
-- random, each thread with its own seed, from the file TRACK_LOOKUPS names: one line
-- "reference birth_date" per file (written by bench/track_data.py). Answers are counted by
-- status, those of 400, 404 and 429 by their "code", and reported at the end by
-- bench/wrk_report.lua.

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_report.lua")
coded = {[400] = true, [404] = true, [429] = true}

local lookups = {}
local source = os.getenv("TRACK_LOOKUPS") or error("TRACK_LOOKUPS is not set")
for line in io.lines(source) do
  local reference, birth_date = line:match("^(%S+) (%S+)$")
  if reference then
    table.insert(lookups, "?reference=" .. reference .. "&birth_date=" .. birth_date)
  end
end
if #lookups == 0 then
  error("no lookups in " .. source)
end

local base_init = init
function init(args)
  base_init(args)
  math.randomseed(os.time() * 1000 + tid * 7919)
  math.random()  -- the first draw after seeding follows the seed closely
end

function request()
  n = n + 1
  return wrk.format("GET", wrk.path .. lookups[math.random(#lookups)])
end
