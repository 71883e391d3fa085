//! Calibration inputs: the reference CSV of measured benchmark runs, and the calibration file
//! that names a model, a reference and the parameters that may move.
//!
//! A reference CSV comes in one of two layouts, told apart by its header: etcd.io's published
//! table (`kind,requests,…,qps,latency_ms_mean,…`), and the real-etcd harness's (`case,kind,
//! members,leader,target,…`, `harness/README.md`), whose rows also say the cluster (members,
//! GOMAXPROCS), the workload in full and the CPU each process used per request.
//!
//! Rows can also come from files holding what etcd's real `benchmark` tool printed, its
//! command line first (`benchmark_outputs`, parsed by [`super::benchmark_output`]); each is a
//! row labelled by its path as the calibration file gives it. A file names a reference CSV,
//! benchmark outputs, or both.
//!
//! ```toml
//! model = "../../models/gce-8vcpu-ssd.toml"       # paths are from this file's folder
//! reference = "../reference/etcd-io-v3.4-performance.csv"
//! benchmark_outputs = ["runs/l1000.txt"]           # `benchmark …` then its report
//! seed = 1
//! max_evals = 120
//! latency_weight = 1.0        # weight of the latency errors against the throughput errors
//! cpu_weight = 0.5            # … of the CPU per request (harness rows that measured it)
//! disk_weight = 0.5           # … of etcd's disk histograms (harness rows that write)
//! exclude = ["read s, 1000 clients"]   # rows reported but left out of the objective
//! [params]                    # model keys that may move, with bounds (a distribution's mean
//! "client.loop_us" = { min = 10, max = 80 }          # keeps its shape: its p99 scales too)
//! "cpu.grpc_request_us.mean" = { min = 5, max = 60, log = true }
//! ```

use serde::{Deserialize, Serialize};

/// The most puts one backend commit held during the harness's preload (transactions of up to
/// 100 puts, four at a time): all of them up to a few thousand. Measured with
/// `member_flags = "--enable-pprof"` and the leader's allocation profile (bytes per
/// `bucketBuffer.Copy`): 1,000 preloaded keys left 1,152 key-bucket slots (one commit), and
/// 10,000 left 5,832 (3,888 to 5,831 puts in the largest commit), on a 2-vCPU Intel Xeon KVM VM.
pub const HARNESS_PRELOAD_COMMIT_PUTS: u64 = 5_000;

use super::ConfigError;
use super::model::ModelSource;
use super::variant::Override;
use super::workload::WorkloadSpec;

/// A calibration file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationFile {
    /// The model to calibrate, relative to the calibration file's folder; absent, the reference
    /// model built into etcdsim (whose source is `models/gce-8vcpu-ssd.toml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The reference CSV, relative to the calibration file's folder (absent: the rows are
    /// the `benchmark_outputs` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Files holding the output of etcd's real `benchmark` tool (its command line, then its
    /// report), relative to the calibration file's folder: a reference row each, labelled by
    /// the path as given here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub benchmark_outputs: Vec<String>,
    /// The seed of every evaluation (common random numbers: the same for every candidate).
    #[serde(default = "one")]
    pub seed: u64,
    /// The most objective evaluations the search may use.
    #[serde(default = "evals")]
    pub max_evals: usize,
    /// Weight of the latency errors against the throughput errors.
    #[serde(default = "unit")]
    pub latency_weight: f64,
    /// Reference rows (by label, as printed) left out of the objective, each for a stated
    /// reason: a row the model cannot reach with sensible parameters would otherwise drag every
    /// other row off. They are still simulated and reported.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The only rows the objective uses (by label); every other row is held out, simulated and
    /// reported as a prediction. Empty: every row not excluded.
    #[serde(default)]
    pub fit: Vec<String>,
    /// Weight of the CPU-per-request errors (leader, follower, client), where the reference
    /// measured them, against the throughput errors.
    #[serde(default)]
    pub cpu_weight: f64,
    /// Weight of the errors of etcd's disk histograms (the WAL fdatasync's and the backend
    /// commit's means), where the reference measured them on a row that writes.
    #[serde(default)]
    pub disk_weight: f64,
    /// The parameters that may move.
    pub params: toml::Table,
    /// Caps on each run, as in experiment files.
    #[serde(default)]
    pub limits: super::limits::Limits,
}

