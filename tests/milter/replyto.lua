-- replyto.lua — Reply-To: on a rewritten From:, under [milter] reply-to
-- and the reply-to= option of relay.map lines.  milter.t's DNS has an MX
-- for mx.test, only an address for aonly.test, nothing for nomail.test
-- and a failing server for broken.test.  phase "auto": the default global
-- reply-to = auto; phase "none": after milter.t set reply-to = none.
dofile(dir .. "/lib.lua")

-- Send from sender with From: "Name <sender>" (plus extra headers);
-- returns the Reply-To: added, or nil.
local function reply_to(qid, sender, extra)
	local headers = { { "From", "Name <" .. sender .. ">" } }
	for _, h in ipairs(extra or {}) do headers[#headers + 1] = h end
	local conn, stage, r = send{ qid = qid, from = "<" .. sender .. ">",
	    headers = headers }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	expect(mt.eom_check(conn, MT_HDRCHANGE, "From",
	    sp .. "Name <alerts@163.com>"), "From not rewritten")
	local v = added(conn, "Reply-To")
	mt.disconnect(conn)
	return v
end

local function want(qid, sender, expected, extra)
	local v = reply_to(qid, sender, extra)
	if expected then
		expect(v == sp .. "Name <" .. expected .. ">",
		    "Reply-To is " .. tostring(v) .. ", want " .. expected)
	else
		expect(v == nil, "Reply-To added: " .. tostring(v))
	end
end

if phase == "auto" then
	run("auto: domain with an MX gets Reply-To", function()
		want("RT-MX", "joe@mx.test", "joe@mx.test")
	end)
	run("auto: domain with only an A record gets Reply-To", function()
		want("RT-A", "joe@aonly.test", "joe@aonly.test")
	end)
	run("auto: domain without MX or address: none", function()
		want("RT-NOMAIL", "joe@nomail.test", nil)
	end)
	run("auto: local-domains sender: none", function()
		want("RT-LOCAL", "scanner@office.test", nil)
	end)
	run("auto: DNS failure: none", function()
		want("RT-DNSFAIL", "joe@broken.test", nil)
	end)
	run("line reply-to=original overrides auto: local sender gets it",
	    function()
		want("RT-ORIG", "orig@office.test", "orig@office.test")
	end)
	run("line reply-to=none overrides auto: MX domain gets none",
	    function()
		want("RT-NONE", "norep@mx.test", nil)
	end)
	run("an existing Reply-To is kept, none added", function()
		want("RT-KEPT", "joe@mx.test", nil,
		    { { "Reply-To", "desk@mx.test" } })
	end)
else
	run("global none: MX domain gets none", function()
		want("RT-GNONE", "joe@mx.test", nil)
	end)
	run("global none: line reply-to=original still adds it", function()
		want("RT-GORIG", "orig@office.test", "orig@office.test")
	end)
	run("global none: line reply-to=auto adds it for an MX domain",
	    function()
		want("RT-GAUTO", "auto@mx.test", "auto@mx.test")
	end)
end

finish()
