//! Clients, as etcd's `benchmark` tool and clientv3 drive a cluster.
//!
//! - **Closed loop** (`tools/benchmark/cmd/range.go`): `clients` goroutines share `conns`
//!   connections (client i uses connection i mod conns); one **op-producer goroutine** sends ops
//!   into a channel with room for `clients` ops and blocks when it is full; a client that takes
//!   an op from a full channel readies the producer (a hand-off into its P's `runnext`), and a
//!   client that finds it empty waits until the producer's send readies it. Each client waits
//!   on the shared rate limiter (`rate.NewLimiter(rate, 1)`), runs its loop, then times the
//!   request. The producer is a goroutine of the client process with a CPU cost per op (a
//!   channel send and building the op), so it takes its share of the client's Ps.
//! - **Endpoints**: the benchmark gives connection j the single endpoint j mod n; an
//!   application's clientv3 pins one endpoint per connection (≤3.3) or round-robins per
//!   request (3.4+).
//! - **Open loop**: Poisson arrivals at a rate, each on the next connection in turn.

use std::collections::VecDeque;

use rand::Rng;
use rand_distr::Exp1;

use super::EtcdModel;
use super::event::{CpuJob, Ev, Life, PackedEv};
use super::ids::{ClientId, ConnId, Id, IdVec, MemberId, ReqId};
use super::params::{Arrivals, AuthMode, Balancer, EndpointPolicy, Workload};
use super::request::Req;
use super::result::OpKind;
use super::timeline::Stream;
use crate::engine::rng::SimRng;
use crate::engine::{Scheduler, SimDuration, SimTime, Simulation};

/// Sequence numbers of background puts start here, apart from the main workload's.
pub const BACKGROUND_SEQ: u64 = 1 << 62;

/// Client-side state.
pub struct Clients {
    conn_pin: IdVec<ConnId, MemberId>,
    conn_rr: IdVec<ConnId, u32>,
    next_conn: u32,
    /// Background requests' own connection cursor, so they never shift the main workload's.
    bg_conn: u32,
    limiter_next: SimTime,
    rng: SimRng,
    /// Ops taken from the channel by clients.
    taken: u64,
    /// Ops the producer has sent.
    produced: u64,
    /// Ops in the channel.
    buffered: u64,
    /// The producer is runnable or running (not blocked on a full channel).
    producer_awake: bool,
    /// Ops the producer's current burst sends.
    producing: u64,
    /// The producer's CPU time since the last reset.
    producer_busy: SimDuration,
    /// Clients blocked on an empty channel, in arrival order.
    waiters: VecDeque<ClientId>,
    /// Password auth: whether each client holds a token.
    has_token: IdVec<ClientId, bool>,
    /// Certificate auth: the members each connection has done a TLS handshake with (bits).
    handshaken: IdVec<ConnId, u64>,
    /// Requests of the workload issued and finished.
    pub issued: u64,
    /// See `issued`.
    pub done: u64,
    /// Background requests issued and finished (their sequence numbers count from
    /// `BACKGROUND_SEQ`).
    pub bg_issued: u64,
    /// See `bg_issued`.
    pub bg_done: u64,
}

impl Clients {
    /// The member pinned connection `conn` dials (`Balancer::Pinned`).
    pub fn conn_pin(&self, conn: ConnId) -> MemberId {
        self.conn_pin[conn]
    }