fn one() -> u64 {
    1
}
fn evals() -> usize {
    120
}
fn unit() -> f64 {
    1.0
}

/// The bounds of a parameter.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// Search on a log scale (for a parameter that spans orders of magnitude).
    #[serde(default)]
    pub log: bool,
}

/// A parameter that may move: its dotted model key and its bounds.
#[derive(Debug, Clone)]
pub struct FreeParam {
    /// The dotted model key (`client.loop_us`, `cpu.grpc_request_us.mean`).
    pub key: String,
    /// Its bounds.
    pub bounds: Bounds,
}

/// Where a free parameter stands in the model: a number, or a distribution's mean with the p99
/// that scales along with it (so the distribution keeps its shape).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Start {
    /// The number, or the mean.
    pub value: f64,
    /// The distribution's p99, when the key is its `mean` and it has one.
    pub p99: Option<f64>,
}

impl FreeParam {
    /// Where the parameter stands in `model`, if a number is at its key.
    pub fn start(&self, model: &ModelSource) -> Option<Start> {
        let p99 = self
            .key
            .strip_suffix(".mean")
            .and_then(|parent| model.get(&format!("{parent}.p99")))
            .and_then(super::number);
        Some(Start {
            value: super::number(model.get(&self.key)?)?,
            p99,
        })
    }

    /// The keys and numbers that give the parameter the value `v`: its own key, and the p99
    /// scaled alongside a distribution's mean.
    pub fn values(&self, start: Start, v: f64) -> Vec<(String, f64)> {
        let mut out = vec![(self.key.clone(), v)];
        if let Some(p99) = start.p99 {
            let parent = self.key.trim_end_matches(".mean");
            out.push((format!("{parent}.p99"), p99 * v / start.value.max(1e-12)));
        }
        out
    }
}

/// The overrides that set `values` (from [`FreeParam::values`]).
pub fn overrides(values: &[(String, f64)]) -> Vec<Override> {
    values
        .iter()
        .map(|(k, v)| Override::number(k, *v))
        .collect()
}

/// The fitted model: `model`'s text with `values` set, each rounded to 6 significant digits,
/// its comments and layout kept. Six digits are enough that the written model predicts what was
/// printed (some rows move by percents when a cost moves by a part in a thousand).
pub fn fitted_model(model: &ModelSource, values: &[(String, f64)]) -> Result<String, ConfigError> {
    let rounded: Vec<(String, f64)> = values
        .iter()
        .map(|(k, v)| {
            let digits = (5 - v.abs().max(1e-12).log10().floor() as i32).max(0);
            let scale = 10f64.powi(digits);
            (k.clone(), (v * scale).round() / scale)
        })
        .collect();
    model.with_numbers(&rounded)
}

impl Bounds {
    /// The value at `u` in `[0, 1]`.
    pub fn at(&self, u: f64) -> f64 {
        if self.log {
            (self.min.ln() + u * (self.max.ln() - self.min.ln())).exp()
        } else {
            self.min + u * (self.max - self.min)
        }
    }

    /// Where `v` lies in `[0, 1]` (clamped).
    pub fn position(&self, v: f64) -> f64 {
        let u = if self.log {
            (v.ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        };
        u.clamp(0.0, 1.0)
    }
}

/// Parses a calibration file's `text` (`file` names it in errors).
pub fn parse(file: &str, text: &str) -> Result<CalibrationFile, ConfigError> {
    super::parse(file, text)
}

impl CalibrationFile {
    /// Checks that the file names some rows: a reference CSV, benchmark outputs, or both.
    pub fn check_rows(&self, file: &str) -> Result<(), ConfigError> {
        if self.reference.is_none() && self.benchmark_outputs.is_empty() {
            return Err(ConfigError::invalid(
                file,
                "reference",
                "name the measured rows: a reference CSV (reference = \"../reference/x.csv\"), files of etcd benchmark output (benchmark_outputs = [\"runs/l1000.txt\"]), or both",
            ));
        }
        Ok(())
    }

