-- limits.lua — the header kept per outbound message is bounded: more
-- than 1000 header fields and the message gets a 452 4.3.1 (at the body:
-- both negotiations here let header replies be left out).
-- mem=1 also sends 30,000 header fields of 900 bytes, for milter.t to
-- compare the filter's peak memory before and after.  (miltertest
-- cannot send a header field of a few kB: the 1 MiB bound is tested
-- through Postfix in postfix-limits.t.)
dofile(dir .. "/lib.lua")

local refused_at = "body"

local function many(n, len)
	local h, v = {}, string.rep("x", len)
	for i = 1, n do h[#h + 1] = { "X-Filler-" .. i, v } end
	table.insert(h, 1, { "From", "Boss <boss@163.com>" })
	return h
end

local function refused(qid, headers)
	local conn, stage, r = send{ auth = "boss", qid = qid,
	    from = "<boss@163.com>", headers = headers }
	expect_stage(stage, r, refused_at, SMFIR_REPLYCODE)
	mt.disconnect(conn)
end

run("1000 header fields pass", function()
	local conn, stage, r = send{ auth = "boss", qid = "HDR1000",
	    from = "<boss@163.com>", headers = many(999, 10) }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	mt.disconnect(conn)
end)

run("1001 header fields: tempfail", function()
	refused("HDR1001", many(1000, 10))
end)

if mem == "1" then
	run("30,000 header fields of 900 bytes: tempfail", function()
		refused("HDRMEM", many(30000, 900))
	end)
end

finish()