    /// Connection state for workload `w`; pinned endpoints and round-robin starts are drawn
    /// from `rng`, which the clients then keep.
    pub fn new(w: &Workload, mut rng: SimRng) -> Clients {
        let n = w.endpoints.len().max(1);
        // The probe's connection (after the workload's) dials its member whatever the
        // policy: its entries are never read, and draw nothing, so a probe leaves the
        // workload's draws as they were.
        let probe = usize::from(w.probe.is_some());
        let conn_pin = (0..w.conns)
            .map(|_| w.endpoints[rng.random_range(0..n)])
            .chain(std::iter::repeat_n(w.endpoints[0], probe))
            .collect();
        // clientv3's round-robin starts each client at a random endpoint (a Go map's order in
        // 3.4's picker, a random index in grpc's round_robin in 3.5).
        let conn_rr = (0..w.conns)
            .map(|_| rng.random_range(0..n as u32))
            .chain(std::iter::repeat_n(0, probe))
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
            producer_awake: false,
            producing: 0,
            producer_busy: SimDuration::ZERO,
            waiters: VecDeque::new(),
            has_token: (0..w.clients).map(|_| false).collect(),
            handshaken: (0..w.all_conns()).map(|_| 0).collect(),
            issued: 0,
            done: 0,
            bg_issued: 0,
            bg_done: 0,
        }
    }

    /// Whether this is connection `conn`'s first request to `member` (and marks it done).
    pub fn first_contact(&mut self, conn: ConnId, member: MemberId) -> bool {
        if conn.index() >= self.handshaken.len() {
            return false;
        }
        let bits = &mut self.handshaken[conn];
        let first = *bits & member.bit() == 0;
        *bits |= member.bit();
        first
    }

    /// Client `c` now holds a token.
    pub fn token_received(&mut self, c: ClientId) {
        if c.index() < self.has_token.len() {
            self.has_token[c] = true;
        }
    }

    /// Requests in flight: issued and not finished, background ones included.
    pub fn in_flight(&self) -> u64 {
        (self.issued - self.done) + (self.bg_issued - self.bg_done)
    }

    /// Forgets utilization history (end of warm-up).
    pub fn reset_stats(&mut self) {
        self.producer_busy = SimDuration::ZERO;
    }

    /// Fraction of the time since `since` the op producer was on a core.
    pub fn producer_utilization(&self, since: SimTime, now: SimTime) -> f64 {
        let window = now.since(since).as_secs_f64();
        if window > 0.0 {
            self.producer_busy.as_secs_f64() / window
        } else {
            0.0
        }
    }
}

