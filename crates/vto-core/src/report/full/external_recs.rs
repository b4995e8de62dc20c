//! OPTIMIZATION recommendations (`R<n>`) from the external calls' findings:
//! one per finding of the kinds the app's code fixes (a call in a request,
//! in a loop, repeated, slow, failing, without a timeout). A job dominated
//! by external calls is a queue question: [`super::infra_external`].

use super::external::{evidence, Analysis};
use super::infra::plural;
use super::model::blank;
use super::recommend::{Draft, InfraHints};
use super::{round2, Effort, Impact, Recommendation};
use crate::external::{label, money, ms, number, Finding, FindingKind, ScopeKind};

/// One draft per finding the code fixes, with its dependencies as keys.
pub(super) fn drafts(a: &Analysis<'_>, hints: &InfraHints) -> Vec<Draft> {
    a.report
        .findings
        .iter()
        .filter_map(|f| draft(a, f, hints))
        .collect()
}

fn draft(a: &Analysis<'_>, f: &Finding, hints: &InfraHints) -> Option<Draft> {
    let ep = label(&(f.host.clone(), f.method.clone(), f.path.clone()));
    let scope = f.scope_name.clone().unwrap_or_default();
    let (title, effort) = match f.kind {
        FindingKind::ExternalCallInRequest => (
            format!("Move the {ep} call of {scope} to a background job"),
            Effort::Days,
        ),
        FindingKind::ExternalCallInLoop => (
            format!("Batch the {ep} calls made in a loop by {scope}"),
            Effort::Hours,
        ),
        FindingKind::DuplicateExternalCall => (
            format!(
                "Cache the answer of the repeated {ep} prompt {}",
                f.prompt_fingerprint.as_deref().unwrap_or_default()
            ),
            Effort::Hours,
        ),
        FindingKind::SlowExternalCall => (
            format!("Speed up the slow {ep} call in {scope}"),
            Effort::Hours,
        ),
        FindingKind::ExternalErrors => (
            format!("Retry {} with backoff behind a circuit breaker", f.host),
            Effort::Hours,
        ),
        FindingKind::ExternalTimeout => (
            format!("Give the {ep} call in {scope} a timeout"),
            Effort::Minutes,
        ),
        FindingKind::ExternalDominatedJob => return None,
    };
    let mut rec = blank(f.kind.as_str(), title, f.priority, effort);
    rec.issue = sentence(&f.reason);
    rec.location = f.location.clone();
    rec.evidence = vec![evidence(f)];
    rec.solution = f.suggestion.clone();
    let mut draft = Draft::new(rec);
    fill(a, f, &ep, &scope, hints, &mut draft);
    Some(draft)
}

/// The finding's reason as a sentence.
fn sentence(reason: &str) -> String {
    let mut chars = reason.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}

