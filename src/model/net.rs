//! The network: each host has one outbound interface that serializes messages at its
//! bandwidth (a single-server FIFO, an engine [`crate::engine::Pipe`]: a message's
//! serialization time is known when it is sent, so its departure follows from the messages
//! ahead of it and needs no event), then the message propagates for a one-way latency drawn
//! from the link's distribution, never overtaking an earlier message on the same link.
//! Messages between processes on the same host skip both. Receiving interfaces are not
//! modelled: many senders into one host are limited only by their own links.

use super::EtcdModel;
use super::event::{End, Ev, PackedEv};
use super::ids::{HostId, Id, IdVec, MemberId, MsgId, ReqId, Slab};
use super::stage::Stage;
use crate::engine::rng::SimRng;
use crate::engine::{Pipe, Scheduler, SimDuration, SimTime};

/// A process a message is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// An etcd member.
    Member(MemberId),
    /// The client (benchmark) process.
    Client,
    /// The gRPC proxy in front of the cluster.
    Proxy,
}

/// What a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgKind {
    /// A client request.
    Request(ReqId),
    /// A response to a request.
    Response(ReqId),
    /// `MsgReadIndex` from a follower to the leader, for the follower's round `ctx`.
    ReadIndex { origin: MemberId, ctx: u32 },
    /// The leader's heartbeat carrying the ReadIndex context `(origin, ctx)` and the commit
    /// index.
    Heartbeat {
        origin: MemberId,
        ctx: u32,
        commit: u64,
    },
    /// A heartbeat response from `from`, echoing the context.
    HeartbeatResp {
        from: MemberId,
        origin: MemberId,
        ctx: u32,
    },
    /// `MsgReadIndexResp`: the read index for round `ctx`.
    ReadIndexResp { ctx: u32, index: u64 },
    /// `MsgProp`: a follower forwards request `req`'s proposal to the leader.
    Prop { origin: MemberId, req: ReqId },
    /// `MsgApp`: entries `lo..=hi` (none when `lo > hi`) and the leader's commit index.
    App { lo: u64, hi: u64, commit: u64 },
    /// `MsgAppResp`: `from` holds the log up to `index` (or, to a leader of an older term,
    /// only the sender's term: that leader steps down). `reject`: the append whose previous
    /// index it names did not follow on from its log, and `index` is raft's `RejectHint` (its
    /// last index).
    AppResp {
        from: MemberId,
        index: u64,
        reject: Option<u64>,
    },
    /// `MsgVote`: a candidate asks for a vote, with its log's last index and that entry's term.
    Vote { last_index: u64, last_term: u32 },
    /// `MsgVoteResp`: the vote granted or not.
    VoteResp { granted: bool },
}

/// The context of a heartbeat that carries no ReadIndex request (the leader's tick).
pub const NO_CTX: u32 = u32::MAX;

/// A message in flight.
#[derive(Debug, Clone, Copy)]
pub struct Msg {
    /// Sending host.
    pub from_host: HostId,
    /// Sending process.
    pub from: Node,
    /// Destination process.
    pub to: Node,
    /// Payload.
    pub kind: MsgKind,
    /// Size on the wire.
    pub bytes: u32,
    /// A raft message's term: the sender's when it was made (0 for client messages).
    pub term: u32,
}

impl Msg {
    /// The request a client message belongs to.
    fn request_id(&self) -> Option<ReqId> {
        match self.kind {
            MsgKind::Request(id) | MsgKind::Response(id) => Some(id),
            _ => None,
        }
    }
}

/// How long a link keeps one draw of its delay distribution.
const LINK_EPOCH: SimDuration = SimDuration::from_millis(1);

/// The interfaces, the links, and the messages in flight.
pub struct Network {
    nics: IdVec<HostId, Pipe>,
    /// Arrival time of the last message on each link `[from * hosts + to]`.
    link_last: Vec<SimTime>,
    /// Each link's current one-way delay, and until when it holds: see `LINK_EPOCH`.
    link_delay: Vec<(SimDuration, SimTime)>,
    /// Messages in flight: events carry their ids, so they stay small.
    msgs: Slab<MsgId, Msg>,
    rng: SimRng,
    /// With latency steps: the last arrival from each member to each peer (empty otherwise).
    pub peer_order: Vec<SimTime>,
}

impl Network {
    /// Idle interfaces on `hosts` hosts; link delays drawn from `rng`.
    pub fn new(hosts: usize, rng: SimRng) -> Network {
        Network {
            nics: (0..hosts).map(|_| Pipe::new(SimTime::ZERO)).collect(),
            link_last: vec![SimTime::ZERO; hosts * hosts],
            link_delay: vec![(SimDuration::ZERO, SimTime::ZERO); hosts * hosts],
            msgs: Slab::default(),
            rng,
            peer_order: Vec::new(),
        }
    }

    /// Message `id`, still in flight.
    pub fn peek(&self, id: MsgId) -> &Msg {
        &self.msgs[id]
    }

    /// Takes message `id` out of flight.
    pub fn take(&mut self, id: MsgId) -> Msg {
        self.msgs.free(id);
        self.msgs[id]
    }

    /// Fraction of time host `h`'s interface was sending since the last reset.
    pub fn utilization(&self, h: HostId, now: SimTime) -> f64 {
        self.nics[h].utilization(now)
    }

    /// Forgets utilization history.
    pub fn reset_stats(&mut self, now: SimTime) {
        for n in self.nics.iter_mut() {
            n.reset_stats(now);
        }
    }
}

