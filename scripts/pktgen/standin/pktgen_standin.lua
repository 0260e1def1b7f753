-- pktgen_standin.lua: runs a pktgen-dpdk Lua script under plain lua5.3,
-- against a stand-in for the Lua API of pktgen-dpdk 23.03 and a simulated
-- wire through npgw, so that CI can run the scripts of scripts/pktgen
-- without pktgen (which Debian does not package).
--
--   lua5.3 pktgen_standin.lua SCRIPT.lua
--
-- What makes a script fail here, as it would in pktgen:
--  - a global that pktgen's Lua state lacks. pktgen opens Lua's standard
--    libraries (luaL_openlibs) and adds the tables `pktgen` and `dpdk`;
--    nothing else (no printf, no arg). Reading any other global is an error.
--  - a pktgen function called with an argument count pktgen refuses (each
--    C binding switches on lua_gettop and fails "X, wrong number of
--    arguments"); the counts below are pktgen 23.03's, every function of
--    its `pktgen` and `pktgen.range` tables.
--  - an argument pktgen's luaL_check* would refuse (a string where a number
--    is needed, a fraction where an integer is needed), a `set` option it
--    does not know.
-- And what pktgen would let pass silently but leaves a sweep measuring
-- something else, which fails here: a port that does not exist, a range
-- field or state word pktgen does not know (it would fall back to a
-- default), range mode enabled while the port sends (pktgen ignores it),
-- pcap replay on a port without a capture loaded (-s P:FILE).
-- A function of pktgen's that the model does not cover fails as such: model
-- it, with its argument count, before a script uses it.
--
-- The simulated wire: port 0 and port 1 are joined through a gateway that
-- forwards every frame except those to a destination port in
-- STANDIN_DENY_DPORTS (default "22"), and loses frames above
-- STANDIN_CAPACITY percent of line rate (default 100: none). Line rate is
-- 10 Gb/s. Time is simulated: pktgen.delay and pktgen.sleep advance it, so
-- a 60-second trial costs nothing. STANDIN_PCAP_PORTS lists the ports that
-- have a capture loaded ("0,1"); a capture's frames are all forwarded.
-- STANDIN_TRACE=1 prints every call to stderr.

local script = arg and arg[1]
if not script then
  io.stderr:write("usage: lua5.3 pktgen_standin.lua SCRIPT.lua\n")
  os.exit(2)
end

local trace = os.getenv("STANDIN_TRACE") == "1"
local capacity = tonumber(os.getenv("STANDIN_CAPACITY") or "100")
local nports = tonumber(os.getenv("STANDIN_PORTS") or "2")
local deny = {}
for p in (os.getenv("STANDIN_DENY_DPORTS") or "22"):gmatch("%d+") do
  deny[tonumber(p)] = true
end
local has_pcap = {}
for p in (os.getenv("STANDIN_PCAP_PORTS") or ""):gmatch("%d+") do
  has_pcap[tonumber(p)] = true
end

-- pktgen 23.03's argument counts (lua_gettop switches in app/lpktgenlib.c);
-- "any" where it does not check.
local ARGC = {
  quit = "any", set = {3}, start = {1}, stop = {1}, set_mac = {3}, set_ipaddr = {3},
  mac_from_arp = {1}, set_proto = {2}, set_type = {2}, ping4 = {1}, ping6 = {1},
  pcap = {2}, icmp_echo = {2}, send_arp = {2}, seq = {12, 13}, seqTable = {3},
  screen = {1}, prime = {1}, delay = {1}, pause = {2}, sleep = {1}, load = {1},
  save = {1}, clear = {1}, clr = "any", cls = "any", update = "any", reset = {1},
  port_restart = {1}, portCount = "any", totalPorts = "any", vlan = {2}, vlanid = {2},
  cos = {3}, tos = {2}, vxlan = {2}, vxlan_id = {4}, mpls = {2}, qinq = {2}, gre = {2},
  gre_eth = {2}, set_range = {2}, ports_per_page = {1}, page = {1}, port = {1},
  process = {2}, capture = {2}, bonding = {2}, blink = {2}, help = "any",
  ["Lua.help"] = "any", isSending = {1}, linkState = {1}, portSizes = {1},
  pktStats = {1}, portStats = {2}, portInfo = {1}, run = {3}, continue = {1},
  input = {1}, pattern = {2}, userPattern = {2}, latency = {2}, jitter = {2},
  gtpu_teid = {3}, rnd = {4}, rnd_list = {0, 1}, rxtap = {2}, txtap = {2},
  latsampler_params = {5}, latsampler = {2},
}
local RANGE_ARGC = {
  dst_mac = {3}, src_mac = {3}, set_type = {2}, src_ip = {3}, dst_ip = {3},
  ip_proto = {2}, src_port = {3}, dst_port = {3}, ttl = {3}, hop_limits = {3},
  vlan_id = {3}, mpls_entry = {2}, qinqids = {3}, gre_key = {2}, pkt_size = {3},
  cos = {3}, tos = {3}, traffic_class = {3},
}

