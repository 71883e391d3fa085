//! Model files (`models/*.toml`): the cluster's hardware and component costs.
//!
//! Units are the last part of every key (`rtt_us`, `nic_bandwidth_gbps`, `index_visit_ns_per_key`).
//! A cost is either a number (a constant, in the key's unit) or a distribution table in that
//! unit, e.g. `grpc_request_us = { kind = "exponential", mean = 20 }`.
//!
//! A [`ModelSource`] is a model file parsed once; each variant of it (the file as it is, or with
//! `config::variant::Override`s) is validated from that document, and a fitted model is
//! written back into the file's own text, comments kept.
//!
//! Over 600 lines for a reason: each table of the file has its serde struct here beside the
//! rules that validate it, so a key, its default and its rule are read in one place.

use serde::Deserialize;

use super::ConfigError;
use super::dist::{DistError, DistSpec};
use super::variant::Override;
use crate::engine::SimDuration;
use crate::engine::dist::Dist;
use crate::model::{
    Balancer, ClientCosts, ClusterParams, FsyncCpu, Host, HostId, Id, Mechanisms, MemberCosts,
    MemberId, MessageSizes, ProxyParams, RaftTiming, RbacLock, WriteParams,
};

/// The reference model's file in the repository: etcd's published benchmark hardware.
pub const REFERENCE_FILE: &str = "models/gce-8vcpu-ssd.toml";
/// The reference model's text, built into the binary so that etcdsim runs from any directory
/// without its repository; `models/gce-8vcpu-ssd.toml` stays the source that is edited (and
/// calibrated), and a rebuild takes it in.
pub const REFERENCE_TEXT: &str = include_str!("../../models/gce-8vcpu-ssd.toml");
/// What messages and reports call the built-in reference model.
pub const REFERENCE_LABEL: &str = "models/gce-8vcpu-ssd.toml (built into etcdsim)";

/// The most hosts a model may place processes on.
pub const MAX_HOSTS: usize = 256;
/// A cost: a constant in the key's unit, or a distribution in that unit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Cost {
    /// A constant.
    Constant(f64),
    /// A distribution.
    Dist(DistSpec),
}

impl Default for Cost {
    fn default() -> Self {
        Cost::Constant(0.0)
    }
}

/// The raw model file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// A name for reports (default: the file's stem).
    pub name: Option<String>,
    /// The etcd release whose behaviour to model, e.g. "3.4.9".
    pub etcd_version: String,
    /// Members and roles.
    pub cluster: ClusterSection,
    /// Each member's hardware.
    pub member: MachineSection,
    /// The client (benchmark) machine and its costs.
    pub client: ClientSection,
    /// Latency between machines.
    #[serde(default)]
    pub network: NetworkSection,
    /// Member CPU costs.
    #[serde(default)]
    pub cpu: CpuSection,
    /// Wire sizes.
    #[serde(default)]
    pub messages: MessageSection,
    /// The disk.
    #[serde(default)]
    pub disk: DiskSection,
    /// Optional: several processes on shared hosts.
    pub placement: Option<PlacementSection>,
    /// Optional: single mechanism flags, overriding what `etcd_version` sets.
    #[serde(default)]
    pub mechanisms: MechanismsSection,
    /// The write path's limits and timers (etcd's defaults when absent).
    #[serde(default)]
    pub write: WriteSection,
    /// Optional: a caching gRPC proxy in front of the cluster; clients talk to it.
    pub proxy: Option<ProxySection>,
    /// How the Go runtime and the OS schedule the processes' goroutines.
    #[serde(default)]
    pub go: GoSection,
}

/// `[go]`: the Go runtime of every process (`crate::goruntime`) and the OS under it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoSection {
    /// GOMAXPROCS of each member (absent: its host's cores, Go's default).
    pub member_gomaxprocs: Option<u8>,
    /// GOMAXPROCS of the client.
    pub client_gomaxprocs: Option<u8>,
    /// GOMAXPROCS of the proxy.
    pub proxy_gomaxprocs: Option<u8>,
    /// From a parked thread's futex wake-up to its running, in µs.
    #[serde(default = "d_thread_wake")]
    pub thread_wake_us: f64,
    /// The OS's time slice when threads wait for a core, in µs.
    #[serde(default = "d_os_slice")]
    pub os_slice_us: f64,
    /// A thread woken from sleep waits for a core ahead of preempted ones and takes one from a
    /// running thread that has held it this long, in µs (0: one FIFO queue for all).
    #[serde(default)]
    pub os_wake_preempt_us: f64,
    /// CPU from running dry to parked, and from woken to running, per park, in µs.
    #[serde(default)]
    pub park_us: f64,
    /// CPU the waker spends waking a sleeping thread onto an idle core (a futex wake, or a
    /// loopback write to a reader asleep in the poller), per wake-up, in µs.
    #[serde(default)]
    pub wake_us: f64,
}
fn d_thread_wake() -> f64 {
    5.0
}
fn d_os_slice() -> f64 {
    3000.0
}
impl Default for GoSection {
    fn default() -> Self {
        GoSection {
            member_gomaxprocs: None,
            client_gomaxprocs: None,
            proxy_gomaxprocs: None,
            thread_wake_us: d_thread_wake(),
            os_slice_us: d_os_slice(),
            os_wake_preempt_us: 0.0,
            park_us: 0.0,
            wake_us: 0.0,
        }
    }
}

impl GoSection {
    fn validate(&self, file: &str) -> Result<crate::model::GoParams, ConfigError> {
        let procs = |key: &str, v: Option<u8>| match v {
            Some(0) => Err(ConfigError::invalid(
                file,
                format!("go.{key}"),
                "must be between 1 and 255 (leave it out for the host's cores)",
            )),
            v => Ok(v.unwrap_or(0)),
        };
        let micros = |key: &str, v: f64, min: f64| {
            if v.is_finite() && v >= min && v <= 1e9 {
                Ok(crate::engine::SimDuration::from_nanos_f64(v * 1e3))
            } else {
                Err(ConfigError::invalid(
                    file,
                    format!("go.{key}"),
                    format!("must be a number of µs between {min} and 1e9 (got {v})"),
                ))
            }
        };
        Ok(crate::model::GoParams {
            member_gomaxprocs: procs("member_gomaxprocs", self.member_gomaxprocs)?,
            client_gomaxprocs: procs("client_gomaxprocs", self.client_gomaxprocs)?,
            proxy_gomaxprocs: procs("proxy_gomaxprocs", self.proxy_gomaxprocs)?,
            thread_wake: micros("thread_wake_us", self.thread_wake_us, 0.0)?,
            os_slice: micros("os_slice_us", self.os_slice_us, 1.0)?,
            os_wake_preempt: match self.os_wake_preempt_us {
                0.0 => None,
                _ => Some(micros("os_wake_preempt_us", self.os_wake_preempt_us, 1.0)?),
            },
            park: micros("park_us", self.park_us, 0.0)?,
            wake: micros("wake_us", self.wake_us, 0.0)?,
        })
    }
}

