//! Outbound HTTP calls (OpenAI and other APIs): where they cost request time,
//! loop, repeat, fail or hang, and what they cost in money.
//!
//! The Ruby side records each call's host, method, path, status, timings,
//! sizes, retries, timeout, model, token usage and a [prompt
//! fingerprint](self#prompt-fingerprint), grouped by the request, job or
//! `scan` block that made it. No request or response body, header or key
//! reaches this module: only those fields.
//!
//! # Input
//!
//! [`Input`], as JSON (unknown fields are ignored; optional fields may be
//! missing or `null`):
//!
//! ```json
//! {"scopes": [{"kind": "job", "name": "CustomHealthProgramJob", "elapsed_ms": 2400.0,
//!    "calls": [{"host": "api.openai.com", "method": "POST", "path": "/v1/chat/completions",
//!               "status": 200, "duration_ms": 1800.0, "request_bytes": 2100, "response_bytes": 5300,
//!               "retries": 0, "timeout_s": 60.0, "model": "gpt-4o-mini", "prompt_tokens": 850,
//!               "completion_tokens": 400, "total_tokens": 1250,
//!               "prompt_fingerprint": "ab12cd34ef56ab78", "error": null,
//!               "location": "app/jobs/custom_health_program_job.rb:12"}]}],
//!  "prices": {"as_of": "2026-11-01", "currency": "USD",
//!             "models": {"gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.60}}},
//!  "options": {"request_budget_ms": 500.0, "slow_call_ms": 5000.0, "loop_threshold": 3,
//!              "error_rate": 0.05, "expected_job_ms": null,
//!              "request_timeout_ms": 30000.0, "monthly_scale": 30.0}}
//! ```
//!
//! A scope's `kind` is `request`, `job` or `scan` (`scan` when missing); each
//! scope is one observed run, and scopes with the same kind and name are runs
//! of one scope class (a controller action, a job class). `path` is taken as
//! given (the Ruby side strips query strings and ids); `host` is compared
//! case-insensitively and `method` upper-cased. Negative durations and
//! counts read as 0 or unknown. `status` is `null` when no response came
//! (`error` then names the failure, e.g. `Net::ReadTimeout`).
//!
//! The options and their defaults ([`Options`]): `request_budget_ms` 500,
//! `slow_call_ms` 5,000, `loop_threshold` 3 (at least 2), `error_rate` 0.05,
//! `expected_job_ms` none, `dominated_share` 0.5 and `monthly_scale` 30.
//! **`monthly_scale`** is how many times the observed window fits into a
//! month: 30 when the scopes are one day of traffic, 4.35 for a week, 1 for a
//! month, or for a single recorded run of a job the number of times it runs
//! per month. Monthly figures are the observed ones times this factor.
//!
//! # Costs
//!
//! A call's `cost_usd` is `prompt_tokens × input_per_million / 10⁶ +
//! completion_tokens × output_per_million / 10⁶` with the prices of its
//! model, rounded to 10⁻¹⁰. A model is priced by its own entry, else by the
//! longest entry it extends with `-` (`gpt-4o-mini-2024-07-18` by
//! `gpt-4o-mini`). A missing prompt or completion count is derived from
//! `total_tokens` when it can be (`total − completion`, `total − prompt`); a
//! missing completion count with a known prompt count is 0 (embeddings). The
//! cost is `null` when the model has no price or neither count is known.
//!
//! The report's `costs` ([`Costs`]):
//!
//! - `by_model`: calls, tokens and cost per model (calls without a model are
//!   left out), costliest first;
//! - `by_scope`: calls, runs and cost per scope class, costliest first;
//! - `cache_candidates`: per prompt fingerprint seen on at least two calls:
//!   `calls` n, `repeats` n−1, `hit_rate` (n−1)/n (the share of calls a cache
//!   keyed by the fingerprint would answer) and `cost_saved_usd`, the calls'
//!   total cost × the hit rate (`null` when no cost is known; calls with an
//!   unknown cost count at the mean of the known ones);
//! - `monthly_projection`: per scope class and model, the observed cost ×
//!   `monthly_scale`, with the per-run cost and the arithmetic in
//!   `reasoning`;
//! - `prices_as_of`, `currency`: as given with the prices.
//!
//! A cost is `null` where no call it sums has a known cost.
//!
//! # Rules
//!
//! The finding kinds ([`FindingKind`]); a finding names the host, method,
//! path, scope, the calls it covers (`count`, `total_ms`, `max_ms`, `runs`:
//! the scope runs it occurs in) and the first call's `location`, and its
//! `reason` states the figures:
//!
//! - `external_call_in_request`: in a `request` scope, a call longer than
//!   `request_budget_ms`, or any call when the scope's external time (the
//!   sum of its calls) exceeds it; one finding per request class and
//!   endpoint (host, method, path). Suggestion: an ActiveJob
//!   `perform_later`, answering `202 Accepted` and delivering the result by
//!   polling, ActionCable or a Turbo Stream.
//! - `external_call_in_loop`: at least `loop_threshold` calls to the same
//!   endpoint in one scope run. Suggestion: one request with many inputs
//!   (an embeddings `input` array, one structured chat prompt, the OpenAI
//!   Batch API for work that can wait, a bulk endpoint elsewhere).
//! - `duplicate_external_call`: one prompt fingerprint on at least two calls,
//!   in any scopes, with the hit rate and the money a cache saves.
//!   Suggestion: `Rails.cache.fetch(["openai", fingerprint], expires_in: …)`.
//! - `slow_external_call`: a call longer than `slow_call_ms`, per scope
//!   class and endpoint. Suggestion: streaming, a smaller model, a lower
//!   `max_tokens` (from the observed completion tokens and their rate), a
//!   separate queue.
//! - `external_errors`: per host, the share of calls answered 429 or 5xx, or
//!   with no response and an `error`, at least `error_rate` (and at least
//!   one). Suggestion: exponential backoff with jitter honouring
//!   `Retry-After`, `VirtualTrainerOptimizer::CircuitBreaker`.
//! - `external_timeout`: a call with `timeout_s` missing or 0 (no timeout),
//!   or with a timeout longer than the scope may run: in a request, the
//!   platform's request timeout (`request_timeout_ms`, Heroku's router cuts
//!   requests at 30 s); in a job, `expected_job_ms` when given. A scan, or a
//!   job without an expected run time, has no limit to compare with. The
//!   suggested timeout is twice the slowest observed call of the endpoint,
//!   for a too-long timeout kept within that limit but never below the
//!   slowest call, rounded up to a whole second (at least 1 s).
//! - `external_dominated_job`: a `job` class whose runs spend at least
//!   `dominated_share` (50%) of their elapsed time in external calls.
//!   Suggestion: a separate Sidekiq queue (a capsule) whose concurrency
//!   matches the provider's rate limit, with the tokens and requests per
//!   minute one worker thread uses when usage is known.
//!
//! Findings are ordered by priority (critical first), then kind, scope,
//! host, method and path.
//!
//! # Priorities
//!
//! A finding's [`Priority`] is the more urgent of its time and its money:
//!
//! | measure | critical | high | medium |
//! |---|---|---|---|
//! | time in a `request` scope | ≥ 2,000 ms | ≥ 500 ms | ≥ 100 ms |
//! | time in a `job` / `scan` scope | ≥ 60,000 ms | ≥ 10,000 ms | ≥ 2,000 ms |
//! | money per month (`monthly_scale` applied) | ≥ $100 | ≥ $10 | ≥ $1 |
//!
//! Anything below is low. The time is, per kind: the mean external time of
//! the calls per affected run (in request, in loop, dominated job), the
//! slowest call (slow call), the time the cache would save (duplicate:
//! total × hit rate; request thresholds when one of the calls was in a
//! request), the time spent in failed calls (errors). The money is the
//! monthly cost of the calls covered (the saved cost for a duplicate).
//! Two kinds have floors: `external_errors` is at least medium, and high
//! when half the calls or more fail; `external_timeout` is fixed: no timeout
//! is high in a request and medium elsewhere, a timeout longer than the
//! scope one level less (medium, low).
//!
//! ```
//! use vto_core::external::analyze_json;
//!
//! let call = r#"{"host": "api.openai.com", "method": "POST", "path": "/v1/chat/completions",
//!   "status": 200, "duration_ms": 1800.0, "timeout_s": 60.0, "model": "gpt-4o-mini",
//!   "prompt_tokens": 850, "completion_tokens": 400, "total_tokens": 1250,
//!   "location": "app/controllers/api/v1/programs_controller.rb:14"}"#;
//! let input = format!(r#"{{"scopes": [{{"kind": "request",
//!   "name": "Api::V1::ProgramsController#create", "elapsed_ms": 2400.0, "calls": [{call}]}}],
//!   "prices": {{"as_of": "2026-11-01",
//!     "models": {{"gpt-4o-mini": {{"input_per_million": 0.15, "output_per_million": 0.60}}}}}}}}"#);
//! let report: serde_json::Value = serde_json::from_str(&analyze_json(&input)?).unwrap();
//! // 850 × 0.15 / 10⁶ + 400 × 0.60 / 10⁶
//! assert_eq!(report["calls"][0]["cost_usd"], 0.0003675);
//! let finding = &report["findings"][0];
//! assert_eq!(finding["kind"], "external_call_in_request");
//! assert_eq!(finding["priority"], "high"); // 1,800 ms of a request
//! assert!(finding["suggestion"].as_str().unwrap().contains("perform_later"));
//! # Ok::<(), vto_core::Error>(())
//! ```
//!
//! # Prompt fingerprint
//!
//! [`prompt_fingerprint`] hashes (XXH3-64, as [`crate::sql::fingerprint`];
//! 16 hex digits) a canonical form of an OpenAI-compatible request body:
//!
//! - the `model`;
//! - top-level `system` and `instructions` (Responses API) text;
//! - every `messages[]` entry: `role`, `name`, `content` and any
//!   `tool_calls`, `function_call`, `tool_call_id` (as JSON);
//! - `input` and `prompt` (strings, arrays of strings or tokens, or, for the
//!   Responses API, arrays of messages);
//! - the settings that change the answer's form: `tools`, `functions`,
//!   `tool_choice`, `response_format`, `text`, `dimensions`,
//!   `encoding_format`, `n` (as JSON).
//!
//! Text is trimmed and every run of whitespace is one space; case is kept.
//! A content array's parts are joined by a space (a part's `text`, a string
//! as is), so `[{"type": "text", "text": "a"}, {"type": "text", "text":
//! "b"}]` is the prompt `"a b"`; a part without text (an image, audio, a
//! file) counts by its whole JSON, so different images never share a
//! fingerprint. Other settings (`temperature`, `max_tokens`, `user`,
//! `stream`) are not hashed. A body with no `messages`, `input`, `prompt`,
//! `system` or `instructions`, or that is not a JSON object, has no
//! fingerprint (`None`). Bodies over [`MAX_BODY_BYTES`] are refused.
//!
//! # Limits
//!
//! Input over [`MAX_INPUT_BYTES`] is refused with [`Error::InputTooLarge`];
//! input that is not a JSON object of this shape (a `kind` other than
//! `request`, `job`, `scan`, a string where a number belongs) with
//! [`Error::InvalidInput`]. No input makes the analysis panic.

