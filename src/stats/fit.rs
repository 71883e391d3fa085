//! Derivative-free minimisation in a box: Nelder–Mead on the unit cube.
//!
//! Calibration minimises an error that is a simulation's output: no gradient, a little noise
//! even with common random numbers, and each evaluation costs a fraction of a second. Nelder–Mead
//! needs only function values and few of them. Each coordinate lives in `[0, 1]` (the caller maps
//! it to its parameter's bounds, on a log scale where that suits), and points outside the cube
//! are clamped onto it, so every evaluation is a physically allowed parameter set.

/// The result of a minimisation.
#[derive(Debug, Clone)]
pub struct Minimum {
    /// The best point found, in the unit cube.
    pub x: Vec<f64>,
    /// Its objective value.
    pub f: f64,
    /// Objective evaluations used.
    pub evaluations: usize,
}

/// Minimises `f` over the unit cube from `start`, with an initial simplex of edge `step`, until
/// the simplex's values agree within `f_tol` (absolute) or `max_evals` evaluations are spent.
/// `f` is called with clamped points only. Deterministic: the same `f` gives the same path.
pub fn nelder_mead(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    step: f64,
    f_tol: f64,
    max_evals: usize,
) -> Minimum {
    let n = start.len();
    let clamp = |x: Vec<f64>| -> Vec<f64> { x.into_iter().map(|v| v.clamp(0.0, 1.0)).collect() };
    let mut evals = 0;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        f(x)
    };
    // Initial simplex: the start and one point moved by `step` along each axis (inwards when
    // the start is at the upper bound).
    let x0 = clamp(start.to_vec());
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let f0 = eval(&x0, &mut evals);
    simplex.push((x0.clone(), f0));
    for i in 0..n {
        let mut x = x0.clone();
        x[i] = if x[i] + step <= 1.0 {
            x[i] + step
        } else {
            x[i] - step
        };
        let fx = eval(&x, &mut evals);
        simplex.push((x, fx));
    }
    let (alpha, gamma, rho, sigma) = (1.0, 2.0, 0.5, 0.5);
    while evals < max_evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[n].1);
        if (worst - best).abs() <= f_tol {
            break;
        }
        // Centroid of all but the worst.
        let mut c = vec![0.0; n];
        for (x, _) in &simplex[..n] {
            for (ci, xi) in c.iter_mut().zip(x) {
                *ci += xi / n as f64;
            }
        }
        let along = |t: f64, from: &[f64]| -> Vec<f64> {
            clamp(
                c.iter()
                    .zip(from)
                    .map(|(ci, wi)| ci + t * (ci - wi))
                    .collect(),
            )
        };
        let xr = along(alpha, &simplex[n].0);
        let fr = eval(&xr, &mut evals);
        if fr < simplex[0].1 {
            let xe = along(gamma, &simplex[n].0);
            let fe = eval(&xe, &mut evals);
            simplex[n] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (xr, fr);
        } else {
            // Contract towards the better of the worst point and its reflection.
            let (xo, fo) = if fr < simplex[n].1 {
                (along(rho, &simplex[n].0), fr)
            } else {
                (along(-rho, &simplex[n].0), simplex[n].1)
            };
            let fc = eval(&xo, &mut evals);
            if fc < fo {
                simplex[n] = (xo, fc);
            } else {
                // Shrink everything towards the best point.
                let b = simplex[0].0.clone();
                for (x, fx) in simplex.iter_mut().skip(1) {
                    *x = clamp(
                        b.iter()
                            .zip(x.iter())
                            .map(|(bi, xi)| bi + sigma * (xi - bi))
                            .collect(),
                    );
                    *fx = eval(x, &mut evals);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, f) = simplex.swap_remove(0);
    Minimum {
        x,
        f,
        evaluations: evals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_bowl_inside_the_cube() {
        let target = [0.3, 0.7, 0.55];
        let mut f = |x: &[f64]| {
            x.iter()
                .zip(target)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
        };
        let m = nelder_mead(&mut f, &[0.9, 0.1, 0.5], 0.2, 1e-12, 2000);
        for (a, b) in m.x.iter().zip(target) {
            assert!((a - b).abs() < 1e-4, "{:?}", m.x);
        }
    }

    #[test]
    fn stays_in_the_cube_when_the_minimum_lies_outside() {
        // Rosenbrock-like valley pulled towards x = 2: the best allowed point is on the face.
        let mut seen_outside = false;
        let mut f = |x: &[f64]| {
            seen_outside |= x.iter().any(|v| !(0.0..=1.0).contains(v));
            (x[0] - 2.0).powi(2) + 10.0 * (x[1] - x[0] * 0.5).powi(2)
        };
        let m = nelder_mead(&mut f, &[0.2, 0.2], 0.1, 1e-12, 2000);
        assert!(!seen_outside);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-3 && (m.x[1] - 0.5).abs() < 1e-3,
            "{:?}",
            m.x
        );
    }

    #[test]
    fn respects_the_evaluation_budget() {
        let mut calls = 0;
        let mut f = |x: &[f64]| {
            calls += 1;
            x[0].sin() + x[1].cos()
        };
        let m = nelder_mead(&mut f, &[0.5, 0.5], 0.1, 0.0, 25);
        assert!(m.evaluations <= 25 + 4, "{}", m.evaluations);
        assert_eq!(calls, m.evaluations);
    }
}
