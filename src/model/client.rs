//! Clients, as etcd's `benchmark` tool and clientv3 drive a cluster.
//!
//! - **Closed loop** (`tools/benchmark/cmd/range.go`): `clients` goroutines share `conns`
//!   connections (client i uses connection i mod conns); one **op-producer goroutine** feeds ops
//!   into a channel with room for `clients` ops; each client takes an op, waits on the shared
//!   rate limiter (`rate.NewLimiter(rate, 1)`), runs its loop, then times the request.
//! - **Endpoints**: the benchmark gives connection j the single endpoint j mod n; an
//!   application's clientv3 pins one endpoint per connection (≤3.3) or round-robins per
//!   request (3.4+).
//! - **Open loop**: Poisson arrivals at a rate, each on the next connection in turn.

use std::collections::VecDeque;

use rand::Rng;
use rand_distr::Exp1;

use super::request::{Phase, Req};
use super::{
    Arrivals, Balancer, CpuJob, EndpointPolicy, EtcdModel, Ev, MemberId, OpKind, PackedEv, Workload,
};

/// Sequence numbers of background puts start here, apart from the main workload's.
pub const BACKGROUND_SEQ: u64 = 1 << 62;
use crate::engine::TimeWeighted;
use crate::engine::rng::SimRng;
use crate::engine::{SimDuration, SimTime, Simulation};

/// Client-side state.
pub struct Clients {
    conn_pin: Vec<MemberId>,
    conn_rr: Vec<u32>,
    next_conn: u32,
    /// Background requests' own connection cursor, so they never shift the main workload's.
    bg_conn: u32,
    limiter_next: SimTime,
    rng: SimRng,
    taken: u64,
    produced: u64,
    buffered: u64,
    producing: bool,
    producer_busy: TimeWeighted,
    waiters: VecDeque<u32>,
    /// Password auth: whether each client holds a token.
    has_token: Vec<bool>,
    /// Certificate auth: the members each connection has done a TLS handshake with (bits).
    handshaken: Vec<u64>,
}

impl Clients {
    /// Connection state for workload `w`; pinned endpoints and round-robin starts are drawn
    /// from `rng`, which the clients then keep.
    pub fn new(w: &Workload, mut rng: SimRng) -> Clients {
        let n = w.endpoints.len().max(1);
        let conn_pin = (0..w.conns)
            .map(|_| w.endpoints[rng.random_range(0..n)])
            .collect();
        // clientv3's round-robin starts each client at a random endpoint (a Go map's order in
        // 3.4's picker, a random index in grpc's round_robin in 3.5).
        let conn_rr = (0..w.conns)
            .map(|_| rng.random_range(0..n as u32))
            .collect();
        Clients {
            conn_pin,
            conn_rr,
            next_conn: 0,
            bg_conn: 0,
            limiter_next: SimTime::ZERO,
            rng,
            taken: 0,
            produced: 0,
            buffered: 0,
            producing: false,
            producer_busy: TimeWeighted::new(SimTime::ZERO),
            waiters: VecDeque::new(),
            has_token: vec![false; w.clients as usize],
            handshaken: vec![0; w.conns as usize],
        }
    }

    /// Whether request `r` is its connection's first to its member (and marks it done).
    pub fn first_contact(&mut self, r: &Req) -> bool {
        let Some(bits) = self.handshaken.get_mut(r.conn as usize) else {
            return false;
        };
        let bit = 1u64 << r.member;
        let first = *bits & bit == 0;
        *bits |= bit;
        first
    }

    /// Client `c` now holds a token.
    pub fn token_received(&mut self, c: u32) {
        if let Some(t) = self.has_token.get_mut(c as usize) {
            *t = true;
        }
    }

    /// Forgets utilization history (end of warm-up).
    pub fn reset_stats(&mut self, now: SimTime) {
        self.producer_busy.reset(now);
    }

    /// Fraction of time the op producer was busy.
    pub fn producer_utilization(&self, now: SimTime) -> f64 {
        self.producer_busy.mean(now)
    }
}