/// `[proxy]`: etcd's gRPC proxy (`etcd grpc-proxy start`) on a host of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySection {
    /// Whether clients go through the proxy (a grid can turn it off: `model.proxy.enabled`).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The proxy machine's cores.
    pub cores: u32,
    /// Its outbound bandwidth.
    pub nic_bandwidth_gbps: f64,
    /// Receiving, decoding and routing a request, with the cache lookup (µs).
    pub request_us: Cost,
    /// Encoding and sending a response (µs).
    pub response_us: Cost,
    /// Cache entries (grpc-proxy's default: 2048).
    #[serde(default = "d_cache_entries")]
    pub cache_entries: u64,
}

fn yes() -> bool {
    true
}

/// The most entries the proxy's cache may hold: a few hundred megabytes.
pub const MAX_CACHE_ENTRIES: u64 = 10_000_000;

fn d_cache_entries() -> u64 {
    2048
}

/// The largest `write.max_request_bytes`.
pub const MAX_REQUEST_BYTES: u64 = 1 << 31;

/// `[write]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteSection {
    /// `--backend-batch-interval`.
    #[serde(default = "d_interval")]
    pub backend_batch_interval_ms: f64,
    /// `--backend-batch-limit`.
    #[serde(default = "d_limit")]
    pub backend_batch_limit: u64,
    /// `--max-request-bytes`.
    #[serde(default = "d_max_req")]
    pub max_request_bytes: u64,
    /// `maxGapBetweenApplyAndCommitIndex`.
    #[serde(default = "d_lag")]
    pub max_apply_lag_entries: u64,
}
fn d_interval() -> f64 {
    100.0
}
fn d_limit() -> u64 {
    10_000
}
fn d_max_req() -> u64 {
    1_572_864
}
fn d_lag() -> u64 {
    5_000
}
impl Default for WriteSection {
    fn default() -> Self {
        WriteSection {
            backend_batch_interval_ms: d_interval(),
            backend_batch_limit: d_limit(),
            max_request_bytes: d_max_req(),
            max_apply_lag_entries: d_lag(),
        }
    }
}

impl WriteSection {
    fn validate(&self, file: &str) -> Result<WriteParams, ConfigError> {
        let ms = self.backend_batch_interval_ms;
        if !(ms.is_finite() && ms > 0.0) {
            return Err(ConfigError::invalid(
                file,
                "write.backend_batch_interval_ms",
                format!("must be > 0 (got {ms})"),
            ));
        }
        for (k, v) in [
            ("write.backend_batch_limit", self.backend_batch_limit),
            ("write.max_request_bytes", self.max_request_bytes),
            ("write.max_apply_lag_entries", self.max_apply_lag_entries),
        ] {
            if v == 0 {
                return Err(ConfigError::invalid(file, k, "must be at least 1 (got 0)"));
            }
        }
        // A request's size is counted in 32 bits, with its overheads.
        if self.max_request_bytes > MAX_REQUEST_BYTES {
            return Err(ConfigError::invalid(
                file,
                "write.max_request_bytes",
                format!(
                    "must be at most {MAX_REQUEST_BYTES} (2 GiB) (got {})",
                    self.max_request_bytes
                ),
            ));
        }
        Ok(WriteParams {
            batch_interval: crate::engine::SimDuration::from_secs_f64(ms / 1e3),
            batch_limit: self.backend_batch_limit,
            max_request_bytes: self.max_request_bytes,
            max_apply_lag: self.max_apply_lag_entries,
        })
    }
}

/// `[mechanisms]`: each flag set on its own, over the version's profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MechanismsSection {
    /// clientv3 balancer for application clients: "pinned" or "round-robin".
    pub balancer: Option<String>,
    /// `limit` pushed into the index walk (3.5+).
    pub limit_pushdown: Option<bool>,
    /// count-only ranges count without collecting revisions (3.5+, 3.4.24+).
    pub count_revisions: Option<bool>,
    /// The RBAC check's lock: "batch-tx", "read-tx-exclusive" or "shared".
    pub rbac_lock: Option<String>,
    /// Fully concurrent reads (3.4+).
    pub concurrent_read: Option<bool>,
    /// One cached copy of the write buffer for read transactions (3.5+, 3.4.24+).
    pub read_buffer_cache: Option<bool>,
    /// Authenticate's bcrypt under the backend batch-tx lock (before 3.4.9).
    pub bcrypt_under_lock: Option<bool>,
    /// gRPC's transport writers yield once before a small write (grpc-go 1.12.0+: 3.4+).
    pub grpc_writer_yields: Option<bool>,
}

impl MechanismsSection {
    fn apply(&self, file: &str, m: &mut Mechanisms) -> Result<(), ConfigError> {
        if let Some(b) = &self.balancer {
            m.balancer = match b.as_str() {
                "pinned" => Balancer::Pinned,
                "round-robin" => Balancer::RoundRobin,
                _ => {
                    return Err(ConfigError::invalid(
                        file,
                        "mechanisms.balancer",
                        format!("must be \"pinned\" or \"round-robin\" (got {b:?})"),
                    ));
                }
            };
        }
        if let Some(l) = &self.rbac_lock {
            m.rbac_lock = match l.as_str() {
                "batch-tx" => RbacLock::BatchTx,
                "read-tx-exclusive" => RbacLock::ReadTxExclusive,
                "shared" => RbacLock::Shared,
                _ => {
                    return Err(ConfigError::invalid(
                        file,
                        "mechanisms.rbac_lock",
                        format!(
                            "must be \"batch-tx\", \"read-tx-exclusive\" or \"shared\" (got {l:?})"
                        ),
                    ));
                }
            };
        }
        if let Some(x) = self.limit_pushdown {
            m.limit_pushdown = x;
        }
        if let Some(x) = self.count_revisions {
            m.count_revisions = x;
        }
        if let Some(x) = self.concurrent_read {
            m.concurrent_read = x;
        }
        if let Some(x) = self.read_buffer_cache {
            m.read_buffer_cache = x;
        }
        if let Some(x) = self.bcrypt_under_lock {
            m.bcrypt_under_lock = x;
        }
        if let Some(x) = self.grpc_writer_yields {
            m.grpc_writer_yields = x;
        }
        Ok(())
    }
}

