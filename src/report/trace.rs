//! `etcdsim trace`: the timelines of the first requests as Chrome trace-event JSON, for
//! Perfetto (ui.perfetto.dev) or chrome://tracing. One process track per member, for the
//! client, and for each direction of each client link; each request's stages are async slices
//! (one row per request); each member's ReadIndex rounds, apply batches, fdatasyncs and
//! backend commits are complete slices of their own.

use std::fmt::Write;

use crate::model::{RunResult, Stage};

const CLIENT: u32 = 1;

fn member_pid(m: u8) -> u32 {
    10 + u32::from(m)
}

fn link_pid(m: u8, toward_client: bool) -> u32 {
    100 + 2 * u32::from(m) + u32::from(toward_client)
}

fn us(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e3)
}

fn track(stage: Stage, member: u8, toward_client: bool) -> u32 {
    match stage {
        Stage::ClientQueue | Stage::Client => CLIENT,
        Stage::NicQueue | Stage::NetRequest | Stage::NetResponse => link_pid(member, toward_client),
        _ => member_pid(member),
    }
}

/// Chrome trace-event JSON of the spans and rounds in `r`, for a cluster of `members`.
pub fn chrome_json(r: &RunResult, members: u8) -> String {
    let mut ev: Vec<String> = Vec::new();
    let mut name = |pid: u32, n: String, sort: u32| {
        ev.push(format!(
            r#"{{"ph":"M","name":"process_name","pid":{pid},"args":{{"name":"{n}"}}}}"#
        ));
        ev.push(format!(
            r#"{{"ph":"M","name":"process_sort_index","pid":{pid},"args":{{"sort_index":{sort}}}}}"#
        ));
    };
    name(CLIENT, "client".into(), 0);
    for m in 0..members {
        name(
            link_pid(m, false),
            format!("link client → member{m}"),
            1 + 3 * u32::from(m),
        );
        name(member_pid(m), format!("member{m}"), 2 + 3 * u32::from(m));
        name(
            link_pid(m, true),
            format!("link member{m} → client"),
            3 + 3 * u32::from(m),
        );
    }
    for s in &r.spans {
        let pid = track(s.stage, s.member.0, s.toward_client);
        let args = format!(r#"{{"request":{},"member":{}}}"#, s.seq, s.member);
        for (ph, ts) in [("b", s.start_ns), ("e", s.end_ns)] {
            ev.push(format!(
                r#"{{"ph":"{ph}","cat":"request","name":"{}","id":{},"pid":{pid},"tid":1,"ts":{},"args":{args}}}"#,
                s.stage.name(),
                s.seq,
                us(ts)
            ));
        }
    }
    for rd in &r.rounds {
        ev.push(format!(
            r#"{{"ph":"X","cat":"raft","name":"ReadIndex round ({} reads)","pid":{},"tid":2,"ts":{},"dur":{}}}"#,
            rd.reads,
            member_pid(rd.member.0),
            us(rd.start_ns),
            us(rd.end_ns - rd.start_ns)
        ));
        // The round's hops, one slice each, under the round.
        let mut from = rd.start_ns;
        for (hop, &end) in crate::model::RoundHop::ALL.iter().zip(&rd.hop_ends_ns) {
            if end > from {
                ev.push(format!(
                    r#"{{"ph":"X","cat":"raft","name":"{}","pid":{},"tid":5,"ts":{},"dur":{}}}"#,
                    hop.name(),
                    member_pid(rd.member.0),
                    us(from),
                    us(end - from)
                ));
            }
            from = end;
        }
    }
    for a in &r.activities {
        let name = if a.count > 0 {
            format!("{} ({})", a.what, a.count)
        } else {
            a.what.to_string()
        };
        ev.push(format!(
            r#"{{"ph":"X","cat":"member","name":"{name}","pid":{},"tid":{},"ts":{},"dur":{}}}"#,
            member_pid(a.member.0),
            if a.what == "apply" { 3 } else { 4 },
            us(a.start_ns),
            us(a.end_ns - a.start_ns)
        ));
    }
    let mut o = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    for (i, e) in ev.iter().enumerate() {
        let _ = writeln!(o, "{e}{}", if i + 1 < ev.len() { "," } else { "" });
    }
    o.push_str("]}\n");
    o
}