/// Schedules the first events of a run.
pub fn start(sim: &mut Simulation<EtcdModel>) {
    for (rate, ev) in [
        (sim.model.w.write_rate, Ev::WriteArrival),
        (sim.model.w.expensive_rate, Ev::ExpensiveArrival),
    ] {
        if rate > 0.0 {
            let gap: f64 = sim.model.clients.rng.sample(Exp1);
            sim.schedule_at(SimTime::ZERO + SimDuration::from_secs_f64(gap / rate), ev);
        }
    }
    let interval = sim.model.p.write.batch_interval;
    for member in 0..sim.model.p.members() {
        sim.schedule_at(SimTime::ZERO + interval, Ev::BackendTick(member));
    }
    match sim.model.w.arrivals {
        Arrivals::Closed { .. } => {
            for c in 0..sim.model.w.clients {
                sim.schedule_at(SimTime::ZERO, Ev::ClientNext(c));
            }
            if !sim.model.p.client_costs.producer.is_zero() {
                let m = &mut sim.model;
                m.clients.producing = true;
                m.clients.producer_busy.set(SimTime::ZERO, 1.0);
                let d = m.p.client_costs.producer.sample(&mut m.clients.rng);
                sim.schedule_at(SimTime::ZERO + d, Ev::ProducerTick);
            }
        }
        Arrivals::Open { .. } => sim.schedule_at(SimTime::ZERO, Ev::OpenArrival),
        Arrivals::Scripted { ref at_ns, .. } => {
            if let Some(&t) = at_ns.first() {
                sim.schedule_at(SimTime(t), Ev::OpenArrival);
            }
        }
    }
}

impl EtcdModel {
    /// Closed-loop client `c` wants its next op.
    pub(super) fn client_next(&mut self, c: u32, s: &mut crate::engine::Scheduler<PackedEv>) {
        let total = self.w.total;
        let cl = &mut self.clients;
        if cl.taken >= total {
            return; // The producer has closed its channel: this client goroutine exits.
        }
        if self.p.client_costs.producer.is_zero() {
            cl.taken += 1;
            self.pass_limiter(c, s);
        } else if cl.buffered > 0 {
            cl.buffered -= 1;
            cl.taken += 1;
            if !cl.producing && cl.produced < total {
                cl.producing = true;
                cl.producer_busy.set(s.now(), 1.0);
                let d = self.p.client_costs.producer.sample(&mut self.clients.rng);
                s.schedule_in(d, Ev::ProducerTick);
            }
            self.pass_limiter(c, s);
        } else {
            cl.waiters.push_back(c);
        }
    }

    /// The op producer has put one op in the channel.
    pub(super) fn producer_tick(&mut self, s: &mut crate::engine::Scheduler<PackedEv>) {
        let cap = u64::from(self.w.clients);
        let total = self.w.total;
        let cl = &mut self.clients;
        cl.produced += 1;
        let handed = cl.waiters.pop_front();
        if handed.is_some() {
            cl.taken += 1;
        } else {
            cl.buffered += 1;
        }
        if cl.produced < total && cl.buffered < cap {
            let d = self.p.client_costs.producer.sample(&mut self.clients.rng);
            s.schedule_in(d, Ev::ProducerTick);
        } else {
            cl.producing = false;
            cl.producer_busy.set(s.now(), 0.0);
        }
        if let Some(c) = handed {
            self.pass_limiter(c, s);
        }
    }

    fn pass_limiter(&mut self, c: u32, s: &mut crate::engine::Scheduler<PackedEv>) {
        let Arrivals::Closed { rate_limit } = &self.w.arrivals else {
            return;
        };
        let rate_limit = *rate_limit;
        match rate_limit {
            None => self.client_go(c, s),
            Some(rate) => {
                let t = self.clients.limiter_next.max(s.now());
                self.clients.limiter_next = t + SimDuration::from_secs_f64(1.0 / rate);
                s.schedule_at(t, Ev::ClientGo(c));
            }
        }
    }