/// `[cluster]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// Voting members.
    pub voters: u8,
    /// Learners.
    #[serde(default)]
    pub learners: u8,
    /// Which voter leads.
    #[serde(default)]
    pub leader: u8,
    /// The log index the cluster starts at.
    #[serde(default = "default_index")]
    pub initial_index: u64,
    /// etcd's `--heartbeat-interval`: raft's tick, ms.
    #[serde(default = "default_heartbeat_ms")]
    pub heartbeat_interval_ms: f64,
    /// etcd's `--election-timeout`, ms.
    #[serde(default = "default_election_ms")]
    pub election_timeout_ms: f64,
    /// A member's process, started again after a kill, until its raft node runs, ms (`model/restart.rs`).
    #[serde(default = "default_start_ms")]
    pub start_ms: f64,
}

fn default_start_ms() -> f64 {
    crate::model::params::DEFAULT_START_UP_S * 1e3
}

fn default_heartbeat_ms() -> f64 {
    100.0
}

fn default_election_ms() -> f64 {
    1_000.0
}

/// Raft's clock from etcd's two flags, with etcd's own rules (`etcdmain/config.go`: the
/// election timeout is at least five heartbeat intervals; `embed.Config.ElectionTicks`: the
/// timeout over the interval, rounded down).
fn raft_timing(file: &str, c: &ClusterSection) -> Result<RaftTiming, ConfigError> {
    let hb = c.heartbeat_interval_ms;
    if !(hb.is_finite() && (1.0..=60_000.0).contains(&hb)) {
        return Err(ConfigError::invalid(
            file,
            "cluster.heartbeat_interval_ms",
            format!("must be a number of milliseconds from 1 to 60000 (got {hb})"),
        ));
    }
    let el = c.election_timeout_ms;
    if !(el.is_finite() && el >= 5.0 * hb && el <= 600_000.0) {
        return Err(ConfigError::invalid(
            file,
            "cluster.election_timeout_ms",
            format!(
                "must be at least 5 times heartbeat_interval_ms ({}) and at most 600000, as etcd requires (got {el})",
                5.0 * hb
            ),
        ));
    }
    let start = c.start_ms;
    if !(start.is_finite() && start > 0.0 && start <= 600_000.0) {
        return Err(ConfigError::invalid(
            file,
            "cluster.start_ms",
            format!("must be a number of milliseconds above 0, up to 600000 (got {start})"),
        ));
    }
    Ok(RaftTiming {
        tick: crate::engine::SimDuration::from_secs_f64(hb / 1e3),
        election_ticks: (el / hb).floor() as u32,
        start_up: crate::engine::SimDuration::from_secs_f64(start / 1e3),
    })
}

fn default_index() -> u64 {
    1_000
}

/// `[member]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineSection {
    /// CPU cores.
    pub cores: u32,
    /// Outbound bandwidth (`inf`: none modelled).
    pub nic_bandwidth_gbps: f64,
}

/// `[client]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSection {
    /// CPU cores of the client machine.
    pub cores: u32,
    /// Outbound bandwidth.
    pub nic_bandwidth_gbps: f64,
    /// The benchmark loop per request, outside the measured latency.
    #[serde(default)]
    pub loop_us: Cost,
    /// Building and sending a request.
    #[serde(default)]
    pub request_us: Cost,
    /// Receiving and decoding a response.
    #[serde(default)]
    pub response_us: Cost,
    /// Per response byte.
    #[serde(default)]
    pub response_ns_per_byte: f64,
    /// The benchmark's single op-producer goroutine, per op.
    #[serde(default)]
    pub producer_us: Cost,
    /// One burst of a gRPC transport's reader (a read and parsing).
    #[serde(default)]
    pub transport_read_us: Cost,
    /// One burst of a gRPC transport's writer (framing and a write).
    #[serde(default)]
    pub transport_write_us: Cost,
}

/// `[network]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// Round-trip time between any two machines; one way is half of it (default 200 µs).
    pub rtt_us: Option<f64>,
    /// The shape of one-way latency, as a distribution (µs). Alone, it is the one-way latency;
    /// with `rtt_us`, it is scaled so that its mean is `rtt_us` / 2 (so sweeping `rtt_us` keeps
    /// the shape).
    pub one_way_us: Option<DistSpec>,
    /// Per-link RTT overrides.
    #[serde(default)]
    pub links: Vec<LinkSection>,
}

fn default_rtt() -> f64 {
    200.0
}

/// `[[network.links]]`: the RTT between two hosts, both directions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSection {
    /// One host.
    pub a: String,
    /// The other host.
    pub b: String,
    /// Their round-trip time.
    pub rtt_us: f64,
}

