-- npgw_common.lua: what the pktgen scripts of npgw share. Loaded by
-- flow_sweep.lua, rate_sweep.lua and rfc2544.lua with dofile; pktgen-dpdk
-- runs them (pktgen ... -f scripts/pktgen/rfc2544.lua, or "script FILE" at
-- its prompt). Wiring: pktgen port TX sends into npgw's uplink port,
-- pktgen port RX receives from npgw's pods port (see README.md).
--
-- Only what pktgen's Lua state has is used: Lua's standard libraries and
-- the `pktgen` table. There is no global printf there (pktgen's own
-- Pktgen.lua defines one for itself), hence M.printf.
--
-- The NPGW_PKTGEN_* variables are read with os.getenv, from pktgen's own
-- environment: set them before pktgen starts.
local M = {}

M.dir = os.getenv("NPGW_PKTGEN_DIR") or "scripts/pktgen"
M.flows = dofile(M.dir .. "/npgw_flows.lua")
M.TX = os.getenv("NPGW_PKTGEN_TX") or "0"
M.RX = os.getenv("NPGW_PKTGEN_RX") or "1"

-- What a sweep measures in npgw (README.md, "What each mode measures"):
--   stateless  range mode, TCP segments with only ACK set. With npgw's
--              default conntrack.tcp_loose: false no flow ever opens, so
--              every frame is classified (rte_acl): classification cost.
--   tcp-loose  the same frames, npgw run with conntrack.tcp_loose: true:
--              the first frame of each 5-tuple opens a flow, every later
--              one is a flow-table hit: established flows.
--   pcap       pktgen's pcap replay (pktgen started with -s TX:LOAD.pcap
--              -s RX:HANDSHAKE.pcap, both from scripts/bench/make_traffic.py
--              --handshake): the handshakes are sent once through RX
--              (NPGW_PKTGEN_HANDSHAKES frames) so that every flow is
--              established, then LOAD is replayed from TX: established
--              flows with tcp_loose off.
M.MODES = {stateless = true, ["tcp-loose"] = true, pcap = true}
M.mode = os.getenv("NPGW_PKTGEN_MODE") or "stateless"
if not M.MODES[M.mode] then
  error("NPGW_PKTGEN_MODE: unknown mode '" .. M.mode .. "' (stateless, tcp-loose or pcap)")
end

-- Whether the script ends pktgen when done (a non-interactive run).
M.quit_when_done = (os.getenv("NPGW_PKTGEN_QUIT") or "0") == "1"

-- printf(fmt, ...): formatted output to pktgen's standard output.
function M.printf(fmt, ...)
  io.write(string.format(fmt, ...))
  io.flush()
end

-- A number from the environment, or dflt; a bad value is an error that
-- names the variable.
function M.env_number(name, dflt)
  local s = os.getenv(name)
  if s == nil or s == "" then
    return dflt
  end
  local v = tonumber(s)
  if v == nil then
    error(name .. ": not a number: '" .. s .. "'")
  end
  return v
end

-- The frames a range sweep sends, as pktgen builds them: range mode fills
-- its pool of 24,576 mbufs once per start ((1024 rx + 2048 tx descriptors)
-- x 8, MAX_MBUFS_PER_PORT in pktgen 23.03), stepping every field by its
-- increment at each frame, all fields together, and then sends that pool
-- over and over. So a sweep is 24,576 distinct frames: source ports
-- 1024-25599, each source address paired with lcm(sources, destinations)
-- / sources destinations (gen_flows.py lists the pairs).
M.RANGE_FRAMES = 24576
M.SPORT_MIN = 1024
M.SPORT_MAX = 65000

