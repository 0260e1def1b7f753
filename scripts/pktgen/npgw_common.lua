-- npgw_common.lua: what the pktgen scripts of npgw share. Loaded by
-- flow_sweep.lua, rate_sweep.lua and rfc2544.lua with dofile; pktgen-dpdk
-- runs them (pktgen ... -f scripts/pktgen/rfc2544.lua, or "script FILE" at
-- its prompt). Wiring: pktgen port TX sends into npgw's uplink port,
-- pktgen port RX receives from npgw's pods port (see README.md).
local M = {}

M.dir = os.getenv("NPGW_PKTGEN_DIR") or "scripts/pktgen"
M.flows = dofile(M.dir .. "/npgw_flows.lua")
M.TX = os.getenv("NPGW_PKTGEN_TX") or "0"
M.RX = os.getenv("NPGW_PKTGEN_RX") or "1"

-- Program range mode on the sending port for one sweep of npgw_flows.lua
-- (allowed or denied): source and destination addresses over the pods of
-- two Deployments, source ports over 1024-65000, one destination port.
function M.setup(sweep, size)
  local p = M.TX
  size = size or 64
  pktgen.stop(p)
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
  pktgen.range.src_port(p, "start", 1024)
  pktgen.range.src_port(p, "min", 1024)
  pktgen.range.src_port(p, "max", 65000)
  pktgen.range.src_port(p, "inc", 1)
  pktgen.range.dst_port(p, "start", sweep.dport)
  pktgen.range.dst_port(p, "min", sweep.dport)
  pktgen.range.dst_port(p, "max", sweep.dport)
  pktgen.range.dst_port(p, "inc", 0)
  pktgen.set_range(p, "on")
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

return M