/// `[cpu]`: member-side costs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct CpuSection {
    #[serde(default)]
    pub grpc_request_us: Cost,
    #[serde(default)]
    pub grpc_response_us: Cost,
    #[serde(default)]
    pub grpc_ns_per_byte: f64,
    #[serde(default)]
    pub auth_simple_token_us: Cost,
    #[serde(default)]
    pub auth_jwt_us: Cost,
    #[serde(default)]
    pub rbac_us: Cost,
    #[serde(default)]
    pub rbac_us_per_log2_rule: f64,
    #[serde(default)]
    pub index_us: Cost,
    #[serde(default)]
    pub index_us_per_log2_key: f64,
    #[serde(default)]
    pub index_visit_ns_per_key: f64,
    #[serde(default)]
    pub index_collect_ns_per_key: f64,
    #[serde(default)]
    pub value_us: Cost,
    #[serde(default)]
    pub value_ns_per_key: f64,
    #[serde(default)]
    pub value_ns_per_byte: f64,
    #[serde(default)]
    pub raft_step_us: Cost,
    #[serde(default)]
    pub ready_us: Cost,
    #[serde(default)]
    pub read_loop_us: Cost,
    #[serde(default)]
    pub stream_write_us: Cost,
    #[serde(default)]
    pub stream_read_us: Cost,
    #[serde(default)]
    pub raft_msg_ns_per_byte: f64,
    #[serde(default)]
    pub transport_read_us: Cost,
    #[serde(default)]
    pub transport_write_us: Cost,
    #[serde(default)]
    pub propose_us: Cost,
    #[serde(default)]
    pub apply_batch_us: Cost,
    #[serde(default)]
    pub apply_entry_us: Cost,
    #[serde(default)]
    pub apply_ns_per_byte: f64,
    #[serde(default)]
    pub backend_commit_us: Cost,
    #[serde(default)]
    pub backend_commit_ns_per_write: f64,
    #[serde(default)]
    pub read_buffer_copy_ns_per_slot: f64,
    /// One bcrypt comparison at cost 10 (`bcrypt.DefaultCost`); 60 ms when absent.
    pub bcrypt_us: Option<Cost>,
    /// The server's `--bcrypt-cost` (10 when absent): each step doubles the comparison's time.
    pub bcrypt_cost: Option<u32>,
    #[serde(default)]
    pub tls_handshake_us: Cost,
    /// Compaction's index walk, ns per key; 210 when absent.
    pub compact_index_ns_per_key: Option<f64>,
    /// Compaction's bolt batches, ns per revision scanned; 490 when absent.
    pub compact_scan_ns_per_rev: Option<f64>,
    /// Compaction's bolt batches, ns per revision deleted; 970 when absent.
    pub compact_delete_ns_per_rev: Option<f64>,
    /// A backend commit, ns per revision a compaction deleted; 450 when absent.
    pub backend_commit_ns_per_delete: Option<f64>,
}

/// Compaction's costs when a model does not give them: etcd 3.4.23's own store, timed in
/// process with nothing else running (`harness/go/src/compactcost --batch-limit 10000000`,
/// one batch over 100,000 keys of 1 KiB written once and twice, three runs each, medians) on
/// a 2-vCPU Intel Xeon KVM VM (the CPU the harness's runs of that session name), slower than the machine the loopback model was calibrated on. The
/// walk is mvcc's index compaction pause (21 ms for 100,000 keys); the scan is what the run
/// of keys written once took besides the walk and the commit (49 ms for 100,000 revisions);
/// a delete is what the run of keys written twice took besides those and its scan (97 ms for
/// 100,000). An earlier session's runs on a noisier VM gave 550, 970 and 2,900 ns.
const COMPACT_INDEX_NS_PER_KEY: f64 = 210.0;
/// See [`COMPACT_INDEX_NS_PER_KEY`].
const COMPACT_SCAN_NS_PER_REV: f64 = 490.0;
/// See [`COMPACT_INDEX_NS_PER_KEY`].
const COMPACT_DELETE_NS_PER_REV: f64 = 970.0;
/// A backend commit's work per revision a compaction deleted, when a model does not give it:
/// the commit after 100,000 deletes in the same runs took 46 ms, its fdatasyncs included (so
/// this is an upper bound on its CPU); a put's (`backend_commit_ns_per_write`) is fitted.
const BACKEND_COMMIT_NS_PER_DELETE: f64 = 450.0;

/// `[messages]`: bytes on the wire.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct MessageSection {
    #[serde(default = "d_req")]
    pub request_overhead_bytes: u32,
    #[serde(default = "d_resp")]
    pub response_overhead_bytes: u32,
    #[serde(default = "d_kv")]
    pub per_kv_overhead_bytes: u32,
    #[serde(default = "d_raft")]
    pub raft_message_bytes: u32,
    #[serde(default = "d_entry")]
    pub entry_overhead_bytes: u32,
}
fn d_entry() -> u32 {
    40
}
fn d_req() -> u32 {
    100
}
fn d_resp() -> u32 {
    100
}
fn d_kv() -> u32 {
    30
}
fn d_raft() -> u32 {
    80
}
impl Default for MessageSection {
    fn default() -> Self {
        MessageSection {
            request_overhead_bytes: d_req(),
            response_overhead_bytes: d_resp(),
            per_kv_overhead_bytes: d_kv(),
            raft_message_bytes: d_raft(),
            entry_overhead_bytes: d_entry(),
        }
    }
}

/// The largest message overhead a model may give: a mebibyte is far above any real one, and
/// low enough that a message's size always fits the model's 32-bit byte counts.
pub const MAX_OVERHEAD_BYTES: u32 = 1 << 20;

impl MessageSection {
    fn validate(&self, file: &str) -> Result<MessageSizes, ConfigError> {
        for (key, v) in [
            ("request_overhead_bytes", self.request_overhead_bytes),
            ("response_overhead_bytes", self.response_overhead_bytes),
            ("per_kv_overhead_bytes", self.per_kv_overhead_bytes),
            ("raft_message_bytes", self.raft_message_bytes),
            ("entry_overhead_bytes", self.entry_overhead_bytes),
        ] {
            if v > MAX_OVERHEAD_BYTES {
                return Err(ConfigError::invalid(
                    file,
                    format!("messages.{key}"),
                    format!("must be at most {MAX_OVERHEAD_BYTES} bytes (got {v})"),
                ));
            }
        }
        Ok(MessageSizes {
            request_overhead: self.request_overhead_bytes,
            response_overhead: self.response_overhead_bytes,
            per_kv_overhead: self.per_kv_overhead_bytes,
            raft_message: self.raft_message_bytes,
            entry_overhead: self.entry_overhead_bytes,
        })
    }
}

