-- reload.lua — which routes the running filter has (phase "old": the map
-- milter.t started with; "new": after a good reload added "*").
dofile(dir .. "/lib.lua")

run(phase .. " map: boss@163.com routed", function()
	local conn, stage, r = send{ auth = "boss", qid = "RL-BOSS-" .. phase,
	    from = "<boss@163.com>", headers = { { "From", "boss@163.com" } } }
	expect_stage(stage, r, "eom", SMFIR_ACCEPT)
	mt.disconnect(conn)
end)

run(phase .. " map: stranger@elsewhere.test", function()
	local conn, stage, r = send{ qid = "RL-STRANGER-" .. phase,
	    from = "<stranger@elsewhere.test>",
	    headers = { { "From", "Stranger <stranger@elsewhere.test>" } } }
	if phase == "old" then
		expect_stage(stage, r, "rcpt", SMFIR_REPLYCODE)
	else
		expect_stage(stage, r, "eom", SMFIR_ACCEPT)
		expect(mt.eom_check(conn, MT_HDRCHANGE, "From",
		    sp .. "Stranger <boss@163.com>"), "From not rewritten")
	end
	mt.disconnect(conn)
end)

finish()
