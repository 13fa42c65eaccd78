//! When to ask a backend again. Polite by default: the first look after the policy's first
//! interval, then longer while nothing changes (×growth up to max), at once back to the first
//! interval after a change; errors back off on their own schedule. Never two calls closer than
//! the site's minimum.

use crate::settings::PollSettings;
use crate::slurm::Backoff;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pacer {
    settings: PollSettings,
    next: Instant,
    interval: Duration,
    last_call: Option<Instant>,
    backoff: Backoff,
}

impl Pacer {
    /// Due at once (a resumed tracker wants to know where things stand).
    pub fn new(settings: PollSettings) -> Pacer {
        Pacer {
            settings,
            next: Instant::now(),
            interval: secs(settings.first_s.max(settings.min_s)),
            last_call: None,
            backoff: Backoff::new(Duration::from_secs(5), Duration::from_secs(300)),
        }
    }

    /// Makes the pacer at least as polite as `other` (several policies, one scheduler).
    pub fn politest(&mut self, other: PollSettings) {
        let s = &mut self.settings;
        s.first_s = s.first_s.max(other.first_s);
        s.max_s = s.max_s.max(other.max_s);
        s.min_s = s.min_s.max(other.min_s);
        s.growth = s.growth.max(other.growth);
    }

    pub fn settings(&self) -> PollSettings {
        self.settings
    }

    pub fn due(&self, now: Instant) -> bool {
        now >= self.next
    }

    pub fn next(&self) -> Instant {
        self.next
    }

    /// A call is being made now.
    pub fn calling(&mut self) {
        self.last_call = Some(Instant::now());
    }

    /// The call answered; `changed` says whether any job changed state.
    pub fn answered(&mut self, changed: bool) {
        self.backoff.reset();
        let s = self.settings;
        self.interval = if changed {
            secs(s.first_s.max(s.min_s))
        } else {
            secs(
                (self.interval.as_secs_f64() * s.growth)
                    .min(s.max_s)
                    .max(s.min_s),
            )
        };
        self.next = Instant::now() + self.interval;
    }

    /// The call failed for a reason that says nothing about the jobs: wait and ask again.
    pub fn failed(&mut self) -> Duration {
        let delay = self.backoff.next_delay().max(secs(self.settings.min_s));
        self.next = Instant::now() + delay;
        delay
    }

    /// A job was just launched: look after the first interval, not at once.
    pub fn launched(&mut self) {
        let s = self.settings;
        self.interval = secs(s.first_s.max(s.min_s));
        self.next = self.next.min(Instant::now() + self.interval);
    }

    /// A job's end was signalled (its exit file appeared): ask as soon as the site allows.
    pub fn soon(&mut self) {
        let earliest = self
            .last_call
            .map(|t| t + secs(self.settings.min_s))
            .unwrap_or_else(Instant::now);
        self.next = self.next.min(earliest.max(Instant::now()));
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_while_quiet_and_resets_on_change() {
        let mut p = Pacer::new(PollSettings {
            first_s: 10.0,
            growth: 2.0,
            max_s: 35.0,
            min_s: 5.0,
            ..Default::default()
        });
        p.answered(false);
        assert_eq!(p.interval, Duration::from_secs(20));
        p.answered(false);
        assert_eq!(p.interval, Duration::from_secs(35));
        p.answered(true);
        assert_eq!(p.interval, Duration::from_secs(10));
    }

    #[test]
    fn soon_respects_the_minimum_gap() {
        let mut p = Pacer::new(PollSettings::default());
        p.calling();
        p.answered(false);
        p.soon();
        let gap = p.next.saturating_duration_since(Instant::now());
        assert!(
            gap <= Duration::from_secs(5) && gap >= Duration::from_secs(4),
            "{gap:?}"
        );
    }
}
