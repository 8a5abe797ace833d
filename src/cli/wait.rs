//! `run --wait-for-target DURATION`: before the first case, poll the target's base URL until it
//! answers anything (any HTTP status counts: the target is up), within the duration; a target
//! that never answers is a one-line error (exit code 2) saying what the last attempt got.

use std::time::{Duration, Instant};

use http::{HeaderMap, Method};
use integrations_conformance::report;
use integrations_conformance::transport::Target;

use super::{note, CliResult, Fatal};

/// Between two attempts (a refused connection fails at once).
const PAUSE: Duration = Duration::from_millis(250);

/// One attempt waits at most this long for an answer (or the time left, when less).
const ATTEMPT: Duration = Duration::from_secs(5);

/// Returns once the target answers a `GET` of its base URL; an error when it has not answered
/// within `within`.
pub(crate) async fn until_it_answers(target: &Target, within: Duration) -> CliResult<()> {
    let url = report::display_url(&target.base_url);
    let client = target
        .client(ATTEMPT.min(within), 1024)
        .map_err(|e| Fatal(format!("cannot reach {url}: {e}")))?;
    let started = Instant::now();
    let deadline = started + within;
    let mut attempts = 0usize;
    loop {
        attempts += 1;
        let sent = client
            .send(
                &Method::GET,
                &target.base_url,
                &HeaderMap::new(),
                None,
                Some(deadline),
            )
            .await;
        let last = match sent.answer {
            Ok(answer) => {
                if attempts > 1 {
                    note(&format!(
                        "{url} answered ({}) after {:.1}s",
                        answer.status.as_u16(),
                        started.elapsed().as_secs_f64()
                    ));
                }
                return Ok(());
            }
            Err(e) => e,
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(Fatal(format!(
                "the target {url} did not answer within {} ({attempts} attempts; the last: {last}); \
                 start it first, or give --wait-for-target more time",
                humantime::format_duration(round(within))
            )));
        }
        if attempts == 1 {
            note(&format!(
                "waiting up to {} for {url} to answer ({last})",
                humantime::format_duration(round(within))
            ));
        }
        tokio::time::sleep(PAUSE.min(deadline - now)).await;
    }
}

/// A duration to the millisecond, as people read it.
fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis().try_into().unwrap_or(u64::MAX))
}
