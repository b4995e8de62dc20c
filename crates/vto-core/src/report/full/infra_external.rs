//! The INFRASTRUCTURE section's `external` part: per provider how many calls
//! may be in flight under its stated rate limit (Little's law), the monthly
//! cost at several usage levels, and the recommendations (`I<n>`) that follow:
//! a rate-limited queue for each job dominated by external calls
//! (`external_queue`) and, from $10 a month, the bill (`external_cost`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::external::{evidence, Analysis, RateLimit};
use super::infra::{plural, Infrastructure, ThreadCap};
use super::model::blank;
use super::{round2, Effort, Impact, Recommendation};
use crate::external::{
    self, label, money, money_priority, ms, number, queue_name, thousands, usd, FindingKind,
    ScopeKind, MONTHLY_HIGH_USD,
};

/// The section's `external` object.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalInfra {
    /// Per host, most calls first.
    pub providers: Vec<Provider>,
    /// The usage multipliers of the projection (`growth`, default 1, 2, 5, 10).
    pub growth: Vec<f64>,
    /// Observed windows per month (`options.monthly_scale`).
    pub monthly_scale: f64,
    /// Per scope class and model, costliest first.
    pub monthly_projection: Vec<ProjectionRow>,
    /// Every known cost × `monthly_scale` (`null` when no cost is known).
    pub monthly_cost_usd: Option<f64>,
    /// That at every multiplier.
    pub monthly_cost_by_growth: Vec<GrowthCost>,
    /// The prices' currency.
    pub currency: String,
    /// The prices' date.
    pub prices_as_of: Option<String>,
    /// The arithmetic, in words.
    pub reasoning: String,
}

/// One provider (host).
#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    /// Lower case.
    pub host: String,
    /// Calls to it.
    pub calls: u64,
    /// Calls × 60 / the workload's window in seconds (`null` without a window).
    pub requests_per_minute_observed: Option<f64>,
    /// Mean call time.
    pub mean_call_ms: f64,
    /// Prompt + completion tokens per call with known usage (`null`: none known).
    pub tokens_per_call: Option<f64>,
    /// The stated limit (`null`: none stated).
    pub rate_limit: Option<RateLimit>,
    /// Calls the limit allows in flight: limit per minute × mean call seconds
    /// / 60, the tighter of requests and tokens, floored, at least 1 (`null`
    /// without a usable limit).
    pub max_concurrency: Option<u64>,
    /// The arithmetic, in words.
    pub reasoning: String,
}

/// One scope class and model's monthly cost at every multiplier.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectionRow {
    /// The scope class.
    pub scope: String,
    /// Its kind.
    pub scope_kind: ScopeKind,
    /// The model.
    pub model: String,
    /// Observed runs.
    pub runs: u64,
    /// Observed calls.
    pub calls: u64,
    /// Observed cost × `monthly_scale` (growth 1).
    pub cost_usd_per_month: f64,
    /// That × each multiplier.
    pub by_growth: Vec<GrowthCost>,
    /// The arithmetic.
    pub reasoning: String,
}

/// A monthly cost at one usage multiplier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GrowthCost {
    /// The multiplier.
    pub growth: f64,
    /// The monthly cost at it.
    pub cost_usd_per_month: f64,
}

fn at_growth(cost: f64, growth: &[f64]) -> Vec<GrowthCost> {
    growth
        .iter()
        .map(|g| GrowthCost {
            growth: *g,
            cost_usd_per_month: usd(cost * g),
        })
        .collect()
}

