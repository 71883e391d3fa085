//! `etcdsim benchmark`, `explain` and `trace`: etcd's benchmark flags (global flags, then
//! `range` or `put` and theirs), plus etcdsim's model options, turned into the runner's
//! [`BenchOptions`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::limits::flag_name;
use crate::config::workload::WorkloadSpec;
use crate::error::Error;
use crate::model::RunOptions;
use crate::runner::Format;
use crate::runner::bench::{self, BenchOptions, ExplainOptions, TraceOptions};
use crate::runner::files::ModelRef;

use super::caps::CapArgs;

/// The global flags of etcd's benchmark tool, plus etcdsim's model options.
#[derive(Args, Debug, Clone)]
pub struct BenchmarkArgs {
    /// The model file (hardware, costs, etcd version). Default: the reference model built
    /// into etcdsim (models/gce-8vcpu-ssd.toml, etcd's published benchmark hardware).
    #[arg(long, global = true)]
    pub model: Option<PathBuf>,
    /// Override any model key: `--set cluster.voters=5 --set network.rtt_us=1000`.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Comma-separated endpoints, as etcd takes them; their number is how many members serve as
    /// endpoints (`memberN` names a member). Default: every member.
    #[arg(long, global = true, value_delimiter = ',')]
    pub endpoints: Vec<String>,
    /// Total number of gRPC connections.
    #[arg(long, global = true, default_value_t = 1)]
    pub conns: u32,
    /// Total number of gRPC clients (goroutines).
    #[arg(long, global = true, default_value_t = 1)]
    pub clients: u32,
    /// Send every request to the leader.
    #[arg(long = "target-leader", global = true)]
    pub target_leader: bool,
    /// How requests pick endpoints: per-conn (the benchmark tool: connection j uses endpoint
    /// j mod n), pinned (clientv3 ≤3.3), round-robin (clientv3 3.4+), or the model's version.
    #[arg(long, global = true, value_enum, default_value_t = BalancerArg::PerConn)]
    pub balancer: BalancerArg,
    /// Authentication: none, simple-token, jwt, cert (client certificates; RBAC without a
    /// token) or password (clientv3 calls Authenticate with a user and password, then uses
    /// simple tokens; see --token-reuse). Default: password with --user, cert with --cert,
    /// else none.
    #[arg(long, global = true, value_enum)]
    pub auth: Option<AuthArg>,
    /// RBAC rules of the user (the permission check grows with their log).
    #[arg(long = "rbac-rules", global = true, default_value_t = 1)]
    pub rbac_rules: u32,
    /// Password auth: the probability that a request reuses its client's token instead of
    /// calling Authenticate (1: once per client; 0: every request).
    #[arg(long = "token-reuse", global = true, default_value_t = 1.0)]
    pub token_reuse: f64,
    /// Seed of the simulation's random streams.
    #[arg(long, global = true, default_value_t = 1)]
    pub seed: u64,
    /// etcdsim: background puts per second beside the benchmark's own requests (0: none).
    #[arg(long = "write-rate", global = true, default_value_t = 0.0)]
    pub write_rate: f64,
    /// etcdsim: the real-etcd harness's probe beside the benchmark: this many single-key
    /// reads per second, linearizable and serializable in turn, from one goroutine on a
    /// connection of its own, timed apart (0: none).
    #[arg(long = "probe-rate", global = true, default_value_t = 0.0)]
    pub probe_rate: f64,
    /// etcdsim: the member the probe dials: leader, follower or memberN (default: a follower).
    #[arg(long = "probe-target", global = true, default_value = "")]
    pub probe_target: String,
    /// etcd's TLS client certificate: the clients authenticate by certificate (as
    /// --auth=cert) unless --auth or --user says otherwise. The file is not read.
    #[arg(long, global = true, value_name = "FILE")]
    pub cert: Option<String>,
    /// etcd's TLS client key, beside --cert: accepted, not read.
    #[arg(long = "key", id = "tls_key", global = true, value_name = "FILE")]
    pub tls_key: Option<String>,
    /// etcd's trusted CA bundle: accepted, not read (the model's TLS cost comes with --cert).
    #[arg(long, global = true, value_name = "FILE")]
    pub cacert: Option<String>,
    /// etcd's `--user NAME[:PASSWORD]`: password authentication (as --auth=password) unless
    /// --auth says otherwise; the name and password play no part.
    #[arg(long, global = true, value_name = "NAME[:PASSWORD]")]
    pub user: Option<String>,
    /// etcd's dial timeout: accepted, no effect (connections are up before the run starts).
    #[arg(long = "dial-timeout", global = true, value_name = "DURATION")]
    pub dial_timeout: Option<String>,
    /// etcd's --precise (microseconds in its report): accepted, no effect.
    #[arg(long, global = true)]
    pub precise: bool,
    /// etcd's --sample (a sample of requests every second): accepted, no effect.
    #[arg(long, global = true)]
    pub sample: bool,
    /// etcd's --auto-sync-interval: accepted, no effect (the members never change).
    #[arg(long = "auto-sync-interval", global = true, value_name = "DURATION")]
    pub auto_sync_interval: Option<String>,
    #[command(flatten)]
    pub caps: CapArgs,
    #[command(subcommand)]
    pub op: BenchOp,
}

