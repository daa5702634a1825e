-- wrk script: a boot storm. Each phone (a random one of MACS_LUA's) asks for its Yealink boot
-- sequence, one file after the other with its User-Agent: <mac>.boot, y000000000000.boot,
-- y000000000096.cfg, <mac>.cfg; the last request closes the connection, so the next phone
-- comes on a new one. wrk's Lua state is per thread, so a thread's connections share the
-- sequence: each thread has one phone booting at a time across its connections, which for
-- the server is the same mix of files and new connections.
-- Read as data, not run as code: a Lua chunk holds at most 65,536 constants, fewer than the
-- MACs of 100,000 phones.
macs = {}
for mac, colons in io.open(os.getenv("MACS_LUA")):read("*a"):gmatch('"(%x+)", "([%x:]+)"') do
  macs[#macs + 1] = { mac, colons }
end
math.randomseed(42)

local phone, step = nil, 0
local files = {
  function(m) return "/" .. m[1] .. ".boot" end,
  function(m) return "/y000000000000.boot" end,
  function(m) return "/y000000000096.cfg" end,
  function(m) return "/" .. m[1] .. ".cfg" end,
}

request = function()
  if step == 0 then
    phone = macs[math.random(#macs)]
  end
  step = step + 1
  local headers = { ["User-Agent"] = "Yealink SIP-T54W 96.86.0.100 " .. phone[2] }
  local path = files[step](phone)
  if step == #files then
    headers["Connection"] = "close"
    step = 0
  end
  return wrk.format("GET", path, headers)
end
