//! Validated parameters of an etcd cluster and of a workload. Plain data: no file formats
//! here (the `config` module turns files into these), and every value is already checked.

use super::ids::{HostId, MemberId};
use crate::engine::SimDuration;
use crate::engine::dist::Dist;

/// etcd's behaviour that changed between releases, as independent switches.
#[derive(Debug, Clone, PartialEq)]
pub struct Mechanisms {
    /// The version these flags were derived from, e.g. "3.4.9" (for reports).
    pub version: String,
    /// clientv3's balancer for application clients: pinned (≤3.3) or round-robin (3.4+).
    pub balancer: Balancer,
    /// `limit` is pushed into the index walk, so only `limit` revisions are collected
    /// (#11990, 3.5.0). Before, every revision in the range is collected.
    pub limit_pushdown: bool,
    /// count-only ranges count revisions without collecting them (#11771, 3.5.0, 3.4.24).
    pub count_revisions: bool,
    /// Which lock the RBAC permission check takes (`isOpPermitted`).
    pub rbac_lock: RbacLock,
    /// "Fully concurrent reads" (#10523, 3.4.0): a read transaction holds the read-tx lock
    /// only while it copies the write buffer at open. Before, a read holds it for the whole
    /// range, and each write's writeback (which takes it exclusively) waits for long reads.
    pub concurrent_read: bool,
    /// Read transactions share one cached copy of the write buffer until it changes (#12933,
    /// 3.5.0 and 3.4.24); without it each read copies the buffer (3.4.0 to 3.4.23).
    pub read_buffer_cache: bool,
    /// Authenticate's bcrypt comparison runs under the backend batch-tx lock that
    /// `CheckPassword` takes for the user lookup (before 3.4.9; #11735 moved bcrypt out): the
    /// comparisons take turns, and apply, backend commits and 3.4's RBAC checks wait for them.
    pub bcrypt_under_lock: bool,
    /// The index compaction walks a copy-on-write clone of the tree, taking the index lock
    /// for one key at a time, on the store's FIFO scheduler goroutine (#9511, 3.4.0; the walk
    /// moved into the scheduled job with it). Before, the apply goroutine walks the tree
    /// itself, holding the index lock (and the store's `mu`) throughout: every read and
    /// every apply on the member waits for the whole walk.
    pub compact_clones_index: bool,
    /// Revisions one compaction batch scans under the batch-tx lock, and the pause between
    /// batches: 1,000 and 10 ms from 3.4.0 (#11034), 10,000 and 100 ms before.
    pub compact_batch: u32,
    /// See `compact_batch`.
    pub compact_pause: crate::engine::SimDuration,
    /// gRPC's transport writer yields once before it writes a small batch (`loopyWriter.run`:
    /// `runtime.Gosched()` when under `minBatchSize` bytes are buffered, grpc-go 1.12.0 and
    /// later: etcd 3.4 and 3.5 on both ends). Before (grpc-go 1.2.1 in etcd 3.2, 1.7.5 in
    /// 3.3) there is no such writer's yield.
    pub grpc_writer_yields: bool,
}

/// How an application client spreads requests over its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balancer {
    /// One endpoint per connection, fixed for the run (clientv3 ≤3.3, "effectively random").
    Pinned,
    /// The next endpoint for every request (clientv3 3.4+).
    RoundRobin,
}

/// The lock under which the RBAC permission check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbacLock {
    /// The backend batch-transaction mutex, also held by apply (3.4 and 3.5.0–3.5.3).
    BatchTx,
    /// The read-transaction lock taken exclusively (3.5.4+).
    ReadTxExclusive,
    /// A shared read lock: no contention among reads (3.6).
    Shared,
}