fn growth_text(costs: &[GrowthCost]) -> String {
    costs
        .iter()
        .map(|g| format!("×{} {}", number(g.growth), money(g.cost_usd_per_month)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Providers, most calls first; `window` the workload's, in seconds.
pub(super) fn providers(a: &Analysis<'_>, window: Option<f64>) -> Vec<Provider> {
    // calls, total ms, calls with usage, their tokens
    let mut by: BTreeMap<String, (u64, f64, u64, u64)> = BTreeMap::new();
    for c in &a.report.calls {
        let e = by.entry(external::endpoint(c).0).or_default();
        e.0 += 1;
        e.1 += c.call.ms();
        if let Some((p, q)) = c.call.tokens() {
            e.2 += 1;
            e.3 = e.3.saturating_add(p.saturating_add(q));
        }
    }
    let mut out: Vec<Provider> = by
        .into_iter()
        .map(|(host, (calls, total, with_usage, tokens))| {
            let mean = total / calls.max(1) as f64;
            let tokens_per_call = (with_usage > 0).then(|| tokens as f64 / with_usage as f64);
            let limit = a.input.rate_limit(&host);
            let (max_concurrency, limit_text) = concurrency(limit, mean, tokens_per_call);
            let observed = window.map(|w| calls as f64 * 60.0 / w);
            let reasoning = format!(
                "{} to {host}, mean {}{}{}. {limit_text}",
                plural(calls, "call"),
                ms(mean),
                tokens_per_call
                    .map(|t| format!(", {} tokens per call", fig(t)))
                    .unwrap_or_default(),
                observed
                    .map(|r| format!(
                        "; {} requests/min observed ({calls} × 60 / {} s window)",
                        number(round2(r)),
                        number(window.unwrap_or_default())
                    ))
                    .unwrap_or_else(|| "; no workload window, so no observed rate".to_owned()),
            );
            Provider {
                host,
                calls,
                requests_per_minute_observed: observed.map(round2),
                mean_call_ms: round2(mean),
                tokens_per_call: tokens_per_call.map(round2),
                rate_limit: limit,
                max_concurrency,
                reasoning,
            }
        })
        .collect();
    out.sort_by(|x, y| y.calls.cmp(&x.calls).then_with(|| x.host.cmp(&y.host)));
    out
}

/// Little's law: a limit of L calls a minute with calls of S seconds keeps
/// L × S / 60 in flight; the tokens limit allows L_t / tokens-per-call calls
/// a minute. The tighter, floored, at least 1.
fn concurrency(
    limit: Option<RateLimit>,
    mean_ms: f64,
    tokens_per_call: Option<f64>,
) -> (Option<u64>, String) {
    let Some(limit) = limit else {
        return (
            None,
            "No rate limit stated (external.rate_limits), so the calls in flight it allows are \
             unknown."
                .to_owned(),
        );
    };
    let seconds = mean_ms / 1000.0;
    let mut parts = Vec::new();
    let mut bounds = Vec::new();
    if let Some(rpm) = limit.requests_per_minute {
        let n = rpm * mean_ms / 60_000.0;
        parts.push(format!(
            "{} requests/min × {} s / 60 = {} in flight",
            thousands(rpm.round() as u64),
            number(seconds),
            number(round2(n))
        ));
        bounds.push(n);
    }
    match (limit.tokens_per_minute, tokens_per_call) {
        (Some(tpm), Some(per_call)) if per_call > 0.0 => {
            let calls = tpm / per_call;
            let n = calls * mean_ms / 60_000.0;
            parts.push(format!(
                "{} tokens/min / {} tokens per call = {} calls/min × {} s / 60 = {} in flight",
                thousands(tpm.round() as u64),
                fig(per_call),
                fig(calls),
                number(seconds),
                number(round2(n))
            ));
            bounds.push(n);
        }
        (Some(_), _) => parts.push(
            "the tokens/min limit cannot be applied: no call reported its token usage".to_owned(),
        ),
        _ => {}
    }
    let Some(tightest) = bounds.into_iter().reduce(f64::min) else {
        return (None, format!("Rate limit: {}.", parts.join("; ")));
    };
    // A hair above the floor absorbs float error (14.999999 is 15).
    let n = ((tightest + 1e-9).floor() as u64).max(1);
    (
        Some(n),
        format!(
            "Rate limit: {}; the tighter, floored (at least 1): {} in flight.",
            parts.join("; "),
            plural(n, "call")
        ),
    )
}

/// Thread caps for the Sidekiq layout: each external-dominated job whose
/// provider states a limit may run at most the provider's `max_concurrency`.
pub(super) fn caps(a: &Analysis<'_>, providers: &[Provider]) -> BTreeMap<String, ThreadCap> {
    a.report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::ExternalDominatedJob)
        .filter_map(|f| {
            let p = providers.iter().find(|p| p.host == f.host)?;
            let threads = p.max_concurrency?;
            Some((
                f.scope_name.clone()?,
                ThreadCap {
                    threads,
                    why: format!(
                        "{}'s rate limit allows {} in flight",
                        p.host,
                        plural(threads, "call")
                    ),
                },
            ))
        })
        .collect()
}

/// The section's `external` object.
pub(super) fn section(a: &Analysis<'_>, providers: Vec<Provider>) -> ExternalInfra {
    let costs = &a.report.costs;
    let growth = a.input.growth.clone();
    let scale = a.scale();
    let monthly_projection = costs
        .monthly_projection
        .iter()
        .map(|p| {
            let by_growth = at_growth(p.cost_usd_per_month, &growth);
            ProjectionRow {
                scope: p.scope.clone(),
                scope_kind: p.scope_kind,
                model: p.model.clone(),
                runs: p.runs,
                calls: p.calls,
                cost_usd_per_month: p.cost_usd_per_month,
                reasoning: format!("{}; at growth {}", p.reasoning, growth_text(&by_growth)),
                by_growth,
            }
        })
        .collect();
    let monthly = costs.total_cost_usd_per_month;
    let by_growth = monthly.map_or_else(Vec::new, |m| at_growth(m, &growth));
    let reasoning = match (costs.total_cost_usd, monthly) {
        (Some(total), Some(month)) => format!(
            "Observed {} × {} (monthly_scale: observed windows per month) = {}/month; × growth: {}.",
            money(total),
            number(scale),
            money(month),
            growth_text(&by_growth)
        ),
        _ => "No call's cost is known (no token usage, or no price for its model), so no \
              monthly cost is projected."
            .to_owned(),
    };
    ExternalInfra {
        providers,
        growth,
        monthly_scale: scale,
        monthly_projection,
        monthly_cost_usd: monthly,
        monthly_cost_by_growth: by_growth,
        currency: costs.currency.clone(),
        prices_as_of: costs.prices_as_of.clone(),
        reasoning,
    }
}

/// A job class's usage per worker thread running it back to back.
struct ThreadUsage {
    runs: u64,
    mean_ms: f64,
    rpm: f64,
    tpm: Option<f64>,
}

fn thread_usage(a: &Analysis<'_>, job: &str, host: &str) -> Option<ThreadUsage> {
    let (mut runs, mut elapsed, mut calls, mut tokens) = (0u64, 0.0, 0u64, None::<u64>);
    for s in &a.calls.scopes {
        let Some(e) = s.elapsed_ms.filter(|e| *e > 0.0) else {
            continue;
        };
        if s.kind != ScopeKind::Job || s.name != job {
            continue;
        }
        runs += 1;
        elapsed += e;
        for c in s
            .calls
            .iter()
            .filter(|c| c.host.trim().eq_ignore_ascii_case(host))
        {
            calls += 1;
            if let Some((p, q)) = c.tokens() {
                tokens = Some(tokens.unwrap_or(0).saturating_add(p.saturating_add(q)));
            }
        }
    }
    let mean_ms = elapsed / runs.max(1) as f64;
    (runs > 0).then(|| ThreadUsage {
        runs,
        mean_ms,
        rpm: calls as f64 / runs as f64 * 60_000.0 / mean_ms,
        tpm: tokens.map(|t| t as f64 / runs as f64 * 60_000.0 / mean_ms),
    })
}

/// What the recommendations add: the recommendations (without ids) and,
/// per job the `external_queue` recommendation moves, its queue.
pub(super) struct Added {
    pub recs: Vec<Recommendation>,
    pub moves: Vec<(String, String)>,
}

/// Appends the `external_queue` and `external_cost` recommendations to
/// `infra` (ids after the existing `I<n>`); returns (job, queue, id) per job
/// a capsule moves.
pub(super) fn recommend(
    a: &Analysis<'_>,
    infra: &mut Infrastructure,
    worker_dynos: Option<u64>,
) -> Vec<(String, String, String)> {
    let Some(section) = infra.external.as_ref() else {
        return Vec::new();
    };
    let mut added = Added {
        recs: Vec::new(),
        moves: Vec::new(),
    };
    for f in &a.report.findings {
        if f.kind == FindingKind::ExternalDominatedJob {
            queue_rec(a, f, section, infra, worker_dynos, &mut added);
        }
    }
    if let Some(rec) = cost_rec(a, section) {
        added.recs.push(rec);
    }
    let mut moved = Vec::new();
    for mut rec in added.recs {
        rec.id = format!("I{}", infra.recommendations.len() + 1);
        if rec.category == "external_queue" {
            if let Some((job, queue)) = added
                .moves
                .iter()
                .find(|(job, _)| rec.evidence.iter().any(|e| e == &format!("unit:{job}")))
            {
                moved.push((job.clone(), queue.clone(), rec.id.clone()));
            }
        }
        infra.recommendations.push(rec);
    }
    moved
}

fn queue_rec(
    a: &Analysis<'_>,
    f: &external::Finding,
    section: &ExternalInfra,
    infra: &Infrastructure,
    worker_dynos: Option<u64>,
    added: &mut Added,
) {
    let Some(job) = f.scope_name.clone() else {
        return;
    };
    let host = f.host.as_str();
    let provider = section.providers.iter().find(|p| p.host == host);
    let cap = provider.and_then(|p| p.max_concurrency);
    let usage = thread_usage(a, &job, host);
    let per_thread = usage.as_ref().map_or_else(
        || "its per-thread usage was not measured (no run with an elapsed time)".to_owned(),
        |u| {
            format!(
                "one thread running {job} back to back makes {} requests/min{} ({} of {} mean)",
                number(round2(u.rpm)),
                u.tpm
                    .map(|t| format!(" and uses {} tokens/min", thousands(t.round() as u64)))
                    .unwrap_or_default(),
                plural(u.runs, "run"),
                ms(u.mean_ms)
            )
        },
    );
    let long = infra
        .sidekiq
        .queues
        .iter()
        .find(|q| q.name == "long_running" && q.jobs.contains(&job));
    let sidekiq_id = infra
        .recommendations
        .iter()
        .find(|r| r.category == "sidekiq_queues")
        .map(|r| r.id.clone());
    let ep = label(&(f.host.clone(), f.method.clone(), f.path.clone()));
    let mut rec = blank("external_queue", String::new(), f.priority, Effort::Hours);
    rec.evidence = vec![
        evidence(f),
        format!("unit:{job}"),
        "infrastructure:external".to_owned(),
    ];
    let limit_yaml = |threads: u64| {
        let need = usage.as_ref().map_or_else(String::new, |u| {
            format!(
                "\n# {threads} thread{} of {job} need{} at least {} requests/min{}",
                if threads == 1 { "" } else { "s" },
                if threads == 1 { "s" } else { "" },
                number(round2(u.rpm * threads as f64)),
                u.tpm
                    .map(|t| format!(
                        " and {} tokens/min",
                        thousands((t * threads as f64).round() as u64)
                    ))
                    .unwrap_or_default()
            )
        });
        format!(
            "# config/vto_infrastructure.yml: the account's limits, so the report can size the \
             queue{need}\nexternal:\n  rate_limits:\n    {host}:\n      requests_per_minute: \
             # from the provider's dashboard\n      tokens_per_minute: # from the provider's \
             dashboard"
        )
    };
    match (long, &sidekiq_id) {
        (Some(long), Some(sidekiq_id)) => {
            // The layout already moves the job: size that queue, do not move it again.
            let threads = long.concurrency;
            rec.title = format!(
                "Hold long_running to {} for {job}'s calls to {host}",
                plural(threads, "thread")
            );
            rec.depends_on = vec![sidekiq_id.clone()];
            rec.location = Some("config/sidekiq_long_running.yml".to_owned());
            let limit_words = match (cap, provider) {
                (Some(cap), Some(p)) => format!(
                    "{} {} The layout's long_running threads ({threads}) are within that cap \
                     of {cap}.",
                    p.reasoning,
                    sentence(&per_thread)
                ),
                _ => format!(
                    "No rate limit is stated for {host}, so the threads are not checked \
                     against it; {per_thread}."
                ),
            };
            rec.issue = format!(
                "{} {sidekiq_id} already moves {job} to the long_running queue with its own \
                 Sidekiq process; that process's threads are the calls to {host} in flight. \
                 {limit_words}",
                waiting(f, &job, usage.as_ref())
            );
            let mut solution = format!(
                "# config/sidekiq_long_running.yml (the long_worker process of {sidekiq_id})\n\
                 :concurrency: {threads}\n:queues:\n  - long_running\n\n\
                 # Procfile: one long_worker dyno (each more dyno adds {} in flight)\n\
                 long_worker: RAILS_MAX_THREADS={threads} bundle exec sidekiq -C \
                 config/sidekiq_long_running.yml",
                plural(threads, "call")
            );
            if cap.is_none() {
                solution.push_str("\n\n");
                solution.push_str(&limit_yaml(threads));
            }
            rec.solution = solution;
            rec.impact = Impact {
                summary: match cap {
                    Some(cap) => format!(
                        "At most {threads} of {job}'s calls to {host} in flight, within the \
                         {cap} its limit allows: 429s from bursts of long_running jobs stop."
                    ),
                    None => format!(
                        "With the limit stated, the report checks long_running's {threads} \
                         threads against it; until then 429s from {host} are possible when \
                         long_running jobs burst."
                    ),
                },
                ..Impact::default()
            };
            rec.trade_offs = "Fewer threads than jobs waiting: long_running jobs queue up (their \
                              latency grows) instead of failing with 429s; a second long_worker \
                              dyno doubles the calls in flight, so scale it only with a higher \
                              limit."
                .to_owned();
            rec.metric = format!(
                "Sidekiq::Queue.new(\"long_running\").latency and the share of {ep} calls \
                 answered 429"
            );
        }
        _ => {
            let queue = queue_name(host);
            let dynos = worker_dynos.filter(|d| *d > 0);
            let processes = dynos.unwrap_or(1);
            let (threads, sizing) = match cap {
                Some(cap) => {
                    let per = (cap / processes).max(1);
                    (
                        per,
                        format!(
                            "{host} allows {} in flight; over {} ({}): {cap} / {processes} = \
                             {per} per process (at least 1)",
                            plural(cap, "call"),
                            plural(processes, "worker process"),
                            if dynos.is_some() {
                                "worker dynos"
                            } else {
                                "worker dynos not given: 1 assumed"
                            }
                        ),
                    )
                }
                None => (
                    1,
                    format!("1 until external.rate_limits states {host}'s limit (below)"),
                ),
            };
            rec.title =
                format!("Run {job} in its own {queue} capsule, sized to {host}'s rate limit");
            rec.location = Some("config/initializers/sidekiq.rb".to_owned());
            rec.issue = format!(
                "{} {}{}",
                waiting(f, &job, usage.as_ref()),
                provider.map_or_else(String::new, |p| format!("{} ", p.reasoning)),
                sentence(&per_thread)
            );
            let mut solution = format!(
                "# {job}: its own queue, so waiting on {host} does not hold the other jobs' threads\n\
                 class {job} < ApplicationJob\n  queue_as :{queue}\nend\n\n\
                 # config/initializers/sidekiq.rb (Sidekiq 7): a capsule for the queue\n\
                 Sidekiq.configure_server do |config|\n  config.capsule(\"{queue}\") do |cap|\n    \
                 cap.concurrency = {threads} # {sizing}\n    \
                 cap.queues = %w[{queue}]\n  end\nend"
            );
            if cap.is_none() {
                solution.push_str("\n\n");
                solution.push_str(&limit_yaml(threads));
            }
            rec.solution = solution;
            rec.impact = Impact {
                summary: format!(
                    "{job} takes {} of the shared threads' time off the other jobs ({} of its \
                     runs' time is spent waiting on {host}); its calls in flight stay at {} \
                     per process{}.",
                    ms(f.total_ms),
                    pct_of(
                        f.total_ms,
                        usage.as_ref().map(|u| u.mean_ms * u.runs as f64)
                    ),
                    threads,
                    cap.map(|c| format!(", within the {c} {host} allows"))
                        .unwrap_or_default()
                ),
                ..Impact::default()
            };
            rec.trade_offs = format!(
                "A capsule's threads come on top of :concurrency:, so each worker process needs \
                 {threads} more database connections (database.yml pool ≥ concurrency + \
                 {threads}); jobs waiting for the {queue} capsule queue up instead of failing \
                 with 429s."
            );
            rec.metric = format!(
                "Sidekiq::Queue.new(\"{queue}\").latency and the share of {ep} calls answered 429"
            );
            added.moves.push((job.clone(), queue));
        }
    }
    added.recs.push(rec);
}

/// What the job waits on: the finding's figures, without its example limits
/// (the provider's stated limit decides here).
fn waiting(f: &external::Finding, job: &str, usage: Option<&ThreadUsage>) -> String {
    let elapsed = usage.map(|u| u.mean_ms * u.runs as f64);
    format!(
        "Job {job} spent {}{} ({}) waiting on {} in {} ({}).",
        ms(f.total_ms),
        elapsed
            .map(|e| format!(" of {}", ms(e)))
            .unwrap_or_default(),
        pct_of(f.total_ms, elapsed),
        label(&(f.host.clone(), f.method.clone(), f.path.clone())),
        plural(f.runs, "run"),
        plural(f.count, "call"),
    )
}

/// `1,500`, `133.33`: thousands grouped, at most 2 decimals.
fn fig(x: f64) -> String {
    let x = round2(x);
    if x.fract() == 0.0 && (0.0..1e15).contains(&x) {
        thousands(x as u64)
    } else {
        number(x)
    }
}

/// `62.5%`, or `an unmeasured share`.
fn pct_of(part: f64, whole: Option<f64>) -> String {
    whole.filter(|w| *w > 0.0).map_or_else(
        || "an unmeasured share".to_owned(),
        |w| format!("{}%", number((part / w * 1000.0).round() / 10.0)),
    )
}

/// From $10 a month (at today's usage), where the money goes and what a
/// cache of the repeated prompts saves.
fn cost_rec(a: &Analysis<'_>, section: &ExternalInfra) -> Option<Recommendation> {
    let monthly = section
        .monthly_cost_usd
        .filter(|m| *m >= MONTHLY_HIGH_USD)?;
    let top = section.monthly_projection.first()?;
    let scale = a.scale();
    let candidates = &a.report.costs.cache_candidates;
    let saved: Option<f64> = candidates
        .iter()
        .filter_map(|c| c.cost_saved_usd)
        .map(|c| c * scale)
        .reduce(|x, y| x + y)
        .map(usd);
    let largest_growth = section.monthly_cost_by_growth.last();
    let mut rec = blank(
        "external_cost",
        format!(
            "Cut the external API bill of {}/month ({} in {} is the largest part)",
            money(monthly),
            top.model,
            top.scope
        ),
        money_priority(Some(monthly)),
        Effort::Hours,
    );
    rec.issue = format!(
        "Outbound API calls cost {}/month at today's usage{}. The largest part: {} ({} of the \
         total). {} prompt{} {} sent more than once.",
        money(monthly),
        largest_growth
            .filter(|g| g.growth != 1.0)
            .map(|g| format!(
                " and {}/month at ×{} usage",
                money(g.cost_usd_per_month),
                number(g.growth)
            ))
            .unwrap_or_default(),
        top.reasoning,
        pct_of(top.cost_usd_per_month, Some(monthly)),
        candidates.len(),
        if candidates.len() == 1 { "" } else { "s" },
        if candidates.len() == 1 { "was" } else { "were" },
    );
    rec.impact = Impact {
        summary: match saved {
            Some(s) => format!(
                "Caching the repeated prompts saves {}/month of {}/month ({}); capping \
                 max_tokens saves on completions by an amount that depends on the answers.",
                money(s),
                money(monthly),
                pct_of(s, Some(monthly))
            ),
            None => format!(
                "No prompt was repeated with a known cost, so a cache saves no measured money; \
                 capping max_tokens on {} saves on completions by an amount that depends on the \
                 answers.",
                top.scope
            ),
        },
        usd_saved_per_month: saved,
        ..Impact::default()
    };
    rec.solution = cost_solution(a, top, scale);
    rec.trade_offs = "A cache serves one answer per prompt; a lower max_tokens truncates \
                      longer answers (check finish_reason == \"length\"); the Batch API answers \
                      within 24 hours, so it only suits work nobody waits for."
        .to_owned();
    rec.metric = format!(
        "the monthly external cost (now {}/month at monthly_scale {}) and the cost of {} in {}",
        money(monthly),
        number(scale),
        top.model,
        top.scope
    );
    rec.location = a
        .report
        .calls
        .iter()
        .find(|c| c.scope_name == top.scope && c.call.model.as_deref() == Some(&top.model))
        .and_then(|c| c.call.location.clone());
    rec.evidence = vec![
        "infrastructure:external".to_owned(),
        format!("external:cost:{}:{}", top.scope, top.model),
    ];
    Some(rec)
}

fn cost_solution(a: &Analysis<'_>, top: &ProjectionRow, scale: f64) -> String {
    let mut lines = Vec::new();
    let max_completion = a
        .report
        .calls
        .iter()
        .filter(|c| {
            c.scope_kind == top.scope_kind
                && c.scope_name == top.scope
                && c.call.model.as_deref() == Some(top.model.as_str())
        })
        .filter_map(|c| c.call.tokens().map(|(_, q)| q))
        .max();
    lines.push(format!(
        "# {} in {}: {}/month",
        top.model,
        top.scope,
        money(top.cost_usd_per_month)
    ));
    if let Some(max) = max_completion.filter(|m| *m > 0) {
        lines.push(format!(
            "parameters[:max_tokens] = {} # its completions were at most {max} tokens",
            max.div_ceil(50) * 50
        ));
    }
    if top.scope_kind != ScopeKind::Request {
        lines.push(
            "# Work nobody waits for: the OpenAI Batch API (POST /v1/batches, a JSONL file of \
             requests) is billed at half price."
                .to_owned(),
        );
    }
    let candidates: Vec<_> = a.report.costs.cache_candidates.iter().take(3).collect();
    if !candidates.is_empty() {
        lines.push(String::new());
        lines.push("# The repeated prompts: answer them from the cache".to_owned());
        lines.push(
            "fingerprint = VirtualTrainerOptimizer::Native.prompt_fingerprint(parameters.to_json)"
                .to_owned(),
        );
        let provider = a
            .report
            .calls
            .first()
            .map_or_else(|| "external_api".to_owned(), |c| queue_name(&c.call.host));
        lines.push(format!(
            "response = Rails.cache.fetch([\"{provider}\", fingerprint], expires_in: 12.hours) do\n  \
             client.chat(parameters: parameters)\nend"
        ));
        for c in candidates {
            lines.push(format!(
                "# {}: {} calls, hit rate {}%, saves {}",
                c.prompt_fingerprint,
                c.calls,
                number((c.hit_rate * 1000.0).round() / 10.0),
                c.cost_saved_usd.map_or_else(
                    || "an unknown amount".to_owned(),
                    |s| format!("{}/month", money(usd(s * scale)))
                )
            ));
        }
    }
    lines.join("\n")
}

fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    let mut out = format!("{}{}", first.unwrap_or_default(), chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
