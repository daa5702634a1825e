-- wrk script: each request asks for a random phone's <mac>.cfg with that phone's User-Agent.
-- MACS_LUA (environment) names a file defining `macs = { {"001565000000", "00:15:65:00:00:00"}, ... }`.
dofile(os.getenv("MACS_LUA"))
math.randomseed(42)
-- CLOSE=1 (environment): every request on a new connection.
close = os.getenv("CLOSE") == "1"

request = function()
  local m = macs[math.random(#macs)]
  local headers = { ["User-Agent"] = "Yealink SIP-T54W 96.86.0.100 " .. m[2] }
  if close then
    headers["Connection"] = "close"
  end
  return wrk.format("GET", "/" .. m[1] .. ".cfg", headers)
end
