//! Queueing theory: tiny models built on the engine must reproduce closed forms.
//!
//! Each check runs at least 10 independent replications (seeds 1..=n), computes a 99% Student-t
//! confidence interval over the replication means, and asserts both that the exact value lies in
//! it and that the relative error of the grand mean is at most 2%. Time unit: the mean service
//! time S = 10 µs, so every figure below is a multiple of 10 000 ns.

use etcdsim::engine::SimDuration;
use etcdsim::engine::dist::Dist;
use etcdsim::queueing::{self, QueueParams, QueueResult, Source};
use etcdsim::stats::student_t_ci;

const S_US: f64 = 10.0;
const S_NS: f64 = S_US * 1e3;
const REPS: u64 = 12;

fn replicate(p: &QueueParams) -> Vec<QueueResult> {
    (1..=REPS).map(|seed| queueing::run(p, seed)).collect()
}

/// Asserts the 99% CI over `samples` holds `exact` and the grand mean is within 2% of it.
fn check(what: &str, samples: &[f64], exact: f64) {
    let ci = student_t_ci(samples, 0.99);
    let rel = (ci.mean - exact).abs() / exact;
    println!(
        "{what}: exact {exact:.4}, simulated {:.4} ± {:.4} (99% CI, n={}), error {:.2}%",
        ci.mean,
        ci.half_width,
        ci.n,
        rel * 100.0
    );
    assert!(ci.contains(exact), "{what}: {exact} outside {ci:?}");
    assert!(rel <= 0.02, "{what}: relative error {rel} > 2%");
}

fn open(rate_per_service: f64, service: Dist, servers: u32, measured: u64) -> QueueParams {
    QueueParams {
        source: Source::Open {
            interarrival: Dist::exponential_us(S_US / rate_per_service),
        },
        service,
        servers,
        warmup: SimDuration::from_millis(50),
        measured,
    }
}

/// M/M/1: the response time is exponential with rate μ − λ, so
/// E[T] = 1 / (μ − λ) = S / (1 − ρ) and its p99 is ln(100) / (μ − λ) = ln(100) · S / (1 − ρ).
fn mm1(rho: f64, measured: u64) {
    let p = open(rho, Dist::exponential_us(S_US), 1, measured);
    let runs = replicate(&p);
    let mean: Vec<f64> = runs.iter().map(|r| r.response.mean()).collect();
    let p99: Vec<f64> = runs
        .iter()
        .map(|r| r.response_hist.quantile(0.99) as f64)
        .collect();
    check(
        &format!("M/M/1 rho={rho} mean T (ns)"),
        &mean,
        S_NS / (1.0 - rho),
    );
    check(
        &format!("M/M/1 rho={rho} p99 T (ns)"),
        &p99,
        100f64.ln() * S_NS / (1.0 - rho),
    );
}

#[test]
fn mm1_at_half_load() {
    mm1(0.5, 200_000);
}

#[test]
fn mm1_at_ninety_percent_load() {
    mm1(0.9, 1_500_000);
}

/// Erlang C: with offered load a = λ/μ and c servers,
/// C(c, a) = (aᶜ/c! · c/(c − a)) / (Σₖ₌₀^{c−1} aᵏ/k! + aᶜ/c! · c/(c − a)) is the probability that
/// an arrival waits, and the mean wait is E[Wq] = C(c, a) / (cμ − λ).
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let top = term * f64::from(c) / (f64::from(c) - a);
    top / (sum + top)
}

#[test]
fn mmc_with_four_servers_matches_erlang_c() {
    let (c, a) = (4, 3.0);
    let p = open(a, Dist::exponential_us(S_US), c, 400_000);
    let runs = replicate(&p);
    let pw: Vec<f64> = runs.iter().map(|r| r.p_wait).collect();
    let wq: Vec<f64> = runs.iter().map(|r| r.wait.mean()).collect();
    let cw = erlang_c(c, a);
    check("M/M/4 P(wait)", &pw, cw);
    // cμ − λ = (c − a) / S.
    check("M/M/4 mean wait (ns)", &wq, cw * S_NS / (f64::from(c) - a));
    let util: Vec<f64> = runs.iter().map(|r| r.utilization).collect();
    check("M/M/4 utilization", &util, a / f64::from(c));
}

/// M/D/1, Pollaczek–Khinchine: E[Wq] = λ E[S²] / (2(1 − ρ)); with deterministic S,
/// E[S²] = S², so E[Wq] = ρ S / (2(1 − ρ)).
#[test]
fn md1_matches_pollaczek_khinchine() {
    let rho = 0.8;
    let p = open(rho, Dist::constant_us(S_US), 1, 400_000);
    let runs = replicate(&p);
    let wq: Vec<f64> = runs.iter().map(|r| r.wait.mean()).collect();
    check(
        "M/D/1 mean wait (ns)",
        &wq,
        rho * S_NS / (2.0 * (1.0 - rho)),
    );
}

/// A closed system: N customers alternate think time Z (a delay station) and one FIFO
/// exponential server of mean S. It is a product-form network, so exact Mean Value Analysis
/// holds: for n = 1..N, R(n) = S (1 + Q(n−1)), X(n) = n / (Z + R(n)), Q(n) = X(n) R(n).
fn mva(n: u32, s: f64, z: f64) -> (f64, f64) {
    let (mut q, mut r, mut x) = (0.0, 0.0, 0.0);
    for k in 1..=n {
        r = s * (1.0 + q);
        x = f64::from(k) / (z + r);
        q = x * r;
    }
    (r, x)
}

#[test]
fn closed_system_matches_mean_value_analysis() {
    let (n, z_us) = (10, 50.0);
    let p = QueueParams {
        source: Source::Closed {
            customers: n,
            think: Dist::exponential_us(z_us),
        },
        service: Dist::exponential_us(S_US),
        servers: 1,
        warmup: SimDuration::from_millis(50),
        measured: 300_000,
    };
    let runs = replicate(&p);
    let (r, x) = mva(n, S_NS, z_us * 1e3);
    let resp: Vec<f64> = runs.iter().map(|r| r.response.mean()).collect();
    let thr: Vec<f64> = runs.iter().map(|r| r.throughput_per_s).collect();
    check("closed N=10 mean response (ns)", &resp, r);
    check("closed N=10 throughput (1/s)", &thr, x * 1e9);
}
