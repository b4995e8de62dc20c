//! The finding rules ([module docs](super#rules)).

use std::collections::{BTreeMap, BTreeSet};

use super::costs::{add, number, plural};
use super::{
    money_priority, time_priority, usd, CallReport, Finding, FindingKind, Input, Options, Priority,
    ScopeKind,
};

/// Heroku's router ends a request that has sent no response in 30 s (H12).
const HEROKU_ROUTER_TIMEOUT_MS: f64 = 30_000.0;

/// Example provider limits the concurrency arithmetic is worked with (the
/// reason says to use the account's own): tokens and requests per minute.
pub const EXAMPLE_TPM: f64 = 200_000.0;
/// See [`EXAMPLE_TPM`].
pub const EXAMPLE_RPM: f64 = 500.0;

/// Host (lower-cased), method (upper-cased), path (as given).
pub(crate) type Endpoint = (String, String, String);

pub(crate) fn endpoint(c: &CallReport) -> Endpoint {
    (
        c.call.host.trim().to_ascii_lowercase(),
        c.call.method.trim().to_ascii_uppercase(),
        c.call.path.clone(),
    )
}

pub(crate) fn label(ep: &Endpoint) -> String {
    let host = if ep.0.is_empty() {
        "(unknown host)"
    } else {
        &ep.0
    };
    let method = if ep.1.is_empty() { "?" } else { &ep.1 };
    format!("{method} {host}{}", ep.2)
}

/// Calls aggregated over the runs of a scope class.
#[derive(Debug, Clone, Default)]
struct Agg {
    runs: u64,
    last_run: Option<usize>,
    count: u64,
    total_ms: f64,
    max_ms: f64,
    location: Option<String>,
    model: Option<String>,
    cost: Option<f64>,
    /// Rule-specific maxima: scope external time, calls per run, timeout...
    peak: f64,
    /// Rule-specific: scope elapsed, limit...
    other: f64,
    completion_max: Option<u64>,
    /// Completion tokens per second of the slowest call.
    rate: Option<f64>,
}

impl Agg {
    fn add(&mut self, run: usize, c: &CallReport) {
        if self.last_run != Some(run) {
            self.runs += 1;
            self.last_run = Some(run);
        }
        self.count += 1;
        let ms = c.call.ms();
        self.total_ms += ms;
        if ms >= self.max_ms {
            self.max_ms = ms;
            if let (Some((_, completion)), true) = (c.call.tokens(), ms > 0.0) {
                self.rate = Some(completion as f64 / (ms / 1000.0));
            }
        }
        if self.location.is_none() {
            self.location.clone_from(&c.call.location);
        }
        if self.model.is_none() {
            self.model.clone_from(&c.call.model);
        }
        if let Some((_, completion)) = c.call.tokens() {
            self.completion_max = Some(self.completion_max.unwrap_or(0).max(completion));
        }
        self.cost = add(self.cost, c.cost_usd);
    }
}

type Key = (ScopeKind, String, Endpoint);

/// The calls sharing one prompt fingerprint.
pub(crate) struct Cache<'a> {
    pub fingerprint: &'a str,
    pub model: Option<&'a str>,
    pub calls: u64,
    pub total_ms: f64,
    max_ms: f64,
    known: u64,
    known_cost: f64,
    first: &'a CallReport,
    scopes: BTreeSet<(ScopeKind, &'a str)>,
    runs: BTreeSet<usize>,
}

impl<'a> Cache<'a> {
    /// Fingerprints on at least two calls, most money saved first.
    pub fn groups(calls: &'a [CallReport]) -> Vec<Cache<'a>> {
        let mut by: BTreeMap<&str, Cache<'a>> = BTreeMap::new();
        for c in calls {
            let Some(fp) = c.call.prompt_fingerprint.as_deref() else {
                continue;
            };
            let g = by.entry(fp).or_insert_with(|| Cache {
                fingerprint: fp,
                model: c.call.model.as_deref(),
                calls: 0,
                total_ms: 0.0,
                max_ms: 0.0,
                known: 0,
                known_cost: 0.0,
                first: c,
                scopes: BTreeSet::new(),
                runs: BTreeSet::new(),
            });
            g.calls += 1;
            g.total_ms += c.call.ms();
            g.max_ms = g.max_ms.max(c.call.ms());
            if let Some(cost) = c.cost_usd {
                g.known += 1;
                g.known_cost += cost;
            }
            g.scopes.insert((c.scope_kind, c.scope_name.as_str()));
            g.runs.insert(c.scope_index);
        }
        let mut groups: Vec<Cache<'a>> = by.into_values().filter(|g| g.calls >= 2).collect();
        groups.sort_by(|a, b| {
            b.cost_saved()
                .unwrap_or(-1.0)
                .total_cmp(&a.cost_saved().unwrap_or(-1.0))
                .then_with(|| b.calls.cmp(&a.calls))
                .then_with(|| a.fingerprint.cmp(b.fingerprint))
        });
        groups
    }

    /// (n − 1) / n.
    pub fn hit_rate(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            (self.calls - 1) as f64 / self.calls as f64
        }
    }