/// Impact, trade-offs, metric and dependencies per kind.
fn fill(
    a: &Analysis<'_>,
    f: &Finding,
    ep: &str,
    scope: &str,
    hints: &InfraHints,
    draft: &mut Draft,
) {
    let runs = f.runs.max(1) as f64;
    let per_run = f.total_ms / runs;
    let rec: &mut Recommendation = &mut draft.rec;
    match f.kind {
        FindingKind::ExternalCallInRequest => {
            rec.impact = Impact {
                summary: format!(
                    "{scope} no longer waits on {ep}: {} per request ({} over the {} \
                     recorded) leave the request and run in a job; the call itself takes as \
                     long as before.",
                    ms(per_run),
                    ms(f.total_ms),
                    plural(f.runs, "request")
                ),
                ms_saved_per_request: Some(round2(per_run)),
                ms_saved_total: Some(round2(f.total_ms)),
                ..Impact::default()
            };
            rec.trade_offs = "The client gets the result later: it polls the pending result or \
                              subscribes to it (Turbo Stream, ActionCable), and needs a screen \
                              for \"pending\" and \"failed\". A job that fails must record the \
                              failure so the client stops waiting."
                .to_owned();
            rec.metric = format!(
                "p95 time of {scope} (its external time now {} per request)",
                ms(per_run)
            );
            draft.key = Some(format!("request:{scope}"));
        }
        FindingKind::ExternalCallInLoop => {
            let per_call = f.total_ms / f.count.max(1) as f64;
            rec.impact = Impact {
                summary: format!(
                    "{} to {ep} in {} of {scope} ({} per run, {} per call on average) become one \
                     request per run; how much of each call is round-trip overhead was not \
                     measured, so the time saved is not stated.",
                    plural(f.count, "call"),
                    plural(f.runs, "run"),
                    ms(per_run),
                    ms(per_call),
                ),
                ..Impact::default()
            };
            rec.trade_offs = "One request carries every item: a failure or a rate-limit error \
                              now affects the whole batch, and a very large batch can exceed the \
                              model's context or the endpoint's input limit; split it into \
                              chunks of a size the endpoint accepts."
                .to_owned();
            rec.metric = format!(
                "calls to {ep} per run of {scope} (now {} per run)",
                number((f.count as f64 / runs * 10.0).round() / 10.0)
            );
        }
        FindingKind::DuplicateExternalCall => {
            let hit = f.hit_rate.unwrap_or(0.0);
            let saved_ms = f.total_ms * hit;
            let single = f.scope_name.is_some();
            rec.impact = Impact {
                summary: format!(
                    "A cache answers {} of {} (hit rate {}): {} saved{}{}.",
                    f.count.saturating_sub(1),
                    plural(f.count, "call"),
                    pct(hit),
                    ms(saved_ms),
                    f.cost_usd
                        .map(|c| format!(" and {} observed", money(c)))
                        .unwrap_or_default(),
                    f.cost_usd_per_month
                        .map(|m| format!(
                            ", {}/month (× monthly_scale {})",
                            money(m),
                            number(a.scale())
                        ))
                        .unwrap_or_else(
                            || "; the money saved is unknown (no usage or price)".to_owned()
                        ),
                ),
                ms_saved_per_request: single.then(|| round2(saved_ms / runs)),
                ms_saved_total: Some(round2(saved_ms)),
                usd_saved_per_month: f.cost_usd_per_month,
                ..Impact::default()
            };
            rec.trade_offs = "A cached answer is the same every time: cache only where one \
                              answer per prompt is acceptable (temperature 0, or any answer \
                              will do), and key it by the fingerprint so a changed prompt, model \
                              or setting misses. The cache store holds the answers (size them: \
                              a chat answer is a few kilobytes)."
                .to_owned();
            rec.metric = format!(
                "calls with fingerprint {} (now {}) and the Rails.cache hit rate",
                f.prompt_fingerprint.as_deref().unwrap_or_default(),
                f.count
            );
            draft.key = Some("duplicate_external_call".to_owned());
        }
        FindingKind::SlowExternalCall => {
            rec.impact = Impact {
                summary: format!(
                    "{ep} took up to {} in {scope} ({} over the slow-call threshold, {} in \
                     all); streaming shows the first tokens at once and a lower max_tokens \
                     bounds the generation, but the time saved depends on the answers and was \
                     not measured.",
                    ms(f.max_ms),
                    plural(f.count, "call"),
                    ms(f.total_ms)
                ),
                ..Impact::default()
            };
            rec.trade_offs = "A lower max_tokens cuts answers that need more; streaming needs a \
                              client that renders partial answers; a smaller model may answer \
                              worse: compare a sample of answers before switching."
                .to_owned();
            rec.metric = format!("the slowest {ep} call in {scope} (now {})", ms(f.max_ms));
            // One answer per queue: the infrastructure section's for a job it
            // moves, the job a request's call moves to otherwise.
            if f.scope_kind == Some(ScopeKind::Job) {
                if let Some((id, queue)) = hints.mover_of(scope) {
                    rec.solution = without_queue_line(&rec.solution);
                    rec.solution.push_str(&format!(
                        "\n# The queue: {id} gives {scope} its own queue, {queue}."
                    ));
                    draft.after.push(id.to_owned());
                }
            } else if f.scope_kind == Some(ScopeKind::Request) && moved_to_job(a, f) {
                rec.solution = without_queue_line(&rec.solution);
                rec.solution.push_str(
                    "\n# The queue: the job the call moves to (the recommendation this one follows).",
                );
                draft.needs.push(format!("request:{scope}"));
            }
        }
        FindingKind::ExternalErrors => {
            let share = f.hit_rate.unwrap_or(0.0);
            rec.impact = Impact {
                summary: format!(
                    "{} of the calls to {} failed ({} in them); retries with backoff turn \
                     passing 429s and 5xx into answers, and an open circuit fails at once \
                     instead of waiting on a host that is down. How many retries succeed was \
                     not measured.",
                    pct(share),
                    f.host,
                    ms(f.total_ms)
                ),
                ..Impact::default()
            };
            rec.solution = format!(
                "breaker = VirtualTrainerOptimizer::CircuitBreaker.for(\"{host}\",\n  \
                 failure_if: ->(r) {{ r.respond_to?(:code) && (r.code.to_i == 429 || r.code.to_i >= 500) }})\n\
                 VirtualTrainerOptimizer::Retry.call(attempts: 4, base: 0.5, max_delay: 20,\n  \
                 on: [Net::ReadTimeout, Faraday::TooManyRequestsError, Faraday::ServerError,\n       \
                 VirtualTrainerOptimizer::CircuitBreaker::OpenError]) do\n  \
                 breaker.call {{ client.chat(parameters: parameters) }}\nend\n\
                 # Retry waits min(20, 0.5 × 2^(n-1)) s with full jitter (or the error's retry_after).\n\
                 # In a job, let ActiveJob back off instead of sleeping (Rails 7.1+):\n\
                 retry_on Faraday::TooManyRequestsError, Faraday::ServerError, wait: :polynomially_longer, attempts: 5",
                host = f.host
            );
            rec.trade_offs = "Retries add load on a struggling provider and time to the caller: \
                              keep the attempts low in a request, and honour Retry-After. An \
                              open circuit fails calls that might have succeeded; its state is \
                              shared through Redis when config.redis_url is set."
                .to_owned();
            rec.metric = format!(
                "share of failed calls to {} (now {}) and the breaker's open transitions",
                f.host,
                pct(share)
            );
            draft.needs.push(format!("timeout:{}", f.host));
        }
        FindingKind::ExternalTimeout => {
            let seconds = timeout_seconds(&f.suggestion);
            if let Some(seconds) = &seconds {
                rec.solution = format!(
                    "{}\n# Net::HTTP, set when the connection starts:\n\
                     Net::HTTP.start(\"{}\", 443, use_ssl: true, open_timeout: {}, read_timeout: {seconds}) {{ |http| http.request(request) }}",
                    f.suggestion,
                    f.host,
                    open_timeout(seconds)
                );
            }
            rec.impact = Impact {
                summary: format!(
                    "A provider that stops answering costs at most {} per call instead of \
                     holding a thread ({} calls to {ep} in {scope} observed, the slowest {}).",
                    seconds
                        .as_deref()
                        .map_or_else(|| "the timeout".to_owned(), |s| format!("{s} s")),
                    f.count,
                    ms(f.max_ms)
                ),
                ..Impact::default()
            };
            rec.trade_offs = "A call slower than the timeout now fails (Net::ReadTimeout, \
                              Faraday::TimeoutError) and needs handling; a long answer being \
                              generated counts against the read timeout, so keep it above the \
                              slowest expected answer."
                .to_owned();
            rec.metric = format!(
                "the slowest {ep} call in {scope} (now {}) and timeouts raised",
                ms(f.max_ms)
            );
            draft.key = Some(format!("timeout:{}", f.host));
        }
        FindingKind::ExternalDominatedJob => {}
    }
}