/// `[disk]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskSection {
    /// WAL fdatasync latency.
    #[serde(default = "d_fsync")]
    pub fsync_us: Cost,
    /// The fdatasync's extra ns per byte made durable.
    #[serde(default)]
    pub fsync_ns_per_byte: f64,
    /// The CPU an fdatasync costs the thread that calls it (system time inside the call: the
    /// page writeback, submitting the bios and the flush), part of `fsync_us`.
    #[serde(default)]
    pub fsync_cpu_us: f64,
    /// The CPU an fdatasync costs the kernel elsewhere (its completion interrupt, softirq and
    /// kworkers), charged to no process, part of `fsync_us`.
    #[serde(default)]
    pub fsync_kernel_us: f64,
    /// The members on one host share its disk (with a placement of several members per host).
    #[serde(default)]
    pub shared: bool,
}
fn d_fsync() -> Cost {
    Cost::Constant(1_000.0)
}
impl DiskSection {
    /// The fdatasync's CPU: the caller's and the kernel's, which together must leave the
    /// device part of its latency.
    fn fsync_cpu(&self, file: &str) -> Result<FsyncCpu, ConfigError> {
        let caller = non_negative(file, "disk.fsync_cpu_us", self.fsync_cpu_us)?;
        let kernel = non_negative(file, "disk.fsync_kernel_us", self.fsync_kernel_us)?;
        let mean_us = cost(file, "disk.fsync_us", &self.fsync_us)?.mean_ns() / 1e3;
        if caller + kernel > 0.0 && caller + kernel >= mean_us {
            return Err(ConfigError::invalid(
                file,
                "disk.fsync_cpu_us",
                format!(
                    "disk.fsync_cpu_us + disk.fsync_kernel_us must be less than disk.fsync_us's \
                     mean ({mean_us} µs): they are parts of it, beside the device's (got {caller} + {kernel})"
                ),
            ));
        }
        Ok(FsyncCpu {
            caller: SimDuration::from_nanos_f64(caller * 1e3),
            kernel: SimDuration::from_nanos_f64(kernel * 1e3),
            device_share: if mean_us > 0.0 {
                1.0 - (caller + kernel) / mean_us
            } else {
                1.0
            },
        })
    }
}
impl Default for DiskSection {
    fn default() -> Self {
        DiskSection {
            fsync_us: d_fsync(),
            fsync_ns_per_byte: 0.0,
            fsync_cpu_us: 0.0,
            fsync_kernel_us: 0.0,
            shared: false,
        }
    }
}

/// `[placement]`: hosts shared by several processes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSection {
    /// The hosts.
    pub hosts: Vec<HostSection>,
    /// The host of each member, by index (or one host, for every member).
    pub members: Vec<String>,
    /// The client's host.
    pub client: String,
}

/// `[[placement.hosts]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSection {
    /// Its name.
    pub name: String,
    /// Its cores.
    pub cores: u32,
    /// Its outbound bandwidth.
    pub nic_bandwidth_gbps: f64,
}

/// Validates one cost.
fn cost(file: &str, key: &str, c: &Cost) -> Result<Dist, ConfigError> {
    match c {
        Cost::Constant(x) if x.is_finite() && *x >= 0.0 => Ok(Dist::constant_us(*x)),
        Cost::Constant(x) => Err(ConfigError::invalid(
            file,
            key,
            format!("must be a finite number >= 0 (got {x})"),
        )),
        Cost::Dist(d) => d
            .validate()
            .map_err(|e| ConfigError::invalid(file, key, e.to_string())),
    }
}

fn non_negative(file: &str, key: &str, x: f64) -> Result<f64, ConfigError> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(ConfigError::invalid(
            file,
            key,
            format!("must be a finite number >= 0 (got {x})"),
        ))
    }
}

fn bandwidth(file: &str, key: &str, gbps: f64) -> Result<f64, ConfigError> {
    if gbps.is_nan() || gbps <= 0.0 {
        return Err(ConfigError::invalid(
            file,
            key,
            format!("must be > 0 (got {gbps}); use inf for no limit"),
        ));
    }
    Ok(gbps * 1e9 / 8.0)
}

fn cores(file: &str, key: &str, n: u32) -> Result<u32, ConfigError> {
    if n == 0 || n > 4096 {
        return Err(ConfigError::invalid(
            file,
            key,
            format!("must be between 1 and 4096 (got {n})"),
        ));
    }
    Ok(n)
}

/// Parses an etcd version "3.M[.P]" into (M, P).
pub fn parse_version(file: &str, key: &str, v: &str) -> Result<(u32, u32), ConfigError> {
    let bad = || {
        ConfigError::invalid(
            file,
            key,
            format!(
                "must be an etcd 3.x release such as \"3.4\" or \"3.5.4\", from 3.2 to 3.6 (got {v:?})"
            ),
        )
    };
    let parts: Vec<&str> = v.trim().trim_start_matches('v').split('.').collect();
    if !(2..=3).contains(&parts.len()) || parts[0] != "3" {
        return Err(bad());
    }
    let minor: u32 = parts[1].parse().map_err(|_| bad())?;
    let patch: u32 = match parts.get(2) {
        Some(p) => p.parse().map_err(|_| bad())?,
        None => 0,
    };
    if !(2..=6).contains(&minor) {
        return Err(bad());
    }
    Ok((minor, patch))
}

