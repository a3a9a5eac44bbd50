#!/usr/bin/python3
"""report.py DIR - the table and DIR/results.json from DIR/raw.tsv (one
"key<TAB>value" line per figure and run, written by tests/bench/run) and
DIR/machine.txt.  Every figure: median, min, max over the runs.

Derived figures (from the medians):
  ratio A/B               messages/s of A over messages/s of B (and B+reuse)
  ratio A/A-tmpfs         messages/s of A over A with state-dir on a tmpfs:
                          what making each message's daily count durable
                          (the journal's fsync before the final dot) costs
  ratio A-redis/A         messages/s of A with limits-store = redis (a local
                          redis-server) over A with the local file: what
                          sharing the limits with other relays costs
  bound                   N x RT x RTT / (3 accounts x concurrency) seconds,
                          RT = 2 round trips per message on a reused
                          pipelined session (MAIL+RCPT+DATA, then the dot)
  A / bound               A's time to last acceptance over the bound
  full handshakes/session A's full TLS handshakes over sessions opened
  floor ratios            smarthost-milter's CPU per message and Postfix's
                          intake behind it, over the same behind the no-op
                          milter (tests/bench/noop-milter.c): from the
                          medians, and per round (median [min .. max])
"""

import json
import statistics
import sys


def load(d):
    vals = {}
    with open(d + "/raw.tsv") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            if v == "":
                continue
            vals.setdefault(k, []).append(float(v))
    machine = {}
    with open(d + "/machine.txt") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            machine[k] = v
    return vals, machine


def summary(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v),
            "runs": v}


def fmt(x):
    if x is None:
        return "-"
    if float(x).is_integer():
        return "%d" % x
    if abs(x) >= 1000:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.3g" % x


def row(out, label, s, unit=""):
    if s is None:
        return
    out.append("  %-44s %10s  [%s .. %s] %s" % (
        label, fmt(s["median"]), fmt(s["min"]), fmt(s["max"]), unit))


def busiest(vals):
    """Per run, the largest CPU share of the three peer processes."""
    for k in [k for k in vals if k.endswith(".peer465_cpu_share")]:
        p = k[:-len("peer465_cpu_share")]
        runs = zip(vals[k], vals.get(p + "peer587_cpu_share", []),
                   vals.get(p + "proxy_cpu_share", []))
        vals[p + "peer_busiest_share"] = [max(r) for r in runs]


FLOOR_TARGET = 1.1


def floor(out, g, derived):
    """The milter floor rows: smarthost-milter against the no-op milter."""
    s, n = g("floor.smarthost.cpu_us_per_msg"), g("floor.noop.cpu_us_per_msg")
    if s is None and n is None:
        return
    out.append("")
    out.append("Milter floor: smarthost-milter against a no-op libmilter"
               " milter (same callbacks, no work),")
    out.append("  same Postfix, same load, interleaved rounds")
    row(out, "milter CPU per message, smarthost-milter", s, "us")
    row(out, "milter CPU per message, no-op milter", n, "us")
    for who, name in (("smarthost", "smarthost-milter"), ("noop", "no-op")):
        row(out, "  user part, %s" % name,
            g("floor.%s.cpu_user_us_per_msg" % who), "us")
        row(out, "  system part, %s" % name,
            g("floor.%s.cpu_sys_us_per_msg" % who), "us")
    row(out, "intake behind smarthost-milter",
        g("floor.smarthost.intake_per_s"), "msg/s")
    row(out, "intake behind the no-op milter", g("floor.noop.intake_per_s"),
        "msg/s")
    pr = g("floor.cpu_ratio")
    row(out, "CPU ratio smarthost/no-op, per round", pr)
    if pr:
        out.append("    (rounds paired in time; target <= %.1f: %s)" % (
            FLOOR_TARGET, "met" if pr["median"] <= FLOOR_TARGET
            else "NOT MET"))
    row(out, "intake ratio smarthost/no-op, per round",
        g("floor.intake_ratio"))
    row(out, "peak RSS, smarthost-milter", g("floor.smarthost.vmhwm_kib"),
        "KiB")
    row(out, "peak RSS, no-op milter", g("floor.noop.vmhwm_kib"), "KiB")
    if s and n and n["median"]:
        r = s["median"] / n["median"]
        derived["floor.cpu_ratio"] = r
        out.append("  CPU ratio smarthost/no-op (medians)%9s %10.2f" % (
            "", r))
    si, ni = g("floor.smarthost.intake_per_s"), g("floor.noop.intake_per_s")
    if si and ni and ni["median"]:
        r = si["median"] / ni["median"]
        derived["floor.intake_ratio"] = r
        out.append("  intake ratio smarthost/no-op (medians)%6s %10.2f" % (
            "", r))


