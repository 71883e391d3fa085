//! Validation of a raw model file into [`ClusterParams`]: every rule, each error naming the
//! file, the key and the rule.

use super::file::{Cost, ModelFile, default_rtt};
use crate::config::ConfigError;
use crate::config::dist::DistError;
use crate::engine::dist::Dist;
use crate::model::{
    ClientCosts, ClusterParams, Host, Mechanisms, MemberCosts, MessageSizes, ProxyParams,
};

/// The most hosts a model may place processes on.
pub const MAX_HOSTS: usize = 256;

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
                if px.cache_entries == 0 {
                    return Err(ConfigError::invalid(
                        file,
                        "proxy.cache_entries",
                        "must be at least 1",
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
                    host: hosts.len() - 1,
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
            leader: c.leader,
            hosts,
            member_host,
            client_host,
            latency,
            member_costs: self.member_costs(file)?,
            client_costs: self.client_costs(file)?,
            sizes: MessageSizes {
                request_overhead: self.messages.request_overhead_bytes,
                response_overhead: self.messages.response_overhead_bytes,
                per_kv_overhead: self.messages.per_kv_overhead_bytes,
                raft_message: self.messages.raft_message_bytes,
                entry_overhead: self.messages.entry_overhead_bytes,
            },
            fsync: cost(file, "disk.fsync_us", &self.disk.fsync_us)?,
            write: self.write.validate(file)?,
            initial_index: c.initial_index,
            proxy,
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
        if pl.members.len() != members {
            return Err(ConfigError::invalid(
                file,
                "placement.members",
                format!(
                    "must list one host per member ({members}), got {}",
                    pl.members.len()
                ),
            ));
        }
        let member_host = pl
            .members
            .iter()
            .enumerate()
            .map(|(i, n)| find(format!("placement.members[{i}]"), n))
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
            propose: cost(file, &k("propose_us"), &c.propose_us)?,
            apply_entry: cost(file, &k("apply_entry_us"), &c.apply_entry_us)?,
            apply_ns_per_byte: non_negative(file, &k("apply_ns_per_byte"), c.apply_ns_per_byte)?,
            backend_commit: cost(file, &k("backend_commit_us"), &c.backend_commit_us)?,
            backend_commit_ns_per_write: non_negative(
                file,
                &k("backend_commit_ns_per_write"),
                c.backend_commit_ns_per_write,
            )?,
            read_buffer_copy_ns_per_write: non_negative(
                file,
                &k("read_buffer_copy_ns_per_write"),
                c.read_buffer_copy_ns_per_write,
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
        })
    }
}

fn file_stem(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}
