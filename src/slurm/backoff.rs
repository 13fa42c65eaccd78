//! Back-off for transient SLURM errors: wait longer after each failure, up to a cap, and start
//! over after a success.

use super::SlurmError;
use std::future::Future;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max: max.max(initial),
            next: initial,
            failures: 0,
        }
    }

    /// The delay before the next attempt; doubles each call, capped at `max`.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        self.failures += 1;
        delay
    }

    /// Call after a success.
    pub fn reset(&mut self) {
        self.next = self.initial;
        self.failures = 0;
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

impl Default for Backoff {
    /// 5 s, doubling to 5 min: polite to a controller that is struggling.
    fn default() -> Self {
        Backoff::new(Duration::from_secs(5), Duration::from_secs(300))
    }
}

/// Runs `op` until it succeeds, fails with a non-transient error, or transient failures have
/// gone on for longer than `give_up_after` (then the last transient error is returned).
pub async fn retry_transient<T, F, Fut>(
    backoff: &mut Backoff,
    give_up_after: Duration,
    mut op: F,
) -> Result<T, SlurmError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SlurmError>>,
{
    let start = Instant::now();
    loop {
        match op().await {
            Ok(v) => {
                backoff.reset();
                return Ok(v);
            }
            Err(e) if e.is_transient() && start.elapsed() < give_up_after => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, ?delay, "transient SLURM error; backing off");
                tokio::time::sleep(delay).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        let d: Vec<u64> = (0..5).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 5, 5]);
        assert_eq!(b.failures(), 5);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn retries_transient_but_not_other_errors() {
        let mut b = Backoff::new(Duration::from_millis(1), Duration::from_millis(4));
        let mut n = 0;
        let r = retry_transient(&mut b, Duration::from_secs(5), || {
            n += 1;
            let attempt = n;
            async move {
                if attempt < 3 {
                    Err(SlurmError::Transient {
                        command: "squeue".into(),
                        message: "Socket timed out".into(),
                    })
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;
        assert_eq!(r.unwrap(), 3);

        let mut calls = 0;
        let r: Result<(), _> = retry_transient(&mut b, Duration::from_secs(5), || {
            calls += 1;
            async { Err(SlurmError::Refused("sbatch: error: bad".into())) }
        })
        .await;
        assert!(matches!(r, Err(SlurmError::Refused(_))));
        assert_eq!(calls, 1);
    }
}