impl Mechanisms {
    /// The flags of an etcd release `major.minor[.patch]`; only 3.x is modelled.
    pub fn for_version(minor: u32, patch: u32) -> Mechanisms {
        let at_least = |m: u32, p: u32| (minor, patch) >= (m, p);
        Mechanisms {
            version: format!("3.{minor}.{patch}"),
            balancer: if at_least(4, 0) {
                Balancer::RoundRobin
            } else {
                Balancer::Pinned
            },
            limit_pushdown: at_least(5, 0),
            count_revisions: at_least(5, 0) || (minor == 4 && patch >= 24),
            rbac_lock: if at_least(6, 0) {
                RbacLock::Shared
            } else if at_least(5, 4) {
                RbacLock::ReadTxExclusive
            } else {
                RbacLock::BatchTx
            },
            concurrent_read: at_least(4, 0),
            read_buffer_cache: at_least(5, 0) || (minor == 4 && patch >= 24),
            bcrypt_under_lock: !at_least(4, 9),
            compact_clones_index: at_least(4, 0),
            compact_batch: if at_least(4, 0) { 1_000 } else { 10_000 },
            compact_pause: crate::engine::SimDuration::from_millis(if at_least(4, 0) {
                10
            } else {
                100
            }),
            grpc_writer_yields: at_least(4, 0),
        }
    }
}

/// Server-side CPU costs of one request's stages (fixed parts as distributions, in the units
/// their names give).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemberCosts {
    /// gRPC receive, decode and interceptors, per request.
    pub grpc_request: Dist,
    /// gRPC encode and send, per response.
    pub grpc_response: Dist,
    /// gRPC marshalling cost per byte of request or response, in ns.
    pub grpc_ns_per_byte: f64,
    /// Simple-token lookup, under the member's global token mutex.
    pub auth_simple_token: Dist,
    /// JWT signature verification.
    pub auth_jwt: Dist,
    /// RBAC permission check, fixed part.
    pub rbac: Dist,
    /// RBAC check: extra µs per doubling of the user's rule count (interval tree, O(log n)).
    pub rbac_us_per_log2_rule: f64,
    /// Index (treeIndex) lookup, fixed part.
    pub index: Dist,
    /// Index walk: extra µs per doubling of the total keys (B-tree depth).
    pub index_us_per_log2_key: f64,
    /// Index walk: ns per key visited in the range.
    pub index_visit_ns_per_key: f64,
    /// Index walk: ns per revision collected into the result slice.
    pub index_collect_ns_per_key: f64,
    /// Value fetch (buffer or bolt lookup plus unmarshal), fixed part per request.
    pub value: Dist,
    /// Value fetch: ns per key fetched.
    pub value_ns_per_key: f64,
    /// Value fetch and response assembly: ns per byte of returned key and value.
    pub value_ns_per_byte: f64,
    /// One step of the raft state machine (one message in or one local ReadIndex).
    pub raft_step: Dist,
    /// Handling one Ready in the raft loop (without disk work).
    pub ready: Dist,
    /// One burst of `linearizableReadLoop`: swapping the notifier and sending the ReadIndex,
    /// or taking the ReadState and notifying the round.
    pub read_loop: Dist,
    /// One flush of a rafthttp stream writer: encoding its queued messages and one write.
    pub stream_write: Dist,
    /// One burst of a rafthttp stream reader: a read from its connection and decoding.
    pub stream_read: Dist,
    /// Encoding or decoding a raft message: ns per byte.
    pub raft_msg_ns_per_byte: f64,
    /// One burst of a gRPC transport's reader on the member: a read(2) and parsing frames.
    pub transport_read: Dist,
    /// One burst of a gRPC transport's writer on the member: framing and one write(2).
    pub transport_write: Dist,
    /// Building a proposal (`InternalRaftRequest` marshal, wait registration).
    pub propose: Dist,
    /// Starting an apply batch: the run goroutine's receive from `applyc`, the FIFO
    /// scheduler's hand-off to `applyAll`, and `applyAll`'s work outside the entries.
    pub apply_batch: Dist,
    /// Applying one entry (a put: index update and buffered bolt write), fixed part.
    pub apply_entry: Dist,
    /// Applying: ns per byte of the entry.
    pub apply_ns_per_byte: f64,
    /// A backend (bolt) commit's CPU work (rebalance, spill), fixed part.
    pub backend_commit: Dist,
    /// A backend commit: ns per write it commits.
    pub backend_commit_ns_per_write: f64,
    /// Opening a read transaction: ns per read-buffer slot copied (when the version copies
    /// it; `backend.rs` [`ReadBuffer`](super::backend::ReadBuffer)), the allocation and its
    /// garbage collection included.
    pub read_buffer_copy_ns_per_slot: f64,
    /// One bcrypt comparison at cost 10 (about 50–100 ms of one core).
    pub bcrypt: Dist,
    /// 2^(cost − 10) for the server's `--bcrypt-cost`.
    pub bcrypt_scale: f64,
    /// A TLS handshake on the member (certificate auth, once per connection and member).
    pub tls_handshake: Dist,
    /// Compaction's index walk: ns per key (`treeIndex.Compact`: the clone's walk, the lock,
    /// `keyIndex.compact`).
    pub compact_index_ns_per_key: f64,
    /// Compaction's bolt batches: ns per revision scanned (`UnsafeRange` of the key bucket
    /// and the look-up in the index's keep set).
    pub compact_scan_ns_per_rev: f64,
    /// Compaction's bolt batches: ns per revision deleted (`UnsafeDelete`).
    pub compact_delete_ns_per_rev: f64,
    /// A backend commit: ns per revision a compaction deleted since the last one.
    pub backend_commit_ns_per_delete: f64,
}

