-- wrk script for benches/scale.sh: each request asks for a random phone of the sample's
-- <mac>.cfg with that phone's User-Agent. MACS_TXT (environment) names a file of
-- "mac colon-mac" lines: read line by line, since a Lua table literal of 100,000 entries
-- is more constants than one chunk may hold.
macs = {}
for line in io.lines(os.getenv("MACS_TXT")) do
  local mac, colons = line:match("^(%x+) ([%x:]+)$")
  if mac then
    macs[#macs + 1] = { mac, colons }
  end
end
math.randomseed(42)

request = function()
  local m = macs[math.random(#macs)]
  return wrk.format("GET", "/" .. m[1] .. ".cfg", { ["User-Agent"] = "Yealink SIP-T54W 96.86.0.100 " .. m[2] })
end