    /// The calls' cost, unknown ones at the mean of the known.
    pub fn total_cost(&self) -> Option<f64> {
        if self.known == 0 {
            None
        } else if self.known == self.calls {
            Some(usd(self.known_cost))
        } else {
            Some(usd(self.known_cost / self.known as f64 * self.calls as f64))
        }
    }

    /// Total cost × hit rate.
    pub fn cost_saved(&self) -> Option<f64> {
        self.total_cost().map(|t| usd(t * self.hit_rate()))
    }
}

fn more_urgent(a: Priority, b: Priority) -> Priority {
    a.min(b)
}

fn monthly(cost: Option<f64>, o: &Options) -> Option<f64> {
    cost.map(|c| usd(c * o.monthly_scale))
}

/// Every finding, unsorted.
pub(crate) fn findings(input: &Input, calls: &[CallReport]) -> Vec<Finding> {
    let o = &input.options;
    let mut out = Vec::new();
    let mut in_request: BTreeMap<Key, Agg> = BTreeMap::new();
    let mut in_loop: BTreeMap<Key, Agg> = BTreeMap::new();
    let mut slow: BTreeMap<Key, Agg> = BTreeMap::new();
    let mut timeouts: BTreeMap<(Key, bool), Agg> = BTreeMap::new();
    let mut dominated: BTreeMap<String, Dominated> = BTreeMap::new();
    let mut slowest: BTreeMap<Endpoint, f64> = BTreeMap::new();
    for c in calls {
        let e = slowest.entry(endpoint(c)).or_insert(0.0);
        *e = e.max(c.call.ms());
    }

    let mut offset = 0;
    for (run, scope) in input.scopes.iter().enumerate() {
        let scope_calls = calls.get(offset..offset + scope.calls.len()).unwrap_or(&[]);
        offset += scope.calls.len();
        let external: f64 = scope_calls.iter().map(|c| c.call.ms()).sum();
        let elapsed = scope.elapsed_ms.filter(|e| *e > 0.0);
        let mut groups: BTreeMap<Endpoint, Vec<&CallReport>> = BTreeMap::new();
        for c in scope_calls {
            groups.entry(endpoint(c)).or_default().push(c);
        }
        for (ep, group) in &groups {
            let key = (scope.kind, scope.name.clone(), ep.clone());
            let group_max = group.iter().map(|c| c.call.ms()).fold(0.0, f64::max);
            if scope.kind == ScopeKind::Request
                && (group_max > o.request_budget_ms || external > o.request_budget_ms)
            {
                let a = in_request.entry(key.clone()).or_default();
                for c in group {
                    a.add(run, c);
                }
                a.peak = a.peak.max(external);
                a.other = a.other.max(elapsed.unwrap_or(0.0));
            }
            if group.len() as u64 >= o.loop_threshold {
                let a = in_loop.entry(key.clone()).or_default();
                for c in group {
                    a.add(run, c);
                }
                a.peak = a.peak.max(group.len() as f64);
            }
            for c in group {
                if c.call.ms() > o.slow_call_ms {
                    slow.entry(key.clone()).or_default().add(run, c);
                }
                // Only a limit the platform or the app states: a scope's
                // own elapsed time says nothing about how long it may run.
                let limit = match (scope.kind, o.expected_job_ms) {
                    (ScopeKind::Job, Some(expected)) if expected > 0.0 => Some(expected),
                    (ScopeKind::Request, _) => Some(
                        o.request_timeout_ms
                            .filter(|ms| *ms > 0.0)
                            .unwrap_or(HEROKU_ROUTER_TIMEOUT_MS),
                    ),
                    _ => None,
                };
                match c.call.timeout_s.filter(|t| *t > 0.0) {
                    None => timeouts.entry((key.clone(), true)).or_default().add(run, c),
                    Some(t) => {
                        if let Some(limit) = limit.filter(|l| t * 1000.0 > *l) {
                            let a = timeouts.entry((key.clone(), false)).or_default();
                            a.add(run, c);
                            a.peak = a.peak.max(t * 1000.0);
                            a.other = if a.other == 0.0 {
                                limit
                            } else {
                                a.other.min(limit)
                            };
                        }
                    }
                }
            }
        }
        if scope.kind == ScopeKind::Job {
            if let Some(elapsed) = elapsed {
                let d = dominated.entry(scope.name.clone()).or_default();
                d.runs += 1;
                d.elapsed_ms += elapsed;
                d.external_ms += external;
                for c in scope_calls {
                    d.calls += 1;
                    d.max_ms = d.max_ms.max(c.call.ms());
                    *d.host_ms.entry(endpoint(c)).or_insert(0.0) += c.call.ms();
                    if let Some((p, q)) = c.call.tokens() {
                        d.tokens = Some(d.tokens.unwrap_or(0).saturating_add(p + q));
                    }
                    d.cost = add(d.cost, c.cost_usd);
                    if d.location.is_none() {
                        d.location.clone_from(&c.call.location);
                    }
                }
            }
        }
    }

    for ((kind, name, ep), a) in in_request {
        out.push(request_finding(kind, name, ep, &a, o));
    }
    for ((kind, name, ep), a) in in_loop {
        out.push(loop_finding(kind, name, ep, &a, o));
    }
    for ((kind, name, ep), a) in slow {
        out.push(slow_finding(kind, name, ep, &a, o));
    }
    for (((kind, name, ep), none), a) in timeouts {
        let slowest = slowest.get(&ep).copied().unwrap_or(0.0);
        out.push(timeout_finding(kind, name, ep, none, &a, slowest));
    }
    for (name, d) in dominated {
        if let Some(f) = dominated_finding(name, &d, o) {
            out.push(f);
        }
    }
    for g in Cache::groups(calls) {
        out.push(duplicate_finding(&g, o));
    }
    error_findings(calls, o, &mut out);
    out
}