mod costs;
mod prompt;
mod rules;

pub use prompt::{prompt_fingerprint, MAX_BODY_BYTES};
// The full report words its external sections with the same figures and names.
pub(crate) use costs::number;
pub(crate) use rules::{endpoint, label, money, ms, queue_name, thousands, Endpoint};

use serde::{Deserialize, Deserializer, Serialize};

pub use crate::detect::Priority;
use crate::Error;

/// The largest analysis input accepted, in bytes: 64 MiB (about 150,000
/// calls).
pub const MAX_INPUT_BYTES: usize = 64 << 20;

/// Request-scope time at least this long is critical, in milliseconds.
pub const REQUEST_CRITICAL_MS: f64 = 2_000.0;
/// Request-scope time at least this long is high, in milliseconds.
pub const REQUEST_HIGH_MS: f64 = 500.0;
/// Request-scope time at least this long is medium, in milliseconds.
pub const REQUEST_MEDIUM_MS: f64 = 100.0;
/// Job or scan time at least this long is critical, in milliseconds.
pub const BACKGROUND_CRITICAL_MS: f64 = 60_000.0;
/// Job or scan time at least this long is high, in milliseconds.
pub const BACKGROUND_HIGH_MS: f64 = 10_000.0;
/// Job or scan time at least this long is medium, in milliseconds.
pub const BACKGROUND_MEDIUM_MS: f64 = 2_000.0;
/// A monthly cost at least this high is critical, in dollars.
pub const MONTHLY_CRITICAL_USD: f64 = 100.0;
/// A monthly cost at least this high is high, in dollars.
pub const MONTHLY_HIGH_USD: f64 = 10.0;
/// A monthly cost at least this high is medium, in dollars.
pub const MONTHLY_MEDIUM_USD: f64 = 1.0;