/// Client-side costs, on the client host's cores.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientCosts {
    /// The benchmark loop around each request, outside the measured latency.
    pub loop_cost: Dist,
    /// Building and sending a request (inside the measured latency).
    pub request: Dist,
    /// Receiving and decoding a response (inside the measured latency).
    pub response: Dist,
    /// Receiving cost per response byte, in ns.
    pub response_ns_per_byte: f64,
    /// The benchmark's single op-producer goroutine: time to produce one op (serial).
    pub producer: Dist,
    /// One burst of a gRPC transport's reader on the client.
    pub transport_read: Dist,
    /// One burst of a gRPC transport's writer on the client.
    pub transport_write: Dist,
}

/// A host: cores and a network interface.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    /// Name, for reports.
    pub name: String,
    /// CPU cores.
    pub cores: u32,
    /// Outbound network bandwidth in bytes per second (`f64::INFINITY`: no serialization).
    pub nic_bytes_per_s: f64,
}

/// Message sizes on the wire, in bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSizes {
    /// Fixed bytes of a request (headers, framing).
    pub request_overhead: u32,
    /// Fixed bytes of a response.
    pub response_overhead: u32,
    /// Extra bytes per returned key-value (protobuf framing, revisions).
    pub per_kv_overhead: u32,
    /// Bytes of a raft message without entries (heartbeat, ReadIndex).
    pub raft_message: u32,
    /// Extra bytes per log entry (term, index, request framing) in a MsgApp.
    pub entry_overhead: u32,
}

/// How the Go runtime and the OS run the processes' goroutines (see `cpu.rs` and
/// [`crate::goruntime`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GoParams {
    /// GOMAXPROCS of each member (0: its host's cores, Go's default).
    pub member_gomaxprocs: u8,
    /// GOMAXPROCS of the client (0: its host's cores).
    pub client_gomaxprocs: u8,
    /// GOMAXPROCS of the proxy (0: its host's cores).
    pub proxy_gomaxprocs: u8,
    /// From a parked thread's wake-up (a futex wake) to its running: the scheduler's latency
    /// to hand an idle P work.
    pub thread_wake: crate::engine::SimDuration,
    /// A thread holds a core this long before the OS gives it to a waiting one.
    pub os_slice: crate::engine::SimDuration,
    /// With a value: a thread that woke from sleep (a parked thread woken, one back from the
    /// poller or a system call) waits for a core ahead of the threads preempted while
    /// running, and a running thread gives its core to such a one once it has held it this
    /// long (EEVDF's placement of a waking task, which preempts a thread past its slice
    /// protection); `os_slice` then only rotates the threads that keep running. None: one
    /// FIFO queue and `os_slice` for all.
    pub os_wake_preempt: Option<crate::engine::SimDuration>,
    /// CPU a thread spends from running dry to parked (the spinning of `findRunnable`, the
    /// futex sleep) and, woken, to running again.
    pub park: crate::engine::SimDuration,
    /// CPU the waking thread spends waking a sleeping thread while its host has an idle core:
    /// a futex wake (Go's `notewakeup`, from `wakep`/`startm` when a goroutine is readied
    /// while a P idles) or a write on a loopback connection whose reader sleeps in `netpoll`
    /// (the kernel delivers the segment and wakes the reader inside the writer's `write(2)`).
    /// The kernel's `try_to_wake_up` and, on a VM, the IPI to the idle vCPU. With every core
    /// busy the woken thread joins a busy core's queue and the waker pays nothing modelled.
    pub wake: crate::engine::SimDuration,
}