    /// The reference CSV, for what needs one (`etcdsim validation`).
    pub fn reference_csv(&self, file: &str) -> Result<&str, ConfigError> {
        self.reference.as_deref().ok_or_else(|| {
            ConfigError::invalid(
                file,
                "reference",
                "validation needs a reference CSV (reference = \"../reference/x.csv\")",
            )
        })
    }

    /// The free parameters, checked: bounds finite, ordered, positive on a log scale.
    pub fn free_params(&self, file: &str) -> Result<Vec<FreeParam>, ConfigError> {
        if self.params.is_empty() {
            return Err(ConfigError::invalid(
                file,
                "params",
                "name at least one model key that may move",
            ));
        }
        if self.max_evals < 1 {
            return Err(ConfigError::invalid(
                file,
                "max_evals",
                "must be at least 1",
            ));
        }
        for (key, w) in [
            ("latency_weight", self.latency_weight),
            ("cpu_weight", self.cpu_weight),
            ("disk_weight", self.disk_weight),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(ConfigError::invalid(
                    file,
                    key,
                    format!("must be a finite number >= 0 (got {w})"),
                ));
            }
        }
        self.params
            .iter()
            .map(|(k, v)| {
                let key = format!("params.\"{k}\"");
                let bounds = Bounds::deserialize(v.clone()).map_err(|e| {
                    ConfigError::invalid(
                        file,
                        &key,
                        format!("must be {{ min = .., max = .., log = false }}: {}", e.message().trim()),
                    )
                })?;
                let ok = bounds.min.is_finite()
                    && bounds.max.is_finite()
                    && bounds.min < bounds.max
                    && (!bounds.log || bounds.min > 0.0);
                if !ok {
                    return Err(ConfigError::invalid(
                        file,
                        key,
                        format!(
                            "needs finite min < max (and min > 0 with log = true); got min = {}, max = {}",
                            bounds.min, bounds.max
                        ),
                    ));
                }
                Ok(FreeParam {
                    key: k.clone(),
                    bounds,
                })
            })
            .collect()
    }
}

/// What a reference row measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceRow {
    /// Its line in the file, for messages.
    pub line: usize,
    /// A short label: "read l 1000 clients", or the harness's case name.
    pub label: String,
    /// The benchmark run it describes, as a workload.
    pub workload: WorkloadSpec,
    /// What the row's cluster changes in the model (its member count, GOMAXPROCS).
    pub cluster: Vec<Override>,
    /// Measured requests per second.
    pub qps: f64,
    /// Measured mean latency in ms.
    pub latency_ms: f64,
    /// Measured p99 latency in ms, if the reference has it.
    pub p99_ms: Option<f64>,
    /// The lowest and highest throughput over the row's repetitions, if known.
    pub qps_spread: Option<(f64, f64)>,
    /// Measured CPU per request of the workload, in µs, where the reference has it.
    pub cpu_us: CpuPerRequest,
    /// Measured means of etcd's WAL fdatasync and backend commit histograms over the window,
    /// in ms, for rows that write (a read-only row's are since its members started).
    pub disk_ms: crate::model::DiskMeans,
    /// The harness's probe's mean latencies, linearizable then serializable, in ms, where it
    /// ran (the row's workload then runs the probe too).
    pub probe_ms: [Option<f64>; 2],
    /// The members' mean run queues as `GODEBUG=schedtrace` printed them, where measured: the
    /// local queues together, then the global queue.
    pub runq: [Option<f64>; 2],
    /// Why the row cannot be simulated, if it cannot (it is then reported, not simulated).
    pub unsupported: Option<String>,
}