fn base(kind: FindingKind, scope: ScopeKind, name: String, ep: Endpoint, a: &Agg) -> Finding {
    let (host, method, path) = ep;
    Finding {
        kind,
        host,
        method,
        path,
        scope_kind: Some(scope),
        scope_name: Some(name),
        count: a.count,
        runs: a.runs,
        total_ms: a.total_ms,
        max_ms: a.max_ms,
        location: a.location.clone(),
        model: a.model.clone(),
        prompt_fingerprint: None,
        hit_rate: None,
        cost_usd: a.cost,
        cost_usd_per_month: None,
        priority: Priority::Low,
        reason: String::new(),
        suggestion: String::new(),
    }
}

impl Finding {
    /// The finding's verdict: its priority, monthly cost, reason and fix.
    fn judged(
        mut self,
        priority: Priority,
        month: Option<f64>,
        reason: String,
        suggestion: String,
    ) -> Finding {
        self.priority = priority;
        self.cost_usd_per_month = month;
        self.reason = reason;
        self.suggestion = suggestion;
        self
    }
}

/// The one scope class of a set, when there is only one.
fn only<'a>(scopes: &BTreeSet<(ScopeKind, &'a str)>) -> Option<(ScopeKind, &'a str)> {
    match scopes.len() {
        1 => scopes.iter().next().copied(),
        _ => None,
    }
}

/// ` in 2 runs` / ` in 1 run`.
fn runs(n: u64) -> String {
    format!("{} run{}", n, plural(n))
}

fn calls_text(a: &Agg) -> String {
    let mut s = format!("{} call{}, {}", a.count, plural(a.count), ms(a.total_ms));
    if let Some(cost) = a.cost {
        s.push_str(&format!(", {}", money(cost)));
    }
    s
}