impl Default for GoParams {
    fn default() -> Self {
        GoParams {
            member_gomaxprocs: 0,
            client_gomaxprocs: 0,
            proxy_gomaxprocs: 0,
            thread_wake: crate::engine::SimDuration::from_micros(5),
            os_slice: crate::engine::SimDuration::from_millis(3),
            os_wake_preempt: None,
            park: crate::engine::SimDuration::ZERO,
            wake: crate::engine::SimDuration::ZERO,
        }
    }
}

/// The write path's limits and timers.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteParams {
    /// Backend commit interval (`--backend-batch-interval`, 100 ms).
    pub batch_interval: crate::engine::SimDuration,
    /// Backend commit after this many pending writes (`--backend-batch-limit`, 10,000).
    pub batch_limit: u64,
    /// Requests larger than this fail (`--max-request-bytes`, 1.5 MiB).
    pub max_request_bytes: u64,
    /// Proposals fail with "too many requests" when commit leads apply by more (5,000).
    pub max_apply_lag: u64,
}

/// The cluster, its hardware and its costs: everything but the workload.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterParams {
    /// A name for reports.
    pub name: String,
    /// Version-dependent behaviour.
    pub mechanisms: Mechanisms,
    /// Voting members (1, 3, 5, 7...).
    pub voters: u8,
    /// Learners (non-voting members), numbered after the voters.
    pub learners: u8,
    /// Which voter leads.
    pub leader: MemberId,
    /// Hosts; members and the client are placed on them.
    pub hosts: Vec<Host>,
    /// Host of each member, by member id.
    pub member_host: Vec<HostId>,
    /// Host of the client (the benchmark machine).
    pub client_host: HostId,
    /// One-way latency between hosts `[from][to]`; unused on the diagonal (same host).
    pub latency: Vec<Vec<Dist>>,
    /// Member CPU costs.
    pub member_costs: MemberCosts,
    /// Client CPU costs.
    pub client_costs: ClientCosts,
    /// Wire sizes.
    pub sizes: MessageSizes,
    /// fdatasync latency of the disk: the WAL's once per Ready with entries, the backend's twice
    /// per commit.
    pub fsync: Dist,
    /// The fdatasync's extra time per byte it makes durable (the data written since the last).
    pub fsync_ns_per_byte: f64,
    /// The CPU parts of an fdatasync's latency.
    pub fsync_cpu: FsyncCpu,
    /// The members on one host share its disk (one file system, whose journal commits take
    /// turns), instead of each having its own.
    pub shared_disk: bool,
    /// The write path's limits and timers.
    pub write: WriteParams,
    /// The Go runtime of every process.
    pub go: GoParams,
    /// The raft log index the cluster starts at (committed and applied everywhere).
    pub initial_index: u64,
    /// A caching gRPC proxy (`etcd grpc-proxy`) in front of the cluster, if any.
    pub proxy: Option<ProxyParams>,
    /// Raft's clock: heartbeats and election timeouts.
    pub raft_timing: RaftTiming,
}