/// CPU per request of the workload, in µs, by process.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuPerRequest {
    /// The leader.
    pub leader: Option<f64>,
    /// A follower (the mean over the followers).
    pub follower: Option<f64>,
    /// The client (the benchmark process).
    pub client: Option<f64>,
}

/// Reads a reference CSV (the columns of `etcd-io-v3.4-performance.csv`; lines starting with
/// `#` are comments). `file` names it in errors.
pub fn parse_reference(file: &str, text: &str) -> Result<Vec<ReferenceRow>, ConfigError> {
    let mut header: Option<Vec<&str>> = None;
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = l.split(',').map(str::trim).collect();
        let Some(header) = &header else {
            header = Some(fields);
            continue;
        };
        let r = Record {
            file,
            line: i + 1,
            header,
            fields: &fields,
        };
        rows.push(if header.contains(&"case") {
            r.harness_row()?
        } else {
            r.row()?
        });
    }
    if rows.is_empty() {
        return Err(ConfigError::Parse {
            file: file.to_string(),
            line: None,
            msg: "no rows: a header line and at least one measured run are needed".into(),
        });
    }
    Ok(rows)
}

/// One line of a reference CSV, with the header that names its fields.
struct Record<'a> {
    file: &'a str,
    line: usize,
    header: &'a [&'a str],
    fields: &'a [&'a str],
}