/// What [`analyze`] reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Input {
    /// The observed scope runs.
    #[serde(default, deserialize_with = "nullable")]
    pub scopes: Vec<Scope>,
    /// The price list (`None`: every cost is unknown).
    #[serde(default)]
    pub prices: Option<Prices>,
    /// Thresholds.
    #[serde(default, deserialize_with = "nullable")]
    pub options: Options,
}

impl Input {
    /// Decodes the input from JSON text: [`Error::InputTooLarge`] over
    /// [`MAX_INPUT_BYTES`], [`Error::InvalidInput`] when it is not JSON or
    /// not of this shape.
    pub fn from_json(json: &str) -> Result<Input, Error> {
        if json.len() > MAX_INPUT_BYTES {
            return Err(Error::InputTooLarge {
                size: json.len(),
                limit: MAX_INPUT_BYTES,
            });
        }
        let invalid = |message: String| Error::InvalidInput {
            message: format!("external calls input JSON: {message}"),
        };
        if !json.trim_start().starts_with('{') {
            return Err(invalid(
                "expected an object ({\"scopes\": [...], \"prices\": {...}})".to_owned(),
            ));
        }
        serde_json::from_str(json).map_err(|e| invalid(e.to_string()))
    }
}

/// What kind of unit of work a scope is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// A web request: its time is the user's wait.
    Request,
    /// A background job.
    Job,
    /// A `VirtualTrainerOptimizer.scan` block (the default).
    #[default]
    Scan,
}