/// Whether a finding moves this request's call to the same endpoint to a job.
fn moved_to_job(a: &Analysis<'_>, f: &Finding) -> bool {
    a.report.findings.iter().any(|g| {
        g.kind == FindingKind::ExternalCallInRequest
            && g.scope_name == f.scope_name
            && (&g.host, &g.method, &g.path) == (&f.host, &f.method, &f.path)
    })
}

/// The timeout the finding suggests: `timeout: N` in its Faraday line.
fn timeout_seconds(suggestion: &str) -> Option<String> {
    let rest = suggestion.split("timeout: ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!digits.is_empty()).then_some(digits)
}

/// The finding's own open timeout: the read timeout, at most 5 s.
fn open_timeout(seconds: &str) -> u64 {
    seconds.parse::<u64>().map_or(5, |s| s.clamp(1, 5))
}

/// The suggestion without its `queue_as` lines (and their comment).
fn without_queue_line(suggestion: &str) -> String {
    let lines: Vec<&str> = suggestion.lines().collect();
    let keep: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            let next_is_queue = lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("queue_as"));
            let queue = l.trim_start().starts_with("queue_as");
            let its_comment = l.starts_with('#') && next_is_queue;
            !(queue || its_comment)
        })
        .map(|(_, l)| *l)
        .collect();
    keep.join("\n")
}

fn pct(share: f64) -> String {
    format!("{}%", number((share * 1000.0).round() / 10.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_suggested_timeout() {
        let s = "Faraday.new(url: \"https://api.openai.com\", request: { timeout: 4, open_timeout: 4 })";
        assert_eq!(timeout_seconds(s).as_deref(), Some("4"));
        assert_eq!(open_timeout("40"), 5);
    }

    #[test]
    fn drops_the_queue_lines() {
        let s = "a\n# Keep slow calls off the default queue's threads:\nqueue_as :openai_slow";
        assert_eq!(without_queue_line(s), "a");
    }
}