-- Program range mode on the sending port for one sweep of npgw_flows.lua
-- (allowed or denied): source and destination addresses over the pods of
-- two Deployments, source ports from 1024 up, one destination port.
function M.setup(sweep, size)
  local p = M.TX
  size = size or 64
  pktgen.stop(p)
  if M.mode == "pcap" then
    M.prime_handshakes()
    pktgen.pcap(p, "on")
    return
  end
  pktgen.range.ip_proto(p, "tcp")
  pktgen.range.pkt_size(p, "start", size)
  pktgen.range.pkt_size(p, "min", size)
  pktgen.range.pkt_size(p, "max", size)
  pktgen.range.pkt_size(p, "inc", 0)
  pktgen.range.src_ip(p, "start", sweep.src_min)
  pktgen.range.src_ip(p, "min", sweep.src_min)
  pktgen.range.src_ip(p, "max", sweep.src_max)
  pktgen.range.src_ip(p, "inc", "0.0.0.1")
  pktgen.range.dst_ip(p, "start", sweep.dst_min)
  pktgen.range.dst_ip(p, "min", sweep.dst_min)
  pktgen.range.dst_ip(p, "max", sweep.dst_max)
  pktgen.range.dst_ip(p, "inc", "0.0.0.1")
  pktgen.range.src_port(p, "start", M.SPORT_MIN)
  pktgen.range.src_port(p, "min", M.SPORT_MIN)
  pktgen.range.src_port(p, "max", M.SPORT_MAX)
  pktgen.range.src_port(p, "inc", 1)
  pktgen.range.dst_port(p, "start", sweep.dport)
  pktgen.range.dst_port(p, "min", sweep.dport)
  pktgen.range.dst_port(p, "max", sweep.dport)
  pktgen.range.dst_port(p, "inc", 0)
  pktgen.set_range(p, "on")
end

-- pcap mode: send the handshake capture loaded on the receiving port once
-- (NPGW_PKTGEN_HANDSHAKES frames: the flows x 3 of make_traffic.py), so
-- that npgw tracks every flow of the load capture as established. Done
-- once per run.
local primed = false
function M.prime_handshakes()
  if primed then
    return
  end
  local n = M.env_number("NPGW_PKTGEN_HANDSHAKES", 0)
  if n <= 0 then
    error("NPGW_PKTGEN_MODE=pcap needs NPGW_PKTGEN_HANDSHAKES (frames in the handshake capture loaded on port " .. M.RX .. ")")
  end
  pktgen.stop(M.RX)
  pktgen.pcap(M.RX, "on")
  pktgen.set(M.RX, "rate", 1)
  pktgen.set(M.RX, "count", n)
  pktgen.start(M.RX)
  pktgen.delay(2000)
  pktgen.stop(M.RX)
  pktgen.delay(500)
  primed = true
  M.printf("pcap: %d handshake frames sent through port %s\n", n, M.RX)
end

local function counts()
  local tx = pktgen.portStats(M.TX, "port")[tonumber(M.TX)]
  local rx = pktgen.portStats(M.RX, "port")[tonumber(M.RX)]
  return tx.opackets, rx.ipackets
end

-- Send at rate percent of line rate for secs seconds; wait for the tail to
-- drain; return packets sent and received.
function M.trial(rate, secs)
  pktgen.stop(M.TX)
  pktgen.set(M.TX, "rate", rate)
  pktgen.delay(500)
  local tx0, rx0 = counts()
  pktgen.start(M.TX)
  pktgen.delay(math.floor(secs * 1000))
  pktgen.stop(M.TX)
  pktgen.delay(1000)
  local tx1, rx1 = counts()
  return tx1 - tx0, rx1 - rx0
end

-- One line that says what the sweep measures, for the top of a report.
function M.describe()
  if M.mode == "stateless" then
    return "mode stateless: TCP ACK-only range frames; with npgw's conntrack.tcp_loose: false "
      .. "no flow opens, so this measures classification"
  elseif M.mode == "tcp-loose" then
    return "mode tcp-loose: TCP ACK-only range frames; npgw must run with conntrack.tcp_loose: true, "
      .. "so this measures established flows (24,576 of them)"
  end
  return "mode pcap: the capture replayed on port " .. M.TX
    .. " after its handshakes through port " .. M.RX .. ": established flows"
end

-- End of a script: quit pktgen when NPGW_PKTGEN_QUIT=1.
function M.done()
  if M.quit_when_done then
    pktgen.quit()
  end
end

return M