impl ScopeKind {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Request => "request",
            ScopeKind::Job => "job",
            ScopeKind::Scan => "scan",
        }
    }
}

/// One observed run of a request, job or scan block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Scope {
    /// Request, job or scan.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: ScopeKind,
    /// `Api::V1::ProgramsController#create`, `CustomHealthProgramJob`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The scope's wall time, in milliseconds (`None`: unknown).
    #[serde(default, deserialize_with = "millis")]
    pub elapsed_ms: Option<f64>,
    /// Its outbound calls, in order.
    #[serde(default, deserialize_with = "nullable")]
    pub calls: Vec<Call>,
}

/// One outbound HTTP call. Serialized back with its `cost_usd` and scope.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Call {
    /// `api.openai.com`.
    #[serde(default, deserialize_with = "nullable")]
    pub host: String,
    /// `POST`.
    #[serde(default, deserialize_with = "nullable")]
    pub method: String,
    /// `/v1/chat/completions`, as given.
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    /// The HTTP status (`None`: no response).
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub status: Option<u64>,
    /// Wall time including retries, in milliseconds.
    #[serde(default, deserialize_with = "millis")]
    pub duration_ms: Option<f64>,
    /// Request body size in bytes.
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub request_bytes: Option<u64>,
    /// Response body size in bytes.
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub response_bytes: Option<u64>,
    /// Retries the client made.
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub retries: Option<u64>,
    /// The read timeout in seconds (`None` or 0: no timeout).
    #[serde(default, deserialize_with = "millis")]
    pub timeout_s: Option<f64>,
    /// The model the request named.
    #[serde(default, deserialize_with = "text")]
    pub model: Option<String>,
    /// Prompt (input) tokens from the response's usage.
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub prompt_tokens: Option<u64>,
    /// Completion (output) tokens from the response's usage.
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub completion_tokens: Option<u64>,
    /// Total tokens from the response's usage.
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub total_tokens: Option<u64>,
    /// [`prompt_fingerprint`] of the request body.
    #[serde(default, deserialize_with = "text")]
    pub prompt_fingerprint: Option<String>,
    /// The failure without a response (`Net::ReadTimeout`), or an error class.
    #[serde(default, deserialize_with = "text")]
    pub error: Option<String>,
    /// The application frame that made the call (`app/jobs/x.rb:12`).
    #[serde(default, deserialize_with = "text")]
    pub location: Option<String>,
}

impl Call {
    /// The duration, 0 when unknown.
    pub fn ms(&self) -> f64 {
        self.duration_ms.unwrap_or(0.0)
    }

    /// Answered 429 or 5xx, or no response with an error.
    pub fn failed(&self) -> bool {
        match self.status {
            Some(s) => s == 429 || (500..600).contains(&s),
            None => self.error.is_some(),
        }
    }