fn request_finding(kind: ScopeKind, name: String, ep: Endpoint, a: &Agg, o: &Options) -> Finding {
    let per_run = a.total_ms / a.runs.max(1) as f64;
    let month = monthly(a.cost, o);
    let reason = format!(
        "request {name} waits on {ep} synchronously: {calls} in {runs} \
         ({per} per request, slowest {max}); the request's external time reached {peak}{elapsed}, \
         over the {budget} request budget",
        ep = label(&ep),
        calls = calls_text(a),
        runs = runs(a.runs),
        per = ms(per_run),
        max = ms(a.max_ms),
        peak = ms(a.peak),
        elapsed = if a.other > 0.0 {
            format!(" of {} elapsed", ms(a.other))
        } else {
            String::new()
        },
        budget = ms(o.request_budget_ms),
    );
    let job = job_name(&name);
    let queue = queue_name(&ep.0);
    let suggestion = format!(
        "# Answer at once and make the call in a job:\n\
         class {job} < ApplicationJob\n  queue_as :{queue}\n\n  def perform(result_id)\n    \
         result = PendingResult.find(result_id)\n    \
         response = ... # the {ep} call now at {loc}\n    \
         result.update!(status: \"done\", payload: response)\n    \
         Turbo::StreamsChannel.broadcast_replace_to(result, target: result, partial: \"pending_results/result\", locals: {{ result: result }})\n  \
         end\nend\n\n\
         # In {name}:\n\
         result = PendingResult.create!(status: \"pending\")\n\
         {job}.perform_later(result.id)\n\
         render json: {{ id: result.id, status: \"pending\" }}, status: :accepted\n\
         # The client polls GET /pending_results/:id until status is \"done\", or subscribes \
         (turbo_stream_from result, or an ActionCable channel).",
        ep = label(&ep),
        loc = a.location.as_deref().unwrap_or("(unknown location)"),
    );
    let priority = more_urgent(time_priority(kind, per_run), money_priority(month));
    base(FindingKind::ExternalCallInRequest, kind, name, ep, a)
        .judged(priority, month, reason, suggestion)
}

fn loop_finding(kind: ScopeKind, name: String, ep: Endpoint, a: &Agg, o: &Options) -> Finding {
    let per_run = a.total_ms / a.runs.max(1) as f64;
    let month = monthly(a.cost, o);
    let reason = format!(
        "{kind} {name} calls {ep} up to {peak} times per run ({calls} in {runs}, \
         {per} per run; loop threshold {threshold}): one round trip per item",
        kind = kind.as_str(),
        ep = label(&ep),
        peak = number(a.peak),
        calls = calls_text(a),
        runs = runs(a.runs),
        per = ms(per_run),
        threshold = o.loop_threshold,
    );
    let model = a.model.as_deref().unwrap_or("gpt-4o-mini");
    let suggestion = if ep.2.contains("embeddings") {
        format!(
            "# One request for all the texts: the embeddings endpoint takes an array.\n\
             response = client.embeddings(parameters: {{ model: \"{model}\", input: texts }})\n\
             vectors = response[\"data\"].sort_by {{ |d| d[\"index\"] }}.map {{ |d| d[\"embedding\"] }}"
        )
    } else if ep.2.contains("completions") || ep.2.contains("responses") {
        format!(
            "# One request for all the items, answered as one JSON document:\n\
             response = client.chat(parameters: {{\n  model: \"{model}\",\n  \
             response_format: {{ type: \"json_object\" }},\n  \
             messages: [{{ role: \"user\", content: \"Return {{\\\"items\\\": [...]}} with one entry per input, in order:\\n\" + inputs.to_json }}]\n}})\n\
             items = JSON.parse(response.dig(\"choices\", 0, \"message\", \"content\")).fetch(\"items\")\n\
             # Work that can wait up to 24 hours: the OpenAI Batch API (POST /v1/batches with a JSONL \
             file of the requests) runs them at half the price."
        )
    } else {
        format!(
            "# Use a bulk endpoint of {host} (one request, many items) if it has one; otherwise \
             make the calls concurrently so a run waits for the slowest call, not the sum:\n\
             results = items.map {{ |item| Concurrent::Promises.future {{ fetch(item) }} }}.map(&:value!)",
            host = ep.0
        )
    };
    let priority = more_urgent(time_priority(kind, per_run), money_priority(month));
    base(FindingKind::ExternalCallInLoop, kind, name, ep, a)
        .judged(priority, month, reason, suggestion)
}

