//! Quality figures over labelled functions (`plumb eval`): recall, false alarms, AUROC of
//! (1 − confidence) for finding buggy functions, and expected calibration error.

/// One labelled function and what plumb made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub buggy: bool,
    /// Raised an error or a warning.
    pub flagged: bool,
    /// Probability that the function is correct.
    pub confidence: f64,
}

/// Flagged share, `None` for no cases.
pub fn rate(cases: &[&Scored]) -> Option<f64> {
    (!cases.is_empty()).then(|| cases.iter().filter(|c| c.flagged).count() as f64 / cases.len() as f64)
}

/// Probability that a random buggy function gets a lower confidence than a random correct one
/// (ties count half): the AUROC of (1 − confidence) as a bug detector.
pub fn auroc(cases: &[Scored]) -> Option<f64> {
    let buggy: Vec<f64> = cases.iter().filter(|c| c.buggy).map(|c| c.confidence).collect();
    let correct: Vec<f64> = cases.iter().filter(|c| !c.buggy).map(|c| c.confidence).collect();
    if buggy.is_empty() || correct.is_empty() {
        return None;
    }
    let mut wins = 0.0;
    for b in &buggy {
        for c in &correct {
            wins += if b < c {
                1.0
            } else if b == c {
                0.5
            } else {
                0.0
            };
        }
    }
    Some(wins / (buggy.len() * correct.len()) as f64)
}

/// Expected calibration error of the confidence as P(correct), over `bins` equal-width bins.
pub fn ece(cases: &[Scored], bins: usize) -> Option<f64> {
    if cases.is_empty() {
        return None;
    }
    let mut total = 0.0;
    for b in 0..bins {
        let (lo, hi) = (b as f64 / bins as f64, (b + 1) as f64 / bins as f64);
        let in_bin: Vec<&Scored> = cases
            .iter()
            .filter(|c| c.confidence >= lo && (c.confidence < hi || (b == bins - 1 && c.confidence <= hi)))
            .collect();
        if in_bin.is_empty() {
            continue;
        }
        let n = in_bin.len() as f64;
        let mean_conf = in_bin.iter().map(|c| c.confidence).sum::<f64>() / n;
        let accuracy = in_bin.iter().filter(|c| !c.buggy).count() as f64 / n;
        total += n / cases.len() as f64 * (mean_conf - accuracy).abs();
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(buggy: bool, confidence: f64) -> Scored {
        Scored { buggy, flagged: buggy, confidence }
    }

    #[test]
    fn perfect_random_and_inverted_rankings() {
        let perfect = [s(true, 0.1), s(true, 0.2), s(false, 0.8), s(false, 0.9)];
        assert_eq!(auroc(&perfect), Some(1.0));
        let ties = [s(true, 0.5), s(false, 0.5)];
        assert_eq!(auroc(&ties), Some(0.5));
        let inverted = [s(true, 0.9), s(false, 0.1)];
        assert_eq!(auroc(&inverted), Some(0.0));
        assert_eq!(auroc(&[s(true, 0.1)]), None);
    }

    #[test]
    fn calibration_error_is_zero_when_confidence_matches_frequency() {
        // Four at 0.75 of which three are correct; four at 0.25 of which one is correct.
        let cases = [
            s(false, 0.75),
            s(false, 0.75),
            s(false, 0.75),
            s(true, 0.75),
            s(false, 0.25),
            s(true, 0.25),
            s(true, 0.25),
            s(true, 0.25),
        ];
        assert!(ece(&cases, 10).unwrap() < 1e-12);
        let overconfident = [s(true, 0.95), s(false, 0.95)];
        assert!((ece(&overconfident, 10).unwrap() - 0.45).abs() < 1e-12);
        let refs: Vec<&Scored> = cases.iter().collect();
        assert_eq!(rate(&refs), Some(0.5));
    }
}