    /// Prompt and completion tokens, derived from the total where needed;
    /// `None` when neither is known.
    pub fn tokens(&self) -> Option<(u64, u64)> {
        let prompt = self.prompt_tokens.or_else(|| {
            self.total_tokens
                .zip(self.completion_tokens)
                .map(|(t, c)| t.saturating_sub(c))
        });
        let completion = self.completion_tokens.or_else(|| {
            self.total_tokens
                .zip(self.prompt_tokens)
                .map(|(t, p)| t.saturating_sub(p))
        });
        match (prompt, completion) {
            (None, None) => None,
            (p, c) => Some((p.unwrap_or(0), c.unwrap_or(0))),
        }
    }
}

/// The price list.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Prices {
    /// The date the prices were read (`2026-11-01`).
    #[serde(default, deserialize_with = "text")]
    pub as_of: Option<String>,
    /// `USD` (the only currency costs are labelled in).
    #[serde(default, deserialize_with = "text")]
    pub currency: Option<String>,
    /// Prices by model name.
    #[serde(default, deserialize_with = "nullable")]
    pub models: std::collections::BTreeMap<String, ModelPrice>,
}

/// One model's prices, per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelPrice {
    /// Per million prompt (input) tokens (0 when missing).
    #[serde(default, deserialize_with = "millis")]
    pub input_per_million: Option<f64>,
    /// Per million completion (output) tokens (0 when missing).
    #[serde(default, deserialize_with = "millis")]
    pub output_per_million: Option<f64>,
}

impl Prices {
    /// The price of `model`: its own entry, else the longest entry it
    /// extends with `-`.
    pub fn of(&self, model: &str) -> Option<&ModelPrice> {
        if let Some(price) = self.models.get(model) {
            return Some(price);
        }
        self.models
            .iter()
            .filter(|(name, _)| {
                !name.is_empty()
                    && model.len() > name.len()
                    && model.starts_with(name.as_str())
                    && model.as_bytes().get(name.len()) == Some(&b'-')
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, price)| price)
    }
}

/// Thresholds of [`analyze`]; every field optional, `null` for the default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// External time a request may spend, in milliseconds (500).
    #[serde(default = "d_budget", deserialize_with = "budget")]
    pub request_budget_ms: f64,
    /// A call at least this slow is slow, in milliseconds (5,000).
    #[serde(default = "d_slow", deserialize_with = "slow")]
    pub slow_call_ms: f64,
    /// Calls to one endpoint in one scope run that make a loop (3, at least 2).
    #[serde(default = "d_loop", deserialize_with = "loop_threshold")]
    pub loop_threshold: u64,
    /// Share of failed calls per host that is reported (0.05).
    #[serde(default = "d_error_rate", deserialize_with = "error_rate")]
    pub error_rate: f64,
    /// How long a job is expected to run, in milliseconds (`None`: unknown,
    /// so no job timeout is called too long).
    #[serde(default, deserialize_with = "millis")]
    pub expected_job_ms: Option<f64>,
    /// How long a web request may take before the platform cuts it, in
    /// milliseconds (`None`: 30,000, Heroku's router timeout).
    #[serde(default, deserialize_with = "millis")]
    pub request_timeout_ms: Option<f64>,
    /// Share of a job's time in external calls that makes it external-dominated (0.5).
    #[serde(default = "d_share", deserialize_with = "share")]
    pub dominated_share: f64,
    /// How many times the observed window fits into a month (30).
    #[serde(default = "d_scale", deserialize_with = "scale")]
    pub monthly_scale: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            request_budget_ms: d_budget(),
            slow_call_ms: d_slow(),
            loop_threshold: d_loop(),
            error_rate: d_error_rate(),
            expected_job_ms: None,
            request_timeout_ms: None,
            dominated_share: d_share(),
            monthly_scale: d_scale(),
        }
    }
}

fn d_budget() -> f64 {
    500.0
}
fn d_slow() -> f64 {
    5_000.0
}
fn d_loop() -> u64 {
    3
}
fn d_error_rate() -> f64 {
    0.05
}
fn d_share() -> f64 {
    0.5
}
fn d_scale() -> f64 {
    30.0
}

fn budget<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(millis(d)?.unwrap_or_else(d_budget))
}
fn slow<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(millis(d)?.unwrap_or_else(d_slow))
}
fn loop_threshold<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(crate::schema::count(d)?.unwrap_or_else(d_loop).max(2))
}
fn error_rate<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(millis(d)?.map_or_else(d_error_rate, |r| r.min(1.0)))
}
fn share<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(millis(d)?
        .filter(|s| *s > 0.0)
        .map_or_else(d_share, |s| s.min(1.0)))
}
fn scale<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(millis(d)?.unwrap_or_else(d_scale))
}