def main():
    d = sys.argv[1]
    vals, machine = load(d)
    busiest(vals)
    res = {k: summary(v) for k, v in sorted(vals.items())}
    n = int(machine.get("messages", "1000"))
    conc = int(machine.get("concurrency_per_account", "4"))
    rtts = machine.get("rtts_ms", "0 30").split()
    derived = {}
    out = []
    out.append("smarthost bench — %s, %s cores, %s" % (
        machine.get("cpu"), machine.get("cores"), machine.get("date")))
    out.append("  kernel %s, Postfix %s, OpenSSL %s, Python %s, aiosmtpd %s,"
               " smarthost %s" % (
                   machine.get("kernel"), machine.get("postfix"),
                   machine.get("openssl"), machine.get("python"),
                   machine.get("aiosmtpd"), machine.get("smarthost")))
    out.append("  load average (1/5/15 min) at start %s, at end %s"
               " (other work on the machine disturbs every figure)" % (
                   machine.get("loadavg_at_start"),
                   machine.get("loadavg_at_end")))
    out.append("  median [min .. max] of %s runs each" % machine.get("runs"))
    g = res.get
    for rtt in rtts:
        out.append("")
        out.append("Relay path: %d messages, 3 senders/accounts, %d sessions"
                   " per account, RTT %s ms" % (n, conc, rtt))
        sides = sorted({k.split(".")[2] for k in res
                        if k.startswith("relay.rtt%s." % rtt)})
        for side in sides:
            p = "relay.rtt%s.%s." % (rtt, side)
            out.append(" %s" % side)
            row(out, "messages/s (release to last acceptance)",
                g(p + "msgs_per_s"))
            row(out, "time to drain the queue", g(p + "drain_s"), "s")
            row(out, "intake (3 x smtp-source, held)", g(p + "intake_s"),
                "s")
            row(out, "messages accepted by the smarthost", g(p + "delivered"))
            row(out, "sessions opened at the smarthost", g(p + "sessions"))
            row(out, "full TLS handshakes", g(p + "tls_full"))
            row(out, "resumed TLS handshakes", g(p + "tls_resumed"))
            row(out, "AUTH (successful)", g(p + "auth_ok"))
            row(out, "CPU seconds, this side (delivery)", g(p + "cpu_s"), "s")
            row(out, "CPU seconds, smarthost peer + proxy",
                g(p + "peer_cpu_s"), "s")
            row(out, "  busiest peer process, share of one core",
                g(p + "peer_busiest_share"))
            if side.startswith("A"):
                row(out, "relay transactions on a reused session",
                    g(p + "reused"))
            if side == "A":
                row(out, "sent log rows after the runs",
                    g("sent.rows.rtt%s" % rtt))
        a = g("relay.rtt%s.A.msgs_per_s" % rtt)
        a0 = g("relay.rtt%s.A0.msgs_per_s" % rtt)
        if a and a0:
            r = a["median"] / a0["median"]
            derived["rtt%s.ratio_A_over_A0" % rtt] = r
            out.append("  ratio A/A0 (sent log on / off)%14s %10.2f" % ("", r))
        for other in ("A-tmpfs", "B", "B+reuse"):
            b = g("relay.rtt%s.%s.msgs_per_s" % (rtt, other))
            if a and b:
                r = a["median"] / b["median"]
                derived["rtt%s.ratio_A_over_%s" % (rtt, other)] = r
                out.append("  ratio A/%-36s %10.2f" % (
                    other + (" (durable counts vs none)"
                             if other == "A-tmpfs" else ""), r))
        b = g("relay.rtt%s.A-redis.msgs_per_s" % rtt)
        if a and b:
            r = b["median"] / a["median"]
            derived["rtt%s.ratio_A-redis_over_A" % rtt] = r
            out.append("  ratio A-redis/%-30s %10.2f" % (
                "A (limits in Redis vs the file)", r))
        ta = g("relay.rtt%s.A.last_accept_s" % rtt)
        if ta and float(rtt) > 0:
            bound = n * 2 * float(rtt) / 1000 / (3 * conc)
            derived["rtt%s.bound_s" % rtt] = bound
            derived["rtt%s.A_over_bound" % rtt] = ta["median"] / bound
            out.append("  bound %d x 2 RT x %s ms / %d = %.2f s (%.0f msg/s);"
                       " A takes %.2f s = %.2f x the bound" % (
                           n, rtt, 3 * conc, bound, n / bound, ta["median"],
                           ta["median"] / bound))
        s, f = g("relay.rtt%s.A.sessions" % rtt), g("relay.rtt%s.A.tls_full" % rtt)
        if s and f and s["median"]:
            derived["rtt%s.A_full_handshakes_per_session" % rtt] = \
                f["median"] / s["median"]
            out.append("  A: full TLS handshakes per pooled session %.2f" %
                       (f["median"] / s["median"]))
    out.append("")
    out.append("Milter cost: Postfix intake, smtp-source, same Postfix,"
               " two listeners")
    row(out, "intake without milter", g("milter.intake_without_per_s"),
        "msg/s")
    row(out, "intake with milter", g("milter.intake_with_per_s"), "msg/s")
    row(out, "ratio with/without (time without / with)",
        g("milter.intake_ratio"))
    row(out, "milter CPU per message", g("milter.cpu_us_per_msg"), "us")
    row(out, "  user part", g("milter.cpu_user_us_per_msg"), "us")
    row(out, "  system part (libmilter I/O, threads)",
        g("milter.cpu_sys_us_per_msg"), "us")
    row(out, "messages judged by the milter per run", g("milter.judged"))
    row(out, "Postfix CPU per message without milter",
        g("milter.postfix_cpu_us_per_msg"), "us")
    floor(out, g, derived)
    out.append("")
    out.append("Sent log: one record (sentlog_record), WAL, "
               "synchronous=NORMAL, checkpoints by another handle")
    for mode, what in (("alone", "alone"),
                       ("reader", "another process reading in a loop")):
        row(out, "median, %s" % what, g("sent.%s.median_us" % mode), "us")
        row(out, "  99th percentile", g("sent.%s.p99_us" % mode), "us")
        row(out, "  slowest", g("sent.%s.max_us" % mode), "us")
        row(out, "  failed (busy past 50 ms)", g("sent.%s.failed" % mode))
        row(out, "  CPU time of the call, median",
            g("sent.%s.cpu_median_us" % mode), "us")
        row(out, "  CPU time of the call, 99th percentile",
            g("sent.%s.cpu_p99_us" % mode), "us")
    out.append("")
    out.append("Relay map: generated map, config_load() + route_lookup()")
    row(out, "map entries", g("map.entries"))
    row(out, "load time (config_load)", g("map.load_s"), "s")
    row(out, "lookups per second (route_lookup)", g("map.lookups_per_s"))
    row(out, "peak RSS of the loading process", g("map.vmhwm_kib"), "KiB")
    out.append("")
    out.append("Memory: peak resident (VmHWM)")
    row(out, "smarthost-milter (end of all runs)", g("milter.vmhwm_kib"),
        "KiB")
    row(out, "smarthost-relay (per A run)", g("relay.vmhwm_kib"), "KiB")
    row(out, "smarthost peer 465 (Python)", g("peer.p465.vmhwm_kib"), "KiB")
    print("\n".join(out))
    with open(d + "/results.json", "w") as f:
        json.dump({"machine": machine, "figures": res, "derived": derived},
                  f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
