//! Workloads: the `[workload]` table of an experiment file, and the flags of
//! `etcdsim benchmark` turned into the same form, validated into a [`Workload`] against a
//! cluster. Names follow etcd's `benchmark` flags (`clients`, `conns`, `total`, `rate`,
//! `consistency`, `limit`, `count_only`, `val_size`).

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::limits::{MAX_IN_FLIGHT, MAX_SIM_TIME_S};
use crate::model::timeline::{Change, Step, Stream};
use crate::model::{
    Arrivals, AuthMode, Balancer, ClusterParams, Consistency, EndpointPolicy, MemberId, Probe,
    PutOp, RangeOp, Workload,
};

/// A workload as written in a file or on the command line.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadSpec {
    /// Client goroutines (`--clients`).
    pub clients: u32,
    /// gRPC connections (`--conns`).
    pub conns: u32,
    /// Endpoints (`--endpoints`); empty: every member. `memberN` names a member.
    pub endpoints: Vec<String>,
    /// Send everything to the leader (`--target-leader`).
    pub target_leader: bool,
    /// per-conn, pinned, round-robin or version.
    pub balancer: String,
    /// none, simple-token, jwt or cert.
    pub auth: String,
    /// RBAC rules of the user.
    pub rbac_rules: u32,
    /// l or s (also linearizable, serializable).
    pub consistency: String,
    /// Requests to finish (`--total`).
    pub total: u64,
    /// Requests issued first and not measured.
    pub warmup: u64,
    /// Run for this many simulated seconds instead of `total` requests (0: use `total`).
    pub duration_s: f64,
    /// Requests issued in the first this many simulated seconds are not measured.
    pub warmup_s: f64,
    /// Closed loop: the shared rate limit in requests/s (`--rate`; 0: none).
    pub rate: f64,
    /// Open loop instead: Poisson arrivals at this many requests/s (0: closed loop).
    pub open_rate: f64,
    /// Keys in the requested range (0: 1).
    pub keys_in_range: u64,
    /// Keys in the store (0: as many as in the range).
    pub total_keys: u64,
    /// The most puts one backend commit held while the store was loaded, before the run (a
    /// bulk load: its puts per second times the commit interval, up to the batch limit). A
    /// read buffer that large is what every read copies on 3.4.0–3.4.23 until a commit finds
    /// the key bucket unused (`backend.rs`). 0: a load slower than that, which leaves the
    /// buffer's first 512 slots.
    pub bulk_load_commit_puts: u64,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes (`--val-size`).
    pub val_size: u32,
    /// `--limit` (0: none).
    pub limit: u64,
    /// `--count-only`.
    pub count_only: bool,
    /// Closed loop: the fraction of ops that are reads (1: reads only; 0: puts only).
    pub read_ratio: f64,
    /// Background puts per second beside the main workload (0: none).
    pub write_rate: f64,
    /// The fraction of reads sent serializable whatever `consistency` says (a mix).
    pub serializable_ratio: f64,
    /// Key size of puts in bytes (`put --key-size`).
    pub put_key_size: u32,
    /// Value size of puts in bytes (`put --val-size`).
    pub put_val_size: u32,
    /// Password auth: the probability a request reuses its client's token (1: always).
    pub token_reuse: f64,
    /// Expensive reads per second mixed in (0: none).
    pub expensive_rate: f64,
    /// Keys an expensive read returns (and walks).
    pub expensive_keys: u64,
    /// Value size of the keys an expensive read returns.
    pub expensive_val_size: u32,
    /// clientv3 calls carry a deadline of this many seconds (0: none, as etcd's benchmark).
    #[serde(skip_serializing_if = "is_zero")]
    pub request_timeout_s: f64,
    /// Record completions in intervals of this many simulated seconds (0: not at all, unless
    /// there is a timeline, which records them every second).
    #[serde(skip_serializing_if = "is_zero")]
    pub interval_s: f64,
    /// Scripted steps (`[[workload.timeline]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineSpec>,
    /// The real-etcd harness's probe: single-key reads per second, linearizable and
    /// serializable in turn, from one goroutine on a connection of its own (0: no probe).
    #[serde(skip_serializing_if = "is_zero")]
    pub probe_rate: f64,
    /// The member the probe dials: `leader`, `follower` (the first voter that is not the
    /// leader) or `memberN`. Empty: a follower, or the leader of a one-member cluster (the
    /// harness's default).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub probe_target: String,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// One `[[workload.timeline]]` entry: at `at_s`, one background stream's rate changes, or a