/// Raft's clock, as etcd sets it from `--heartbeat-interval` and `--election-timeout`
/// (`etcdserver/raft.go` `raft.Config`: `HeartbeatTick` 1, `ElectionTick` the timeout over the
/// interval). Each member's raft node ticks once per interval: the leader sends a heartbeat
/// every tick, and a follower that has heard nothing from a leader for its randomized election
/// timeout, drawn from `[ElectionTick, 2·ElectionTick)` ticks, campaigns (`raft/raft.go`
/// `tickElection`, `resetRandomizedElectionTimeout`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaftTiming {
    /// One tick: `--heartbeat-interval` (100 ms by default).
    pub tick: crate::engine::SimDuration,
    /// `--election-timeout` in ticks (10 by default: 1000 ms).
    pub election_ticks: u32,
    /// A member's process, started again, until its raft node runs (`restart.rs`).
    pub start_up: crate::engine::SimDuration,
}

/// [`RaftTiming::start_up`] by default: etcd 3.4.23 started again after a SIGKILL on the
/// harness's 3-member loopback cluster, from the start of its process to its raft node running
/// ("became follower" in its log): 21 to 93 ms over 10 restarts, median 32 ms, on a 2-vCPU AMD
/// EPYC VM with 40 clients loading the other members (`docs/faults.md`). The leader's first
/// heartbeat to it then follows within a heartbeat interval, as in the model.
pub const DEFAULT_START_UP_S: f64 = 0.032;

impl Default for RaftTiming {
    fn default() -> Self {
        RaftTiming {
            tick: crate::engine::SimDuration::from_secs_f64(0.1),
            election_ticks: 10,
            start_up: crate::engine::SimDuration::from_secs_f64(DEFAULT_START_UP_S),
        }
    }
}

/// etcd's gRPC proxy: clients talk to it; it answers serializable ranges from its cache and
/// forwards everything else to the cluster (`server/proxy/grpcproxy/kv.go`). Every range
/// response it forwards is cached as if serializable; a put through it invalidates its key.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyParams {
    /// The proxy's host.
    pub host: HostId,
    /// Receiving, decoding and routing a request (and the cache lookup).
    pub request: Dist,
    /// Encoding and sending a response (from the cache or forwarded).
    pub response: Dist,
    /// Entries the cache holds (grpc-proxy's `DefaultMaxEntries` is 2048).
    pub cache_entries: u64,
}

impl ClusterParams {
    /// All members, voters then learners.
    pub fn members(&self) -> u8 {
        self.voters + self.learners
    }
    /// Votes needed for a quorum.
    pub fn quorum(&self) -> u32 {
        u32::from(self.voters) / 2 + 1
    }
    /// Whether `m` votes.
    pub fn is_voter(&self, m: MemberId) -> bool {
        m.0 < self.voters
    }
    /// Every member, voters then learners.
    pub fn member_ids(&self) -> impl Iterator<Item = MemberId> + use<> {
        (0..self.members()).map(MemberId)
    }
}

/// Read consistency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// Through ReadIndex (the default, `--consistency=l`).
    Linearizable,
    /// From the local state machine (`--consistency=s`).
    Serializable,
}

/// Authentication mode of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Auth disabled: no token check, no RBAC.
    None,
    /// Simple token: a map lookup under a global mutex per request, then RBAC.
    SimpleToken,
    /// JWT: a signature check per request, then RBAC.
    Jwt,
    /// Client certificates: the CN is the user; no token check, but RBAC; a TLS handshake on
    /// each connection's first request to a member.
    Cert,
    /// Username and password: clientv3 calls Authenticate (a linearizable read, a bcrypt
    /// comparison, a raft write) when it has no token, then uses simple tokens.
    Password,
}

/// A range request's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeOp {
    /// Linearizable or serializable.
    pub consistency: Consistency,
    /// Keys in the requested range.
    pub keys_in_range: u64,
    /// `--limit` (0: none).
    pub limit: u64,
    /// `--count-only`.
    pub count_only: bool,
    /// Bytes per key.
    pub key_bytes: u32,
    /// Bytes per value.
    pub value_bytes: u32,
    /// Keys in the whole store (index depth).
    pub total_keys: u64,
}

/// A put's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct PutOp {
    /// Bytes per key.
    pub key_bytes: u32,
    /// Bytes per value.
    pub value_bytes: u32,
}

/// How requests are spread over endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointPolicy {
    /// etcd's `benchmark`: connection j uses endpoint j mod n for the whole run.
    PerConnection,
    /// An application's clientv3 with the given balancer.
    Client(Balancer),
}

