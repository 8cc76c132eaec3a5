//! CPU time of the calling thread: what the per-frame budget is about ("10 ms per frame on
//! one core"). Wall time would make the decoder drop its fallbacks whenever other processes
//! keep the cores busy, and decode less for reasons that have nothing to do with the frame.

use std::time::Duration;

/// CPU time used so far by the calling thread.
#[cfg(unix)]
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid, exclusive pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Elsewhere: wall time since the first call, the best stand-in without the clock.
#[cfg(not(unix))]
pub fn thread_cpu_time() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// A stopwatch on the calling thread's CPU time.
#[derive(Debug, Clone, Copy)]
pub struct CpuStopwatch(Duration);

impl CpuStopwatch {
    pub fn start() -> Self {
        Self(thread_cpu_time())
    }

    pub fn elapsed(&self) -> Duration {
        thread_cpu_time().saturating_sub(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_moves_the_clock_and_sleep_does_not_much() {
        let w = CpuStopwatch::start();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(w.elapsed() > Duration::ZERO);
    }
}