/// member's process pauses for `for_s`, or a member defragments its backend for `for_s`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineSpec {
    /// Simulated seconds from the start of the run (warm-up included).
    pub at_s: f64,
    /// The background put rate from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_rate: Option<f64>,
    /// The expensive read rate from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expensive_rate: Option<f64>,
    /// The member to pause (`memberN`), as `kill -STOP` does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<String>,
    /// The member to defragment (`memberN`), as `etcdctl defrag` does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defrag: Option<String>,
    /// The member to kill (`memberN`), as `kill -KILL` does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<String>,
    /// The member whose disk's fdatasyncs stall (or slow, with `fsync_factor`) for `for_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsync: Option<String>,
    /// The member to cut off from its peers (`memberN`) for `for_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// The member whose peer links get `extra_ms` more one-way delay for `for_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    /// With `latency`: the extra one-way delay (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_ms: Option<f64>,
    /// With `fsync`: each fdatasync takes this many times longer (absent: they stall).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsync_factor: Option<f64>,
    /// The member a `Compact` call goes to (`memberN` or `leader`), compacting every member's
    /// store to the current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compact: Option<String>,
    /// With `compact`: the revisions at or below the current revision that the compaction
    /// scans (absent: the workload's keys plus one for each put since the last compaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revisions: Option<u64>,
    /// With `kill`: the member's process is started again this many seconds after the kill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_after_s: Option<f64>,
    /// How long the pause lasts, or the defragmentation's copy takes, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_s: Option<f64>,
}

/// The most restarts (`kill` with `restart_after_s`) one timeline may script.
const MAX_RESTARTS: usize = 200;

/// The width of the intervals a run records when it has a timeline and names none.
const DEFAULT_INTERVAL_S: f64 = 1.0;

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            clients: 1,
            conns: 1,
            endpoints: Vec::new(),
            target_leader: false,
            balancer: "per-conn".into(),
            auth: "none".into(),
            rbac_rules: 1,
            consistency: "l".into(),
            total: 10_000,
            warmup: 0,
            duration_s: 0.0,
            warmup_s: 0.0,
            rate: 0.0,
            open_rate: 0.0,
            keys_in_range: 0,
            total_keys: 0,
            bulk_load_commit_puts: 0,
            key_size: 8,
            val_size: 256,
            limit: 0,
            count_only: false,
            read_ratio: 1.0,
            write_rate: 0.0,
            serializable_ratio: 0.0,
            put_key_size: 8,
            put_val_size: 256,
            token_reuse: 1.0,
            expensive_rate: 0.0,
            expensive_keys: 10_000,
            expensive_val_size: 256,
            request_timeout_s: 0.0,
            interval_s: 0.0,
            timeline: Vec::new(),
            probe_rate: 0.0,
            probe_target: String::new(),
        }
    }
}

impl WorkloadSpec {
    /// Reads a workload from a TOML table (unknown keys are refused); an error names the key
    /// and the rule.
    pub fn deserialize_table(t: toml::Table) -> Result<WorkloadSpec, String> {
        super::from_table(".", t, "").map_err(|e| match e {
            ConfigError::Parse { msg, .. } => msg,
            other => other.to_string(),
        })
    }

    /// [`WorkloadSpec::deserialize_table`], an error naming `file` (a file, or a point of one)
    /// and the key (`workload.clients`).
    pub fn from_table(file: &str, t: toml::Table) -> Result<WorkloadSpec, ConfigError> {
        super::from_table(file, t, "workload")
    }