fn slow_finding(kind: ScopeKind, name: String, ep: Endpoint, a: &Agg, o: &Options) -> Finding {
    let month = monthly(a.cost, o);
    let mut reason = format!(
        "{ep} took up to {max} in {kind} {name} ({calls} over {slow} in {runs})",
        ep = label(&ep),
        max = ms(a.max_ms),
        kind = kind.as_str(),
        calls = calls_text(a),
        slow = ms(o.slow_call_ms),
        runs = runs(a.runs),
    );
    let mut suggestion = String::new();
    if let Some(rate) = a.rate {
        reason.push_str(&format!(
            "; the slowest generated about {} tokens/s, so its time is mostly generation",
            number(rate.round())
        ));
    }
    let openai = is_llm(&ep);
    if openai {
        suggestion.push_str(
            "# Stream the answer, so the user sees the first tokens at once (ruby-openai):\n\
             client.chat(parameters: parameters.merge(stream: proc { |chunk, _bytesize| \
             broadcast(chunk.dig(\"choices\", 0, \"delta\", \"content\")) }))\n",
        );
        if let Some(max_tokens) = a.completion_max {
            let cap = max_tokens.div_ceil(50).max(1) * 50;
            suggestion.push_str(&format!(
                "# Cap the answer: completions here were at most {max_tokens} tokens\n\
                 parameters[:max_tokens] = {cap}\n"
            ));
        } else {
            suggestion.push_str("# Cap the answer: parameters[:max_tokens] = ...\n");
        }
        suggestion
            .push_str("# A smaller, faster model where quality allows (gpt-4o-mini for gpt-4o).\n");
    }
    suggestion.push_str(&format!(
        "# Keep slow calls off the default queue's threads:\nqueue_as :{}_slow",
        queue_name(&ep.0)
    ));
    let priority = more_urgent(time_priority(kind, a.max_ms), money_priority(month));
    base(FindingKind::SlowExternalCall, kind, name, ep, a)
        .judged(priority, month, reason, suggestion)
}

fn timeout_finding(
    kind: ScopeKind,
    name: String,
    ep: Endpoint,
    none: bool,
    a: &Agg,
    slowest: f64,
) -> Finding {
    // Twice the slowest call, within the limit but never below the slowest
    // call itself, rounded up to a whole second.
    let mut target = 2.0 * slowest;
    if !none && a.other > 0.0 {
        target = target.min(a.other).max(slowest);
    }
    let seconds = (target / 1000.0).ceil().max(1.0);
    let reason = if none {
        format!(
            "{ep} is called without a timeout in {kind} {name} ({calls} in {runs}): a provider \
             that stops answering holds the {holder} until the socket gives up",
            ep = label(&ep),
            kind = kind.as_str(),
            calls = calls_text(a),
            runs = runs(a.runs),
            holder = if kind == ScopeKind::Request {
                "request's web thread"
            } else {
                "worker thread"
            },
        )
    } else {
        format!(
            "{ep} has a {timeout} timeout in {kind} {name}, longer than the {limit} the scope \
             is expected to run ({calls} in {runs})",
            ep = label(&ep),
            timeout = ms(a.peak),
            kind = kind.as_str(),
            limit = ms(a.other),
            calls = calls_text(a),
            runs = runs(a.runs),
        )
    };
    let reason = format!(
        "{reason}; the slowest observed call took {}, so {seconds:.0} s: twice it{}, rounded up to a second",
        ms(slowest),
        if none {
            ""
        } else {
            " within the limit, not below the slowest call"
        },
    );
    let open = seconds.clamp(1.0, 5.0);
    let mut suggestion = String::new();
    if is_llm(&ep) {
        suggestion.push_str(&format!(
            "OpenAI::Client.new(request_timeout: {seconds:.0}) # ruby-openai; its default is 120 s\n"
        ));
    }
    suggestion.push_str(&format!(
        "Faraday.new(url: \"https://{host}\", request: {{ timeout: {seconds:.0}, open_timeout: {open:.0} }})\n\
         # Net::HTTP: http.open_timeout = {open:.0}; http.read_timeout = {seconds:.0}",
        host = ep.0,
    ));
    let priority = match (none, kind) {
        (true, ScopeKind::Request) => Priority::High,
        (true, _) | (false, ScopeKind::Request) => Priority::Medium,
        (false, _) => Priority::Low,
    };
    base(FindingKind::ExternalTimeout, kind, name, ep, a).judged(priority, None, reason, suggestion)
}

#[derive(Debug, Default)]
struct Dominated {
    runs: u64,
    calls: u64,
    elapsed_ms: f64,
    external_ms: f64,
    host_ms: BTreeMap<Endpoint, f64>,
    tokens: Option<u64>,
    cost: Option<f64>,
    location: Option<String>,
    max_ms: f64,
}

