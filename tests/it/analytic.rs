//! Queueing theory: tiny models built on the engine must reproduce closed forms.
//!
//! Each check runs at least 10 independent replications (seeds 1..=n), computes a 99% Student-t
//! confidence interval over the replication means, and asserts both that the exact value lies in
//! it and that the relative error of the grand mean is at most 2%. Time unit: the mean service
//! time S = 10 µs, so every figure below is a multiple of 10 000 ns.

use etcdsim::queueing::theory::{self, Check};
use etcdsim::stats::student_t_ci;

const REPS: u64 = 12;

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

/// Asserts every check of a group.
fn check_all(checks: Vec<Check>) {
    for c in checks {
        check(&c.what, &c.samples, c.exact);
    }
}

#[test]
fn mm1_at_half_load() {
    check_all(theory::mm1(0.5, 200_000, REPS));
}

#[test]
fn mm1_at_ninety_percent_load() {
    check_all(theory::mm1(0.9, 1_500_000, REPS));
}

#[test]
fn mmc_with_four_servers_matches_erlang_c() {
    check_all(theory::mmc(4, 3.0, 400_000, REPS));
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    check_all(theory::md1(0.8, 400_000, REPS));
}

#[test]
fn closed_system_matches_mean_value_analysis() {
    check_all(theory::closed(10, 50.0, 300_000, REPS));
}

#[test]
fn the_closed_forms_match_known_values() {
    // Erlang C for c = 2, a = 1: P(wait) = 1/3. MVA with one customer: R = S, X = 1/(Z + S).
    assert!((theory::erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    let (r, x) = theory::mva(1, 10.0, 40.0);
    assert_eq!((r, x), (10.0, 1.0 / 50.0));
}