    /// The value of the numeric key `key` (defaults filled in) times `f`, as the table entry
    /// that sets it: a whole-number key stays whole (rounded), since it counts something.
    /// `None` if `key` is not a numeric workload key.
    pub fn scaled_value(&self, key: &str, f: f64) -> Option<toml::Value> {
        let resolved = toml::Value::try_from(self).ok()?;
        let cur = resolved.get(key)?;
        let x = super::number(cur)?;
        Some(if cur.is_integer() {
            toml::Value::Integer((x * f).round() as i64)
        } else {
            toml::Value::Float(x * f)
        })
    }

    /// Validates against cluster `p`; `file` and `prefix` (e.g. "workload.") name the source in
    /// errors.
    pub fn validate(
        &self,
        p: &ClusterParams,
        file: &str,
        prefix: &str,
    ) -> Result<Workload, ConfigError> {
        self.validate_named(p, file, &|key| format!("{prefix}{key}"))
    }

    /// [`WorkloadSpec::validate`], naming each key in errors as `name(key)` does (the command
    /// line names its flags: `put_val_size` is `put --val-size`).
    pub fn validate_named(
        &self,
        p: &ClusterParams,
        file: &str,
        name: &dyn Fn(&str) -> String,
    ) -> Result<Workload, ConfigError> {
        let bad = |key: &str, rule: String| ConfigError::invalid(file, name(key), rule);
        if self.clients == 0 || u64::from(self.clients) > MAX_IN_FLIGHT {
            return Err(bad(
                "clients",
                format!(
                    "must be at least 1 and at most {MAX_IN_FLIGHT}, the most a run holds (got {})",
                    self.clients
                ),
            ));
        }
        if self.conns == 0 || self.conns > self.clients {
            return Err(bad(
                "conns",
                format!(
                    "must be between 1 and clients ({}) (got {})",
                    self.clients, self.conns
                ),
            ));
        }
        if self.total == 0 {
            return Err(bad("total", "must be at least 1 (got 0)".into()));
        }
        if self.warmup >= self.total {
            return Err(bad(
                "warmup",
                format!(
                    "must be less than total ({}) (got {})",
                    self.total, self.warmup
                ),
            ));
        }
        if self.duration_s > 0.0 && self.warmup_s >= self.duration_s {
            return Err(bad(
                "warmup_s",
                format!(
                    "must be less than duration_s ({}) (got {})",
                    self.duration_s, self.warmup_s
                ),
            ));
        }
        for (key, x) in [("rate", self.rate), ("open_rate", self.open_rate)] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(bad(key, format!("must be a finite number >= 0 (got {x})")));
            }
        }
        for (key, x) in [("duration_s", self.duration_s), ("warmup_s", self.warmup_s)] {
            if !(x.is_finite() && (0.0..=MAX_SIM_TIME_S).contains(&x)) {
                return Err(bad(
                    key,
                    format!("must be a number of seconds from 0 to 1e9 (got {x})"),
                ));
            }
        }
        for (key, x) in [
            ("write_rate", self.write_rate),
            ("expensive_rate", self.expensive_rate),
            ("probe_rate", self.probe_rate),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(bad(
                    key,
                    format!("must be a finite rate >= 0 per second (got {x})"),
                ));
            }
        }
        for (key, x) in [
            ("read_ratio", self.read_ratio),
            ("token_reuse", self.token_reuse),
            ("serializable_ratio", self.serializable_ratio),
        ] {
            if !(0.0..=1.0).contains(&x) {
                return Err(bad(
                    key,
                    format!("must be a probability in 0..=1 (got {x})"),
                ));
            }
        }
        // A value is stored by a put, and etcd refuses a put whose raft request is over
        // --max-request-bytes ("etcdserver: request is too large").
        let limit = p.write.max_request_bytes;
        let overhead = u64::from(p.sizes.entry_overhead);
        for (key, k, v) in [
            ("val_size", self.key_size, self.val_size),
            ("put_val_size", self.put_key_size, self.put_val_size),
            ("expensive_val_size", self.key_size, self.expensive_val_size),
        ] {
            let size = u64::from(k) + u64::from(v) + overhead;
            if size > limit {
                return Err(bad(
                    key,
                    format!(
                        "a put of this value ({v} B) with its key ({k} B) and entry overhead ({overhead} B) is {size} B, over the request limit write.max_request_bytes ({limit} B), so etcd could not store it; raise write.max_request_bytes (etcd's --max-request-bytes) or shrink the value"
                    ),
                ));
            }
        }
        let timeline = self.timeline_steps(p, &|i, key, rule| {
            ConfigError::invalid(file, format!("{}[{i}].{key}", name("timeline")), rule)
        })?;
        if !(self.interval_s.is_finite() && (0.0..=MAX_SIM_TIME_S).contains(&self.interval_s)) {
            return Err(bad(
                "interval_s",
                format!(
                    "must be a number of seconds from 0 to 1e9 (got {})",
                    self.interval_s
                ),
            ));
        }
        let interval_s = match self.interval_s {
            0.0 if timeline.is_empty() => None,
            0.0 => Some(DEFAULT_INTERVAL_S),
            x => Some(x),
        };
        let interval = interval_s.map(crate::engine::SimDuration::from_secs_f64);
        let t = self.request_timeout_s;
        if !(t.is_finite() && (0.0..=MAX_SIM_TIME_S).contains(&t))
            || (t > 0.0 && crate::engine::SimDuration::from_secs_f64(t).0 == 0)
        {
            return Err(bad(
                "request_timeout_s",
                format!("must be 0 (none) or a number of seconds from 1 ns to 1e9 (got {t})"),
            ));
        }
        let request_timeout = (t > 0.0).then(|| crate::engine::SimDuration::from_secs_f64(t));
        if interval.is_some_and(|d| d.0 == 0) {
            return Err(bad(
                "interval_s",
                format!("must be at least 1 ns (got {})", self.interval_s),
            ));
        }
        if let (Some(iv), true) = (interval_s, self.duration_s > 0.0) {
            let n = (self.duration_s / iv).ceil();
            if n > crate::model::timeline::MAX_INTERVALS as f64 {
                return Err(bad(
                    "interval_s",
                    format!(
                        "cuts duration_s ({}) into {n} intervals, more than the {} a run records; widen the intervals",
                        self.duration_s,
                        crate::model::timeline::MAX_INTERVALS
                    ),
                ));
            }
        }
        let consistency = match self.consistency.as_str() {
            "l" | "linearizable" => Consistency::Linearizable,
            "s" | "serializable" => Consistency::Serializable,
            c => return Err(bad("consistency", format!("must be l or s (got {c:?})"))),
        };
        let keys_in_range = self.keys_in_range.max(1);
        let total_keys = self.store_keys();
        if keys_in_range > total_keys {
            return Err(bad(
                "keys_in_range",
                format!("must not exceed total_keys ({total_keys}) (got {keys_in_range})"),
            ));
        }
        // A commit follows the write transaction that reaches the batch limit, and one holds
        // at most 128 puts (etcd's `--max-txn-ops`).
        let most = p.write.batch_limit + 127;
        if self.bulk_load_commit_puts > most {
            return Err(bad(
                "bulk_load_commit_puts",
                format!(
                    "must be at most write.batch_limit + 127 ({most}): a backend commit follows the transaction that reaches the batch limit, and a transaction holds at most 128 puts (got {})",
                    self.bulk_load_commit_puts
                ),
            ));
        }
        let policy = match self.balancer.as_str() {
            "per-conn" => EndpointPolicy::PerConnection,
            "pinned" => EndpointPolicy::Client(Balancer::Pinned),
            "round-robin" => EndpointPolicy::Client(Balancer::RoundRobin),
            "version" => EndpointPolicy::Client(p.mechanisms.balancer),
            b => {
                return Err(bad(
                    "balancer",
                    format!("must be per-conn, pinned, round-robin or version (got {b:?})"),
                ));
            }
        };
        let auth = match self.auth.as_str() {
            "none" => AuthMode::None,
            "simple-token" => AuthMode::SimpleToken,
            "jwt" => AuthMode::Jwt,
            "cert" => AuthMode::Cert,
            "password" => AuthMode::Password,
            a => {
                return Err(bad(
                    "auth",
                    format!("must be none, simple-token, jwt, cert or password (got {a:?})"),
                ));
            }
        };
        let probe = self.probe(p).map_err(|(key, rule)| bad(key, rule))?;
        let arrivals = if self.open_rate > 0.0 {
            Arrivals::Open {
                rate: self.open_rate,
            }
        } else {
            Arrivals::Closed {
                rate_limit: (self.rate > 0.0).then_some(self.rate),
            }
        };
        Ok(Workload {
            clients: self.clients,
            conns: self.conns,
            endpoints: self
                .endpoint_members(p)
                .map_err(|rule| bad("endpoints", rule))?
                .into_iter()
                .map(MemberId)
                .collect(),
            policy,
            arrivals,
            total: if self.duration_s > 0.0 {
                u64::MAX
            } else {
                self.total
            },
            warmup_requests: self.warmup,
            duration: (self.duration_s > 0.0)
                .then(|| crate::engine::SimDuration::from_secs_f64(self.duration_s)),
            warmup_time: crate::engine::SimDuration::from_secs_f64(self.warmup_s),
            range: RangeOp {
                consistency,
                keys_in_range,
                limit: self.limit,
                count_only: self.count_only,
                key_bytes: self.key_size,
                value_bytes: self.val_size,
                total_keys,
            },
            auth,
            rbac_rules: self.rbac_rules,
            put: PutOp {
                key_bytes: self.put_key_size,
                value_bytes: self.put_val_size,
            },
            read_ratio: self.read_ratio,
            serializable_ratio: self.serializable_ratio,
            write_rate: self.write_rate,
            bulk_load_commit_puts: self.bulk_load_commit_puts,
            token_reuse: self.token_reuse,
            expensive_rate: self.expensive_rate,
            expensive_range: RangeOp {
                consistency,
                keys_in_range: self.expensive_keys,
                limit: 0,
                count_only: false,
                key_bytes: self.key_size,
                value_bytes: self.expensive_val_size,
                total_keys: total_keys.max(self.expensive_keys),
            },
            timeline,
            request_timeout,
            interval,
            probe,
        })
    }

    /// The probe, if `probe_rate` asks for one: its rate and the member `probe_target` names.
    /// An error names the key and the rule.
    fn probe(&self, p: &ClusterParams) -> Result<Option<Probe>, (&'static str, String)> {
        if self.probe_rate == 0.0 {
            if !self.probe_target.is_empty() {
                return Err((
                    "probe_target",
                    "needs probe_rate above 0: without a rate there is no probe to aim".into(),
                ));
            }
            return Ok(None);
        }
        // A Go ticker of a period below 1 ns panics (`time.NewTicker`).
        if self.probe_rate > 1e9 {
            return Err((
                "probe_rate",
                format!(
                    "must be at most 1e9 reads per second, a ticker period of 1 ns (got {})",
                    self.probe_rate
                ),
            ));
        }
        let follower = (0..p.voters).map(MemberId).find(|&m| m != p.leader);
        let member = match self.probe_target.trim() {
            "" => follower.unwrap_or(p.leader),
            "leader" => p.leader,
            "follower" => follower.ok_or((
                "probe_target",
                "names a follower, but the cluster's only voter is its leader".to_string(),
            ))?,
            name => member_named(p, name).map_err(|_| {
                (
                    "probe_target",
                    format!(
                        "must be leader, follower or a member, member0 to member{} (got {name:?})",
                        p.members() - 1
                    ),
                )
            })?,
        };
        if p.proxy.is_some() {
            return Err((
                "probe_rate",
                "the probe dials a member, but this model sends every request through its grpc-proxy".into(),
            ));
        }
        Ok(Some(Probe {
            rate: self.probe_rate,
            member,
            range: RangeOp {
                consistency: Consistency::Linearizable,
                keys_in_range: 1,
                limit: 0,
                count_only: false,
                key_bytes: self.key_size,
                value_bytes: self.val_size,
                total_keys: self.store_keys(),
            },
        }))
    }

    /// The keys in the store: `total_keys`, or the range's keys when it is 0.
    fn store_keys(&self) -> u64 {
        if self.total_keys == 0 {
            self.keys_in_range.max(1)
        } else {
            self.total_keys
        }
    }

    /// The timeline's steps, validated and in time order (steps at the same time keep the
    /// file's order).
    fn timeline_steps(
        &self,
        p: &ClusterParams,
        bad_entry: &dyn Fn(usize, &str, String) -> ConfigError,
    ) -> Result<Vec<Step>, ConfigError> {
        use crate::engine::SimDuration;
        let mut steps = Vec::with_capacity(self.timeline.len());
        // (member, start, end, entry) of each pause and defragmentation, to check overlaps.
        let mut spans: Vec<(MemberId, &'static str, f64, f64, usize)> = Vec::new();
        let mut restarts = 0;
        // Why a step may not touch member `m` down from `from` to `to` (a kill's span).
        let down_rule = |m: MemberId, from: f64, to: f64| {
            if to.is_infinite() {
                format!("member{} is killed at {from} s and stays down", m.0)
            } else {
                format!("member{} is down from {from} s to {to} s then", m.0)
            }
        };
        for (i, t) in self.timeline.iter().enumerate() {
            let bad = |k: &str, rule: String| bad_entry(i, k, rule);
            if !(t.at_s.is_finite() && (0.0..=MAX_SIM_TIME_S).contains(&t.at_s)) {
                return Err(bad(
                    "at_s",
                    format!("must be a number of seconds from 0 to 1e9 (got {})", t.at_s),
                ));
            }
            let at = SimDuration::from_secs_f64(t.at_s);
            let set = [
                t.write_rate.is_some(),
                t.expensive_rate.is_some(),
                t.pause.is_some(),
                t.defrag.is_some(),
                t.kill.is_some(),
                t.fsync.is_some(),
                t.partition.is_some(),
                t.latency.is_some(),
                t.compact.is_some(),
            ];
            if set.iter().filter(|&&x| x).count() != 1 {
                return Err(bad(
                    "at_s",
                    "a step sets exactly one of write_rate, expensive_rate, pause, defrag, kill, fsync, partition, latency and compact".into(),
                ));
            }
            if t.revisions.is_some() && t.compact.is_none() {
                return Err(bad("revisions", "goes with compact = \"memberN\"".into()));
            }
            match (&t.latency, t.extra_ms) {
                (Some(_), None) => {
                    return Err(bad(
                        "extra_ms",
                        "a latency step needs its extra one-way delay in ms".into(),
                    ));
                }
                (None, Some(_)) => {
                    return Err(bad("extra_ms", "goes with latency = \"memberN\"".into()));
                }
                (Some(_), Some(x)) if !(x.is_finite() && x > 0.0 && x <= 60_000.0) => {
                    return Err(bad(
                        "extra_ms",
                        format!("must be a delay in ms above 0, up to 60000 (got {x})"),
                    ));
                }
                _ => {}
            }
            if let Some(f) = t.fsync_factor {
                if t.fsync.is_none() {
                    return Err(bad("fsync_factor", "goes with fsync = \"memberN\"".into()));
                }
                if !(f.is_finite() && (1.0..=1e6).contains(&f)) {
                    return Err(bad(
                        "fsync_factor",
                        format!(
                            "must be a factor from 1 to 1e6 (absent: the fdatasyncs stall) (got {f})"
                        ),
                    ));
                }
            }
            if t.restart_after_s.is_some() && t.kill.is_none() {
                return Err(bad(
                    "restart_after_s",
                    "goes with kill = \"memberN\"".into(),
                ));
            }
            if let Some(name) = &t.compact {
                let m = member_named(p, name).map_err(|rule| bad("compact", rule))?;
                if t.for_s.is_some() {
                    return Err(bad(
                        "for_s",
                        "a compaction takes as long as its work does; it has no length to set"
                            .into(),
                    ));
                }
                if let Some(&(_, _, from, to, _)) = spans.iter().find(|&&(sm, sw, from, to, _)| {
                    sm == m && sw == "kill" && from <= t.at_s && t.at_s <= to
                }) {
                    return Err(bad("at_s", down_rule(m, from, to)));
                }
                if let Some(&(_, _, from, to, _)) = spans.iter().find(|&&(sm, sw, from, to, _)| {
                    sm == m && sw == "pause" && from <= t.at_s && t.at_s < to
                }) {
                    return Err(bad(
                        "at_s",
                        format!(
                            "member{} is paused from {from} s to {to} s: a compaction called on it waits for the resume; call it after that",
                            m.0
                        ),
                    ));
                }
                let keys = self.store_keys();
                if let Some(r) = t.revisions.filter(|&r| r < keys) {
                    return Err(bad(
                        "revisions",
                        format!(
                            "must be at least the store's keys ({keys}), each of which has a revision (got {r})"
                        ),
                    ));
                }
                spans.push((m, "compact", t.at_s, t.at_s, i));
                steps.push(Step {
                    at,
                    change: Change::Compact {
                        member: m,
                        revisions: t.revisions,
                    },
                });
                continue;
            }
            if let Some(name) = &t.kill {
                let m = member_named(p, name).map_err(|rule| bad("kill", rule))?;
                if p.proxy.is_some() {
                    return Err(bad(
                        "kill",
                        "a kill behind the gRPC proxy is not simulated yet (the proxy's own retries are not)".into(),
                    ));
                }
                if t.for_s.is_some() {
                    return Err(bad(
                        "for_s",
                        "is the length of a pause or a defrag; a killed member stays down, or restart_after_s starts it again".into(),
                    ));
                }
                let down_until = match t.restart_after_s {
                    None => f64::INFINITY,
                    Some(r) if r.is_finite() && r > 0.0 && t.at_s + r <= MAX_SIM_TIME_S => {
                        t.at_s + r
                    }
                    Some(r) => {
                        return Err(bad(
                            "restart_after_s",
                            format!(
                                "must be a number of seconds above 0, ending by 1e9 s (got {r})"
                            ),
                        ));
                    }
                };
                // Down until its raft node runs again: the restart's step plus the model's
                // start-up time. Spans that touch a kill's are refused (closed intervals), so
                // that nothing acts on a member while it starts.
                let down_end = down_until + p.raft_timing.start_up.as_secs_f64();
                if let Some(&(_, other, from, to, _)) = spans
                    .iter()
                    .find(|&&(sm, _, from, to, _)| sm == m && from <= down_end && t.at_s <= to)
                {
                    let rule = if other == "kill" {
                        down_rule(m, from, to)
                    } else {
                        format!(
                            "member{} has a {other} from {from} s on: kill it after that ends",
                            m.0
                        )
                    };
                    return Err(bad("at_s", rule));
                }
                spans.push((m, "kill", t.at_s, down_end, i));
                steps.push(Step {
                    at,
                    change: Change::Kill(m),
                });
                if down_until.is_finite() {
                    // Each start is a new Go process, and a run's processes are counted in
                    // a byte.
                    restarts += 1;
                    if restarts > MAX_RESTARTS {
                        return Err(bad(
                            "restart_after_s",
                            format!(
                                "a timeline starts killed members again at most {MAX_RESTARTS} times"
                            ),
                        ));
                    }
                    steps.push(Step {
                        at: SimDuration::from_secs_f64(down_until),
                        change: Change::Restart(m),
                    });
                }
                continue;
            }
            let on_member = t
                .pause
                .as_deref()
                .map(|n| ("pause", n))
                .or(t.defrag.as_deref().map(|n| ("defrag", n)))
                .or(t.fsync.as_deref().map(|n| ("fsync", n)))
                .or(t.partition.as_deref().map(|n| ("partition", n)))
                .or(t.latency.as_deref().map(|n| ("latency", n)));
            let Some((what, name)) = on_member else {
                if t.for_s.is_some() {
                    return Err(bad(
                        "for_s",
                        "is the length of a pause, a defrag, an fsync spell, a partition or a latency step; set it with one of them".into(),
                    ));
                }
                let (stream, rate, k) = match (t.write_rate, t.expensive_rate) {
                    (Some(r), _) => (Stream::Writes, r, "write_rate"),
                    (_, Some(r)) => (Stream::Expensive, r, "expensive_rate"),
                    _ => unreachable!("exactly one key is set"),
                };
                if !(rate.is_finite() && rate >= 0.0) {
                    return Err(bad(
                        k,
                        format!("must be a finite rate >= 0 per second (got {rate})"),
                    ));
                }
                steps.push(Step {
                    at,
                    change: Change::Rate { stream, rate },
                });
                continue;
            };
            let m = member_named(p, name).map_err(|rule| bad(what, rule))?;
            let d = t
                .for_s
                .ok_or_else(|| bad("for_s", format!("a {what} needs its length in seconds")))?;
            if !(d.is_finite()
                && d > 0.0
                && d <= MAX_SIM_TIME_S
                && SimDuration::from_secs_f64(d).0 > 0)
            {
                return Err(bad(
                    "for_s",
                    format!("must be a number of seconds above 0, up to 1e9 (got {d})"),
                ));
            }
            if let Some(&(_, other, from, to, _)) = spans.iter().find(|&&(sm, sw, from, to, _)| {
                sm == m
                    && ((sw == what && t.at_s < to && from < t.at_s + d)
                        || (sw == "kill" && t.at_s <= to && from <= t.at_s + d)
                        || (what == "pause"
                            && sw == "compact"
                            && t.at_s <= from
                            && from < t.at_s + d))
            }) {
                let rule = if other == "kill" {
                    down_rule(m, from, to)
                } else if other == "compact" {
                    format!(
                        "member{} is called to compact at {from} s, inside this pause: a compaction called on it waits for the resume; call it after that",
                        m.0
                    )
                } else {
                    format!(
                        "member{} has a {other} from {from} s to {to} s then: a member's {what}s must not overlap",
                        m.0
                    )
                };
                return Err(bad("at_s", rule));
            }
            spans.push((m, what, t.at_s, t.at_s + d, i));
            if what == "pause" {
                steps.push(Step {
                    at,
                    change: Change::Pause(m),
                });
                steps.push(Step {
                    at: SimDuration::from_secs_f64(t.at_s + d),
                    change: Change::Resume(m),
                });
            } else if what == "latency" {
                steps.push(Step {
                    at,
                    change: Change::Latency(
                        m,
                        SimDuration::from_secs_f64(t.extra_ms.unwrap_or(0.0) / 1e3),
                        SimDuration::from_secs_f64(d),
                    ),
                });
            } else if what == "partition" {
                steps.push(Step {
                    at,
                    change: Change::Partition(m, SimDuration::from_secs_f64(d)),
                });
            } else if what == "fsync" {
                steps.push(Step {
                    at,
                    change: Change::Fsync(
                        m,
                        t.fsync_factor.unwrap_or(f64::INFINITY),
                        SimDuration::from_secs_f64(d),
                    ),
                });
            } else {
                steps.push(Step {
                    at,
                    change: Change::Defrag(m, SimDuration::from_secs_f64(d)),
                });
            }
        }
        // Stable: steps at the same time keep the file's order.
        steps.sort_by_key(|s| s.at);
        Ok(steps)
    }

    fn endpoint_members(&self, p: &ClusterParams) -> Result<Vec<u8>, String> {
        if self.target_leader {
            return Ok(vec![p.leader.0]);
        }
        let n = p.members();
        if self.endpoints.is_empty() {
            return Ok((0..n).collect());
        }
        if self.endpoints.len() > usize::from(n) {
            return Err(format!(
                "{} endpoints given but the model has {n} members",
                self.endpoints.len()
            ));
        }
        self.endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| match e.trim().strip_prefix("member") {
                Some(k) => k
                    .parse::<u8>()
                    .ok()
                    .filter(|&k| k < n)
                    .ok_or_else(|| format!("{e:?} names no member (member0..member{})", n - 1)),
                None => Ok(i as u8),
            })
            .collect()
    }
}

/// The member a timeline names (`memberN`, or `leader`: the model's leader at the start).
fn member_named(p: &ClusterParams, name: &str) -> Result<MemberId, String> {
    let n = p.members();
    if name.trim() == "leader" {
        return Ok(p.leader);
    }
    name.trim()
        .strip_prefix("member")
        .and_then(|k| k.parse::<u8>().ok())
        .filter(|&k| k < n)
        .map(MemberId)
        .ok_or_else(|| {
            format!(
                "must name a member, member0 to member{}, or leader (got {name:?})",
                n - 1
            )
        })
}