/// `null` reads as the default.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A non-negative finite number; negative reads as 0, `null` as `None`.
fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<f64>::deserialize(d)?
        .filter(|f| f.is_finite())
        .map(|f| f.max(0.0)))
}

/// A string, trimmed; `null` or blank reads as `None`.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty()))
}

/// What [`analyze`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Every input call, with its cost and scope.
    pub calls: Vec<CallReport>,
    /// Every finding, in the order the [module docs](self#rules) give.
    pub findings: Vec<Finding>,
    /// Costs.
    pub costs: Costs,
}

/// One input call as reported: its fields, its cost and its scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallReport {
    /// The call as given.
    #[serde(flatten)]
    pub call: Call,
    /// Its cost ([module docs](self#costs)); `None` when unknown.
    pub cost_usd: Option<f64>,
    /// Its scope's kind.
    pub scope_kind: ScopeKind,
    /// Its scope's name.
    pub scope_name: String,
    /// Its scope's position in the input's `scopes` (the run).
    pub scope_index: usize,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A request waiting on an external call: move it to a job.
    ExternalCallInRequest,
    /// Calls to one endpoint in a loop: batch them.
    ExternalCallInLoop,
    /// The same prompt sent again: cache the answer.
    DuplicateExternalCall,
    /// One call over `slow_call_ms`.
    SlowExternalCall,
    /// A host answering 429 / 5xx too often.
    ExternalErrors,
    /// No timeout, or one longer than the scope may run.
    ExternalTimeout,
    /// A job that mostly waits on external calls.
    ExternalDominatedJob,
}

impl FindingKind {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::ExternalCallInRequest => "external_call_in_request",
            FindingKind::ExternalCallInLoop => "external_call_in_loop",
            FindingKind::DuplicateExternalCall => "duplicate_external_call",
            FindingKind::SlowExternalCall => "slow_external_call",
            FindingKind::ExternalErrors => "external_errors",
            FindingKind::ExternalTimeout => "external_timeout",
            FindingKind::ExternalDominatedJob => "external_dominated_job",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What it is about.
    pub kind: FindingKind,
    /// The host (lower-cased).
    pub host: String,
    /// The method (upper-cased).
    pub method: String,
    /// The path, as given (for `external_errors`, the path with most failures).
    pub path: String,
    /// The scope kind (`None` for host-wide or cross-scope findings).
    pub scope_kind: Option<ScopeKind>,
    /// The scope name (`None` for host-wide or cross-scope findings).
    pub scope_name: Option<String>,
    /// Calls it covers.
    pub count: u64,
    /// Scope runs it occurs in.
    pub runs: u64,
    /// Their time, in milliseconds.
    pub total_ms: f64,
    /// The slowest of them, in milliseconds.
    pub max_ms: f64,
    /// The first call's location.
    pub location: Option<String>,
    /// The model, when the calls name one.
    pub model: Option<String>,
    /// `duplicate_external_call`: the prompt fingerprint.
    pub prompt_fingerprint: Option<String>,
    /// `duplicate_external_call`: the share of the calls a cache answers,
    /// (n − 1) / n; `external_errors`: the share of the host's calls that
    /// failed.
    pub hit_rate: Option<f64>,
    /// The calls' cost (the cost a cache saves for a duplicate), observed.
    pub cost_usd: Option<f64>,
    /// That cost × `monthly_scale`.
    pub cost_usd_per_month: Option<f64>,
    /// How urgent ([module docs](self#priorities)).
    pub priority: Priority,
    /// Why, with the figures.
    pub reason: String,
    /// The fix: code or configuration.
    pub suggestion: String,
}

/// The cost summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Costs {
    /// Per model, costliest first.
    pub by_model: Vec<ModelCost>,
    /// Per scope class, costliest first.
    pub by_scope: Vec<ScopeCost>,
    /// Prompts seen more than once, most money saved first.
    pub cache_candidates: Vec<CacheCandidate>,
    /// Per scope class and model, costliest first.
    pub monthly_projection: Vec<Projection>,
    /// The prices' date.
    pub prices_as_of: Option<String>,
    /// The prices' currency (`USD` when not given).
    pub currency: String,
    /// Every known cost, observed.
    pub total_cost_usd: Option<f64>,
    /// That × `monthly_scale`.
    pub total_cost_usd_per_month: Option<f64>,
}

