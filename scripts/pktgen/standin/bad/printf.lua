-- expect: global 'printf' is not defined in pktgen's Lua
-- A global that only pktgen's own Pktgen.lua defines (the bug of issue 17).
printf("%d\n", 1)