impl Record<'_> {
    fn bad(&self, col: &str, rule: String) -> ConfigError {
        ConfigError::Parse {
            file: self.file.to_string(),
            line: Some(self.line),
            msg: format!("column {col}: {rule}"),
        }
    }

    fn get(&self, col: &str) -> Result<&str, ConfigError> {
        let at = self
            .header
            .iter()
            .position(|c| *c == col)
            .ok_or_else(|| self.bad(col, "missing from the header".into()))?;
        self.fields
            .get(at)
            .copied()
            .ok_or_else(|| self.bad(col, format!("the row has {} fields", self.fields.len())))
    }

    fn num(&self, col: &str) -> Result<f64, ConfigError> {
        let s = self.get(col)?;
        s.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x > 0.0)
            .ok_or_else(|| self.bad(col, format!("must be a number > 0 (got {s:?})")))
    }

    /// A number >= 0 in an optional cell (empty or absent: `None`).
    fn opt(&self, col: &str) -> Result<Option<f64>, ConfigError> {
        if !self.header.contains(&col) {
            return Ok(None);
        }
        let s = self.get(col)?;
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(Some)
            .ok_or_else(|| self.bad(col, format!("must be empty or a number >= 0 (got {s:?})")))
    }

    /// A whole number >= 0 in an optional cell (empty: 0).
    fn count(&self, col: &str) -> Result<u64, ConfigError> {
        let s = self.get(col)?;
        if s.is_empty() {
            return Ok(0);
        }
        s.parse::<u64>().map_err(|_| {
            self.bad(
                col,
                format!("must be empty or a whole number >= 0 (got {s:?})"),
            )
        })
    }

    fn int(&self, col: &str) -> Result<u32, ConfigError> {
        let s = self.get(col)?;
        s.parse::<u32>()
            .ok()
            .filter(|x| *x > 0)
            .ok_or_else(|| self.bad(col, format!("must be a whole number > 0 (got {s:?})")))
    }

    /// The benchmark run this line describes.
    fn row(&self) -> Result<ReferenceRow, ConfigError> {
        let line = self.line;
        let kind = self.get("kind")?;
        let (clients, conns) = (self.int("clients")?, self.int("conns")?);
        let target = self.get("target")?;
        let target_leader = match target {
            "leader only" => true,
            "all members" => false,
            t => {
                return Err(self.bad(
                    "target",
                    format!("must be \"leader only\" or \"all members\" (got {t:?})"),
                ));
            }
        };
        let base = WorkloadSpec {
            clients,
            conns,
            total: u64::from(self.int("requests")?),
            target_leader,
            ..WorkloadSpec::default()
        };
        let (label, workload) = match kind {
            "read" => {
                let c = match self.get("consistency")? {
                    "linearizable" | "l" => "l",
                    "serializable" | "s" => "s",
                    c => {
                        return Err(self.bad(
                            "consistency",
                            format!("must be linearizable or serializable (got {c:?})"),
                        ));
                    }
                };
                (
                    format!("read {c}, {clients} clients"),
                    WorkloadSpec {
                        consistency: c.into(),
                        key_size: self.int("key_size_bytes")?,
                        val_size: self.int("value_size_bytes")?,
                        ..base
                    },
                )
            }
            "write" => (
                format!(
                    "write, {clients} clients, {}",
                    if target_leader { "leader" } else { "all" }
                ),
                WorkloadSpec {
                    read_ratio: 0.0,
                    put_key_size: self.int("key_size_bytes")?,
                    put_val_size: self.int("value_size_bytes")?,
                    ..base
                },
            ),
            k => return Err(self.bad("kind", format!("must be read or write (got {k:?})"))),
        };
        Ok(ReferenceRow {
            line,
            label,
            workload,
            cluster: Vec::new(),
            qps: self.num("qps")?,
            latency_ms: self.num("latency_ms_mean")?,
            p99_ms: None,
            qps_spread: None,
            cpu_us: CpuPerRequest::default(),
            disk_ms: Default::default(),
            probe_ms: [None; 2],
            runq: [None; 2],
            unsupported: None,
        })
    }

    /// A row of the real-etcd harness (`harness/README.md`): a time-bounded run (warm-up, then
    /// the measured window) on a cluster of `members` whose member 0 leads.
    fn harness_row(&self) -> Result<ReferenceRow, ConfigError> {
        let kind = self.get("kind")?;
        let members = self.int("members")?;
        if self.count("leader")? != 0 {
            return Err(self.bad("leader", "the model's rows need member 0 to lead".into()));
        }
        let mut cluster = vec![
            Override::number("cluster.voters", f64::from(members)),
            Override::number("cluster.leader", 0.0),
        ];
        let gomaxprocs = self.count("gomaxprocs")?;
        if gomaxprocs > 0 {
            for k in ["go.member_gomaxprocs", "go.client_gomaxprocs"] {
                cluster.push(Override::number(k, gomaxprocs as f64));
            }
        }
        let (target_leader, endpoints) = match self.get("target")? {
            "leader only" => (true, Vec::new()),
            "all members" => (false, Vec::new()),
            "follower only" if members > 1 => (false, vec!["member1".to_string()]),
            t => {
                return Err(self.bad(
                    "target",
                    format!("must be \"leader only\", \"follower only\" (with followers) or \"all members\" (got {t:?})"),
                ));
            }
        };
        let consistency = match self.get("consistency")? {
            "linearizable" | "l" | "" => "l",
            "serializable" | "s" => "s",
            c => {
                return Err(self.bad(
                    "consistency",
                    format!("must be linearizable, serializable or empty (got {c:?})"),
                ));
            }
        };
        let mut unsupported = None;
        let (auth, token_reuse) = match (self.get("auth")?, self.get("auth_token")?) {
            ("none", _) => ("none", 1.0),
            ("password", "jwt") => ("jwt", 1.0),
            ("password", _) => ("password", self.opt("token_reuse")?.unwrap_or(1.0)),
            (a, _) => return Err(self.bad("auth", format!("must be none or password (got {a:?})"))),
        };
        let value = self.count("value_size_bytes")?.max(1) as u32;
        let key = self.int("key_size_bytes")?;
        let keys = self.count("keys_in_range")?.max(1);
        let read = match kind {
            "read" => 1.0,
            "write" => 0.0,
            "authenticate" => {
                unsupported = Some(
                    "an Authenticate-only workload: etcdsim models Authenticate before a request, not alone"
                        .to_string(),
                );
                1.0
            }
            k => {
                return Err(self.bad(
                    "kind",
                    format!("must be read, write or authenticate (got {k:?})"),
                ));
            }
        };
        let warmup = self.num("warmup_s")?;
        let probe_ms = [self.opt("probe_l_ms_mean")?, self.opt("probe_s_ms_mean")?];
        let clients = self.count("clients")?;
        if clients == 0 {
            unsupported = Some("no closed-loop clients: only the l/s probe ran".to_string());
        }
        let clients = u32::try_from(clients.max(1))
            .map_err(|_| self.bad("clients", "must fit 32 bits".into()))?;
        let workload = WorkloadSpec {
            clients,
            conns: u32::try_from(self.count("conns")?.clamp(1, u64::from(clients)))
                .unwrap_or(clients),
            endpoints,
            target_leader,
            auth: auth.into(),
            token_reuse,
            consistency: consistency.into(),
            duration_s: warmup + self.num("duration_s")?,
            warmup_s: warmup,
            rate: self.opt("rate")?.unwrap_or(0.0),
            keys_in_range: keys,
            total_keys: keys,
            bulk_load_commit_puts: keys.min(HARNESS_PRELOAD_COMMIT_PUTS),
            key_size: key,
            val_size: value,
            limit: self.count("limit")?,
            count_only: self.get("count_only")? == "true",
            read_ratio: read,
            write_rate: self.opt("write_rate")?.unwrap_or(0.0),
            put_key_size: key,
            put_val_size: value,
            probe_rate: if probe_ms.iter().any(Option::is_some) {
                HARNESS_PROBE_RATE
            } else {
                0.0
            },
            probe_target: if probe_ms.iter().any(Option::is_some) && members > 1 {
                "follower".into()
            } else {
                String::new()
            },
            ..WorkloadSpec::default()
        };
        let spread = match (self.opt("qps_min")?, self.opt("qps_max")?) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        // A row that cannot be simulated may have measured no requests of its own.
        let (qps, latency_ms) = if unsupported.is_some() {
            (
                self.opt("qps")?.unwrap_or(0.0),
                self.opt("latency_ms_mean")?.unwrap_or(0.0),
            )
        } else {
            (self.num("qps")?, self.num("latency_ms_mean")?)
        };
        let kind_writes = read < 1.0 || self.opt("write_rate")?.is_some_and(|r| r > 0.0);
        Ok(ReferenceRow {
            line: self.line,
            label: self.get("case")?.to_string(),
            workload,
            cluster,
            qps,
            latency_ms,
            p99_ms: self.opt("latency_ms_p99")?,
            qps_spread: spread,
            cpu_us: CpuPerRequest {
                leader: self.opt("leader_cpu_us_per_req")?,
                follower: self.opt("follower_cpu_us_per_req")?.filter(|_| members > 1),
                client: self.opt("client_cpu_us_per_req")?,
            },
            disk_ms: if kind_writes {
                crate::model::DiskMeans {
                    wal_fsync_ms: self.opt("wal_fsync_ms_mean")?,
                    backend_commit_ms: self.opt("backend_commit_ms_mean")?,
                }
            } else {
                Default::default()
            },
            probe_ms,
            runq: [
                self.opt("member_runq_local_mean")?,
                self.opt("member_runq_global_mean")?,
            ],
            unsupported,
        })
    }
}