/// How requests arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    /// `clients` goroutines in a loop, optionally behind one shared rate limiter (req/s).
    Closed {
        /// `--rate`: requests per second across all clients (None: unlimited).
        rate_limit: Option<f64>,
    },
    /// Poisson arrivals at a rate (req/s), each on the next connection in turn.
    Open {
        /// Requests per second.
        rate: f64,
    },
    /// Requests at given instants (ns from the start, non-decreasing), each on the next
    /// connection in turn: for scripted scenarios and for explaining single requests.
    Scripted {
        /// Arrival instants in ns.
        at_ns: Vec<u64>,
        /// Which of them are puts (by position; missing entries are reads).
        puts: Vec<bool>,
    },
}

/// A workload: who sends what, how often, to whom.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Client goroutines.
    pub clients: u32,
    /// gRPC connections the clients share.
    pub conns: u32,
    /// The members used as endpoints, in order.
    pub endpoints: Vec<MemberId>,
    /// Endpoint choice.
    pub policy: EndpointPolicy,
    /// Closed or open loop.
    pub arrivals: Arrivals,
    /// Requests to complete (or fail) before the run ends.
    pub total: u64,
    /// The first this many requests issued are not measured (warm-up).
    pub warmup_requests: u64,
    /// Stop at this virtual time instead of after `total` requests (then `total` is only a cap).
    pub duration: Option<crate::engine::SimDuration>,
    /// Requests issued before this virtual time are not measured (warm-up), besides
    /// `warmup_requests`.
    pub warmup_time: crate::engine::SimDuration,
    /// The range of a read.
    pub range: RangeOp,
    /// The put of a write.
    pub put: PutOp,
    /// Closed loop: the fraction of ops that are reads (1: reads only, 0: writes only).
    pub read_ratio: f64,
    /// The fraction of reads sent serializable whatever `range.consistency` says (0: none), for
    /// a mix of linearizable and serializable reads.
    pub serializable_ratio: f64,
    /// Background writes: Poisson puts at this rate (req/s) beside the main workload, over the
    /// same connections (0: none).
    pub write_rate: f64,
    /// The most puts one backend commit held while the store was loaded, before the run:
    /// each member's read buffer starts as that commit left it
    /// ([`ReadBuffer::loaded`](super::backend::ReadBuffer::loaded)).
    pub bulk_load_commit_puts: u64,
    /// Authentication.
    pub auth: AuthMode,
    /// RBAC rules of the user (0 with root or auth off).
    pub rbac_rules: u32,
    /// Password auth: the probability that a request reuses the client's token instead of
    /// calling Authenticate first (1: one Authenticate per client; 0: one per request).
    pub token_reuse: f64,
    /// A few expensive reads: Poisson ranges at this rate (req/s) beside the main workload.
    pub expensive_rate: f64,
    /// The range of an expensive read.
    pub expensive_range: RangeOp,
    /// Scripted steps in the background streams' rates, in time order.
    pub timeline: Vec<Step>,
    /// clientv3 calls carry this deadline (`context.WithTimeout`; none: `context.Background()`,
    /// as etcd's benchmark tool).
    pub request_timeout: Option<crate::engine::SimDuration>,
    /// Record completions in intervals of this width (none: not at all).
    pub interval: Option<crate::engine::SimDuration>,
    /// The harness's probe beside the workload (none: no probe).
    pub probe: Option<Probe>,
}

/// The real-etcd harness's probe (`harness/go/src/etcdload`, `--probe-rate`): one goroutine
/// of the client process, on a gRPC connection of its own to one member, that reads one key
/// at every tick of a Go ticker, linearizable and serializable in turn. Its two latencies are
/// kept apart from the workload's: while the workload loads the members, their difference is
/// what a lone ReadIndex round costs beyond a serializable read.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Reads per second, both kinds together (the ticker's rate).
    pub rate: f64,
    /// The member its connection dials.
    pub member: MemberId,
    /// The key it reads: the workload's first, alone.
    pub range: RangeOp,
}