fn dominated_finding(name: String, d: &Dominated, o: &Options) -> Option<Finding> {
    if d.calls == 0 || d.elapsed_ms <= 0.0 || d.external_ms < o.dominated_share * d.elapsed_ms {
        return None;
    }
    let runs_n = d.runs.max(1) as f64;
    let share = d.external_ms / d.elapsed_ms;
    let mean_elapsed = d.elapsed_ms / runs_n;
    let per_run_ms = d.external_ms / runs_n;
    let calls_per_run = d.calls as f64 / runs_n;
    let rpm = calls_per_run * 60_000.0 / mean_elapsed;
    let (ep, _) = d
        .host_ms
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
    let mut reason = format!(
        "job {name} spent {ext} of {elapsed} ({pct}%) in external calls over {runs} ({calls} \
         call{s}, mostly {ep}); one worker thread running it back to back makes {rpm} requests/min \
         ({cpr} × 60,000 / {mean})",
        ext = ms(d.external_ms),
        elapsed = ms(d.elapsed_ms),
        pct = number((share * 1000.0).round() / 10.0),
        runs = runs(d.runs),
        calls = d.calls,
        s = plural(d.calls),
        ep = label(ep),
        rpm = number((rpm * 10.0).round() / 10.0),
        cpr = count(calls_per_run),
        mean = ms(mean_elapsed),
    );
    let mut concurrency = EXAMPLE_RPM / rpm;
    if let Some(tokens) = d.tokens {
        let per_run = tokens as f64 / runs_n;
        let tpm = per_run * 60_000.0 / mean_elapsed;
        concurrency = concurrency.min(EXAMPLE_TPM / tpm);
        reason.push_str(&format!(
            " and uses {tpm} tokens/min ({tpr} tokens per run × 60,000 / {mean}); with a limit \
             of {ltpm} tokens/min and {lrpm} requests/min (use your account's), concurrency = \
             floor(min({ltpm} / {tpm}, {lrpm} / {rpm})) = {c}",
            tpm = thousands(tpm.round() as u64),
            tpr = count(per_run),
            mean = ms(mean_elapsed),
            ltpm = thousands(EXAMPLE_TPM as u64),
            lrpm = thousands(EXAMPLE_RPM as u64),
            rpm = number((rpm * 10.0).round() / 10.0),
            c = concurrency.floor().max(1.0),
        ));
    } else {
        reason.push_str(&format!(
            "; with a limit of {lrpm} requests/min (use your account's), concurrency = \
             floor({lrpm} / {rpm}) = {c}",
            lrpm = thousands(EXAMPLE_RPM as u64),
            rpm = number((rpm * 10.0).round() / 10.0),
            c = concurrency.floor().max(1.0),
        ));
    }
    let c = concurrency.floor().max(1.0);
    let queue = queue_name(&ep.0);
    let suggestion = format!(
        "# {name}: its own queue, so waiting on {host} does not hold the other jobs' threads\n\
         class {name} < ApplicationJob\n  queue_as :{queue}\nend\n\n\
         # config/initializers/sidekiq.rb (Sidekiq 7): a capsule sized to the provider's rate limit\n\
         Sidekiq.configure_server do |config|\n  config.capsule(\"{queue}\") do |cap|\n    \
         cap.concurrency = {c:.0} # across all processes: floor(limit / per-thread usage), see the reason\n    \
         cap.queues = %w[{queue}]\n  end\nend",
        host = ep.0,
    );
    let month = monthly(d.cost, o);
    let agg = Agg {
        runs: d.runs,
        count: d.calls,
        total_ms: d.external_ms,
        max_ms: d.max_ms,
        location: d.location.clone(),
        cost: d.cost,
        ..Agg::default()
    };
    let priority = more_urgent(
        time_priority(ScopeKind::Job, per_run_ms),
        money_priority(month),
    );
    let f = base(
        FindingKind::ExternalDominatedJob,
        ScopeKind::Job,
        name,
        ep.clone(),
        &agg,
    );
    Some(f.judged(priority, month, reason, suggestion))
}