    /// Closed-loop client `c` issues its op.
    pub(super) fn client_go(&mut self, c: u32, s: &mut crate::engine::Scheduler<PackedEv>) {
        let conn = c % self.w.conns;
        let id = self.new_request(c, conn, s.now());
        let host = self.p.client_host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// The next open-loop arrival.
    pub(super) fn open_arrival(&mut self, s: &mut crate::engine::Scheduler<PackedEv>) {
        if self.issued >= self.w.total {
            return;
        }
        match &self.w.arrivals {
            Arrivals::Open { rate } => {
                let gap: f64 = self.clients.rng.sample(Exp1);
                s.schedule_in(SimDuration::from_secs_f64(gap / rate), Ev::OpenArrival);
            }
            Arrivals::Scripted { at_ns, .. } => {
                if let Some(&t) = at_ns.get(self.issued as usize + 1) {
                    s.schedule_at(SimTime(t), Ev::OpenArrival);
                }
            }
            Arrivals::Closed { .. } => return,
        }
        let conn = self.clients.next_conn;
        self.clients.next_conn = (conn + 1) % self.w.conns;
        let id = self.new_request(conn, conn, s.now());
        self.check_backlog(s);
        // Open-loop requests have no benchmark loop: the latency clock starts on arrival.
        self.begin(id, s.now());
        let host = self.p.client_host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// The next background put or expensive read: it joins the next connection in turn and is
    /// not counted in the workload's total.
    pub(super) fn background_arrival(
        &mut self,
        kind: OpKind,
        s: &mut crate::engine::Scheduler<PackedEv>,
    ) {
        let (rate, ev) = match kind {
            OpKind::Expensive => (self.w.expensive_rate, Ev::ExpensiveArrival),
            _ => (self.w.write_rate, Ev::WriteArrival),
        };
        let gap: f64 = self.clients.rng.sample(Exp1);
        s.schedule_in(SimDuration::from_secs_f64(gap / rate), ev);
        let conn = self.clients.bg_conn;
        self.clients.bg_conn = (conn + 1) % self.w.conns;
        let member = self.pick_member(conn);
        let now = s.now();
        let measured = self.m.measure_start.is_some();
        let seq = BACKGROUND_SEQ + self.bg_issued;
        self.bg_issued += 1;
        let mut r = Req::new(seq, kind, u32::MAX, member, measured);
        r.background = true;
        r.conn = conn;
        self.check_backlog(s);
        let id = self.alloc(r);
        self.begin(id, now);
        let host = self.p.client_host;
        self.cpu(host, CpuJob::Req(id), s);
    }

    /// A request of client `c` has finished.
    pub(super) fn client_finished(&mut self, c: u32, s: &mut crate::engine::Scheduler<PackedEv>) {
        if matches!(self.w.arrivals, Arrivals::Closed { .. }) {
            self.client_next(c, s);
        }
    }

    fn pick_member(&mut self, conn: u32) -> MemberId {
        let eps = &self.w.endpoints;
        match self.w.policy {
            EndpointPolicy::PerConnection => eps[conn as usize % eps.len()],
            EndpointPolicy::Client(Balancer::Pinned) => self.clients.conn_pin[conn as usize],
            EndpointPolicy::Client(Balancer::RoundRobin) => {
                let k = &mut self.clients.conn_rr[conn as usize];
                let m = eps[*k as usize % eps.len()];
                *k = k.wrapping_add(1);
                m
            }
        }
    }

    fn new_request(&mut self, client: u32, conn: u32, now: SimTime) -> u32 {
        let member = self.pick_member(conn);
        let measured =
            self.issued >= self.w.warmup_requests && now >= SimTime::ZERO + self.w.warmup_time;
        if measured && self.m.measure_start.is_none() {
            self.start_measuring(now);
        }
        self.issued += 1;
        let kind = self.next_kind();
        let mut r = Req::new(self.issued - 1, kind, client, member, measured);
        r.conn = conn;
        let ser = self.w.serializable_ratio;
        r.serializable =
            kind == OpKind::Read && ser > 0.0 && (ser >= 1.0 || self.clients.rng.random_bool(ser));
        r.auth_pending = self.needs_authenticate(client);
        self.alloc(r)
    }

    /// Password auth: a client without a token authenticates; one with a token reuses it with
    /// probability `token_reuse`.
    fn needs_authenticate(&mut self, client: u32) -> bool {
        if self.w.auth != super::AuthMode::Password {
            return false;
        }
        let has = self
            .clients
            .has_token
            .get(client as usize)
            .copied()
            .unwrap_or(false);
        let reuse = self.w.token_reuse;
        !has || (reuse < 1.0 && !self.clients.rng.random_bool(reuse.max(0.0)))
    }

    /// Whether the next op of the main workload is a read or a put.
    fn next_kind(&mut self) -> OpKind {
        if let Arrivals::Scripted { puts, .. } = &self.w.arrivals {
            let i = self.issued as usize - 1;
            return if puts.get(i).copied().unwrap_or(false) {
                OpKind::Write
            } else {
                OpKind::Read
            };
        }
        let ratio = self.w.read_ratio;
        if ratio >= 1.0 {
            OpKind::Read
        } else if ratio <= 0.0 {
            OpKind::Write
        } else if self.clients.rng.random_bool(ratio) {
            OpKind::Read
        } else {
            OpKind::Write
        }
    }

    fn alloc(&mut self, r: Req) -> u32 {
        super::slab_insert(&mut self.reqs, &mut self.free, r)
    }

    /// Starts the latency clock of request `id` and moves it to sending.
    pub(super) fn begin(&mut self, id: u32, now: SimTime) {
        self.reqs[id as usize].begin(now);
        debug_assert_eq!(self.reqs[id as usize].phase, Phase::ClientSend);
    }
}
