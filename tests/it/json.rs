//! Issue 18, data for scripts: `--format json` of `benchmark`, `explain` and `plan` parse, and
//! their fields are exactly those docs/json.md lists, with the types it gives.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::{ROOT, run, scratch};

/// docs/json.md's table under heading `section`: each field path (brace alternatives
/// expanded) and its type column.
fn documented(section: &str) -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/json.md")).unwrap();
    let body = doc
        .split(&format!("\n## {section}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("docs/json.md has no section {section:?}"));
    let body = body.split("\n## ").next().unwrap();
    let mut fields = BTreeMap::new();
    for line in body.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let path = cols[1].trim_matches('`');
        let ty = cols[2].to_string();
        for p in expand(path) {
            assert!(fields.insert(p.clone(), ty.clone()).is_none(), "{p} twice");
        }
    }
    fields
}

/// `{a,b}.x` as `a.x` and `b.x`.
fn expand(path: &str) -> Vec<String> {
    match (path.find('{'), path.find('}')) {
        (Some(i), Some(j)) => path[i + 1..j]
            .split(',')
            .map(|alt| format!("{}{alt}{}", &path[..i], &path[j + 1..]))
            .collect(),
        _ => vec![path.to_string()],
    }
}

/// Every field path in `v` with the values found there (`a[].x` for the members of arrays).
fn paths<'a>(v: &'a Value, prefix: &str, out: &mut BTreeMap<String, Vec<&'a Value>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.entry(p.clone()).or_default().push(x);
                paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// Whether `v` is of the documented type `ty` ("number", "string or null", ...).
fn fits(v: &Value, ty: &str) -> bool {
    ty.split(" or ").any(|t| match t {
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_u64() || v.is_i64(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        other => panic!("docs/json.md: unknown type {other:?}"),
    })
}

/// The documents `docs` hold every documented field of `section` (but those under a field
/// that is null in all of them) and nothing else, each of its type.
fn check(section: &str, docs: &[Value]) {
    let fields = documented(section);
    let mut seen = BTreeMap::new();
    for d in docs {
        paths(d, "", &mut seen);
    }
    for (p, values) in &seen {
        let ty = fields
            .get(p)
            .unwrap_or_else(|| panic!("{section}: field {p} is not in docs/json.md"));
        for v in values {
            assert!(fits(v, ty), "{section}: {p} = {v} is not {ty}");
        }
    }
    let null: BTreeSet<&String> = seen
        .iter()
        .filter(|(_, v)| v.iter().all(|x| x.is_null()))
        .map(|(p, _)| p)
        .collect();
    for p in fields.keys() {
        let under_null = null.iter().any(|n| p.starts_with(&format!("{n}.")));
        assert!(
            seen.contains_key(p) || under_null,
            "{section}: documented field {p} is in no document"
        );
    }
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"))
}

#[test]
fn r18_benchmark_and_explain_json_have_the_documented_fields() {
    let read = json(&[
        "benchmark",
        "--format=json",
        "--clients=10",
        "range",
        "foo",
        "--total=500",
    ]);
    let put = json(&["explain", "--format", "json", "put", "--total=300"]);
    let mixed = json(&[
        "benchmark",
        "--format=json",
        "--write-rate=500",
        "--set",
        "proxy.enabled=true",
        "--set",
        "proxy.cores=8",
        "--set",
        "proxy.nic_bandwidth_gbps=16",
        "--set",
        "proxy.request_us=50",
        "--set",
        "proxy.response_us=40",
        "range",
        "foo",
        "--consistency=s",
        "--total=300",
    ]);
    check("benchmark and explain", &[read.clone(), put.clone(), mixed]);
    assert_eq!(read["command"], "benchmark");
    assert_eq!(put["command"], "explain");
    assert_eq!(put["primary"], "writes");
    // An operation that never ran has no latency: null, not 0.
    assert!(read["writes"]["latency_ms"].is_null());
    assert_eq!(read["reads"]["completed"], 500);
    // The same flags give the same bytes (no wall clock inside).
    let again = json(&[
        "benchmark",
        "--format=json",
        "--clients=10",
        "range",
        "foo",
        "--total=500",
    ]);
    assert_eq!(read, again);
}

#[test]
fn r18_plan_json_has_the_documented_fields() {
    let dir = scratch("plan-json");
    let plan = dir.join("small.toml");
    std::fs::write(
        &plan,
        "target_read_rate = 20000\nduration_s = 0.3\nprecision = 0.1\nreplications = 2\nmax_replications = 2\n\
         [workload]\nclients = 10\nconns = 10\nwrite_rate = 100\nrequest_timeout_s = 1.0\n\
         [objectives]\nread_p99_ms = 10\nfault_read_p99_ms = 5000\nfault_max_failed = 1000000\n\
         [[candidates]]\nname = \"three\"\ncost = 3\n\
         [sensitivity]\nmodel = [\"disk.fsync_us\"]\nworkload = []\n\
         [[faults]]\nname = \"follower kill\"\nduration_s = 2.0\ntimeline = [{ at_s = 0.5, kill = \"member0\" }]\n",
    )
    .unwrap();
    let out = dir.join("out");
    let doc = json(&[
        "plan",
        plan.to_str().unwrap(),
        "--format=json",
        "--out",
        out.to_str().unwrap(),
    ]);
    check("plan", std::slice::from_ref(&doc));
    assert_eq!(doc["chosen"], "three");
    assert_eq!(doc["candidates"][0]["chosen"], true);
    // The same files as with text.
    let csv = std::fs::read_to_string(out.join("plan.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(out.join("sensitivity.csv").exists());
    assert!(out.join("faults.csv").exists());
    assert_eq!(doc["faults"][0]["meets"], true);
    let _ = std::fs::remove_dir_all(&dir);
}