fn duplicate_finding(g: &Cache<'_>, o: &Options) -> Finding {
    let ep = endpoint(g.first);
    let hit = g.hit_rate();
    let saved = g.cost_saved();
    let month = monthly(saved, o);
    let saved_ms = g.total_ms * hit;
    let kind = if g.scopes.iter().any(|(k, _)| *k == ScopeKind::Request) {
        ScopeKind::Request
    } else {
        ScopeKind::Job
    };
    let single = only(&g.scopes);
    let where_ = match single {
        Some((k, n)) => format!("in {} {n}", k.as_str()),
        None => format!("across {} scope classes", g.scopes.len()),
    };
    let mut reason = format!(
        "the same prompt (fingerprint {fp}{model}) was sent {n} times {where_}: a cache keyed by \
         the fingerprint answers {r} of {n} calls (hit rate {pct}%) and saves {saved_ms}",
        fp = g.fingerprint,
        model = g.model.map(|m| format!(", {m}")).unwrap_or_default(),
        n = g.calls,
        r = g.calls - 1,
        pct = number((hit * 1000.0).round() / 10.0),
        saved_ms = ms(saved_ms),
    );
    match (g.total_cost(), saved) {
        (Some(total), Some(saved)) => reason.push_str(&format!(
            " and {saved} of {total} ({total} × {r}/{n}){m}",
            saved = money(saved),
            total = money(total),
            r = g.calls - 1,
            n = g.calls,
            m = month
                .map(|m| format!(
                    ", {}/month at monthly_scale {}",
                    money(m),
                    number(o.monthly_scale)
                ))
                .unwrap_or_default(),
        )),
        _ => reason.push_str(" (cost unknown: no usage or price)"),
    }
    let provider = queue_name(&ep.0);
    let suggestion = format!(
        "fingerprint = VirtualTrainerOptimizer::Native.prompt_fingerprint(parameters.to_json) # \"{fp}\" here\n\
         response = Rails.cache.fetch([\"{provider}\", fingerprint], expires_in: 12.hours) do\n  \
         client.chat(parameters: parameters)\nend\n\
         # Cache only where one answer per prompt is acceptable (temperature 0, or any answer will do).",
        fp = g.fingerprint,
    );
    let time = time_priority(kind, saved_ms);
    Finding {
        kind: FindingKind::DuplicateExternalCall,
        host: ep.0,
        method: ep.1,
        path: ep.2,
        scope_kind: single.map(|(k, _)| k),
        scope_name: single.map(|(_, n)| n.to_owned()),
        count: g.calls,
        runs: g.runs.len() as u64,
        total_ms: g.total_ms,
        max_ms: g.max_ms,
        location: g.first.call.location.clone(),
        model: g.model.map(str::to_owned),
        prompt_fingerprint: Some(g.fingerprint.to_owned()),
        hit_rate: Some(hit),
        cost_usd: saved,
        cost_usd_per_month: month,
        priority: more_urgent(time, money_priority(month)),
        reason,
        suggestion,
    }
}

#[derive(Default)]
struct Host<'a> {
    calls: u64,
    failed: u64,
    too_many: u64,
    server: u64,
    transport: u64,
    retries: u64,
    failed_ms: f64,
    in_request: bool,
    paths: BTreeMap<(String, String), u64>,
    location: Option<&'a str>,
    scopes: BTreeSet<(ScopeKind, &'a str)>,
    runs: BTreeSet<usize>,
    max_ms: f64,
}

