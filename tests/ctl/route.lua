-- route.lua — what the running smarthost-milter says at RCPT TO for
-- the sender `from` (miltertest -D from=ADDRESS) from an internal client
-- without SASL: prints "routed" (the recipient is taken) or "no-route"
-- (refused with the milter's reply), or "FAIL ..." on anything else.
local conn = mt.connect(sock, 40, 0.05)
if conn == nil then print("FAIL cannot connect to " .. sock); os.exit(1) end
if mt.conninfo(conn, "client.test", "10.1.2.3") ~= nil or
    mt.getreply(conn) ~= SMFIR_CONTINUE then
	print("FAIL connect"); os.exit(1)
end
mt.macro(conn, SMFIC_MAIL, "i", "ROUTE")
if mt.mailfrom(conn, "<" .. from .. ">") ~= nil or
    mt.getreply(conn) ~= SMFIR_CONTINUE then
	print("FAIL mail from"); os.exit(1)
end
if mt.rcptto(conn, "<friend@example.net>") ~= nil then
	print("FAIL rcpt"); os.exit(1)
end
local r = mt.getreply(conn)
mt.disconnect(conn)
if r == SMFIR_CONTINUE then
	print("routed")
elseif r == SMFIR_REPLYCODE then
	print("no-route")
else
	print("FAIL reply " .. tostring(r)); os.exit(1)
end