/// A command line of etcd's real `benchmark` tool, as pasted into a calibration's benchmark
/// output file: the same flags as `etcdsim benchmark` (without `--format`).
#[derive(Parser, Debug)]
#[command(
    name = "benchmark",
    disable_help_flag = true,
    disable_version_flag = true
)]
struct Pasted {
    #[command(flatten)]
    bench: BenchmarkArgs,
}

/// The workload of a pasted `benchmark` command line (its words, the program first), parsed by
/// the clap definitions of `etcdsim benchmark`; an error is one line (the flag clap refused,
/// the operation not simulated, a flag that is etcdsim's own and belongs in the calibration
/// file). This is the calibration's [`crate::config::benchmark_output::CommandLine`].
pub fn pasted_workload(words: &[String]) -> Result<WorkloadSpec, String> {
    let p = Pasted::try_parse_from(words).map_err(|e| {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("").trim();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        format!("{first} (as `etcdsim benchmark` reads it)")
    })?;
    let b = &p.bench;
    b.simulated_op()?;
    let own = [
        (
            b.model.is_some(),
            "--model (the calibration file's `model`)",
        ),
        (
            !b.set.is_empty(),
            "--set (the calibration's `params` move the model)",
        ),
        (b.seed != 1, "--seed (the calibration file's `seed`)"),
        (
            b.caps.max_events.is_some()
                || b.caps.max_sim_time.is_some()
                || b.caps.max_in_flight.is_some(),
            "--max-events, --max-sim-time, --max-in-flight (the calibration file's `[limits]`)",
        ),
    ];
    if let Some((_, flag)) = own.iter().find(|o| o.0) {
        return Err(format!(
            "{flag} is etcdsim's, not etcd's: a benchmark output holds the command etcd's benchmark ran"
        ));
    }
    Ok(b.spec())
}

/// `etcdsim benchmark`: the benchmark's flags plus the report's format.
#[derive(Args, Debug, Clone)]
pub struct BenchmarkCmd {
    /// text: etcd's report then etcdsim's additions; json: one JSON document for scripts
    /// (its fields: docs/json.md).
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    #[command(flatten)]
    pub bench: BenchmarkArgs,
}

/// `--format`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    /// Text for people.
    Text,
    /// One JSON document (fields: docs/json.md).
    Json,
}

impl FormatArg {
    /// The runner's format.
    pub fn format(self) -> Format {
        match self {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
        }
    }
}

impl BenchmarkCmd {
    /// `etcdsim benchmark`.
    pub fn run(&self) -> Result<(), Error> {
        let o = BenchOptions {
            format: self.format.format(),
            ..self.bench.options()?
        };
        bench::benchmark(&o, &mut std::io::stdout().lock())
    }
}

/// `etcdsim explain`: the benchmark's flags plus a waterfall chart.
#[derive(Args, Debug, Clone)]
pub struct ExplainArgs {
    /// Also draw the stages as a waterfall into this SVG file (titled with the model and
    /// every flag and --set given).
    #[arg(long, global = true, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Also draw the same waterfall into this PNG file (the same drawing code as --svg, with a
    /// bundled font); --svg and --png may be given together.
    #[arg(long, global = true, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// text: the stages with what etcd does in each; json: one JSON document for scripts
    /// (its fields: docs/json.md).
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    #[command(flatten)]
    pub bench: BenchmarkArgs,
}

