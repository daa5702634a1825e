-- wrk script: every phone of MACS_LUA asks for its <mac>.cfg once, in order (with WARM_THREADS
-- threads, thread i takes phones i, i + WARM_THREADS, ...), then again from the start: run long
-- enough, every file has been rendered and cached before a benchmark measures the cached path.
macs = {}
for mac, colons in io.open(os.getenv("MACS_LUA")):read("*a"):gmatch('"(%x+)", "([%x:]+)"') do
  macs[#macs + 1] = { mac, colons }
end
local stride = tonumber(os.getenv("WARM_THREADS") or "1")
local started = 0

setup = function(thread)
  started = started + 1
  thread:set("first", started)
end

init = function()
  index = first or 1
end

request = function()
  local m = macs[index]
  index = index + stride
  if index > #macs then
    index = index - #macs
  end
  return wrk.format("GET", "/" .. m[1] .. ".cfg", { ["User-Agent"] = "Yealink SIP-T54W 96.86.0.100 " .. m[2] })
end