impl ModelFile {
    /// Validates the raw file into cluster parameters. `file` names it in errors.
    pub fn validate(&self, file: &str) -> Result<ClusterParams, ConfigError> {
        let (minor, patch) = parse_version(file, "etcd_version", &self.etcd_version)?;
        let c = &self.cluster;
        if c.voters == 0 || c.voters > 9 {
            return Err(ConfigError::invalid(
                file,
                "cluster.voters",
                format!("must be between 1 and 9 (got {})", c.voters),
            ));
        }
        if c.learners > 9 {
            return Err(ConfigError::invalid(
                file,
                "cluster.learners",
                format!("must be at most 9 (got {})", c.learners),
            ));
        }
        if c.leader >= c.voters {
            return Err(ConfigError::invalid(
                file,
                "cluster.leader",
                format!(
                    "must name a voter, 0 to {} (got {})",
                    c.voters - 1,
                    c.leader
                ),
            ));
        }
        let raft_timing = raft_timing(file, c)?;
        let members = usize::from(c.voters) + usize::from(c.learners);
        let (mut hosts, member_host, client_host) = self.hosts(file, members)?;
        let proxy = match &self.proxy {
            Some(px) if px.enabled => {
                if hosts.iter().any(|h| h.name == "proxy") {
                    return Err(ConfigError::invalid(
                        file,
                        "proxy",
                        "the proxy runs on a host named \"proxy\"; placement already has one",
                    ));
                }
                // The cache holds an entry per range it caches, up to this many.
                if !(1..=MAX_CACHE_ENTRIES).contains(&px.cache_entries) {
                    return Err(ConfigError::invalid(
                        file,
                        "proxy.cache_entries",
                        format!(
                            "must be between 1 and {MAX_CACHE_ENTRIES}, what a run can hold (got {})",
                            px.cache_entries
                        ),
                    ));
                }
                hosts.push(Host {
                    name: "proxy".into(),
                    cores: cores(file, "proxy.cores", px.cores)?,
                    nic_bytes_per_s: bandwidth(
                        file,
                        "proxy.nic_bandwidth_gbps",
                        px.nic_bandwidth_gbps,
                    )?,
                });
                Some(ProxyParams {
                    host: HostId::from_index(hosts.len() - 1),
                    request: cost(file, "proxy.request_us", &px.request_us)?,
                    response: cost(file, "proxy.response_us", &px.response_us)?,
                    cache_entries: px.cache_entries,
                })
            }
            _ => None,
        };
        // The model names a host in an event with one byte.
        if hosts.len() > MAX_HOSTS {
            return Err(ConfigError::invalid(
                file,
                "placement.hosts",
                format!(
                    "at most {MAX_HOSTS} hosts, the proxy's included (got {})",
                    hosts.len()
                ),
            ));
        }
        let latency = self.latency(file, &hosts)?;
        let mut mechanisms = Mechanisms::for_version(minor, patch);
        self.mechanisms.apply(file, &mut mechanisms)?;
        Ok(ClusterParams {
            name: self.name.clone().unwrap_or_else(|| file_stem(file)),
            mechanisms,
            voters: c.voters,
            learners: c.learners,
            leader: MemberId(c.leader),
            hosts,
            member_host: member_host.into_iter().map(HostId::from_index).collect(),
            client_host: HostId::from_index(client_host),
            latency,
            member_costs: self.member_costs(file)?,
            client_costs: self.client_costs(file)?,
            sizes: self.messages.validate(file)?,
            fsync: cost(file, "disk.fsync_us", &self.disk.fsync_us)?,
            fsync_ns_per_byte: non_negative(
                file,
                "disk.fsync_ns_per_byte",
                self.disk.fsync_ns_per_byte,
            )?,
            fsync_cpu: self.disk.fsync_cpu(file)?,
            shared_disk: self.disk.shared,
            write: self.write.validate(file)?,
            go: self.go.validate(file)?,
            initial_index: c.initial_index,
            proxy,
            raft_timing,
        })
    }

    #[allow(clippy::type_complexity)]
    fn hosts(
        &self,
        file: &str,
        members: usize,
    ) -> Result<(Vec<Host>, Vec<usize>, usize), ConfigError> {
        let Some(pl) = &self.placement else {
            let cores_m = cores(file, "member.cores", self.member.cores)?;
            let bw_m = bandwidth(
                file,
                "member.nic_bandwidth_gbps",
                self.member.nic_bandwidth_gbps,
            )?;
            let mut hosts: Vec<Host> = (0..members)
                .map(|i| Host {
                    name: format!("member{i}"),
                    cores: cores_m,
                    nic_bytes_per_s: bw_m,
                })
                .collect();
            hosts.push(Host {
                name: "client".into(),
                cores: cores(file, "client.cores", self.client.cores)?,
                nic_bytes_per_s: bandwidth(
                    file,
                    "client.nic_bandwidth_gbps",
                    self.client.nic_bandwidth_gbps,
                )?,
            });
            return Ok((hosts, (0..members).collect(), members));
        };
        let mut hosts = Vec::new();
        for (i, h) in pl.hosts.iter().enumerate() {
            if hosts.iter().any(|x: &Host| x.name == h.name) {
                return Err(ConfigError::invalid(
                    file,
                    format!("placement.hosts[{i}].name"),
                    format!("duplicate host name {:?}", h.name),
                ));
            }
            hosts.push(Host {
                name: h.name.clone(),
                cores: cores(file, &format!("placement.hosts[{i}].cores"), h.cores)?,
                nic_bytes_per_s: bandwidth(
                    file,
                    &format!("placement.hosts[{i}].nic_bandwidth_gbps"),
                    h.nic_bandwidth_gbps,
                )?,
            });
        }
        let find = |key: String, name: &str| {
            hosts.iter().position(|h| h.name == name).ok_or_else(|| {
                let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
                ConfigError::invalid(
                    file,
                    key,
                    format!("no host named {name:?} (hosts: {names:?})"),
                )
            })
        };
        // One host names the host of every member (so a member count can vary).
        if pl.members.len() != members && pl.members.len() != 1 {
            return Err(ConfigError::invalid(
                file,
                "placement.members",
                format!(
                    "must list one host per member ({members}), or one host for all, got {}",
                    pl.members.len()
                ),
            ));
        }
        let member_host = (0..members)
            .map(|i| {
                let at = if pl.members.len() == 1 { 0 } else { i };
                find(format!("placement.members[{at}]"), &pl.members[at])
            })
            .collect::<Result<Vec<_>, _>>()?;
        let client_host = find("placement.client".into(), &pl.client)?;
        Ok((hosts, member_host, client_host))
    }

    fn latency(&self, file: &str, hosts: &[Host]) -> Result<Vec<Vec<Dist>>, ConfigError> {
        let n = &self.network;
        let rtt = non_negative(file, "network.rtt_us", n.rtt_us.unwrap_or_else(default_rtt))?;
        let bad = |e: DistError| ConfigError::invalid(file, "network.one_way_us", e.to_string());
        let base = match (&n.one_way_us, n.rtt_us) {
            (Some(d), None) => d.validate().map_err(bad)?,
            (Some(d), Some(_)) => {
                let mean_us = d.validate().map_err(bad)?.mean_ns() / 1e3;
                if mean_us <= 0.0 {
                    return Err(ConfigError::invalid(
                        file,
                        "network.one_way_us",
                        "with rtt_us, one_way_us gives the shape and needs a mean > 0",
                    ));
                }
                d.scaled(rtt / 2.0 / mean_us).validate().map_err(bad)?
            }
            (None, _) => Dist::constant_us(rtt / 2.0),
        };
        let mut m = vec![vec![base; hosts.len()]; hosts.len()];
        for (i, l) in n.links.iter().enumerate() {
            let key = format!("network.links[{i}]");
            let pos = |name: &str, k: &str| {
                hosts.iter().position(|h| h.name == name).ok_or_else(|| {
                    let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
                    ConfigError::invalid(
                        file,
                        format!("{key}.{k}"),
                        format!("no host named {name:?} (hosts: {names:?})"),
                    )
                })
            };
            let (a, b) = (pos(&l.a, "a")?, pos(&l.b, "b")?);
            let r = non_negative(file, &format!("{key}.rtt_us"), l.rtt_us)?;
            m[a][b] = Dist::constant_us(r / 2.0);
            m[b][a] = Dist::constant_us(r / 2.0);
        }
        Ok(m)
    }