impl Workload {
    /// The client process's gRPC connections: the workload's, and the probe's own.
    pub fn all_conns(&self) -> u32 {
        self.conns + u32::from(self.probe.is_some())
    }

    /// Whether raft's clock runs: when the timeline stops, kills, cuts off, slows the links or
    /// stalls the disk of a member, so that a leader can be lost and elected. Without one no member ever misses a heartbeat for an election
    /// timeout, so heartbeats and ticks would change nothing but cost events; they are left
    /// out, and the ReadIndex heartbeats alone are simulated.
    pub fn elections(&self) -> bool {
        self.timeline.iter().any(|s| {
            matches!(
                s.change,
                Change::Pause(_) | Change::Kill(_) | Change::Partition(..) | Change::Fsync(..)
            )
        })
    }
}

// Scripted steps of a timeline (`timeline.rs` runs them).

/// A background stream whose rate a timeline can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Background puts (`workload.write_rate`).
    Writes = 0,
    /// Expensive reads (`workload.expensive_rate`).
    Expensive = 1,
}

/// One scripted step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Simulated time from the start of the run (warm-up included).
    pub at: crate::engine::SimDuration,
    /// What happens then.
    pub change: Change,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// From then on, `stream` arrives at `rate` per second (0 stops it).
    Rate {
        /// The stream whose rate changes.
        stream: Stream,
        /// Its new rate.
        rate: f64,
    },
    /// The member's process stops (SIGSTOP).
    Pause(MemberId),
    /// The member's process is killed (SIGKILL): it does not run again (unless a `Restart`
    /// follows), its connections are reset, and messages to it are lost.
    Kill(MemberId),
    /// The killed member's process is started again on its data directory (`restart.rs`).
    Restart(MemberId),
    /// The member's process goes on (SIGCONT).
    Resume(MemberId),
    /// The member defragments its backend for the given time once it holds the locks
    /// (`etcdctl defrag`, see [`super::timeline::Defrag`]).
    Defrag(MemberId, crate::engine::SimDuration),
    /// The member's disk, for the given time, takes this factor longer for every fdatasync it
    /// starts, or (an infinite factor) stalls: no fdatasync completes until the time is over
    /// ("slow fdatasync took 3.2 s").
    Fsync(MemberId, f64, crate::engine::SimDuration),
    /// The member is cut off from the other members for the given time: every raft message
    /// between it and a peer is lost, both ways (its clients still reach it).
    Partition(MemberId, crate::engine::SimDuration),
    /// A client calls `Compact` on the member to the current revision
    /// (`WithCompactPhysical`): the leader proposes it, and every member applies it and then
    /// compacts its own store (`compaction.rs`). The store then holds `revisions` revisions at
    /// or below that revision (none: the workload's keys, one revision each, plus a revision
    /// for every put since the start or the last compaction).
    Compact {
        /// The member the call goes to.
        member: MemberId,
        /// Revisions the compaction scans, when the step says.
        revisions: Option<u64>,
    },
    /// Every raft message between the member and a peer takes this much longer, one way, for
    /// the given time (messages keep their order).
    Latency(
        MemberId,
        crate::engine::SimDuration,
        crate::engine::SimDuration,
    ),
}

/// The CPU inside an fdatasync's measured latency (`disk.fsync_cpu_us`, `disk.fsync_kernel_us`):
/// on an idle machine it adds to the device's time, on a busy one it waits for a core.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FsyncCpu {
    /// System time of the calling thread, before the device works: charged to its process.
    pub caller: SimDuration,
    /// The kernel's completion work after the device (interrupt, softirq, kworker): on a core
    /// of the host, charged to no process.
    pub kernel: SimDuration,
    /// The share of a drawn fdatasync latency that is the device's: 1 − (caller + kernel) /
    /// mean, so that on an idle machine the whole takes `disk.fsync_us` as measured.
    pub device_share: f64,
}

impl Default for FsyncCpu {
    fn default() -> Self {
        FsyncCpu {
            caller: SimDuration::ZERO,
            kernel: SimDuration::ZERO,
            device_share: 1.0,
        }
    }
}