local calls = 0

local function fail(fmt, ...)
  error(string.format(fmt, ...), 3)
end

local function check_argc(name, spec, n)
  if spec == "any" then
    return
  end
  for _, c in ipairs(spec) do
    if c == n then
      return
    end
  end
  -- pktgen's own message
  error(name:gsub("^range%.", "") .. ", wrong number of arguments", 3)
end

-- luaL_checkstring: a string or a number.
local function str(name, i, v)
  if type(v) ~= "string" and type(v) ~= "number" then
    fail("bad argument #%d to '%s' (string expected, got %s)", i, name, type(v))
  end
  return tostring(v)
end

-- luaL_checknumber: a number or a string that converts.
local function num(name, i, v)
  local n = tonumber(v)
  if type(v) ~= "number" and type(v) ~= "string" or n == nil then
    fail("bad argument #%d to '%s' (number expected, got %s)", i, name, type(v))
  end
  return n
end

-- luaL_checkinteger: as a number, and with an integer value.
local function int(name, i, v)
  local n = num(name, i, v)
  if math.tointeger(n) == nil then
    fail("bad argument #%d to '%s' (number has no integer representation)", i, name)
  end
  return math.tointeger(n)
end

-- Ports: a portlist as pktgen parses it ("all", "0", "0-1", "0,1").
local ports = {}
for p = 0, nports - 1 do
  ports[p] = {opackets = 0, ipackets = 0, rate = 100, sending = false, count = 0,
              sent_in_run = 0, mode = "single", range = {}, pcap_on = false}
end

