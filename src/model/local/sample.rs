//! Picking the next token from logits: repetition penalty, temperature, top-k, top-p, with a
//! seeded generator so that a (seed, prompt, model) triple always gives the same samples.

/// SplitMix64: small, seedable, and good enough for sampling.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sampling {
    /// 0 means greedy.
    pub(crate) temperature: f32,
    pub(crate) top_p: f32,
    /// 0 means no limit.
    pub(crate) top_k: usize,
    /// 1.0 means none; applied to tokens already generated (llama.cpp's definition).
    pub(crate) repetition_penalty: f32,
}

/// The next token. `logits` is modified (penalty, temperature).
pub(crate) fn sample(logits: &mut [f32], previous: &[u32], s: &Sampling, rng: &mut Rng) -> u32 {
    if s.repetition_penalty != 1.0 {
        for &t in previous {
            if let Some(l) = logits.get_mut(t as usize) {
                *l = if *l > 0.0 { *l / s.repetition_penalty } else { *l * s.repetition_penalty };
            }
        }
    }
    if s.temperature <= 0.0 {
        return argmax(logits);
    }
    let mut order: Vec<usize> = (0..logits.len()).filter(|&i| logits[i].is_finite()).collect();
    if order.is_empty() {
        return 0;
    }
    order.sort_unstable_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    if s.top_k > 0 {
        order.truncate(s.top_k);
    }
    let max = logits[order[0]];
    let mut probs: Vec<f64> = order.iter().map(|&i| (((logits[i] - max) / s.temperature) as f64).exp()).collect();
    let total: f64 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= total);
    if s.top_p < 1.0 {
        let mut mass = 0.0;
        let mut keep = probs.len();
        for (i, p) in probs.iter().enumerate() {
            mass += p;
            if mass >= s.top_p as f64 {
                keep = i + 1;
                break;
            }
        }
        probs.truncate(keep);
        order.truncate(keep);
    }
    let total: f64 = probs.iter().sum();
    let mut r = rng.next_f64() * total;
    for (i, p) in probs.iter().enumerate() {
        if r < *p {
            return order[i] as u32;
        }
        r -= p;
    }
    order[order.len() - 1] as u32
}

pub(crate) fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, l) in logits.iter().enumerate() {
        if *l > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Softmax probability of `token` among all logits.
pub(crate) fn probability(logits: &[f32], token: u32) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f64 = logits.iter().map(|l| ((l - max) as f64).exp()).sum();
    logits.get(token as usize).map(|l| ((l - max) as f64).exp() / total).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Sampling = Sampling { temperature: 1.0, top_p: 1.0, top_k: 0, repetition_penalty: 1.0 };

    #[test]
    fn greedy_seeded_and_filtered() {
        let logits = [0.0f32, 3.0, 1.0, 2.9];
        assert_eq!(sample(&mut logits.clone(), &[], &Sampling { temperature: 0.0, ..S }, &mut Rng::new(1)), 1);
        // Same seed, same tokens.
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..20).map(|_| sample(&mut logits.clone(), &[], &S, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        // top-k 2 never picks the third and fourth best.
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let t = sample(&mut logits.clone(), &[], &Sampling { top_k: 2, ..S }, &mut rng);
            assert!(t == 1 || t == 3);
        }
        // top-p 0.5 keeps only the best here (p(1) ≈ 0.49 + p(3) crosses 0.5).
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let t = sample(&mut logits.clone(), &[], &Sampling { top_p: 0.3, ..S }, &mut rng);
            assert_eq!(t, 1);
        }
        // A repetition penalty moves greedy decoding off a repeated token.
        let t =
            sample(&mut logits.clone(), &[1], &Sampling { temperature: 0.0, repetition_penalty: 1.3, ..S }, &mut rng);
        assert_eq!(t, 3);
        assert!((probability(&[0.0, 0.0], 1) - 0.5).abs() < 1e-9);
    }
}
