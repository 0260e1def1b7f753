-- expect: bad argument #1 to 'delay' \(number has no integer representation\)
-- pktgen.delay takes whole milliseconds (luaL_checkinteger).
pktgen.delay(2.5 * 1000 / 3)
