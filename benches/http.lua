-- wrk script: each request asks for a random phone's <mac>.cfg with that phone's User-Agent.
-- MACS_LUA (environment) names a file listing `{"001565000000", "00:15:65:00:00:00"}, ...`.
-- Read as data, not run as code: a Lua chunk holds at most 65,536 constants, fewer than the
-- MACs of 100,000 phones.
macs = {}
for mac, colons in io.open(os.getenv("MACS_LUA")):read("*a"):gmatch('"(%x+)", "([%x:]+)"') do
  macs[#macs + 1] = { mac, colons }
end
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
