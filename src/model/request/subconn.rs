//! clientv3's subconnections (gRPC-go 1.33's `addrConn`): one per client connection and member
//! it dials, and how one whose member went away connects again.
//!
//! - **Lost.** A killed member's connections are reset at once (loopback answers with RST).
//!   The subconnection tries again at once, which fails while nothing listens, and then waits
//!   gRPC's connection backoff before each next try (`addrConn.resetTransport`; `backoff.go`'s
//!   `DefaultConfig`): 1 s after the first failure, then 1.6 times longer after each one, up to
//!   120 s, every wait but the first randomized by ±20% (`internal/backoff.Exponential`).
//! - **Back.** A try succeeds once the member's process listens again. The transport is ready
//!   when the member serves its gRPC API, which etcd starts only after the member has
//!   published itself through raft (`EtcdServer.publish`, then `ReadyNotify`: see
//!   `restart.rs`); a successful try waits for that. Ready again, its backoff starts over.
//! - **Picked.** The balancer picks among ready subconnections only; a call whose every
//!   subconnection is down waits for one (clientv3's calls do not fail fast) or for its
//!   deadline (`retry.rs`).
//!
//! So a client pinned to a killed member gets it back only at its next try after the restart:
//! with a kill at `t` and a restart 3 s later, a try at `t + 1`, then near `t + 2.6`, then near
//! `t + 5.2`.

use super::super::EtcdModel;
use super::super::event::{CpuJob, Ev, PackedEv};
use super::super::ids::{ConnId, Id, MemberId};
use super::super::params::{Balancer, EndpointPolicy};
use super::Phase;
use crate::engine::{Scheduler, SimDuration};
use rand::Rng;

/// `DefaultConfig.BaseDelay`: the wait after the first failed try.
const BASE_DELAY: SimDuration = SimDuration(1_000_000_000);
/// `DefaultConfig.Multiplier`.
const MULTIPLIER: f64 = 1.6;
/// `DefaultConfig.Jitter`.
const JITTER: f64 = 0.2;
/// `DefaultConfig.MaxDelay`.
const MAX_DELAY: SimDuration = SimDuration(120_000_000_000);

/// One subconnection's state.
#[derive(Debug, Clone, Copy, Default)]
struct SubConn {
    /// Its transport is gone: it is not picked.
    down: bool,
    /// Failed tries since it was lost (gRPC's `backoffIdx`).
    failures: u32,
    /// A try reached the member's listener; the transport waits for the member to serve.
    connecting: bool,
}

/// Every client connection's subconnection to every member.
pub struct SubConns {
    members: usize,
    state: Vec<SubConn>,
}

impl SubConns {
    /// `conns` connections' subconnections to `members` members, all ready.
    pub fn new(conns: u32, members: usize) -> SubConns {
        SubConns {
            members,
            state: vec![SubConn::default(); conns as usize * members],
        }
    }

    fn at(&mut self, conn: ConnId, m: MemberId) -> &mut SubConn {
        &mut self.state[conn.index() * self.members + m.index()]
    }

    /// Whether `conn`'s subconnection to `m` is ready.
    pub fn ready(&self, conn: ConnId, m: MemberId) -> bool {
        !self.state[conn.index() * self.members + m.index()].down
    }
}

/// gRPC's wait before the next try after `failures` failed ones (`Exponential.Backoff`): the
/// first wait is the base delay exactly, later ones grow and are randomized.
fn backoff(failures: u32, rng: &mut impl Rng) -> SimDuration {
    if failures == 0 {
        return BASE_DELAY;
    }
    let (mut d, max) = (BASE_DELAY.0 as f64, MAX_DELAY.0 as f64);
    let mut left = failures;
    while d < max && left > 0 {
        d *= MULTIPLIER;
        left -= 1;
    }
    let d = d.min(max) * (1.0 + JITTER * (rng.random::<f64>() * 2.0 - 1.0));
    SimDuration::from_nanos_f64(d.max(0.0))
}

