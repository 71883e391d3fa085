//! The raw model file: one serde struct per table, refusing unknown keys. Defaults live here;
//! `validate` turns a [`ModelFile`] into the model's parameters.

use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::dist::DistSpec;
use crate::model::{Balancer, Mechanisms, RbacLock, WriteParams};

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

fn d_cache_entries() -> u64 {
    2048
}

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
    pub(super) fn validate(&self, file: &str) -> Result<WriteParams, ConfigError> {
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
                return Err(ConfigError::invalid(file, k, "must be at least 1"));
            }
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
}

impl MechanismsSection {
    pub(super) fn apply(&self, file: &str, m: &mut Mechanisms) -> Result<(), ConfigError> {
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

pub(super) fn default_rtt() -> f64 {
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
    pub propose_us: Cost,
    #[serde(default)]
    pub apply_entry_us: Cost,
    #[serde(default)]
    pub apply_ns_per_byte: f64,
    #[serde(default)]
    pub backend_commit_us: Cost,
    #[serde(default)]
    pub backend_commit_ns_per_write: f64,
    #[serde(default)]
    pub read_buffer_copy_ns_per_write: f64,
    /// One bcrypt comparison at cost 10 (`bcrypt.DefaultCost`); 60 ms when absent.
    pub bcrypt_us: Option<Cost>,
    /// The server's `--bcrypt-cost` (10 when absent): each step doubles the comparison's time.
    pub bcrypt_cost: Option<u32>,
    #[serde(default)]
    pub tls_handshake_us: Cost,
}

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

/// `[disk]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskSection {
    /// WAL fdatasync latency.
    #[serde(default = "d_fsync")]
    pub fsync_us: Cost,
}
fn d_fsync() -> Cost {
    Cost::Constant(1_000.0)
}
impl Default for DiskSection {
    fn default() -> Self {
        DiskSection {
            fsync_us: d_fsync(),
        }
    }
}

/// `[placement]`: hosts shared by several processes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSection {
    /// The hosts.
    pub hosts: Vec<HostSection>,
    /// The host of each member, by index.
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
