//! Consensus timeouts, checked before simplex sees them (it asserts their ordering and panics).

use std::time::Duration;

use commonware_utils::NonZeroDuration;

/// Why a set of timeouts cannot run simplex.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeoutsError {
    /// `leader`, `timeout_retry` or `fetch` is zero.
    #[error("invalid timeouts: leader, timeout_retry and fetch must be non-zero")]
    Zero,
    /// `certification` does not exceed `leader`.
    #[error("invalid timeouts: certification must exceed leader")]
    CertificationNotAfterLeader,
    /// `skip` does not exceed both `certification` and `timeout_retry`.
    #[error("invalid timeouts: skip must exceed certification and timeout_retry")]
    SkipTooEarly,
}

/// Consensus timeouts. Simplex requires `leader < certification < skip` and
/// `timeout_retry < skip`.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// How long to wait for the leader's proposal.
    pub leader: Duration,
    /// How long to wait for a view to certify before voting to skip it.
    pub certification: Duration,
    /// How often to rebroadcast a nullify vote while stuck in a view.
    pub timeout_retry: Duration,
    /// How long a leader may be inactive before its views are skipped immediately.
    pub skip: Duration,
    /// How long to wait for a peer to answer a fetch.
    pub fetch: Duration,
}

impl Timeouts {
    /// Checks the ordering simplex asserts (it panics otherwise).
    pub fn validate(&self) -> Result<(), TimeoutsError> {
        if self.leader.is_zero() || self.timeout_retry.is_zero() || self.fetch.is_zero() {
            return Err(TimeoutsError::Zero);
        }
        if self.certification <= self.leader {
            return Err(TimeoutsError::CertificationNotAfterLeader);
        }
        if self.skip <= self.certification || self.skip <= self.timeout_retry {
            return Err(TimeoutsError::SkipTooEarly);
        }
        Ok(())
    }

    /// The fetch timeout as simplex and marshal take it.
    pub fn fetch_timeout(&self) -> Result<NonZeroDuration, TimeoutsError> {
        NonZeroDuration::new(self.fetch).ok_or(TimeoutsError::Zero)
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            leader: Duration::from_secs(1),
            certification: Duration::from_secs(2),
            timeout_retry: Duration::from_secs(5),
            skip: Duration::from_secs(10),
            fetch: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_validated_instead_of_panicking_in_simplex() {
        Timeouts::default().validate().expect("defaults are valid");
        let base = Timeouts::default();
        let bad = [
            (Timeouts { leader: Duration::ZERO, ..base }, TimeoutsError::Zero),
            (
                Timeouts { certification: base.leader, ..base },
                TimeoutsError::CertificationNotAfterLeader,
            ),
            (Timeouts { skip: base.certification, ..base }, TimeoutsError::SkipTooEarly),
            (Timeouts { timeout_retry: base.skip, ..base }, TimeoutsError::SkipTooEarly),
            (Timeouts { fetch: Duration::ZERO, ..base }, TimeoutsError::Zero),
        ];
        for (t, expected) in bad {
            assert_eq!(t.validate(), Err(expected), "{t:?}");
        }
        assert_eq!(
            Timeouts { fetch: Duration::ZERO, ..base }.fetch_timeout(),
            Err(TimeoutsError::Zero)
        );
    }
}