/// The probe's rate in the harness's grids (`harness/grids/full.toml`, the `probe` case), for
/// rows that measured a probe: the CSV does not say the rate, and the grids dial the first
/// follower (member 1 here, as member 0 leads every row).
pub const HARNESS_PROBE_RATE: f64 = 50.0;

/// How often the harness's members print `GODEBUG=schedtrace` lines (`schedtrace_ms` in
/// `harness/grids/full.toml`), for rows that measured run queues.
pub const HARNESS_SCHEDTRACE_MS: u64 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_weight_names_its_key() {
        for key in ["latency_weight", "cpu_weight", "disk_weight"] {
            let text = format!(
                "model = \"m.toml\"\nreference = \"r.csv\"\n{key} = -1\n[params]\n\"client.loop_us\" = {{ min = 1, max = 2 }}\n"
            );
            let e = parse("c.toml", &text)
                .unwrap()
                .free_params("c.toml")
                .unwrap_err()
                .to_string();
            assert_eq!(
                e,
                format!("c.toml: {key}: must be a finite number >= 0 (got -1)")
            );
        }
    }

    const CSV: &str = "# comment\nkind,requests,key_size_bytes,value_size_bytes,conns,clients,consistency,target,qps,latency_ms_mean,server_rss_mb\nread,10000,8,256,1,1,linearizable,all members,1353,0.7,\nwrite,100000,8,256,100,1000,,leader only,44341,22,124\n";

    #[test]
    fn reads_rows_as_benchmark_workloads() {
        let rows = parse_reference("ref.csv", CSV).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].workload.consistency, "l");
        assert_eq!(
            (rows[0].qps, rows[0].latency_ms, rows[0].line),
            (1353.0, 0.7, 3)
        );
        assert_eq!(rows[1].workload.read_ratio, 0.0);
        assert!(rows[1].workload.target_leader);
        assert_eq!(
            (rows[1].workload.clients, rows[1].workload.conns),
            (1000, 100)
        );
    }

    #[test]
    fn a_bad_cell_names_the_line_and_column() {
        let text = CSV.replace("1353", "fast");
        let e = parse_reference("ref.csv", &text).unwrap_err().to_string();
        assert!(e.starts_with("ref.csv:3:") && e.contains("qps"), "{e}");
        let text = CSV.replace("leader only", "the leader");
        let e = parse_reference("ref.csv", &text).unwrap_err().to_string();
        assert!(e.contains("ref.csv:4:") && e.contains("target"), "{e}");
    }

    #[test]
    fn a_free_parameter_keeps_a_distribution_shape_and_the_fitted_model_its_comments() {
        let text = "# top\n[cpu]\n# the cost\na_us = { kind = \"lognormal\", mean = 20, p99 = 60 }\nb_us = 3 # inline\n";
        let m = ModelSource::parse("m.toml", text).unwrap();
        let fp = |k: &str| FreeParam {
            key: k.into(),
            bounds: Bounds {
                min: 1.0,
                max: 100.0,
                log: false,
            },
        };
        let a = fp("cpu.a_us.mean").start(&m).unwrap();
        assert_eq!(
            a,
            Start {
                value: 20.0,
                p99: Some(60.0)
            }
        );
        let mut values = fp("cpu.a_us.mean").values(a, 30.0);
        assert_eq!(
            overrides(&values)
                .iter()
                .map(|o| o.to_string())
                .collect::<Vec<_>>(),
            vec!["cpu.a_us.mean=30", "cpu.a_us.p99=90"]
        );
        values.extend(fp("cpu.b_us").values(fp("cpu.b_us").start(&m).unwrap(), 4.2500001));
        let edited = fitted_model(&m, &values).unwrap();
        assert!(
            edited.contains("# the cost") && edited.contains("# inline"),
            "{edited}"
        );
        let m2 = ModelSource::parse("m.toml", &edited).unwrap();
        assert_eq!(
            fp("cpu.a_us.mean").start(&m2).unwrap(),
            Start {
                value: 30.0,
                p99: Some(90.0)
            }
        );
        // Rounded to 6 significant digits.
        assert_eq!(
            fp("cpu.b_us").start(&m2).unwrap(),
            Start {
                value: 4.25,
                p99: None
            }
        );
        assert!(fp("cpu.nope").start(&m).is_none());
    }

    #[test]
    fn bounds_map_the_unit_interval_both_ways() {
        let b = Bounds {
            min: 1.0,
            max: 100.0,
            log: true,
        };
        assert!((b.at(0.5) - 10.0).abs() < 1e-9);
        assert!((b.position(10.0) - 0.5).abs() < 1e-12);
        let b = Bounds {
            min: 10.0,
            max: 20.0,
            log: false,
        };
        assert_eq!(b.at(0.25), 12.5);
        assert_eq!(b.position(30.0), 1.0);
    }
}