impl EtcdModel {
    /// Whether connection `conn` dials member `m` (has a subconnection to it).
    fn dials(&self, conn: ConnId, m: MemberId) -> bool {
        if let Some(member) = self.probe_member(conn) {
            return member == m;
        }
        let eps = &self.w.endpoints;
        match self.w.policy {
            EndpointPolicy::PerConnection => eps[conn.index() % eps.len()] == m,
            EndpointPolicy::Client(Balancer::Pinned) => self.clients.conn_pin(conn) == m,
            EndpointPolicy::Client(Balancer::RoundRobin) => eps.contains(&m),
        }
    }

    /// Member `m` was killed: every subconnection to it is lost; each tried again at once
    /// (and failed: nothing listens) and waits for its next try. One still down from an
    /// earlier kill keeps waiting for the try it has scheduled (each has at most one); one
    /// whose try was waiting for the member to serve fails that try and backs off.
    pub(in super::super) fn subconns_lost(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        for c in 0..self.w.all_conns() {
            let conn = ConnId(c);
            if !self.dials(conn, m) {
                continue;
            }
            let sc = *self.subconns.at(conn, m);
            if sc.down && !sc.connecting {
                continue;
            }
            let failures = if sc.down { sc.failures } else { 0 };
            *self.subconns.at(conn, m) = SubConn {
                down: true,
                failures,
                connecting: false,
            };
            let wait = backoff(failures, &mut self.rng_reconnect);
            s.schedule_in(wait, Ev::Reconnect(conn, m));
        }
    }

    /// `conn`'s subconnection to `m` tries again.
    pub(in super::super) fn reconnect_attempt(
        &mut self,
        conn: ConnId,
        m: MemberId,
        s: &mut Scheduler<PackedEv>,
    ) {
        let sc = *self.subconns.at(conn, m);
        debug_assert!(sc.down && !sc.connecting, "only a lost subconnection tries");
        let mem = &self.members[m];
        if mem.serving {
            self.subconn_ready(conn, m, s);
        } else if mem.listening {
            self.subconns.at(conn, m).connecting = true;
        } else {
            let failures = sc.failures + 1;
            self.subconns.at(conn, m).failures = failures;
            let wait = backoff(failures, &mut self.rng_reconnect);
            s.schedule_in(wait, Ev::Reconnect(conn, m));
        }
    }

    /// Member `m` serves clients again: the subconnections whose try reached it are ready.
    pub(in super::super) fn subconns_served(&mut self, m: MemberId, s: &mut Scheduler<PackedEv>) {
        for c in 0..self.w.all_conns() {
            let conn = ConnId(c);
            if self.subconns.at(conn, m).connecting {
                self.subconn_ready(conn, m, s);
            }
        }
    }

    /// `conn`'s subconnection to `m` is ready: the calls on `conn` that wait for a connection
    /// go on (to `m`, or for a round-robin client to the balancer's pick among the ready).
    fn subconn_ready(&mut self, conn: ConnId, m: MemberId, s: &mut Scheduler<PackedEv>) {
        *self.subconns.at(conn, m) = SubConn::default();
        let waiting: Vec<_> = self
            .reqs
            .live_ids()
            .filter(|&id| {
                let r = &self.reqs[id];
                r.conn == conn && r.phase == Phase::WaitReady && !r.abandoned
            })
            .collect();
        for id in waiting {
            // Sent again from where it waited: the balancer's pick, then the send.
            let member = self.pick_live_member(conn);
            let r = &mut self.reqs[id];
            r.member = member;
            r.phase = Phase::ClientSend;
            self.go(self.client_proc(), CpuJob::Req(id), s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng;

    #[test]
    fn the_backoff_is_grpcs_default_one() {
        let mut r = rng::stream(1, 0);
        assert_eq!(
            backoff(0, &mut r),
            BASE_DELAY,
            "the first wait is not randomized"
        );
        for (failures, mean) in [(1, 1.6), (2, 2.56), (3, 4.096), (20, 120.0)] {
            for _ in 0..200 {
                let d = backoff(failures, &mut r).as_secs_f64();
                assert!(
                    d >= mean * 0.8 - 1e-9 && d <= mean * 1.2 + 1e-9,
                    "after {failures} failures {d} s is outside {mean} s ± 20%"
                );
            }
        }
    }
}