    fn member_costs(&self, file: &str) -> Result<MemberCosts, ConfigError> {
        let c = &self.cpu;
        let k = |name: &str| format!("cpu.{name}");
        Ok(MemberCosts {
            grpc_request: cost(file, &k("grpc_request_us"), &c.grpc_request_us)?,
            grpc_response: cost(file, &k("grpc_response_us"), &c.grpc_response_us)?,
            grpc_ns_per_byte: non_negative(file, &k("grpc_ns_per_byte"), c.grpc_ns_per_byte)?,
            auth_simple_token: cost(file, &k("auth_simple_token_us"), &c.auth_simple_token_us)?,
            auth_jwt: cost(file, &k("auth_jwt_us"), &c.auth_jwt_us)?,
            rbac: cost(file, &k("rbac_us"), &c.rbac_us)?,
            rbac_us_per_log2_rule: non_negative(
                file,
                &k("rbac_us_per_log2_rule"),
                c.rbac_us_per_log2_rule,
            )?,
            index: cost(file, &k("index_us"), &c.index_us)?,
            index_us_per_log2_key: non_negative(
                file,
                &k("index_us_per_log2_key"),
                c.index_us_per_log2_key,
            )?,
            index_visit_ns_per_key: non_negative(
                file,
                &k("index_visit_ns_per_key"),
                c.index_visit_ns_per_key,
            )?,
            index_collect_ns_per_key: non_negative(
                file,
                &k("index_collect_ns_per_key"),
                c.index_collect_ns_per_key,
            )?,
            value: cost(file, &k("value_us"), &c.value_us)?,
            value_ns_per_key: non_negative(file, &k("value_ns_per_key"), c.value_ns_per_key)?,
            value_ns_per_byte: non_negative(file, &k("value_ns_per_byte"), c.value_ns_per_byte)?,
            raft_step: cost(file, &k("raft_step_us"), &c.raft_step_us)?,
            ready: cost(file, &k("ready_us"), &c.ready_us)?,
            read_loop: cost(file, &k("read_loop_us"), &c.read_loop_us)?,
            stream_write: cost(file, &k("stream_write_us"), &c.stream_write_us)?,
            stream_read: cost(file, &k("stream_read_us"), &c.stream_read_us)?,
            transport_read: cost(file, &k("transport_read_us"), &c.transport_read_us)?,
            transport_write: cost(file, &k("transport_write_us"), &c.transport_write_us)?,
            raft_msg_ns_per_byte: non_negative(
                file,
                &k("raft_msg_ns_per_byte"),
                c.raft_msg_ns_per_byte,
            )?,
            propose: cost(file, &k("propose_us"), &c.propose_us)?,
            apply_batch: cost(file, &k("apply_batch_us"), &c.apply_batch_us)?,
            apply_entry: cost(file, &k("apply_entry_us"), &c.apply_entry_us)?,
            apply_ns_per_byte: non_negative(file, &k("apply_ns_per_byte"), c.apply_ns_per_byte)?,
            backend_commit: cost(file, &k("backend_commit_us"), &c.backend_commit_us)?,
            backend_commit_ns_per_write: non_negative(
                file,
                &k("backend_commit_ns_per_write"),
                c.backend_commit_ns_per_write,
            )?,
            read_buffer_copy_ns_per_slot: non_negative(
                file,
                &k("read_buffer_copy_ns_per_slot"),
                c.read_buffer_copy_ns_per_slot,
            )?,
            bcrypt: cost(
                file,
                &k("bcrypt_us"),
                c.bcrypt_us.as_ref().unwrap_or(&Cost::Constant(60_000.0)),
            )?,
            bcrypt_scale: match c.bcrypt_cost.unwrap_or(10) {
                n @ 4..=31 => 2f64.powi(n as i32 - 10),
                n => {
                    return Err(ConfigError::invalid(
                        file,
                        k("bcrypt_cost"),
                        format!("must be between 4 and 31, as bcrypt allows (got {n})"),
                    ));
                }
            },
            tls_handshake: cost(file, &k("tls_handshake_us"), &c.tls_handshake_us)?,
            compact_index_ns_per_key: non_negative(
                file,
                &k("compact_index_ns_per_key"),
                c.compact_index_ns_per_key
                    .unwrap_or(COMPACT_INDEX_NS_PER_KEY),
            )?,
            compact_scan_ns_per_rev: non_negative(
                file,
                &k("compact_scan_ns_per_rev"),
                c.compact_scan_ns_per_rev.unwrap_or(COMPACT_SCAN_NS_PER_REV),
            )?,
            compact_delete_ns_per_rev: non_negative(
                file,
                &k("compact_delete_ns_per_rev"),
                c.compact_delete_ns_per_rev
                    .unwrap_or(COMPACT_DELETE_NS_PER_REV),
            )?,
            backend_commit_ns_per_delete: non_negative(
                file,
                &k("backend_commit_ns_per_delete"),
                c.backend_commit_ns_per_delete
                    .unwrap_or(BACKEND_COMMIT_NS_PER_DELETE),
            )?,
        })
    }

