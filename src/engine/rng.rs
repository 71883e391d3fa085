//! Randomness: one named generator, one independent stream per component.
//!
//! The generator is **PCG-XSL-RR 128/64** (`rand_pcg::Pcg64`, O'Neill 2014), named here so that
//! a crate update cannot silently change results. Each component draws from its own stream,
//! derived from the run seed and a fixed stream number, so adding draws in one component never
//! shifts the numbers another one sees.

use rand::SeedableRng;
use rand_pcg::Pcg64;

/// The simulator's random number generator: PCG-XSL-RR 128/64.
pub type SimRng = Pcg64;

/// SplitMix64's finaliser (Steele, Lea and Flood 2014): a bijective mix of 64 bits.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Mixes several words into one seed; order matters. Used for sub-seeds and sweep seeds.
pub fn mix_seed(parts: &[u64]) -> u64 {
    parts.iter().fold(0x6A09_E667_F3BC_C909, |acc, &p| {
        splitmix64(acc ^ splitmix64(p))
    })
}

/// The generator for component `stream` of the run seeded with `seed`.
///
/// The 128-bit state comes from two mixed words of (seed, stream); PCG's stream-selection
/// increment is set from `stream` too, so distinct streams are distinct sequences even if
/// their states were to collide.
pub fn stream(seed: u64, stream: u64) -> SimRng {
    let hi = mix_seed(&[seed, stream, 1]);
    let lo = mix_seed(&[seed, stream, 2]);
    let state = (u128::from(hi) << 64) | u128::from(lo);
    let inc = u128::from(splitmix64(stream ^ 0xDA3E_39CB_94B9_5BDB));
    Pcg64::new(state, inc)
}

/// A generator from a seed alone (stream 0); for tests and examples.
pub fn from_seed(seed: u64) -> SimRng {
    Pcg64::seed_from_u64(seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, 1), |r, _| Some(r.random()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, 1), |r, _| Some(r.random()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(7, 2), |r, _| Some(r.random()))
            .collect();
        let d: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(8, 1), |r, _| Some(r.random()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn pcg64_golden_values() {
        // Pins the algorithm and the seeding: if rand_pcg ever changed Pcg64's output, or the
        // stream derivation changed, every published result would move. These must not change.
        assert_eq!(stream(42, 0).random::<u64>(), 8_808_328_727_037_523_680);
        assert_eq!(from_seed(42).random::<u64>(), 4_178_418_447_715_145_737);
        assert_eq!(mix_seed(&[1, 2]), 11_219_452_103_260_847_153);
        assert_ne!(mix_seed(&[1, 2]), mix_seed(&[2, 1]));
    }
}