/// `etcdsim trace`: the benchmark's flags plus what to trace.
#[derive(Args, Debug, Clone)]
pub struct TraceArgs {
    /// How many requests (from the first issued) and ReadIndex rounds to trace.
    #[arg(long, global = true, default_value_t = 50)]
    pub requests: u64,
    /// The JSON file to write; `-` writes it to standard output.
    #[arg(long, global = true, default_value = "output/trace.json")]
    pub out: PathBuf,
    #[command(flatten)]
    pub bench: BenchmarkArgs,
}

/// Endpoint choice.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalancerArg {
    /// One endpoint per connection, round-robin over connections.
    PerConn,
    /// clientv3 ≤3.3: each connection pins one endpoint.
    Pinned,
    /// clientv3 3.4+: the next endpoint for every request.
    RoundRobin,
    /// The balancer of the model's etcd version.
    Version,
}

/// Authentication mode.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthArg {
    /// No auth.
    None,
    /// Simple tokens.
    SimpleToken,
    /// JWT tokens.
    Jwt,
    /// Client certificates.
    Cert,
    /// Username and password (Authenticate, then simple tokens).
    Password,
}

/// The benchmark's operation.
#[derive(Subcommand, Debug, Clone)]
pub enum BenchOp {
    /// Range requests (etcd's `benchmark range`): `range KEY [END]`.
    Range(RangeArgs),
    /// Put requests (etcd's `benchmark put`).
    Put(PutArgs),
    /// etcd's other benchmarks (txn-put, txn-mixed, watch, watch-get, watch-latency,
    /// lease-keepalive, stm, mvcc) are not simulated: refused in one line.
    #[command(external_subcommand)]
    Other(Vec<String>),
}

/// `put` and its flags (etcd's).
#[derive(Args, Debug, Clone)]
pub struct PutArgs {
    /// Key size of put requests.
    #[arg(long = "key-size", default_value_t = 8)]
    pub key_size: u32,
    /// Value size of put requests.
    #[arg(long = "val-size", default_value_t = 8)]
    pub val_size: u32,
    /// Total number of put requests.
    #[arg(long, default_value_t = 10_000)]
    pub total: u64,
    /// Maximum puts per second (0 = no limit).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Use sequential keys (accepted for compatibility; key order does not change the model).
    #[arg(long = "sequential-keys")]
    pub sequential_keys: bool,
    /// Maximum possible keys (the store's key count for the index depth).
    #[arg(long = "key-space-size", default_value_t = 1)]
    pub key_space_size: u64,
}

/// `range KEY [END]` and its flags.
#[derive(Args, Debug, Clone)]
pub struct RangeArgs {
    /// The key (its length is the key size).
    pub key: String,
    /// The range end (exclusive); give `--keys-in-range` for how many keys it holds.
    pub end: Option<String>,
    /// Consistency: l (linearizable) or s (serializable).
    #[arg(long, default_value = "l")]
    pub consistency: String,
    /// Total number of range requests.
    #[arg(long, default_value_t = 10_000)]
    pub total: u64,
    /// Maximum range requests per second across all clients (0 = no limit).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Maximum keys returned (0 = no limit).
    #[arg(long, default_value_t = 0)]
    pub limit: u64,
    /// Return only the count of keys.
    #[arg(long = "count-only")]
    pub count_only: bool,
    /// etcdsim: keys in the requested range (default 1, or as many as --total-keys with END).
    #[arg(long = "keys-in-range")]
    pub keys_in_range: Option<u64>,
    /// etcdsim: keys in the whole store.
    #[arg(long = "total-keys")]
    pub total_keys: Option<u64>,
    /// etcdsim: bytes per stored value.
    #[arg(long = "val-size", default_value_t = 256)]
    pub val_size: u32,
}

impl BenchmarkArgs {
    /// The authentication: `--auth`, else password with `--user`, cert with `--cert`, else
    /// none (as etcd's benchmark authenticates given those flags).
    pub fn auth(&self) -> AuthArg {
        match (self.auth, &self.user, &self.cert) {
            (Some(a), _, _) => a,
            (None, Some(_), _) => AuthArg::Password,
            (None, None, Some(_)) => AuthArg::Cert,
            (None, None, None) => AuthArg::None,
        }
    }