impl EtcdModel {
    /// The host a process runs on.
    pub(super) fn host_of(&self, n: Node) -> HostId {
        match n {
            Node::Member(m) => self.members[m].host,
            Node::Client => self.p.client_host,
            Node::Proxy => self.p.proxy.as_ref().map_or(self.p.client_host, |x| x.host),
        }
    }

    /// The extra one-way delay a timeline's latency step puts on a raft message from `from` to
    /// `to` sent at `now` (zero for client messages).
    fn peer_extra(&self, from: Node, to: Node, now: SimTime) -> SimDuration {
        let (Node::Member(a), Node::Member(b)) = (from, to) else {
            return SimDuration::ZERO;
        };
        [a, b]
            .iter()
            .map(|&m| self.members[m].slow_links)
            .filter(|&(_, until)| now < until)
            .map(|(d, _)| d)
            .max()
            .unwrap_or(SimDuration::ZERO)
    }

    /// Sends `msg`: queue on the sender's interface, serialize, propagate.
    pub(super) fn send(&mut self, msg: Msg, s: &mut Scheduler<PackedEv>) {
        let from = msg.from_host;
        let to = self.host_of(msg.to);
        let extra = if self.net.peer_order.is_empty() {
            SimDuration::ZERO
        } else {
            self.peer_extra(msg.from, msg.to, s.now())
        };
        if from == to {
            self.loopback_write(msg.to);
        }
        let id = self.net.msgs.insert(msg);
        if from == to {
            let at = self.in_peer_order(msg.from, msg.to, s.now() + extra);
            s.schedule_at(at, Ev::Deliver(id));
            return;
        }
        let now = s.now();
        let bw = self.p.hosts[from.index()].nic_bytes_per_s;
        let service = SimDuration::from_secs_f64(f64::from(msg.bytes) / bw);
        let (start, done) = self.net.nics[from].enqueue(now, service);
        if let Some(req) = msg.request_id() {
            let st = match msg.kind {
                MsgKind::Request(_) => Stage::NetRequest,
                _ => Stage::NetResponse,
            };
            self.enter(req, Stage::NicQueue, now);
            self.enter(req, st, start);
        }
        let net = &mut self.net;
        let link = from.index() * net.nics.len() + to.index();
        // A link's delay varies over time, not from packet to packet: messages close together
        // share it. Drawing it afresh for each message would make a busy link's messages queue
        // behind the slow draws of earlier ones (no overtaking), inflating its mean delay with
        // load. Messages leave a host in the order they are sent, so each link sees its
        // departure times in order.
        let (d, until) = &mut net.link_delay[link];
        if done >= *until {
            *d = self.p.latency[from.index()][to.index()].sample(&mut net.rng);
            *until = done + LINK_EPOCH;
        }
        let d = *d;
        // A link is a TCP stream: a message never overtakes an earlier one on the same link.
        let last = &mut net.link_last[link];
        let at = (done + d + extra).max(*last);
        *last = at;
        let at = self.in_peer_order(msg.from, msg.to, at);
        s.schedule_at(at, Ev::Deliver(id));
    }

    /// With latency steps in the timeline, a raft message arriving at `at` arrives no earlier
    /// than the one before it from the same member to the same peer (rafthttp's stream is one
    /// TCP connection), so a delay that ends does not let later messages overtake.
    fn in_peer_order(&mut self, from: Node, to: Node, at: SimTime) -> SimTime {
        let (Node::Member(a), Node::Member(b)) = (from, to) else {
            return at;
        };
        if self.net.peer_order.is_empty() {
            return at;
        }
        let n = usize::from(self.p.members());
        let last = &mut self.net.peer_order[a.index() * n + b.index()];
        let at = at.max(*last);
        *last = at;
        at
    }

    /// Message `id` reaches its destination process.
    pub(super) fn deliver(&mut self, id: MsgId, s: &mut Scheduler<PackedEv>) {
        let msg = self.net.msgs[id];
        match (msg.to, msg.kind) {
            // Through the proxy, requests and responses skip gRPC's transport goroutines.
            (Node::Member(_), MsgKind::Request(req)) if msg.from == Node::Proxy => {
                self.net.take(id);
                self.request_at_member(req, s);
            }
            (Node::Client, MsgKind::Response(req)) if msg.from == Node::Proxy => {
                self.net.take(id);
                self.response_at_client(req, s);
            }
            (Node::Member(m), MsgKind::Request(req)) if self.members[m].dead => {
                // The connection was reset: clientv3 sees Unavailable.
                self.net.take(id);
                self.connection_reset(req, s);
            }
            (Node::Member(_), MsgKind::Request(req)) => {
                self.net.take(id);
                self.grpc_arrived(req, End::Server, s);
            }
            (Node::Client, MsgKind::Response(req)) => {
                self.net.take(id);
                self.grpc_arrived(req, End::Client, s);
            }
            (Node::Proxy, MsgKind::Request(req) | MsgKind::Response(req)) => {
                self.net.take(id);
                self.at_proxy(req, s);
            }
            // A raft message stays in flight until the member's raft goroutine steps it; one to
            // a killed member is lost (its connections are gone).
            (Node::Member(m), _) if self.members[m].dead => {
                self.net.take(id);
            }
            // A raft message across a partition is lost.
            (Node::Member(m), _)
                if matches!(msg.from, Node::Member(f)
                    if self.members[f].cut_until > s.now() || self.members[m].cut_until > s.now()) =>
            {
                self.net.take(id);
            }
            (Node::Member(m), _) => {
                let Node::Member(from) = msg.from else {
                    unreachable!("raft messages come from members")
                };
                self.raft_msg_arrived(m, from, id, s);
            }
            (Node::Client | Node::Proxy, _) => {
                unreachable!("raft message addressed to the client or proxy")
            }
        }
    }
}
