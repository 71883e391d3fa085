//! The real-etcd harness end to end: a one-member cluster of real etcd, the real Go client,
//! a few seconds (`harness/grids/smoke.toml`), and the CSV it writes read as a reference by
//! etcdsim's calibration code.
//!
//! It needs `etcd-server`, `golang-go` and `golang-etcd-server-dev` (`harness/install`). CI
//! installs them and sets `ETCDSIM_REQUIRE_ETCD=1`, so there a missing package fails the test;
//! elsewhere, without etcd on the machine, the test says it skipped and passes.

use std::path::Path;
use std::process::Command;

/// The columns every harness row has (`harness/README.md`).
const COLUMNS: &str = "case,kind,members,leader,target,consistency,clients,conns,requests,warmup_s,duration_s,key_size_bytes,value_size_bytes,keys_in_range,limit,count_only,write_rate,auth,auth_token,token_reuse,member_cpus,client_cpus,gomaxprocs,rate,reps,qps,qps_min,qps_max,latency_ms_mean,latency_ms_mean_min,latency_ms_mean_max,latency_ms_p50,latency_ms_p90,latency_ms_p99,latency_ms_p999,errors,write_qps,write_latency_ms_mean,probe_l_ms_mean,probe_l_ms_p99,probe_s_ms_mean,probe_s_ms_p99,leader_cpu_us_per_req,follower_cpu_us_per_req,client_cpu_us_per_req,member_gc_per_s,client_gc_per_s,member_runq_global_mean,member_runq_local_mean,wal_fsync_ms_mean,backend_commit_ms_mean,peer_rtt_ms_mean,server_rss_mb";

fn have_etcd() -> bool {
    Path::new("/usr/bin/etcd").exists() && Command::new("go").arg("version").output().is_ok()
}

#[test]
fn the_smoke_grid_measures_real_etcd_into_a_reference_csv() {
    let required = std::env::var_os("ETCDSIM_REQUIRE_ETCD").is_some_and(|v| v != "0");
    if !have_etcd() {
        assert!(
            !required,
            "ETCDSIM_REQUIRE_ETCD is set but etcd or Go is missing: run harness/install"
        );
        eprintln!("skipped: etcd or Go is not installed (harness/install installs them)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("etcdsim-smoke-{}.csv", std::process::id()));
    let run = Command::new(root.join("harness/measure"))
        .current_dir(root)
        .args(["harness/grids/smoke.toml", "--reps", "1", "--out"])
        .arg(&out)
        .output()
        .expect("harness/measure runs");
    assert!(
        run.status.success(),
        "harness/measure failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("the CSV was written");
    let _ = std::fs::remove_file(&out);
    let header = text
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("a header line");
    assert_eq!(
        header, COLUMNS,
        "the harness's CSV lacks or reorders a column"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("# etcd: etcd Version: 3.4")),
        "the CSV records etcd's version"
    );
    let rows = etcdsim::config::calibration::parse_reference("smoke.csv", &text)
        .expect("etcdsim reads the harness's CSV");
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(r.qps > 0.0 && r.latency_ms > 0.0, "{r:?}");
        assert!(r.cpu_us.client.is_some(), "client CPU measured: {r:?}");
    }
}