fn error_findings(calls: &[CallReport], o: &Options, out: &mut Vec<Finding>) {
    let mut hosts: BTreeMap<String, Host<'_>> = BTreeMap::new();
    for c in calls {
        let (host, method, path) = endpoint(c);
        let h = hosts.entry(host).or_default();
        h.calls += 1;
        h.retries = h.retries.saturating_add(c.call.retries.unwrap_or(0));
        if !c.call.failed() {
            continue;
        }
        h.failed += 1;
        match c.call.status {
            Some(429) => h.too_many += 1,
            Some(_) => h.server += 1,
            None => h.transport += 1,
        }
        h.failed_ms += c.call.ms();
        h.max_ms = h.max_ms.max(c.call.ms());
        h.in_request |= c.scope_kind == ScopeKind::Request;
        *h.paths.entry((method, path)).or_insert(0) += 1;
        if h.location.is_none() {
            h.location = c.call.location.as_deref();
        }
        h.scopes.insert((c.scope_kind, c.scope_name.as_str()));
        h.runs.insert(c.scope_index);
    }
    for (host, h) in hosts {
        if h.failed == 0 || h.calls == 0 {
            continue;
        }
        let share = h.failed as f64 / h.calls as f64;
        if share < o.error_rate {
            continue;
        }
        let ((method, path), _) = h
            .paths
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(k, v)| (k.clone(), *v))
            .unwrap_or_default();
        let mut parts = Vec::new();
        if h.too_many > 0 {
            parts.push(format!("{} × 429", h.too_many));
        }
        if h.server > 0 {
            parts.push(format!("{} × 5xx", h.server));
        }
        if h.transport > 0 {
            parts.push(format!("{} without a response", h.transport));
        }
        let reason = format!(
            "{host}: {f} of {n} calls failed ({pct}%, {parts}; threshold {thr}%), {ms} spent in \
             failed calls, {retries} retr{ies} recorded",
            f = h.failed,
            n = h.calls,
            pct = number((share * 1000.0).round() / 10.0),
            parts = parts.join(", "),
            thr = number(o.error_rate * 100.0),
            ms = ms(h.failed_ms),
            retries = h.retries,
            ies = if h.retries == 1 { "y" } else { "ies" },
        );
        let suggestion = format!(
            "breaker = VirtualTrainerOptimizer::CircuitBreaker.new(\"{host}\") # stop calling while the host fails\n\
             attempts = 0\n\
             begin\n  breaker.call {{ client.chat(parameters: parameters) }}\n\
             rescue Faraday::TooManyRequestsError, Faraday::ServerError => e\n  \
             attempts += 1\n  raise if attempts >= 5\n  \
             retry_after = e.response&.dig(:headers, \"retry-after\").to_f # honour Retry-After\n  \
             sleep([retry_after, 0.5 * 2**attempts].max + rand * 0.5) # exponential backoff with jitter\n  \
             retry\nend\n\
             # In a job, let ActiveJob back off instead of sleeping (Rails 7.1+; :exponentially_longer before):\n\
             retry_on Faraday::TooManyRequestsError, Faraday::ServerError, wait: :polynomially_longer, attempts: 5"
        );
        let kind = if h.in_request {
            ScopeKind::Request
        } else {
            ScopeKind::Job
        };
        let floor = if share >= 0.5 {
            Priority::High
        } else {
            Priority::Medium
        };
        let single = only(&h.scopes);
        out.push(Finding {
            kind: FindingKind::ExternalErrors,
            host,
            method,
            path,
            scope_kind: single.map(|(k, _)| k),
            scope_name: single.map(|(_, n)| n.to_owned()),
            count: h.failed,
            runs: h.runs.len() as u64,
            total_ms: h.failed_ms,
            max_ms: h.max_ms,
            location: h.location.map(str::to_owned),
            model: None,
            prompt_fingerprint: None,
            hit_rate: Some(share),
            cost_usd: None,
            cost_usd_per_month: None,
            priority: more_urgent(time_priority(kind, h.failed_ms), floor),
            reason,
            suggestion,
        });
    }
}

/// An OpenAI-compatible LLM endpoint: chat, completions, responses.
fn is_llm(ep: &Endpoint) -> bool {
    ep.2.contains("completions") || ep.2.contains("/responses") || ep.0.contains("openai")
}

/// `api.openai.com` → `openai`: the label before the top-level domain.
pub(crate) fn queue_name(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let name = match labels.len() {
        0 => "external_api",
        1 => labels[0],
        n => labels[n - 2],
    };
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with(|c: char| c.is_ascii_digit()) {
        "external_api".to_owned()
    } else {
        clean
    }
}

/// `Api::V1::ProgramsController#create` → `ProgramsCreateJob`.
fn job_name(scope: &str) -> String {
    let (controller, action) = scope.split_once('#').unwrap_or((scope, ""));
    let base = controller
        .rsplit("::")
        .next()
        .unwrap_or(controller)
        .trim_end_matches("Controller");
    let mut out: String = base.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    for word in action.split('_') {
        let mut chars = word.chars().filter(|c| c.is_ascii_alphanumeric());
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| !c.is_ascii_alphabetic()) {
        out.insert_str(0, "External");
    }
    out.push_str("Job");
    out
}

/// `1,800 ms`, `12.5 ms`.
pub(crate) fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{} ms", thousands(x.round() as u64))
    } else {
        format!("{} ms", number((x * 10.0).round() / 10.0))
    }
}

/// `$0.0003675`, `$12.34`, `$1,234`: five significant digits below $1.
pub(crate) fn money(x: f64) -> String {
    if x <= 0.0 || !x.is_finite() {
        "$0".to_owned()
    } else if x >= 1000.0 {
        format!("${}", thousands(x.round() as u64))
    } else if x >= 1.0 {
        format!("${x:.2}")
    } else {
        // Five significant digits.
        let decimals = ((-x.log10()).ceil() as usize + 4).min(12);
        let s = format!("{x:.decimals$}");
        format!("${}", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// A count: an integer with thousands separators, else up to 4 decimals.
pub(crate) fn count(x: f64) -> String {
    if x.fract() == 0.0 && (0.0..1e15).contains(&x) {
        thousands(x as u64)
    } else {
        number(x)
    }
}

pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