local function portlist(name, i, v)
  local s = str(name, i, v)
  local out = {}
  if s == "all" then
    for p = 0, nports - 1 do
      out[#out + 1] = p
    end
    return out
  end
  for item in s:gmatch("[^,]+") do
    local a, b = item:match("^%s*(%d+)%s*%-%s*(%d+)%s*$")
    if not a then
      a = item:match("^%s*(%d+)%s*$")
      b = a
    end
    if not a then
      fail("%s: bad port list '%s'", name, s)
    end
    for p = tonumber(a), tonumber(b) do
      if not ports[p] then
        fail("%s: port %d does not exist (the stand-in has ports 0-%d)", name, p, nports - 1)
      end
      out[#out + 1] = p
    end
  end
  return out
end

local STATES = {on = true, off = true, enable = true, disable = true, start = true, stop = true}
local function state(name, i, v)
  local s = str(name, i, v):lower()
  if not STATES[s] then
    fail("%s: '%s' is no state pktgen knows (on, off, enable, disable, start, stop)", name, s)
  end
  return s == "on" or s == "enable" or s == "start"
end

local FIELD_TYPES = {start = true, min = true, minimum = true, max = true, maximum = true,
                     inc = true, increment = true}
local function field_type(name, i, v)
  local s = str(name, i, v)
  if not FIELD_TYPES[s] then
    fail("%s: '%s' is no range field type (start, min, max, inc)", name, s)
  end
  return (s == "minimum" and "min") or (s == "maximum" and "max") or
         (s == "increment" and "inc") or s
end

local function ipv4(name, i, v)
  local s = str(name, i, v)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a or tonumber(a) > 255 or tonumber(b) > 255 or tonumber(c) > 255 or tonumber(d) > 255 then
    fail("%s: '%s' is not an IPv4 address", name, s)
  end
  return s
end

-- The simulation.
local LINE_BPS = 10e9
local now_ms = 0

local function frame_size(p)
  if p.mode == "range" then
    return (p.range.pkt_size and p.range.pkt_size.start) or 64
  end
  return 64
end

-- What the gateway lets through of n frames sent from port p at its rate.
local function forwarded(p, n)
  if p.mode == "range" then
    local dp = p.range.dst_port
    if dp and dp.min == dp.max and deny[dp.min] then
      return 0
    end
  end
  if p.rate <= capacity then
    return n
  end
  return math.floor(n * capacity / p.rate)
end

local function advance(ms)
  for pid, p in pairs(ports) do
    if p.sending then
      local pps = LINE_BPS / ((frame_size(p) + 20) * 8)
      local n = math.floor(pps * p.rate / 100 * ms / 1000)
      if p.count > 0 and p.sent_in_run + n >= p.count then
        n = p.count - p.sent_in_run
        p.sending = false
      end
      p.sent_in_run = p.sent_in_run + n
      p.opackets = p.opackets + n
      local peer = ports[pid ~ 1]
      if peer then
        peer.ipackets = peer.ipackets + forwarded(p, n)
      end
    end
  end
  now_ms = now_ms + ms
end

-- The API. Every function checks its argument count first, as pktgen does.
local impl = {}
local range_impl = {}

function impl.set(a)
  local name = "set"
  local list = portlist(name, 1, a[1])
  local what = str(name, 2, a[2])
  local value = num(name, 3, a[3])
  local known = {count = 1, size = 1, rate = 1, burst = 1, txburst = 1, rxburst = 1, cycles = 1,
                 sport = 1, dport = 1, ttl = 1, seq_cnt = 1, seqCnt = 1, prime = 1, dump = 1}
  if not known[what] then
    fail("set does not support %s", what)
  end
  for _, pid in ipairs(list) do
    local p = ports[pid]
    if what == "rate" then
      value = tonumber(str(name, 3, a[3]))  -- pktgen reads the rate as a string (strtod)
      p.rate = (value == 0) and 0.01 or math.min(value, 100)
    elseif what == "count" then
      p.count = math.floor(value)
    end
  end
end

function impl.start(a)
  for _, pid in ipairs(portlist("start", 1, a[1])) do
    local p = ports[pid]
    if p.mode == "pcap" and not has_pcap[pid] then
      fail("start: port %d is in pcap mode but has no capture loaded (pktgen -s %d:FILE)", pid, pid)
    end
    p.sending = true
    p.sent_in_run = 0
  end
end

function impl.stop(a)
  for _, pid in ipairs(portlist("stop", 1, a[1])) do
    ports[pid].sending = false
  end
end

function impl.delay(a)
  advance(int("delay", 1, a[1]))
end

function impl.sleep(a)
  advance(int("sleep", 1, a[1]) * 1000)
end

function impl.set_range(a)
  local list = portlist("set_range", 1, a[1])
  local on = state("set_range", 2, a[2])
  for _, pid in ipairs(list) do
    local p = ports[pid]
    if on and p.sending then
      fail("set_range: port %d is sending (pktgen: \"Cannot enable the range settings while sending packets!\")", pid)
    end
    if on then
      for _, f in ipairs({"src_ip", "dst_ip", "src_port", "dst_port", "pkt_size"}) do
        local r = p.range[f]
        if not r or r.min == nil or r.max == nil or r.start == nil or r.inc == nil then
          fail("set_range: port %d: range %s is not set whole (start, min, max, inc)", pid, f)
        end
      end
      p.mode = "range"
    elseif p.mode == "range" then
      p.mode = "single"
    end
  end
end

function impl.pcap(a)
  local list = portlist("pcap", 1, a[1])
  local on = state("pcap", 2, a[2])
  for _, pid in ipairs(list) do
    if on and not has_pcap[pid] then
      fail("pcap: port %d has no capture loaded (pktgen -s %d:FILE); pktgen would ignore this and send something else", pid, pid)
    end
    local p = ports[pid]
    if on then
      p.mode = "pcap"
    elseif p.mode == "pcap" then
      p.mode = "single"
    end
  end
end

function impl.portStats(a)
  local list = portlist("portStats", 1, a[1])
  local t = str("portStats", 2, a[2])
  if t ~= "port" and t ~= "rate" then
    fail("portStats: type '%s' is neither \"port\" nor \"rate\"", t)
  end
  local out = {}
  for _, pid in ipairs(list) do
    local p = ports[pid]
    out[pid] = {ipackets = p.ipackets, opackets = p.opackets, ibytes = 0, obytes = 0, ierrors = 0,
                oerrors = 0, rx_nombuf = 0, imissed = 0}
  end
  out.n = #list
  return out
end

function impl.clear(a)
  for _, pid in ipairs(portlist("clear", 1, a[1])) do
    ports[pid].opackets, ports[pid].ipackets = 0, 0
  end
end

function impl.clr()
  for _, p in pairs(ports) do
    p.opackets, p.ipackets = 0, 0
  end
end

function impl.portCount()
  return nports
end

function impl.totalPorts()
  return nports
end

function impl.isSending(a)
  local out = {}
  local list = portlist("isSending", 1, a[1])
  for _, pid in ipairs(list) do
    out[pid] = ports[pid].sending and "y" or "n"
  end
  out.n = #list
  return out
end

function impl.quit()
  io.stderr:write("stand-in: pktgen.quit()\n")
end

local function range_setter(field, conv)
  return function(a)
    local name = field
    local list = portlist(name, 1, a[1])
    local t = field_type(name, 2, a[2])
    local v = conv(name, 3, a[3])
    for _, pid in ipairs(list) do
      local p = ports[pid]
      if p.sending then
        fail("range.%s: port %d is sending", field, pid)
      end
      p.range[field] = p.range[field] or {}
      p.range[field][t] = v
    end
  end
end

range_impl.src_ip = range_setter("src_ip", ipv4)
range_impl.dst_ip = range_setter("dst_ip", ipv4)
range_impl.src_port = range_setter("src_port", int)
range_impl.dst_port = range_setter("dst_port", int)
range_impl.pkt_size = range_setter("pkt_size", int)

function range_impl.ip_proto(a)
  local list = portlist("ip_proto", 1, a[1])
  local proto = str("ip_proto", 2, a[2])
  if proto ~= "tcp" and proto ~= "udp" and proto ~= "icmp" then
    fail("ip_proto: '%s' is not tcp, udp or icmp (pktgen would send TCP)", proto)
  end
  for _, pid in ipairs(list) do
    ports[pid].range.proto = proto
  end
end

local function bind(prefix, argc, impls)
  local t = {}
  for name, spec in pairs(argc) do
    local full = prefix .. name
    t[name] = function(...)
      local n = select("#", ...)
      check_argc(full, spec, n)
      calls = calls + 1
      if trace then
        local parts = {}
        for i = 1, n do
          parts[i] = tostring((select(i, ...)))
        end
        io.stderr:write(string.format("stand-in %8.1fs: %s(%s)\n", now_ms / 1000, full,
                                      table.concat(parts, ", ")))
      end
      local f = impls[name]
      if not f then
        error(string.format("stand-in: pktgen.%s is pktgen's, but not modeled here: model it before a script uses it", full), 2)
      end
      return f({...})
    end
  end
  return t
end

local pktgen = bind("", ARGC, impl)
pktgen.range = bind("range.", RANGE_ARGC, range_impl)
pktgen.info = {Pktgen_Version = "23.03.0 (stand-in)", DPDK_Version = "DPDK 22.11 (stand-in)",
               minPktSize = 64, maxPktSize = 1518}

-- pktgen's `dpdk` table (lib/lua/lua_dpdk.c) exists, but no script of
-- npgw uses it: any use fails.
local dpdk = setmetatable({}, {__index = function(_, k)
  error("stand-in: dpdk." .. tostring(k) .. " is not modeled", 2)
end})

-- The globals: what luaL_openlibs gives (the lua5.3 interpreter opens the
-- same libraries) plus pktgen and dpdk; arg is the interpreter's, not
-- pktgen's.
arg = nil
_G.pktgen = pktgen
_G.dpdk = dpdk
setmetatable(_G, {
  __index = function(_, k)
    error("global '" .. tostring(k) .. "' is not defined in pktgen's Lua (its state has Lua's standard libraries, pktgen and dpdk only)", 2)
  end,
})

local ok, err = xpcall(function() dofile(script) end, debug.traceback)
if not ok then
  io.stderr:write("stand-in: " .. script .. " failed: " .. tostring(err) .. "\n")
  os.exit(1)
end
io.stderr:write(string.format("stand-in: %s ran: %d pktgen calls, %.1f s of simulated time\n",
                              script, calls, now_ms / 1000))
os.exit(0)