    /// etcd's flags given that change nothing in a simulation.
    pub fn without_effect(&self) -> Vec<&'static str> {
        let given = [
            (self.tls_key.is_some(), "--key"),
            (self.cacert.is_some(), "--cacert"),
            (self.dial_timeout.is_some(), "--dial-timeout"),
            (self.precise, "--precise"),
            (self.sample, "--sample"),
            (self.auto_sync_interval.is_some(), "--auto-sync-interval"),
        ];
        given.iter().filter(|g| g.0).map(|g| g.1).collect()
    }

    /// Refuses an operation etcdsim does not simulate, in one line naming what it does.
    fn simulated_op(&self) -> Result<(), String> {
        match &self.op {
            BenchOp::Other(args) => Err(format!(
                "`{}` is not simulated: etcdsim simulates etcd's benchmark `range` and `put` (not txn-put, txn-mixed, watch, watch-get, watch-latency, lease-keepalive, stm or mvcc)",
                args.first().map_or("", String::as_str)
            )),
            _ => Ok(()),
        }
    }

    /// The runner's options for these flags.
    pub fn options(&self) -> Result<BenchOptions, Error> {
        self.simulated_op().map_err(Error::Usage)?;
        let ignored = self.without_effect();
        if !ignored.is_empty() {
            crate::runner::console::note(format!(
                "etcdsim: {} accepted as etcd's benchmark takes them; they have no effect on the simulation",
                ignored.join(", ")
            ));
        }
        Ok(BenchOptions {
            model: match &self.model {
                Some(path) => ModelRef::File(path.clone()),
                None => ModelRef::Embedded,
            },
            set: self.set.clone(),
            workload: self.spec(),
            key_name: workload_flag,
            seed: self.seed,
            run: self.run_options()?,
            heading: self.heading(),
            format: Format::Text,
        })
    }

    /// The workload these flags describe, as a [`WorkloadSpec`].
    pub fn spec(&self) -> WorkloadSpec {
        let base = WorkloadSpec {
            clients: self.clients,
            conns: self.conns,
            endpoints: self.endpoints.clone(),
            target_leader: self.target_leader,
            balancer: value_name(self.balancer),
            auth: value_name(self.auth()),
            rbac_rules: self.rbac_rules,
            write_rate: self.write_rate,
            token_reuse: self.token_reuse,
            probe_rate: self.probe_rate,
            probe_target: self.probe_target.clone(),
            ..WorkloadSpec::default()
        };
        match &self.op {
            BenchOp::Range(r) => WorkloadSpec {
                consistency: r.consistency.clone(),
                total: r.total,
                rate: r.rate,
                keys_in_range: r.keys_in_range.unwrap_or(if r.end.is_some() {
                    r.total_keys.unwrap_or(1)
                } else {
                    1
                }),
                total_keys: r.total_keys.unwrap_or(0),
                key_size: u32::try_from(r.key.len()).unwrap_or(u32::MAX),
                val_size: r.val_size,
                limit: r.limit,
                count_only: r.count_only,
                ..base
            },
            BenchOp::Put(p) => WorkloadSpec {
                total: p.total,
                rate: p.rate,
                read_ratio: 0.0,
                put_key_size: p.key_size,
                put_val_size: p.val_size,
                total_keys: p.key_space_size,
                ..base
            },
            // Refused by `options` before any workload is built.
            BenchOp::Other(_) => base,
        }
    }

    /// The run's caps, checked; errors name the flags.
    fn run_options(&self) -> Result<RunOptions, Error> {
        Ok(self
            .caps
            .limits()
            .run_options_named("command line", flag_name)?)
    }

    /// What the run is, for headings and chart titles: the clients, connections, operation
    /// and total always, then every flag given a value other than its default and every
    /// `--set` ("--clients=1000 --conns=100 --write-rate=5000 --set network.rtt_us=1000 range
    /// foo --consistency=l --total=20000"), so that a report or chart says all it ran.
    pub fn heading(&self) -> String {
        let mut h = vec![
            format!("--clients={}", self.clients),
            format!("--conns={}", self.conns),
        ];
        let mut flag = |on: bool, text: String| {
            if on {
                h.push(text);
            }
        };
        if let Some(m) = &self.model {
            flag(true, format!("--model={}", m.display()));
        }
        flag(
            !self.endpoints.is_empty(),
            format!("--endpoints={}", self.endpoints.join(",")),
        );
        flag(self.target_leader, "--target-leader".into());
        flag(
            self.balancer != BalancerArg::PerConn,
            format!("--balancer={}", value_name(self.balancer)),
        );
        flag(
            self.auth() != AuthArg::None,
            format!("--auth={}", value_name(self.auth())),
        );
        flag(
            self.rbac_rules != 1,
            format!("--rbac-rules={}", self.rbac_rules),
        );
        flag(
            self.token_reuse != 1.0,
            format!("--token-reuse={}", self.token_reuse),
        );
        flag(self.seed != 1, format!("--seed={}", self.seed));
        flag(
            self.write_rate != 0.0,
            format!("--write-rate={}", self.write_rate),
        );
        flag(
            self.probe_rate != 0.0,
            format!("--probe-rate={}", self.probe_rate),
        );
        flag(
            !self.probe_target.is_empty(),
            format!("--probe-target={}", self.probe_target),
        );
        let caps = &self.caps;
        if let Some(n) = caps.max_events {
            flag(true, format!("--max-events={n}"));
        }
        if let Some(s) = caps.max_sim_time {
            flag(true, format!("--max-sim-time={s}"));
        }
        if let Some(n) = caps.max_in_flight {
            flag(true, format!("--max-in-flight={n}"));
        }
        for s in &self.set {
            flag(true, format!("--set {s}"));
        }
        h.push(self.op.heading());
        h.join(" ")
    }
}