/// Schedules the first events of a run.
pub fn start(sim: &mut Simulation<EtcdModel>) {
    for stream in [Stream::Writes, Stream::Expensive] {
        let rate = sim.model.rates.rate(stream);
        if rate > 0.0 {
            let gap: f64 = sim.model.clients.rng.sample(Exp1);
            sim.schedule_at(
                SimTime::ZERO + SimDuration::from_secs_f64(gap / rate),
                arrival(stream, 0),
            );
        }
    }
    let steps: Vec<SimDuration> = sim.model.w.timeline.iter().map(|step| step.at).collect();
    for (i, at) in steps.into_iter().enumerate() {
        sim.schedule_at(SimTime::ZERO + at, Ev::Timeline(i as u32));
    }
    if sim.model.elections {
        for (m, phase) in sim.model.raft_clock_phases() {
            sim.schedule_at(SimTime::ZERO + phase, Ev::RaftTick(m, Life(0)));
        }
    }
    let interval = sim.model.p.write.batch_interval;
    for member in sim.model.p.member_ids() {
        sim.schedule_at(SimTime::ZERO + interval, Ev::BackendTick(member, Life(0)));
    }
    match sim.model.w.arrivals {
        Arrivals::Closed { .. } => {
            // main starts the client goroutines, then the producer.
            for c in 0..sim.model.w.clients {
                sim.schedule_at(SimTime::ZERO, Ev::ClientNext(ClientId(c)));
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
    /// Closed-loop client `c` wants its next op: it takes one from the channel (readying the
    /// producer if the channel was full), or waits for one.
    pub(super) fn client_next(&mut self, c: ClientId, s: &mut Scheduler<PackedEv>) {
        let total = self.w.total;
        let cl = &mut self.clients;
        if cl.taken >= total {
            return; // The producer has closed its channel: this client goroutine exits.
        }
        if cl.buffered > 0 {
            cl.buffered -= 1;
            cl.taken += 1;
            self.wake_producer(s);
            self.pass_limiter(c, s);
        } else {
            cl.waiters.push_back(c);
            self.wake_producer(s);
        }
    }

    /// The producer goroutine is readied if it is blocked and has ops left to send.
    fn wake_producer(&mut self, s: &mut Scheduler<PackedEv>) {
        let cl = &mut self.clients;
        if !cl.producer_awake && cl.produced < self.w.total {
            cl.producer_awake = true;
            self.go(self.client_proc(), CpuJob::Producer, s);
        }
    }

    /// The producer starts a burst: it sends ops until the channel is full (waiting clients
    /// take theirs at once) or it has sent them all; each op costs `producer` of CPU.
    pub(super) fn producer_cost(&mut self) -> SimDuration {
        let cl = &mut self.clients;
        let room = u64::from(self.w.clients) + cl.waiters.len() as u64 - cl.buffered;
        let n = room.min(self.w.total - cl.produced).max(1);
        cl.producing = n;
        let d = SimDuration(
            self.p
                .client_costs
                .producer
                .sample(&mut cl.rng)
                .0
                .saturating_mul(n),
        );
        cl.producer_busy += d;
        d
    }

    /// The producer's burst ends: its ops reach the waiting clients first (each send readies
    /// one), the rest wait in the channel; it blocks on the full channel, or exits.
    pub(super) fn producer_done(&mut self, s: &mut Scheduler<PackedEv>) {
        let cl = &mut self.clients;
        let n = std::mem::take(&mut cl.producing);
        cl.produced += n;
        let mut ready = Vec::new();
        for _ in 0..n {
            match cl.waiters.pop_front() {
                Some(c) => {
                    cl.taken += 1;
                    ready.push(c);
                }
                None => cl.buffered += 1,
            }
        }
        let full = cl.buffered >= u64::from(self.w.clients);
        if full || cl.produced >= self.w.total {
            cl.producer_awake = false;
        } else {
            // Room is left (clients took ops while it ran): it goes on.
            self.go(self.client_proc(), CpuJob::Producer, s);
        }
        for c in ready {
            self.pass_limiter(c, s);
        }
    }

    fn pass_limiter(&mut self, c: ClientId, s: &mut Scheduler<PackedEv>) {
        let Arrivals::Closed { rate_limit } = &self.w.arrivals else {
            return;
        };
        match *rate_limit {
            None => self.client_go(c, s),
            Some(rate) => {
                let t = self.clients.limiter_next.max(s.now());
                self.clients.limiter_next = t + SimDuration::from_secs_f64(1.0 / rate);
                s.schedule_at(t, Ev::ClientGo(c));
            }
        }
    }

    /// Closed-loop client `c` issues its op.
    pub(super) fn client_go(&mut self, c: ClientId, s: &mut Scheduler<PackedEv>) {
        let conn = ConnId(c.0 % self.w.conns);
        let id = self.new_request(c, conn, s.now());
        self.go(self.client_proc(), CpuJob::Req(id), s);
    }

    /// The next open-loop arrival.
    pub(super) fn open_arrival(&mut self, s: &mut Scheduler<PackedEv>) {
        if self.clients.issued >= self.w.total {
            return;
        }
        match &self.w.arrivals {
            Arrivals::Open { rate } => {
                let gap: f64 = self.clients.rng.sample(Exp1);
                s.schedule_in(SimDuration::from_secs_f64(gap / rate), Ev::OpenArrival);
            }
            Arrivals::Scripted { at_ns, .. } => {
                if let Some(&t) = at_ns.get(self.clients.issued as usize + 1) {
                    s.schedule_at(SimTime(t), Ev::OpenArrival);
                }
            }
            Arrivals::Closed { .. } => return,
        }
        let conn = self.clients.next_conn;
        self.clients.next_conn = (conn + 1) % self.w.conns;
        // An open-loop request belongs to its connection's client (whose token it uses).
        let id = self.new_request(ClientId(conn), ConnId(conn), s.now());
        self.check_backlog(s);
        // Open-loop requests have no benchmark loop: the latency clock starts on arrival.
        self.begin(id, s.now(), s);
        self.go(self.client_proc(), CpuJob::Req(id), s);
    }

    /// A timeline step: `stream`'s rate changes now. The arrival already scheduled
    /// at the old rate goes stale (Poisson arrivals are memoryless, so the next gap is drawn
    /// from now at the new rate).
    pub(super) fn rate_step(&mut self, stream: Stream, rate: f64, s: &mut Scheduler<PackedEv>) {
        let epoch = self.rates.set(stream, rate);
        if rate > 0.0 {
            let gap: f64 = self.clients.rng.sample(Exp1);
            s.schedule_in(
                SimDuration::from_secs_f64(gap / rate),
                arrival(stream, epoch),
            );
        }
    }

    /// The next background put or expensive read of `epoch`: it joins the next connection in
    /// turn and is not counted in the workload's total. An arrival from an earlier epoch was
    /// scheduled at a rate the timeline has since changed, and is dropped.
    pub(super) fn background_arrival(
        &mut self,
        stream: Stream,
        epoch: u32,
        s: &mut Scheduler<PackedEv>,
    ) {
        if epoch != self.rates.epoch(stream) {
            return;
        }
        let rate = self.rates.rate(stream);
        debug_assert!(rate > 0.0, "a stream at rate 0 has no arrival in its epoch");
        let kind = match stream {
            Stream::Writes => OpKind::Write,
            Stream::Expensive => OpKind::Expensive,
        };
        let gap: f64 = self.clients.rng.sample(Exp1);
        s.schedule_in(
            SimDuration::from_secs_f64(gap / rate),
            arrival(stream, epoch),
        );
        let conn = ConnId(self.clients.bg_conn);
        self.clients.bg_conn = (conn.0 + 1) % self.w.conns;
        let member = self.pick_member(conn);
        let now = s.now();
        let measured = self.m.measure_start.is_some();
        let seq = BACKGROUND_SEQ + self.clients.bg_issued;
        self.clients.bg_issued += 1;
        let mut r = Req::new(seq, kind, None, conn, member, measured);
        r.background = true;
        self.check_backlog(s);
        let id = self.reqs.insert(r);
        self.begin(id, now, s);
        self.go(self.client_proc(), CpuJob::Req(id), s);
    }

    /// A request of `client` (none: background) has finished.
    pub(super) fn request_finished(
        &mut self,
        client: Option<ClientId>,
        background: bool,
        s: &mut Scheduler<PackedEv>,
    ) {
        if background {
            self.clients.bg_done += 1;
            return;
        }
        self.clients.done += 1;
        if self.clients.done >= self.w.total {
            s.stop();
            return;
        }
        if let (Arrivals::Closed { .. }, Some(c)) = (&self.w.arrivals, client) {
            self.client_next(c, s);
        }
    }

    pub(super) fn pick_member(&mut self, conn: ConnId) -> MemberId {
        if let Some(member) = self.probe_member(conn) {
            return member; // The probe's connection dials its one endpoint.
        }
        let eps = &self.w.endpoints;
        match self.w.policy {
            EndpointPolicy::PerConnection => eps[conn.index() % eps.len()],
            EndpointPolicy::Client(Balancer::Pinned) => self.clients.conn_pin[conn],
            EndpointPolicy::Client(Balancer::RoundRobin) => {
                let k = &mut self.clients.conn_rr[conn];
                let m = eps[*k as usize % eps.len()];
                *k = k.wrapping_add(1);
                m
            }
        }
    }

    /// A request of the workload from `client` on `conn`.
    fn new_request(&mut self, client: ClientId, conn: ConnId, now: SimTime) -> ReqId {
        let member = self.pick_member(conn);
        let measured = self.clients.issued >= self.w.warmup_requests
            && now >= SimTime::ZERO + self.w.warmup_time;
        if measured && self.m.measure_start.is_none() {
            self.start_measuring(now);
        }
        self.clients.issued += 1;
        let kind = self.next_kind();
        let mut r = Req::new(
            self.clients.issued - 1,
            kind,
            Some(client),
            conn,
            member,
            measured,
        );
        let ser = self.w.serializable_ratio;
        r.serializable =
            kind == OpKind::Read && ser > 0.0 && (ser >= 1.0 || self.clients.rng.random_bool(ser));
        r.auth_pending = self.needs_authenticate(client);
        self.reqs.insert(r)
    }

    /// Password auth: a client without a token authenticates; one with a token reuses it with
    /// probability `token_reuse`.
    fn needs_authenticate(&mut self, client: ClientId) -> bool {
        if self.w.auth != AuthMode::Password {
            return false;
        }
        let has = client.index() < self.clients.has_token.len() && self.clients.has_token[client];
        let reuse = self.w.token_reuse;
        !has || (reuse < 1.0 && !self.clients.rng.random_bool(reuse.max(0.0)))
    }

    /// Whether the next op of the main workload is a read or a put.
    fn next_kind(&mut self) -> OpKind {
        if let Arrivals::Scripted { puts, .. } = &self.w.arrivals {
            let i = self.clients.issued as usize - 1;
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
}

/// The arrival event of `stream` in `epoch`.
fn arrival(stream: Stream, epoch: u32) -> Ev {
    match stream {
        Stream::Writes => Ev::WriteArrival(epoch),
        Stream::Expensive => Ev::ExpensiveArrival(epoch),
    }
}