    fn client_costs(&self, file: &str) -> Result<ClientCosts, ConfigError> {
        let c = &self.client;
        Ok(ClientCosts {
            loop_cost: cost(file, "client.loop_us", &c.loop_us)?,
            request: cost(file, "client.request_us", &c.request_us)?,
            response: cost(file, "client.response_us", &c.response_us)?,
            response_ns_per_byte: non_negative(
                file,
                "client.response_ns_per_byte",
                c.response_ns_per_byte,
            )?,
            producer: cost(file, "client.producer_us", &c.producer_us)?,
            transport_read: cost(file, "client.transport_read_us", &c.transport_read_us)?,
            transport_write: cost(file, "client.transport_write_us", &c.transport_write_us)?,
        })
    }
}

fn file_stem(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

/// A model file read once: its name (for messages), its text (to write a variant back with its
/// comments) and its parsed document (to derive variants from).
#[derive(Debug, Clone)]
pub struct ModelSource {
    file: String,
    text: String,
    table: toml::Table,
}

impl ModelSource {
    /// Parses `text`, the model file `file`, as TOML. Its keys and values are checked when a
    /// variant is taken ([`ModelSource::variant`]).
    pub fn parse(file: &str, text: &str) -> Result<ModelSource, ConfigError> {
        Ok(ModelSource {
            file: file.to_string(),
            text: text.to_string(),
            table: super::parse(file, text)?,
        })
    }

    /// The value at a dotted key (`cpu.grpc_request_us.mean`), as the file has it.
    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        let (parent, last) = super::parent_of(&self.table, key)?;
        parent.get(last)
    }

    /// The model as the file has it.
    pub fn params(&self) -> Result<ClusterParams, ConfigError> {
        self.variant(&[])
    }

    /// The model with `overrides` applied in order, validated as a file would be; errors name
    /// the file.
    pub fn variant(&self, overrides: &[Override]) -> Result<ClusterParams, ConfigError> {
        let mut table = self.table.clone();
        for o in overrides {
            o.apply(&self.file, &mut table)?;
        }
        let raw = match ModelFile::deserialize(toml::Value::Table(table.clone())) {
            Ok(raw) => raw,
            // The file itself is wrong: parse its text again, only to say on which line.
            Err(_) if overrides.is_empty() => super::parse::<ModelFile>(&self.file, &self.text)?,
            Err(_) => {
                let file = format!("{} (with --set overrides)", self.file);
                super::from_table::<ModelFile>(&file, table, "")?
            }
        };
        raw.validate(&self.file)
    }

    /// The file's text with the numbers at `values` (dotted keys) replaced, its comments and
    /// layout kept: how a fitted model is written back.
    pub fn with_numbers(&self, values: &[(String, f64)]) -> Result<String, ConfigError> {
        let mut doc: toml_edit::DocumentMut =
            self.text
                .parse()
                .map_err(|e: toml_edit::TomlError| ConfigError::Parse {
                    file: self.file.clone(),
                    line: None,
                    msg: e.message().to_string(),
                })?;
        for (key, v) in values {
            let mut item: &mut toml_edit::Item = doc.as_item_mut();
            for p in key.split('.') {
                item = &mut item[p];
            }
            let decor = item.as_value().map(|x| x.decor().clone());
            let mut nv = toml_edit::Value::from(*v);
            if let Some(d) = decor {
                *nv.decor_mut() = d;
            }
            *item = toml_edit::Item::Value(nv);
        }
        Ok(doc.to_string())
    }
}

/// Parses and validates a model from text (`file` names it in errors), with `overrides` as
/// `--set` takes them (`key=value`).
pub fn model_from_str(
    file: &str,
    text: &str,
    overrides: &[String],
) -> Result<ClusterParams, ConfigError> {
    ModelSource::parse(file, text)?.variant(&Override::parse_all(file, overrides)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../models/gce-8vcpu-ssd.toml");

    #[test]
    fn a_variant_is_the_file_with_its_overrides() {
        let m = ModelSource::parse("m.toml", SHIPPED).unwrap();
        let base = m.params().unwrap();
        let five = m
            .variant(&[Override::Set {
                key: "cluster.voters".into(),
                value: toml::Value::Integer(5),
            }])
            .unwrap();
        assert_eq!((base.voters, five.voters), (3, 5));
        let far = m
            .variant(&[Override::Scale {
                key: "network.rtt_us".into(),
                factor: 2.0,
            }])
            .unwrap();
        let ratio = far.latency[0][1].mean_ns() / base.latency[0][1].mean_ns();
        assert!((ratio - 2.0).abs() < 1e-9, "{ratio}");
        // The source is unchanged by its variants.
        assert_eq!(m.params().unwrap().voters, 3);
        let e = m
            .variant(&[Override::number("cluster.voters", 0.0)])
            .unwrap_err();
        assert!(e.to_string().starts_with("m.toml: cluster.voters"), "{e}");
    }

    #[test]
    fn a_file_error_names_its_line_and_a_variants_error_its_overrides() {
        let text = SHIPPED.replacen("[cluster]\n", "[cluster]\nvoter = 3\n", 1);
        let m = ModelSource::parse("m.toml", &text).unwrap();
        let e = m.params().unwrap_err().to_string();
        assert!(
            e.starts_with("m.toml:")
                && e.contains("cluster: unknown key `voter`; did you mean `voters`?"),
            "{e}"
        );
        let e = m
            .variant(&[Override::number("cluster.voters", 5.0)])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.toml (with --set overrides)"), "{e}");
    }

    #[test]
    fn numbers_are_written_back_with_the_comments() {
        let text = "# top\n[cpu]\n# the cost\na_us = { kind = \"lognormal\", mean = 20, p99 = 60 }\nb_us = 3 # inline\n";
        let m = ModelSource::parse("m.toml", text).unwrap();
        let edited = m
            .with_numbers(&[("cpu.a_us.mean".into(), 30.0), ("cpu.b_us".into(), 4.25)])
            .unwrap();
        assert!(
            edited.contains("# the cost") && edited.contains("# inline"),
            "{edited}"
        );
        let m2 = ModelSource::parse("m.toml", &edited).unwrap();
        assert_eq!(
            m2.get("cpu.a_us.mean").and_then(crate::config::number),
            Some(30.0)
        );
        assert_eq!(
            m2.get("cpu.a_us.p99").and_then(crate::config::number),
            Some(60.0)
        );
        assert_eq!(
            m2.get("cpu.b_us").and_then(crate::config::number),
            Some(4.25)
        );
        assert!(m.get("cpu.nope").is_none());
    }
}
