-- lib.lua — helpers for the miltertest scripts of tests/milter/milter.t.
-- The filter is already running (started by milter.t); `sock` is passed
-- with miltertest -D sock=unix:PATH.  A script defines cases with run(),
-- each a function that errors on a failed expectation; run() prints
-- "ok - NAME" or "FAIL - NAME: why" and the script exits 1 if any failed.

failures = 0

-- legacy=1 (miltertest -D legacy=1): negotiate like an MTA without the
-- newer protocol options (no leading space in header values, no
-- SMFIS_SKIP), as an older Sendmail does.  ("No reply" steps need no
-- MTA support: libmilter answers "continue" itself.)
legacy = legacy == "1"
sp = legacy and "" or " "	-- leading space of header values we add

function expect(cond, what)
	if not cond then error(what, 2) end
end

local function check(r, what)
	if r ~= nil then error(what .. ": " .. tostring(r), 2) end
end

local names = {
	[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept",
	[SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
	[SMFIR_REPLYCODE] = "replycode", [SMFIR_SKIP] = "skip",
	[SMFIR_DISCARD] = "discard",
}

function replyname(r)
	return names[r] or tostring(r)
end

-- send{ip=, auth=, qid=, from=, mailargs={...}, rcpts={...},
--       headers={{n, v}, ...}, body=} -> conn, stage, reply.  Stops at the first stage whose
-- reply is not "continue" (a rejected recipient stops at "rcpt").
function send(o)
	local conn = mt.connect(sock, 40, 0.05)
	expect(conn ~= nil, "cannot connect to " .. sock)
	if legacy then
		-- steps: only the SMFIP_NO* ones; all actions.  (miltertest
		-- 1.0 takes the steps before the actions.)
		check(mt.negotiate(conn, 6, 0x37f, 0x1ff), "negotiate")
		expect(not mt.test_option(conn, 0x100000), "leading space")
	end
	check(mt.conninfo(conn, "client.test", o.ip or "10.1.2.3"), "conninfo")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		return conn, "connect", mt.getreply(conn)
	end
	if o.auth then
		mt.macro(conn, SMFIC_MAIL, "i", o.qid, "{auth_authen}", o.auth)
	else
		mt.macro(conn, SMFIC_MAIL, "i", o.qid)
	end
	check(mt.mailfrom(conn, o.from, (table.unpack or unpack)(o.mailargs or {})),
	    "mailfrom")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		return conn, "mail", mt.getreply(conn)
	end
	for _, r in ipairs(o.rcpts or { "<friend@example.net>" }) do
		check(mt.rcptto(conn, r), "rcptto")
		if mt.getreply(conn) ~= SMFIR_CONTINUE then
			return conn, "rcpt", mt.getreply(conn)
		end
	end
	for _, h in ipairs(o.headers or {}) do
		check(mt.header(conn, h[1], h[2]), "header")
		if mt.getreply(conn) ~= SMFIR_CONTINUE then
			return conn, "header", mt.getreply(conn)
		end
	end
	check(mt.eoh(conn), "eoh")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		return conn, "eoh", mt.getreply(conn)
	end
	check(mt.bodystring(conn, o.body or "Hello.\r\n"), "body")
	local r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE and r ~= SMFIR_SKIP then
		return conn, "body", r
	end
	check(mt.eom(conn), "eom")
	return conn, "eom", mt.getreply(conn)
end

function expect_stage(stage, reply, want_stage, want_reply)
	expect(stage == want_stage and reply == want_reply,
	    "got " .. replyname(reply) .. " at " .. stage .. ", want " ..
	    replyname(want_reply) .. " at " .. want_stage)
end

-- The value of the header the filter added (nil if none).
function added(conn, name)
	if not mt.eom_check(conn, MT_HDRADD, name) then return nil end
	return mt.getheader(conn, name, 0)
end

function run(name, fn)
	local ok, err = pcall(fn)
	if ok then
		print("ok - " .. name)
	else
		failures = failures + 1
		print("FAIL - " .. name .. ": " .. tostring(err))
	end
end

function finish()
	if failures > 0 then
		print(failures .. " case(s) failed")
		os.exit(1)
	end
end