impl BenchOp {
    /// The operation with its key, total and every flag off its default.
    fn heading(&self) -> String {
        let mut h = Vec::new();
        match self {
            BenchOp::Range(r) => {
                h.push(format!("range {}", r.key));
                if let Some(end) = &r.end {
                    h.push(end.clone());
                }
                h.push(format!("--consistency={}", r.consistency));
                h.push(format!("--total={}", r.total));
                let mut flag = |on: bool, text: String| {
                    if on {
                        h.push(text);
                    }
                };
                flag(r.rate != 0.0, format!("--rate={}", r.rate));
                flag(r.limit != 0, format!("--limit={}", r.limit));
                flag(r.count_only, "--count-only".into());
                if let Some(n) = r.keys_in_range {
                    flag(true, format!("--keys-in-range={n}"));
                }
                if let Some(n) = r.total_keys {
                    flag(true, format!("--total-keys={n}"));
                }
                flag(r.val_size != 256, format!("--val-size={}", r.val_size));
            }
            BenchOp::Put(p) => {
                h.push("put".into());
                h.push(format!("--key-size={}", p.key_size));
                h.push(format!("--val-size={}", p.val_size));
                h.push(format!("--total={}", p.total));
                let mut flag = |on: bool, text: String| {
                    if on {
                        h.push(text);
                    }
                };
                flag(p.rate != 0.0, format!("--rate={}", p.rate));
                flag(p.sequential_keys, "--sequential-keys".into());
                flag(
                    p.key_space_size != 1,
                    format!("--key-space-size={}", p.key_space_size),
                );
            }
            BenchOp::Other(args) => h.push(args.join(" ")),
        }
        h.join(" ")
    }
}

/// The flag that sets a workload key, for errors: `put_val_size` is set by `put --val-size`;
/// a key no flag sets is named as the workload key it is.
fn workload_flag(key: &str) -> String {
    let flag = match key {
        "clients" | "conns" | "endpoints" | "balancer" | "auth" => key,
        "target_leader" | "rbac_rules" | "token_reuse" | "write_rate" => key,
        "probe_rate" | "probe_target" => key,
        "total" | "rate" => return format!("--{key} (of range or put)"),
        "consistency" | "limit" | "keys_in_range" | "total_keys" | "val_size" => {
            return format!("range --{}", key.replace('_', "-"));
        }
        "key_size" => return "range KEY (its length is the key size)".into(),
        "put_key_size" => return "put --key-size".into(),
        "put_val_size" => return "put --val-size".into(),
        k => return format!("workload key {k} (no flag sets it)"),
    };
    format!("--{}", flag.replace('_', "-"))
}

/// The name a flag's value has on the command line (`per-conn`, `simple-token`).
fn value_name(v: impl ValueEnum) -> String {
    v.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

impl ExplainArgs {
    /// `etcdsim explain`.
    pub fn run(&self) -> Result<(), Error> {
        let o = ExplainOptions {
            bench: BenchOptions {
                format: self.format.format(),
                ..self.bench.options()?
            },
            svg: self.svg.clone(),
            png: self.png.clone(),
        };
        bench::explain(&o, &mut std::io::stdout().lock())
    }
}

impl TraceArgs {
    /// `etcdsim trace`.
    pub fn run(&self) -> Result<(), Error> {
        bench::trace(
            &TraceOptions {
                bench: self.bench.options()?,
                requests: self.requests,
                out: self.out.clone(),
            },
            &mut std::io::stdout().lock(),
        )
    }
}