/// Cost of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCost {
    /// The model, as the calls name it.
    pub model: String,
    /// Calls naming it.
    pub calls: u64,
    /// Their prompt tokens (derived as for the cost).
    pub prompt_tokens: u64,
    /// Their completion tokens.
    pub completion_tokens: u64,
    /// Their cost (`None`: unpriced).
    pub cost_usd: Option<f64>,
}

/// Cost of one scope class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopeCost {
    /// Its kind.
    pub kind: ScopeKind,
    /// Its name.
    pub name: String,
    /// Observed runs.
    pub runs: u64,
    /// Calls in them.
    pub calls: u64,
    /// Their cost.
    pub cost_usd: Option<f64>,
}

/// A prompt sent more than once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheCandidate {
    /// The fingerprint.
    pub prompt_fingerprint: String,
    /// The first call's model.
    pub model: Option<String>,
    /// Calls with it (n).
    pub calls: u64,
    /// n − 1.
    pub repeats: u64,
    /// (n − 1) / n.
    pub hit_rate: f64,
    /// Total cost × hit rate.
    pub cost_saved_usd: Option<f64>,
    /// Total time × hit rate, in milliseconds.
    pub time_saved_ms: f64,
}

/// The monthly cost of one model in one scope class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// The model.
    pub model: String,
    /// The scope class's name.
    pub scope: String,
    /// Its kind.
    pub scope_kind: ScopeKind,
    /// Observed runs of the scope class.
    pub runs: u64,
    /// Observed calls of the model in them.
    pub calls: u64,
    /// Observed cost × `monthly_scale`.
    pub cost_usd_per_month: f64,
    /// The arithmetic.
    pub reasoning: String,
}

/// Runs every rule and the cost summary on `input`. Never fails.
pub fn analyze(input: &Input) -> Report {
    let calls = costs::priced_calls(input);
    let mut findings = rules::findings(input, &calls);
    findings.sort_by(|a, b| {
        (
            a.priority,
            a.kind,
            &a.scope_kind,
            &a.scope_name,
            &a.host,
            &a.method,
            &a.path,
        )
            .cmp(&(
                b.priority,
                b.kind,
                &b.scope_kind,
                &b.scope_name,
                &b.host,
                &b.method,
                &b.path,
            ))
    });
    let costs = costs::summary(input, &calls);
    Report {
        calls,
        findings,
        costs,
    }
}

/// [`analyze`] from and to JSON text, for bindings: the input as
/// [`Input::from_json`] reads it, the [`Report`] as JSON.
pub fn analyze_json(input_json: &str) -> Result<String, Error> {
    let input = Input::from_json(input_json)?;
    serde_json::to_string(&analyze(&input)).map_err(|e| Error::InvalidInput {
        message: format!("external calls report JSON: {e}"),
    })
}

/// Time priority of a scope kind ([module docs](self#priorities)).
pub fn time_priority(kind: ScopeKind, ms: f64) -> Priority {
    let (critical, high, medium) = match kind {
        ScopeKind::Request => (REQUEST_CRITICAL_MS, REQUEST_HIGH_MS, REQUEST_MEDIUM_MS),
        ScopeKind::Job | ScopeKind::Scan => (
            BACKGROUND_CRITICAL_MS,
            BACKGROUND_HIGH_MS,
            BACKGROUND_MEDIUM_MS,
        ),
    };
    if ms >= critical {
        Priority::Critical
    } else if ms >= high {
        Priority::High
    } else if ms >= medium {
        Priority::Medium
    } else {
        Priority::Low
    }
}

/// Money priority of a monthly cost ([module docs](self#priorities)).
pub fn money_priority(usd_per_month: Option<f64>) -> Priority {
    match usd_per_month {
        Some(x) if x >= MONTHLY_CRITICAL_USD => Priority::Critical,
        Some(x) if x >= MONTHLY_HIGH_USD => Priority::High,
        Some(x) if x >= MONTHLY_MEDIUM_USD => Priority::Medium,
        _ => Priority::Low,
    }
}

/// Dollars rounded to 10⁻¹⁰ (so sums of prices read as their decimals).
pub(crate) fn usd(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e10).round() / 1e10
    } else {
        0.0
    }
}
