-- expect: global 'arg' is not defined in pktgen's Lua
-- The lua5.3 interpreter's arg table; pktgen runs a script without one.
local secs = arg[1] or 10
pktgen.delay(secs * 1000)
